/**
 * Family of the Services: `service-selector` (a Service selects the pods of exactly one workload, or
 * the tracks its traffic-split annotation names) and `service-target-port` (each of its ports lands
 * on a container port of those pods). Checked together, Service by Service.
 */
import {
  asArray,
  containersOf,
  effectiveNamespace,
  formatLabels,
  K8sObject,
  LabelIndex,
  podsSelectedBy,
  Problem,
  serviceSelector,
  templateIndex,
  WorkloadPodTemplate,
  field,
} from '../k8s-common';
import { CheckRule, problemsOf } from './rule';

/**
 * A Service annotation naming the workloads (stable and canary tracks of one server) it selects on
 * purpose, and the split that results: `service-selector` accepts a Service selecting exactly those.
 */
export const TRAFFIC_SPLIT_ANNOTATION = 'ml.cdk8s.io/traffic-split';

interface SelectorVerdict {
  readonly messages: string[];
  /** The workloads whose ports the Service's ports must land on. */
  readonly targets: readonly WorkloadPodTemplate[];
}

/** Checks one Service's selector; returns the workloads it selects on purpose (one, or the tracks its split annotation names). */
function checkServiceSelector(svc: K8sObject, templates: LabelIndex<WorkloadPodTemplate>): SelectorVerdict {
  const sel = serviceSelector(svc);
  if (!sel) return { messages: [], targets: [] };
  const selected = podsSelectedBy(svc, templates);
  if (selected.length === 1) return { messages: [], targets: selected };
  // Tracks of one server (stable and canary) behind one Service, declared by the split annotation naming each.
  const split = field(svc, 'metadata', 'annotations', TRAFFIC_SPLIT_ANNOTATION);
  if (selected.length > 1 && typeof split === 'string') {
    const named = new Set(split.split(/[^a-z0-9-]+/));
    if (selected.every((t) => named.has(t.name))) return { messages: [], targets: selected };
  }
  if (selected.length === 0) {
    return { messages: [`spec.selector ${formatLabels(sel)} selects no pods in namespace ${effectiveNamespace(svc)}`], targets: [] };
  }
  const [first, ...others] = selected;
  return {
    messages: others.map((o) => `spec.selector ${formatLabels(sel)} selects the pods of ${first.ref} but also selects the pods of ${o.ref}`),
    targets: [],
  };
}

interface ExposedPort {
  readonly number: unknown;
  readonly name: unknown;
  readonly protocol: string;
  readonly container: string;
}

/** Ports that serve traffic: regular containers plus native sidecars (init containers with restartPolicy Always). */
function exposedPorts(t: WorkloadPodTemplate): ExposedPort[] {
  const out: ExposedPort[] = [];
  for (const c of containersOf(t)) {
    if (c.kind === 'initContainers' && c.container.restartPolicy !== 'Always') continue;
    for (const p of asArray<{ containerPort?: unknown; name?: unknown; protocol?: unknown }>(c.container.ports)) {
      out.push({ number: p?.containerPort, name: p?.name, protocol: String(p?.protocol ?? 'TCP'), container: c.name });
    }
  }
  return out;
}

function describeExposed(ports: readonly ExposedPort[]): string {
  if (ports.length === 0) return 'it declares no container ports';
  return `it has ${ports.map((p) => `${p.container}:${String(p.number)}${p.name ? `(${String(p.name)})` : ''}/${p.protocol}`).join(', ')}`;
}

function checkTargetPorts(svc: K8sObject, target: WorkloadPodTemplate): string[] {
  const ports = exposedPorts(target);
  const messages: string[] = [];
  asArray<Record<string, unknown>>(field(svc, 'spec', 'ports')).forEach((sp, i) => {
    const wanted = sp?.targetPort ?? sp?.port;
    const protocol = String(sp?.protocol ?? 'TCP');
    const hit = ports.some((p) => p.protocol === protocol && (typeof wanted === 'string' ? p.name === wanted : p.number === wanted));
    if (!hit) {
      const field = sp?.targetPort === undefined ? 'port' : 'targetPort';
      messages.push(
        `spec.ports[${i}].${field} ${JSON.stringify(wanted)}/${protocol} matches no container port of ${target.ref} (${describeExposed(ports)})`,
      );
    }
  });
  return messages;
}

export const SERVICE_SELECTOR: CheckRule & {
  readonly check: (svc: K8sObject, templates: LabelIndex<WorkloadPodTemplate>) => SelectorVerdict;
} = {
  id: 'service-selector',
  summary: 'a Service must select the pods of exactly one workload',
  fix: 'give the workloads labels that tell them apart and select one, or name the tracks in the ml.cdk8s.io/traffic-split annotation',
  check: checkServiceSelector,
};

export const SERVICE_TARGET_PORT: CheckRule & { readonly check: (svc: K8sObject, target: WorkloadPodTemplate) => string[] } = {
  id: 'service-target-port',
  summary: 'every Service port lands on a container port of the selected pods',
  fix: "set the Service port's targetPort to a containerPort (or port name) the selected pods declare",
  check: checkTargetPorts,
};

/** The problems of every Service: its selector, then its ports against each workload it selects. */
export function serviceProblems(objects: readonly K8sObject[], templates: readonly WorkloadPodTemplate[]): Problem[] {
  const problems: Problem[] = [];
  const index = templateIndex(templates);
  for (const svc of objects) {
    if (svc?.kind !== 'Service') continue;
    const { messages, targets } = SERVICE_SELECTOR.check(svc, index);
    problems.push(...problemsOf(SERVICE_SELECTOR, svc, messages));
    for (const t of targets) problems.push(...problemsOf(SERVICE_TARGET_PORT, svc, SERVICE_TARGET_PORT.check(svc, t)));
  }
  return problems;
}
