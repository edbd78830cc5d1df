/**
 * What a workload costs and runs: images, scale (replicas, or an autoscaler's bounds) and resource
 * requests, and a stack's totals at its minimum and maximum scale.
 */
import { arrayAt, field, objectAt, objectRef, podTemplateOf, stringAt, type K8sObject } from '../check/k8s-common';
import { parseQuantity } from '../rules/quantity';

/** CPU in cores, memory in bytes, GPUs (`nvidia.com/gpu`) in devices. */
export interface ResourceAmounts {
  readonly cpu: number;
  readonly memory: number;
  readonly gpu: number;
}

/** What a stack's workloads request at their minimum and at their maximum scale. */
export interface ScaleTotals {
  readonly min: ResourceAmounts;
  readonly max: ResourceAmounts;
}

export interface ContainerSummary {
  readonly name: string;
  readonly image?: string;
  /** `requests.cpu` -> `500m`, `limits.nvidia.com/gpu` -> `1`, as written. */
  readonly resources: Readonly<Record<string, string>>;
}

export interface WorkloadSummary {
  /** `Kind/namespace/name`. */
  readonly ref: string;
  /** Pods at the least and the most: replicas, an HPA's min/maxReplicas, a Job's parallelism. */
  readonly minPods: number;
  readonly maxPods: number;
  /** `3 replicas`, `autoscaled 2..10 (HPA image-classifier)`, `parallelism 4`. */
  readonly scale: string;
  /** What one pod requests (its effective request). */
  readonly perPod: ResourceAmounts;
  readonly containers: readonly ContainerSummary[];
}

/** How one workload changed; lists are empty when that aspect did not change. */
export interface WorkloadChange {
  readonly ref: string;
  readonly status: 'added' | 'removed' | 'changed';
  readonly images: readonly { readonly container: string; readonly before?: string; readonly after?: string }[];
  readonly scale?: { readonly before?: string; readonly after?: string };
  readonly resources: readonly { readonly container: string; readonly field: string; readonly before?: string; readonly after?: string }[];
}

export const GPU_RESOURCE = 'nvidia.com/gpu';
export const WORKLOAD_DIFF_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'Job', 'CronJob']);
export const ZERO: ResourceAmounts = { cpu: 0, memory: 0, gpu: 0 };

