import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkInt, checkPort, fail } from '../_errors';
import { IImage } from '../image/_image-build';
import { checkServiceName, isPortName } from '../_names';
import { ModelMount } from '../model/model-source';
import { IWorkload, WorkloadNetwork } from '../policy/_network';
import { ComposeValue, StackCompose } from '../stack/_compose';
import { MlStack } from '../stack/ml-stack';
import { buildPodSpec, gpuToleration, serviceAccountFor, ServiceAccountOptions } from '../workload/_pod';
import { EnvFrom, EnvMap } from '../workload/env';
import { buildResources, ResourcesProps } from '../workload/resources';
import { SchedulingProps } from '../workload/scheduling';
import { Exposure, IngressOptions } from './exposure';

/** Horizontal Pod Autoscaler settings. */
export interface AutoscalingOptions {
  /** @default 1 */
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  /** Target average CPU utilisation in percent of the request. @default 70 unless memoryUtilization is set */
  readonly cpuUtilization?: number;
  /** Target average memory utilisation in percent of the request. @default - none */
  readonly memoryUtilization?: number;
}

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

/** What the construct that owns the server hands the shared machinery. @internal */
export interface ServerSpec {
  readonly owner: Construct;
  readonly component: string;
  readonly props: ServedWorkloadProps;
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
  /** Prometheus scraping: annotations on the pods and ingress from Prometheus' namespace. */
  readonly metrics?: MetricsOptions;
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

  private readonly owner: Construct;
  private readonly stack: MlStack;
  private readonly labels: Record<string, string>;
  /** Resources of the main container, validated once: what the pod requests and the GPUs it needs. */
  private readonly sized: ReturnType<typeof buildResources>;

  constructor(name: string, s: ServerSpec) {
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
    this.sized = buildResources(s.owner, s.props.resources, s.resourceDefaults);
    const exposure = (s.props.exposure ?? Exposure.clusterInternal())._spec;
    this.servicePorts = this.renderServicePorts(s, exposure);
    const metrics = this.resolveMetrics(s);

    this.container = this.renderContainer(s);
    this.deployment = this.addDeployment(s, metrics);
    this.service = this.addService(s, exposure);
    this.addDisruptionBudget();
    this.addAutoscaler(s.props.autoscaling);
    this.addCompose(s);
    this._network = new WorkloadNetwork(s.owner, name, selector, labels, this.namespaceName, s.props.isolateEgress ?? true);
    this.openNetwork(s, exposure, metrics);
    if (exposure.kind === 'ingress') this.addIngress(exposure.options);
  }

  /** In-cluster base URL of a Service port. */
  public urlOf(portName?: string): string {
    const sp = portName ? this.servicePorts.find(x => x.name === portName) : this.servicePorts[0];
    if (!sp) throw new Error(`${this.workloadName} has no port named ${portName}`);
    return `http://${this.serviceName}.${this.namespaceName}.svc:${sp.port}`;
  }

  /** Container ports of the named Service ports (default the main HTTP port), for `allowFrom`. */
  public targetPortsNamed(names: readonly string[] | undefined): number[] {
    const wanted = names ?? ['http'];
    const choices = this.servicePorts.map(p => `'${p.name}'`).join(', ');
    if (!Array.isArray(wanted) || wanted.length === 0) fail(this.owner, 'allowFrom.ports', 'must name at least one port', wanted, `name ports of this server: ${choices}`);
    return wanted.map(n => this.servicePorts.find(p => p.name === n)?.targetPort ?? fail(this.owner, 'allowFrom.ports', 'names a port this server does not have', n, `use one of ${choices}`));
  }

  private checkScale(s: ServerSpec): number {
    const { owner, props: p } = s;
    checkInt(owner, 'replicas', p.replicas, 0);
    const as = p.autoscaling;
    if (as) {
      if (p.replicas !== undefined) fail(owner, 'replicas', 'cannot be set together with autoscaling (the HPA owns the replica count)', p.replicas, 'remove replicas, or set autoscaling.minReplicas');
      checkInt(owner, 'autoscaling.minReplicas', as.minReplicas, 1);
      checkInt(owner, 'autoscaling.maxReplicas', as.maxReplicas, 1);
      if ((as.minReplicas ?? 1) > as.maxReplicas) fail(owner, 'autoscaling.minReplicas', `must not exceed maxReplicas (${as.maxReplicas})`, as.minReplicas, 'lower minReplicas or raise maxReplicas');
      checkInt(owner, 'autoscaling.cpuUtilization', as.cpuUtilization, 1, 1000);
      checkInt(owner, 'autoscaling.memoryUtilization', as.memoryUtilization, 1, 1000);
    }
    const maxReplicas = as ? as.maxReplicas : p.replicas ?? 1;
    const claim = s.model?.claim;
    // ReadWriteOnce attaches to one node, ReadWriteOncePod to one pod (Kubernetes docs, Persistent
    // Volumes: access modes): several replicas fail with Multi-Attach errors.
    if (claim && SINGLE_ATTACH.includes(claim.accessMode) && maxReplicas > 1) {
      fail(owner, 'model', `reads PersistentVolumeClaim '${claim.name}' (${claim.accessMode}) from up to ${maxReplicas} replicas: pods on other nodes fail with Multi-Attach errors`, claim.accessMode,
        'use a ReadWriteMany (or ReadOnlyMany) claim, run one replica, or serve the model from object storage (ModelSource.fromUri)');
    }
    checkInt(owner, 'rollout.minReadySeconds', p.rollout?.minReadySeconds, 0);
    checkInt(owner, 'startupTimeoutSeconds', s.startupTimeoutSeconds, 10);
    return maxReplicas;
  }

