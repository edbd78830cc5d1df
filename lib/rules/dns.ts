/**
 * Kubernetes names, one reading each (k8s.io/apimachinery/pkg/util/validation/validation.go): what
 * the constructs check their props against and what `cdk8s-ml check` checks the output against.
 */

/** One DNS-1123 label without the length limit: lowercase alphanumerics and '-', alphanumeric at both ends. */
export const DNS1123_LABEL_PATTERN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${DNS1123_LABEL_PATTERN}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_LABEL_PATTERN}(\\.${DNS1123_LABEL_PATTERN})*$`);
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** The name part of a qualified name, and a non-empty label value: [A-Za-z0-9._-], alphanumeric at both ends. */
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** IsDNS1123Label: namespaces, container, volume and most object names; at most 63 characters. */
export function isDns1123Label(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 63 && DNS1123_LABEL.test(v);
}

/** IsDNS1123Subdomain: most object names, Secret, ConfigMap, PVC names, label key prefixes; at most 253. */
export function isDns1123Subdomain(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 253 && DNS1123_SUBDOMAIN.test(v);
}

/** Services need DNS-1035 (a leading digit is rejected: the name becomes an env var prefix and a DNS label). */
export function isDns1035Label(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 63 && DNS1035_LABEL.test(v);
}

/** IANA_SVC_NAME as validated for port names: <=15 chars, [a-z0-9-], at least one letter, no '--', no '-' at the ends. */
export function isIanaSvcName(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 15 && DNS1123_LABEL.test(v) && /[a-z]/.test(v) && !v.includes('--');
}

/**
 * Why a label key (IsQualifiedName: label and annotation keys, taint keys) is not one, or undefined:
 * an optional DNS-1123 subdomain prefix and '/', then a name of 1-63 of [A-Za-z0-9._-], alphanumeric at both ends.
 */
export function labelKeyIssue(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return `prefix "${prefix}" is not a DNS-1123 subdomain`;
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name))
    return `name part "${name}" must be 1-63 chars of [A-Za-z0-9._-], alphanumeric at both ends`;
  return undefined;
}

/** Why a label value (IsValidLabelValue: empty, or at most 63 of [A-Za-z0-9._-], alphanumeric at both ends) is not one, or undefined. */
export function labelValueIssue(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !QUALIFIED_NAME.test(value))
    return `value "${value}" must be at most 63 chars of [A-Za-z0-9._-], alphanumeric at both ends`;
  return undefined;
}

/** IsQualifiedName: label and annotation keys, taint keys. */
export function isQualifiedName(v: unknown): v is string {
  return typeof v === 'string' && labelKeyIssue(v) === undefined;
}

/** IsValidLabelValue. */
export function isLabelValue(v: unknown): v is string {
  return typeof v === 'string' && labelValueIssue(v) === undefined;
}
