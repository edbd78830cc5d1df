/**
 * Canary and A/B rollouts declared in git: a second, named Deployment (track `canary`) beside the
 * server's own (track `stable`), with its own image, model or model version and a share of the
 * traffic. Behind an `Exposure.gateway()` route the share is an HTTPRoute weight; behind the one
 * Service it is the ratio of ready pods (kube-proxy spreads connections evenly over endpoints), so
 * the replicas are split and the Service says which ratio results (`ml.cdk8s.io/traffic-split`).
 *
 * Selector immutability: a Deployment's spec.selector cannot change (the API server rejects it),
 * so the stable Deployment keeps its selector and labels whether a canary exists or not. The
 * canary's pods share only `app.kubernetes.io/name` with them (their `app.kubernetes.io/instance`
 * is `<instance>-canary`, plus `ml.cdk8s.io/track: canary`): no Deployment, PDB (an eviction fails
 * for a pod two PDBs select), HPA or NetworkPolicy of one track selects the other's pods.
 *
 * weight 0 is a rollback (only the stable objects are written) and weight 100 a promotion (the
 * stable Deployment runs the canary's version; no canary objects): each a one-line change, whose
 * YAML diff is the stable Deployment's image (promotion) or the canary objects (rollback).
 */
import { IConstruct } from 'constructs';
import { fail } from '../_errors';
import { checkObject, checkWholePercent, closestKey, keysOf } from '../_validate';
import { ModelSource } from '../model/model-source';
import { IImage } from '../image/_image-build';
import { checkEnv, EnvMap } from '../workload/env';

/** The label that tells the canary's pods from the stable ones. */
export const TRACK_LABEL = 'ml.cdk8s.io/track';
/** The Service annotation that states the traffic split that results (the output check reads it). */
export { TRAFFIC_SPLIT_ANNOTATION } from '../check/k8s';
/** How far (in percentage points) the replica ratio may be from the weight asked for. */
export const REPLICA_RATIO_TOLERANCE = 5;

/** A canary track of a server. */
export interface CanaryOptions {
  /**
   * Share of the traffic (percent, a whole number 0..100) the canary gets. 0 rolls it back (only
   * the stable track is written), 100 promotes it (the stable Deployment runs the canary's version).
   */
  readonly weight: number;
  /** The canary's image. @default - the stable image */
  readonly image?: string | IImage;
  /** The canary's model (InferenceService). @default - the stable model */
  readonly model?: ModelSource;
  /** The model version the canary serves (TfServingBackend: a version directory). @default - the stable version policy */
  readonly modelVersion?: number;
  /** TF Serving release of the canary (TfServingBackend). @default - the stable release */
  readonly version?: string;
  /** Environment of the canary, on top of the stable environment. @default - the stable environment */
  readonly env?: EnvMap;
  /**
   * Canary pods behind an Exposure.gateway() route (the weight splits the requests, the replicas
   * the capacity). Without a gateway the replicas come from the weight. @default - the weight's share of the replicas, at least 1
   */
  readonly replicas?: number;
}

const CANARY_KEYS = keysOf<CanaryOptions>()(['weight', 'image', 'model', 'modelVersion', 'version', 'env', 'replicas']);

/** What each server's canary may change. */
export type CanaryChange = 'image' | 'model' | 'modelVersion' | 'version' | 'env';

/**
 * The canary prop, checked at the boundary: an object with an integer weight 0..100, only the
 * changes this server supports, and at least one of them (a canary that changes nothing is a
 * second copy of stable).
 */
