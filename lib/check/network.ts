/**
 * NetworkPolicy reachability: which connections the NetworkPolicies among a set of manifests
 * allow, which connections the manifests themselves say must happen (env URLs naming Services,
 * Prometheus scrape annotations, Ingresses, LoadBalancer Services, Indexed Job peers, object
 * storage), and the `network-reachability` rule: an intended connection the policies deny.
 *
 * Semantics of https://kubernetes.io/docs/concepts/services-networking/network-policies/ :
 * - A pod is isolated for ingress (egress) iff a NetworkPolicy of its namespace selects it
 *   (`podSelector: {}` selects all) with Ingress (Egress) in policyTypes; without policyTypes,
 *   Ingress always and Egress iff the policy has egress rules (the apiserver's defaulting: an
 *   empty `egress: []` adds nothing).
 * - A connection is allowed iff the source side allows it (not egress-isolated, or an egress rule
 *   of a policy selecting the source admits the destination on the port) AND the destination side
 *   does (likewise with ingress rules). Policies are additive: any one rule admitting is enough.
 * - Peers: podSelector alone = pods of the policy's namespace; namespaceSelector alone = every pod
 *   of the matching namespaces; both in one element = AND; separate elements = OR. ipBlock (cidr
 *   minus except) matches IP endpoints only: pod IPs are ephemeral, and the docs advise selectors,
 *   not ipBlock, for pod traffic, so pod-to-pod traffic is never matched by an ipBlock here.
 * - A rule without from/to matches every peer, without ports every port. A named port resolves
 *   against the destination pod's container ports (for egress rules too); endPort makes a range;
 *   protocol defaults to TCP.
 * - Namespaces carry the labels of their Namespace object (when among the objects) and always
 *   `kubernetes.io/metadata.name: <name>`.
 * Not modeled: traffic to and from the node (always allowed), a pod's connections to itself,
 * hostNetwork pods, source NAT of load balancers, IPv6.
 *
 * Endpoints, named by strings (EndpointRef):
 *   `Kind/ns/name`     the pods of a workload among the objects (pod template labels, ports)
 *   `probe:<ns>`       a pod without labels in namespace ns (the rest of the cluster)
 *   `outside`          an address outside the cluster, 203.0.113.10 (no pod)
 *   `ip:<address>`     any other IPv4 address (no pod)
 */
import {
  asArray,
  asLabels,
  containersOf,
  effectiveNamespace,
  isPlainObject,
  K8sObject,
  LabelIndex,
  Labels,
  labelSelectorMatches,
  LocatedContainer,
  pairCounter,
  podsSelectedBy,
  Problem,
  SelectorIndex,
  serviceSelector,
  templateIndex,
  WorkloadPodTemplate,
  workloadPodTemplates,
  field,
  arrayAt,
  stringAt,
  metaName,
} from './k8s-common';
import { isLoopbackOrUnspecified, objectStoreMentions, parsedUrlsIn, serviceOfHost, URL_RE, urlPort } from '../rules/url';

/** `Kind/ns/name` (a workload among the objects), `probe:<namespace>`, `outside` or `ip:<IPv4 address>`. */
export type EndpointRef = string;

/** A connection from one endpoint to a port of another. */
export interface NetworkConnection {
  readonly from: EndpointRef;
  readonly to: EndpointRef;
  readonly port: number;
  /** @default 'TCP' */
  readonly protocol?: string;
}

/** A connection the manifests say must work, with why. */
export interface IntendedConnection extends NetworkConnection {
  readonly protocol: string;
  /** e.g. `env BACKEND_URL calls Service server:8501`. */
  readonly reason: string;
  /** `Kind/ns/name` of the object that states it (where `network-reachability` reports it). */
  readonly declaredBy: string;
}

/** An allowed connection, with the policies on the destination side that admit it. */
export interface AdmittedConnection extends NetworkConnection {
  readonly protocol: string;
  /** `ns/name` of each NetworkPolicy whose ingress rules admit it (empty: not isolated). */
  readonly admittedBy: readonly string[];
}

export interface NetworkCheckOptions {
  /** Namespace Prometheus scrapes from (`prometheus.io/scrape` pods). @default 'monitoring' */
  readonly prometheusNamespace?: string;
  /** Namespace of the ingress controller (Ingress backends). @default 'ingress-nginx' */
  readonly ingressControllerNamespace?: string;
  /** More namespaces to put a probe pod in. @default - none */
  readonly probeNamespaces?: readonly string[];
  /** Intended connections the manifests cannot show (a client admitted on a gRPC port). @default - none */
  readonly intended?: readonly NetworkConnection[];
}

export const OUTSIDE: EndpointRef = 'outside';
/** The address `outside` stands for (TEST-NET-3, never a real host). */
export const OUTSIDE_IP = '203.0.113.10';
/** A port NCCL/gloo may pick at run time: distributed-training peers must reach each other on it too. */
const PEER_SAMPLE_PORT = 40000;
const DEFAULT_PROMETHEUS_NAMESPACE = 'monitoring';
const DEFAULT_INGRESS_NAMESPACE = 'ingress-nginx';
const ELSEWHERE_NAMESPACE = 'elsewhere';
const DNS_PORT = 53;

// ---------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------

function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

function cidrContains(cidr: unknown, ip: number): boolean {
  if (typeof cidr !== 'string') return false;
  const [addr, bits] = cidr.split('/');
  const net = parseIpv4(addr);
  const n = bits === undefined ? 32 : Number(bits);
  if (net === undefined || !Number.isInteger(n) || n < 0 || n > 32) return false; // IPv6 blocks never hold an IPv4 endpoint
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (ip & mask) >>> 0 === (net & mask) >>> 0;
}

function ipBlockMatches(block: unknown, ip: number): boolean {
  if (!isPlainObject(block)) return false;
  return cidrContains(block.cidr, ip) && !asArray<unknown>(block.except).some((e) => cidrContains(e, ip));
}

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

