import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { checkInt, fail } from '../_errors';
import { checkObjectSchema } from '../check/k8s-schema';
import { checkKnownKeys, checkLabels, isPlainObject, keysOf } from '../_validate';
import { isLabelValue, isQualifiedName } from '../rules/dns';

const TOLERATION = Symbol.for('cdk8s-ml.Toleration');

/** The effect of a node taint a toleration matches (the same values as cdk8s-plus's TaintEffect). */
export enum TaintEffect {
  /** New pods that do not tolerate the taint are not scheduled on the node. */
  NO_SCHEDULE = 'NoSchedule',
  /** The scheduler avoids the node for pods that do not tolerate the taint. */
  PREFER_NO_SCHEDULE = 'PreferNoSchedule',
  /** Pods that do not tolerate the taint are not scheduled, and running ones are evicted. */
  NO_EXECUTE = 'NoExecute',
}

/** Which taints of a key a toleration matches. */
export interface TolerationOptions {
  /** Effect of the taint. @default - every effect of the key */
  readonly effect?: TaintEffect;
  /**
   * With effect NoExecute: seconds the pod stays bound to a node after the taint appears (Kubernetes
   * rejects it with any other effect).
   * @default - bound forever
   */
  readonly tolerationSeconds?: number;
}

/**
 * A node taint the pods tolerate, e.g. a dedicated node pool's `Toleration.equal('sku', 'gpu')`.
 * Validated against the rules of the API server (ValidateTolerations) when a workload uses it.
 */
export class Toleration {
  /** Tolerate taints with this key and exactly this value (operator Equal). */
  public static equal(key: string, value: string, options: TolerationOptions = {}): Toleration {
    return new Toleration({ key, operator: 'Equal', value, ...pickOptions(options) }, options);
  }
  /** Tolerate taints with this key, whatever their value (operator Exists). */
  public static exists(key: string, options: TolerationOptions = {}): Toleration {
    return new Toleration({ key, operator: 'Exists', ...pickOptions(options) }, options);
  }
  public static isToleration(x: unknown): x is Toleration {
    return typeof x === 'object' && x !== null && TOLERATION in x;
  }

  /** `options` as given, for the check of their keys when a workload uses the toleration (it then has a scope). */
  private constructor(
    private readonly spec: k8s.Toleration,
    private readonly options: unknown,
  ) {
    Object.defineProperty(this, TOLERATION, { value: true });
  }

  /** @internal */
  public _toKube(scope: IConstruct, prop: string): k8s.Toleration {
    const t = this.spec;
    checkKnownKeys(scope, `${prop}.options`, this.options, TOLERATION_OPTION_KEYS);
    if (!isQualifiedName(t.key)) {
      fail(
        scope,
        `${prop}.key`,
        'must be a taint key: an optional DNS subdomain prefix and / and a name of at most 63 of [A-Za-z0-9._-], alphanumeric at both ends',
        t.key,
        "use the key the nodes are tainted with, e.g. 'nvidia.com/gpu' or 'sku'",
      );
    }
    if (t.operator === 'Equal' && !isLabelValue(t.value)) {
      fail(
        scope,
        `${prop}.value`,
        'must be a taint value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends',
        t.value,
        `use the taint's value, or Toleration.exists('${t.key}') to match any value`,
      );
    }
    if (t.effect !== undefined && !Object.values(TaintEffect).includes(t.effect as TaintEffect)) {
      fail(
        scope,
        `${prop}.effect`,
        'must be NoSchedule, PreferNoSchedule or NoExecute',
        t.effect,
        'use TaintEffect.NO_SCHEDULE (or leave effect out to match every effect)',
      );
    }
    if (t.tolerationSeconds !== undefined) {
      checkInt(scope, `${prop}.tolerationSeconds`, t.tolerationSeconds, 0);
      if (t.effect !== TaintEffect.NO_EXECUTE) {
        fail(
          scope,
          `${prop}.tolerationSeconds`,
          "only applies to effect NoExecute (the API server rejects it with any other effect: \"effect must be 'NoExecute' when " +
            '`tolerationSeconds` is set")',
          t.tolerationSeconds,
          'add effect: TaintEffect.NO_EXECUTE, or remove tolerationSeconds',
        );
      }
    }
    return { ...t };
  }
}