  /**
   * maxSurge 1 / maxUnavailable 0 keeps serving capacity while models load. A single-attach claim
   * cannot be mounted by the new pod while the old one holds it, so the surge pod never starts and
   * the rollout stalls (Multi-Attach, by design: Azure/AKS#1919): replace the pod instead.
   */
  private rollingUpdate(s: ServerSpec): k8s.RollingUpdateDeployment {
    const r = s.props.rollout ?? {};
    const claim = s.model?.claim;
    if (claim && SINGLE_ATTACH.includes(claim.accessMode)) {
      if (r.maxSurge !== undefined && r.maxSurge !== 0 && r.maxSurge !== '0%') {
        fail(s.owner, 'rollout.maxSurge', `must be 0 while the model is on PersistentVolumeClaim '${claim.name}' (${claim.accessMode}): the surge pod cannot attach it while the old pod runs, and the rollout stalls`, r.maxSurge,
          'drop rollout.maxSurge (the default then replaces the pod), or use a ReadWriteMany claim or object storage');
      }
      return { maxSurge: k8s.IntOrString.fromNumber(0), maxUnavailable: intOrString(r.maxUnavailable ?? 1) };
    }
    return { maxSurge: intOrString(r.maxSurge ?? 1), maxUnavailable: intOrString(r.maxUnavailable ?? 0) };
  }

  private renderServicePorts(s: ServerSpec, exposure: Exposure['_spec']): ServerCore['servicePorts'] {
    const { owner, props: p } = s;
    if (exposure.kind === 'load-balancer') checkPort(owner, 'exposure.port', exposure.options.port);
    checkPort(owner, 'servicePort', p.servicePort);
    const mainServicePort = exposure.kind === 'load-balancer' ? exposure.options.port ?? p.servicePort ?? 80 : p.servicePort ?? s.ports[0].port;
    // Service port numbers must be unique within a Service (API validation of ServiceSpec.ports).
    const clash = s.ports.slice(1).find(x => x.port === mainServicePort);
    if (clash) {
      const prop = exposure.kind === 'load-balancer' && exposure.options.port !== undefined ? 'exposure.port' : 'servicePort';
      fail(owner, prop, `clashes with the extra port '${clash.name}' on the Service`, mainServicePort, 'pick a Service port no extra port uses');
    }
    return s.ports.map((port, i) => ({ name: port.name, port: i === 0 ? mainServicePort : port.port, targetPort: port.port }));
  }

