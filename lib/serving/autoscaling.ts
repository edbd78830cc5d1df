/**
 * Autoscaling on real load: an autoscaling/v2 HorizontalPodAutoscaler on CPU and memory, per-pod
 * custom metrics (vLLM's waiting requests, requests per second) and external metrics (a queue's
 * length), with a scaling behavior for servers that take minutes to load a model.
 *
 * What each metric source takes follows the API server (kubernetes/kubernetes
 * pkg/apis/autoscaling/validation/validation.go: validateResourceSource, validatePodsSource,
 * validateExternalSource, validateMetricTarget, validateScalingRules, validateScalingPolicy):
 * - Resource (cpu, memory): averageUtilization (percent of the request) or averageValue, not both;
 * - Pods: averageValue only (the average over the pods);
 * - External: value (the whole metric) or averageValue (the metric divided by the pod count), not both;
 * - targets positive; behavior: stabilizationWindowSeconds 0..3600, at least one policy, policy
 *   type Pods or Percent, value > 0, periodSeconds 1..1800, selectPolicy Max, Min or Disabled.
 * Object and ContainerResource metrics are not offered (yet): they have no factory here.
 */
import { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { checkInt, fail } from '../_errors';
import {
  checkArray,
  checkBrand,
  checkCpu,
  checkLabels,
  checkMemory,
  checkMetricName,
  checkMetricQuantity,
  checkObject,
  checkOptionalObject,
  firstUnknownKey,
  keysOf,
} from '../_validate';

const METRIC = Symbol.for('cdk8s-ml.Metric');

/** A quantity: a number (5, 0.5) or a quantity string ('5', '500m', '2k'). */
export type MetricQuantity = number | string;

/** Target of a cpu or memory metric: one of the two. */
export interface ResourceMetricTarget {
  /** Average use in percent of the pods' request (1..1000). @default - averageValue */
  readonly averageUtilization?: number;
  /** Average use per pod as a quantity: '500m' of cpu, '2Gi' of memory. @default - averageUtilization */
  readonly averageValue?: MetricQuantity;
}

/** A per-pod metric from the custom metrics API (custom.metrics.k8s.io). */
export interface PodsMetricOptions {
  /** Target average over the pods, e.g. '5' waiting requests per pod. */
  readonly averageValue: MetricQuantity;
  /** Labels of the metric series to use (the adapter's labels). @default - all series of the pods */
  readonly selector?: Record<string, string>;
}

/** A metric of something outside the cluster from the external metrics API (external.metrics.k8s.io). */
export interface ExternalMetricOptions {
  /** Labels that pick the series, e.g. `{ queue: 'jobs' }`. @default - all series of the metric */
  readonly selector?: Record<string, string>;
  /** Target per pod: replicas = ceil(metric / averageValue), e.g. '30' messages per pod. Give this or value. @default - value */
  readonly averageValue?: MetricQuantity;
  /** Target of the whole metric: replicas scale by metric / value. Give this or averageValue. @default - averageValue */
  readonly value?: MetricQuantity;
}

type MetricSpec =
  | { source: 'Resource'; name: unknown; target: unknown }
  | { source: 'Pods'; name: unknown; options: unknown }
  | { source: 'External'; name: unknown; options: unknown };

/**
 * One metric the autoscaler scales on; it keeps the replica count that the most demanding metric
 * needs. CPU and memory come from metrics-server; Pods and External metrics from an adapter that
 * serves the custom or external metrics API (prometheus-adapter, KEDA's metrics server).
 */
export class Metric {
  /** Average CPU use in percent of the request, e.g. `Metric.cpu(70)`. */
  public static cpu(averageUtilization: number): Metric {
    return new Metric({ source: 'Resource', name: 'cpu', target: { averageUtilization } });
  }
  /** Average memory use in percent of the request. */
  public static memory(averageUtilization: number): Metric {
    return new Metric({ source: 'Resource', name: 'memory', target: { averageUtilization } });
  }
  /** cpu or memory with either target: `Metric.resource('memory', { averageValue: '6Gi' })`. */
  public static resource(name: 'cpu' | 'memory', target: ResourceMetricTarget): Metric {
    return new Metric({ source: 'Resource', name, target });
  }
  /** A metric every pod reports, averaged: `Metric.pods('vllm:num_requests_waiting', { averageValue: 5 })`. */
  public static pods(name: string, options: PodsMetricOptions): Metric {
    return new Metric({ source: 'Pods', name, options });
  }
  /** A metric outside the pods: `Metric.external('sqs_messages_visible', { selector: { queue: 'jobs' }, averageValue: 30 })`. */
  public static external(name: string, options: ExternalMetricOptions): Metric {
    return new Metric({ source: 'External', name, options });
  }
  public static isMetric(x: unknown): x is Metric {
    return typeof x === 'object' && x !== null && METRIC in x;
  }
  private constructor(/** @internal */ public readonly _spec: MetricSpec) {
    Object.defineProperty(this, METRIC, { value: true });
  }
}

/** The keys of each options object (checkOnly): `tsc` fails when an interface gains one the list lacks. */
const RESOURCE_TARGET_KEYS = keysOf<ResourceMetricTarget>()(['averageUtilization', 'averageValue']);
const PODS_METRIC_KEYS = keysOf<PodsMetricOptions>()(['averageValue', 'selector']);
const EXTERNAL_METRIC_KEYS = keysOf<ExternalMetricOptions>()(['selector', 'averageValue', 'value']);
const POLICY_KEYS = keysOf<ScalingPolicy>()(['type', 'value', 'periodSeconds']);
const RULES_KEYS = keysOf<ScalingRules>()(['stabilizationWindowSeconds', 'policies', 'selectPolicy']);
const BEHAVIOR_KEYS = keysOf<AutoscalingBehavior>()(['scaleUp', 'scaleDown']);
const AUTOSCALING_KEYS = keysOf<AutoscalingOptions>()(['minReplicas', 'maxReplicas', 'cpuUtilization', 'memoryUtilization', 'metrics', 'behavior']);

/** One scaling policy: at most `value` pods (type Pods) or percent of the current pods (Percent) per `periodSeconds`. */
export interface ScalingPolicy {
  readonly type: 'Pods' | 'Percent';
  /** Pods or percent; > 0. */
  readonly value: number;
  /** Window the limit applies to, 1..1800 seconds. */
  readonly periodSeconds: number;
}

/** How fast one direction scales; fields left out take the default of that direction. */
export interface ScalingRules {
  /** Seconds of past recommendations considered: scale-down uses the highest of them (0..3600). */
  readonly stabilizationWindowSeconds?: number;
  /** Limits on the change per period (at least one). */
  readonly policies?: ScalingPolicy[];
  /** Which policy wins when several allow different changes: 'Max', 'Min', or 'Disabled' (never scale this way). */
  readonly selectPolicy?: 'Max' | 'Min' | 'Disabled';
}

/** Scaling behavior of the HPA (autoscaling/v2 `spec.behavior`). */
export interface AutoscalingBehavior {
  /**
   * @default - Kubernetes' scale-up (fast: no stabilisation, double or add 4 pods every 15 s,
   * whichever is more); each field given replaces Kubernetes' default of that field
   */
  readonly scaleUp?: ScalingRules;
  /**
   * @default - stabilizationWindowSeconds 600 and at most one pod a minute (a reloaded model costs
   * minutes, so a short dip must not remove capacity); each field given replaces that default
   */
  readonly scaleDown?: ScalingRules;
}

/** Horizontal Pod Autoscaler settings. */
export interface AutoscalingOptions {
  /** @default 1 */
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  /**
   * Target average CPU utilisation in percent of the request (same as `metrics: [Metric.cpu(n)]`).
   * @default 70 unless memoryUtilization or metrics is set
   */
  readonly cpuUtilization?: number;
  /** Target average memory utilisation in percent of the request. @default - none */
  readonly memoryUtilization?: number;
  /**
   * What to scale on, instead of cpuUtilization/memoryUtilization.
   * @default - cpuUtilization/memoryUtilization (CPU 70%)
   */
  readonly metrics?: Metric[];
  /** Scaling speed. @default - slow scale-down (600 s window, one pod a minute), Kubernetes' fast scale-up */
  readonly behavior?: AutoscalingBehavior;
}

/** The ML default of scale-down: a model server that took minutes to load is not given up for a short dip. */
const DEFAULT_SCALE_DOWN: Required<Omit<ScalingRules, 'selectPolicy'>> = {
  stabilizationWindowSeconds: 600,
  policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
};

/** The HPA spec but its target, checked. @internal */
export interface AutoscalerSpec {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly metrics: k8s.MetricSpecV2[];
  readonly behavior: k8s.HorizontalPodAutoscalerBehaviorV2;
}

const AS_EXAMPLE = "{ maxReplicas: 8, metrics: [Metric.pods('vllm:num_requests_waiting', { averageValue: 5 })] }";

/**
 * The autoscaling prop, checked whole (types included, for JavaScript callers) and rendered: the
 * metrics and behavior of the HPA. undefined when there is no autoscaling.
 * @internal
 */
export function checkAutoscaling(scope: IConstruct, v: unknown): AutoscalerSpec | undefined {
  const as = checkOptionalObject(scope, 'autoscaling', v, AS_EXAMPLE, AUTOSCALING_KEYS);
  if (!as) return undefined;
  if (as.maxReplicas === undefined)
    fail(
      scope,
      'autoscaling.maxReplicas',
      'is required with autoscaling (the HPA needs an upper bound)',
      undefined,
      'set autoscaling: { maxReplicas: 10 } (and minReplicas, default 1)',
    );
  checkInt(scope, 'autoscaling.minReplicas', as.minReplicas, 1);
  checkInt(scope, 'autoscaling.maxReplicas', as.maxReplicas, 1);
  const max = as.maxReplicas as number;
  const min = (as.minReplicas as number | undefined) ?? 1;
  if (min > max) fail(scope, 'autoscaling.minReplicas', `must not exceed maxReplicas (${max})`, min, 'lower minReplicas or raise maxReplicas');
  checkInt(scope, 'autoscaling.cpuUtilization', as.cpuUtilization, 1, 1000);
  checkInt(scope, 'autoscaling.memoryUtilization', as.memoryUtilization, 1, 1000);
  return { minReplicas: min, maxReplicas: max, metrics: renderMetrics(scope, as), behavior: renderBehavior(scope, as.behavior) };
}

/** The metrics list, or the CPU/memory shorthand (the output of the shorthand is as it always was). */
function renderMetrics(scope: IConstruct, as: Record<string, unknown>): k8s.MetricSpecV2[] {
  if (as.metrics === undefined) {
    const out: k8s.MetricSpecV2[] = [];
    const cpu = (as.cpuUtilization as number | undefined) ?? (as.memoryUtilization === undefined ? 70 : undefined);
    if (cpu !== undefined) out.push(resourceMetric('cpu', { type: 'Utilization', averageUtilization: cpu }));
    if (as.memoryUtilization !== undefined)
      out.push(resourceMetric('memory', { type: 'Utilization', averageUtilization: as.memoryUtilization as number }));
    return out;
  }
  const both = ['cpuUtilization', 'memoryUtilization'].find((k) => as[k] !== undefined);
  if (both)
    fail(
      scope,
      `autoscaling.${both}`,
      'cannot be set together with autoscaling.metrics (the targets would be in two places)',
      as[both],
      `move it into metrics: [Metric.${both === 'cpuUtilization' ? 'cpu' : 'memory'}(${as[both]}), ...]`,
    );
  const list = checkArray(scope, 'autoscaling.metrics', as.metrics, '[Metric.cpu(70)]', (m, prop) => renderMetric(scope, prop, m)) ?? [];
  if (list.length === 0)
    fail(
      scope,
      'autoscaling.metrics',
      'must name at least one metric (an empty list makes Kubernetes fall back to 80% CPU, silently)',
      [],
      'list metrics, e.g. [Metric.cpu(70)], or leave metrics out for CPU 70%',
    );
  const seen = new Map<string, number>();
  list.forEach((m, i) => {
    const key = JSON.stringify([m.type, m.resource?.name ?? m.pods?.metric ?? m.external?.metric]);
    if (seen.has(key))
      fail(
        scope,
        `autoscaling.metrics[${i}]`,
        `is the same metric as metrics[${seen.get(key)}] (the HPA would follow the higher of two targets for one metric)`,
        m.resource?.name ?? (m.pods ?? m.external)?.metric.name,
        'keep one target per metric',
      );
    seen.set(key, i);
  });
  return list;
}

function renderMetric(scope: IConstruct, prop: string, m: unknown): k8s.MetricSpecV2 {
  const { _spec: spec } = checkBrand(
    scope,
    prop,
    m,
    Metric.isMetric,
    'made with Metric.cpu(), Metric.memory(), Metric.resource(), Metric.pods() or Metric.external() ' +
      '(Object and ContainerResource metrics are not supported)',
    "Metric.pods('vllm:num_requests_waiting', { averageValue: 5 })",
  );
  if (spec.source === 'Resource') return renderResource(scope, prop, spec.name, spec.target);
  const name = checkMetricName(
    scope,
    `${prop}.name`,
    spec.name,
    spec.source === 'Pods' ? { api: 'custom', example: 'vllm:num_requests_waiting' } : { api: 'external', example: 'sqs_messages_visible' },
  );
  const o = checkObject(
    scope,
    prop,
    spec.options,
    spec.source === 'Pods' ? '{ averageValue: 5 }' : "{ selector: { queue: 'jobs' }, averageValue: 30 }",
  );
  const metric: k8s.MetricIdentifierV2 = { name, ...selectorOf(scope, `${prop}.selector`, o.selector) };
  if (spec.source === 'Pods') {
    checkOnly(
      scope,
      prop,
      o,
      PODS_METRIC_KEYS,
      'a Pods metric is averaged over the pods: its target is averageValue only',
      `write Metric.pods('${name}', { averageValue: 5 })`,
    );
    if (o.averageValue === undefined)
      fail(
        scope,
        `${prop}.averageValue`,
        'is required for a Pods metric (the target average over the pods)',
        undefined,
        `set { averageValue: 5 }: scale so that each pod sees about 5 of '${name}'`,
      );
    return {
      type: 'Pods',
      pods: { metric, target: { type: 'AverageValue', averageValue: quantity(scope, `${prop}.averageValue`, o.averageValue) } },
    };
  }
  checkOnly(
    scope,
    prop,
    o,
    EXTERNAL_METRIC_KEYS,
    'an External metric takes value (of the whole metric) or averageValue (per pod)',
    `write Metric.external('${name}', { averageValue: 30 })`,
  );
  return { type: 'External', external: { metric, target: valueTarget(scope, prop, o) } };
}

function renderResource(scope: IConstruct, prop: string, name: unknown, target: unknown): k8s.MetricSpecV2 {
  const resource =
    oneOf(
      scope,
      `${prop}.name`,
      name,
      ['cpu', 'memory'] as const,
      'use Metric.cpu(70) or Metric.memory(80) (a GPU or other metric is a Pods metric of its exporter)',
    ) ?? fail(scope, `${prop}.name`, "must be 'cpu' or 'memory'", name, 'use Metric.cpu(70) or Metric.memory(80)');
  const t = checkObject(scope, prop, target, '{ averageUtilization: 70 }');
  checkOnly(
    scope,
    prop,
    t,
    RESOURCE_TARGET_KEYS,
    'a cpu or memory metric takes averageUtilization or averageValue',
    `write Metric.${resource}(70) or Metric.resource('${resource}', { averageValue: '${resource === 'cpu' ? '500m' : '2Gi'}' })`,
  );
  if ((t.averageUtilization === undefined) === (t.averageValue === undefined)) {
    fail(
      scope,
      prop,
      `must set exactly one of averageUtilization and averageValue for ${resource}`,
      t,
      `use e.g. Metric.${resource}(70), or Metric.resource('${resource}', { averageValue: '${resource === 'cpu' ? '500m' : '2Gi'}' })`,
    );
  }
  if (t.averageUtilization !== undefined) {
    checkInt(scope, `${prop}.averageUtilization`, t.averageUtilization, 1, 1000);
    return resourceMetric(resource, { type: 'Utilization', averageUtilization: t.averageUtilization as number });
  }
  const raw = typeof t.averageValue === 'number' && Number.isFinite(t.averageValue) ? String(t.averageValue) : t.averageValue;
  const value = resource === 'cpu' ? checkCpu(scope, `${prop}.averageValue`, raw) : checkMemory(scope, `${prop}.averageValue`, raw);
  return resourceMetric(resource, { type: 'AverageValue', averageValue: k8s.Quantity.fromString(value) });
}

function resourceMetric(name: string, target: k8s.MetricTargetV2): k8s.MetricSpecV2 {
  return { type: 'Resource', resource: { name, target } };
}

/** External: exactly one of value and averageValue (validateExternalSource). */
function valueTarget(scope: IConstruct, prop: string, o: Record<string, unknown>): k8s.MetricTargetV2 {
  if (o.value !== undefined && o.averageValue !== undefined) {
    fail(
      scope,
      `${prop}.value`,
      'cannot be set together with averageValue (the API server rejects both: one is a target of the whole metric, the other per pod)',
      o.value,
      'keep averageValue (per pod: replicas = metric / averageValue) or value, not both',
    );
  }
  if (o.averageValue !== undefined) return { type: 'AverageValue', averageValue: quantity(scope, `${prop}.averageValue`, o.averageValue) };
  if (o.value !== undefined) return { type: 'Value', value: quantity(scope, `${prop}.value`, o.value) };
  return fail(
    scope,
    `${prop}.averageValue`,
    'or value is required for an External metric',
    undefined,
    'set { averageValue: 30 } (e.g. 30 queued messages per pod) or { value: 100 } (of the whole metric)',
  );
}

function quantity(scope: IConstruct, prop: string, v: unknown): k8s.Quantity {
  return k8s.Quantity.fromString(checkMetricQuantity(scope, prop, v, '5'));
}

/**
 * matchLabels of the metric series. The API server does not check them, but the HPA controller
 * turns them into a label selector (metav1.LabelSelectorAsSelector), which rejects keys and values
 * that are not label keys and values: the HPA would fail at run time, every sync.
 */
function selectorOf(scope: IConstruct, prop: string, v: unknown): { selector?: k8s.LabelSelector } {
  const labels = checkLabels(scope, prop, v, "{ queue: 'jobs' }");
  return labels && Object.keys(labels).length > 0 ? { selector: { matchLabels: labels } } : {};
}

/** An enum value, with a fix that says what each value means (checkOneOf only names the first). */
function oneOf<T extends string>(scope: IConstruct, prop: string, v: unknown, values: readonly T[], fix: string): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !values.includes(v as T)) fail(scope, prop, `must be one of ${values.map((x) => `'${x}'`).join(', ')}`, v, fix);
  return v as T;
}

