/**
 * The one check every synthesized Kubernetes manifest goes through.
 *
 * `checkManifests(objects)` returns problems as
 * `<Kind>/<namespace or ->/<name>: <rule>: <message>`; rule ids:
 *   schema, unknown-field          (k8s-schema.ts)
 *   dns-1123, port-range           names and numbers the apiserver would reject
 *   service-selector               each Service selects exactly one workload's pods (or the tracks its
 *                                  ml.cdk8s.io/traffic-split annotation names)
 *   workload-selector              a workload's spec.selector matches its own template
 *   service-target-port            each Service port lands on a container port
 *   env-url                        in-cluster URLs in env name a real Service and port
 *   duplicate-env                  a container lists each env variable once
 *   network-reachability           NetworkPolicies admit every connection the objects intend (network.ts)
 *   pss-restricted                 Pod Security Standards "restricted" (k8s-pss.ts)
 *   starts-non-root, read-only-root-fs, resources, image-tag   (k8s-pss.ts)
 *
 * All objects are checked together: a Service in one stack may be referenced
 * from an env var in another.
 */
import { isIP } from 'node:net';
import {
  asArray,
  asLabels,
  containersOf,
  describeContainer,
  effectiveNamespace,
  formatLabels,
  formatProblem,
  isPlainObject,
  joinPath,
  K8sObject,
  LABEL_NAME,
  LabelIndex,
  labelSelectorMatches,
  labelValueIssue,
  podsSelectedBy,
  podTemplateOf,
  Problem,
  serviceSelector,
  templateIndex,
  WorkloadPodTemplate,
  workloadPodTemplates,
} from './k8s-common';
import { checkPodHardening, checkPodSecurity, PodSecurityVersions, podSecurityMinor, podSecurityVersions } from './k8s-pss';
import { inClusterService, networkReachabilityProblems, URL_RE, urlPort } from './network';
import { loadYamlDocuments } from './_yaml';
import { checkObjectSchema, KNOWN_CUSTOM_KINDS, typeKey } from './k8s-schema';

export * from './k8s-common';

/**
 * A Service annotation naming the workloads (stable and canary tracks of one server) it selects on
 * purpose, and the split that results: `service-selector` accepts a Service selecting exactly those.
 */
export const TRAFFIC_SPLIT_ANNOTATION = 'ml.cdk8s.io/traffic-split';
export { KNOWN_CUSTOM_KINDS, modelFor, pointerToPath, rootClassFor, unknownFields } from './k8s-schema';
export { imageTagIssue } from './k8s-pss';
export { inClusterService } from './network';

// ---------------------------------------------------------------------------
// dns-1123: names
// ---------------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IANA_SVC_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** Services need DNS-1035 (a leading digit is rejected: the name becomes an env var prefix and a DNS label). */
export function isDns1035Label(s: string): boolean {
  return s.length <= 63 && DNS1035_LABEL.test(s);
}

/** IANA_SVC_NAME as validated for port names: <=15 chars, [a-z0-9-], at least one letter, no '--', no '-' at the ends. */
export function isIanaSvcName(s: string): boolean {
  return s.length <= 15 && IANA_SVC_NAME.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

/** Label key: optional DNS subdomain prefix + '/' + name (<=63, [A-Za-z0-9._-], alphanumeric at the ends). */
export function labelKeyIssue(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return `prefix "${prefix}" is not a DNS-1123 subdomain`;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name))
    return `name part "${name}" must be 1-63 chars of [A-Za-z0-9._-], alphanumeric at both ends`;
  return undefined;
}

/** RBAC objects are validated as path segments by the apiserver (`system:foo` is legal), not as DNS names. */
const PATH_SEGMENT_NAMED_KINDS: ReadonlySet<string> = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/**
 * A generateName is validated as a name prefix: apimachinery pkg/api/validation objectmeta.go
 * ValidateObjectMetaAccessor calls the kind's name function with prefix=true, which (generic.go
 * maskTrailingDash) replaces a trailing '-' and the character before it with an 'a'.
 */
function maskTrailingDash(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith('-') ? `${prefix.slice(0, -2)}a` : prefix;
}

