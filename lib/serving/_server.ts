import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkInt, checkPort, fail, problem } from '../_errors';
import { IImage } from '../image/_image-build';
import { checkServiceName, isPortName } from '../_names';
import { ModelMount } from '../model/model-source';
import { envUrlProblems, IWorkload, WorkloadNetwork } from '../policy/_network';
import { StackCompose } from '../stack/_compose';
import { LABEL_INSTANCE, LABEL_NAME, MlStack } from '../stack/ml-stack';
import { checkArray, checkDnsLabel, checkIntOrPercent, checkObject, checkOptionalObject, checkString, checkUrlPath, keysOf } from '../_validate';
import { buildPodSpec, checkPodProps, gpuToleration, serviceAccountFor, ServiceAccountOptions } from '../workload/_pod';
import { composeEnvironment } from '../workload/_compose-parts';
import { EnvFrom, EnvMap, toEnvVars } from '../workload/env';
import { buildResources, ResourcesProps } from '../workload/resources';
import { SCHEDULING_KEYS, SchedulingProps } from '../workload/scheduling';
import { AutoscalerSpec, AutoscalingOptions, checkAutoscaling, renderAutoscaler } from './autoscaling';
import {
  checkExposure,
  ExposedService,
  Exposure,
  ExposureKind,
  renderGrpcIngress,
  renderGrpcRoute,
  renderHttpRoute,
  renderIngress,
} from './exposure';
import { CanaryOptions, describeSplit, REPLICA_RATIO_TOLERANCE, splitReplicas, TRACK_LABEL, TRAFFIC_SPLIT_ANNOTATION } from './canary';

export { AutoscalingOptions };

/** Rolling update settings. */
export interface RolloutOptions {
  /** Extra pods during a rollout (number or percent string). @default 1 */
  readonly maxSurge?: number | string;
  /** Pods that may be unavailable during a rollout. @default 0 (keep serving capacity; models load slowly) */
  readonly maxUnavailable?: number | string;
  /** Seconds a new pod must be ready before it counts as available. @default 10 */
  readonly minReadySeconds?: number;
}

export { ServiceAccountOptions };

/** Health checks: readiness, liveness and a startup probe with a generous window. */
export interface HealthCheckOptions {
  /** HTTP path of readiness and liveness. @default - per construct (TCP check of the main port for InferenceService) */
  readonly path?: string;
  /** HTTP path of liveness when it differs. @default - path */
  readonly livenessPath?: string;
  /** How long the container may take to start (load a model) before it is restarted. @default 600 */
  readonly startupTimeoutSeconds?: number;
}

/** Props every long-running served workload shares (model servers and frontends). */
export interface ServedWorkloadProps extends SchedulingProps {
  /** Name of the Deployment, Service and friends. @default - the construct id path below the stack */
  readonly name?: string;
  /** Pod replicas when autoscaling is not set. @default 1 */
  readonly replicas?: number;
  /** Scale with an HPA; the Deployment then carries no replicas field, so Argo CD does not fight the HPA. @default - fixed replicas */
  readonly autoscaling?: AutoscalingOptions;
  /** Resources of the main container. @default - per construct */
  readonly resources?: ResourcesProps;
  /** Node selector for the pods, e.g. a GPU node pool. @default - none */
  readonly nodeSelector?: Record<string, string>;
  /** Rolling update. @default - maxSurge 1, maxUnavailable 0, minReadySeconds 10 */
  readonly rollout?: RolloutOptions;
  /**
   * Port of the Service's main (HTTP) port, when it should differ from the container port (e.g. 80).
   * @default - the container port (the load balancer's port with Exposure.loadBalancer())
   */
  readonly servicePort?: number;
  /** How clients outside the wiring reach it. @default Exposure.clusterInternal() */
  readonly exposure?: Exposure;
  /** Create a ServiceAccount (for cloud identity). @default - the namespace's default account, no token mounted */
  readonly serviceAccount?: ServiceAccountOptions;
  /** Memory-backed /dev/shm of this size. @default - none */
  readonly shmSize?: string;
  /** Environment of the main container. @default - none */
  readonly env?: EnvMap;
  /** Secrets or ConfigMaps whose keys become environment. @default - none */
  readonly envFrom?: EnvFrom[];
  /** Extra pod annotations. @default - none */
  readonly podAnnotations?: Record<string, string>;
  /**
   * Restrict egress to DNS, wired backends and model storage. Turn off for servers that call
   * arbitrary external services.
   * @default true
   */
  readonly isolateEgress?: boolean;
}

export interface ServerPort {
  readonly name: string;
  readonly port: number;
}

/** The keys of the shared props and options objects (checkKnownKeys): `tsc` fails when an interface gains one. */
export const SERVED_KEYS = keysOf<ServedWorkloadProps>()([
  ...SCHEDULING_KEYS,
  'env',
  'envFrom',
  'resources',
  'nodeSelector',
  'shmSize',
  'serviceAccount',
  'podAnnotations',
  'isolateEgress',
  'name',
  'replicas',
  'autoscaling',
  'rollout',
  'servicePort',
  'exposure',
]);
const ROLLOUT_KEYS = keysOf<RolloutOptions>()(['maxSurge', 'maxUnavailable', 'minReadySeconds']);
const HEALTH_CHECK_KEYS = keysOf<HealthCheckOptions>()(['path', 'livenessPath', 'startupTimeoutSeconds']);
const SERVER_PORT_KEYS = keysOf<ServerPort>()(['name', 'port']);
const METRICS_KEYS = keysOf<MetricsOptions>()(['port', 'path', 'namespace']);
export const ALLOW_FROM_KEYS = keysOf<AllowFromOptions>()(['ports']);

/** A checked rollout.maxSurge or maxUnavailable: the value as given, and whether it is 0 (or '0%'). */
type IntOrPercent = ReturnType<typeof checkIntOrPercent>;

