/**
 * Rules `schema` and `unknown-field`.
 *
 * `schema` validates with kubernetes-models (OpenAPI schema through ajv): wrong
 * types, bad enums, missing required fields. That schema tolerates unknown
 * keys, which is exactly how a typo such as `runAsNonroot` ships silently
 * (kubectl with client-side apply drops it, or the apiserver warns and drops
 * it), so `unknown-field` walks every object against the field table of every API type
 * (k8s-fields.json, generated from @kubernetes/client-node by scripts/gen-k8s-fields.mjs).
 */
import { isPlainObject, joinPath, K8sObject, Problem, field } from './k8s-common';
import { GATEWAY_API_FIELDS, GATEWAY_API_ROOTS, gatewaySchemaProblems } from './gateway-api';
import { serverValidationProblems } from './k8s-validation';

/**
 * apiVersion/kind pairs (`group/version/Kind`) that have no kubernetes-models
 * class but are expected in the output: CRD instances (Argo CD's Application is
 * what this library writes). They skip `schema` and `unknown-field`; add your
 * own CRDs' kinds to it, or every instance is reported as an unknown kind.
 */
export const KNOWN_CUSTOM_KINDS: Set<string> = new Set(['argoproj.io/v1alpha1/Application']);

export function typeKey(obj: K8sObject): string {
  return `${obj?.apiVersion}/${obj?.kind}`;
}

// ---------------------------------------------------------------------------
// schema: kubernetes-models
// ---------------------------------------------------------------------------

interface ModelClass {
  new (data: unknown): { validate(): void };
  apiVersion: string;
  kind: string;
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

// Both strings end up in a require() path: accept only what real apiVersions/kinds look like.
const API_VERSION_RE = /^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?\/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;
const KIND_RE = /^[A-Z][A-Za-z0-9]*$/;

const modelCache = new Map<string, ModelClass | null>();

/**
 * kubernetes-models lays out one module per type: `kubernetes-models/<group>/<version>/<Kind>`,
 * with the core group at `kubernetes-models/v1/<Kind>`. The static apiVersion/kind
 * check rejects non-root types that share the directory (e.g. `DeploymentSpec`).
 */
export function modelFor(apiVersion: string, kind: string): ModelClass | null {
  const key = `${apiVersion}/${kind}`;
  const cached = modelCache.get(key);
  if (cached !== undefined) return cached;
  let found: ModelClass | null = null;
  if (API_VERSION_RE.test(apiVersion) && KIND_RE.test(kind)) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, unknown>;
      const cls = mod[kind] as ModelClass | undefined;
      if (typeof cls === 'function' && cls.apiVersion === apiVersion && cls.kind === kind) found = cls;
    } catch {
      found = null;
    }
  }
  modelCache.set(key, found);
  return found;
}

/** `/spec/containers/0/name` -> `spec.containers[0].name` */
export function pointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out = /^[0-9]+$/.test(seg) ? `${out}[${seg}]` : joinPath(out, seg);
  }
  return out === '' ? '<root>' : out;
}

/**
 * The API server decodes JSON as Go's encoding/json does (sigs.k8s.io/json): a null leaves a field
 * unset and a null map value is the zero value (`example.com/owner:` with no value is an annotation ""),
 * and strict field validation accepts both. The schema would call them the wrong type.
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/**
 * Fields the OpenAPI schema (kubernetes-models 4.5) marks required that the current API server does
 * not require, as `Kind instancePath/property`.
 */
const NOT_ENFORCED: ReadonlySet<string> = new Set([
  // k8s.io/api networking/v1 types.go NetworkPolicySpec.PodSelector: "+optional ... defaults to an empty selector".
  'NetworkPolicy /spec/podSelector',
  // k8s.io/api scheduling/v1 PriorityClass.Value is a plain int32: a missing value decodes as 0, which
  // pkg/apis/scheduling/validation ValidatePriorityClass accepts.
  'PriorityClass /value',
]);

