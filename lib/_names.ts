import { IConstruct } from 'constructs';
import { fail } from './_errors';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDnsLabel(s: string): boolean {
  return s.length <= 63 && DNS_LABEL.test(s);
}

/** IANA service name: what Kubernetes accepts as a port name. */
export function isPortName(s: string): boolean {
  return s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

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
  if (name.length > maxLen || !DNS_LABEL.test(name)) {
    fail(scope, prop, `must be a DNS-1123 label (lowercase letters, digits and '-', start and end alphanumeric, at most ${maxLen} characters)`,
      name, `pass a name such as '${toDnsLabel(name).slice(0, maxLen) || 'model-server'}'`);
  }
  return name;
}