/** The shared props as checkServedWorkloadProps found them: what ServerCore renders from. @internal */
export interface CheckedServedProps {
  /** The HPA's spec but its target; undefined without autoscaling. */
  readonly autoscaler?: AutoscalerSpec;
  readonly exposure: ExposureKind;
  readonly maxSurge?: IntOrPercent;
  readonly maxUnavailable?: IntOrPercent;
}

/**
 * The props every served workload shares, checked at the boundary: each construct calls this
 * first, before it builds anything, so a bad value is reported as its prop (types included).
 * The checked values go to ServerCore (ServerSpec.checked), which checks none of them again.
 * @internal
 */
export function checkServedWorkloadProps(owner: Construct, p: ServedWorkloadProps): CheckedServedProps {
  checkPodProps(owner, p);
  checkInt(owner, 'replicas', p.replicas, 0);
  const autoscaler = checkAutoscaling(owner, p.autoscaling);
  const r = checkOptionalObject(owner, 'rollout', p.rollout, '{ maxSurge: 1, maxUnavailable: 0 }', ROLLOUT_KEYS);
  const maxSurge = r?.maxSurge !== undefined ? checkIntOrPercent(owner, 'rollout.maxSurge', r.maxSurge) : undefined;
  const maxUnavailable =
    r?.maxUnavailable !== undefined ? checkIntOrPercent(owner, 'rollout.maxUnavailable', r.maxUnavailable, { maxPercent: 100 }) : undefined;
  checkPort(owner, 'servicePort', p.servicePort);
  const exposure = checkExposure(owner, p.exposure);
  return { autoscaler, exposure, maxSurge, maxUnavailable };
}

/** healthCheck: HTTP paths (a leading '/': the kubelet sends the path as is) and the startup window. */
export function checkHealthCheck(owner: Construct, hc: unknown): HealthCheckOptions {
  const o: HealthCheckOptions = checkOptionalObject(owner, 'healthCheck', hc, "{ path: '/healthz' }", HEALTH_CHECK_KEYS) ?? {};
  if (o.path !== undefined) checkUrlPath(owner, 'healthCheck.path', o.path, { query: true });
  if (o.livenessPath !== undefined) checkUrlPath(owner, 'healthCheck.livenessPath', o.livenessPath, { query: true });
  checkInt(owner, 'startupTimeoutSeconds', o.startupTimeoutSeconds, 10);
  return o;
}

/** extraPorts: a list of { name, port } (names and numbers are checked with the main port). */
export function checkExtraPorts(owner: Construct, v: unknown): ServerPort[] | undefined {
  return checkArray(
    owner,
    'extraPorts',
    v,
    "[{ name: 'grpc', port: 9000 }]",
    (x, prop) => checkObject(owner, prop, x, "{ name: 'grpc', port: 9000 }", SERVER_PORT_KEYS) as unknown as ServerPort,
  );
}

/** What the construct that owns the server hands the shared machinery. @internal */
export interface ServerSpec {
  readonly owner: Construct;
  readonly component: string;
  readonly props: ServedWorkloadProps;
  /** What checkServedWorkloadProps returned for these props. */
  readonly checked: CheckedServedProps;
  readonly image: string | IImage;
  readonly uid: number;
  readonly gid: number;
  readonly fsGroup: number;
  /** First is the main HTTP port. */
  readonly ports: ServerPort[];
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: k8s.EnvVar[];
  readonly readiness: k8s.Probe;
  readonly liveness: k8s.Probe;
  readonly startupTimeoutSeconds: number;
  readonly model?: ModelMount;
  readonly volumes?: k8s.Volume[];
  readonly volumeMounts?: k8s.VolumeMount[];
  readonly resourceDefaults: { cpu: string; cpuLimit: string; memory: string; memoryLimit: string };
  readonly podAnnotations?: Record<string, string>;
  readonly serviceAnnotations?: Record<string, string>;
  readonly gpuNodeSelector?: Record<string, string>;
  /** false: no `<SERVICE>_PORT=...` variables of the namespace's Services in the pods (buildPodSpec). @default true */
  readonly enableServiceLinks?: boolean;
  /** Prometheus scraping: annotations on the pods and ingress from Prometheus' namespace. */
  readonly metrics?: MetricsOptions;
  /** A canary track: its weight and what it runs instead (checked by the owner with checkCanary). */
  readonly canary?: CanaryTrackSpec;
  readonly containerName: string;
  /** Local development: env overrides (backend URLs at compose names), config files, model dirs. */
  readonly compose?: {
    readonly environment?: Record<string, string>;
    /** Files the server reads, bind-mounted from beside the compose file. */
    readonly files?: Array<{ name: string; content: string; target: string }>;
    readonly volumes?: Array<{ source: string; target: string }>;
    readonly dependsOn?: string[];
    /** A tool the image has for a compose healthcheck of the readiness probe. @default - no healthcheck */
    readonly healthcheckWith?: 'python' | 'bash';
  };
}

/** What the canary track of a server runs instead of the stable one. @internal */
export interface CanaryTrackSpec {
  readonly options: CanaryOptions;
  readonly image?: string | IImage;
  readonly env?: k8s.EnvVar[];
  readonly model?: ModelMount;
}

/** The canary track's wiring facts (a client is connected to it as to the stable pods). @internal */
export interface CanaryTrack {
  readonly workloadName: string;
  readonly namespaceName: string;
  readonly podSelector: Record<string, string>;
  readonly _network: WorkloadNetwork;
  readonly deployment: k8s.KubeDeployment;
  readonly replicas?: number;
}

/** Prometheus scraping of a served workload. */
export interface MetricsOptions {
  /** Name of the port that serves metrics: 'http' (the main port) or one of the extra ports. @default 'http' */
  readonly port?: string;
  /** HTTP path of the metrics. @default '/metrics' */
  readonly path?: string;
  /** Namespace Prometheus runs in: admitted to the metrics port by the NetworkPolicy. @default 'monitoring' */
  readonly namespace?: string;
}

