import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkInt, checkPort, fail } from '../_errors';
import { IImage } from '../image/_image-build';
import { isPortName } from '../_names';
import { ModelMount } from '../model/model-source';
import { IWorkload, WorkloadNetwork } from '../policy/_network';
import { StackCompose } from '../stack/_compose';
import { MlStack } from '../stack/ml-stack';
import { buildPodSpec, gpuToleration, serviceAccountFor, ServiceAccountOptions } from '../workload/_pod';
import { EnvFrom, EnvMap, toEnvVars } from '../workload/env';
import { buildResources, ResourcesProps } from '../workload/resources';
import { Exposure } from './exposure';

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
export interface ServedWorkloadProps {
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
  readonly containerName: string;
  /** Local development: env overrides (backend URLs at compose names), config files, model dirs. */
  readonly compose?: {
    readonly environment?: Record<string, string>;
    readonly configs?: Array<{ name: string; content: string; target: string }>;
    readonly volumes?: Array<{ source: string; target: string }>;
    readonly dependsOn?: string[];
  };
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

  constructor(name: string, s: ServerSpec) {
    const owner = s.owner;
    const p = s.props;
    const stack = MlStack.of(owner);
    this.workloadName = name;
    this.namespaceName = stack.namespaceName;
    const { selector, labels } = stack._workloadLabels(name, s.component);
    this.podSelector = selector;

    // The image first: its own props (port, uid, tag) are reported as image.*, not as what they feed.
    if (typeof s.image !== 'string') s.image._bind(owner);

    // ports: unique numbers and names
    const seen = new Map<number, string>();
    for (const [i, port] of s.ports.entries()) {
      checkPort(owner, i === 0 ? 'port' : `extraPorts[${i - 1}].port`, port.port);
      if (!isPortName(port.name)) fail(owner, `extraPorts[${i - 1}].name`, 'must be an IANA port name (at most 15 lowercase letters, digits and -)', port.name, "use a name such as 'grpc' or 'metrics'");
      if (seen.has(port.port)) fail(owner, i === 0 ? 'port' : `extraPorts[${i - 1}].port`, `is used twice (also by '${seen.get(port.port)}')`, port.port, 'give every port its own number');
      if ([...seen.values()].includes(port.name)) fail(owner, `extraPorts[${i - 1}].name`, 'is used twice', port.name, 'give every port its own name');
      seen.set(port.port, port.name);
    }

    // replicas / autoscaling
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
    const replicas = p.replicas ?? 1;
    this.maxReplicas = as ? as.maxReplicas : replicas;
    if (s.model?.claim?.accessMode === 'ReadWriteOnce' && this.maxReplicas > 1) {
      fail(owner, 'model', `reads PersistentVolumeClaim '${s.model.claim.name}' (ReadWriteOnce) from up to ${this.maxReplicas} replicas: pods on other nodes fail with Multi-Attach errors`, s.model.claim.accessMode,
        'use a ReadWriteMany (or ReadOnlyMany) claim, run one replica, or serve the model from object storage (ModelSource.fromUri)');
    }

    const { resources, gpu, gpuResource } = buildResources(owner, p.resources, s.resourceDefaults);
    const rollout = p.rollout ?? {};
    checkInt(owner, 'rollout.minReadySeconds', rollout.minReadySeconds, 0);
    checkInt(owner, 'startupTimeoutSeconds', s.startupTimeoutSeconds, 10);

    // service account
    const serviceAccountName = serviceAccountFor(owner, stack, name, labels, p.serviceAccount);

    const imageRef = typeof s.image === 'string' ? s.image : s.image.imageRef;
    this.imageRef = imageRef;
    const mainPort = s.ports[0].port;
    const startupPeriod = 10;
    this.container = {
      name: s.containerName,
      image: imageRef,
      ...(s.command ? { command: s.command } : {}),
      ...(s.args && s.args.length > 0 ? { args: s.args } : {}),
      ports: s.ports.map(port => ({ name: port.name, containerPort: port.port, protocol: 'TCP' })),
      ...(s.env && s.env.length > 0 ? { env: s.env } : {}),
      ...(p.envFrom && p.envFrom.length > 0 ? { envFrom: p.envFrom.map(e => e._spec) } : {}),
      resources,
      readinessProbe: s.readiness,
      livenessProbe: s.liveness,
      // Readiness and liveness only start once this passes: a big model gets the whole window to load.
      startupProbe: { ...(s.readiness.httpGet ? { httpGet: s.readiness.httpGet } : { tcpSocket: s.readiness.tcpSocket }), periodSeconds: startupPeriod, failureThreshold: Math.ceil(s.startupTimeoutSeconds / startupPeriod), timeoutSeconds: 5 },
      volumeMounts: [...(s.model?.volumeMounts ?? []), ...(s.volumeMounts ?? [])],
    };
    if ((this.container.volumeMounts ?? []).length === 0) delete (this.container as any).volumeMounts;

    const tolerations = gpu > 0 ? [gpuToleration(gpuResource)] : [];
    const nodeSelector = { ...(gpu > 0 ? s.gpuNodeSelector : {}), ...p.nodeSelector };
    const podSpec = buildPodSpec({
      uid: s.uid,
      gid: s.gid,
      fsGroup: s.model?.fsGroup ?? s.fsGroup,
      containers: [this.container],
      initContainers: s.model?.initContainers,
      volumes: [...(s.model?.volumes ?? []), ...(s.volumes ?? [])],
      shmSize: p.shmSize,
      serviceAccountName,
      automountServiceAccountToken: p.serviceAccount?.automountToken,
      nodeSelector,
      tolerations,
      spreadLabels: this.maxReplicas > 1 ? selector : undefined,
    });
    const annotations = { ...s.podAnnotations, ...p.podAnnotations };
    this.deployment = new k8s.KubeDeployment(owner, 'Deployment', {
      metadata: stack._metadata(name, labels),
      spec: {
        // With an HPA the field is left out: Argo CD would otherwise reset the HPA's count on sync.
        ...(as ? {} : { replicas }),
        selector: { matchLabels: selector },
        minReadySeconds: rollout.minReadySeconds ?? 10,
        revisionHistoryLimit: 5,
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: intOrString(rollout.maxSurge ?? 1), maxUnavailable: intOrString(rollout.maxUnavailable ?? 0) },
        },
        template: {
          metadata: { labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
          spec: podSpec,
        },
      },
    });

