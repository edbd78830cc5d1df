import { ApiObject, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { inClusterService, objectStoreMentions, parsedUrlsIn, serviceDnsNamespace, URL_RE, urlPort } from '../rules/url';
import { problem } from '../_errors';
import { MlStack } from '../stack/ml-stack';
import { appKey, appScoped, appScopedIfAny, perSynth } from '../stack/_scoped';

/** Anything with pods the library can wire: servers, frontends, jobs. */
export interface IWorkload extends IConstruct {
  /** Name of the workload's objects (Deployment, Service, NetworkPolicy...). */
  readonly workloadName: string;
  /** Namespace of its pods. */
  readonly namespaceName: string;
  /** Labels that select exactly this workload's pods. */
  readonly podSelector: Record<string, string>;
  /** @internal */
  readonly _network: WorkloadNetwork;
}

interface IngressRule {
  readonly from: k8s.NetworkPolicyPeer[] | undefined;
  readonly ports: number[];
  readonly why: string;
  readonly peer?: WiredPeer;
}
interface EgressRule {
  readonly to: k8s.NetworkPolicyPeer[] | undefined;
  readonly ports: { port: number; protocol?: string }[];
  readonly why: string;
  readonly peer?: WiredPeer;
}

/** The other end of a rule, as the rule selects it: pods (by labels) in a namespace, or any pod of a namespace. @internal */
export interface WiredPeer {
  readonly namespace: string;
  readonly podSelector?: Record<string, string>;
}

/** A workload's policy rules as the diagram draws them (lib/app/_diagram.ts): the records the NetworkPolicy renders. @internal */
export interface WiringRecords {
  readonly namespace: string;
  readonly podSelector: Record<string, string>;
  readonly ingress: ReadonlyArray<{ readonly peer?: WiredPeer; readonly ports: readonly number[]; readonly why: string }>;
  readonly egress: ReadonlyArray<{ readonly peer?: WiredPeer; readonly ports: readonly number[]; readonly why: string }>;
}

const METADATA_IPS = [
  { cidr: '169.254.169.254/32', port: 80 }, // cloud metadata (GCE/EC2/Azure): credentials for gs:// and s3://
  { cidr: '169.254.169.252/32', port: 988 }, // GKE Workload Identity metadata server
];

/** Where a workload fetches models or data from, as far as a NetworkPolicy can tell. @internal */
export interface StorageEndpoint {
  readonly port: number;
  /** Namespace of an in-cluster endpoint (`<service>.<namespace>.svc`); absent: outside the cluster. */
  readonly namespace?: string;
  /** Credentials come from the node's metadata server (AWS/GCP without a key). */
  readonly metadata: boolean;
}

const CLOUD_STORAGE: StorageEndpoint = { port: 443, metadata: true };

/**
 * The endpoints a storage URI is read from: s3:// and gs:// on cloud storage over HTTPS with
 * metadata credentials, or the S3-compatible `s3Endpoint` (MinIO: http://minio.storage.svc:9000);
 * http(s):// on the URI's host and port. A NetworkPolicy cannot name a host, so an external one is
 * any address on that port; an in-cluster Service DNS name becomes its namespace on that port
 * (the Service's target port must equal its port: policies see pod ports, after DNAT).
 * @internal
 */
export function storageEndpointsOf(uri: string, s3Endpoint?: string): StorageEndpoint[] {
  const scheme = /^([a-z0-9]+):\/\//.exec(uri)?.[1];
  if ((scheme === 's3' && !s3Endpoint) || scheme === 'gs') return [CLOUD_STORAGE];
  const url = new URL(scheme === 's3' ? s3Endpoint! : uri);
  const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  const namespace = serviceDnsNamespace(url.hostname);
  return [{ port, ...(namespace ? { namespace } : {}), metadata: false }];
}

/** Per app: NetworkPolicy object -> the wiring it renders. */
const NETWORK_OF_POLICY = appKey<WeakMap<IConstruct, WorkloadNetwork>>('networkOfPolicy');

/** The rules behind a NetworkPolicy this library renders (any workload's, canary tracks' too), else undefined. @internal */
export function wiringOfPolicy(policy: IConstruct): WiringRecords | undefined {
  return appScopedIfAny(policy, NETWORK_OF_POLICY)?.get(policy)?._records();
}

/**
 * One NetworkPolicy per workload, rendered at synth from the wiring: the pods admit traffic only
 * from workloads they were wired to (and the ingress controller or load balancer when exposed), and
 * reach only DNS, their wired backends and, when their model needs it, object storage.
 */
export class WorkloadNetwork {
  private readonly ingress = new Map<string, IngressRule>();
  private readonly egress = new Map<string, EgressRule>();
  private readonly mentioning: k8s.Container[] = [];

  constructor(
    private readonly owner: Construct,
    name: string,
    private readonly podSelector: Record<string, string>,
    labels: Record<string, string>,
    private readonly namespaceName: string,
    private readonly isolateEgress: boolean,
  ) {
    const stack = MlStack.of(owner);
    const policy = new k8s.KubeNetworkPolicy(owner, 'NetworkPolicy', {
      metadata: stack._metadata(name, labels),
      spec: Lazy.any({ produce: () => this.render(isolateEgress) }),
    });
    appScoped(policy, NETWORK_OF_POLICY, () => new WeakMap<IConstruct, WorkloadNetwork>()).set(policy, this);
    // Pods resolve names; port 53 to any destination also covers node-local DNS caches.
    this.egress.set('dns', {
      to: undefined,
      ports: [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ],
      why: 'dns',
    });
  }

  /** Admit `peer`'s pods on `ports`; the caller also calls `peer._network.allowEgressTo(this...)`. */
  public allowIngressFrom(peer: IWorkload, ports: number[]): void {
    this.ingress.set(`pod:${peer.namespaceName}/${peer.workloadName}:${ports.join(',')}`, {
      from: [this.peerOf(peer.podSelector, peer.namespaceName)],
      ports,
      why: 'wired',
      peer: { namespace: peer.namespaceName, podSelector: peer.podSelector },
    });
  }
  /** The workloads wired to these pods (allowIngressFrom), as `namespace/name`: the in-cluster clients of their Service. */
  public wiredClients(): string[] {
    return [...this.ingress.entries()].filter(([, r]) => r.why === 'wired').map(([k]) => k.slice('pod:'.length, k.lastIndexOf(':')));
  }
  public allowIngressFromNamespace(namespace: string, ports: number[], podSelector?: Record<string, string>): void {
    this.ingress.set(`ns:${namespace}:${ports.join(',')}`, {
      from: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
          ...(podSelector ? { podSelector: { matchLabels: podSelector } } : {}),
        },
      ],
      ports,
      why: 'namespace',
      peer: { namespace, ...(podSelector ? { podSelector } : {}) },
    });
  }
  /** A LoadBalancer Service: clients come from outside the cluster with arbitrary addresses. */
  public allowIngressFromAnywhere(ports: number[]): void {
    this.ingress.set(`any:${ports.join(',')}`, { from: undefined, ports, why: 'anywhere' });
  }
  public allowEgressTo(peer: { podSelector: Record<string, string>; namespaceName: string; workloadName: string }, ports: number[]): void {
    this.egress.set(`pod:${peer.namespaceName}/${peer.workloadName}:${ports.join(',')}`, {
      to: [this.peerOf(peer.podSelector, peer.namespaceName)],
      ports: ports.map((port) => ({ port })),
      why: 'wired',
      peer: { namespace: peer.namespaceName, podSelector: peer.podSelector },
    });
  }
  /**
   * Model or data storage: each endpoint's port (in-cluster endpoints only in their namespace), plus
   * the metadata server that hands out cloud credentials when an endpoint needs it. Without
   * endpoints: cloud object storage (HTTPS anywhere, credentials from the metadata server).
   * @internal
   */
  public allowEgressToObjectStorage(endpoints: readonly StorageEndpoint[] = []): void {
    const all = endpoints.length > 0 ? endpoints : [CLOUD_STORAGE];
    for (const e of all) {
      const to = e.namespace
        ? [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': e.namespace } } }]
        : [{ ipBlock: { cidr: '0.0.0.0/0' } }];
      this.egress.set(e.namespace ? `ns:${e.namespace}:${e.port}` : `ext:${e.port}`, {
        to,
        ports: [{ port: e.port }],
        why: 'storage',
        ...(e.namespace ? { peer: { namespace: e.namespace } } : {}),
      });
    }
    if (all.some((e) => e.metadata)) {
      for (const m of METADATA_IPS)
        this.egress.set(`metadata:${m.cidr}`, { to: [{ ipBlock: { cidr: m.cidr } }], ports: [{ port: m.port }], why: 'metadata' });
    }
  }
  /**
   * What the containers' command, args and env name outside the cluster (a training script's
   * `--data s3://bucket/train.csv`, an API a server calls) the pods may reach: egress to object
   * storage, or to any address on the URL's port (a NetworkPolicy cannot name a host). The output
   * check reads the same mentions as connections the pods make. Resolved at synth, when every
   * stack's namespace is known (a `<service>.<namespace>` host is in the cluster).
   */
  public allowEgressToMentioned(containers: readonly k8s.Container[]): void {
    this.mentioning.push(...containers);
  }

  private addMentionedEgress(): void {
    if (this.mentioning.length === 0) return;
    // Every stack's namespace: only for a `<service>.<namespace>` host, and once per synth (perSynth):
    // a search of the whole app for every workload made synth quadratic (npm run bench).
    let namespaces: ReadonlySet<string> | undefined;
    const appNamespaces = () =>
      (namespaces ??= perSynth(
        this.owner,
        'namespaces',
        () =>
          new Set(
            this.owner.node.root.node
              .findAll()
              .filter(MlStack.isMlStack)
              .map((s) => s.namespaceName),
          ),
      ));
    const texts = this.mentioning
      .flatMap((c) => [...(c.command ?? []), ...(c.args ?? []), ...(c.env ?? []).map((e) => e.value)])
      .filter((t): t is string => typeof t === 'string');
    for (const text of texts) {
      // The output check's reading of object storage (rules/url.ts), so the policy admits what it expects.
      if (objectStoreMentions(text).length > 0) this.allowEgressToObjectStorage([CLOUD_STORAGE]);
      for (const { url: parsed } of parsedUrlsIn(text)) {
        if (!isExternalHost(parsed.hostname, this.namespaceName, appNamespaces)) continue;
        this.allowEgressToObjectStorage([{ port: urlPort(parsed), metadata: false }]);
      }
    }
  }

  /** Any HTTPS destination (external APIs). */
  public allowEgressHttps(): void {
    this.egress.set('ext:443', { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443 }], why: 'https' });
  }

  /**
   * The rules as records, sorted as the policy renders them (after the mentioned egress is added):
   * what the stack's diagram draws, so the diagram and the NetworkPolicy cannot disagree.
   * @internal
   */
  public _records(): WiringRecords {
    if (this.isolateEgress) this.addMentionedEgress();
    const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
    return {
      namespace: this.namespaceName,
      podSelector: this.podSelector,
      ingress: sorted(this.ingress).map((r) => ({ ...(r.peer ? { peer: r.peer } : {}), ports: r.ports, why: r.why })),
      egress: this.isolateEgress
        ? sorted(this.egress).map((r) => ({
            ...(r.peer ? { peer: r.peer } : {}),
            ports: r.ports.filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.port),
            why: r.why,
          }))
        : [],
    };
  }

  private peerOf(selector: Record<string, string>, namespace: string): k8s.NetworkPolicyPeer {
    return namespace === this.namespaceName
      ? { podSelector: { matchLabels: selector } }
      : { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } }, podSelector: { matchLabels: selector } };
  }

  private render(isolateEgress: boolean): k8s.NetworkPolicySpec {
    if (isolateEgress) this.addMentionedEgress();
    const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
    // A rule without ports (peers of one distributed job: NCCL/gloo pick ports at run time) admits every port.
    const ingress: k8s.NetworkPolicyIngressRule[] = sorted(this.ingress).map((r) => ({
      ...(r.from ? { from: r.from } : {}),
      ...(r.ports.length > 0 ? { ports: r.ports.map((port) => ({ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' })) } : {}),
    }));
    const egress: k8s.NetworkPolicyEgressRule[] = sorted(this.egress).map((r) => ({
      ...(r.to ? { to: r.to } : {}),
      ...(r.ports.length > 0 ? { ports: r.ports.map((p) => ({ port: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol ?? 'TCP' })) } : {}),
    }));
    return {
      podSelector: { matchLabels: this.podSelector },
      policyTypes: isolateEgress ? ['Ingress', 'Egress'] : ['Ingress'],
      // An empty list (no rule) denies all ingress: only what was wired gets in.
      ...(ingress.length > 0 ? { ingress } : {}),
      ...(isolateEgress ? { egress } : {}),
    };
  }
}

/** A host outside the cluster: not loopback, not a variable, not a Service (or a pod of a headless one). */
function isExternalHost(host: string, podNamespace: string, namespaces: () => ReadonlySet<string>): boolean {
  if (host === '' || host.includes('$') || host === 'localhost' || host === '0.0.0.0' || host === '[::1]' || host === '[::]' || /^127\./.test(host))
    return false;
  const labels = host.toLowerCase().split('.');
  if (labels.length >= 4 && ['svc', 'svc.cluster.local'].includes(labels.slice(3).join('.'))) return false;
  // The namespaces matter only to a two-label host (`svc.ns`); inClusterService decides the rest alone.
  return inClusterService(host, podNamespace, labels.length === 2 ? namespaces() : NO_NAMESPACES) === undefined;
}
const NO_NAMESPACES: ReadonlySet<string> = new Set();

/** Wire `client` to `server` on `ports`: the pair of rules, one on each side. */
export function connect(client: IWorkload, server: IWorkload, ports: number[]): void {
  server._network.allowIngressFrom(client, ports);
  client._network.allowEgressTo(server, ports);
}

/**
 * Problems of the user's env values that are http(s) URLs of an in-cluster Service (a one-label
 * host, `<svc>.<namespace>` of a namespace of the app, `<svc>.<namespace>.svc`): each must name a
 * Service the app emits, on a port it exposes, or the output check rejects it (env-url, the same
 * reading of a host: inClusterService). Clients reach servers by object (a frontend's backend,
 * server.allowFrom(client)), which writes the URL and opens the NetworkPolicies. For
 * node.addValidation: the Services are known once every workload exists.
 */
export function envUrlProblems(owner: IConstruct, env: readonly k8s.EnvVar[]): string[] {
  const withUrls = env.filter((e) => typeof e.value === 'string' && (e.value.match(URL_RE) ?? []).length > 0);
  if (withUrls.length === 0) return [];
  const { namespaces, services } = appServices(owner.node.root);
  const podNamespace = MlStack.of(owner).namespaceName;
  const problems: string[] = [];
  const fix =
    'wire the workload to the server by object (a FlaskFrontend backend, or server.allowFrom(workload) and server.url), ' +
    'which writes the URL and opens the NetworkPolicies';
  for (const e of withUrls) {
    for (const url of e.value!.match(URL_RE) ?? []) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        problems.push(problem(owner, `env.${e.name}`, `holds ${url}, which is not a valid URL`, e.value, 'write it as http(s)://host[:port]/path'));
        continue;
      }
      const target = inClusterService(parsed.hostname, podNamespace, namespaces);
      if (!target) continue;
      const key = `${target.namespace}/${target.name}`;
      const ports = services.get(key);
      if (ports === undefined) {
        problems.push(problem(owner, `env.${e.name}`, `names Service ${key} (${url}), which this app does not define`, e.value, fix));
      } else if (!ports.includes(urlPort(parsed))) {
        problems.push(
          problem(
            owner,
            `env.${e.name}`,
            `uses port ${urlPort(parsed)} of Service ${key} (${url}), which exposes ${ports.join(', ') || 'no ports'}`,
            e.value,
            fix,
          ),
        );
      }
    }
  }
  return problems;
}

/** The app's namespaces and Services (namespace/name -> ports), indexed once per synth: validations run in one synchronous pass. */
let servicesOfApp: { root: IConstruct; namespaces: Set<string>; services: Map<string, number[]> } | undefined;
function appServices(root: IConstruct): { namespaces: Set<string>; services: Map<string, number[]> } {
  if (servicesOfApp?.root === root) return servicesOfApp;
  const all = root.node.findAll();
  const services = new Map<string, number[]>();
  for (const o of all.filter(ApiObject.isApiObject).filter((x) => x.kind === 'Service')) {
    // The Service's own rendered JSON: spec.ports is a list of ServicePorts, or absent.
    const json: { spec?: { ports?: Array<{ port: number }> } } = o.toJson();
    services.set(
      `${o.metadata.namespace ?? ''}/${o.name}`,
      (json.spec?.ports ?? []).map((p) => p.port),
    );
  }
  const index = { root, namespaces: new Set(all.filter(MlStack.isMlStack).map((s) => s.namespaceName)), services };
  servicesOfApp = index;
  queueMicrotask(() => {
    if (servicesOfApp === index) servicesOfApp = undefined;
  });
  return index;
}