/** Which ports of a server a client may reach (`server.allowFrom(client, { ports: ['grpc'] })`). */
export interface AllowFromOptions {
  /** Port names: 'http' (the main port), 'grpc' (TF Serving), or names of extra ports. @default ['http'] */
  readonly ports?: string[];
}

/** The Kubernetes objects and wiring facts of one server. @internal */
export class ServerCore implements Omit<IWorkload, 'node' | 'with'> {
  public readonly workloadName: string;
  public readonly namespaceName: string;
  public readonly podSelector: Record<string, string>;
  public readonly _network: WorkloadNetwork;
  public readonly serviceName: string;
  /** Service port -> container port. */
  public readonly servicePorts: { name: string; port: number; targetPort: number }[];
  public readonly deployment: k8s.KubeDeployment;
  public readonly service: k8s.KubeService;
  public readonly maxReplicas: number;
  public readonly container: k8s.Container;
  public readonly imageRef: string;
  /** The canary track, when one runs (0 < weight < 100). */
  public readonly canary?: CanaryTrack;

  private readonly owner: Construct;
  private readonly stack: MlStack;
  private readonly labels: Record<string, string>;
  /** Resources of the main container, validated once: what the pod requests and the GPUs it needs. */
  private readonly sized: ReturnType<typeof buildResources>;
  private readonly serviceAccountName?: string;
  /** The port exposure.grpc routes to, when asked. */
  private readonly grpcExposed?: ServerCore['servicePorts'][number];

  constructor(name: string, spec: ServerSpec) {
    // weight 100 promotes: the stable track runs what the canary ran, and no canary is written.
    const s: ServerSpec = spec.canary?.options.weight === 100 ? promoted(spec) : spec;
    this.owner = s.owner;
    checkServiceName(s.owner, 'name', name);
    this.stack = MlStack.of(s.owner);
    this.workloadName = name;
    this.serviceName = name;
    this.namespaceName = this.stack.namespaceName;
    const { selector, labels } = this.stack._workloadLabels(name, s.component);
    this.podSelector = selector;
    this.labels = labels;

    // The image first: its own props (port, uid, tag) are reported as image.*, not as what they feed.
    if (typeof s.image !== 'string') s.image._bind(s.owner);
    this.imageRef = typeof s.image === 'string' ? s.image : s.image.imageRef;
    checkPorts(s.owner, s.ports);
    this.maxReplicas = this.checkScale(s);
    const rollingUpdate = this.rollingUpdate(s);
    this.sized = buildResources(s.owner, s.props.resources, s.resourceDefaults);
    const exposure = s.checked.exposure;
    this.servicePorts = this.renderServicePorts(s, exposure);
    this.grpcExposed = this.resolveGrpcPort(s, exposure);
    const metrics = this.resolveMetrics(s);

    const split = this.splitTracks(s, exposure);
    if (split) this.maxReplicas = split.stableMax + split.canaryMax;
    this.container = this.renderContainer(s);
    this.serviceAccountName = serviceAccountFor(s.owner, this.stack, this.workloadName, this.labels, s.props.serviceAccount);
    this.deployment = this.addDeployment(s, metrics, rollingUpdate, split ? { replicas: split.stable, maxReplicas: split.stableMax } : undefined);
    this.service = this.addService(s, exposure, split);
    this.addDisruptionBudget(split?.stableMax);
    if (s.checked.autoscaler) renderAutoscaler(s.owner, this.stack._metadata(name, labels), name, s.checked.autoscaler);
    this.addCompose(s);
    this._network = new WorkloadNetwork(s.owner, name, selector, labels, this.namespaceName, s.props.isolateEgress ?? true);
    this._network.allowEgressToMentioned([this.container, ...(s.model?.initContainers ?? [])]);
    const userEnv = toEnvVars(s.props.env);
    if (userEnv.length > 0) s.owner.node.addValidation({ validate: () => envUrlProblems(s.owner, userEnv) });
    this.openNetwork(s, exposure, metrics);
    if (split) this.canary = this.addCanary(s, metrics, rollingUpdate, exposure, split);
    // Clients are wired after the constructor: known at synth.
    if (split && exposure.kind === 'gateway') s.owner.node.addValidation({ validate: () => this.canaryRatioProblems(s, split) });
    if (exposure.kind === 'ingress') {
      renderIngress(s.owner, exposure.options, this.exposed());
      renderGrpcIngress(s.owner, exposure.options, this.exposed());
    }
    if (exposure.kind === 'gateway') {
      renderHttpRoute(s.owner, exposure.options, this.exposed(), split?.weight);
      renderGrpcRoute(s.owner, exposure.options, this.exposed(), split?.weight);
    }
  }

  /** In-cluster base URL of a Service port. */
  public urlOf(portName?: string): string {
    const sp = portName ? this.servicePorts.find((x) => x.name === portName) : this.servicePorts[0];
    if (!sp) throw new Error(`${this.workloadName} has no port named ${portName}`);
    return `http://${this.serviceName}.${this.namespaceName}.svc:${sp.port}`;
  }

  /** Container ports of the named Service ports (default the main HTTP port), for `allowFrom`. */
  public targetPortsNamed(names: readonly string[] | undefined): number[] {
    const wanted = names ?? ['http'];
    const choices = this.servicePorts.map((p) => `'${p.name}'`).join(', ');
    if (!Array.isArray(wanted) || wanted.length === 0)
      fail(this.owner, 'allowFrom.ports', 'must name at least one port', wanted, `name ports of this server: ${choices}`);
    return wanted.map(
      (n) =>
        this.servicePorts.find((p) => p.name === n)?.targetPort ??
        fail(this.owner, 'allowFrom.ports', 'names a port this server does not have', n, `use one of ${choices}`),
    );
  }

  /** The Service an Ingress or route sends requests to. */
  private exposed(): ExposedService {
    return {
      workloadName: this.workloadName,
      serviceName: this.serviceName,
      port: this.servicePorts[0].port,
      grpcPort: this.grpcExposed?.port,
      metadata: (annotations, name) => this.stack._metadata(name ?? this.workloadName, this.labels, annotations),
    };
  }