interface ContainerPort {
  readonly port: number;
  readonly name?: string;
  readonly protocol: string;
}

interface Endpoint {
  readonly ref: EndpointRef;
  /** Pods only. */
  readonly pod?: { readonly namespace: string; readonly labels: Labels; readonly ports: readonly ContainerPort[] };
  /** IP endpoints only. */
  readonly ip?: number;
  readonly ipText?: string;
  readonly template?: WorkloadPodTemplate;
}

interface PolicyRule {
  /** undefined: every peer. */
  readonly peers?: readonly unknown[];
  /** undefined: every port. */
  readonly ports?: readonly unknown[];
}

interface Policy {
  /** `ns/name`, as messages show it. */
  readonly name: string;
  readonly namespace: string;
  readonly podSelector: unknown;
  /** undefined: the policy does not isolate for this direction. */
  readonly ingress?: readonly PolicyRule[];
  readonly egress?: readonly PolicyRule[];
  /** A port outside 1..65535: the port-range rule reports it, network-reachability stays quiet. */
  readonly malformed: boolean;
}

type Direction = 'ingress' | 'egress';

interface Side {
  readonly isolated: boolean;
  /** The policies that select the pod for this direction. */
  readonly policies: readonly Policy[];
  /** Those among them with a rule admitting the connection. */
  readonly admittedBy: readonly Policy[];
}

interface Verdict {
  readonly allowed: boolean;
  readonly egress: Side;
  readonly ingress: Side;
}

function rulesOf(spec: Record<string, unknown>, dir: Direction): PolicyRule[] {
  const peerKey = dir === 'ingress' ? 'from' : 'to';
  // A null rule decodes to an empty one in the apiserver: it admits everything.
  return asArray<unknown>(spec[dir]).map((r) => {
    const rule = isPlainObject(r) ? r : {};
    const peers = asArray<unknown>(rule[peerKey]);
    const ports = asArray<unknown>(rule.ports);
    return { peers: peers.length > 0 ? peers : undefined, ports: ports.length > 0 ? ports : undefined };
  });
}

function parsePolicy(obj: K8sObject): Policy {
  const spec: Record<string, unknown> = isPlainObject(obj?.spec) ? obj.spec : {};
  const types = asArray<unknown>(spec.policyTypes);
  const isolatesIngress = types.length > 0 ? types.includes('Ingress') : true;
  const isolatesEgress = types.length > 0 ? types.includes('Egress') : asArray(spec.egress).length > 0;
  const namespace = effectiveNamespace(obj);
  const badPort = (v: unknown) => v !== undefined && typeof v === 'number' && !(Number.isInteger(v) && v >= 1 && v <= 65535);
  const malformed = [...rulesOf(spec, 'ingress'), ...rulesOf(spec, 'egress')].some((r) =>
    (r.ports ?? []).some((p) => isPlainObject(p) && (badPort(p.port) || badPort(p.endPort))),
  );
  return {
    name: `${namespace}/${String(field(obj, 'metadata', 'name') ?? '<no name>')}`,
    namespace,
    podSelector: spec.podSelector,
    ingress: isolatesIngress ? rulesOf(spec, 'ingress') : undefined,
    egress: isolatesEgress ? rulesOf(spec, 'egress') : undefined,
    malformed,
  };
}

/** Namespaces a peer names: `kubernetes.io/metadata.name` in matchLabels or in an In expression. */
function namespacesNamedBy(peers: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const peer of peers) {
    const sel = isPlainObject(peer) ? peer.namespaceSelector : undefined;
    if (!isPlainObject(sel)) continue;
    const name = asLabels(sel.matchLabels)['kubernetes.io/metadata.name'];
    if (name) out.push(name);
    for (const e of asArray<unknown>(sel.matchExpressions)) {
      if (field(e, 'key') === 'kubernetes.io/metadata.name' && field(e, 'operator') === 'In')
        out.push(...arrayAt(e, 'values').filter((v): v is string => typeof v === 'string'));
    }
  }
  return out;
}

/** Ports that serve traffic: regular containers plus native sidecars (init containers with restartPolicy Always). */
function servingPorts(t: WorkloadPodTemplate): ContainerPort[] {
  const out: ContainerPort[] = [];
  for (const c of containersOf(t)) {
    if (c.kind === 'initContainers' && c.container.restartPolicy !== 'Always') continue;
    for (const p of asArray<{ containerPort?: unknown; name?: unknown; protocol?: unknown }>(c.container.ports)) {
      if (typeof p?.containerPort !== 'number') continue;
      out.push({
        port: p.containerPort,
        name: typeof p.name === 'string' ? p.name : undefined,
        protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP',
      });
    }
  }
  return out;
}

/** The labels the pods of a workload carry: the template's, plus what the Job controller adds. */
function podLabels(t: WorkloadPodTemplate): Labels {
  if (t.kind !== 'Job') return t.labels;
  return { 'batch.kubernetes.io/job-name': t.name, 'job-name': t.name, ...t.labels };
}

/** The policies, namespaces and endpoints of one set of manifests. Build once, ask many questions. */
class NetworkModel {
  readonly templates: WorkloadPodTemplate[];
  readonly workloads = new Map<EndpointRef, Endpoint>();
  readonly hasPolicies: boolean;
  /** Every namespace a policy's peer names: each gets a probe pod. */
  private readonly namedNamespaces = new Set<string>();
  /** Every policy, in object order, and by the pods it may select (policiesSelecting). */
  private readonly policies: Policy[] = [];
  private readonly policyIndex: SelectorIndex<Policy>;
  /** The pod templates by namespace and label (podsSelectedBy). */
  readonly templateIndex: LabelIndex<WorkloadPodTemplate>;
  private readonly namespaceObjectLabels = new Map<string, Labels>();
  private readonly namespaceLabelCache = new Map<string, Labels>();
  private readonly extraEndpoints = new Map<EndpointRef, Endpoint>();
  private readonly selecting = new Map<Endpoint, { ingress: Policy[]; egress: Policy[] }>();

