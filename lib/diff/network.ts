/**
 * Network changes between two outputs: connections the NetworkPolicies newly allow or no longer allow
 * (the reachability model of lib/check/network.ts), and ways in from outside the cluster.
 */
import { allowedIngress, type AdmittedConnection } from '../check/network';
import { asArray, objectRef, podTemplateOf, type K8sObject, field, arrayAt } from '../check/k8s-common';
import { textsOnlyIn } from './_documents';

export interface ConnectionChange {
  /** `Kind/ns/name`, `probe:<namespace>`, `outside`, or `any pod` when the destination is not isolated for ingress. */
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: string;
  /** `ns/name` of the NetworkPolicies that admit it (on the side where it is allowed). */
  readonly admittedBy: readonly string[];
}

export const ANY_POD = 'any pod';

/**
 * A pod selected by no ingress policy accepts every source (kubernetes.io/docs/concepts/services-networking/
 * network-policies "isolated for ingress"): one line `any pod -> X` says so, not one per workload.
 */
function connectionKey(c: AdmittedConnection): { key: string; change: ConnectionChange } {
  const from = c.admittedBy.length === 0 ? ANY_POD : c.from;
  return { key: `${from}|${c.to}|${c.port}|${c.protocol}`, change: { from, to: c.to, port: c.port, protocol: c.protocol, admittedBy: c.admittedBy } };
}

function connections(objects: readonly K8sObject[]): Map<string, ConnectionChange> {
  const out = new Map<string, ConnectionChange>();
  for (const c of allowedIngress(objects)) {
    const { key, change } = connectionKey(c);
    if (!out.has(key)) out.set(key, change);
  }
  return out;
}

/**
 * The model stands for "a pod in namespace X" with a probe endpoint per namespace it knows: a change
 * that opens or closes a port to every namespace shows as one line, `probe:{a,b,c}`, not one each.
 */
function collapseProbes(list: ConnectionChange[]): ConnectionChange[] {
  const groups = new Map<string, ConnectionChange[]>();
  for (const c of list) {
    if (!c.from.startsWith('probe:')) continue;
    const key = `${c.to}|${c.port}|${c.protocol}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const out: ConnectionChange[] = [];
  const done = new Set<string>();
  for (const c of list) {
    const key = `${c.to}|${c.port}|${c.protocol}`;
    const group = c.from.startsWith('probe:') ? groups.get(key)! : undefined;
    if (!group || group.length <= 2) out.push(c);
    else if (!done.has(key)) {
      done.add(key);
      const namespaces = group.map((g) => g.from.slice('probe:'.length)).sort();
      out.push({ ...c, from: `probe:{${namespaces.join(',')}}`, admittedBy: [...new Set(group.flatMap((g) => g.admittedBy))] });
    }
  }
  return out;
}

/** Connections allowed in `after` and not in `before` (added), and the other way round (removed). */
export function connectionChanges(
  before: readonly K8sObject[],
  after: readonly K8sObject[],
): { added: ConnectionChange[]; removed: ConnectionChange[] } {
  const [b, a] = [connections(before), connections(after)];
  return {
    added: collapseProbes([...a].filter(([k]) => !b.has(k)).map(([, c]) => c)),
    removed: collapseProbes([...b].filter(([k]) => !a.has(k)).map(([, c]) => c)),
  };
}

/** What decides reachability about an object: policies and namespaces whole, a workload's namespace, pod labels and ports. */
function networkView(o: K8sObject): string | undefined {
  if (o?.kind === 'NetworkPolicy' || o?.kind === 'Namespace') return JSON.stringify(o);
  const t = podTemplateOf(o);
  if (!t) return undefined;
  const ports = asArray<unknown>(t.podSpec.containers).map((c) => field(c, 'ports') ?? []);
  return JSON.stringify([t.ref, t.labels, ports]);
}

/** Whether the changed objects can change what the policies allow; when not, nothing else is computed. */
export function networkMayChange(before: readonly K8sObject[], after: readonly K8sObject[]): boolean {
  const views = (objs: readonly K8sObject[]) => objs.map(networkView).filter((v): v is string => v !== undefined);
  const [b, a] = [views(before), views(after)];
  return textsOnlyIn(b, a).length > 0 || textsOnlyIn(a, b).length > 0;
}

/**
 * Every way in from outside the cluster an object opens: a LoadBalancer or NodePort Service (its
 * ports), an Ingress (each host and path), an HTTPRoute (each hostname, through its parent Gateways).
 */
export function exposuresOf(o: K8sObject): string[] {
  const ref = objectRef(o);
  const type = field(o, 'spec', 'type');
  if (o?.kind === 'Service' && (type === 'LoadBalancer' || type === 'NodePort')) {
    const ports = arrayAt(o, 'spec', 'ports').map((p) => {
      const [port, nodePort] = [field(p, 'port'), field(p, 'nodePort')];
      return type === 'NodePort' && nodePort ? `${port} (node port ${nodePort})` : String(port);
    });
    return [`${ref}: ${type} port ${ports.join(', ')}`];
  }
  if (o?.kind === 'Ingress') {
    const rules = arrayAt(o, 'spec', 'rules');
    const out = rules.flatMap((r) =>
      arrayAt(r, 'http', 'paths').map((p) => `${ref}: host ${field(r, 'host') ?? '*'} path ${field(p, 'path') ?? '/'}`),
    );
    if (field(o, 'spec', 'defaultBackend')) out.push(`${ref}: default backend (any host)`);
    return out.length > 0 ? out : [`${ref}: (no rules)`];
  }
  if (o?.kind === 'HTTPRoute') {
    const parents = arrayAt(o, 'spec', 'parentRefs')
      .map((p) => `${field(p, 'namespace') ?? field(o, 'metadata', 'namespace')}/${field(p, 'name')}`)
      .join(', ');
    const hosts = asArray<string>(field(o, 'spec', 'hostnames'));
    return (hosts.length > 0 ? hosts : ['*']).map((h) => `${ref}: hostname ${h} via Gateway ${parents}`);
  }
  return [];
}

export function exposureChanges(before: readonly K8sObject[], after: readonly K8sObject[]): { added: string[]; removed: string[] } {
  const [b, a] = [before.flatMap(exposuresOf), after.flatMap(exposuresOf)];
  return { added: textsOnlyIn(a, b), removed: textsOnlyIn(b, a) };
}