const add = (a: ResourceAmounts, b: ResourceAmounts, times = 1): ResourceAmounts => ({
  cpu: a.cpu + times * b.cpu,
  memory: a.memory + times * b.memory,
  gpu: a.gpu + times * b.gpu,
});
const max = (a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts => ({
  cpu: Math.max(a.cpu, b.cpu),
  memory: Math.max(a.memory, b.memory),
  gpu: Math.max(a.gpu, b.gpu),
});
const quantity = (v: unknown): number => (typeof v === 'number' ? v : (parseQuantity(v) ?? 0));

/**
 * A container's request of each resource. A resource with a limit and no request is requested at the
 * limit (kubernetes.io/docs/concepts/configuration/manage-resources-containers: "If you specify a limit
 * for a resource, but do not specify any request, ... Kubernetes copies the limit"); extended
 * resources such as GPUs are usually given as limits only, and their request must equal the limit.
 */
function containerRequest(c: unknown): ResourceAmounts {
  const requests = objectAt(c, 'resources', 'requests') ?? {};
  const limits = objectAt(c, 'resources', 'limits') ?? {};
  const of = (r: string) => quantity(requests[r] ?? limits[r]);
  return { cpu: of('cpu'), memory: of('memory'), gpu: of(GPU_RESOURCE) };
}

/**
 * A pod's effective request: the larger of its app containers (plus sidecars) together and of each
 * init container while it runs (with the sidecars started before it). kubernetes.io/docs/concepts/
 * workloads/pods/init-containers "Resource sharing within containers" and sidecar-containers
 * "Resource sharing within containers" (sidecars are init containers with restartPolicy Always).
 */
export function podRequest(podSpec: unknown): ResourceAmounts {
  let sidecars = ZERO;
  let initPeak = ZERO;
  for (const c of arrayAt(podSpec, 'initContainers')) {
    if (field(c, 'restartPolicy') === 'Always') sidecars = add(sidecars, containerRequest(c));
    else initPeak = max(initPeak, add(sidecars, containerRequest(c)));
  }
  const app = arrayAt(podSpec, 'containers').reduce((s: ResourceAmounts, c) => add(s, containerRequest(c)), sidecars);
  return max(app, initPeak);
}

function containersOf(podSpec: unknown): ContainerSummary[] {
  const list = [...arrayAt(podSpec, 'initContainers'), ...arrayAt(podSpec, 'containers')];
  return list.map((c) => {
    const resources: Record<string, string> = {};
    for (const side of ['requests', 'limits']) {
      for (const [k, v] of Object.entries(objectAt(c, 'resources', side) ?? {})) resources[`${side}.${k}`] = String(v);
    }
    return { name: String(field(c, 'name') ?? '?'), image: stringAt(c, 'image'), resources };
  });
}

/**
 * How many pods a workload runs. Deployment/StatefulSet/ReplicaSet: spec.replicas (default 1, apps/v1
 * API reference), or the bounds of the HorizontalPodAutoscaler whose scaleTargetRef names it (minReplicas
 * default 1, autoscaling/v2 API reference; the HPA then owns replicas). Job: spec.parallelism (default 1,
 * batch/v1 API reference), at most completions; a CronJob's job template likewise.
 */
function scaleOf(obj: K8sObject, hpas: ReadonlyMap<string, K8sObject>): { min: number; max: number; text: string } {
  const kind = obj.kind;
  if (kind === 'Job' || kind === 'CronJob') {
    const spec = kind === 'Job' ? field(obj, 'spec') : field(obj, 'spec', 'jobTemplate', 'spec');
    const [given, completions] = [field(spec, 'parallelism'), field(spec, 'completions')];
    const parallelism = typeof given === 'number' ? given : 1;
    const pods = typeof completions === 'number' ? Math.min(parallelism, completions) : parallelism;
    return { min: pods, max: pods, text: `parallelism ${pods}` };
  }
  const hpa = hpas.get(`${kind}/${field(obj, 'metadata', 'namespace') ?? ''}/${field(obj, 'metadata', 'name')}`);
  if (hpa) {
    const [min, max] = [field(hpa, 'spec', 'minReplicas'), field(hpa, 'spec', 'maxReplicas')];
    const lo = typeof min === 'number' ? min : 1;
    const hi = typeof max === 'number' ? max : lo;
    return { min: lo, max: hi, text: `autoscaled ${lo}..${hi} (HPA ${field(hpa, 'metadata', 'name')})` };
  }
  const given = field(obj, 'spec', 'replicas');
  const replicas = typeof given === 'number' ? given : 1;
  return { min: replicas, max: replicas, text: `${replicas} replica${replicas === 1 ? '' : 's'}` };
}

/** Every workload among the objects (Deployment, StatefulSet, ReplicaSet, Job, CronJob), keyed by ref. */
export function summarizeWorkloads(objects: readonly K8sObject[]): Map<string, WorkloadSummary> {
  const hpas = new Map<string, K8sObject>();
  for (const o of objects) {
    const target = o?.kind === 'HorizontalPodAutoscaler' ? field(o, 'spec', 'scaleTargetRef') : undefined;
    if (target) hpas.set(`${field(target, 'kind')}/${field(o, 'metadata', 'namespace') ?? ''}/${field(target, 'name')}`, o);
  }
  const out = new Map<string, WorkloadSummary>();
  for (const o of objects) {
    if (typeof o?.kind !== 'string' || !WORKLOAD_DIFF_KINDS.has(o.kind)) continue;
    const t = podTemplateOf(o);
    if (!t) continue;
    const s = scaleOf(o, hpas);
    const ref = objectRef(o);
    out.set(ref, { ref, minPods: s.min, maxPods: s.max, scale: s.text, perPod: podRequest(t.podSpec), containers: containersOf(t.podSpec) });
  }
  return out;
}

export function totalsOf(workloads: Iterable<WorkloadSummary>): ScaleTotals {
  let [lo, hi] = [ZERO, ZERO];
  for (const w of workloads) {
    lo = add(lo, w.perPod, w.minPods);
    hi = add(hi, w.perPod, w.maxPods);
  }
  return { min: lo, max: hi };
}

/** Workloads whose images, scale or resources differ (and the ones added or removed). */
export function workloadChanges(before: ReadonlyMap<string, WorkloadSummary>, after: ReadonlyMap<string, WorkloadSummary>): WorkloadChange[] {
  const refs = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: WorkloadChange[] = [];
  for (const ref of refs) {
    const [b, a] = [before.get(ref), after.get(ref)];
    const names = [...new Set([...(b?.containers ?? []), ...(a?.containers ?? [])].map((c) => c.name))];
    const images = names.flatMap((container) => {
      const [ib, ia] = [b?.containers.find((c) => c.name === container)?.image, a?.containers.find((c) => c.name === container)?.image];
      return ib === ia ? [] : [{ container, before: ib, after: ia }];
    });
    const resources = names.flatMap((container) => {
      const [rb, ra] = [
        b?.containers.find((c) => c.name === container)?.resources ?? {},
        a?.containers.find((c) => c.name === container)?.resources ?? {},
      ];
      return [...new Set([...Object.keys(rb), ...Object.keys(ra)])]
        .sort()
        .filter((f) => rb[f] !== ra[f])
        .map((field) => ({ container, field, before: rb[field], after: ra[field] }));
    });
    const scale = b?.scale === a?.scale ? undefined : { before: b?.scale, after: a?.scale };
    if (b && a && images.length === 0 && resources.length === 0 && !scale) continue;
    out.push({ ref, status: !b ? 'added' : !a ? 'removed' : 'changed', images, scale, resources });
  }
  return out;
}