function nameIssue(kind: unknown, field: string, name: string): string | undefined {
  if (kind === 'Service' && !isDns1035Label(name))
    return `${field} must be a DNS-1035 label (<=63 chars, lowercase alphanumerics and '-', starting with a letter)`;
  if (kind === 'Namespace' && !isDns1123Label(name))
    return `${field} must be a DNS-1123 label (<=63 chars, lowercase alphanumerics and '-', no dots)`;
  if (!isDns1123Subdomain(name))
    return `${field} must be a DNS-1123 subdomain (<=253 chars, lowercase alphanumerics, '-' and '.', alphanumeric at both ends)`;
  return undefined;
}

function metadataNameIssues(obj: K8sObject): string[] {
  const out: string[] = [];
  const name = obj?.metadata?.name;
  const generateName = obj?.metadata?.generateName;
  const kind = obj?.kind;
  if (!PATH_SEGMENT_NAMED_KINDS.has(kind)) {
    const nameProblem = typeof name === 'string' ? nameIssue(kind, `metadata.name "${name}"`, name) : undefined;
    const prefixProblem =
      typeof generateName === 'string' && generateName !== ''
        ? nameIssue(kind, `metadata.generateName "${generateName}" (a name prefix)`, maskTrailingDash(generateName))
        : undefined;
    out.push(...[nameProblem, prefixProblem].filter(isString));
  }
  const ns = obj?.metadata?.namespace;
  if (typeof ns === 'string' && !isDns1123Label(ns)) out.push(`metadata.namespace "${ns}" must be a DNS-1123 label`);
  return out;
}

function labelMapIssues(labels: unknown, at: string): string[] {
  if (!isPlainObject(labels)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const keyIssue = labelKeyIssue(k);
    if (keyIssue) out.push(`label key ${joinPath(at, k)}: ${keyIssue}`);
    const valueIssue = typeof v === 'string' ? labelValueIssue(v) : undefined;
    if (valueIssue) out.push(`label ${joinPath(at, k)}: ${valueIssue}`);
  }
  return out;
}

/**
 * apimachinery pkg/api/validation objectmeta.go ValidateAnnotations: keys are qualified names, as label
 * keys, except that case does not matter.
 */
function annotationKeyIssues(annotations: unknown, at: string): string[] {
  if (!isPlainObject(annotations)) return [];
  return Object.keys(annotations).flatMap((k) => {
    const issue = labelKeyIssue(k.toLowerCase());
    return issue ? [`annotation key ${joinPath(at, k)}: ${issue}`] : [];
  });
}

/** apimachinery pkg/util/validation IsConfigMapKey, for ConfigMap and Secret data keys (core ValidateConfigMap, ValidateSecret). */
function configMapKeyIssue(key: string): string | undefined {
  if (key.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(key)) return 'must be at most 253 characters of [-._a-zA-Z0-9]';
  if (key === '.' || key === '..' || key.startsWith('..')) return 'must not be "." or "..", nor start with ".."';
  return undefined;
}

function dataKeyIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'ConfigMap' && obj?.kind !== 'Secret') return [];
  const fields = obj.kind === 'ConfigMap' ? ['data', 'binaryData'] : ['data', 'stringData'];
  return fields.flatMap((f) =>
    Object.keys(isPlainObject(obj[f]) ? obj[f] : {}).flatMap((k) => {
      const issue = configMapKeyIssue(k);
      return issue ? [`${f} key "${k}" ${issue}`] : [];
    }),
  );
}

/** networking validateIngressRules / validateIngressTLS: hosts are DNS-1123 subdomains, a leading `*.` allowed, never IPs. */
function ingressHostIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'Ingress') return [];
  const issue = (h: unknown, at: string): string[] => {
    if (typeof h !== 'string' || h === '') return [];
    const name = h.startsWith('*.') ? h.slice(2) : h;
    if (isIP(h) !== 0 || !isDns1123Subdomain(name)) return [`${at} "${h}" must be a DNS-1123 subdomain (a leading "*." allowed), not an IP address`];
    return [];
  };
  return [
    ...asArray<{ host?: unknown }>(obj?.spec?.rules).flatMap((r, i) => issue(r?.host, `spec.rules[${i}].host`)),
    ...asArray<{ hosts?: unknown }>(obj?.spec?.tls).flatMap((t, i) => asArray(t?.hosts).flatMap((h, j) => issue(h, `spec.tls[${i}].hosts[${j}]`))),
  ];
}