/**
 * A key the source does not take is a mistake (e.g. averageUtilization on a Pods metric, or a misspelt key), not something to
 * drop; like checkKnownKeys (lib/_validate.ts), with a reason that says what this object takes.
 */
function checkOnly(scope: IConstruct, prop: string, o: Record<string, unknown>, keys: readonly string[], why: string, fix?: string): void {
  const unknown = firstUnknownKey(o, keys);
  if (!unknown) return;
  const { key: extra, guess } = unknown;
  const known = `Known keys: ${keys.join(', ')}`;
  const fixed = guess ? `rename '${extra}' to '${guess}'. ${known}` : `${fix ?? `remove '${extra}'`}. ${known}`;
  fail(scope, `${prop}.${extra}`, `is not an option here${guess ? ` (did you mean '${guess}'?)` : ''}: ${why}`, o[extra], fixed);
}

/** scaleDown gets the ML default field by field; scaleUp only what is given (Kubernetes defaults the rest, pkg/apis/autoscaling/v2/defaults.go). */
function renderBehavior(scope: IConstruct, v: unknown): k8s.HorizontalPodAutoscalerBehaviorV2 {
  const b = checkOptionalObject(scope, 'autoscaling.behavior', v, '{ scaleDown: { stabilizationWindowSeconds: 300 } }') ?? {};
  checkOnly(scope, 'autoscaling.behavior', b, BEHAVIOR_KEYS, 'behavior has scaleUp and scaleDown');
  const up = checkRules(scope, 'autoscaling.behavior.scaleUp', b.scaleUp);
  const down = checkRules(scope, 'autoscaling.behavior.scaleDown', b.scaleDown) ?? {};
  return {
    ...(up && Object.keys(up).length > 0 ? { scaleUp: up } : {}),
    scaleDown: {
      stabilizationWindowSeconds: down.stabilizationWindowSeconds ?? DEFAULT_SCALE_DOWN.stabilizationWindowSeconds,
      ...(down.selectPolicy ? { selectPolicy: down.selectPolicy } : {}),
      policies: down.policies ?? DEFAULT_SCALE_DOWN.policies,
    },
  };
}

