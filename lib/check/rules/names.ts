/**
 * Family `dns-1123`: names, label keys and values, annotation and data keys, hosts and port names
 * the apiserver would reject. The readings of the names themselves are lib/rules/dns.ts, shared with the constructs.
 */
import { isIP } from 'node:net';
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, isIanaSvcName, labelKeyIssue, labelValueIssue } from '../../rules/dns';
import { asArray, containersOf, describeContainer, isPlainObject, joinPath, K8sObject, WorkloadPodTemplate, field, arrayAt } from '../k8s-common';
import { isString, ObjectInput, ObjectRule } from './rule';

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
  const name = field(obj, 'metadata', 'name');
  const generateName = field(obj, 'metadata', 'generateName');
  const kind = obj?.kind;
  if (typeof kind !== 'string' || !PATH_SEGMENT_NAMED_KINDS.has(kind)) {
    const nameProblem = typeof name === 'string' ? nameIssue(kind, `metadata.name "${name}"`, name) : undefined;
    const prefixProblem =
      typeof generateName === 'string' && generateName !== ''
        ? nameIssue(kind, `metadata.generateName "${generateName}" (a name prefix)`, maskTrailingDash(generateName))
        : undefined;
    out.push(...[nameProblem, prefixProblem].filter(isString));
  }
  const ns = field(obj, 'metadata', 'namespace');
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
    ...asArray<{ host?: unknown }>(field(obj, 'spec', 'rules')).flatMap((r, i) => issue(r?.host, `spec.rules[${i}].host`)),
    ...asArray<{ hosts?: unknown }>(field(obj, 'spec', 'tls')).flatMap((t, i) =>
      asArray(t?.hosts).flatMap((h, j) => issue(h, `spec.tls[${i}].hosts[${j}]`)),
    ),
  ];
}

/** apps ValidateStatefulSetSpec: each claim template becomes a volume of the pods, named as volumes are (DNS-1123 label). */
function claimTemplateNameIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'StatefulSet') return [];
  return arrayAt(obj, 'spec', 'volumeClaimTemplates').flatMap((c, i) => {
    const name = isPlainObject(c) && isPlainObject(c.metadata) ? c.metadata.name : undefined;
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
  if (obj?.kind === 'Service') out.push(...labelMapIssues(field(obj, 'spec', 'selector'), 'spec.selector'));
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
          `${describeContainer(c)}: ${c.path}.ports[${i}].name "${p.name}" must be an IANA_SVC_NAME (<=15 chars, lowercase ` +
            `alphanumerics and '-', at least one letter, no '--')`,
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
  asArray<{ name?: unknown }>(field(obj, 'spec', 'ports')).forEach((p, i) => {
    if (typeof p?.name === 'string' && !isDns1123Label(p.name))
      out.push(`spec.ports[${i}].name "${p.name}" must be a DNS-1123 label (<=63 chars, lowercase alphanumerics and '-', alphanumeric at both ends)`);
  });
  return out;
}

export const DNS_1123: ObjectRule = {
  id: 'dns-1123',
  summary: 'names, label keys/values, annotation and data keys, hosts and port names the apiserver would reject',
  fix: "rename to what the message asks for (lowercase alphanumerics and '-', within the length limit)",
  check: ({ obj, t }: ObjectInput): string[] => [
    ...metadataNameIssues(obj),
    ...allLabelMapIssues(obj),
    ...(t ? containerNameIssues(t) : []),
    ...servicePortNameIssues(obj),
    ...dataKeyIssues(obj),
    ...ingressHostIssues(obj),
    ...claimTemplateNameIssues(obj),
  ],
};