  private resolveMetrics(s: ServerSpec): { port: number; path: string; namespace: string } | undefined {
    const m = s.metrics;
    if (!m) return undefined;
    const portName = m.port ?? 'http';
    const port = s.ports.find(x => x.name === portName)?.port
      ?? fail(s.owner, 'metrics.port', 'names a port this server does not have', portName, `use one of ${s.ports.map(x => `'${x.name}'`).join(', ')}`);
    const path = m.path ?? '/metrics';
    if (!path.startsWith('/')) fail(s.owner, 'metrics.path', "must start with '/'", path, `use '/${path}'`);
    const namespace = m.namespace ?? 'monitoring';
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) fail(s.owner, 'metrics.namespace', 'must be a namespace name (DNS-1123 label)', namespace, "use e.g. 'monitoring'");
    return { port, path, namespace };
  }

  private renderContainer(s: ServerSpec): k8s.Container {
    const startupPeriod = 10;
    const mounts = [...(s.model?.volumeMounts ?? []), ...(s.volumeMounts ?? [])];
    checkMountPaths(s, mounts);
    return {
      name: s.containerName,
      image: this.imageRef,
      ...(s.command ? { command: s.command } : {}),
      ...(s.args && s.args.length > 0 ? { args: s.args } : {}),
      ports: s.ports.map(port => ({ name: port.name, containerPort: port.port, protocol: 'TCP' })),
      ...(s.env && s.env.length > 0 ? { env: s.env } : {}),
      ...(s.props.envFrom && s.props.envFrom.length > 0 ? { envFrom: s.props.envFrom.map(e => e._spec) } : {}),
      resources: this.sized.resources,
      readinessProbe: s.readiness,
      livenessProbe: s.liveness,
      // Readiness and liveness only start once this passes: a big model gets the whole window to load.
      startupProbe: {
        ...(s.readiness.httpGet ? { httpGet: s.readiness.httpGet } : { tcpSocket: s.readiness.tcpSocket }),
        periodSeconds: startupPeriod, failureThreshold: Math.ceil(s.startupTimeoutSeconds / startupPeriod), timeoutSeconds: 5,
      },
      ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    };
  }

  private addDeployment(s: ServerSpec, metrics: { port: number; path: string } | undefined): k8s.KubeDeployment {
    const p = s.props;
    const { gpu, gpuResource } = this.sized;
    const podSpec = buildPodSpec({
      owner: s.owner,
      scheduling: p,
      uid: s.uid,
      gid: s.gid,
      fsGroup: s.model?.fsGroup ?? s.fsGroup,
      containers: [this.container],
      initContainers: s.model?.initContainers,
      volumes: [...(s.model?.volumes ?? []), ...(s.volumes ?? [])],
      shmSize: p.shmSize,
      serviceAccountName: serviceAccountFor(s.owner, this.stack, this.workloadName, this.labels, p.serviceAccount),
      automountServiceAccountToken: p.serviceAccount?.automountToken,
      nodeSelector: { ...(gpu > 0 ? s.gpuNodeSelector : {}), ...p.nodeSelector },
      tolerations: gpu > 0 ? [gpuToleration(gpuResource)] : [],
      spreadLabels: this.maxReplicas > 1 ? this.podSelector : undefined,
    });
    const scrape: Record<string, string> = metrics ? { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metrics.port), 'prometheus.io/path': metrics.path } : {};
    const annotations = { ...scrape, ...s.podAnnotations, ...p.podAnnotations };
    return new k8s.KubeDeployment(s.owner, 'Deployment', {
      metadata: this.stack._metadata(this.workloadName, this.labels),
      spec: {
        // With an HPA the field is left out: Argo CD would otherwise reset the HPA's count on sync.
        ...(p.autoscaling ? {} : { replicas: p.replicas ?? 1 }),
        selector: { matchLabels: this.podSelector },
        minReadySeconds: p.rollout?.minReadySeconds ?? 10,
        revisionHistoryLimit: 5,
        strategy: { type: 'RollingUpdate', rollingUpdate: this.rollingUpdate(s) },
        template: {
          metadata: { labels: this.labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
          spec: podSpec,
        },
      },
    });
  }

  private addService(s: ServerSpec, exposure: Exposure['_spec']): k8s.KubeService {
    const lb = exposure.kind === 'load-balancer' ? exposure.options : undefined;
    const annotations = { ...s.serviceAnnotations, ...lb?.annotations };
    return new k8s.KubeService(s.owner, 'Service', {
      metadata: this.stack._metadata(this.serviceName, this.labels, annotations),
      spec: {
        ...(lb ? { type: 'LoadBalancer' } : {}),
        ...(lb?.sourceRanges ? { loadBalancerSourceRanges: lb.sourceRanges } : {}),
        selector: this.podSelector,
        ports: this.servicePorts.map(sp => ({ name: sp.name, port: sp.port, targetPort: k8s.IntOrString.fromNumber(sp.targetPort), protocol: 'TCP' })),
      },
    });
  }

  /** A PDB whenever more than one replica can run. */
  private addDisruptionBudget(): void {
    if (this.maxReplicas <= 1) return;
    new k8s.KubePodDisruptionBudget(this.owner, 'PodDisruptionBudget', {
      metadata: this.stack._metadata(this.workloadName, this.labels),
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.podSelector } },
    });
  }

  private addAutoscaler(as: AutoscalingOptions | undefined): void {
    if (!as) return;
    const metrics: k8s.MetricSpecV2[] = [];
    const cpuTarget = as.cpuUtilization ?? (as.memoryUtilization === undefined ? 70 : undefined);
    if (cpuTarget !== undefined) metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpuTarget } } });
    if (as.memoryUtilization !== undefined) metrics.push({ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: as.memoryUtilization } } });
    new k8s.KubeHorizontalPodAutoscalerV2(this.owner, 'HorizontalPodAutoscaler', {
      metadata: this.stack._metadata(this.workloadName, this.labels),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.workloadName },
        minReplicas: as.minReplicas ?? 1,
        maxReplicas: as.maxReplicas,
        metrics,
      },
    });
  }

  private addCompose(s: ServerSpec): void {
    const gpus = this.sized.gpu;
    StackCompose.of(s.owner)?.add({
      name: this.workloadName,
      image: s.image,
      ports: s.ports,
      command: s.command,
      args: s.args,
      environment: { ...composeEnvironment(s.env ?? []), ...s.compose?.environment },
      volumes: s.compose?.volumes,
      user: `${s.uid}:${s.gid}`,
      files: s.compose?.files,
      dependsOn: s.compose?.dependsOn,
      healthcheck: s.compose?.healthcheckWith ? { test: composeHealthcheck(s.readiness, s.compose.healthcheckWith), startPeriodSeconds: s.startupTimeoutSeconds } : undefined,
      ...(gpus > 0 ? { gpus } : {}),
    });
  }

  /** Isolated by default; opened by the model's storage, exposure and metrics (wiring adds clients). */
  private openNetwork(s: ServerSpec, exposure: Exposure['_spec'], metrics: { port: number; namespace: string } | undefined): void {
    const mainPort = s.ports[0].port;
    if (s.model?.needsObjectStorage) this._network.allowEgressToObjectStorage(s.model.storageEndpoints);
    if (exposure.kind === 'load-balancer') this._network.allowIngressFromAnywhere([mainPort]);
    if (exposure.kind === 'ingress') this._network.allowIngressFromNamespace(exposure.options.controllerNamespace ?? 'ingress-nginx', [mainPort]);
    if (metrics) this._network.allowIngressFromNamespace(metrics.namespace, [metrics.port]);
  }

  private addIngress(o: IngressOptions): void {
    if (!/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(o.host)) {
      fail(this.owner, 'exposure.host', 'must be a fully qualified DNS name', o.host, "use a host such as 'classifier.example.com'");
    }
    const path = o.path ?? '/';
    if (!path.startsWith('/')) fail(this.owner, 'exposure.path', "must start with '/'", path, `start the path with '/': '/${path}'`);
    new k8s.KubeIngress(this.owner, 'Ingress', {
      metadata: this.stack._metadata(this.workloadName, this.labels, o.annotations),
      spec: {
        ...(o.className ? { ingressClassName: o.className } : {}),
        ...(o.disableTls ? {} : { tls: [{ hosts: [o.host], secretName: o.tlsSecretName ?? `${this.workloadName}-tls` }] }),
        rules: [{
          host: o.host,
          http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: this.serviceName, port: { number: this.servicePorts[0].port } } } }] },
        }],
      },
    });
  }
}

