/**
 * `diffOutputs(base, head)`: what a change to an app does to its output, for review. Two outputs as
 * `MlApp.synthFiles()` returns them (or `readOutputDir` reads them), compared stack by stack: objects
 * added, removed and changed; workloads' images, scale and resources with the stack's totals; network
 * connections and ways in from outside; hazards; the stack's diagram before and after.
 *
 * Large outputs: a manifest is cut into documents as text and only documents whose text changed are
 * parsed and compared; the workloads of a changed stack are parsed once (for its totals), and the
 * network model runs only when a changed object can change it (a NetworkPolicy, a Namespace, a
 * workload's labels or ports).
 */
import { asFileMap, type OutputFiles } from '../check/files';
import { objectRef, type K8sObject } from '../check/k8s-common';
import { DocumentCache, kindOfText, splitDocuments, stackOfFile, textsOnlyIn } from './_documents';
import { fieldChanges, identityOf, type FieldChange } from './_fields';
import { findHazards, type Hazard } from './hazards';
import { connectionChanges, exposureChanges, networkMayChange, type ConnectionChange } from './network';
import { summarizeWorkloads, totalsOf, workloadChanges, WORKLOAD_DIFF_KINDS, type ScaleTotals, type WorkloadChange } from './workloads';

export interface ObjectChange {
  /** `Kind/namespace/name`. */
  readonly ref: string;
  readonly fields: readonly FieldChange[];
}

export interface StackNetworkDiff {
  /** Connections the NetworkPolicies allow in the head and not in the base. */
  readonly allowed: readonly ConnectionChange[];
  /** Connections allowed in the base and not in the head. */
  readonly denied: readonly ConnectionChange[];
  /** New ways in from outside (LoadBalancer/NodePort Services, Ingress hosts, HTTPRoute hostnames). */
  readonly exposed: readonly string[];
  readonly unexposed: readonly string[];
}

export interface StackDiff {
  readonly stack: string;
  /** `added`/`removed`: the stack's manifest file is new/gone. */
  readonly status: 'added' | 'removed' | 'changed';
  readonly objects: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly ObjectChange[] };
  readonly workloads: readonly WorkloadChange[];
  /** What the stack's workloads request at minimum and maximum scale, when a workload or autoscaler changed. */
  readonly totals?: { readonly before: ScaleTotals; readonly after: ScaleTotals };
  readonly network: StackNetworkDiff;
  readonly hazards: readonly Hazard[];
  /** diagrams/<stack>.md of each side (undefined: none written). */
  readonly diagram?: { readonly file: string; readonly before?: string; readonly after?: string };
}

export interface OutputDiff {
  /** Stacks whose manifests (or reachability) changed, by name. */
  readonly stacks: readonly StackDiff[];
  /** Every stack's hazards together; empty = nothing a reviewer must stop at (`cdk8s-ml diff` exits 0). */
  readonly hazards: readonly Hazard[];
  /** Other files (images/, compose/) that differ. */
  readonly files: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[] };
}

interface StackWork {
  readonly stack: string;
  readonly status: StackDiff['status'];
  readonly beforeDocs: string[];
  readonly afterDocs: string[];
  readonly before: K8sObject[];
  readonly after: K8sObject[];
}

const SCALE_KINDS = new Set([...WORKLOAD_DIFF_KINDS, 'HorizontalPodAutoscaler']);

function manifestsByStack(files: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, text] of files) {
    const stack = stackOfFile(file);
    if (stack !== undefined) out.set(stack, text);
  }
  return out;
}

function objectDiff(before: readonly K8sObject[], after: readonly K8sObject[]): StackDiff['objects'] {
  const beforeById = new Map(before.map((o) => [identityOf(o) ?? objectRef(o), o]));
  const afterById = new Map(after.map((o) => [identityOf(o) ?? objectRef(o), o]));
  const changed: ObjectChange[] = [];
  for (const [id, a] of afterById) {
    const b = beforeById.get(id);
    if (b) changed.push({ ref: objectRef(a), fields: fieldChanges(b, a) });
  }
  return {
    added: [...afterById].filter(([id]) => !beforeById.has(id)).map(([, o]) => objectRef(o)),
    removed: [...beforeById].filter(([id]) => !afterById.has(id)).map(([, o]) => objectRef(o)),
    changed: changed.filter((c) => c.fields.length > 0),
  };
}

/** Workload changes and totals, when a workload or an autoscaler is among the changed objects. */
function scaleDiff(w: StackWork, cache: DocumentCache): Pick<StackDiff, 'workloads' | 'totals'> {
  if (![...w.before, ...w.after].some((o) => typeof o?.kind === 'string' && SCALE_KINDS.has(o.kind))) return { workloads: [] };
  const relevant = (docs: readonly string[]) =>
    docs.filter((d) => {
      const kind = kindOfText(d);
      return kind === undefined || SCALE_KINDS.has(kind);
    });
  const [b, a] = [summarizeWorkloads(cache.forScale(relevant(w.beforeDocs))), summarizeWorkloads(cache.forScale(relevant(w.afterDocs)))];
  return { workloads: workloadChanges(b, a), totals: { before: totalsOf(b.values()), after: totalsOf(a.values()) } };
}