  constructor(objects: readonly K8sObject[]) {
    const plain: K8sObject[] = objects.filter(isPlainObject);
    this.templates = workloadPodTemplates(plain);
    for (const t of this.templates) {
      this.workloads.set(t.ref, { ref: t.ref, pod: { namespace: t.namespace, labels: podLabels(t), ports: servingPorts(t) }, template: t });
    }
    for (const o of plain) {
      const name = metaName(o);
      if (o.kind === 'Namespace' && name !== undefined) this.namespaceObjectLabels.set(name, asLabels(field(o, 'metadata', 'labels')));
      if (o.kind === 'NetworkPolicy') {
        const p = parsePolicy(o);
        for (const r of [...(p.ingress ?? []), ...(p.egress ?? [])]) for (const ns of namespacesNamedBy(r.peers ?? [])) this.namedNamespaces.add(ns);
        this.policies.push(p);
      }
    }
    this.hasPolicies = this.policies.length > 0;
    this.templateIndex = templateIndex(this.templates);
    // A policy is filed under the pair of its podSelector's matchLabels that fewest pods carry.
    const pairCount = pairCounter([...this.workloads.values()].map((w) => w.pod?.labels ?? {}));
    this.policyIndex = new SelectorIndex(
      this.policies,
      (p) => p.namespace,
      (p) => (isPlainObject(p.podSelector) ? asLabels(p.podSelector.matchLabels) : undefined),
      pairCount,
    );
  }

  /** The endpoint a ref names; throws for a ref that names nothing. */
  endpoint(ref: EndpointRef): Endpoint {
    const known = this.workloads.get(ref) ?? this.extraEndpoints.get(ref);
    if (known) return known;
    let ep: Endpoint | undefined;
    if (ref === OUTSIDE) ep = { ref, ip: parseIpv4(OUTSIDE_IP), ipText: OUTSIDE_IP };
    else if (ref.startsWith('probe:') && ref.length > 'probe:'.length)
      ep = { ref, pod: { namespace: ref.slice('probe:'.length), labels: {}, ports: [] } };
    else if (ref.startsWith('ip:') && parseIpv4(ref.slice(3)) !== undefined) ep = { ref, ip: parseIpv4(ref.slice(3)), ipText: ref.slice(3) };
    if (!ep) {
      throw new Error(
        `unknown network endpoint ${JSON.stringify(ref)}: use Kind/namespace/name of a workload among the objects ` +
          `(${[...this.workloads.keys()].join(', ') || 'none'}), probe:<namespace>, outside or ip:<IPv4 address>`,
      );
    }
    this.extraEndpoints.set(ref, ep);
    return ep;
  }

  /**
   * outside, and one probe pod in each of: elsewhere, Prometheus' and the ingress controller's
   * namespaces, the options' namespaces, every workload namespace and every namespace a policy names.
   */
  probeRefs(options: NetworkCheckOptions): EndpointRef[] {
    const namespaces = new Set<string>([
      ELSEWHERE_NAMESPACE,
      options.prometheusNamespace ?? DEFAULT_PROMETHEUS_NAMESPACE,
      options.ingressControllerNamespace ?? DEFAULT_INGRESS_NAMESPACE,
      ...(options.probeNamespaces ?? []),
      ...this.templates.map((t) => t.namespace),
      ...this.namedNamespaces,
    ]);
    return [OUTSIDE, ...[...namespaces].map((ns) => `probe:${ns}`)];
  }

  /** Namespaces the ingress rules of the policies selecting a pod name. */
  namespacesAdmitting(ep: Endpoint): string[] {
    return [...new Set(this.policiesSelecting(ep, 'ingress').flatMap((p) => (p.ingress ?? []).flatMap((r) => namespacesNamedBy(r.peers ?? []))))];
  }

  namespaceLabels(ns: string): Labels {
    let labels = this.namespaceLabelCache.get(ns);
    if (!labels) this.namespaceLabelCache.set(ns, (labels = { ...this.namespaceObjectLabels.get(ns), 'kubernetes.io/metadata.name': ns }));
    return labels;
  }

  /** The policies selecting a pod, per direction they isolate. */
  policiesSelecting(ep: Endpoint, dir: Direction): Policy[] {
    const pod = ep.pod;
    if (!pod) return [];
    let cached = this.selecting.get(ep);
    if (!cached) {
      const here = this.policyIndex
        .candidates(pod.namespace, pod.labels)
        .map((i) => this.policies[i])
        .filter((p) => labelSelectorMatches(p.podSelector, pod.labels));
      cached = { ingress: here.filter((p) => p.ingress), egress: here.filter((p) => p.egress) };
      this.selecting.set(ep, cached);
    }
    return cached[dir];
  }

  private peerMatches(peer: unknown, policyNamespace: string, ep: Endpoint): boolean {
    if (!isPlainObject(peer)) return false;
    if (peer.ipBlock != null) return ep.ip !== undefined && ipBlockMatches(peer.ipBlock, ep.ip);
    const pod = ep.pod;
    if (!pod) return false;
    if (peer.namespaceSelector != null) {
      if (!labelSelectorMatches(peer.namespaceSelector, this.namespaceLabels(pod.namespace))) return false;
      return peer.podSelector == null || labelSelectorMatches(peer.podSelector, pod.labels);
    }
    if (peer.podSelector != null) return pod.namespace === policyNamespace && labelSelectorMatches(peer.podSelector, pod.labels);
    return false;
  }

