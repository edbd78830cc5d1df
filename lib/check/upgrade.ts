/**
 * Upgrade safety: what happens to the objects an earlier output created when the next output is applied
 * over them (`kubectl apply`, Argo CD sync). Kubernetes refuses updates to some fields (a Deployment's
 * selector, a Job's pod template, a PersistentVolumeClaim's spec, a Service's clusterIP), so a library
 * version that writes them differently for the same user code breaks `kubectl apply` for every existing
 * user; and an object that disappears from the output (a rename is a delete plus a create) is deleted by
 * Argo CD's prune, which for a PersistentVolumeClaim loses its data.
 *
 * `checkUpgrade(previous, next)` compares two outputs and returns one problem per changed immutable
 * field and per object that is gone. `immutableFields(objects)` keeps only what `checkUpgrade` compares,
 * so a project can commit that view of a released output as its baseline:
 * `checkUpgrade(immutableFields(a), b)` reports exactly what `checkUpgrade(a, b)` reports.
 *
 * Fields are compared as written, before the apiserver's defaulting: a field newly written with the
 * value Kubernetes would default it to is still reported. That is stricter than the apiserver and what
 * code review wants: the immutable parts of the output do not change at all.
 *
 * Each rule cites the Kubernetes validation that enforces it (kubernetes/kubernetes, paths below).
 * Kinds with no rule here are mutable apart from their identity: CronJob (ValidateCronJobUpdate in
 * pkg/apis/batch/validation/validation.go validates the new spec only, the jobTemplate applies to the
 * next Jobs), PodDisruptionBudget (mutable since 1.15: pkg/registry/policy/poddisruptionbudget/strategy.go
 * ValidateUpdate runs the create validation only), NetworkPolicy (ValidateNetworkPolicyUpdate in
 * pkg/apis/networking/validation/validation.go checks metadata and the new spec only), Ingress,
 * HorizontalPodAutoscaler, ServiceAccount, Namespace.
 */
import { quantityValue } from '../rules/quantity';
import { field, isPlainObject, keySegment, metaName, objectAt, objectRef, stringAt, type K8sObject } from './k8s-common';

/**
 * Why a change breaks an upgrade:
 * - `immutable`: the apiserver rejects the update, so `kubectl apply` and the Argo CD sync fail;
 * - `data-loss`: the object is gone from the output and deleting it deletes data (a PersistentVolumeClaim,
 *   a Namespace and everything in it);
 * - `removed`: the object is gone from the output: Argo CD's prune deletes it, a plain `kubectl apply`
 *   leaves it running unmanaged.
 */
export type UpgradeProblemReason = 'immutable' | 'data-loss' | 'removed';

/** One change between two outputs that breaks the upgrade of a cluster running the previous one. */
export interface UpgradeProblem {
  /** `Kind/namespace/name` of the object as the previous output wrote it (`-` for no namespace). */
  readonly object: string;
  /**
   * The field that changed: `spec.selector.matchLabels["app.kubernetes.io/name"]`,
   * `spec.template.spec.containers[0].image`; `metadata.name` when the object is gone, `apiVersion` when
   * it moved to another API group.
   */
  readonly field: string;
  /** The value in the previous output (undefined: not written). */
  readonly previous: unknown;
  /** The value in the next output (undefined: not written, or the object is gone). */
  readonly next: unknown;
  readonly reason: UpgradeProblemReason;
  /** Why it breaks, in a sentence. */
  readonly why: string;
  /** One line: `<object>: <field>: <previous> -> <next>: <why>`. */
  readonly message: string;
}

// ---------------------------------------------------------------------------
// Per-kind rules
// ---------------------------------------------------------------------------

interface Difference {
  readonly field: string;
  readonly previous: unknown;
  readonly next: unknown;
  readonly why: string;
}

/**
 * What is immutable about one kind: `view` keeps the fields `compare` reads (and nothing else, beyond
 * the identity every view keeps); `compare` gets the views of the previous and the next object.
 */
interface KindRule {
  readonly view: (obj: K8sObject) => Record<string, unknown>;
  readonly compare: (previous: K8sObject, next: K8sObject) => Difference[];
}

const APPLY_FAILS = 'field is immutable: the apiserver rejects the update, so kubectl apply and the Argo CD sync fail';