/** The stacks whose manifest text differs, their changed documents parsed. */
function changedStacks(base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>, cache: DocumentCache): StackWork[] {
  const [b, h] = [manifestsByStack(base), manifestsByStack(head)];
  const names = [...new Set([...b.keys(), ...h.keys()])].sort();
  return names
    .filter((s) => b.get(s) !== h.get(s))
    .map((stack) => {
      const [beforeDocs, afterDocs] = [splitDocuments(b.get(stack) ?? ''), splitDocuments(h.get(stack) ?? '')];
      return {
        stack,
        status: !b.has(stack) ? 'added' : !h.has(stack) ? 'removed' : 'changed',
        beforeDocs,
        afterDocs,
        before: cache.all(textsOnlyIn(beforeDocs, afterDocs)),
        after: cache.all(textsOnlyIn(afterDocs, beforeDocs)),
      };
    });
}

/**
 * Connections allowed on one side only, by the stack of their destination (reachability may cross
 * stacks: a policy in one stack admits pods of another). Empty when no changed object can change it.
 */
function networkByStack(work: readonly StackWork[], base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>, cache: DocumentCache) {
  const out = new Map<string, { allowed: ConnectionChange[]; denied: ConnectionChange[] }>();
  if (!work.some((w) => networkMayChange(w.before, w.after))) return out;
  const stackOf = new Map<string, string>();
  const objectsOf = (files: ReadonlyMap<string, string>) =>
    [...manifestsByStack(files)].flatMap(([stack, text]) => {
      const objs = cache.all(splitDocuments(text));
      for (const o of objs) stackOf.set(objectRef(o), stack);
      return objs;
    });
  const { added, removed } = connectionChanges(objectsOf(base), objectsOf(head));
  const entry = (c: ConnectionChange) => {
    const stack = stackOf.get(c.to) ?? '-';
    if (!out.has(stack)) out.set(stack, { allowed: [], denied: [] });
    return out.get(stack)!;
  };
  for (const c of added) entry(c).allowed.push(c);
  for (const c of removed) entry(c).denied.push(c);
  return out;
}

function otherFiles(base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): OutputDiff['files'] {
  const other = (f: string) => stackOfFile(f) === undefined && !f.startsWith('diagrams/');
  const names = [...new Set([...base.keys(), ...head.keys()])].filter(other).sort();
  return {
    added: names.filter((f) => !base.has(f)),
    removed: names.filter((f) => !head.has(f)),
    changed: names.filter((f) => base.has(f) && head.has(f) && base.get(f) !== head.get(f)),
  };
}

/** Compares two outputs (relative path -> content). Pure: no I/O; the inputs are not modified. */
export function diffOutputs(baseFiles: OutputFiles, headFiles: OutputFiles): OutputDiff {
  const [base, head] = [asFileMap(baseFiles), asFileMap(headFiles)];
  const cache = new DocumentCache();
  const work = changedStacks(base, head, cache);
  const network = networkByStack(work, base, head, cache);
  for (const stack of network.keys()) {
    if (!work.some((w) => w.stack === stack)) work.push({ stack, status: 'changed', beforeDocs: [], afterDocs: [], before: [], after: [] });
  }
  const stacks = work
    .sort((x, y) => (x.stack < y.stack ? -1 : 1))
    .map((w): StackDiff => {
      const exposures = exposureChanges(w.before, w.after);
      const diagramFile = `diagrams/${w.stack}.md`;
      const [db, dh] = [base.get(diagramFile), head.get(diagramFile)];
      return {
        stack: w.stack,
        status: w.status,
        objects: objectDiff(w.before, w.after),
        ...scaleDiff(w, cache),
        network: { ...(network.get(w.stack) ?? { allowed: [], denied: [] }), exposed: exposures.added, unexposed: exposures.removed },
        hazards: findHazards({ before: w.before, after: w.after }),
        diagram: db === undefined && dh === undefined ? undefined : { file: diagramFile, before: db, after: dh },
      };
    });
  // A file written differently (another tool's formatting) with the same objects is no change.
  const changed = stacks.filter(
    (s) =>
      s.status !== 'changed' ||
      s.objects.added.length + s.objects.removed.length + s.objects.changed.length > 0 ||
      s.network.allowed.length + s.network.denied.length > 0 ||
      s.hazards.length > 0,
  );
  return { stacks: changed, hazards: changed.flatMap((s) => s.hazards), files: otherFiles(base, head) };
}
