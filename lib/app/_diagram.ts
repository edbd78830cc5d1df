/**
 * The review diagram of a stack: `diagrams/<stack>.md`, a Mermaid flowchart of its workloads,
 * Services, the connections its NetworkPolicies allow, the claims its workloads write and read,
 * and its exposures (LoadBalancer Services, Ingresses, HTTPRoutes).
 *
 * Built from the constructs at synth, never by parsing YAML: nodes are the stack's ApiObjects, read
 * as they render (by kind, so a canary track's second Deployment or an HTTPRoute appears without code
 * here), and
 * the network edges are the very records each NetworkPolicy renders (lib/policy/_network.ts
 * wiringOfPolicy), so the diagram and the policies cannot disagree. Deterministic: nodes and edges
 * sorted, ids derived from `Kind/namespace/name`.
 */
import { ApiObject, Chart } from 'cdk8s';
import { WiredPeer, wiringOfPolicy, WiringRecords } from '../policy/_network';
import { arrayAt, asArray, field, K8sObject, objectAt, workloadPodTemplates } from '../check/k8s-common';
import { MlStack } from '../stack/ml-stack';
import { DIAGRAMS_DIR } from '../stack/_output';

/** Kinds that own pods (the check's workload kinds). */
const POD_OWNERS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob', 'Pod']);
/** Kinds that route traffic from outside to a Service (Gateway API's too, whoever adds them). */
const ROUTES = new Set(['Ingress', 'HTTPRoute', 'GRPCRoute']);

/** A pod-owning object as the diagram needs it: the rest of its JSON is not kept (npm run bench). */
interface PodOwner {
  readonly ref: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly chart: Chart;
  /** Claim name -> where its containers (init containers too) mount it writable, and where read-only. */
  readonly claims: ReadonlyMap<string, ClaimUse>;
}

interface ClaimUse {
  readonly writes: string[];
  readonly reads: string[];
}

type Shape = 'workload' | 'service' | 'claim' | 'route' | 'external';
interface DiagramNode {
  readonly ref: string;
  readonly lines: string[];
  readonly shape: Shape;
  readonly inStack: boolean;
}
/** `net`: a connection the NetworkPolicies allow (solid, labelled with ports); `rel`: any other relation (dotted). */
interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly style: 'net' | 'rel';
}

/** The file a stack's diagram is written to. */
export function diagramFileOf(manifestFile: string): string {
  return `${DIAGRAMS_DIR}/${manifestFile.replace(/^manifests\//, '').replace(/\.k8s\.yaml$/, '')}.md`;
}

/** Whether a chart gets a diagram: MlStacks do (plain charts have no workloads of this library). */
export function hasDiagram(chart: Chart): boolean {
  return MlStack.isMlStack(chart);
}

/** An object of a stack as the diagram reads it: its JSON for the kinds drawn from it, else the object alone. */
interface SeenObject {
  readonly obj: ApiObject;
  readonly kind: string;
  readonly json?: K8sObject;
}

/** Kinds whose rendered JSON the diagram keeps (small objects; pod owners are kept slim, as PodOwner). */
const KEPT_JSON = new Set(['Service', 'PersistentVolumeClaim', ...ROUTES]);

/**
 * What one synth's diagrams are drawn from, gathered while the manifests are rendered: the JSON
 * each object renders to is read as it is made (`watch`), not made a second time (rendering every
 * Deployment and Service again for the diagram cost ~75% more synth time at 5,000 wired services,
 * reading them as rendered ~12%: `bench/_scale.ts cdk8s-ml-web 5000`).
 * Every stack is rendered before any diagram is: a peer may live in a later stack.
 */
export class DiagramSources {
  private readonly pods = new PodIndex();
  private readonly seen = new Map<Chart, SeenObject[]>();

  /** The chart's objects, for renderYaml, each recording what the diagram needs when it is rendered. */
  public watch(chart: Chart, objects: readonly ApiObject[]): ReadonlyArray<{ toJson(): unknown }> {
    if (!hasDiagram(chart)) return objects;
    const seen: SeenObject[] = [];
    this.seen.set(chart, seen);
    return objects.map((o) => {
      if (o.kind === 'NetworkPolicy') seen.push({ obj: o, kind: o.kind });
      if (!POD_OWNERS.has(o.kind) && !KEPT_JSON.has(o.kind)) return o;
      return {
        toJson: () => {
          const json = o.toJson();
          if (KEPT_JSON.has(o.kind)) seen.push({ obj: o, kind: o.kind, json });
          else this.addPodOwner(chart, json);
          return json;
        },
      };
    });
  }