/** Access modes that attach a volume to one node (ReadWriteOnce) or one pod (ReadWriteOncePod). */
const SINGLE_ATTACH: readonly string[] = ['ReadWriteOnce', 'ReadWriteOncePod'];

/** Unique port numbers and IANA names (API validation of containerPort names and numbers). */
function checkPorts(owner: Construct, ports: ServerPort[]): void {
  const seen = new Map<number, string>();
  for (const [i, port] of ports.entries()) {
    const prop = i === 0 ? 'port' : `extraPorts[${i - 1}]`;
    checkPort(owner, i === 0 ? 'port' : `${prop}.port`, port.port);
    if (!isPortName(port.name)) fail(owner, `${prop}.name`, 'must be an IANA port name (at most 15 lowercase letters, digits and -)', port.name, "use a name such as 'grpc' or 'metrics'");
    if (seen.has(port.port)) fail(owner, i === 0 ? 'port' : `${prop}.port`, `is used twice (also by '${seen.get(port.port)}')`, port.port, 'give every port its own number');
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
      fail(s.owner, 'modelPath', `is where the pod's ${at === '/tmp' ? 'scratch /tmp' : 'shared memory'} volume is mounted`, m.mountPath, "mount the model elsewhere, e.g. '/models'");
    }
  }
  for (const m of mounts) {
    if (seen.has(m.mountPath)) fail(s.owner, 'modelPath', 'is where another volume of the container is mounted', m.mountPath, "mount the model at a path of its own, e.g. '/models'");
    seen.add(m.mountPath);
  }
}

/** Literal values as they are; keys of Secrets and ConfigMaps come from the developer's shell. */
export function composeEnvironment(env: k8s.EnvVar[]): Record<string, ComposeValue> {
  const out: Record<string, ComposeValue> = {};
  for (const e of env) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) out[e.name] = { fromShell: `\${${e.name}:?set ${e.name} in your shell}` };
  }
  return out;
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

/** Where compose mounts a model from: a directory the developer names in MODELS_DIR. */
export function composeModelDir(name: string): string {
  return `\${MODELS_DIR:?set MODELS_DIR to the local directory holding your models}/${name}`;
}

// The env builder lives with the rest of env handling (it marks what the library sets).
export { envVars } from '../workload/env';