/**
 * Deployment, ReplicaSet, DaemonSet: `spec.selector` is immutable in apps/v1 (the pods a controller owns
 * cannot change under it). Deployment: pkg/registry/apps/deployment/strategy.go ValidateUpdate ("disallow
 * mutation of selector" for every group/version but extensions/v1beta1 and apps/v1beta1; newer releases
 * declare it for declarative validation, pinned by pkg/registry/apps/deployment/declarative_validation_test.go);
 * ReplicaSet and DaemonSet: pkg/registry/apps/{replicaset,daemonset}/strategy.go ValidateUpdate.
 */
const selectorRule: KindRule = {
  view: (obj) => ({ spec: pick(obj?.spec, ['selector']) }),
  compare: (prev, next) => differences(field(prev, 'spec', 'selector'), field(next, 'spec', 'selector'), 'spec.selector', APPLY_FAILS),
};

/**
 * StatefulSet: every spec field but replicas, ordinals, template, updateStrategy, revisionHistoryLimit,
 * persistentVolumeClaimRetentionPolicy and minReadySeconds is immutable (ValidateStatefulSetUpdate in
 * pkg/apis/apps/validation/validation.go: "updates to statefulset spec for fields other than ... are
 * forbidden"): selector, serviceName, volumeClaimTemplates, podManagementPolicy.
 */
const STATEFULSET_MUTABLE = [
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'revisionHistoryLimit',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
];
const statefulSetRule: KindRule = {
  view: (obj) => ({ spec: omit(obj?.spec, STATEFULSET_MUTABLE) }),
  compare: (prev, next) =>
    differences(prev.spec, next.spec, 'spec', `${APPLY_FAILS} (a StatefulSet may change only ${STATEFULSET_MUTABLE.join(', ')})`),
};

/**
 * Job: selector, the whole pod template, completions, completionMode, podFailurePolicy,
 * backoffLimitPerIndex, managedBy and successPolicy are immutable (ValidateJobSpecUpdate and
 * validatePodTemplateUpdate in pkg/apis/batch/validation/validation.go). Exceptions the apiserver makes:
 * the scheduling directives of a suspended Job that never started (AllowMutableSchedulingDirectives: not
 * a Job the output just applied), and completions of an Indexed Job changed together with parallelism
 * (validateCompletions: elastic Indexed Jobs, GA in 1.31).
 */
const JOB_IMMUTABLE = ['selector', 'template', 'completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy'];
const ARGO_SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';
const jobRule: KindRule = {
  view: (obj) => ({
    ...metadataAnnotations(obj, [ARGO_SYNC_OPTIONS]),
    spec: pick(obj?.spec, [...JOB_IMMUTABLE, 'completions', 'parallelism']),
  }),
  compare: (prev, next) => {
    const replaced = /\bReplace=true\b/.test(String(field(next, 'metadata', 'annotations', ARGO_SYNC_OPTIONS) ?? ''));
    const why = replaced
      ? `${APPLY_FAILS} (Argo CD's sync option Replace=true deletes and recreates the Job instead, so it runs again)`
      : APPLY_FAILS;
    const out = JOB_IMMUTABLE.flatMap((f) => differences(field(prev, 'spec', f), field(next, 'spec', f), `spec.${f}`, why));
    const completions = field(next, 'spec', 'completions');
    const elastic = field(next, 'spec', 'completionMode') === 'Indexed' && completions === field(next, 'spec', 'parallelism');
    if (!elastic) out.push(...differences(field(prev, 'spec', 'completions'), completions, 'spec.completions', why));
    return out;
  },
};

/**
 * PersistentVolumeClaim: the spec is immutable after creation except resources.requests (storage may
 * grow, never shrink) and volumeAttributesClassName; volumeName may be set once
 * (ValidatePersistentVolumeClaimUpdate in pkg/apis/core/validation/validation.go: "spec is immutable after
 * creation except resources.requests and volumeAttributesClassName for bound claims", "field can not be
 * less than previous value"). The beta storage-class annotation is immutable too. Growth is accepted
 * here, although the resize admission plugin allows it only when the claim's StorageClass has
 * allowVolumeExpansion (plugin/pkg/admission/storage/persistentvolume/resize): that depends on the
 * cluster, not on the output.
 */
const STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
const pvcRule: KindRule = {
  view: (obj) => ({ ...metadataAnnotations(obj, [STORAGE_CLASS_ANNOTATION]), spec: obj?.spec }),
  compare: (prev, next) => {
    const why = `${APPLY_FAILS} (a claim's spec may change only its storage request, upwards)`;
    const storage = (o: K8sObject) => field(o, 'spec', 'resources', 'requests', 'storage');
    const strip = (spec: unknown, keepVolumeName: boolean) => {
      const out = omit(spec, keepVolumeName ? ['volumeAttributesClassName'] : ['volumeAttributesClassName', 'volumeName']);
      const resources = out?.resources;
      if (out && isPlainObject(resources) && isPlainObject(resources.requests)) {
        out.resources = { ...resources, requests: omit(resources.requests, ['storage']) };
      }
      return out;
    };
    const prevHasVolumeName = field(prev, 'spec', 'volumeName') !== undefined;
    const out = differences(strip(prev.spec, true), strip(next.spec, prevHasVolumeName), 'spec', why);
    out.push(
      ...differences(
        field(prev, 'metadata', 'annotations', STORAGE_CLASS_ANNOTATION),
        field(next, 'metadata', 'annotations', STORAGE_CLASS_ANNOTATION),
        `metadata.annotations${keySegment(STORAGE_CLASS_ANNOTATION)}`,
        APPLY_FAILS,
      ),
    );
    const [was, now] = [storage(prev), storage(next)];
    const [wasBytes, nowBytes] = [quantityValue(was), quantityValue(now)];
    const comparable = wasBytes !== undefined && nowBytes !== undefined;
    if (comparable ? nowBytes < wasBytes : !deepEqual(was, now)) {
      out.push({
        field: 'spec.resources.requests.storage',
        previous: was,
        next: now,
        why:
          "a claim's storage request may only grow: the apiserver rejects a smaller one (field can not be less than previous value), " +
          'volumes do not shrink',
      });
    }
    return out;
  },
};

/**
 * Service: clusterIP and clusterIPs may not change once set, which also keeps a headless Service
 * headless and a Service with an address from becoming headless; the primary IP family stays; and
 * loadBalancerClass may not change while the Service stays a LoadBalancer (ValidateServiceUpdate,
 * validateUpgradeDowngradeClusterIPs, validateUpgradeDowngradeIPFamilies and validateLoadBalancerClassField
 * in pkg/apis/core/validation/validation.go: "may not change once set"). Leaving clusterIP out does not
 * help: the registry copies the allocated value over (patchAllocatedValues in
 * pkg/registry/core/service/storage/storage.go, strategy.go before 1.22), so the change never happens. Type changes are accepted:
 * dropTypeDependentFields (pkg/registry/core/service/strategy.go) clears what a type no longer needs, and
 * ExternalName Services have no clusterIP to keep.
 */
const serviceRule: KindRule = {
  view: (obj) => ({ spec: pick(obj?.spec, ['type', 'clusterIP', 'clusterIPs', 'ipFamilies', 'loadBalancerClass']) }),
  compare: (prev, next) => {
    // The views' spec is pick()'s: an object or absent.
    const [was, now] = [objectAt(prev, 'spec') ?? {}, objectAt(next, 'spec') ?? {}];
    if (was.type === 'ExternalName' || now.type === 'ExternalName') return [];
    const why = `${APPLY_FAILS} (may not change once set: a Service keeps the clusterIP, or headlessness, it was created with)`;
    const out = [
      ...differences(was.clusterIP, now.clusterIP, 'spec.clusterIP', why),
      ...differences(was.clusterIPs, now.clusterIPs, 'spec.clusterIPs', why),
    ];
    if (Array.isArray(was.ipFamilies) && Array.isArray(now.ipFamilies)) {
      out.push(
        ...differences(was.ipFamilies[0], now.ipFamilies[0], 'spec.ipFamilies[0]', `${APPLY_FAILS} (the primary IP family may not change once set)`),
      );
    }
    if (was.type === 'LoadBalancer' && now.type === 'LoadBalancer') {
      out.push(...differences(was.loadBalancerClass, now.loadBalancerClass, 'spec.loadBalancerClass', `${APPLY_FAILS} (may not change once set)`));
    }
    return out;
  },
};