  /** exposure.grpc's port: a port of this server (its Service port and container port). */
  private resolveGrpcPort(s: ServerSpec, exposure: Exposure['_spec']): ServerCore['servicePorts'][number] | undefined {
    const grpc = exposure.kind === 'gateway' || exposure.kind === 'ingress' ? exposure.options.grpc : undefined;
    if (!grpc) return undefined;
    const name = grpc.port ?? 'grpc';
    const others = this.servicePorts.slice(1).map((p) => `'${p.name}'`);
    const found = this.servicePorts.find((p) => p.name === name);
    if (!found || found === this.servicePorts[0])
      fail(
        s.owner,
        'exposure.grpc.port',
        found ? 'names the main HTTP port; gRPC needs a port of its own' : 'names a port this server does not have',
        name,
        others.length > 0
          ? `use one of ${others.join(', ')}`
          : "declare the gRPC port, e.g. extraPorts: [{ name: 'grpc', port: 9000 }] (TfServingBackend has 'grpc' on 8500)",
      );
    return found;
  }

  /** replicas and autoscaling were checked with the props; here what they mean together and for the model's claim. */
  private checkScale(s: ServerSpec): number {
    const { owner, props: p } = s;
    const as = s.checked.autoscaler;
    if (as && p.replicas !== undefined)
      fail(
        owner,
        'replicas',
        'cannot be set together with autoscaling (the HPA owns the replica count)',
        p.replicas,
        'remove replicas, or set autoscaling.minReplicas',
      );
    const maxReplicas = as ? as.maxReplicas : (p.replicas ?? 1);
    const claim = s.model?.claim;
    // ReadWriteOnce attaches to one node, ReadWriteOncePod to one pod (Kubernetes docs, Persistent
    // Volumes: access modes): several replicas fail with Multi-Attach errors.
    if (claim && SINGLE_ATTACH.includes(claim.accessMode) && maxReplicas > 1) {
      fail(
        owner,
        'model',
        `reads PersistentVolumeClaim '${claim.name}' (${claim.accessMode}) from up to ${maxReplicas} replicas: ` +
          'pods on other nodes fail with Multi-Attach errors',
        claim.accessMode,
        'use a ReadWriteMany (or ReadOnlyMany) claim, run one replica, or serve the model from object storage (ModelSource.fromUri)',
      );
    }
    checkInt(owner, 'rollout.minReadySeconds', p.rollout?.minReadySeconds, 0);
    // apps ValidateDeploymentSpec: progressDeadlineSeconds (unset here: 600) must exceed minReadySeconds.
    // Found by the property tests' cases on the API server.
    if ((p.rollout?.minReadySeconds ?? 0) >= 600) {
      fail(
        owner,
        'rollout.minReadySeconds',
        "must be less than the Deployment's progressDeadlineSeconds (600, the default): " +
          'the API server refuses minReadySeconds >= progressDeadlineSeconds',
        p.rollout?.minReadySeconds,
        'use e.g. 30: a new pod must stay ready that long before it counts as available',
      );
    }
    return maxReplicas;
  }

  /**
   * maxSurge 1 / maxUnavailable 0 keeps serving capacity while models load. A single-attach claim
   * cannot be mounted by the new pod while the old one holds it, so the surge pod never starts and
   * the rollout stalls (Multi-Attach, by design: Azure/AKS#1919): replace the pod instead.
   */
  private rollingUpdate(s: ServerSpec): k8s.RollingUpdateDeployment {
    const { maxSurge, maxUnavailable } = s.checked;
    const claim = s.model?.claim;
    if (claim && SINGLE_ATTACH.includes(claim.accessMode)) {
      if (maxSurge !== undefined && maxSurge.value !== 0 && maxSurge.value !== '0%') {
        fail(
          s.owner,
          'rollout.maxSurge',
          `must be 0 while the model is on PersistentVolumeClaim '${claim.name}' (${claim.accessMode}): ` +
            'the surge pod cannot attach it while the old pod runs, and the rollout stalls',
          maxSurge.value,
          'drop rollout.maxSurge (the default then replaces the pod), or use a ReadWriteMany claim or object storage',
        );
      }
      return this.rollingUpdateOf(s, ZERO, maxUnavailable ?? ONE);
    }
    return this.rollingUpdateOf(s, maxSurge ?? ONE, maxUnavailable ?? ZERO);
  }

  /** apps/v1 ValidateRollingUpdateDeployment: maxUnavailable "may not be 0 when maxSurge is 0" (no pod could ever be replaced). */
  private rollingUpdateOf(s: ServerSpec, surge: IntOrPercent, unavailable: IntOrPercent): k8s.RollingUpdateDeployment {
    if (surge.zero && unavailable.zero) {
      fail(
        s.owner,
        'rollout.maxUnavailable',
        'may not be 0 when maxSurge is 0 (the API server rejects it: no pod could ever be replaced)',
        unavailable.value,
        s.props.rollout?.maxSurge === undefined
          ? 'let a pod be replaced at a time: maxUnavailable: 1'
          : 'raise maxSurge to 1 (a new pod starts before an old one stops), or set maxUnavailable: 1',
      );
    }
    return { maxSurge: intOrString(surge.value), maxUnavailable: intOrString(unavailable.value) };
  }

  /** servicePort and the load balancer's port were checked with the props. */
  private renderServicePorts(s: ServerSpec, exposure: Exposure['_spec']): ServerCore['servicePorts'] {
    const { owner, props: p } = s;
    const mainServicePort = exposure.kind === 'load-balancer' ? (exposure.options.port ?? p.servicePort ?? 80) : (p.servicePort ?? s.ports[0].port);
    // Service port numbers must be unique within a Service (API validation of ServiceSpec.ports).
    const clash = s.ports.slice(1).find((x) => x.port === mainServicePort);
    if (clash) {
      const prop = exposure.kind === 'load-balancer' && exposure.options.port !== undefined ? 'exposure.port' : 'servicePort';
      fail(owner, prop, `clashes with the extra port '${clash.name}' on the Service`, mainServicePort, 'pick a Service port no extra port uses');
    }
    return s.ports.map((port, i) => ({ name: port.name, port: i === 0 ? mainServicePort : port.port, targetPort: port.port }));
  }