    // Service
    const exposure = (p.exposure ?? Exposure.clusterInternal())._spec;
    this.serviceName = name;
    this.servicePorts = s.ports.map((port, i) => ({
      name: port.name,
      port: i > 0 ? port.port : exposure.kind === 'load-balancer' ? exposure.options.port ?? p.servicePort ?? 80 : p.servicePort ?? port.port,
      targetPort: port.port,
    }));
    if (exposure.kind === 'load-balancer') checkPort(owner, 'exposure.port', exposure.options.port);
    checkPort(owner, 'servicePort', p.servicePort);
    if (p.servicePort !== undefined && s.ports.slice(1).some(x => x.port === p.servicePort)) {
      fail(owner, 'servicePort', 'clashes with another port of the Service', p.servicePort, 'pick a Service port no extra port uses');
    }
    const svcAnnotations = { ...s.serviceAnnotations, ...(exposure.kind === 'load-balancer' ? exposure.options.annotations : {}) };
    this.service = new k8s.KubeService(owner, 'Service', {
      metadata: stack._metadata(name, labels, svcAnnotations),
      spec: {
        ...(exposure.kind === 'load-balancer' ? { type: 'LoadBalancer' } : {}),
        ...(exposure.kind === 'load-balancer' && exposure.options.sourceRanges ? { loadBalancerSourceRanges: exposure.options.sourceRanges } : {}),
        selector,
        ports: this.servicePorts.map(sp => ({ name: sp.name, port: sp.port, targetPort: k8s.IntOrString.fromNumber(sp.targetPort), protocol: 'TCP' })),
      },
    });

