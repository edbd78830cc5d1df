/**
 * The Gateway API's HTTPRoute (gateway.networking.k8s.io/v1), which kubernetes-models and
 * @kubernetes/client-node do not model: its field table for `unknown-field` (in the format of
 * k8s-fields.json) and the `schema` rules of its CRD (gateway-api v1.x config/crd/standard
 * gateway.networking.k8s.io_httproutes.yaml: required fields, enums, ranges, list limits and the
 * CEL rule that a Service backendRef has a port). Only the standard channel's fields.
 */
import { DNS1123_LABEL_PATTERN, isDns1123Label } from '../rules/dns';
import { isPlainObject, K8sObject, Problem } from './k8s-common';

/** `apiVersion/kind` -> root class of the table. */
export const GATEWAY_API_ROOTS: Readonly<Record<string, string>> = {
  'gateway.networking.k8s.io/v1/HTTPRoute': 'GatewayV1HTTPRoute',
};

/** class -> field -> type, as k8s-fields.json ('object' is a leaf: filters are not walked). */
export const GATEWAY_API_FIELDS: Readonly<Record<string, Record<string, string>>> = {
  GatewayV1HTTPRoute: { apiVersion: 'string', kind: 'string', metadata: 'V1ObjectMeta', spec: 'GatewayV1HTTPRouteSpec', status: 'object' },
  GatewayV1HTTPRouteSpec: { parentRefs: 'Array<GatewayV1ParentReference>', hostnames: 'Array<string>', rules: 'Array<GatewayV1HTTPRouteRule>' },
  GatewayV1ParentReference: { group: 'string', kind: 'string', namespace: 'string', name: 'string', sectionName: 'string', port: 'number' },
  GatewayV1HTTPRouteRule: {
    name: 'string',
    matches: 'Array<GatewayV1HTTPRouteMatch>',
    filters: 'Array<object>',
    backendRefs: 'Array<GatewayV1HTTPBackendRef>',
    timeouts: 'GatewayV1HTTPRouteTimeouts',
    sessionPersistence: 'object',
  },
  GatewayV1HTTPRouteMatch: {
    path: 'GatewayV1HTTPPathMatch',
    headers: 'Array<GatewayV1HTTPHeaderMatch>',
    queryParams: 'Array<GatewayV1HTTPHeaderMatch>',
    method: 'string',
  },
  GatewayV1HTTPPathMatch: { type: 'string', value: 'string' },
  GatewayV1HTTPHeaderMatch: { type: 'string', name: 'string', value: 'string' },
  GatewayV1HTTPBackendRef: {
    group: 'string',
    kind: 'string',
    name: 'string',
    namespace: 'string',
    port: 'number',
    weight: 'number',
    filters: 'Array<object>',
  },
  GatewayV1HTTPRouteTimeouts: { request: 'string', backendRequest: 'string' },
};

const HOSTNAME_RE = new RegExp(`^(\\*\\.)?${DNS1123_LABEL_PATTERN}(\\.${DNS1123_LABEL_PATTERN})*$`);
const METHODS: readonly unknown[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** A field of a value that may not be an object: a guarded `v?.key`. */
function get(v: unknown, key: string): unknown {
  return isPlainObject(v) ? v[key] : undefined;
}

/** The messages of one object, with the checks of the shapes the CRD's schema gives its fields. */
class Issues {
  readonly out: string[] = [];

  str(v: unknown, at: string, max: number): void {
    if (typeof v !== 'string' || v.length < 1 || v.length > max) this.out.push(`${at} must be a string of 1..${max} characters`);
  }

  int(v: unknown, at: string, min: number, max: number): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.out.push(`${at} must be an integer from ${min} to ${max}`);
  }

  list(v: unknown, at: string, max: number, required = false): unknown[] {
    if (v === undefined) {
      if (required) this.out.push(`${at} is required`);
      return [];
    }
    if (!Array.isArray(v)) {
      this.out.push(`${at} must be a list`);
      return [];
    }
    if (v.length > max) this.out.push(`${at} has ${v.length} items; at most ${max}`);
    return v;
  }
}

