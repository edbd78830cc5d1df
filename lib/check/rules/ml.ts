/**
 * Family of the ML rules: what the library refuses in its own output (ModelSource, Autoscaling,
 * Resources, InferenceService), as rules of the check for YAML written by hand or by other tools.
 * `rwo-claim-replicas` and `hpa-fixed-replicas` look at several objects (mlProblems);
 * `gpu-toleration` and `readiness-probe` at one.
 */
import {
  asArray,
  containersOf,
  describeContainer,
  effectiveNamespace,
  field,
  isPlainObject,
  K8sObject,
  metaName,
  objectAt,
  Problem,
  WorkloadPodTemplate,
} from '../k8s-common';
import { CheckRule, ObjectInput, ObjectRule, problemsOf } from './rule';

export const RWO_CLAIM_REPLICAS: CheckRule = {
  id: 'rwo-claim-replicas',
  summary: 'a ReadWriteOnce claim mounted by a Deployment that runs more than one pod (replicas or its HorizontalPodAutoscaler)',
  fix: 'use a ReadWriteMany claim, or one replica (a StatefulSet with volumeClaimTemplates gives each replica its own claim)',
};

export const HPA_FIXED_REPLICAS: CheckRule = {
  id: 'hpa-fixed-replicas',
  summary: 'a HorizontalPodAutoscaler targeting a Deployment that also sets spec.replicas',
  fix: 'remove spec.replicas from the Deployment: the HorizontalPodAutoscaler owns it (its minReplicas is the floor)',
};

const GPU_RESOURCES: readonly string[] = ['nvidia.com/gpu', 'amd.com/gpu'];

/** The key of the taint a node pool for `resource` carries: `nvidia.com/gpu` for every NVIDIA resource (MIG slices included). */
function taintKeyOf(resource: string): string {
  return resource.startsWith('nvidia.com/') ? 'nvidia.com/gpu' : resource;
}

function gpuResourcesOf(t: WorkloadPodTemplate): string[] {
  const found = new Set<string>();
  for (const c of containersOf(t)) {
    for (const part of ['limits', 'requests']) {
      const amounts = objectAt(c.container, 'resources', part) ?? {};
      for (const [name, amount] of Object.entries(amounts)) {
        const gpu = GPU_RESOURCES.includes(name) || name.startsWith('nvidia.com/mig-');
        if (gpu && String(amount) !== '0') found.add(name);
      }
    }
  }
  return [...found].sort();
}

/** core/v1 Toleration.ToleratesTaint: an empty key with Exists tolerates every taint; an empty effect every effect. */
function tolerates(t: WorkloadPodTemplate, key: string): boolean {
  return asArray<Record<string, unknown>>(t.podSpec.tolerations).some((tol) => {
    if (!isPlainObject(tol)) return false;
    const keyOk = tol.key === key || ((tol.key ?? '') === '' && tol.operator === 'Exists');
    const effectOk = (tol.effect ?? '') === '' || tol.effect === 'NoSchedule';
    return keyOk && effectOk;
  });
}

/**
 * GPU node pools carry a NoSchedule taint keyed on the resource so that other pods stay off them: GKE adds
 * `nvidia.com/gpu=present:NoSchedule` to GPU pools of a cluster that also has CPU pools
 * (cloud.google.com/kubernetes-engine/docs/how-to/gpus), and AKS and EKS document the same taint for GPU pools.
 * The ExtendedResourceToleration admission plugin would add the toleration, but it is off by default
 * (kubernetes.io/docs/reference/access-authn-authz/admission-controllers).
 */
export const GPU_TOLERATION: ObjectRule = {
  id: 'gpu-toleration',
  summary: 'a pod requesting GPUs (nvidia.com/gpu, amd.com/gpu) without a toleration for the GPU taint',
  fix: 'add `tolerations: [{ key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }]` (amd.com/gpu for AMD) to the pod template',
  check: ({ t }: ObjectInput): string[] => {
    if (!t) return [];
    const keys = [...new Set(gpuResourcesOf(t).map(taintKeyOf))];
    return keys
      .filter((key) => !tolerates(t, key))
      .map(
        (key) =>
          `${t.specPath} requests ${key === 'nvidia.com/gpu' ? 'NVIDIA GPUs' : key} but does not tolerate the taint ${key}:NoSchedule that ` +
          `GPU node pools carry (GKE adds it): the pod stays Pending. Fix: add the toleration { key: ${key}, operator: Exists, ` +
          'effect: NoSchedule } to the pod template',
      );
  },
};

