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

/** A manifest as parsed from YAML/JSON. Deliberately loose: the checks exist to find what is wrong with it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = any;

export type Labels = Record<string, string>;

/** One rule violation, before formatting. */
export interface Problem {
  readonly obj: K8sObject;
  readonly rule: string;
  readonly message: string;
}

/** `<Kind>/<namespace or ->/<name>`: the prefix of every problem string. */
export function objectRef(obj: K8sObject): string {
  const kind = typeof obj?.kind === 'string' ? obj.kind : '<no kind>';
  const ns = typeof obj?.metadata?.namespace === 'string' ? obj.metadata.namespace : '-';
  const name = typeof obj?.metadata?.name === 'string' ? obj.metadata.name : '<no name>';
  return `${kind}/${ns}/${name}`;
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
  const ns = obj?.metadata?.namespace;
  return typeof ns === 'string' && ns !== '' ? ns : 'default';
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

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

function dig(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
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
    name: String(obj?.metadata?.name ?? ''),
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

export function containersOf(t: WorkloadPodTemplate, kinds: readonly LocatedContainer['kind'][] = ['initContainers', 'containers']): LocatedContainer[] {
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
  const has = Object.prototype.hasOwnProperty.call(labels, key);
  switch (req?.operator) {
    case 'In': return has && values.includes(labels[key]);
    case 'NotIn': return !has || !values.includes(labels[key]);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    default: return false;
  }
}

/** The Service's equality selector, or undefined when it selects nothing by design (ExternalName, no selector). */
export function serviceSelector(svc: K8sObject): Labels | undefined {
  if (svc?.spec?.type === 'ExternalName') return undefined;
  const sel = asLabels(svc?.spec?.selector);
  return Object.keys(sel).length === 0 ? undefined : sel;
}

/** Workload pod templates (same namespace) whose labels a Service selects. */
export function podsSelectedBy(svc: K8sObject, templates: readonly WorkloadPodTemplate[]): WorkloadPodTemplate[] {
  const sel = serviceSelector(svc);
  if (!sel) return [];
  const ns = effectiveNamespace(svc);
  return templates.filter((t) => t.namespace === ns && labelsMatch(sel, t.labels));
}

/** Services among the objects that select the pods of the given workload. */
export function servicesSelecting(objects: readonly K8sObject[], workload: K8sObject): K8sObject[] {
  const t = podTemplateOf(workload);
  if (!t) return [];
  return objects.filter((o) => o?.kind === 'Service' && podsSelectedBy(o, [t]).length === 1);
}
