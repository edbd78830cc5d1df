/**
 * The shape of a rule of `cdk8s-ml check`: its id (what every problem line names), what it guards
 * against (the `--help` list), how to fix what it reports, and the check itself beside them, one
 * small unit per rule, grouped by family (names.ts, ports.ts, services.ts, ...).
 */
import type { K8sObject, Problem, WorkloadPodTemplate } from '../k8s-common';
import type { PodSecurityVersions } from '../k8s-pss';

/** A rule of the check: the id every problem line names, and what it guards against. */
export interface CheckRule {
  readonly id: string;
  readonly summary: string;
  /** What to change when it reports a problem. */
  readonly fix: string;
}

/** One object as the per-object rules see it: the object, its pod template (when it has one), the Pod Security versions of the namespaces. */
export interface ObjectInput {
  readonly obj: K8sObject;
  readonly t: WorkloadPodTemplate | undefined;
  readonly pss: PodSecurityVersions;
}

/** A rule that looks at one object at a time; it returns the messages of its problems. */
export interface ObjectRule extends CheckRule {
  readonly check: (input: ObjectInput) => string[];
}

/** The problems of a rule about one object. */
export function problemsOf(rule: CheckRule, obj: K8sObject, messages: readonly string[]): Problem[] {
  return messages.map((message) => ({ obj, rule: rule.id, message }));
}

export function isString(v: string | undefined): v is string {
  return v !== undefined;
}
