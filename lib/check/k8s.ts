/**
 * The one check every synthesized Kubernetes manifest goes through.
 *
 * `checkManifests(objects)` returns problems as
 * `<Kind>/<namespace or ->/<name>: <rule>: <message>`. The rules are objects, one file per family
 * under rules/ (names.ts: dns-1123, ports.ts: port-range, services.ts: service-selector and
 * service-target-port, workloads.ts: workload-selector, env.ts: env-url and duplicate-env,
 * pod-security.ts: pss-restricted and our hardening rules); schema and unknown-field are
 * k8s-schema.ts, network-reachability network.ts.
 *
 * All objects are checked together: a Service in one stack may be referenced
 * from an env var in another.
 */
import { formatProblem, isPlainObject, K8sObject, podTemplateOf, Problem, workloadPodTemplates, isDocument } from './k8s-common';
import { PodSecurityVersions, podSecurityMinor, podSecurityVersions } from './k8s-pss';
import { networkReachabilityProblems } from './network';
import { loadYamlDocuments } from './_yaml';
import { checkObjectSchema, KNOWN_CUSTOM_KINDS, SchemaContext, schemaContext, typeKey } from './k8s-schema';
import { envServiceUrlProblems, mlProblems, PER_OBJECT_RULES, serviceProblems } from './rules';
import { problemsOf } from './rules/rule';

export * from './k8s-common';

export { KNOWN_CUSTOM_KINDS, modelFor, pointerToPath, rootClassFor, unknownFields } from './k8s-schema';
export { imageTagIssue, TRAFFIC_SPLIT_ANNOTATION } from './rules';
export { inClusterService } from '../rules/url';
export { isDns1035Label, isDns1123Label, isDns1123Subdomain, isIanaSvcName, labelKeyIssue } from '../rules/dns';

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/** Options of the manifest check's entry points (checkManifests, checkManifestFiles, checkOutputFiles, checkOutput). */
export interface CheckOptions {
  /**
   * The Pod Security version (`latest` or `v1.<minor>`, from v1.28) pods are checked at, unless
   * a Namespace among the objects labels its own `pod-security.kubernetes.io/enforce-version`.
   * @default POD_SECURITY_VERSION, the version cdk8s-ml's namespaces enforce
   */
  readonly podSecurityVersion?: string;
  /**
   * The Kubernetes release (`1.<minor>`) whose fields objects are checked against (`cdk8s-ml check
   * --kubernetes-version`).
   * @default the newest release the check's field table holds
   */
  readonly kubernetesVersion?: string;
  /**
   * CustomResourceDefinition objects (apiextensions.k8s.io/v1, `cdk8s-ml check --crd FILE`): their
   * kinds become known, and their OpenAPI v3 schemas validate the custom objects.
   */
  readonly crds?: readonly K8sObject[];
}

function perObjectProblems(obj: K8sObject, pss: PodSecurityVersions, schema: SchemaContext): Problem[] {
  if (!isPlainObject(obj)) return [{ obj, rule: 'schema', message: `expected an object, got ${JSON.stringify(obj)}` }];
  const t = podTemplateOf(obj);
  const problems = [...checkObjectSchema(obj, schema)];
  if (KNOWN_CUSTOM_KINDS.has(typeKey(obj))) return problems;
  for (const rule of PER_OBJECT_RULES) problems.push(...problemsOf(rule, obj, rule.check({ obj, t, pss })));
  return problems;
}

/**
 * Every problem of a set of manifests, checked together, with the object each is about (so a
 * caller that read them from several files can say which file).
 */
export function findManifestProblems(objects: readonly K8sObject[], options: CheckOptions = {}): Problem[] {
  const pss = podSecurityVersions(objects, podSecurityMinor(options.podSecurityVersion));
  const templates = workloadPodTemplates(objects);
  const schema = schemaContext(objects, options);
  return [
    ...objects.flatMap((o) => perObjectProblems(o, pss, schema)),
    ...pss.problems,
    ...serviceProblems(objects, templates),
    ...envServiceUrlProblems(objects, templates),
    ...mlProblems(objects, templates),
    ...networkReachabilityProblems(objects),
  ];
}

/** All problems of a set of manifests (checked together), formatted `<Kind>/<ns or ->/<name>: <rule>: <message>`. */
export function checkManifests(objects: readonly K8sObject[], options: CheckOptions = {}): string[] {
  return findManifestProblems(objects, options).map(formatProblem);
}

/** Throws one Error listing every problem, one per line. */
export function expectValidManifests(objects: readonly K8sObject[]): void {
  const problems = checkManifests(objects);
  if (problems.length > 0) throw new Error(`${problems.length} manifest problem(s):\n${problems.join('\n')}`);
}

/**
 * Multi-document YAML -> objects, dropping empty documents (`---` at the end, comments only).
 * Throws on YAML errors, duplicate keys included, with one line naming where.
 */
export function parseYamlStream(text: string): K8sObject[] {
  return loadYamlDocuments(text).filter(isDocument);
}