export function checkCanary(scope: IConstruct, v: unknown, changes: readonly CanaryChange[]): CanaryOptions | undefined {
  if (v === undefined) return undefined;
  const example = `{ weight: 10, ${changes[0]}: ... }`;
  const c = checkObject(scope, 'canary', v, example, CANARY_KEYS) as unknown as CanaryOptions;
  checkWholePercent(scope, 'canary.weight', c.weight, {
    meaning: '0 rolls back, 100 promotes',
    fix: 'set canary.weight to e.g. 10 (10% of the traffic to the canary)',
  });
  const known = ['weight', 'replicas', ...changes];
  for (const k of Object.keys(c)) {
    const guess = known.includes(k) ? undefined : closestKey(k, known);
    if (!known.includes(k))
      fail(
        scope,
        `canary.${k}`,
        `is not something this server's canary can change${guess ? ` (did you mean '${guess}'?)` : ''}`,
        k,
        `use ${changes.join(', ')} (and weight, replicas)`,
      );
  }
  if (!changes.some((k) => (c as unknown as Record<string, unknown>)[k] !== undefined)) {
    fail(
      scope,
      'canary',
      'changes nothing: the canary would run exactly what stable runs',
      c,
      `give it its own ${changes.join(' or ')}, or remove the canary`,
    );
  }
  checkEnv(scope, 'canary.env', c.env);
  const r = c.replicas;
  if (r !== undefined && (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > 1000)) {
    fail(scope, 'canary.replicas', 'must be a whole number from 1 to 1000', r, 'set canary.replicas to e.g. 1, or leave it out');
  }
  if (c.model !== undefined && !ModelSource.isModelSource(c.model)) {
    fail(scope, 'canary.model', 'must be a ModelSource', c.model, "use ModelSource.fromUri('s3://bucket/models/m-v2')");
  }
  return c;
}

/** Replicas of each track and the ratio that results. */
export interface ReplicaSplit {
  readonly stable: number;
  readonly canary: number;
  /** Percent of the pods (and so of the connections) on the canary. */
  readonly canaryPercent: number;
}

/**
 * Without a gateway: `total` pods split so the canary's share is as close to `weight` as whole
 * pods allow, both tracks at least one pod. Fails when the nearest split is more than
 * REPLICA_RATIO_TOLERANCE points off, naming the replica count that would express it.
 */
export function splitReplicas(scope: IConstruct, total: number, weight: number): ReplicaSplit {
  const split = nearestSplit(total, weight);
  if (split && Math.abs(split.canaryPercent - weight) <= REPLICA_RATIO_TOLERANCE) return split;
  const enough = replicasFor(weight);
  const got = split ? `${split.canary} of ${total} pods = ${fmt(split.canaryPercent)}%` : `${total} pod(s) cannot hold two tracks`;
  fail(
    scope,
    'canary.weight',
    `cannot be expressed by ${total} replicas within ${REPLICA_RATIO_TOLERANCE} points ` + `(the split is by pod count behind one Service: ${got})`,
    weight,
    `raise replicas to ${enough} (${Math.round((enough * weight) / 100)} canary of ${enough}), ` +
      'or use exposure: Exposure.gateway({ gateway }) to split by weight',
  );
}

function nearestSplit(total: number, weight: number): ReplicaSplit | undefined {
  if (total < 2) return undefined;
  const canary = Math.min(total - 1, Math.max(1, Math.round((total * weight) / 100)));
  return { stable: total - canary, canary, canaryPercent: (100 * canary) / total };
}

/** The fewest replicas whose split is within the tolerance. */
export function replicasFor(weight: number): number {
  for (let n = 2; n <= 1000; n++) {
    const s = nearestSplit(n, weight);
    if (s && Math.abs(s.canaryPercent - weight) <= REPLICA_RATIO_TOLERANCE) return n;
  }
  return 1000;
}

/** `api: 75% (3 pods), api-canary: 25% (1 pod)`: what the Service annotation says. */
export function describeSplit(stableName: string, canaryName: string, s: { stable: number; canary: number }, byWeight?: number): string {
  if (byWeight !== undefined) return `${stableName}: ${100 - byWeight}%, ${canaryName}: ${byWeight}% (HTTPRoute weights)`;
  const total = s.stable + s.canary;
  const pods = (n: number) => `${n} pod${n === 1 ? '' : 's'}`;
  return `${stableName}: ${fmt((100 * s.stable) / total)}% (${pods(s.stable)}), ${canaryName}: ${fmt((100 * s.canary) / total)}% (${pods(s.canary)})`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