/** A Deployment's containers that serve ports but have no readinessProbe. */
export const READINESS_PROBE: ObjectRule = {
  id: 'readiness-probe',
  summary: 'a Deployment container serving a port without a readinessProbe (traffic before the model has loaded)',
  fix: "add a readinessProbe, an HTTP GET of the server's health path where it has one",
  check: ({ t }: ObjectInput): string[] => {
    if (t?.kind !== 'Deployment') return [];
    return containersOf(t, ['containers'])
      .filter((c) => asArray(c.container.ports).length > 0 && c.container.readinessProbe === undefined)
      .map(
        (c) =>
          `${describeContainer(c)} serves a port and has no readinessProbe: the pod is Ready as soon as the container starts, so its ` +
          'Service sends requests before the server (and its model) has loaded, and they fail at every rollout and scale-up. Fix: add a ' +
          "readinessProbe (an HTTP GET of the server's health path)",
      );
  },
};

function key(namespace: string, name: unknown): string {
  return `${namespace}/${String(name)}`;
}

/** The HorizontalPodAutoscalers (autoscaling/v1 and v2) that target each Deployment, by `namespace/name`. */
function autoscalersOf(objects: readonly K8sObject[]): Map<string, K8sObject> {
  const out = new Map<string, K8sObject>();
  for (const o of objects) {
    if (o?.kind !== 'HorizontalPodAutoscaler') continue;
    const target = objectAt(o, 'spec', 'scaleTargetRef');
    if (target?.kind === 'Deployment') out.set(key(effectiveNamespace(o), target.name), o);
  }
  return out;
}

/** Claims whose access modes attach them to one node (ReadWriteOnce) or one pod (ReadWriteOncePod), by `namespace/name`. */
function singleNodeClaims(objects: readonly K8sObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of objects) {
    if (o?.kind !== 'PersistentVolumeClaim') continue;
    const modes = asArray<string>(field(o, 'spec', 'accessModes'));
    const mode = ['ReadWriteOncePod', 'ReadWriteOnce'].find((m) => modes.includes(m));
    if (mode && !modes.includes('ReadWriteMany') && !modes.includes('ReadOnlyMany')) out.set(key(effectiveNamespace(o), metaName(o)), mode);
  }
  return out;
}

function rwoProblems(t: WorkloadPodTemplate, claims: Map<string, string>, hpa: K8sObject | undefined): string[] {
  const replicas = field(t.obj, 'spec', 'replicas') ?? 1;
  const max = hpa ? field(hpa, 'spec', 'maxReplicas') : undefined;
  const pods = typeof max === 'number' && max > 1 ? `up to ${max} pods (its HorizontalPodAutoscaler's maxReplicas)` : `${replicas} replicas`;
  if (!(typeof replicas === 'number' && replicas > 1) && !(typeof max === 'number' && max > 1)) return [];
  return asArray<Record<string, unknown>>(t.podSpec.volumes).flatMap((v) => {
    const claim = objectAt(v, 'persistentVolumeClaim')?.claimName;
    const mode = claims.get(key(t.namespace, claim));
    if (!mode) return [];
    return [
      `mounts PersistentVolumeClaim "${String(claim)}" (${mode}) with ${pods}: a ${mode} volume attaches to one ` +
        `${mode === 'ReadWriteOnce' ? 'node, so pods scheduled on other nodes' : 'pod, so every other pod'} stay ContainerCreating ` +
        `(Multi-Attach error). Fix: ${RWO_CLAIM_REPLICAS.fix}`,
    ];
  });
}

/** The ML rules that look at several objects: `rwo-claim-replicas` and `hpa-fixed-replicas`, about each Deployment. */
export function mlProblems(objects: readonly K8sObject[], templates: readonly WorkloadPodTemplate[]): Problem[] {
  const hpas = autoscalersOf(objects);
  const claims = singleNodeClaims(objects);
  const problems: Problem[] = [];
  for (const t of templates) {
    if (t.kind !== 'Deployment') continue;
    const hpa = hpas.get(key(t.namespace, t.name));
    problems.push(...problemsOf(RWO_CLAIM_REPLICAS, t.obj, rwoProblems(t, claims, hpa)));
    if (hpa && field(t.obj, 'spec', 'replicas') !== undefined) {
      const message =
        `sets spec.replicas (${JSON.stringify(field(t.obj, 'spec', 'replicas'))}) and HorizontalPodAutoscaler "${metaName(hpa)}" scales it: ` +
        'every apply (kubectl, Argo CD) resets the replicas the autoscaler chose, and Argo CD shows the Deployment out of sync. ' +
        `Fix: ${HPA_FIXED_REPLICAS.fix}`;
      problems.push(...problemsOf(HPA_FIXED_REPLICAS, t.obj, [message]));
    }
  }
  return problems;
}