  /** The charts watched, in render order. */
  public charts(): Chart[] {
    return [...this.seen.keys()];
  }

  /** `diagrams/<stack>.md` for one watched MlStack. */
  public render(chart: Chart): string {
    const objects = this.seen.get(chart) ?? [];
    const nodes = new Map<string, DiagramNode>();
    const edges = new Map<string, DiagramEdge>();
    const addNode = (n: DiagramNode) => {
      if (!nodes.has(n.ref)) nodes.set(n.ref, n);
    };
    const addEdge = (e: DiagramEdge) => edges.set(`${e.style}|${e.from}|${e.to}|${e.label}`, e);
    const own = this.pods.of(chart);
    for (const p of own) addNode({ ref: p.ref, lines: [`${p.kind} ${p.name}`], shape: 'workload', inStack: true });
    addClaims(objects, own, addNode, addEdge);
    addServices(objects, chart, this.pods, addNode, addEdge);
    addRoutes(objects, addNode, addEdge);
    addNetwork(objects, chart, this.pods, addNode, addEdge);
    return renderMarkdown(chart as MlStack, [...nodes.values()], [...edges.values()]);
  }

  private addPodOwner(chart: Chart, json: K8sObject): void {
    const [t] = workloadPodTemplates([json]);
    if (t) this.pods.add({ ref: t.ref, kind: t.kind, name: t.name, namespace: t.namespace, labels: t.labels, chart, claims: claimsOf(t.podSpec) });
  }
}

/**
 * The pod-owning objects of the app (peers may live in other stacks), indexed by chart, namespace
 * and label: a search of every pod for every Service and policy rule made synth quadratic
 * (10,000 wired services: npm run bench).
 */
class PodIndex {
  private readonly byLabel = new Map<string, PodOwner[]>();
  private readonly byNamespace = new Map<string, PodOwner[]>();
  private readonly byChart = new Map<Chart, PodOwner[]>();

  public add(p: PodOwner): void {
    push(this.byChart, p.chart, p);
    push(this.byNamespace, p.namespace, p);
    for (const [k, v] of Object.entries(p.labels)) push(this.byLabel, `${p.namespace}\n${k}=${v}`, p);
  }

  /** The pod owners of one chart, in render order. */
  public of(chart: Chart): PodOwner[] {
    return this.byChart.get(chart) ?? [];
  }

  /** The pods of `namespace` a label selector selects (an empty one: all of them), in render order. */
  public selected(namespace: string, selector: Readonly<Record<string, unknown>> | undefined): PodOwner[] {
    const entries = Object.entries(selector ?? {});
    if (entries.length === 0) return this.byNamespace.get(namespace) ?? [];
    const lists = entries.map(([k, v]) => this.byLabel.get(`${namespace}\n${k}=${v}`) ?? []);
    const shortest = lists.reduce((a, b) => (b.length < a.length ? b : a));
    return shortest.filter((p) => matches(selector!, p.labels));
  }
}

function push<K, T>(m: Map<K, T[]>, key: K, v: T): void {
  const list = m.get(key);
  if (list) list.push(v);
  else m.set(key, [v]);
}

function claimsOf(podSpec: unknown): Map<string, ClaimUse> {
  const volumes = new Map<string, { claim: string; readOnly: boolean }>();
  for (const v of arrayAt(podSpec, 'volumes')) {
    const claim = objectAt(v, 'persistentVolumeClaim');
    if (claim) volumes.set(String(field(v, 'name')), { claim: String(claim.claimName), readOnly: claim.readOnly === true });
  }
  const claims = new Map<string, ClaimUse>();
  for (const c of [...arrayAt(podSpec, 'initContainers'), ...arrayAt(podSpec, 'containers')]) {
    for (const m of arrayAt(c, 'volumeMounts')) {
      const v = volumes.get(String(field(m, 'name')));
      if (!v) continue;
      const entry = claims.get(v.claim) ?? { writes: [], reads: [] };
      const list = !v.readOnly && field(m, 'readOnly') !== true ? entry.writes : entry.reads;
      const mountPath = String(field(m, 'mountPath'));
      if (!list.includes(mountPath)) list.push(mountPath);
      claims.set(v.claim, entry);
    }
  }
  for (const use of claims.values()) {
    use.writes.sort();
    use.reads.sort();
  }
  return claims;
}