function checkRules(scope: IConstruct, prop: string, v: unknown): k8s.HpaScalingRulesV2 | undefined {
  const r = checkOptionalObject(scope, prop, v, '{ stabilizationWindowSeconds: 300 }');
  if (!r) return undefined;
  checkOnly(scope, prop, r, RULES_KEYS, 'scaling rules have stabilizationWindowSeconds, policies and selectPolicy');
  checkInt(scope, `${prop}.stabilizationWindowSeconds`, r.stabilizationWindowSeconds, 0, 3600);
  const selectPolicy = oneOf(
    scope,
    `${prop}.selectPolicy`,
    r.selectPolicy,
    ['Max', 'Min', 'Disabled'] as const,
    "use 'Max' (the policy allowing the biggest change), 'Min' or 'Disabled' (never scale this way), spelled as shown",
  );
  const policies = checkArray(scope, `${prop}.policies`, r.policies, "[{ type: 'Pods', value: 1, periodSeconds: 60 }]", (p, at) =>
    checkPolicy(scope, at, p),
  );
  if (policies && policies.length === 0)
    fail(
      scope,
      `${prop}.policies`,
      'must hold at least one policy (the API server rejects an empty list)',
      [],
      "leave policies out for the default, or give one, e.g. [{ type: 'Pods', value: 1, periodSeconds: 60 }]",
    );
  return {
    ...(r.stabilizationWindowSeconds !== undefined ? { stabilizationWindowSeconds: r.stabilizationWindowSeconds as number } : {}),
    ...(selectPolicy ? { selectPolicy } : {}),
    ...(policies ? { policies } : {}),
  };
}