  private resolveMetrics(s: ServerSpec): { port: number; path: string; namespace: string } | undefined {
    const m = checkOptionalObject(s.owner, 'metrics', s.metrics, "{ port: 'metrics', path: '/metrics' }", METRICS_KEYS) as MetricsOptions | undefined;
    if (!m) return undefined;
    const portName = m.port ?? 'http';
    checkString(s.owner, 'metrics.port', portName, { example: "'metrics'" });
    const port =
      s.ports.find((x) => x.name === portName)?.port ??
      fail(s.owner, 'metrics.port', 'names a port this server does not have', portName, `use one of ${s.ports.map((x) => `'${x.name}'`).join(', ')}`);
    const path = checkUrlPath(s.owner, 'metrics.path', m.path ?? '/metrics', { query: true });
    const namespace = checkDnsLabel(s.owner, 'metrics.namespace', m.namespace ?? 'monitoring', 'a namespace name', 'monitoring');
    return { port, path, namespace };
  }

  private renderContainer(s: ServerSpec, imageRef = this.imageRef): k8s.Container {
    const startupPeriod = 10;
    const mounts = [...(s.model?.volumeMounts ?? []), ...(s.volumeMounts ?? [])];
    checkMountPaths(s, mounts);
    return {
      name: s.containerName,
      image: imageRef,
      ...(s.command ? { command: s.command } : {}),
      ...(s.args && s.args.length > 0 ? { args: s.args } : {}),
      ports: s.ports.map((port) => ({ name: port.name, containerPort: port.port, protocol: 'TCP' })),
      ...(s.env && s.env.length > 0 ? { env: s.env } : {}),
      ...(s.props.envFrom && s.props.envFrom.length > 0 ? { envFrom: s.props.envFrom.map((e) => e._spec) } : {}),
      resources: this.sized.resources,
      readinessProbe: s.readiness,
      livenessProbe: s.liveness,
      // Readiness and liveness only start once this passes: a big model gets the whole window to load.
      startupProbe: {
        ...(s.readiness.httpGet ? { httpGet: s.readiness.httpGet } : { tcpSocket: s.readiness.tcpSocket }),
        periodSeconds: startupPeriod,
        failureThreshold: Math.ceil(s.startupTimeoutSeconds / startupPeriod),
        timeoutSeconds: 5,
      },
      ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    };
  }

  private addDeployment(
    s: ServerSpec,
    metrics: { port: number; path: string } | undefined,
    rollingUpdate: k8s.RollingUpdateDeployment,
    t?: Partial<TrackShape>,
  ): k8s.KubeDeployment {
    const p = s.props;
    const scope = t?.scope ?? s.owner;
    const podSelector = t?.selector ?? this.podSelector;
    const labels = t?.labels ?? this.labels;
    const maxReplicas = t?.maxReplicas ?? this.maxReplicas;
    const { gpu, gpuResource } = this.sized;
    const podSpec = buildPodSpec({
      owner: s.owner,
      scheduling: p,
      uid: s.uid,
      gid: s.gid,
      fsGroup: s.model?.fsGroup ?? s.fsGroup,
      containers: [t?.container ?? this.container],
      initContainers: s.model?.initContainers,
      volumes: [...(s.model?.volumes ?? []), ...(s.volumes ?? [])],
      shmSize: p.shmSize,
      serviceAccountName: this.serviceAccountName,
      automountServiceAccountToken: p.serviceAccount?.automountToken,
      enableServiceLinks: s.enableServiceLinks,
      nodeSelector: { ...(gpu > 0 ? s.gpuNodeSelector : {}), ...p.nodeSelector },
      tolerations: gpu > 0 ? [gpuToleration(gpuResource)] : [],
      spreadLabels: maxReplicas > 1 ? podSelector : undefined,
    });
    const scrape: Record<string, string> = metrics
      ? { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metrics.port), 'prometheus.io/path': metrics.path }
      : {};
    const annotations = { ...scrape, ...s.podAnnotations, ...p.podAnnotations };
    return new k8s.KubeDeployment(scope, 'Deployment', {
      metadata: this.stack._metadata(t?.name ?? this.workloadName, labels),
      spec: {
        // With an HPA the field is left out: Argo CD would otherwise reset the HPA's count on sync.
        ...(s.checked.autoscaler ? {} : { replicas: t?.replicas ?? p.replicas ?? 1 }),
        selector: { matchLabels: podSelector },
        minReadySeconds: p.rollout?.minReadySeconds ?? 10,
        revisionHistoryLimit: 5,
        strategy: { type: 'RollingUpdate', rollingUpdate },
        template: {
          metadata: { labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
          spec: podSpec,
        },
      },
    });
  }

  private addService(
    s: ServerSpec,
    exposure: Exposure['_spec'],
    split?: TrackSplit,
    t?: { scope: Construct; name: string; selector: Record<string, string>; labels: Record<string, string> },
  ): k8s.KubeService {
    const lb = t ? undefined : exposure.kind === 'load-balancer' ? exposure.options : undefined;
    // With a canary the Service selects both tracks (they share app.kubernetes.io/name only) and says which split results.
    const annotations = {
      ...(t ? {} : s.serviceAnnotations),
      ...lb?.annotations,
      ...(split && !t ? { [TRAFFIC_SPLIT_ANNOTATION]: split.description } : {}),
    };
    const selector = t?.selector ?? (split ? { [LABEL_NAME]: this.podSelector[LABEL_NAME] } : this.podSelector);
    return new k8s.KubeService(t?.scope ?? s.owner, 'Service', {
      metadata: this.stack._metadata(t?.name ?? this.serviceName, t?.labels ?? this.labels, annotations),
      spec: {
        ...(lb ? { type: 'LoadBalancer' } : {}),
        ...(lb?.sourceRanges ? { loadBalancerSourceRanges: lb.sourceRanges } : {}),
        selector,
        ports: this.servicePorts.map((sp) => ({
          name: sp.name,
          port: sp.port,
          targetPort: k8s.IntOrString.fromNumber(sp.targetPort),
          protocol: 'TCP',
        })),
      },
    });
  }