type AddNode = (n: DiagramNode) => void;
type AddEdge = (e: DiagramEdge) => void;

/** Claims the stack creates or its pods mount: who writes (training, batch output, a download cache) and who reads. */
function addClaims(objects: readonly SeenObject[], own: readonly PodOwner[], addNode: AddNode, addEdge: AddEdge): void {
  const created = new Set<string>();
  for (const o of objects.filter((x) => x.kind === 'PersistentVolumeClaim')) {
    const j = o.json;
    const name = field(j, 'metadata', 'name');
    const ref = `PersistentVolumeClaim/${field(j, 'metadata', 'namespace') ?? 'default'}/${name}`;
    const size = field(j, 'spec', 'resources', 'requests', 'storage');
    addNode({
      ref,
      lines: [`PersistentVolumeClaim ${name}`, [size, ...arrayAt(j, 'spec', 'accessModes')].filter(Boolean).join(' ')],
      shape: 'claim',
      inStack: true,
    });
    created.add(ref);
  }
  for (const p of own) {
    for (const [claim, use] of p.claims) {
      const ref = `PersistentVolumeClaim/${p.namespace}/${claim}`;
      if (!created.has(ref))
        addNode({ ref, lines: [`PersistentVolumeClaim ${claim}`, 'existing, not created by the stack'], shape: 'claim', inStack: true });
      // A download cache is both: an init container writes it, the server reads it.
      if (use.writes.length > 0) addEdge({ from: p.ref, to: ref, label: `writes ${use.writes.join(', ')}`, style: 'rel' });
      if (use.reads.length > 0) addEdge({ from: ref, to: p.ref, label: `reads ${use.reads.join(', ')}`, style: 'rel' });
    }
  }
}

/** Services with their ports, the pods each selects, and a LoadBalancer's clients. */
function addServices(objects: readonly SeenObject[], chart: Chart, pods: PodIndex, addNode: AddNode, addEdge: AddEdge): void {
  for (const o of objects.filter((x) => x.kind === 'Service')) {
    const j = o.json;
    const [ns, name] = [String(field(j, 'metadata', 'namespace') ?? 'default'), field(j, 'metadata', 'name')];
    const ref = `Service/${ns}/${name}`;
    const type = field(j, 'spec', 'type') ?? 'ClusterIP';
    const kind = field(j, 'spec', 'clusterIP') === 'None' ? 'headless' : type === 'ClusterIP' ? undefined : type;
    const ports = arrayAt(j, 'spec', 'ports').map((p) => {
      const [portName, port] = [field(p, 'name'), field(p, 'port')];
      return `${portName ? `${portName} ` : ''}${port} → ${field(p, 'targetPort') ?? port}`;
    });
    // The ratio a canary behind one Service gets (lib/serving/canary.ts TRAFFIC_SPLIT_ANNOTATION; stack must not import serving).
    const split = field(j, 'metadata', 'annotations', 'ml.cdk8s.io/traffic-split');
    addNode({
      ref,
      lines: [`Service ${name}${kind ? ` (${kind})` : ''}`, ...ports, ...(split ? [`split ${split}`] : [])],
      shape: 'service',
      inStack: true,
    });
    const selector = objectAt(j, 'spec', 'selector');
    if (selector && Object.keys(selector).length > 0) {
      for (const p of pods.selected(ns, selector)) if (p.chart === chart) addEdge({ from: ref, to: p.ref, label: 'selects', style: 'rel' });
    }
    if (type === 'LoadBalancer' || type === 'NodePort') {
      addNode(OUTSIDE_NODE);
      const at = arrayAt(j, 'spec', 'ports')
        .map((p) => String(type === 'NodePort' ? (field(p, 'nodePort') ?? 'node port') : field(p, 'port')))
        .join(', ');
      addEdge({ from: OUTSIDE_NODE.ref, to: ref, label: `${type} ${at}`, style: 'rel' });
    }
  }
}

/** Ingresses and Gateway API routes: what reaches which Service (with its weight, for a traffic split). */
function addRoutes(objects: readonly SeenObject[], addNode: AddNode, addEdge: AddEdge): void {
  for (const o of objects.filter((x) => ROUTES.has(x.kind))) {
    const j = o.json;
    const [ns, name] = [field(j, 'metadata', 'namespace') ?? 'default', field(j, 'metadata', 'name')];
    const ref = `${o.kind}/${ns}/${name}`;
    const hosts = [
      ...new Set([...arrayAt(j, 'spec', 'rules').map((r) => field(r, 'host')), ...asArray<string>(field(j, 'spec', 'hostnames'))].filter(Boolean)),
    ];
    addNode({ ref, lines: [`${o.kind} ${name}`, ...hosts.map(String)], shape: 'route', inStack: true });
    if (o.kind === 'Ingress') addIngressEdges(j, ref, ns, addEdge);
    else addGatewayRouteEdges(j, ref, ns, addNode, addEdge);
  }
}

