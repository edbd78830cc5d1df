/**
 * Shared vocabulary of the Kubernetes manifest checks: object references,
 * problem formatting, workload -> pod template extraction and label selectors.
 *
 * Inputs are untyped (they come straight from synthesized YAML or from
 * `Chart.toJson()`), so every accessor here is defensive: a malformed object
 * must produce a `schema` problem, never a crash in another rule.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { isPlainObject } from '../_validate';

/**
 * A manifest as parsed from YAML/JSON. Every field is `unknown` until checked: the checks exist to find what is
 * wrong with it. Read it through the accessors below (`dig`, `stringAt`, `objectAt`, `arrayAt`, `metaName` ...).
 */
export interface K8sObject {
  /** `apps/v1`, `v1`...: a string in a well-formed manifest. */
  readonly apiVersion?: unknown;
  /** `Deployment`, `Service`...: a string in a well-formed manifest. */
  readonly kind?: unknown;
  /** name, namespace, labels, annotations: an object in a well-formed manifest. */
  readonly metadata?: unknown;
  /** spec, data, ...: whatever the document holds. */
  readonly [field: string]: unknown;
}

/**
 * A parsed YAML document that is not empty. Typed as a K8sObject whatever its shape: a document that is
 * not a mapping is kept for the checks to report, and the accessors read it safely.
 */
export function isDocument(v: unknown): v is K8sObject {
  return v !== null && v !== undefined;
}

export type Labels = Record<string, string>;

/** One rule violation, before formatting. */
export interface Problem {
  readonly obj: K8sObject;
  readonly rule: string;
  readonly message: string;
}

/** `<Kind>/<namespace or ->/<name>`: the prefix of every problem string. */
export function objectRef(obj: K8sObject): string {
  const kind = stringAt(obj, 'kind') ?? '<no kind>';
  return `${kind}/${stringAt(obj, 'metadata', 'namespace') ?? '-'}/${stringAt(obj, 'metadata', 'name') ?? '<no name>'}`;
}

export function formatProblem(p: Problem): string {
  return `${objectRef(p.obj)}: ${p.rule}: ${p.message}`;
}

/**
 * The namespace an object lands in. Objects without metadata.namespace are
 * applied to the kubectl context's namespace; "default" is the honest guess
 * and makes namespace-less objects match each other.
 */
export function effectiveNamespace(obj: K8sObject): string {
  const ns = field(obj, 'metadata', 'namespace');
  return typeof ns === 'string' && ns !== '' ? ns : 'default';
}

export { isPlainObject };

