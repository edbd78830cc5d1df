/** Family of the workloads: `workload-selector`, a controller's selector must match its own pod template. */
import { asLabels, formatLabels, isPlainObject, labelSelectorMatches, WorkloadPodTemplate, field } from '../k8s-common';
import { ObjectInput, ObjectRule } from './rule';

/** A controller whose selector does not match its own template is rejected by the apiserver ("selector does not match template labels"). */
function workloadSelectorIssues(t: WorkloadPodTemplate): string[] {
  if (t.kind === 'Pod' || t.kind === 'CronJob') return [];
  const selector = field(t.obj, 'spec', 'selector');
  // Jobs generate their selector unless manualSelector is set.
  if (t.kind === 'Job' && selector === undefined) return [];
  if (t.kind === 'ReplicationController') {
    const sel = asLabels(selector);
    if (Object.keys(sel).length === 0 || Object.entries(sel).every(([k, v]) => t.labels[k] === v)) return [];
    return [`spec.selector ${formatLabels(sel)} does not match template labels ${formatLabels(t.labels)}`];
  }
  if (!isPlainObject(selector)) return ['spec.selector is required'];
  if (labelSelectorMatches(selector, t.labels)) return [];
  const template = t.specPath.replace(/\.spec$/, '');
  return [
    `spec.selector.matchLabels ${formatLabels(asLabels(selector.matchLabels))} does not match ${template}.metadata.labels ${formatLabels(t.labels)}`,
  ];
}

export const WORKLOAD_SELECTOR: ObjectRule = {
  id: 'workload-selector',
  summary: "a workload's selector must match its own pod template",
  fix: "make spec.selector.matchLabels a subset of the pod template's metadata.labels",
  check: ({ t }: ObjectInput): string[] => (t ? workloadSelectorIssues(t) : []),
};
