/**
 * The Gateway API's HTTPRoute (gateway.networking.k8s.io/v1), which kubernetes-models and
 * @kubernetes/client-node do not model: its field table for `unknown-field` (in the format of
 * k8s-fields.json) and the `schema` rules of its CRD (gateway-api v1.x config/crd/standard
 * gateway.networking.k8s.io_httproutes.yaml: required fields, enums, ranges, list limits and the
 * CEL rule that a Service backendRef has a port). Only the standard channel's fields.
 */
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

const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOSTNAME_RE = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** `schema` for a Gateway API object of GATEWAY_API_ROOTS. */
export function gatewaySchemaProblems(obj: K8sObject): Problem[] {
  const out: string[] = [];
  const str = (v: unknown, at: string, max: number) => {
    if (typeof v !== 'string' || v.length < 1 || v.length > max) out.push(`${at} must be a string of 1..${max} characters`);
  };
  const int = (v: unknown, at: string, min: number, max: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) out.push(`${at} must be an integer from ${min} to ${max}`);
  };
  const list = (v: unknown, at: string, max: number, required = false): unknown[] => {
    if (v === undefined) {
      if (required) out.push(`${at} is required`);
      return [];
    }
    if (!Array.isArray(v)) {
      out.push(`${at} must be a list`);
      return [];
    }
    if (v.length > max) out.push(`${at} has ${v.length} items; at most ${max}`);
    return v;
  };
  // As for every kind (objectmeta.go ValidateObjectMetaAccessor): a create may give generateName instead.
  const named = (v: unknown) => typeof v === 'string' && v !== '';
  if (!named(obj?.metadata?.name) && !named(obj?.metadata?.generateName))
    out.push('metadata.name is required (or metadata.generateName, with kubectl create)');
  const spec = obj?.spec;
  if (!isPlainObject(spec)) out.push('spec is required');
  else {
    list(spec.parentRefs, 'spec.parentRefs', 32).forEach((p: any, i) => {
      const at = `spec.parentRefs[${i}]`;
      str(p?.name, `${at}.name`, 253);
      if (p?.namespace !== undefined && (typeof p.namespace !== 'string' || !NAMESPACE_RE.test(p.namespace) || p.namespace.length > 63))
        out.push(`${at}.namespace must be a namespace name`);
      if (p?.port !== undefined) int(p.port, `${at}.port`, 1, 65535);
    });
    list(spec.hostnames, 'spec.hostnames', 16).forEach((h, i) => {
      if (typeof h !== 'string' || h.length > 253 || !HOSTNAME_RE.test(h))
        out.push(`spec.hostnames[${i}] must be a DNS host name (a leading *. allowed)`);
    });
    list(spec.rules, 'spec.rules', 16).forEach((r: any, i) => {
      const at = `spec.rules[${i}]`;
      list(r?.matches, `${at}.matches`, 64).forEach((m: any, j) => {
        const path = m?.path;
        if (path !== undefined) {
          if (!['Exact', 'PathPrefix', 'RegularExpression'].includes(path?.type ?? 'PathPrefix'))
            out.push(`${at}.matches[${j}].path.type must be Exact, PathPrefix or RegularExpression`);
          if (
            path?.value !== undefined &&
            (typeof path.value !== 'string' ||
              path.value.length > 1024 ||
              ((path.type ?? 'PathPrefix') !== 'RegularExpression' && !path.value.startsWith('/')))
          ) {
            out.push(`${at}.matches[${j}].path.value must be an absolute path (starting with '/', at most 1024 characters)`);
          }
        }
        if (m?.method !== undefined && !METHODS.includes(m.method)) out.push(`${at}.matches[${j}].method must be one of ${METHODS.join(', ')}`);
      });
      list(r?.backendRefs, `${at}.backendRefs`, 16).forEach((b: any, j) => {
        const bat = `${at}.backendRefs[${j}]`;
        str(b?.name, `${bat}.name`, 253);
        // CEL: "Must have port for Service reference"
        if ((b?.group ?? '') === '' && (b?.kind ?? 'Service') === 'Service' && b?.port === undefined)
          out.push(`${bat}.port is required for a Service backend`);
        if (b?.port !== undefined) int(b.port, `${bat}.port`, 1, 65535);
        if (b?.weight !== undefined) int(b.weight, `${bat}.weight`, 0, 1000000);
      });
    });
  }
  return out.map((message) => ({ obj, rule: 'schema', message }));
}