  /** Named ports are looked up among the destination's container ports, whichever side the rule is on. */
  private portMatches(spec: unknown, port: number, protocol: string, destination: Endpoint): boolean {
    if (!isPlainObject(spec)) return false;
    if ((typeof spec.protocol === 'string' ? spec.protocol : 'TCP') !== protocol) return false;
    if (spec.port == null) return true;
    if (typeof spec.port === 'number') return port >= spec.port && port <= (typeof spec.endPort === 'number' ? spec.endPort : spec.port);
    if (typeof spec.port === 'string')
      return destination.pod?.ports.some((p) => p.name === spec.port && p.protocol === protocol && p.port === port) ?? false;
    return false;
  }

  private side(subject: Endpoint, peer: Endpoint, dir: Direction, port: number, protocol: string, destination: Endpoint): Side {
    const policies = this.policiesSelecting(subject, dir);
    if (policies.length === 0) return { isolated: false, policies, admittedBy: [] };
    const admittedBy = policies.filter((p) =>
      (p[dir] ?? []).some(
        (r) =>
          (r.peers === undefined || r.peers.some((x) => this.peerMatches(x, p.namespace, peer))) &&
          (r.ports === undefined || r.ports.some((x) => this.portMatches(x, port, protocol, destination))),
      ),
    );
    return { isolated: true, policies, admittedBy };
  }

  /**
   * Positions (ascending) among `sources` of every source whose connection into `to` on the port an
   * ingress rule of a policy selecting `to` may admit; undefined when any may be (`to` is not isolated
   * for ingress, or a rule with matching ports admits every peer). A superset: evaluate decides.
   */
  ingressCandidates(to: Endpoint, port: number, protocol: string, sources: SourceIndex): number[] | undefined {
    const policies = this.policiesSelecting(to, 'ingress');
    if (policies.length === 0) return undefined;
    const found = new Set<number>();
    for (const p of policies) {
      for (const r of p.ingress ?? []) {
        if (r.ports !== undefined && !r.ports.some((x) => this.portMatches(x, port, protocol, to))) continue;
        if (r.peers === undefined) return undefined;
        for (const peer of r.peers) for (const i of this.peerCandidates(peer, p.namespace, sources)) found.add(i);
      }
    }
    return [...found].sort((a, b) => a - b);
  }

  /** The sources a peer may match (peerMatches on each decides): by namespace labels, then pod labels. */
  private peerCandidates(peer: unknown, policyNamespace: string, sources: SourceIndex): readonly number[] {
    if (!isPlainObject(peer)) return [];
    if (peer.ipBlock != null) return sources.ips;
    const podPairs = (sel: unknown): Labels => (isPlainObject(sel) ? asLabels(sel.matchLabels) : {});
    if (peer.namespaceSelector != null) {
      const nsSel = peer.namespaceSelector;
      if (!isPlainObject(nsSel)) return [];
      const out: number[] = [];
      for (const n of sources.namespaces.candidates('', asLabels(nsSel.matchLabels))) {
        const ns = sources.namespaces.items[n];
        if (!labelSelectorMatches(nsSel, this.namespaceLabels(ns))) continue;
        for (const i of sources.pods.candidates(ns, peer.podSelector == null ? {} : podPairs(peer.podSelector))) out.push(i);
      }
      return out;
    }
    if (peer.podSelector != null) return sources.pods.candidates(policyNamespace, podPairs(peer.podSelector));
    return [];
  }

  evaluate(from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): Verdict {
    const egress = this.side(from, to, 'egress', port, protocol, to);
    const ingress = this.side(to, from, 'ingress', port, protocol, to);
    const ok = (s: Side) => !s.isolated || s.admittedBy.length > 0;
    return { allowed: ok(egress) && ok(ingress), egress, ingress };
  }
}

/** The sources of ingressQuestions: pod endpoints by namespace and label, namespaces by label, IP endpoints. */
class SourceIndex {
  readonly pods: LabelIndex<Endpoint>;
  readonly namespaces: LabelIndex<string>;
  readonly ips: readonly number[];

  constructor(
    model: NetworkModel,
    readonly endpoints: readonly Endpoint[],
  ) {
    this.pods = new LabelIndex(
      endpoints,
      (e) => e.pod?.namespace,
      (e) => e.pod?.labels ?? {},
    );
    this.namespaces = new LabelIndex(
      this.pods.namespaces(),
      () => '',
      (ns) => model.namespaceLabels(ns),
    );
    this.ips = endpoints.flatMap((e, i) => (e.ip !== undefined ? [i] : []));
  }

  all(): number[] {
    return this.endpoints.map((_, i) => i);
  }
}

// ---------------------------------------------------------------------------
// Intended connections, read off the manifests
// ---------------------------------------------------------------------------

interface Intent {
  readonly from: EndpointRef;
  readonly to: EndpointRef;
  readonly port: number;
  readonly protocol: string;
  readonly reason: string;
  /** The object that says so: the problem is reported on it. */
  readonly obj: K8sObject;
  /** Other sources that would do as well (Prometheus or the ingress controller in another namespace). */
  readonly alternatives?: readonly EndpointRef[];
}

/**
 * Where Prometheus or the ingress controller runs is not in the manifests: the namespace the
 * options name; else the default, or any namespace the destination's policies admit by name.
 */
function sourceNamespaces(
  model: NetworkModel,
  to: Endpoint,
  explicit: string | undefined,
  fallback: string,
): { from: EndpointRef; alternatives?: EndpointRef[] } {
  if (explicit !== undefined) return { from: `probe:${explicit}` };
  const others = model.namespacesAdmitting(to).filter((ns) => ns !== fallback);
  return { from: `probe:${fallback}`, ...(others.length > 0 ? { alternatives: others.map((ns) => `probe:${ns}`) } : {}) };
}

