import { IConstruct } from 'constructs';
import { fail } from './_errors';
import { isDns1035Label, isDns1123Label, isIanaSvcName } from './rules/dns';

/** isDnsLabel: a DNS-1123 label; isPortName: an IANA service name, what Kubernetes accepts as a port name (lib/rules/dns.ts). */
export { isDns1123Label as isDnsLabel, isIanaSvcName as isPortName };

/**
 * A DNS-1123 label derived from a construct id: lowercased, anything else becomes '-'. Used for the
 * stable, readable names of everything we emit (no hash suffix, so a rename shows in review).
 */
export function toDnsLabel(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Validate an explicit or derived resource name; `maxLen` leaves room for suffixes we append. */
export function checkName(scope: IConstruct, prop: string, name: string, maxLen = 63): string {
  if (typeof name !== 'string' || name.length > maxLen || !isDns1123Label(name)) {
    fail(
      scope,
      prop,
      `must be a DNS-1123 label (lowercase letters, digits and '-', start and end alphanumeric, at most ${maxLen} characters)`,
      name,
      `pass a name such as '${(typeof name === 'string' ? toDnsLabel(name).slice(0, maxLen) : '') || 'model-server'}'`,
    );
  }
  return name;
}

/**
 * Why a name cannot name a Service, or undefined. Service names are DNS-1035 labels: the API server
 * validates metadata.name of a Service with NameIsDNS1035Label (ValidateServiceName), so unlike
 * other objects' names they must start with a letter.
 */
export function serviceNameProblem(name: string): string | undefined {
  if (isDns1035Label(name)) return isUrlHostLabel(name) ? undefined : PUNYCODE_PROBLEM;
  return (
    'must start with a lowercase letter: it names a Service, and Kubernetes validates Service names as DNS-1035 labels (lowercase ' +
    "letters, digits and '-', starting with a letter, at most 63 characters)"
  );
}

const PUNYCODE_PROBLEM =
  "starts with 'xn--' but is not valid punycode: it is part of the Service's URL (http://<service>.<namespace>.svc), which URL parsers " +
  "(WHATWG URL, Python's idna codec) then reject";

/**
 * A DNS label that URL parsers accept as a host label. Kubernetes allows 'xn--' labels that are not
 * valid punycode (IDNA A-labels), but a URL with one does not parse: `new URL('http://xn--a.svc')` throws.
 */
export function isUrlHostLabel(label: string): boolean {
  if (!label.startsWith('xn--')) return true;
  try {
    return new URL(`http://${label}.svc`).hostname === `${label}.svc`;
  } catch {
    return false;
  }
}

/** A name for a Service with a leading digit moved to the end: '1api' -> 'api-1', '2' -> 'svc-2'. */
export function serviceNameSuggestion(name: string): string {
  const m = /^([0-9-]+)(.*)$/.exec(toDnsLabel(name));
  if (!m) return toDnsLabel(name).slice(0, 63).replace(/-+$/, '') || 'svc';
  const digits = m[1].replace(/-+/g, '-').replace(/^-|-$/g, '');
  return (m[2] ? `${m[2]}-${digits}` : `svc-${digits}`).replace(/-+$/, '').slice(0, 63).replace(/-+$/, '');
}

/** Validate the name of a workload that gets a Service (servers, distributed jobs' headless Service). */
export function checkServiceName(scope: IConstruct, prop: string, name: string): string {
  const why = serviceNameProblem(name);
  if (why) fail(scope, prop, why, name, `pass name: '${serviceNameSuggestion(name)}', or give the construct an id that starts with a letter`);
  return name;
}
