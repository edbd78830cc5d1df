import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { MlStack } from '../stack/ml-stack';

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

interface IngressRule { readonly from: k8s.NetworkPolicyPeer[] | undefined; readonly ports: number[]; readonly why: string }
interface EgressRule { readonly to: k8s.NetworkPolicyPeer[] | undefined; readonly ports: { port: number; protocol?: string }[]; readonly why: string }

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
const IN_CLUSTER_HOST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/;

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
  const namespace = IN_CLUSTER_HOST.exec(url.hostname)?.[2];
  return [{ port, ...(namespace ? { namespace } : {}), metadata: false }];
}

/**
 * One NetworkPolicy per workload, rendered at synth from the wiring: the pods admit traffic only
 * from workloads they were wired to (and the ingress controller or load balancer when exposed), and
 * reach only DNS, their wired backends and, when their model needs it, object storage.
 */
export class WorkloadNetwork {
  private readonly ingress = new Map<string, IngressRule>();
  private readonly egress = new Map<string, EgressRule>();

  constructor(owner: Construct, name: string, private readonly podSelector: Record<string, string>, labels: Record<string, string>, private readonly namespaceName: string, isolateEgress: boolean) {
    const stack = MlStack.of(owner);
    new k8s.KubeNetworkPolicy(owner, 'NetworkPolicy', {
      metadata: stack._metadata(name, labels),
      spec: Lazy.any({ produce: () => this.render(isolateEgress) }) as any,
    });
    // Pods resolve names; port 53 to any destination also covers node-local DNS caches.
    this.egress.set('dns', { to: undefined, ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], why: 'dns' });
  }

  /** Admit `peer`'s pods on `ports`; the caller also calls `peer._network.allowEgressTo(this...)`. */
  public allowIngressFrom(peer: IWorkload, ports: number[]): void {
    this.ingress.set(`pod:${peer.namespaceName}/${peer.workloadName}:${ports.join(',')}`, { from: [this.peerOf(peer.podSelector, peer.namespaceName)], ports, why: 'wired' });
  }
  public allowIngressFromNamespace(namespace: string, ports: number[], podSelector?: Record<string, string>): void {
    this.ingress.set(`ns:${namespace}:${ports.join(',')}`, {
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } }, ...(podSelector ? { podSelector: { matchLabels: podSelector } } : {}) }],
      ports, why: 'namespace',
    });
  }
  /** A LoadBalancer Service: clients come from outside the cluster with arbitrary addresses. */
  public allowIngressFromAnywhere(ports: number[]): void {
    this.ingress.set(`any:${ports.join(',')}`, { from: undefined, ports, why: 'anywhere' });
  }
  public allowEgressTo(peer: { podSelector: Record<string, string>; namespaceName: string; workloadName: string }, ports: number[]): void {
    this.egress.set(`pod:${peer.namespaceName}/${peer.workloadName}:${ports.join(',')}`, { to: [this.peerOf(peer.podSelector, peer.namespaceName)], ports: ports.map(port => ({ port })), why: 'wired' });
  }
  /**
   * Model or data storage: each endpoint's port (in-cluster endpoints only in their namespace), plus
   * the metadata server that hands out cloud credentials when an endpoint needs it. Without
   * endpoints: cloud object storage (HTTPS anywhere, credentials from the metadata server).
   */
  public allowEgressToObjectStorage(endpoints: readonly StorageEndpoint[] = []): void {
    const all = endpoints.length > 0 ? endpoints : [CLOUD_STORAGE];
    for (const e of all) {
      const to = e.namespace ? [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': e.namespace } } }] : [{ ipBlock: { cidr: '0.0.0.0/0' } }];
      this.egress.set(e.namespace ? `ns:${e.namespace}:${e.port}` : `ext:${e.port}`, { to, ports: [{ port: e.port }], why: 'storage' });
    }
    if (all.some(e => e.metadata)) {
      for (const m of METADATA_IPS) this.egress.set(`metadata:${m.cidr}`, { to: [{ ipBlock: { cidr: m.cidr } }], ports: [{ port: m.port }], why: 'metadata' });
    }
  }
  /** Any HTTPS destination (external APIs). */
  public allowEgressHttps(): void {
    this.egress.set('ext:443', { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443 }], why: 'https' });
  }

  private peerOf(selector: Record<string, string>, namespace: string): k8s.NetworkPolicyPeer {
    return namespace === this.namespaceName
      ? { podSelector: { matchLabels: selector } }
      : { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } }, podSelector: { matchLabels: selector } };
  }

  private render(isolateEgress: boolean): k8s.NetworkPolicySpec {
    const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
    // A rule without ports (peers of one distributed job: NCCL/gloo pick ports at run time) admits every port.
    const ingress: k8s.NetworkPolicyIngressRule[] = sorted(this.ingress).map(r => ({
      ...(r.from ? { from: r.from } : {}),
      ...(r.ports.length > 0 ? { ports: r.ports.map(port => ({ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' })) } : {}),
    }));
    const egress: k8s.NetworkPolicyEgressRule[] = sorted(this.egress).map(r => ({
      ...(r.to ? { to: r.to } : {}),
      ...(r.ports.length > 0 ? { ports: r.ports.map(p => ({ port: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol ?? 'TCP' })) } : {}),
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

/** Wire `client` to `server` on `ports`: the pair of rules, one on each side. */
export function connect(client: IWorkload, server: IWorkload, ports: number[]): void {
  server._network.allowIngressFrom(client, ports);
  client._network.allowEgressTo(server, ports);
}