/**
 * ConfigMap and Secret created with `immutable: true`: data, binaryData (Secret: data, stringData) and
 * the flag itself are frozen; a Secret's type is immutable always (ValidateConfigMapUpdate and
 * ValidateSecretUpdate in pkg/apis/core/validation/validation.go: "field is immutable when `immutable`
 * is set").
 */
function frozenDataRule(dataFields: readonly string[], immutableType: boolean): KindRule {
  return {
    view: (obj) => ({
      ...(immutableType ? pick(obj, ['type']) : {}),
      ...(obj?.immutable === true ? pick(obj, ['immutable', ...dataFields]) : pick(obj, ['immutable'])),
    }),
    compare: (prev, next) => {
      const out = immutableType ? differences(prev.type, next.type, 'type', APPLY_FAILS) : [];
      if (prev.immutable !== true) return out;
      const why =
        'field is immutable when `immutable` is set: the apiserver rejects the update; a new name (and a rollout of its readers) is the ' +
        'way to change it';
      for (const f of ['immutable', ...dataFields]) out.push(...differences(prev[f], next[f], f, why));
      return out;
    },
  };
}

/** Keyed by `group/Kind` (core group: empty). */
const RULES: ReadonlyMap<string, KindRule> = new Map([
  ['apps/Deployment', selectorRule],
  ['apps/ReplicaSet', selectorRule],
  ['apps/DaemonSet', selectorRule],
  ['apps/StatefulSet', statefulSetRule],
  ['batch/Job', jobRule],
  ['/PersistentVolumeClaim', pvcRule],
  ['/Service', serviceRule],
  ['/ConfigMap', frozenDataRule(['data', 'binaryData'], false)],
  ['/Secret', frozenDataRule(['data', 'stringData'], true)],
]);

// ---------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------

/** The API group of an apiVersion: `apps/v1` -> `apps`, `v1` -> `` (core). */
function groupOf(obj: K8sObject): string {
  const v = typeof obj?.apiVersion === 'string' ? obj.apiVersion : '';
  return v.includes('/') ? v.slice(0, v.indexOf('/')) : '';
}

const ruleOf = (obj: K8sObject): KindRule | undefined => RULES.get(`${groupOf(obj)}/${obj?.kind}`);

/**
 * What identifies an object to kubectl and Argo CD: API group, kind, namespace and name (the version
 * within a group is a representation, converted by the apiserver). Objects without a kind or a name
 * cannot be applied and have no identity: the output check reports them.
 */
function identityOf(obj: K8sObject): string | undefined {
  const name = metaName(obj);
  if (typeof obj?.kind !== 'string' || name === undefined) return undefined;
  const namespace = stringAt(obj, 'metadata', 'namespace') ?? '';
  return [groupOf(obj), obj.kind, namespace, name].join('\u0000');
}