    // PDB whenever more than one replica can run
    if (this.maxReplicas > 1) {
      new k8s.KubePodDisruptionBudget(owner, 'PodDisruptionBudget', {
        metadata: stack._metadata(name, labels),
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
      });
    }
    if (as) {
      const metrics: k8s.MetricSpecV2[] = [];
      const cpuTarget = as.cpuUtilization ?? (as.memoryUtilization === undefined ? 70 : undefined);
      if (cpuTarget !== undefined) metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpuTarget } } });
      if (as.memoryUtilization !== undefined) metrics.push({ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: as.memoryUtilization } } });
      new k8s.KubeHorizontalPodAutoscalerV2(owner, 'HorizontalPodAutoscaler', {
        metadata: stack._metadata(name, labels),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minReplicas: as.minReplicas ?? 1,
          maxReplicas: as.maxReplicas,
          metrics,
        },
      });
    }

    StackCompose.of(owner)?.add({
      name,
      image: s.image,
      ports: s.ports.map(port => port.port),
      command: s.command,
      args: s.args,
      environment: { ...composeEnvironment(s.env ?? []), ...s.compose?.environment },
      volumes: s.compose?.volumes,
      user: `${s.uid}:${s.gid}`,
      configs: s.compose?.configs,
      dependsOn: s.compose?.dependsOn,
    });

    // Network: isolated by default, opened by wiring and exposure
    this._network = new WorkloadNetwork(owner, name, selector, labels, this.namespaceName, p.isolateEgress ?? true);
    if (s.model?.needsObjectStorage) this._network.allowEgressToObjectStorage();
    if (exposure.kind === 'load-balancer') this._network.allowIngressFromAnywhere([mainPort]);
    if (exposure.kind === 'ingress') {
      const o = exposure.options;
      if (!/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(o.host)) {
        fail(owner, 'exposure.host', 'must be a fully qualified DNS name', o.host, "use a host such as 'classifier.example.com'");
      }
      const path = o.path ?? '/';
      if (!path.startsWith('/')) fail(owner, 'exposure.path', "must start with '/'", path, `start the path with '/': '/${path}'`);
      this._network.allowIngressFromNamespace(o.controllerNamespace ?? 'ingress-nginx', [mainPort]);
      new k8s.KubeIngress(owner, 'Ingress', {
        metadata: stack._metadata(name, labels, o.annotations),
        spec: {
          ...(o.className ? { ingressClassName: o.className } : {}),
          ...(o.disableTls ? {} : { tls: [{ hosts: [o.host], secretName: o.tlsSecretName ?? `${name}-tls` }] }),
          rules: [{
            host: o.host,
            http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name, port: { number: this.servicePorts[0].port } } } }] },
          }],
        },
      });
    }
  }

  /** In-cluster base URL of a Service port. */
  public urlOf(portName?: string): string {
    const sp = portName ? this.servicePorts.find(x => x.name === portName) : this.servicePorts[0];
    if (!sp) throw new Error(`${this.workloadName} has no port named ${portName}`);
    return `http://${this.serviceName}.${this.namespaceName}.svc:${sp.port}`;
  }
}

/** Literal values as they are; keys of Secrets and ConfigMaps come from the developer's shell. */
function composeEnvironment(env: k8s.EnvVar[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) out[e.name] = `\${${e.name}:?set ${e.name} in your shell}`;
  }
  return out;
}

function intOrString(v: number | string): k8s.IntOrString {
  return typeof v === 'number' ? k8s.IntOrString.fromNumber(v) : k8s.IntOrString.fromString(v);
}

/** Literal env plus extra computed variables. */
/** Where compose mounts a model from: a directory the developer names in MODELS_DIR. */
export function composeModelDir(name: string): string {
  return `\${MODELS_DIR:?set MODELS_DIR to the local directory holding your models}/${name}`;
}

export function envVars(env: EnvMap | undefined, extra: Record<string, string> = {}): k8s.EnvVar[] {
  return [...toEnvVars(env), ...Object.entries(extra).map(([name, value]) => ({ name, value }))];
}