/** apps ValidateStatefulSetSpec: each claim template becomes a volume of the pods, named as volumes are (DNS-1123 label). */
function claimTemplateNameIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'StatefulSet') return [];
  return asArray<any>(obj?.spec?.volumeClaimTemplates).flatMap((c, i) => {
    const name = c?.metadata?.name;
    return typeof name === 'string' && !isDns1123Label(name)
      ? [`spec.volumeClaimTemplates[${i}].metadata.name "${name}" must be a DNS-1123 label`]
      : [];
  });
}

/**
 * Every `metadata.labels`, `matchLabels` and Service `spec.selector` anywhere
 * in the object: covers pod templates, CronJob job templates, NetworkPolicy
 * and PDB selectors, affinity and topology spread without listing them.
 */
function allLabelMapIssues(obj: K8sObject): string[] {
  const out: string[] = [];
  const visit = (node: unknown, at: string, parentKey: string): void => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => visit(v, `${at}[${i}]`, parentKey));
      return;
    }
    if (!isPlainObject(node)) return;
    for (const [k, v] of Object.entries(node)) {
      const p = joinPath(at, k);
      if ((k === 'labels' && parentKey === 'metadata') || k === 'matchLabels') out.push(...labelMapIssues(v, p));
      else if (k === 'annotations' && parentKey === 'metadata') out.push(...annotationKeyIssues(v, p));
      // A CRD's schema describes fields (a `matchLabels` property with a description is not a label map).
      else if (k !== 'annotations' && k !== 'openAPIV3Schema') visit(v, p, k);
    }
  };
  visit(obj, '', '');
  if (obj?.kind === 'Service') out.push(...labelMapIssues(obj?.spec?.selector, 'spec.selector'));
  return out;
}

function containerNameIssues(t: WorkloadPodTemplate): string[] {
  const out: string[] = [];
  for (const c of containersOf(t, ['initContainers', 'containers', 'ephemeralContainers'])) {
    const name = c.container.name;
    if (typeof name === 'string' && !isDns1123Label(name)) out.push(`${c.path}.name "${name}" must be a DNS-1123 label`);
    asArray<{ name?: unknown }>(c.container.ports).forEach((p, i) => {
      if (typeof p?.name === 'string' && !isIanaSvcName(p.name))
        out.push(
          `${describeContainer(c)}: ${c.path}.ports[${i}].name "${p.name}" must be an IANA_SVC_NAME (<=15 chars, lowercase alphanumerics and '-', at least one letter, no '--')`,
        );
    });
  }
  asArray<{ name?: unknown }>(t.podSpec.volumes).forEach((v, i) => {
    if (typeof v?.name === 'string' && !isDns1123Label(v.name)) out.push(`${t.specPath}.volumes[${i}].name "${v.name}" must be a DNS-1123 label`);
  });
  return out;
}

/**
 * A Service port's name is a DNS-1123 label (pkg/apis/core/validation validation.go validateServicePort:
 * ValidateDNS1123Label), not an IANA_SVC_NAME as a container port's is: `"80"` or `http--alt` are fine.
 */
function servicePortNameIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'Service') return [];
  const out: string[] = [];
  asArray<{ name?: unknown }>(obj?.spec?.ports).forEach((p, i) => {
    if (typeof p?.name === 'string' && !isDns1123Label(p.name))
      out.push(`spec.ports[${i}].name "${p.name}" must be a DNS-1123 label (<=63 chars, lowercase alphanumerics and '-', alphanumeric at both ends)`);
  });
  return out;
}

function dnsProblems(obj: K8sObject, t: WorkloadPodTemplate | undefined): Problem[] {
  const messages = [
    ...metadataNameIssues(obj),
    ...allLabelMapIssues(obj),
    ...(t ? containerNameIssues(t) : []),
    ...servicePortNameIssues(obj),
    ...dataKeyIssues(obj),
    ...ingressHostIssues(obj),
    ...claimTemplateNameIssues(obj),
  ];
  return messages.map((message) => ({ obj, rule: 'dns-1123', message }));
}

// ---------------------------------------------------------------------------
// port-range
// ---------------------------------------------------------------------------