function parentRefIssues(spec: Record<string, unknown>, is: Issues): void {
  is.list(spec.parentRefs, 'spec.parentRefs', 32).forEach((p, i) => {
    const at = `spec.parentRefs[${i}]`;
    is.str(get(p, 'name'), `${at}.name`, 253);
    const namespace = get(p, 'namespace');
    if (namespace !== undefined && !isDns1123Label(namespace)) is.out.push(`${at}.namespace must be a namespace name`);
    if (get(p, 'port') !== undefined) is.int(get(p, 'port'), `${at}.port`, 1, 65535);
  });
}

function matchIssues(rule: unknown, at: string, is: Issues): void {
  is.list(get(rule, 'matches'), `${at}.matches`, 64).forEach((m, j) => {
    const path = get(m, 'path');
    if (path !== undefined) {
      const type = get(path, 'type') ?? 'PathPrefix';
      const value = get(path, 'value');
      if (!['Exact', 'PathPrefix', 'RegularExpression'].includes(type as string))
        is.out.push(`${at}.matches[${j}].path.type must be Exact, PathPrefix or RegularExpression`);
      if (value !== undefined && (typeof value !== 'string' || value.length > 1024 || (type !== 'RegularExpression' && !value.startsWith('/')))) {
        is.out.push(`${at}.matches[${j}].path.value must be an absolute path (starting with '/', at most 1024 characters)`);
      }
    }
    const method = get(m, 'method');
    if (method !== undefined && !METHODS.includes(method)) is.out.push(`${at}.matches[${j}].method must be one of ${METHODS.join(', ')}`);
  });
}

function backendRefIssues(rule: unknown, at: string, is: Issues): void {
  is.list(get(rule, 'backendRefs'), `${at}.backendRefs`, 16).forEach((b, j) => {
    const bat = `${at}.backendRefs[${j}]`;
    const port = get(b, 'port');
    is.str(get(b, 'name'), `${bat}.name`, 253);
    // CEL: "Must have port for Service reference"
    if ((get(b, 'group') ?? '') === '' && (get(b, 'kind') ?? 'Service') === 'Service' && port === undefined)
      is.out.push(`${bat}.port is required for a Service backend`);
    if (port !== undefined) is.int(port, `${bat}.port`, 1, 65535);
    if (get(b, 'weight') !== undefined) is.int(get(b, 'weight'), `${bat}.weight`, 0, 1000000);
  });
}

/** `schema` for a Gateway API object of GATEWAY_API_ROOTS. */
export function gatewaySchemaProblems(obj: K8sObject): Problem[] {
  const is = new Issues();
  // As for every kind (objectmeta.go ValidateObjectMetaAccessor): a create may give generateName instead.
  const named = (v: unknown) => typeof v === 'string' && v !== '';
  const metadata = get(obj, 'metadata');
  if (!named(get(metadata, 'name')) && !named(get(metadata, 'generateName')))
    is.out.push('metadata.name is required (or metadata.generateName, with kubectl create)');
  const spec = get(obj, 'spec');
  if (!isPlainObject(spec)) is.out.push('spec is required');
  else {
    parentRefIssues(spec, is);
    is.list(spec.hostnames, 'spec.hostnames', 16).forEach((h, i) => {
      if (typeof h !== 'string' || h.length > 253 || !HOSTNAME_RE.test(h))
        is.out.push(`spec.hostnames[${i}] must be a DNS host name (a leading *. allowed)`);
    });
    is.list(spec.rules, 'spec.rules', 16).forEach((r, i) => {
      matchIssues(r, `spec.rules[${i}]`, is);
      backendRefIssues(r, `spec.rules[${i}]`, is);
    });
  }
  return is.out.map((message) => ({ obj, rule: 'schema', message }));
}