function requirementNotEnforced(obj: K8sObject, e: AjvLikeError): boolean {
  const missing = e.params?.missingProperty;
  return typeof missing === 'string' && NOT_ENFORCED.has(`${obj?.kind} ${e.instancePath ?? ''}/${missing}`);
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

function valueAt(obj: unknown, pointer: string): unknown {
  let v: unknown = obj;
  for (const raw of pointer.split('/').slice(1)) {
    if (v === undefined || v === null) return undefined;
    // Object(): arrays are indexed by the pointer's "0", "1"... as by any key.
    v = (Object(v) as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return v;
}

function describeAjvError(e: AjvLikeError, obj: K8sObject): string {
  const where = pointerToPath(e.instancePath ?? '');
  const params = e.params ?? {};
  let detail = e.message ?? 'is invalid';
  if (Array.isArray(params.allowedValues)) detail += ` (allowed: ${params.allowedValues.join(', ')})`;
  const got = valueAt(obj, e.instancePath ?? '');
  // The manifest is read as kubectl reads it (YAML 1.1, see _yaml.ts): say why a string became something else.
  if (params.type === 'string' && (typeof got === 'boolean' || typeof got === 'number')) {
    detail +=
      ` (got ${JSON.stringify(got)}: kubectl reads an unquoted yes/no/on/off/y/n/true/false as a boolean and 1_000, 0777 or ` +
      `0x1F as a number; quote the value)`;
  }
  return `${where} ${detail}`;
}

function schemaProblems(obj: K8sObject): Problem[] {
  const problems: Problem[] = [];
  const apiVersion = obj?.apiVersion;
  const kind = obj?.kind;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return [
      {
        obj,
        rule: 'schema',
        message: `apiVersion and kind must be strings (got apiVersion=${JSON.stringify(apiVersion)}, kind=${JSON.stringify(kind)})`,
      },
    ];
  }
  const Model = modelFor(apiVersion, kind);
  if (!Model) {
    return [
      {
        obj,
        rule: 'schema',
        message: `no Kubernetes model for apiVersion "${apiVersion}" kind "${kind}" (a typo, or a CRD missing from KNOWN_CUSTOM_KINDS)`,
      },
    ];
  }
  try {
    new Model(withoutNulls(obj)).validate();
  } catch (err) {
    const errors = (err as { errors?: AjvLikeError[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      for (const e of errors.filter((x) => !requirementNotEnforced(obj, x)))
        problems.push({ obj, rule: 'schema', message: describeAjvError(e, obj) });
    } else {
      problems.push({ obj, rule: 'schema', message: String((err as Error)?.message ?? err) });
    }
  }
  // apimachinery pkg/api/validation objectmeta.go ValidateObjectMetaAccessor: "name or generateName is
  // required"; on create the server makes the name from generateName (kubectl create, not apply).
  if (!nonEmptyString(field(obj, 'metadata', 'name')) && !nonEmptyString(field(obj, 'metadata', 'generateName'))) {
    problems.push({ obj, rule: 'schema', message: 'metadata.name is required (or metadata.generateName, with kubectl create)' });
  }
  return problems;
}

// ---------------------------------------------------------------------------
// unknown-field: @kubernetes/client-node attributeTypeMap
// ---------------------------------------------------------------------------

/** className -> (JSON field name -> declared type string) */
type TypeMaps = Record<string, Record<string, string>>;

type FieldType =
  | { readonly t: 'array'; readonly of: FieldType }
  | { readonly t: 'map'; readonly of: FieldType }
  | { readonly t: 'class'; readonly name: string }
  | { readonly t: 'leaf' };

const LEAF: FieldType = { t: 'leaf' };

/**
 * @kubernetes/client-node is ESM-only (jest and CommonJS callers cannot require it) and a
 * devDependency, so its field maps are generated into a committed table at build time; loaded on
 * first use, so importing the library for its constructs does not pay for it.
 */
function loadTypeMaps(): TypeMaps {
  // The type-only import puts the JSON in the compilation, so tsc copies it next to this module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  // The Gateway API's HTTPRoute has no client-node model: its table is kept by hand (gateway-api.ts).
  return { ...((require('./k8s-fields.json') as typeof import('./k8s-fields.json')).classes as TypeMaps), ...GATEWAY_API_FIELDS };
}

let typeMaps: TypeMaps | undefined;
const parsedTypes = new Map<string, FieldType>();

function maps(): TypeMaps {
  typeMaps ??= loadTypeMaps();
  return typeMaps;
}

/** Parses `Array<X>`, `{ [key: string]: X; }`, class names; everything else (string, number, IntOrString, any, Date, ...) is a leaf. */
function parseType(type: string): FieldType {
  const cached = parsedTypes.get(type);
  if (cached) return cached;
  let parsed: FieldType;
  const arr = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (arr) parsed = { t: 'array', of: parseType(arr[1]) };
  else if (map) parsed = { t: 'map', of: parseType(map[1]) };
  else if (Object.hasOwn(maps(), type)) parsed = { t: 'class', name: type };
  else parsed = LEAF;
  parsedTypes.set(type, parsed);
  return parsed;
}

/** Class names that do not follow `<Version><Kind>` because several groups share the kind. */
const ROOT_CLASS_OVERRIDES: Readonly<Record<string, string>> = {
  'v1/Event': 'CoreV1Event',
  'events.k8s.io/v1/Event': 'EventsV1Event',
  ...GATEWAY_API_ROOTS,
};

/** `apps/v1` + `Deployment` -> `V1Deployment`; `autoscaling/v2` + `HorizontalPodAutoscaler` -> `V2HorizontalPodAutoscaler`. */
export function rootClassFor(apiVersion: string, kind: string): string | undefined {
  const override = ROOT_CLASS_OVERRIDES[`${apiVersion}/${kind}`];
  const version = apiVersion.split('/').pop() ?? '';
  const name = override ?? `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
  const fields = maps()[name];
  // A root type has apiVersion/kind fields; anything else is a name collision with a nested type.
  return fields && 'apiVersion' in fields && 'kind' in fields ? name : undefined;
}

function walk(value: unknown, type: FieldType, at: string, out: string[]): void {
  switch (type.t) {
    case 'leaf':
      return;
    case 'array':
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, type.of, `${at}[${i}]`, out));
      return;
    case 'map':
      if (isPlainObject(value) && type.of.t !== 'leaf') {
        for (const [k, v] of Object.entries(value)) walk(v, type.of, joinPath(at, k), out);
      }
      return;
    case 'class': {
      if (!isPlainObject(value)) return;
      const fields = maps()[type.name];
      for (const [k, v] of Object.entries(value)) {
        const fieldType = fields[k];
        if (fieldType === undefined) out.push(joinPath(at, k));
        else walk(v, parseType(fieldType), joinPath(at, k), out);
      }
      return;
    }
  }
}

/** JSON paths of every key the Kubernetes API does not define for this object's type. */
export function unknownFields(obj: K8sObject): string[] | undefined {
  if (typeof obj?.apiVersion !== 'string' || typeof obj?.kind !== 'string') return undefined;
  const root = rootClassFor(obj.apiVersion, obj.kind);
  if (!root) return undefined;
  const out: string[] = [];
  walk(obj, { t: 'class', name: root }, '', out);
  return out;
}

function unknownFieldProblems(obj: K8sObject): Problem[] {
  const paths = unknownFields(obj);
  if (paths === undefined) {
    // kubernetes-models still ships long-removed API versions (extensions/v1beta1 Deployment, ...);
    // client-node only models what a current apiserver (1.33) serves, so no root class = not served.
    return modelFor(String(obj?.apiVersion), String(obj?.kind))
      ? [
          {
            obj,
            rule: 'schema',
            message:
              `apiVersion "${obj.apiVersion}" kind "${obj.kind}" is not served by current Kubernetes (no @kubernetes/client-node ` +
              `1.3 model); use the current apiVersion`,
          },
        ]
      : [];
  }
  return paths.map((p) => ({ obj, rule: 'unknown-field', message: `${p} is not a field of ${obj.apiVersion} ${obj.kind}` }));
}

/** `schema` + `unknown-field` for one object. */
export function checkObjectSchema(obj: K8sObject): Problem[] {
  if (KNOWN_CUSTOM_KINDS.has(typeKey(obj))) return [];
  if (typeKey(obj) in GATEWAY_API_ROOTS) return [...gatewaySchemaProblems(obj), ...unknownFieldProblems(obj)];
  return [...schemaProblems(obj), ...unknownFieldProblems(obj), ...serverValidationProblems(obj)];
}