function portIssue(value: unknown, at: string, allowNamed: boolean): string | undefined {
  if (value === undefined) return undefined;
  // A named port (resolved by service-target-port) is an IANA_SVC_NAME: pkg/apis/core/validation
  // ValidatePortNumOrName (Service targetPort, probes) and ValidateNetworkPolicyPort: IsValidPortName.
  if (typeof value === 'string' && allowNamed)
    return isIanaSvcName(value)
      ? undefined
      : `${at} "${value}" must be a port number or an IANA_SVC_NAME (<=15 chars, lowercase alphanumerics and '-', at least one letter, no '--')`;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535) return undefined;
  return `${at} must be an integer in 1..65535 (got ${JSON.stringify(value)})`;
}

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

function containerPortIssues(t: WorkloadPodTemplate): string[] {
  const out: string[] = [];
  for (const c of containersOf(t, ['initContainers', 'containers', 'ephemeralContainers'])) {
    asArray<{ containerPort?: unknown; hostPort?: unknown }>(c.container.ports).forEach((p, i) => {
      out.push(...[portIssue(p?.containerPort, `${c.path}.ports[${i}].containerPort`, false)].filter(isString));
      if (p?.hostPort !== undefined && p.hostPort !== 0)
        out.push(...[portIssue(p.hostPort, `${c.path}.ports[${i}].hostPort`, false)].filter(isString));
    });
    for (const probe of PROBES) {
      const pr: unknown = c.container[probe];
      if (!isPlainObject(pr)) continue;
      for (const handler of ['httpGet', 'tcpSocket', 'grpc']) {
        const h = pr[handler];
        if (isPlainObject(h)) out.push(...[portIssue(h.port, `${c.path}.${probe}.${handler}.port`, handler !== 'grpc')].filter(isString));
      }
    }
  }
  return out;
}

function servicePortIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'Service') return [];
  const out: string[] = [];
  asArray<Record<string, unknown>>(obj?.spec?.ports).forEach((p, i) => {
    out.push(
      ...[
        portIssue(p?.port, `spec.ports[${i}].port`, false),
        portIssue(p?.targetPort, `spec.ports[${i}].targetPort`, true),
        portIssue(p?.nodePort, `spec.ports[${i}].nodePort`, false),
      ].filter(isString),
    );
  });
  return out;
}

function networkPolicyPortIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'NetworkPolicy') return [];
  const out: string[] = [];
  for (const dir of ['ingress', 'egress']) {
    asArray<Record<string, unknown>>(obj?.spec?.[dir]).forEach((r, ri) => {
      asArray<Record<string, unknown>>(r?.ports).forEach((p, pi) => {
        const at = `spec.${dir}[${ri}].ports[${pi}]`;
        out.push(...[portIssue(p?.port, `${at}.port`, true), portIssue(p?.endPort, `${at}.endPort`, false)].filter(isString));
      });
    });
  }
  return out;
}

/** networking validateIngressBackend: a Service backend's port number is a port. */
function ingressPortIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'Ingress') return [];
  const backends: Array<[unknown, string]> = [[obj?.spec?.defaultBackend, 'spec.defaultBackend']];
  asArray<any>(obj?.spec?.rules).forEach((r, i) =>
    asArray<any>(r?.http?.paths).forEach((p, j) => backends.push([p?.backend, `spec.rules[${i}].http.paths[${j}].backend`])),
  );
  return backends.flatMap(([b, at]) => {
    const port = (b as any)?.service?.port;
    return [portIssue(port?.number, `${at}.service.port.number`, false)].filter(isString);
  });
}

function isString(v: string | undefined): v is string {
  return v !== undefined;
}

function portRangeProblems(obj: K8sObject, t: WorkloadPodTemplate | undefined): Problem[] {
  const messages = [...(t ? containerPortIssues(t) : []), ...servicePortIssues(obj), ...networkPolicyPortIssues(obj), ...ingressPortIssues(obj)];
  return messages.map((message) => ({ obj, rule: 'port-range', message }));
}

// ---------------------------------------------------------------------------
// service-selector, workload-selector, service-target-port
// ---------------------------------------------------------------------------