  /** A PDB whenever more than one replica can run. */
  private addDisruptionBudget(
    maxReplicas = this.maxReplicas,
    t?: { scope: Construct; name: string; selector: Record<string, string>; labels: Record<string, string> },
  ): void {
    if (maxReplicas <= 1) return;
    new k8s.KubePodDisruptionBudget(t?.scope ?? this.owner, 'PodDisruptionBudget', {
      metadata: this.stack._metadata(t?.name ?? this.workloadName, t?.labels ?? this.labels),
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: t?.selector ?? this.podSelector } },
    });
  }

  /**
   * Replicas of each track: without a gateway the split is by pods behind the one Service (the
   * replicas are shared out; two HPAs would break the ratio), behind a gateway by the route's
   * weights (the canary gets its share of the replicas, or its own count).
   */
  private splitTracks(s: ServerSpec, exposure: Exposure['_spec']): TrackSplit | undefined {
    const c = s.canary?.options;
    if (!c || c.weight === 0 || c.weight === 100) return undefined;
    const claim = s.model?.claim;
    const canaryClaim = (s.canary!.model ?? s.model)?.claim;
    if (claim && canaryClaim && claim.name === canaryClaim.name && SINGLE_ATTACH.includes(claim.accessMode)) {
      fail(
        s.owner,
        'canary',
        `reads PersistentVolumeClaim '${claim.name}' (${claim.accessMode}) beside the stable pods: ` +
          'pods on other nodes fail with Multi-Attach errors',
        claim.accessMode,
        'give the canary its own model (canary.model), or use a ReadWriteMany claim or object storage',
      );
    }
    return exposure.kind === 'gateway' ? this.splitByWeight(s, c) : this.splitByPods(s, c);
  }

  /** Without a gateway: the replicas behind the one Service are shared out by the weight (fixed, no HPAs). */
  private splitByPods(s: ServerSpec, c: CanaryOptions): TrackSplit {
    if (s.checked.autoscaler) {
      fail(
        s.owner,
        'canary',
        'is split by replica ratio behind one Service, which two HPAs scaling each track on its own would not keep',
        `weight ${c.weight} with autoscaling`,
        'route through a Gateway (exposure: Exposure.gateway({ gateway: { name, namespace } })) to split by weight, or use fixed replicas',
      );
    }
    if (c.replicas !== undefined) {
      fail(
        s.owner,
        'canary.replicas',
        'only applies behind Exposure.gateway(): without a gateway the weight decides how the replicas are shared out',
        c.replicas,
        'drop canary.replicas (set replicas, the total of both tracks), or use Exposure.gateway()',
      );
    }
    const r = splitReplicas(s.owner, s.props.replicas ?? 1, c.weight);
    return {
      weight: c.weight,
      stable: r.stable,
      canary: r.canary,
      stableMax: r.stable,
      canaryMax: r.canary,
      description: describeSplit(this.workloadName, `${this.workloadName}-canary`, r),
    };
  }

  /** Behind a gateway: the route splits by weight; the canary gets its share of the replicas, or its own count. */
  private splitByWeight(s: ServerSpec, c: CanaryOptions): TrackSplit {
    const p = s.props;
    const canaryName = `${this.workloadName}-canary`;
    const share = (n: number) => Math.max(1, Math.round((n * c.weight) / 100));
    const byPods = (canary: number) => describeSplit(this.workloadName, canaryName, { stable: p.replicas ?? 1, canary });
    const as = s.checked.autoscaler;
    const stableMax = as ? as.maxReplicas : (p.replicas ?? 1);
    const canary = c.replicas ?? share(as ? as.minReplicas : stableMax);
    const canaryMax = as ? Math.max(canary, c.replicas ?? Math.ceil((as.maxReplicas * c.weight) / 100)) : canary;
    return {
      weight: c.weight,
      stable: p.replicas ?? 1,
      canary,
      stableMax,
      canaryMax,
      description:
        `HTTPRoute ${this.workloadName}: ${this.workloadName}-stable ${100 - c.weight}%, ${canaryName} ${c.weight}%; ` +
        `this Service (in-cluster clients): by pods, ${as ? 'as the HPAs scale' : byPods(canary)}`,
    };
  }

  /**
   * Behind a gateway the route splits by weight, but wired in-cluster clients call the one Service,
   * which spreads connections over the ready pods of both tracks (no mesh routes them through the
   * route): they get the pod ratio. Refused when it is more than REPLICA_RATIO_TOLERANCE points off.
   */
  private canaryRatioProblems(s: ServerSpec, split: TrackSplit): string[] {
    const clients = this._network.wiredClients();
    if (clients.length === 0) return [];
    const as = s.checked.autoscaler;
    // With HPAs, the ratio at the tracks' minimum and maximum.
    const points = as
      ? [
          { stable: as.minReplicas, canary: split.canary },
          { stable: split.stableMax, canary: split.canaryMax },
        ]
      : [split];
    const off = points.find((p) => Math.abs((100 * p.canary) / (p.stable + p.canary) - split.weight) > REPLICA_RATIO_TOLERANCE);
    if (!off) return [];
    const got = describeSplit(this.workloadName, `${this.workloadName}-canary`, off);
    const stableFor = Math.max(1, Math.round((off.canary * (100 - split.weight)) / split.weight));
    const podWeight = Math.round((100 * off.canary) / (off.stable + off.canary));
    return [
      problem(
        s.owner,
        'canary.weight',
        `is the HTTPRoute's split, but ${clients.join(', ')} call${clients.length === 1 ? 's' : ''} the Service in the cluster and ` +
          `get${clients.length === 1 ? 's' : ''} the pod ratio (${got}), more than ${REPLICA_RATIO_TOLERANCE} points off`,
        split.weight,
        as
          ? `set canary.replicas so the canary's pods are ${split.weight}% of both tracks' at the HPAs' minimum and maximum, ` +
              `or set canary.weight to ${podWeight}`
          : `set replicas to ${stableFor} with ${off.canary} canary pod(s) (canary.replicas), ` +
              `so the pods split ${100 - split.weight}/${split.weight}, ` +
              `or set canary.weight to ${podWeight} (the pod ratio)`,
      ),
    ];
  }

  /** The canary track: Deployment, PDB, HPA and NetworkPolicy of its own, and a Service behind a gateway. */
  private addCanary(
    s: ServerSpec,
    metrics: { port: number; path: string; namespace: string } | undefined,
    rollingUpdate: k8s.RollingUpdateDeployment,
    exposure: Exposure['_spec'],
    split: TrackSplit,
  ): CanaryTrack {
    const c = s.canary!;
    const scope = new Construct(s.owner, 'Canary');
    const name = `${this.workloadName}-canary`;
    // app.kubernetes.io/name shared with stable (the one Service selects both); instance and track its own.
    const selector = {
      [LABEL_NAME]: this.podSelector[LABEL_NAME],
      [LABEL_INSTANCE]: `${this.podSelector[LABEL_INSTANCE]}-canary`.slice(0, 63).replace(/-+$/, ''),
      [TRACK_LABEL]: 'canary',
    };
    const labels = { ...this.labels, ...selector };
    if (c.image !== undefined && typeof c.image !== 'string') c.image._bind(scope);
    const imageRef = c.image === undefined ? this.imageRef : typeof c.image === 'string' ? c.image : c.image.imageRef;
    const cs: ServerSpec = { ...s, image: c.image ?? s.image, env: c.env ?? s.env, model: c.model ?? s.model };
    const container = this.renderContainer(cs, imageRef);
    const track = { scope, name, selector, labels };
    const deployment = this.addDeployment(cs, metrics, rollingUpdate, { ...track, container, replicas: split.canary, maxReplicas: split.canaryMax });
    if (exposure.kind === 'gateway') {
      this.addService(s, exposure, undefined, track);
      this.addService(s, exposure, undefined, {
        scope: new Construct(s.owner, 'Stable'),
        name: `${this.workloadName}-stable`,
        selector: this.podSelector,
        labels: this.labels,
      });
    }
    this.addDisruptionBudget(split.canaryMax, track);
    const as = s.checked.autoscaler;
    if (as) renderAutoscaler(scope, this.stack._metadata(name, labels), name, as, { min: split.canary, max: split.canaryMax });
    const network = new WorkloadNetwork(scope, name, selector, labels, this.namespaceName, s.props.isolateEgress ?? true);
    network.allowEgressToMentioned([container, ...(cs.model?.initContainers ?? [])]);
    this.openNetwork(cs, exposure, metrics, network);
    return {
      workloadName: name,
      namespaceName: this.namespaceName,
      podSelector: selector,
      _network: network,
      deployment,
      replicas: as ? undefined : split.canary,
    };
  }

  private addCompose(s: ServerSpec): void {
    const gpus = this.sized.gpu;
    StackCompose.of(s.owner)?.add({
      name: this.workloadName,
      image: s.image,
      ports: s.ports,
      servicePorts: this.servicePorts,
      command: s.command,
      args: s.args,
      environment: { ...composeEnvironment(s.env ?? []), ...s.compose?.environment },
      volumes: s.compose?.volumes,
      user: `${s.uid}:${s.gid}`,
      files: s.compose?.files,
      dependsOn: s.compose?.dependsOn,
      healthcheck: s.compose?.healthcheckWith
        ? { test: composeHealthcheck(s.readiness, s.compose.healthcheckWith), startPeriodSeconds: s.startupTimeoutSeconds }
        : undefined,
      ...(gpus > 0 ? { gpus } : {}),
    });
  }

  /** Isolated by default; opened by the model's storage, exposure and metrics (wiring adds clients). */
  private openNetwork(
    s: ServerSpec,
    exposure: Exposure['_spec'],
    metrics: { port: number; namespace: string } | undefined,
    network = this._network,
  ): void {
    // The controller reaches the gRPC port too when the exposure routes gRPC.
    const routed = [s.ports[0].port, ...(this.grpcExposed ? [this.grpcExposed.targetPort] : [])];
    if (s.model?.needsObjectStorage) network.allowEgressToObjectStorage(s.model.storageEndpoints);
    // A Service of type LoadBalancer publishes every port of the Service (TF Serving's gRPC, extra
    // ports), so the policy admits them all: one admitting only the main port left the others
    // published but unreachable.
    if (exposure.kind === 'load-balancer') network.allowIngressFromAnywhere(s.ports.map((p) => p.port));
    if (exposure.kind === 'gateway') {
      // The gateway's proxy pods reach the pods (by namespace: their labels are not ours to know).
      const namespace = exposure.options.controllerNamespace ?? exposure.options.gateway.namespace ?? this.namespaceName;
      this.checkOtherNamespace(
        s,
        exposure.options.controllerNamespace !== undefined ? 'exposure.controllerNamespace' : 'exposure.gateway.namespace',
        namespace,
        'the gateway',
      );
      network.allowIngressFromNamespace(namespace, routed);
    }
    if (exposure.kind === 'ingress') {
      const namespace = exposure.options.controllerNamespace ?? 'ingress-nginx';
      this.checkOtherNamespace(s, 'exposure.controllerNamespace', namespace, 'the ingress controller');
      network.allowIngressFromNamespace(namespace, routed);
    }
    if (metrics) {
      this.checkOtherNamespace(
        s,
        (s.props as { metricsNamespace?: string }).metricsNamespace !== undefined ? 'metricsNamespace' : 'metrics.namespace',
        metrics.namespace,
        'Prometheus',
      );
      network.allowIngressFromNamespace(metrics.namespace, [metrics.port]);
    }
  }

  /**
   * The ingress controller and Prometheus are admitted by namespace (their pods' labels are not
   * ours to know); their namespace being the workload's own would admit every pod of it, where
   * only wired clients may connect.
   */
  private checkOtherNamespace(s: ServerSpec, prop: string, namespace: string, who: string): void {
    if (namespace !== this.namespaceName) return;
    const defaultNamespace = who === 'Prometheus' ? 'monitoring' : who === 'the gateway' ? "the Gateway's namespace" : 'ingress-nginx';
    fail(
      s.owner,
      prop,
      `is the workload's own namespace: a NetworkPolicy admits ${who} by namespace, ` +
        `so every pod of '${namespace}' could connect, not only ${who} and the wired clients`,
      namespace,
      `run ${who} in a namespace of its own (the default is '${defaultNamespace}'), or deploy this stack to another namespace`,
    );
  }
}