function addIngressEdges(j: K8sObject | undefined, ref: string, ns: unknown, addEdge: AddEdge): void {
  for (const r of arrayAt(j, 'spec', 'rules')) {
    for (const p of arrayAt(r, 'http', 'paths')) {
      const svc = field(p, 'backend', 'service');
      const svcName = field(svc, 'name');
      if (!svcName) continue;
      addEdge({
        from: ref,
        to: `Service/${ns}/${svcName}`,
        label: `${field(p, 'path') ?? '/'} → ${field(svc, 'port', 'number') ?? field(svc, 'port', 'name') ?? ''}`.trim(),
        style: 'rel',
      });
    }
  }
}

function addGatewayRouteEdges(j: K8sObject | undefined, ref: string, ns: unknown, addNode: AddNode, addEdge: AddEdge): void {
  for (const parent of arrayAt(j, 'spec', 'parentRefs')) {
    const [kind, namespace, name] = [field(parent, 'kind') ?? 'Gateway', field(parent, 'namespace') ?? ns, field(parent, 'name')];
    const gw = `${kind}/${namespace}/${name}`;
    addNode({ ref: gw, lines: [`${kind} ${namespace}/${name}`, 'existing'], shape: 'external', inStack: false });
    const section = field(parent, 'sectionName');
    addEdge({ from: gw, to: ref, label: section ? `listener ${section}` : 'attaches', style: 'rel' });
  }
  for (const rule of arrayAt(j, 'spec', 'rules')) {
    for (const b of arrayAt(rule, 'backendRefs')) {
      const name = field(b, 'name');
      if (!name || (field(b, 'kind') ?? 'Service') !== 'Service') continue;
      const port = field(b, 'port');
      const label = `weight ${field(b, 'weight') ?? 1}${port ? ` → ${port}` : ''}`;
      addEdge({ from: ref, to: `Service/${field(b, 'namespace') ?? ns}/${name}`, label, style: 'rel' });
    }
  }
}

const OUTSIDE_NODE: DiagramNode = { ref: 'outside', lines: ['outside', 'any address'], shape: 'external', inStack: false };

/**
 * The NetworkPolicies' rules, each drawn between the pods it selects: ingress into the stack's
 * pods, and egress to pods of other stacks (drawn once: in-stack pairs by the server's ingress)
 * and to storage or APIs outside the cluster. DNS and the cloud metadata server are left out.
 */
function addNetwork(objects: readonly SeenObject[], chart: Chart, pods: PodIndex, addNode: AddNode, addEdge: AddEdge): void {
  const selected = (ns: string, selector: Record<string, string> | undefined) => pods.selected(ns, selector);
  for (const o of objects.filter((x) => x.kind === 'NetworkPolicy')) {
    const w: WiringRecords | undefined = wiringOfPolicy(o.obj);
    if (!w) continue;
    const targets = selected(w.namespace, w.podSelector).filter((p) => p.chart === chart);
    const label = (ports: readonly number[]) => (ports.length === 0 ? 'all ports' : [...ports].sort((a, b) => a - b).join(', '));
    for (const r of w.ingress) {
      const sources =
        r.why === 'anywhere'
          ? [OUTSIDE_NODE]
          : r.why === 'wired' && r.peer
            ? selected(r.peer.namespace, r.peer.podSelector).map((p) => podNode(p, chart))
            : r.peer
              ? [namespaceNode(r.peer)]
              : [];
      for (const s of sources) {
        addNode(s);
        for (const t of targets) addEdge({ from: s.ref, to: t.ref, label: label(r.ports), style: 'net' });
      }
    }
    for (const r of w.egress) {
      let dests: DiagramNode[];
      if (r.why === 'wired' && r.peer)
        dests = selected(r.peer.namespace, r.peer.podSelector)
          .filter((p) => p.chart !== chart)
          .map((p) => podNode(p, chart));
      else if (r.why === 'storage' || r.why === 'https') dests = [r.peer ? namespaceNode(r.peer) : OUTSIDE_NODE];
      else continue;
      for (const d of dests) {
        addNode(d);
        for (const t of targets) addEdge({ from: t.ref, to: d.ref, label: label(r.ports), style: 'net' });
      }
    }
  }
}