/** Checks one Service's selector; returns the single selected workload when there is exactly one. */
function serviceSelectorProblems(
  svc: K8sObject,
  templates: LabelIndex<WorkloadPodTemplate>,
): { problems: Problem[]; target?: WorkloadPodTemplate; targets?: WorkloadPodTemplate[] } {
  const sel = serviceSelector(svc);
  if (!sel) return { problems: [] };
  const selected = podsSelectedBy(svc, templates);
  if (selected.length === 1) return { problems: [], target: selected[0] };
  // Tracks of one server (stable and canary) behind one Service, declared by the split annotation naming each.
  const split = svc?.metadata?.annotations?.[TRAFFIC_SPLIT_ANNOTATION];
  if (selected.length > 1 && typeof split === 'string') {
    const named = new Set(split.split(/[^a-z0-9-]+/));
    if (selected.every((t) => named.has(t.name))) return { problems: [], targets: selected };
  }
  const rule = 'service-selector';
  if (selected.length === 0) {
    return { problems: [{ obj: svc, rule, message: `spec.selector ${formatLabels(sel)} selects no pods in namespace ${effectiveNamespace(svc)}` }] };
  }
  const [first, ...others] = selected;
  return {
    problems: others.map((o) => ({
      obj: svc,
      rule,
      message: `spec.selector ${formatLabels(sel)} selects the pods of ${first.ref} but also selects the pods of ${o.ref}`,
    })),
  };
}

