/**
 * What a reviewer must not miss in a diff of two outputs: one small rule object per hazard
 * (`{ id, summary, find }`, as lib/check/upgrade.ts lays out its RULES), each citing the rule of
 * Kubernetes or Argo CD that makes the change dangerous.
 */
import { arrayAt, field, objectRef, type K8sObject } from '../check/k8s-common';
import { checkUpgrade } from '../check/upgrade';
import { fieldChanges, identityOf, showValue } from './_fields';

export type HazardId = 'immutable' | 'data-loss' | 'removed' | 'job-rerun' | 'pod-security' | 'canary-weight';

export interface Hazard {
  readonly id: HazardId;
  /** `Kind/namespace/name` of the object. */
  readonly object: string;
  /** One line: what changes and why it matters. */
  readonly message: string;
}

/** The objects of one stack whose text differs between the outputs, each side parsed. */
export interface ChangedObjects {
  /** Objects only in the base (removed or changed). */
  readonly before: readonly K8sObject[];
  /** Objects only in the head (added or changed). */
  readonly after: readonly K8sObject[];
}

/** A hazard rule: `find` gets a stack's changed objects and the (before, after) pairs among them. */
export interface HazardRule {
  readonly id: HazardId | 'upgrade';
  readonly summary: string;
  readonly find: (changed: ChangedObjects, pairs: readonly [K8sObject, K8sObject][]) => Hazard[];
}

const ARGO_SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

/**
 * Argo CD's `Replace=true` sync option replaces the object (kubectl replace/create; with Force=true a
 * delete and a create) instead of applying it (argo-cd docs, user-guide/sync-options.md "Replace
 * Resource Instead Of Applying Changes"), so the immutable-field errors of an apply do not happen: a
 * Job with a changed pod template is created anew, and its pods run again.
 */
const replacedByArgo = (o: K8sObject): boolean => /\bReplace=true\b/.test(String(field(o, 'metadata', 'annotations', ARGO_SYNC_OPTIONS) ?? ''));
const isJob = (o: K8sObject): boolean => o?.kind === 'Job' && /^batch\//.test(String(o?.apiVersion));

const upgradeRule: HazardRule = {
  id: 'upgrade',
  summary: 'checkUpgrade (lib/check/upgrade.ts): an immutable field changed, or an object is gone (a claim or a namespace: its data)',
  find: ({ before, after }) => {
    // The changed objects alone give exactly checkUpgrade's answer: unchanged objects are equal on both sides.
    const rerun = new Set(after.filter((o) => isJob(o) && replacedByArgo(o)).map(identityOf));
    return checkUpgrade(before, after)
      .filter((p) => !(p.reason === 'immutable' && rerun.has(identityOf(before.find((o) => objectRef(o) === p.object)))))
      .map((p) => ({ id: p.reason, object: p.object, message: p.message }));
  },
};

const jobRerunRule: HazardRule = {
  id: 'job-rerun',
  summary: `a Job whose pod template changed and that carries ${ARGO_SYNC_OPTIONS} Replace=true: Argo CD re-creates it, its pods run again on merge`,
  find: (_, pairs) =>
    pairs
      .filter(([, a]) => isJob(a) && replacedByArgo(a))
      .flatMap(([b, a]) => {
        const fields = fieldChanges(field(b, 'spec', 'template'), field(a, 'spec', 'template'), 'spec.template');
        if (fields.length === 0) return [];
        const shown = fields
          .slice(0, 3)
          .map((f) => `${f.path}: ${showValue(f.before, 60)} -> ${showValue(f.after, 60)}`)
          .join('; ');
        const more = fields.length > 3 ? `; and ${fields.length - 3} more` : '';
        return [
          {
            id: 'job-rerun' as const,
            object: objectRef(a),
            message:
              `${objectRef(a)}: the pod template changed (${shown}${more}); with ${ARGO_SYNC_OPTIONS} Replace=true Argo CD ` +
              `deletes and re-creates the Job: it runs again on merge`,
          },
        ];
      }),
};

/**
 * Pod Security admission enforces the level named by the namespace label
 * `pod-security.kubernetes.io/enforce` (kubernetes.io/docs/concepts/security/pod-security-admission):
 * loosening it admits pods the old level rejected, tightening it rejects new pods the old level admitted.
 */