/** Where the pods of a workload may run and how they rank against other pods. */
export interface SchedulingProps {
  /**
   * Taints the pods tolerate, e.g. of a dedicated node pool. Pods that request GPUs tolerate the
   * `nvidia.com/gpu` taint without it.
   * @default - none
   */
  readonly tolerations?: Toleration[];
  /**
   * Node affinity and pod (anti-)affinity, as Kubernetes writes them; passed through unchanged.
   * @default - none (replicas of a server are spread across nodes by a topology spread constraint)
   */
  readonly affinity?: k8s.Affinity;
  /**
   * Name of a PriorityClass of the cluster (e.g. to let serving preempt batch work).
   * @default - the cluster's default priority (its globalDefault PriorityClass, else 0)
   */
  readonly priorityClassName?: string;
}

export const SCHEDULING_KEYS = keysOf<SchedulingProps>()(['tolerations', 'affinity', 'priorityClassName']);
const TOLERATION_OPTION_KEYS = keysOf<TolerationOptions>()(['effect', 'tolerationSeconds']);

/**
 * The key GPU nodes are tainted with. GKE taints them `nvidia.com/gpu` NoSchedule when the cluster
 * also has CPU pools (cloud.google.com/kubernetes-engine/docs/how-to/gpus), and NVIDIA's device
 * plugin, which GPU nodes run, tolerates that key for the same reason
 * (NVIDIA/k8s-device-plugin deployments/static/nvidia-device-plugin.yml). MIG slices are resources
 * named `nvidia.com/mig-<profile>` (the device plugin's "mixed" strategy, since v0.7.0) on those same
 * nodes, so every `nvidia.com/*` resource tolerates this key, not a key named after the resource.
 */
export const GPU_TAINT_KEY = 'nvidia.com/gpu';

/** The toleration a pod requesting `resource` needs, keyed on the GPU taint for NVIDIA resources. */
export function gpuToleration(resource: string): k8s.Toleration {
  return { key: resource.startsWith('nvidia.com/') ? GPU_TAINT_KEY : resource, operator: 'Exists', effect: TaintEffect.NO_SCHEDULE };
}

/** The pod's tolerations: the library's first, then the user's, each distinct one once. */
export function renderTolerations(scope: IConstruct, library: k8s.Toleration[], user: Toleration[] | undefined): k8s.Toleration[] {
  if (user !== undefined && !Array.isArray(user))
    fail(scope, 'tolerations', 'must be a list of Toleration', user, "use [Toleration.equal('sku', 'gpu')]");
  const rendered = (user ?? []).map((t, i) => {
    if (!Toleration.isToleration(t))
      fail(
        scope,
        `tolerations[${i}]`,
        'must be made with Toleration.equal() or Toleration.exists()',
        t,
        "use Toleration.equal('sku', 'gpu', { effect: TaintEffect.NO_SCHEDULE })",
      );
    return t._toKube(scope, `tolerations[${i}]`);
  });
  const out: k8s.Toleration[] = [];
  for (const t of [...library, ...rendered]) {
    if (!out.some((o) => sameToleration(o, t))) out.push(t);
  }
  return out;
}

/** The user's scheduling props: tolerations, affinity and priorityClassName, before anything is built. */
export function checkScheduling(scope: IConstruct, p: SchedulingProps): void {
  renderTolerations(scope, [], p.tolerations);
  checkAffinity(scope, p.affinity);
  checkPriorityClassName(scope, p.priorityClassName);
}

/** priorityClassName must be a DNS-1123 subdomain (ValidatePodSpec: ValidatePriorityClassName). */
export function checkPriorityClassName(scope: IConstruct, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || name.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) {
    fail(
      scope,
      'priorityClassName',
      "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', alphanumeric at both ends, at most 253 characters)",
      name,
      "use the name of a PriorityClass of the cluster, e.g. 'high-priority'",
    );
  }
  return name;
}

function sameToleration(a: k8s.Toleration, b: k8s.Toleration): boolean {
  return (
    a.key === b.key &&
    (a.operator ?? 'Equal') === (b.operator ?? 'Equal') &&
    (a.value ?? '') === (b.value ?? '') &&
    a.effect === b.effect &&
    a.tolerationSeconds === b.tolerationSeconds
  );
}

/** Only the options a toleration has, so an unknown key of a JavaScript caller never reaches the output. */
function pickOptions(o: unknown): TolerationOptions {
  const x = (typeof o === 'object' && o !== null ? o : {}) as TolerationOptions;
  return {
    ...(x.effect !== undefined ? { effect: x.effect } : {}),
    ...(x.tolerationSeconds !== undefined ? { tolerationSeconds: x.tolerationSeconds } : {}),
  };
}

/**
 * Affinity is passed through as Kubernetes writes it, so it is checked as the output check checks
 * a pod (lib/check: the v1 schema and its field table, so a typo'd field is not dropped silently),
 * and as plain data: a class instance (a value of this library, say) is never an Affinity.
 */