/** Replicas of the two tracks and the split the Service states. */
interface TrackSplit {
  readonly weight: number;
  readonly stable: number;
  readonly canary: number;
  readonly stableMax: number;
  readonly canaryMax: number;
  readonly description: string;
}

/** A track's own objects: where they go, their name, selector, labels, container and replicas. */
interface TrackShape {
  readonly scope: Construct;
  readonly name: string;
  readonly selector: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly container: k8s.Container;
  readonly replicas: number;
  readonly maxReplicas: number;
}

const ZERO: IntOrPercent = { value: 0, zero: true };
const ONE: IntOrPercent = { value: 1, zero: false };

/** weight 100: the stable track runs the canary's image, environment and model. */
function promoted(s: ServerSpec): ServerSpec {
  const c = s.canary!;
  return { ...s, image: c.image ?? s.image, env: c.env ?? s.env, model: c.model ?? s.model, canary: undefined };
}

/** Access modes that attach a volume to one node (ReadWriteOnce) or one pod (ReadWriteOncePod). */
const SINGLE_ATTACH: readonly string[] = ['ReadWriteOnce', 'ReadWriteOncePod'];

/** Unique port numbers and IANA names (API validation of containerPort names and numbers). */
function checkPorts(owner: Construct, ports: ServerPort[]): void {
  const seen = new Map<number, string>();
  for (const [i, port] of ports.entries()) {
    const prop = i === 0 ? 'port' : `extraPorts[${i - 1}]`;
    // checkPort leaves an absent value alone (optional props); an extra port has no default.
    if (i > 0 && port.port === undefined)
      fail(owner, `${prop}.port`, 'is required (an extra port needs its number)', port.port, "give it one, e.g. { name: 'grpc', port: 9000 }");
    checkPort(owner, i === 0 ? 'port' : `${prop}.port`, port.port);
    if (!isPortName(port.name))
      fail(
        owner,
        `${prop}.name`,
        'must be an IANA port name (at most 15 lowercase letters, digits and -)',
        port.name,
        "use a name such as 'grpc' or 'metrics'",
      );
    if (seen.has(port.port))
      fail(owner, i === 0 ? 'port' : `${prop}.port`, `is used twice (also by '${seen.get(port.port)}')`, port.port, 'give every port its own number');
    if ([...seen.values()].includes(port.name)) fail(owner, `${prop}.name`, 'is used twice', port.name, 'give every port its own name');
    seen.set(port.port, port.name);
  }
}