/** The port of a pod that a Service port lands on (targetPort, named or numbered; port when absent). */
function targetPortOn(sp: Record<string, unknown>, ep: Endpoint): number | undefined {
  const wanted = sp.targetPort ?? sp.port;
  const protocol = typeof sp.protocol === 'string' ? sp.protocol : 'TCP';
  if (typeof wanted === 'number') return wanted;
  if (typeof wanted === 'string') return ep.pod?.ports.find((p) => p.name === wanted && p.protocol === protocol)?.port;
  return undefined;
}

function protocolOf(sp: Record<string, unknown>): string {
  return typeof sp.protocol === 'string' ? sp.protocol : 'TCP';
}

/** The endpoints and ports a Service port leads to. */
function serviceTargets(model: NetworkModel, svc: K8sObject, sp: Record<string, unknown>): Array<{ to: Endpoint; port: number }> {
  const out: Array<{ to: Endpoint; port: number }> = [];
  for (const t of podsSelectedBy(svc, model.templateIndex)) {
    const to = model.workloads.get(t.ref);
    const port = to && targetPortOn(sp, to);
    if (to && port !== undefined) out.push({ to, port });
  }
  return out;
}

function servicePorts(svc: K8sObject): Array<Record<string, unknown>> {
  return arrayAt(svc, 'spec', 'ports').filter(isPlainObject);
}