function viewOf(obj: K8sObject): K8sObject {
  const metadata = pick(obj.metadata, ['name', 'namespace']);
  const identity = { apiVersion: obj.apiVersion, kind: obj.kind, metadata };
  const rule = ruleOf(obj);
  if (!rule) return identity;
  const { metadata: extraMetadata, ...rest } = rule.view(obj);
  return dropUndefined({ ...identity, ...rest, metadata: { ...metadata, ...(isPlainObject(extraMetadata) ? extraMetadata : {}) } });
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/**
 * Only what `checkUpgrade` compares of each object: apiVersion, kind, name, namespace and the fields
 * its kind's rules read (a Deployment's selector, a Job's template, a PersistentVolumeClaim's spec...).
 * Commit it as the baseline of a released output; objects without a kind or a name are left out.
 */
export function immutableFields(objects: readonly K8sObject[]): K8sObject[] {
  return objects.filter((o) => identityOf(o) !== undefined).map(viewOf);
}

/**
 * Every change from `previous` to `next` that breaks applying `next` over a cluster running `previous`:
 * a changed immutable field (one problem per differing field, reason `immutable`) and an object that is
 * gone (reason `data-loss` for a PersistentVolumeClaim or a Namespace, else `removed`). New objects are
 * fine. Problems come in the order of `previous`. Pure: no I/O, the inputs are not modified.
 */
export function checkUpgrade(previous: readonly K8sObject[], next: readonly K8sObject[]): UpgradeProblem[] {
  const nextById = new Map<string, K8sObject>();
  for (const o of next) {
    const id = identityOf(o);
    if (id !== undefined) nextById.set(id, o);
  }
  const previousIds = new Set(previous.map(identityOf));
  const added = next.filter((o) => identityOf(o) !== undefined && !previousIds.has(identityOf(o)));
  const problems: UpgradeProblem[] = [];
  for (const prev of previous) {
    const id = identityOf(prev);
    if (id === undefined) continue;
    const match = nextById.get(id);
    if (match === undefined) {
      problems.push(gone(prev, next, added));
      continue;
    }
    const rule = ruleOf(prev);
    if (!rule) continue;
    for (const d of rule.compare(viewOf(prev), viewOf(match))) problems.push(problem(prev, d, 'immutable'));
  }
  return problems;
}

function gone(prev: K8sObject, next: readonly K8sObject[], added: readonly K8sObject[]): UpgradeProblem {
  const sameNamespace = (o: K8sObject) => o?.kind === prev.kind && field(o, 'metadata', 'namespace') === field(prev, 'metadata', 'namespace');
  const sameName = (o: K8sObject) => sameNamespace(o) && field(o, 'metadata', 'name') === field(prev, 'metadata', 'name');
  const dataLoss = groupOf(prev) === '' && (prev.kind === 'PersistentVolumeClaim' || prev.kind === 'Namespace');
  const consequence =
    prev.kind === 'Namespace'
      ? 'deleting a Namespace deletes every object in it, its claims and their volumes included'
      : dataLoss
        ? 'deleting a claim deletes its volume when the StorageClass reclaims with Delete (the default for dynamic provisioning): the data is gone'
        : 'a plain kubectl apply leaves it running unmanaged';
  const moved = next.find((o) => sameName(o) && groupOf(o) !== groupOf(prev));
  if (moved) {
    return problem(
      prev,
      {
        field: 'apiVersion',
        previous: prev.apiVersion,
        next: moved.apiVersion,
        why: `another API group is another resource to kubectl and Argo CD: the old object is pruned and a new one created; ${consequence}`,
      },
      dataLoss ? 'data-loss' : 'removed',
    );
  }
  const candidates = added.filter((o) => sameNamespace(o) && groupOf(o) === groupOf(prev));
  const renamed =
    candidates.length === 1 ? ` (renamed to ${JSON.stringify(field(candidates[0], 'metadata', 'name'))}? a rename is a delete and a create)` : '';
  return problem(
    prev,
    {
      field: 'metadata.name',
      previous: field(prev, 'metadata', 'name'),
      next: undefined,
      why: `the object is gone from the output${renamed}: Argo CD's prune and kubectl apply --prune delete it; ${consequence}`,
    },
    dataLoss ? 'data-loss' : 'removed',
  );
}

function problem(prev: K8sObject, d: Difference, reason: UpgradeProblemReason): UpgradeProblem {
  const object = objectRef(prev);
  const value = d.field === 'metadata.name' && d.next === undefined ? 'removed' : `${show(d.previous)} -> ${show(d.next)}`;
  const message = `${object}: ${d.field}: ${value}: ${d.why}`;
  return { object, field: d.field, previous: d.previous, next: d.next, reason, why: d.why, message };
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/** Every leaf where `a` and `b` differ, with its path: maps by key (union, sorted), lists by index. */
function differences(a: unknown, b: unknown, path: string, why: string): Difference[] {
  if (deepEqual(a, b)) return [];
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences(a[k], b[k], `${path}${keySegment(k)}`, why));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => differences(a[i], b[i], `${path}[${i}]`, why)).flat();
  }
  return [{ field: path, previous: a, next: b, why }];
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a).filter((k) => a[k] !== undefined);
    return keys.length === Object.keys(b).filter((k) => b[k] !== undefined).length && keys.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

function pick(v: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (!isPlainObject(v)) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = v[k];
  return Object.keys(out).length > 0 ? out : undefined;
}

function omit(v: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (!isPlainObject(v)) return undefined;
  return Object.fromEntries(Object.entries(v).filter(([k, val]) => !keys.includes(k) && val !== undefined));
}

function metadataAnnotations(obj: K8sObject, keys: readonly string[]): { metadata?: { annotations: Record<string, unknown> } } {
  const annotations = pick(field(obj, 'metadata', 'annotations'), keys);
  return annotations ? { metadata: { annotations } } : {};
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function show(v: unknown): string {
  if (v === undefined) return '(unset)';
  const text = JSON.stringify(v);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
