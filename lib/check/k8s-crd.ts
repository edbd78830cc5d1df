/**
 * Custom resources: the kinds CustomResourceDefinitions declare, validated with the CRD's own
 * OpenAPI v3 schema (`spec.versions[].schema.openAPIV3Schema`) through ajv.
 *
 * A CRD's schema is a Kubernetes "structural schema" (apiextensions-apiserver
 * pkg/apiserver/schema, documented in "Extend the Kubernetes API with CustomResourceDefinitions"),
 * which is JSON Schema plus extensions. Translated here:
 * - unknown fields: the apiserver prunes a field the schema does not declare (and `kubectl --validate=strict`
 *   refuses it), unless `x-kubernetes-preserve-unknown-fields: true`; so an object with `properties` and no
 *   `additionalProperties` gets `additionalProperties: false`, and those errors are `unknown-field`;
 * - `x-kubernetes-int-or-string: true`: an integer or a string;
 * - `x-kubernetes-embedded-resource: true`: apiVersion, kind and metadata are allowed;
 * - `x-kubernetes-list-type: set`: unique items;
 * - `nullable`: the apiserver prunes a null of a field that is not nullable, so nulls are dropped before
 *   validation (as for built-in kinds).
 * Ignored: CEL rules (`x-kubernetes-validations`), `format` (the apiserver checks a fixed list),
 * list-map keys' uniqueness, `x-kubernetes-map-type`, defaults.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isPlainObject, K8sObject } from './k8s-common';

type Schema = Record<string, unknown>;

/** One served version of a custom kind. */
export interface CustomKind {
  /** `<CRD name>` (plural.group), for messages. */
  readonly crd: string;
  readonly schema: Schema | undefined;
}

const SUBSCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions']);
const SUBSCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);
const OBJECT_META_ROOT: Schema = { type: 'object' };

/** A structural schema node as plain JSON Schema (see the module comment); `inJunctor`: under allOf/anyOf/oneOf/not. */
export function toJsonSchema(s: unknown, inJunctor = false): unknown {
  if (!isPlainObject(s)) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'description' || k === 'nullable' || k === 'format' || k.startsWith('x-kubernetes-')) continue;
    if (SUBSCHEMA_MAPS.has(k) && isPlainObject(v))
      out[k] = Object.fromEntries(Object.entries(v).map(([p, sub]) => [p, toJsonSchema(sub, inJunctor)]));
    else if (k === 'items' || k === 'additionalProperties') out[k] = toJsonSchema(v, inJunctor);
    else if (k === 'not') out[k] = toJsonSchema(v, true);
    else if (SUBSCHEMA_LISTS.has(k) && Array.isArray(v)) out[k] = v.map((sub) => toJsonSchema(sub, true));
    else out[k] = v;
  }
  if (s['x-kubernetes-int-or-string'] === true && out.type === undefined) out.type = ['integer', 'string'];
  if (s['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  if (s['x-kubernetes-embedded-resource'] === true) {
    out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...(out.properties as Schema) };
  }
  const closed = !inJunctor && s['x-kubernetes-preserve-unknown-fields'] !== true && s.additionalProperties === undefined;
  if (closed && isPlainObject(out.properties)) out.additionalProperties = false;
  return out;
}

/** The root of an instance: apiVersion and kind are implicit; metadata is ObjectMeta, which the caller walks with the field table. */
function rootSchema(openAPIV3Schema: unknown): Schema {
  const root = toJsonSchema(openAPIV3Schema) as Schema;
  const properties = { ...(root.properties as Schema), apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: OBJECT_META_ROOT };
  return { ...root, properties };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The kinds a set of CRDs declare: `group/version/Kind` -> what validates it. */
export class CustomKinds {
  private readonly kinds = new Map<string, CustomKind>();
  /** `group/Kind` -> the versions served. */
  private readonly versions = new Map<string, string[]>();

  constructor(crds: readonly K8sObject[]) {
    for (const crd of crds) this.add(crd);
  }

  /** Adds an `apiextensions.k8s.io/v1` CustomResourceDefinition; anything else is ignored (the schema rule reports it). */
  add(crd: K8sObject): void {
    if (crd?.apiVersion !== 'apiextensions.k8s.io/v1' || crd?.kind !== 'CustomResourceDefinition') return;
    const spec = crd.spec as Schema | undefined;
    const group = str(spec?.group);
    const kind = str((spec?.names as Schema | undefined)?.kind);
    if (!group || !kind || !Array.isArray(spec?.versions)) return;
    for (const v of spec.versions as Schema[]) {
      const version = str(v?.name);
      if (!version || v.served === false) continue;
      const schema = (v.schema as Schema | undefined)?.openAPIV3Schema;
      this.kinds.set(`${group}/${version}/${kind}`, {
        crd: String((crd.metadata as Schema | undefined)?.name),
        schema: isPlainObject(schema) ? schema : undefined,
      });
      this.versions.set(`${group}/${kind}`, [...(this.versions.get(`${group}/${kind}`) ?? []), version]);
    }
  }

  get(apiVersion: string, kind: string): CustomKind | undefined {
    return this.kinds.get(`${apiVersion}/${kind}`);
  }

  /** The versions served of `group/Kind` (empty when no CRD declares the kind). */
  versionsOf(apiVersion: string, kind: string): readonly string[] {
    return this.versions.get(`${apiVersion.split('/')[0]}/${kind}`) ?? [];
  }
}

let ajvInstance: import('ajv').default | undefined;
const compiled = new WeakMap<Schema, ValidateFunction>();

/** The ajv errors of an instance against a custom kind's schema (none when the CRD gives no schema). */
export function customKindErrors(kind: CustomKind, instance: unknown): ErrorObject[] {
  if (!kind.schema) return [];
  let validate = compiled.get(kind.schema);
  if (!validate) {
    // Loaded on first use, as in compose.ts. unicodeRegExp off: Kubernetes patterns are Go RE2 syntax, which a
    // `u` RegExp refuses in places (`\-`). strict off: the vendor extensions are not JSON Schema keywords.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    ajvInstance ??= new Ajv({ strict: false, allErrors: true, unicodeRegExp: false, validateFormats: false, validateSchema: false });
    validate = ajvInstance.compile(rootSchema(kind.schema));
    compiled.set(kind.schema, validate);
  }
  return validate(instance) ? [] : [...(validate.errors ?? [])];
}