/**
 * Two volumes at one mountPath are rejected by the API server ("must be unique"), and /tmp (and
 * /dev/shm with shmSize) already hold the pod's scratch volumes.
 */
function checkMountPaths(s: ServerSpec, mounts: k8s.VolumeMount[]): void {
  const reserved = ['/tmp', ...(s.props.shmSize ? ['/dev/shm'] : [])];
  const seen = new Set<string>();
  for (const m of s.model?.volumeMounts ?? []) {
    const at = m.mountPath.replace(/\/+$/, '') || '/';
    if (reserved.includes(at)) {
      fail(
        s.owner,
        'modelPath',
        `is where the pod's ${at === '/tmp' ? 'scratch /tmp' : 'shared memory'} volume is mounted`,
        m.mountPath,
        "mount the model elsewhere, e.g. '/models'",
      );
    }
  }
  for (const m of mounts) {
    if (seen.has(m.mountPath))
      fail(
        s.owner,
        'modelPath',
        'is where another volume of the container is mounted',
        m.mountPath,
        "mount the model at a path of its own, e.g. '/models'",
      );
    seen.add(m.mountPath);
  }
}

/**
 * The readiness probe as a compose healthcheck, run inside the container with a tool its image
 * has: python for the images we build, bash for tensorflow/serving (no curl or wget in it; its
 * ports open only once the models are loaded, so a TCP connect is the readiness signal).
 */
function composeHealthcheck(probe: k8s.Probe, tool: 'python' | 'bash'): string[] {
  const port = (probe.httpGet?.port ?? probe.tcpSocket?.port)?.value;
  if (tool === 'bash') return ['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`];
  const check = probe.httpGet
    ? `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port}${probe.httpGet.path ?? '/'}', timeout=4)`
    : `import socket; socket.create_connection(('127.0.0.1', ${port}), timeout=4)`;
  return ['python', '-c', check];
}

function intOrString(v: number | string): k8s.IntOrString {
  return typeof v === 'number' ? k8s.IntOrString.fromNumber(v) : k8s.IntOrString.fromString(v);
}

// Compose helpers training uses too live below serving and training (lib/workload/_compose-parts.ts).
export { composeEnvironment, composeModelDir } from '../workload/_compose-parts';

// The env builder lives with the rest of env handling (it marks what the library sets).
export { envVars } from '../workload/env';