/** Only string-valued entries: a non-string label value is a schema problem reported elsewhere. */
export function asLabels(v: unknown): Labels {
  const out: Labels = {};
  if (!isPlainObject(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

export function asArray<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

export function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '{}' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/** JSON path segment for a map key: `.key` when it is an identifier, `["a/b"]` otherwise. */
export function keySegment(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

export function joinPath(base: string, key: string): string {
  const seg = keySegment(key);
  return base === '' && seg.startsWith('.') ? seg.slice(1) : base + seg;
}

// ---------------------------------------------------------------------------
// Workloads and their pod templates
// ---------------------------------------------------------------------------

/** A pod template found in a workload (or a bare Pod), with the JSON path of its pod spec. */
export interface WorkloadPodTemplate {
  readonly obj: K8sObject;
  readonly kind: string;
  readonly name: string;
  /** metadata.namespace, or "default" when absent (see effectiveNamespace). */
  readonly namespace: string;
  /** `Kind/ns/name` as used in problem strings. */
  readonly ref: string;
  /** JSON path of the pod spec inside obj, e.g. `spec.jobTemplate.spec.template.spec`. */
  readonly specPath: string;
  readonly podSpec: IPodSpec;
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** Where each workload kind keeps its pod template (path of the template, "" = the object is the pod). */
const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
  Pod: [],
};

export const WORKLOAD_KINDS: ReadonlySet<string> = new Set(Object.keys(POD_TEMPLATE_PATHS));

/** The value at a path of keys, or undefined where a step is not an object: a guarded `obj?.a?.b`. */
export function dig(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** `dig` with the path as arguments: `field(obj, 'spec', 'template')` for `obj?.spec?.template`. */
export function field(obj: unknown, ...path: string[]): unknown {
  return dig(obj, path);
}

/** The object at a path, or undefined where it is missing or not an object. */
export function objectAt(obj: unknown, ...path: string[]): Record<string, unknown> | undefined {
  const v = dig(obj, path);
  return isPlainObject(v) ? v : undefined;
}

/** The array at a path, or [] where it is missing or not an array. */
export function arrayAt(obj: unknown, ...path: string[]): unknown[] {
  return asArray<unknown>(dig(obj, path));
}

/** The string at a path, or undefined where it is missing or not a string. */
export function stringAt(obj: unknown, ...path: string[]): string | undefined {
  const v = dig(obj, path);
  return typeof v === 'string' ? v : undefined;
}

/** metadata.name when it is a string. */
export function metaName(obj: unknown): string | undefined {
  return stringAt(obj, 'metadata', 'name');
}

/** The pod template of one object, or undefined if it is not a workload (or has no usable template). */
export function podTemplateOf(obj: K8sObject): WorkloadPodTemplate | undefined {
  const kind = obj?.kind;
  if (typeof kind !== 'string' || !WORKLOAD_KINDS.has(kind)) return undefined;
  const templatePath = POD_TEMPLATE_PATHS[kind];
  const template = dig(obj, templatePath);
  if (!isPlainObject(template) || !isPlainObject(template.spec)) return undefined;
  const meta = isPlainObject(template.metadata) ? template.metadata : {};
  return {
    obj,
    kind,
    name: String(field(obj, 'metadata', 'name') ?? ''),
    namespace: effectiveNamespace(obj),
    ref: objectRef(obj),
    specPath: [...templatePath, 'spec'].join('.'),
    podSpec: template.spec as unknown as IPodSpec,
    labels: asLabels(meta.labels),
    annotations: asLabels(meta.annotations),
  };
}

/** Every pod template among the objects: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod. */
export function workloadPodTemplates(objects: readonly K8sObject[]): WorkloadPodTemplate[] {
  const out: WorkloadPodTemplate[] = [];
  for (const obj of objects) {
    const t = podTemplateOf(obj);
    if (t) out.push(t);
  }
  return out;
}

/** A container with where it sits, for messages like `container "web" (spec.template.spec.containers[0])`. */
export interface LocatedContainer {
  readonly container: IContainer;
  readonly path: string;
  readonly name: string;
  readonly kind: 'containers' | 'initContainers' | 'ephemeralContainers';
}

export function containersOf(
  t: WorkloadPodTemplate,
  kinds: readonly LocatedContainer['kind'][] = ['initContainers', 'containers'],
): LocatedContainer[] {
  const out: LocatedContainer[] = [];
  for (const kind of kinds) {
    asArray<IContainer>(t.podSpec[kind]).forEach((c, i) => {
      if (!isPlainObject(c)) return;
      out.push({ container: c, path: `${t.specPath}.${kind}[${i}]`, name: String(c.name ?? `#${i}`), kind });
    });
  }
  return out;
}

export function describeContainer(c: LocatedContainer): string {
  return `container "${c.name}" (${c.path})`;
}

// ---------------------------------------------------------------------------
// Selectors
// ---------------------------------------------------------------------------

/** Equality-based selector (Service spec.selector, matchLabels): every pair must be among the labels. */
export function labelsMatch(selector: Labels, labels: Labels): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

interface LabelSelectorRequirement {
  key?: unknown;
  operator?: unknown;
  values?: unknown;
}

/** metav1.LabelSelector semantics: matchLabels AND every matchExpressions requirement. */
export function labelSelectorMatches(selector: unknown, labels: Labels): boolean {
  if (!isPlainObject(selector)) return false;
  if (!labelsMatch(asLabels(selector.matchLabels), labels)) return false;
  return asArray<LabelSelectorRequirement>(selector.matchExpressions).every((req) => requirementMatches(req, labels));
}

function requirementMatches(req: LabelSelectorRequirement, labels: Labels): boolean {
  const key = String(req?.key ?? '');
  const values = asArray<string>(req?.values);
  const has = Object.hasOwn(labels, key);
  switch (req?.operator) {
    case 'In':
      return has && values.includes(labels[key]);
    case 'NotIn':
      return !has || !values.includes(labels[key]);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false;
  }
}

/** The Service's equality selector, or undefined when it selects nothing by design (ExternalName, no selector). */
export function serviceSelector(svc: K8sObject): Labels | undefined {
  if (field(svc, 'spec', 'type') === 'ExternalName') return undefined;
  const sel = asLabels(field(svc, 'spec', 'selector'));
  return Object.keys(sel).length === 0 ? undefined : sel;
}

/**
 * Workload pod templates (same namespace) whose labels a Service selects, in the order given. Pass a
 * `LabelIndex` of the templates (templateIndex) when asking for many Services.
 */
export function podsSelectedBy(svc: K8sObject, templates: readonly WorkloadPodTemplate[] | LabelIndex<WorkloadPodTemplate>): WorkloadPodTemplate[] {
  const sel = serviceSelector(svc);
  if (!sel) return [];
  const ns = effectiveNamespace(svc);
  if (templates instanceof LabelIndex)
    return templates
      .candidates(ns, sel)
      .map((i) => templates.items[i])
      .filter((t) => labelsMatch(sel, t.labels));
  return templates.filter((t) => t.namespace === ns && labelsMatch(sel, t.labels));
}

// ---------------------------------------------------------------------------
// Indexes: a check of 10,000 workloads must not compare every selector with every pod (npm run bench).
// Both narrow a search to candidates, in the order of the items; callers still test each exactly.
// ---------------------------------------------------------------------------

/** Keys of label pairs; a collision (a NUL in a label) only adds candidates, which callers test anyway. */
function pairKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

/** Items that carry labels (pod templates, network endpoints, namespaces), by namespace and label pair. */
export class LabelIndex<T> {
  private readonly byNamespace = new Map<string, { readonly all: number[]; readonly byPair: Map<string, number[]> }>();

  /** `namespaceOf` undefined: the item is in no namespace (an IP address) and never a candidate. */
  constructor(
    readonly items: readonly T[],
    namespaceOf: (item: T) => string | undefined,
    labelsOf: (item: T) => Labels,
  ) {
    items.forEach((item, i) => {
      const ns = namespaceOf(item);
      if (ns === undefined) return;
      let entry = this.byNamespace.get(ns);
      if (!entry) this.byNamespace.set(ns, (entry = { all: [], byPair: new Map() }));
      entry.all.push(i);
      for (const [k, v] of Object.entries(labelsOf(item))) {
        const key = pairKey(k, v);
        const list = entry.byPair.get(key);
        if (!list) entry.byPair.set(key, [i]);
        else if (list[list.length - 1] !== i) list.push(i);
      }
    });
  }

  /** Positions, ascending, of the items of namespace ns that may carry every pair of `pairs` (every item of ns for none). */
  candidates(ns: string, pairs: Labels): readonly number[] {
    const entry = this.byNamespace.get(ns);
    if (!entry) return [];
    let best: readonly number[] = entry.all;
    for (const [k, v] of Object.entries(pairs)) {
      const list = entry.byPair.get(pairKey(k, v));
      if (!list) return [];
      if (list.length < best.length) best = list;
    }
    return best;
  }

  /** The namespaces of the items, in the order first met. */
  namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }
}

/** Pod templates by namespace and label, for podsSelectedBy. */
export function templateIndex(templates: readonly WorkloadPodTemplate[]): LabelIndex<WorkloadPodTemplate> {
  return new LabelIndex(
    templates,
    (t) => t.namespace,
    (t) => t.labels,
  );
}

/**
 * Items that select pods by labels (NetworkPolicies, Services), found from the labels of a pod: each
 * is filed under one pair of its equality part (the rarest among the pods, by `pairCount`), those
 * without one (`{}`, only expressions) are candidates for every pod of their namespace. Items
 * whose selector is undefined select nothing and are left out.
 */
export class SelectorIndex<T> {
  private readonly byNamespace = new Map<string, { readonly any: number[]; readonly byPair: Map<string, number[]> }>();

  constructor(
    readonly items: readonly T[],
    namespaceOf: (item: T) => string,
    equalityOf: (item: T) => Labels | undefined,
    pairCount: (key: string, value: string) => number = () => 0,
  ) {
    items.forEach((item, i) => {
      const pairs = equalityOf(item);
      if (pairs === undefined) return;
      const ns = namespaceOf(item);
      let entry = this.byNamespace.get(ns);
      if (!entry) this.byNamespace.set(ns, (entry = { any: [], byPair: new Map() }));
      let best: string | undefined;
      let bestCount = Infinity;
      for (const [k, v] of Object.entries(pairs)) {
        const count = pairCount(k, v);
        if (count < bestCount) [best, bestCount] = [pairKey(k, v), count];
      }
      if (best === undefined) {
        entry.any.push(i);
        return;
      }
      const list = entry.byPair.get(best);
      if (list) list.push(i);
      else entry.byPair.set(best, [i]);
    });
  }

  /** Positions, ascending, of the items of namespace ns whose selector may select a pod with these labels. */
  candidates(ns: string, labels: Labels): number[] {
    const entry = this.byNamespace.get(ns);
    if (!entry) return [];
    const out = [...entry.any];
    for (const [k, v] of Object.entries(labels)) for (const i of entry.byPair.get(pairKey(k, v)) ?? []) out.push(i);
    return out.sort((a, b) => a - b).filter((x, j, all) => j === 0 || all[j - 1] !== x);
  }
}

/** How many of the given label sets carry each pair: SelectorIndex files a selector under its rarest pair. */
export function pairCounter(labelSets: Iterable<Labels>): (key: string, value: string) => number {
  const counts = new Map<string, number>();
  for (const labels of labelSets) for (const [k, v] of Object.entries(labels)) counts.set(pairKey(k, v), (counts.get(pairKey(k, v)) ?? 0) + 1);
  return (key, value) => counts.get(pairKey(key, value)) ?? 0;
}

/** Services among the objects that select the pods of the given workload. */
export function servicesSelecting(objects: readonly K8sObject[], workload: K8sObject): K8sObject[] {
  const t = podTemplateOf(workload);
  if (!t) return [];
  return objects.filter((o) => o?.kind === 'Service' && podsSelectedBy(o, [t]).length === 1);
}