function podNode(p: PodOwner, chart: Chart): DiagramNode {
  const inStack = p.chart === chart;
  return {
    ref: p.ref,
    lines: inStack ? [`${p.kind} ${p.name}`] : [`${p.kind} ${p.namespace}/${p.name}`, `stack ${p.chart.node.path}`],
    shape: 'workload',
    inStack,
  };
}

function namespaceNode(peer: WiredPeer): DiagramNode {
  const sel = Object.entries(peer.podSelector ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);
  return {
    ref: `namespace/${peer.namespace}${sel.length > 0 ? `/${sel.join(',')}` : ''}`,
    lines: [sel.length > 0 ? `pods ${sel.join(', ')}` : 'any pod', `in namespace ${peer.namespace}`],
    shape: 'external',
    inStack: false,
  };
}

function matches(selector: Readonly<Record<string, unknown>>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

// ---------------------------------------------------------------------------
// Mermaid text
// ---------------------------------------------------------------------------

/**
 * A Mermaid id for a ref: letters, digits and '_' only ('-' becomes '_', '/' '__', anything else
 * `_<hex>_`), starting with a capital (a leading 'o' or 'x' reads as an edge end after `--`).
 */
function baseId(ref: string): string {
  const id = ref.replace(/[^A-Za-z0-9]/g, (c) => (c === '-' ? '_' : c === '/' ? '__' : `_${c.charCodeAt(0).toString(16)}_`));
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/** Text inside a quoted label: Mermaid's entity codes for what would end or break the label. */
function labelText(lines: readonly string[]): string {
  const esc = (s: string) => s.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
  return lines.map(esc).join('<br/>');
}

const SHAPES: Record<Shape, [string, string]> = {
  workload: ['[', ']'],
  service: ['([', '])'],
  claim: ['[(', ')]'],
  route: ['[/', '/]'],
  external: ['{{', '}}'],
};

function renderMarkdown(stack: MlStack, nodes: DiagramNode[], edges: DiagramEdge[]): string {
  const byRef = (a: { ref: string }, b: { ref: string }) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);
  nodes.sort(byRef);
  // Distinct refs that escape alike ('a--b' and 'a/b') get a suffix, in ref order: stable.
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const n of nodes) {
    let id = baseId(n.ref);
    for (let i = 2; used.has(id); i++) id = `${baseId(n.ref)}_${i}`;
    used.add(id);
    ids.set(n.ref, id);
  }
  const line = (n: DiagramNode) => `${ids.get(n.ref)}${SHAPES[n.shape][0]}"${labelText(n.lines)}"${SHAPES[n.shape][1]}`;
  const out = [
    `# Stack ${stack.node.path} (namespace ${stack.namespaceName})`,
    '',
    'Generated by cdk8s-ml at synth from the same constructs as the manifests; do not edit.',
    "Solid arrows: connections the NetworkPolicies allow, labelled with the pods' ports (DNS and the cloud",
    'metadata server left out). Dotted arrows: a Service selecting pods, a claim written or read, an',
    'exposure routing to a Service.',
    '',
    '```mermaid',
    'flowchart LR',
    // A stack without workloads (Argo CD Applications only) has no subgraph: Mermaid draws none for an empty one.
    ...(nodes.some((n) => n.inStack)
      ? [
          `  subgraph ${baseId(`namespace-${stack.namespaceName}`)}_stack ["${labelText([`namespace ${stack.namespaceName}`])}"]`,
          ...nodes.filter((n) => n.inStack).map((n) => `    ${line(n)}`),
          '  end',
        ]
      : ['  %% no workloads, Services, claims or exposures in this stack']),
    ...nodes.filter((n) => !n.inStack).map((n) => `  ${line(n)}`),
  ];
  const drawn = edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  drawn.sort((a, b) => (`${a.style + a.from}|${a.to}|${a.label}` < `${b.style + b.from}|${b.to}|${b.label}` ? -1 : 1));
  for (const e of drawn) out.push(`  ${ids.get(e.from)} ${e.style === 'net' ? '-->' : '-.->'}|"${labelText([e.label])}"| ${ids.get(e.to)}`);
  out.push('```', '');
  return out.join('\n');
}