const BARE_HOST_PORT = /(?:^|[\s,;=("'[{])([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?):(\d{1,5})(?![\w.])/gi;

interface ServiceMention {
  readonly svc: K8sObject;
  readonly sp: Record<string, unknown>;
}

/**
 * The Services an env value calls: URLs with an in-cluster host, and bare `svc:port`,
 * `svc.ns.svc:port` (or a pod of a headless Service) when that Service exposes that port.
 */
function serviceMentions(
  value: string,
  podNamespace: string,
  namespaces: ReadonlySet<string>,
  services: ReadonlyMap<string, K8sObject>,
): ServiceMention[] {
  const out: ServiceMention[] = [];
  const add = (host: string, port: number) => {
    const target = serviceOfHost(host, podNamespace, namespaces);
    const svc = target && services.get(`${target.namespace}/${target.name}`);
    const sp = svc && servicePorts(svc).find((p) => p.port === port);
    if (svc && sp) out.push({ svc, sp });
  };
  for (const { url } of parsedUrlsIn(value)) add(url.hostname, urlPort(url));
  const rest = value.replace(URL_RE, ' ');
  for (const m of rest.matchAll(BARE_HOST_PORT)) {
    if (/^[\d.]+$/.test(m[1])) continue; // an IP address, not a Service
    add(m[1], Number(m[2]));
  }
  return out;
}

/** env URLs (and bare host:port) naming an in-cluster Service: the workload calls the Service's pods. */
function envIntents(model: NetworkModel, services: ReadonlyMap<string, K8sObject>, namespaces: ReadonlySet<string>): Intent[] {
  const out: Intent[] = [];
  for (const t of model.templates) {
    for (const c of containersOf(t)) {
      for (const e of asArray<{ name?: unknown; value?: unknown }>(c.container.env)) {
        if (typeof e?.value !== 'string' || !e.value.includes(':')) continue;
        for (const { svc, sp } of serviceMentions(e.value, t.namespace, namespaces, services)) {
          const ns = effectiveNamespace(svc);
          const shown = ns === t.namespace ? metaName(svc) : `${ns}/${metaName(svc)}`;
          for (const { to, port } of serviceTargets(model, svc, sp)) {
            out.push({
              from: t.ref,
              to: to.ref,
              port,
              protocol: protocolOf(sp),
              reason: `env ${String(e.name)} calls Service ${shown}:${String(sp.port)}`,
              obj: t.obj,
            });
          }
        }
      }
    }
  }
  return out;
}

function shorten(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Where a container's text is, for messages: `command`, `args`, `env NAME`. */
function containerTexts(c: LocatedContainer): Array<{ where: string; text: string }> {
  const out: Array<{ where: string; text: string }> = [];
  for (const key of ['command', 'args'] as const) {
    for (const v of asArray<unknown>(c.container[key])) if (typeof v === 'string') out.push({ where: key, text: v });
  }
  for (const e of asArray<{ name?: unknown; value?: unknown }>(c.container.env)) {
    if (typeof e?.value === 'string') out.push({ where: `env ${String(e.name)}`, text: e.value });
  }
  return out;
}

/** Object storage and other external hosts a container's command, args or env name: egress out of the cluster. */
function externalIntents(model: NetworkModel, namespaces: ReadonlySet<string>): Intent[] {
  const out: Intent[] = [];
  for (const t of model.templates) {
    for (const c of containersOf(t)) {
      for (const { where, text } of containerTexts(c)) {
        const intent = (to: EndpointRef, port: number, mention: string): Intent => ({
          from: t.ref,
          to,
          port,
          protocol: 'TCP',
          reason: `container "${c.name}" mentions ${shorten(mention)} in ${where}`,
          obj: t.obj,
        });
        for (const m of objectStoreMentions(text)) out.push(intent(OUTSIDE, 443, m));
        for (const { raw: url, url: parsed } of parsedUrlsIn(text)) {
          const host = parsed.hostname;
          if (host === '' || host.includes('$') || isLoopbackOrUnspecified(host) || serviceOfHost(host, t.namespace, namespaces)) continue;
          const port = urlPort(parsed);
          out.push(intent(parseIpv4(host) !== undefined ? `ip:${host}` : OUTSIDE, port, url));
        }
      }
    }
  }
  return out;
}

/** `prometheus.io/scrape: "true"` with `prometheus.io/port`: Prometheus' namespace reaches that port. */
function prometheusIntents(model: NetworkModel, options: NetworkCheckOptions): Intent[] {
  const out: Intent[] = [];
  for (const t of model.templates) {
    const port = t.annotations['prometheus.io/port'];
    const to = model.workloads.get(t.ref);
    if (t.annotations['prometheus.io/scrape'] !== 'true' || !/^\d+$/.test(port ?? '') || !to) continue;
    const source = sourceNamespaces(model, to, options.prometheusNamespace, DEFAULT_PROMETHEUS_NAMESPACE);
    out.push({
      ...source,
      to: t.ref,
      port: Number(port),
      protocol: 'TCP',
      reason: `annotation prometheus.io/scrape: Prometheus scrapes port ${port}`,
      obj: t.obj,
    });
  }
  return out;
}

/** An Ingress: the ingress controller's namespace reaches the backend Services' pods. */
function ingressIntents(
  model: NetworkModel,
  objects: readonly K8sObject[],
  services: ReadonlyMap<string, K8sObject>,
  options: NetworkCheckOptions,
): Intent[] {
  const out: Intent[] = [];
  for (const ing of objects) {
    if (ing?.kind !== 'Ingress') continue;
    const ns = effectiveNamespace(ing);
    const paths = arrayAt(ing, 'spec', 'rules').flatMap((r) => arrayAt(r, 'http', 'paths'));
    const backends = [field(ing, 'spec', 'defaultBackend'), ...paths.map((p) => field(p, 'backend'))];
    for (const b of backends) {
      const name = field(b, 'service', 'name');
      const svc = typeof name === 'string' ? services.get(`${ns}/${name}`) : undefined;
      if (!svc) continue;
      const [number, portName] = [field(b, 'service', 'port', 'number'), field(b, 'service', 'port', 'name')];
      const sp = servicePorts(svc).find((p) =>
        typeof number === 'number' ? p.port === number : typeof portName === 'string' && p.name === portName,
      );
      if (!sp) continue;
      for (const { to, port } of serviceTargets(model, svc, sp)) {
        const source = sourceNamespaces(model, to, options.ingressControllerNamespace, DEFAULT_INGRESS_NAMESPACE);
        out.push({
          ...source,
          to: to.ref,
          port,
          protocol: protocolOf(sp),
          reason: `routes to Service ${name}:${String(sp.port)} through the ingress controller`,
          obj: ing,
        });
      }
    }
  }
  return out;
}

/**
 * A Gateway API HTTPRoute: the gateway's proxy pods reach the backend Services' pods. They run in
 * the Gateway's namespace (the parentRef's, else the route's) or another the policies admit.
 */
function httpRouteIntents(model: NetworkModel, objects: readonly K8sObject[], services: ReadonlyMap<string, K8sObject>): Intent[] {
  const out: Intent[] = [];
  for (const route of objects) {
    // A GRPCRoute's backendRefs are read alike (gRPC exposure: lib/serving/exposure.ts).
    if ((route?.kind !== 'HTTPRoute' && route?.kind !== 'GRPCRoute') || !String(route?.apiVersion).startsWith('gateway.networking.k8s.io/')) continue;
    const ns = effectiveNamespace(route);
    const parent = arrayAt(route, 'spec', 'parentRefs')[0];
    const gatewayNs = stringAt(parent, 'namespace') ?? ns;
    for (const b of arrayAt(route, 'spec', 'rules').flatMap((r) => arrayAt(r, 'backendRefs'))) {
      if ((field(b, 'kind') ?? 'Service') !== 'Service' || (field(b, 'group') ?? '') !== '') continue;
      const name = stringAt(b, 'name');
      const svc = name !== undefined ? services.get(`${stringAt(b, 'namespace') ?? ns}/${name}`) : undefined;
      const sp = svc && servicePorts(svc).find((p) => p.port === field(b, 'port'));
      if (!svc || !sp) continue;
      for (const { to, port } of serviceTargets(model, svc, sp)) {
        out.push({
          ...sourceNamespaces(model, to, undefined, gatewayNs),
          to: to.ref,
          port,
          protocol: protocolOf(sp),
          reason: `routes to Service ${String(name)}:${String(sp.port)} through Gateway ${String(field(parent, 'name'))}`,
          obj: route,
        });
      }
    }
  }
  return out;
}

/** A LoadBalancer or NodePort Service: clients outside the cluster reach its target ports. */
function loadBalancerIntents(model: NetworkModel, objects: readonly K8sObject[]): Intent[] {
  const out: Intent[] = [];
  for (const svc of objects) {
    const type = field(svc, 'spec', 'type');
    if (svc?.kind !== 'Service' || (type !== 'LoadBalancer' && type !== 'NodePort')) continue;
    for (const sp of servicePorts(svc)) {
      for (const { to, port } of serviceTargets(model, svc, sp)) {
        out.push({
          from: OUTSIDE,
          to: to.ref,
          port,
          protocol: protocolOf(sp),
          reason: `type ${type} exposes port ${String(sp.port)} to clients outside the cluster`,
          obj: svc,
        });
      }
    }
  }
  return out;
}

function jobSpecOf(t: WorkloadPodTemplate): Record<string, unknown> | undefined {
  const spec = t.kind === 'Job' ? field(t.obj, 'spec') : t.kind === 'CronJob' ? field(t.obj, 'spec', 'jobTemplate', 'spec') : undefined;
  return isPlainObject(spec) ? spec : undefined;
}

/** The pods of an Indexed Job with a headless Service selecting them reach each other, on any port: a few are tried. */
function peerIntents(model: NetworkModel, objects: readonly K8sObject[]): Intent[] {
  const out: Intent[] = [];
  const headless = objects.filter((o) => o?.kind === 'Service' && field(o, 'spec', 'clusterIP') === 'None');
  const headlessIndex = new SelectorIndex(headless, effectiveNamespace, serviceSelector);
  for (const t of model.templates) {
    const spec = jobSpecOf(t);
    const pods = Math.max(Number(spec?.completions ?? 1), Number(spec?.parallelism ?? 1));
    if (spec?.completionMode !== 'Indexed' || !(pods > 1)) continue;
    const svc = headlessIndex
      .candidates(t.namespace, t.labels)
      .map((i) => headless[i])
      .find((s) => podsSelectedBy(s, [t]).length === 1);
    const self = model.workloads.get(t.ref);
    if (!svc || !self) continue;
    const ports = new Map<number, string>();
    for (const c of containersOf(t)) {
      for (const e of asArray<{ name?: unknown; value?: unknown }>(c.container.env)) {
        if (e?.name === 'MASTER_PORT' && typeof e.value === 'string' && /^\d+$/.test(e.value)) ports.set(Number(e.value), 'MASTER_PORT');
      }
    }
    for (const sp of servicePorts(svc)) {
      const port = targetPortOn(sp, self);
      if (port !== undefined && !ports.has(port)) ports.set(port, `Service port ${String(sp.name ?? sp.port)}`);
    }
    for (const p of self.pod?.ports ?? []) if (p.protocol === 'TCP' && !ports.has(p.port)) ports.set(p.port, `container port ${p.name ?? p.port}`);
    if (!ports.has(PEER_SAMPLE_PORT)) ports.set(PEER_SAMPLE_PORT, 'a port NCCL/gloo may open at run time');
    for (const [port, why] of ports) {
      out.push({
        from: t.ref,
        to: t.ref,
        port,
        protocol: 'TCP',
        reason: `the pods of this Indexed Job reach each other through headless Service ${String(field(svc, 'metadata', 'name'))} on ${why}`,
        obj: t.obj,
      });
    }
  }
  return out;
}

function deriveIntents(model: NetworkModel, objects: readonly K8sObject[], options: NetworkCheckOptions): Intent[] {
  const plain: K8sObject[] = objects.filter(isPlainObject);
  const services = new Map<string, K8sObject>();
  const namespaces = new Set<string>(plain.map(effectiveNamespace));
  for (const o of plain) {
    const name = metaName(o);
    if (name === undefined) continue;
    if (o.kind === 'Service') services.set(`${effectiveNamespace(o)}/${name}`, o);
    if (o.kind === 'Namespace') namespaces.add(name);
  }
  const all = [
    ...envIntents(model, services, namespaces),
    ...externalIntents(model, namespaces),
    ...peerIntents(model, plain),
    ...prometheusIntents(model, options),
    ...ingressIntents(model, plain, services, options),
    ...httpRouteIntents(model, plain, services),
    ...loadBalancerIntents(model, plain),
  ];
  const seen = new Set<string>();
  return all.filter((i) => {
    const key = `${i.obj?.kind}/${field(i.obj, 'metadata', 'name')}|${i.from}|${i.to}|${i.port}|${i.protocol}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

function describe(ep: Endpoint, self: string | undefined): string {
  if (ep.ref === self) return 'these pods';
  if (ep.template) return `pods of ${ep.ref}`;
  if (ep.pod) return `pods in namespace ${ep.pod.namespace}`;
  return ep.ref === OUTSIDE ? 'outside the cluster' : String(ep.ipText);
}

function portText(port: number, protocol: string): string {
  return protocol === 'TCP' ? String(port) : `${port}/${protocol}`;
}

function policyNames(policies: readonly Policy[]): string {
  return policies.length === 1 ? `NetworkPolicy ${policies[0].name} admits` : `NetworkPolicies ${policies.map((p) => p.name).join(', ')} admit`;
}

/** Which side blocks: `NetworkPolicy ns/x admits no egress to ... on P and NetworkPolicy ns/y admits no ingress from ... on P`. */
function blockers(v: Verdict, from: Endpoint, to: Endpoint, port: number, protocol: string, self: string | undefined): string {
  const parts: string[] = [];
  const on = portText(port, protocol);
  if (v.egress.isolated && v.egress.admittedBy.length === 0)
    parts.push(`${policyNames(v.egress.policies)} no egress to ${describe(to, self)} on ${on}`);
  if (v.ingress.isolated && v.ingress.admittedBy.length === 0)
    parts.push(`${policyNames(v.ingress.policies)} no ingress from ${describe(from, self)} on ${on}`);
  return parts.join(' and ');
}

function destinationText(to: Endpoint, port: number, protocol: string): string {
  const where = to.template ? `pods of ${to.ref}` : to.ref === OUTSIDE ? `outside the cluster (${OUTSIDE_IP})` : describe(to, undefined);
  return `${where} port ${portText(port, protocol)}`;
}

/** An intent against the policies: the first of its sources that gets through, else its own. */
function settle(model: NetworkModel, i: Intent): { from: Endpoint; to: Endpoint; verdict: Verdict } {
  const to = model.endpoint(i.to);
  const first = { from: model.endpoint(i.from), to, verdict: model.evaluate(model.endpoint(i.from), to, i.port, i.protocol) };
  if (first.verdict.allowed) return first;
  for (const ref of i.alternatives ?? []) {
    const from = model.endpoint(ref);
    const verdict = model.evaluate(from, to, i.port, i.protocol);
    if (verdict.allowed) return { from, to, verdict };
  }
  return first;
}

function refOf(obj: K8sObject): string {
  return `${String(obj?.kind)}/${stringAt(obj, 'metadata', 'namespace') ?? '-'}/${String(field(obj, 'metadata', 'name'))}`;
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/**
 * Whether the NetworkPolicies among the objects let `from` open a connection to `to` on
 * `port`/`protocol`: both the source's egress side and the destination's ingress side must allow it.
 */
export function isConnectionAllowed(objects: readonly K8sObject[], from: EndpointRef, to: EndpointRef, port: number, protocol = 'TCP'): boolean {
  const model = new NetworkModel(objects);
  return model.evaluate(model.endpoint(from), model.endpoint(to), port, protocol).allowed;
}

function admitted(model: NetworkModel, from: Endpoint, to: Endpoint, port: number, protocol: string): AdmittedConnection | undefined {
  const v = model.evaluate(from, to, port, protocol);
  return v.allowed ? { from: from.ref, to: to.ref, port, protocol, admittedBy: v.ingress.admittedBy.map((p) => p.name) } : undefined;
}

/**
 * Every source against every destination port, asking only the sources the destination's ingress
 * rules can admit (model.ingressCandidates; all of them when it is not isolated for ingress): the
 * same connections in the same order, without a question per pair of 10,000 workloads (npm run bench).
 */
function ingressQuestions(
  model: NetworkModel,
  options: NetworkCheckOptions,
  destinations: readonly Endpoint[],
  includeSelf: boolean,
): AdmittedConnection[] {
  const sources = new SourceIndex(model, [...model.workloads.values(), ...model.probeRefs(options).map((r) => model.endpoint(r))]);
  const out: AdmittedConnection[] = [];
  for (const to of destinations) {
    for (const p of to.pod?.ports ?? []) {
      if (p.protocol !== 'TCP') continue;
      const candidates = model.ingressCandidates(to, p.port, p.protocol, sources);
      for (const i of candidates ?? sources.all()) {
        const from = sources.endpoints[i];
        if (from === to && !includeSelf) continue;
        const a = admitted(model, from, to, p.port, p.protocol);
        if (a) out.push(a);
      }
    }
  }
  return out;
}

/**
 * Every allowed connection into a workload: from every endpoint (each workload, itself included,
 * `outside` and the probe pods) to each TCP container port of each workload among the objects.
 */
export function allowedIngress(objects: readonly K8sObject[], options: NetworkCheckOptions = {}): AdmittedConnection[] {
  const model = new NetworkModel(objects);
  return ingressQuestions(model, options, [...model.workloads.values()], true);
}

/**
 * The connections the manifests say must work, read off the output itself, plus `options.intended`:
 *   - an env value naming an in-cluster Service (`http(s)://svc.ns.svc[.cluster.local]:port/...`,
 *     `svc.ns.svc:port`, `svc:port`): the workload -> the Service's pods on the target port;
 *   - `prometheus.io/scrape: "true"` + `prometheus.io/port`: `probe:<prometheusNamespace>` -> that port;
 *   - an Ingress: `probe:<ingressControllerNamespace>` -> the backend Service's pods on the target port;
 *   - a LoadBalancer or NodePort Service: `outside` -> its target ports;
 *   - an Indexed Job with a headless Service selecting it: its pods -> each other (MASTER_PORT,
 *     the Service's and the containers' ports, and a port picked at run time);
 *   - `s3://`, `gs://`, an rclone `:s3,`/`:gcs,` remote, or an `http(s)://` URL of an external host
 *     in a container's command, args or env: the workload -> `outside` (or `ip:<address>`) on 443
 *     (https and object storage), 80 (http) or the URL's port.
 */
export function intendedConnections(objects: readonly K8sObject[], options: NetworkCheckOptions = {}): IntendedConnection[] {
  const model = new NetworkModel(objects);
  return [
    ...deriveIntents(model, objects, options).map((i) => ({
      from: settle(model, i).from.ref,
      to: i.to,
      port: i.port,
      protocol: i.protocol,
      reason: i.reason,
      declaredBy: refOf(i.obj),
    })),
    ...(options.intended ?? []).map((c) => ({ ...c, protocol: c.protocol ?? 'TCP', reason: 'declared in options.intended', declaredBy: '-' })),
  ];
}

/**
 * The strict check of this repository's own tests: every allowed connection into a workload that
 * a NetworkPolicy selects, from a probe endpoint or another workload, that is not intended (and not
 * DNS). A connection `outside` is meant to make may come from anywhere: whatever reaches a
 * LoadBalancer can also come from inside the cluster.
 */
export function unintendedIngress(objects: readonly K8sObject[], options: NetworkCheckOptions = {}): AdmittedConnection[] {
  const model = new NetworkModel(objects);
  const key = (from: string, to: string, port: number, protocol: string) => `${from}|${to}|${port}|${protocol}`;
  const intended = new Set<string>();
  const derived = deriveIntents(model, objects, options).map((i) => ({ ...i, from: settle(model, i).from.ref }));
  for (const i of [...derived, ...(options.intended ?? [])]) {
    model.endpoint(i.from);
    model.endpoint(i.to); // an unknown ref in options.intended throws
    intended.add(key(i.from === OUTSIDE ? '*' : i.from, i.to, i.port, i.protocol ?? 'TCP'));
  }
  const isolated = [...model.workloads.values()].filter(
    (w) => model.policiesSelecting(w, 'ingress').length > 0 || model.policiesSelecting(w, 'egress').length > 0,
  );
  return ingressQuestions(model, options, isolated, false).filter(
    (c) => c.port !== DNS_PORT && !intended.has(key(c.from, c.to, c.port, c.protocol)) && !intended.has(key('*', c.to, c.port, c.protocol)),
  );
}

/** The `network-reachability` rule: every intended connection the policies deny, on the object that intends it. */
export function networkReachabilityProblems(objects: readonly K8sObject[]): Problem[] {
  const model = new NetworkModel(objects);
  if (!model.hasPolicies) return [];
  const problems: Problem[] = [];
  for (const i of deriveIntents(model, objects, {})) {
    const { from, to, verdict: v } = settle(model, i);
    if (v.allowed) continue;
    // A policy with a port out of range is the port-range rule's problem: one cause, one problem.
    const blocking = [v.egress, v.ingress].filter((side) => side.isolated && side.admittedBy.length === 0);
    if (blocking.some((side) => side.policies.some((p) => p.malformed))) continue;
    const self = i.obj === from.template?.obj ? from.ref : undefined;
    problems.push({
      obj: i.obj,
      rule: 'network-reachability',
      message: `${i.reason} (${destinationText(to, i.port, i.protocol)}), but ${blockers(v, from, to, i.port, i.protocol, self)}`,
    });
  }
  return problems;
}