export function checkAffinity(scope: IConstruct, affinity: unknown): k8s.Affinity | undefined {
  if (affinity === undefined) return undefined;
  if (!isPlainObject(affinity) || !isJsonData(affinity)) {
    fail(
      scope,
      'affinity',
      'must be a Kubernetes v1 Affinity, written as plain data',
      affinity,
      'write it as the PodSpec affinity field is written (nodeAffinity, podAffinity, podAntiAffinity)',
    );
  }
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'affinity' }, spec: { containers: [{ name: 'c', image: 'c:1' }], affinity } };
  const problem = checkObjectSchema(pod).find((p) => /affinity/.test(p.message));
  if (problem) {
    fail(
      scope,
      'affinity',
      `is not a Kubernetes v1 Affinity (${problem.message.replace(/^spec\.affinity\.?/, '')})`,
      affinity,
      'write it as the PodSpec affinity field is written (nodeAffinity, podAffinity, podAntiAffinity)',
    );
  }
  checkSelectorKeys(scope, 'affinity', affinity);
  checkAffinityTermsSelect(scope, affinity);
  return affinity as k8s.Affinity;
}

/**
 * Every pod (anti-)affinity term has a labelSelector: without one it matches no pod, so the term does
 * nothing. The API server accepts it with a warning ("a null labelSelector results in matching no pod",
 * pkg/api/pod/warnings.go), which a pull request never shows; seen from the property tests' cases.
 */
function checkAffinityTermsSelect(scope: IConstruct, affinity: Record<string, unknown>): void {
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const a = affinity[kind];
    if (!isPlainObject(a)) continue;
    const terms: Array<[string, unknown]> = [
      ...(Array.isArray(a.requiredDuringSchedulingIgnoredDuringExecution) ? a.requiredDuringSchedulingIgnoredDuringExecution : []).map(
        (t, i): [string, unknown] => [`requiredDuringSchedulingIgnoredDuringExecution[${i}]`, t],
      ),
      ...(Array.isArray(a.preferredDuringSchedulingIgnoredDuringExecution) ? a.preferredDuringSchedulingIgnoredDuringExecution : []).map(
        (t, i): [string, unknown] => [
          `preferredDuringSchedulingIgnoredDuringExecution[${i}].podAffinityTerm`,
          isPlainObject(t) ? t.podAffinityTerm : undefined,
        ],
      ),
    ];
    for (const [at, term] of terms) {
      if (isPlainObject(term) && (term.labelSelector === undefined || term.labelSelector === null)) {
        fail(
          scope,
          `affinity.${kind}.${at}.labelSelector`,
          'is required: a term without a labelSelector matches no pod, so it does nothing (the API server warns)',
          term.labelSelector,
          "select the pods the term is about, e.g. labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' } }",
        );
      }
    }
  }
}

/**
 * Label keys inside an affinity, which the schema types only as strings: matchLabels (keys and
 * values), the key of every matchExpressions requirement, and topologyKey (ValidateLabelSelector,
 * ValidateNodeSelectorRequirement and validateTopologyKey: qualified names).
 */
function checkSelectorKeys(scope: IConstruct, at: string, v: unknown): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkSelectorKeys(scope, `${at}[${i}]`, x));
    return;
  }
  if (!isPlainObject(v)) return;
  for (const [k, x] of Object.entries(v)) {
    const prop = `${at}.${k}`;
    if (k === 'matchLabels') checkLabels(scope, prop, x);
    else if (k === 'topologyKey' && !isQualifiedName(x))
      fail(scope, prop, 'must be a label key (a qualified name)', x, "use e.g. 'kubernetes.io/hostname' or 'topology.kubernetes.io/zone'");
    else if (k === 'matchExpressions' && Array.isArray(x)) {
      x.forEach((r, i) => {
        if (isPlainObject(r) && !isQualifiedName(r.key))
          fail(scope, `${prop}[${i}].key`, 'must be a label key (a qualified name)', r.key, "use e.g. 'cloud.google.com/gke-nodepool'");
      });
    } else checkSelectorKeys(scope, prop, x);
  }
}

/** Strings, finite numbers, booleans, and lists and objects of them: what JSON and YAML hold. */
function isJsonData(v: unknown, depth = 0): boolean {
  if (depth > 32) return false;
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isJsonData(x, depth + 1));
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  // A key every object has ('constructor', '__proto__') is no Kubernetes field, and cdk8s's serializer breaks on it or drops it.
  return (
    (proto === Object.prototype || proto === null) &&
    Object.keys(v).every((k) => !(k in Object.prototype)) &&
    Object.values(v).every((x) => isJsonData(x, depth + 1))
  );
}