function checkPolicy(scope: IConstruct, prop: string, v: unknown): k8s.HpaScalingPolicyV2 {
  const p = checkObject(scope, prop, v, "{ type: 'Pods', value: 1, periodSeconds: 60 }");
  checkOnly(scope, prop, p, POLICY_KEYS, 'a policy has type, value and periodSeconds');
  const type =
    oneOf(scope, `${prop}.type`, p.type, ['Pods', 'Percent'] as const, "use 'Pods' (a number of pods) or 'Percent' (of the current pods)") ??
    fail(scope, `${prop}.type`, "is required: 'Pods' (a number of pods) or 'Percent' (of the current pods)", undefined, "set type: 'Pods'");
  for (const k of ['value', 'periodSeconds'] as const) {
    if (p[k] === undefined)
      fail(scope, `${prop}.${k}`, 'is required in a scaling policy', undefined, "give all three, e.g. { type: 'Pods', value: 1, periodSeconds: 60 }");
  }
  checkInt(scope, `${prop}.value`, p.value, 1);
  checkInt(scope, `${prop}.periodSeconds`, p.periodSeconds, 1, 1800);
  return { type, value: p.value as number, periodSeconds: p.periodSeconds as number };
}

/**
 * The HPA of one Deployment (a server's, or its canary track's): the checked spec, with the
 * replica bounds of that track (a canary scales within its share). @internal
 */
export function renderAutoscaler(
  scope: Construct,
  metadata: ApiObjectMetadata,
  deployment: string,
  spec: AutoscalerSpec,
  replicas: { min: number; max: number } = { min: spec.minReplicas, max: spec.maxReplicas },
): k8s.KubeHorizontalPodAutoscalerV2 {
  return new k8s.KubeHorizontalPodAutoscalerV2(scope, 'HorizontalPodAutoscaler', {
    metadata,
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
      minReplicas: replicas.min,
      maxReplicas: replicas.max,
      metrics: spec.metrics,
      behavior: spec.behavior,
    },
  });
}