const PSS_LABEL = 'pod-security.kubernetes.io/enforce';
/** Loosest first; unknown: the label's value is read from the manifest unchecked. */
const PSS_LEVELS: readonly unknown[] = ['privileged', 'baseline', 'restricted'];
const pssRule: HazardRule = {
  id: 'pod-security',
  summary: `the Pod Security level a namespace enforces (label ${PSS_LABEL}) changed`,
  find: (_, pairs) =>
    pairs
      .filter(([b]) => b.kind === 'Namespace')
      .flatMap(([b, a]) => {
        // An unset label enforces "privileged" (the admission controller's default configuration).
        const [was, now] = [field(b, 'metadata', 'labels', PSS_LABEL) ?? 'privileged', field(a, 'metadata', 'labels', PSS_LABEL) ?? 'privileged'];
        if (was === now) return [];
        const way =
          PSS_LEVELS.indexOf(now) < PSS_LEVELS.indexOf(was)
            ? 'loosened: pods the old level rejected are admitted'
            : 'tightened: new pods the old level admitted are rejected';
        return [{ id: 'pod-security' as const, object: objectRef(a), message: `${objectRef(a)}: Pod Security enforce ${was} -> ${now}, ${way}` }];
      }),
};

/** `classifier-stable 90, classifier-canary 10` of each rule of an HTTPRoute. */
function routeWeights(route: K8sObject): string {
  // A backendRef without weight has weight 1 (Gateway API HTTPBackendRef, "weight ... defaults to 1").
  return arrayAt(route, 'spec', 'rules')
    .map((r) =>
      arrayAt(r, 'backendRefs')
        .map((ref) => `${field(ref, 'name')} ${field(ref, 'weight') ?? 1}`)
        .join(', '),
    )
    .join('; ');
}

/**
 * The share a canary gets (lib/serving/canary.ts): behind a Gateway API route, HTTPRoute backendRef
 * weights; behind one Service, the pod ratio, which the Service states in ml.cdk8s.io/traffic-split.
 */
const TRAFFIC_SPLIT = 'ml.cdk8s.io/traffic-split';
const canaryRule: HazardRule = {
  id: 'canary-weight',
  summary: 'the traffic a canary gets changed (HTTPRoute backendRef weights, or the pod split a Service states)',
  find: (changed, pairs) => {
    const out: Hazard[] = [];
    const idsBefore = new Set(changed.before.map(identityOf));
    const idsAfter = new Set(changed.after.map(identityOf));
    const sides: [K8sObject | undefined, K8sObject | undefined][] = [
      ...pairs,
      ...changed.before.filter((o) => !idsAfter.has(identityOf(o))).map((o): [K8sObject, undefined] => [o, undefined]),
      ...changed.after.filter((o) => !idsBefore.has(identityOf(o))).map((o): [undefined, K8sObject] => [undefined, o]),
    ];
    for (const [b, a] of sides) {
      const o = a ?? b;
      if (o === undefined) continue; // never: each entry has an object on one side at least
      if (o.kind === 'HTTPRoute') {
        const [was, now] = [b ? routeWeights(b) : '(no route)', a ? routeWeights(a) : '(no route)'];
        if (was !== now && /,/.test(`${was}${now}`))
          out.push({ id: 'canary-weight', object: objectRef(o), message: `${objectRef(o)}: backend weights ${was} -> ${now}` });
      } else if (o.kind === 'Service') {
        const [was, now] = [field(b, 'metadata', 'annotations', TRAFFIC_SPLIT), field(a, 'metadata', 'annotations', TRAFFIC_SPLIT)];
        if (was !== now)
          out.push({
            id: 'canary-weight',
            object: objectRef(o),
            message: `${objectRef(o)}: traffic split ${showValue(was, 200)} -> ${showValue(now, 200)}`,
          });
      }
    }
    return out;
  },
};

export const HAZARD_RULES: readonly HazardRule[] = [upgradeRule, jobRerunRule, pssRule, canaryRule];

/** The hazards of one stack's changed objects. */
export function findHazards(changed: ChangedObjects): Hazard[] {
  const beforeById = new Map(changed.before.map((o) => [identityOf(o), o]));
  const pairs = changed.after.flatMap((a): [K8sObject, K8sObject][] => {
    const b = beforeById.get(identityOf(a));
    return b ? [[b, a]] : [];
  });
  return HAZARD_RULES.flatMap((r) => r.find(changed, pairs));
}