/** A controller whose selector does not match its own template is rejected by the apiserver ("selector does not match template labels"). */
function workloadSelectorProblems(t: WorkloadPodTemplate): Problem[] {
  if (t.kind === 'Pod' || t.kind === 'CronJob') return [];
  const selector = t.obj?.spec?.selector;
  // Jobs generate their selector unless manualSelector is set.
  if (t.kind === 'Job' && selector === undefined) return [];
  if (t.kind === 'ReplicationController') {
    const sel = asLabels(selector);
    if (Object.keys(sel).length === 0 || Object.entries(sel).every(([k, v]) => t.labels[k] === v)) return [];
    return [
      {
        obj: t.obj,
        rule: 'workload-selector',
        message: `spec.selector ${formatLabels(sel)} does not match template labels ${formatLabels(t.labels)}`,
      },
    ];
  }
  if (!isPlainObject(selector)) {
    return [{ obj: t.obj, rule: 'workload-selector', message: 'spec.selector is required' }];
  }
  if (labelSelectorMatches(selector, t.labels)) return [];
  return [
    {
      obj: t.obj,
      rule: 'workload-selector',
      message: `spec.selector.matchLabels ${formatLabels(asLabels(selector.matchLabels))} does not match ${t.specPath.replace(/\.spec$/, '')}.metadata.labels ${formatLabels(t.labels)}`,
    },
  ];
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

function targetPortProblems(svc: K8sObject, target: WorkloadPodTemplate): Problem[] {
  const ports = exposedPorts(target);
  const problems: Problem[] = [];
  asArray<Record<string, unknown>>(svc?.spec?.ports).forEach((sp, i) => {
    const wanted = sp?.targetPort ?? sp?.port;
    const protocol = String(sp?.protocol ?? 'TCP');
    const hit = ports.some((p) => p.protocol === protocol && (typeof wanted === 'string' ? p.name === wanted : p.number === wanted));
    if (!hit) {
      const field = sp?.targetPort === undefined ? 'port' : 'targetPort';
      problems.push({
        obj: svc,
        rule: 'service-target-port',
        message: `spec.ports[${i}].${field} ${JSON.stringify(wanted)}/${protocol} matches no container port of ${target.ref} (${describeExposed(ports)})`,
      });
    }
  });
  return problems;
}

function serviceProblems(objects: readonly K8sObject[], templates: readonly WorkloadPodTemplate[]): Problem[] {
  const problems: Problem[] = [];
  const index = templateIndex(templates);
  for (const svc of objects) {
    if (svc?.kind !== 'Service') continue;
    const { problems: selProblems, target, targets } = serviceSelectorProblems(svc, index);
    problems.push(...selProblems);
    for (const t of target ? [target] : (targets ?? [])) problems.push(...targetPortProblems(svc, t));
  }
  return problems;
}

// ---------------------------------------------------------------------------
// env-url
// ---------------------------------------------------------------------------

/** Services by `namespace/name`, with their ports. */
type ServiceIndex = ReadonlyMap<string, readonly number[]>;

function indexServices(objects: readonly K8sObject[]): ServiceIndex {
  const index = new Map<string, number[]>();
  for (const o of objects) {
    if (o?.kind !== 'Service' || typeof o?.metadata?.name !== 'string') continue;
    const ports = asArray<{ port?: unknown }>(o?.spec?.ports)
      .map((p) => p?.port)
      .filter((p): p is number => typeof p === 'number');
    index.set(`${effectiveNamespace(o)}/${o.metadata.name}`, ports);
  }
  return index;
}

function envUrlIssues(url: string, podNamespace: string, services: ServiceIndex, namespaces: ReadonlySet<string>): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url} is not a valid URL`;
  }
  const target = inClusterService(parsed.hostname, podNamespace, namespaces);
  if (!target) return undefined;
  const key = `${target.namespace}/${target.name}`;
  const ports = services.get(key);
  if (ports === undefined) return `${url} names Service ${key}, which is not among the manifests`;
  const port = urlPort(parsed);
  if (!ports.includes(port)) return `${url} uses port ${port}, but Service ${key} exposes ${ports.length ? ports.join(', ') : 'no ports'}`;
  return undefined;
}

function envUrlProblems(t: WorkloadPodTemplate, services: ServiceIndex, namespaces: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  for (const c of containersOf(t)) {
    asArray<{ name?: unknown; value?: unknown }>(c.container.env).forEach((e, i) => {
      if (typeof e?.value !== 'string' || !e.value.includes('://')) return;
      for (const url of e.value.match(URL_RE) ?? []) {
        const issue = envUrlIssues(url, t.namespace, services, namespaces);
        if (issue)
          problems.push({
            obj: t.obj,
            rule: 'env-url',
            message: `${describeContainer(c)}: env ${String(e.name)} (${c.path}.env[${i}].value): ${issue}`,
          });
      }
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------
// duplicate-env
// ---------------------------------------------------------------------------

/**
 * A variable listed twice in one container: the API server keeps both, but server-side apply fails
 * on the duplicate key of the list (env is keyed by name) and client-side apply keeps one value.
 */
function duplicateEnvProblems(t: WorkloadPodTemplate): Problem[] {
  const problems: Problem[] = [];
  for (const c of containersOf(t, ['initContainers', 'containers', 'ephemeralContainers'])) {
    const first = new Map<string, number>();
    asArray<{ name?: unknown }>(c.container.env).forEach((e, i) => {
      if (typeof e?.name !== 'string') return;
      const at = first.get(e.name);
      if (at === undefined) first.set(e.name, i);
      else
        problems.push({
          obj: t.obj,
          rule: 'duplicate-env',
          message: `${describeContainer(c)}: env ${e.name} is listed twice (${c.path}.env[${at}] and env[${i}]): server-side apply rejects the duplicate key`,
        });
    });
  }
  return problems;
}

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
}

function perObjectProblems(obj: K8sObject, pss: PodSecurityVersions): Problem[] {
  if (!isPlainObject(obj)) return [{ obj, rule: 'schema', message: `expected an object, got ${JSON.stringify(obj)}` }];
  const t = podTemplateOf(obj);
  const problems = [...checkObjectSchema(obj)];
  if (KNOWN_CUSTOM_KINDS.has(typeKey(obj))) return problems;
  problems.push(...dnsProblems(obj, t), ...portRangeProblems(obj, t));
  if (t) problems.push(...workloadSelectorProblems(t), ...checkPodSecurity(t, pss.minorOf(t)), ...checkPodHardening(t));
  if (t) problems.push(...duplicateEnvProblems(t));
  return problems;
}

/**
 * Every problem of a set of manifests, checked together, with the object each is about (so a
 * caller that read them from several files can say which file).
 */
export function findManifestProblems(objects: readonly K8sObject[], options: CheckOptions = {}): Problem[] {
  const pss = podSecurityVersions(objects, podSecurityMinor(options.podSecurityVersion));
  const templates = workloadPodTemplates(objects);
  const services = indexServices(objects);
  const namespaces = new Set<string>(objects.filter(isPlainObject).map(effectiveNamespace));
  for (const o of objects) if (o?.kind === 'Namespace' && typeof o?.metadata?.name === 'string') namespaces.add(o.metadata.name);
  return [
    ...objects.flatMap((o) => perObjectProblems(o, pss)),
    ...pss.problems,
    ...serviceProblems(objects, templates),
    ...templates.flatMap((t) => envUrlProblems(t, services, namespaces)),
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
  return loadYamlDocuments(text).filter((value) => value !== null && value !== undefined);
}
