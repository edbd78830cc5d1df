/**
 * How the check reads YAML.
 *
 * Kubernetes manifests are read as kubectl (and Argo CD) read them: sigs.k8s.io/yaml on go-yaml v2
 * (go.yaml.in/yaml/v2), a YAML 1.1 reader. Its plain scalars resolve as go-yaml v2's resolve.go
 * `resolve()` does: `y`, `yes`, `on`, `n`, `no`, `off` (in three casings) are booleans, `1_000`,
 * `0777` (octal) and `0x1F` are numbers. An unquoted `value: yes` in an env entry reaches the API
 * server as `true`, which it refuses; a `suspend: yes` is a real boolean. Timestamps stay strings
 * (go-yaml v2 decode.go keeps timestamp-like values as strings when decoding into interface{}, as
 * kubectl does).
 *
 * Compose files keep the YAML 1.2 core schema: compose-go reads them with go-yaml v3, a YAML 1.2
 * reader (`yes` is a string there). Neither reader makes a Date of a date-like value.
 *
 * Merge keys (`<<: *common`) are resolved by both; duplicate keys are an error (the apiserver would
 * silently keep one of them).
 */
import * as jsyaml from 'js-yaml';

// `types` is part of js-yaml's documented API, missing from @types/js-yaml.
const types = (jsyaml as unknown as { types: Record<'merge' | 'null', jsyaml.Type> }).types;
const YAML12_SCHEMA = jsyaml.CORE_SCHEMA.extend({ implicit: [types.merge] });

// go-yaml v2 resolve.go, resolveMapList: the YAML 1.1 booleans it knows.
const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);

const yaml11Bool = new jsyaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (s: string) => YAML11_TRUE.has(s) || YAML11_FALSE.has(s),
  construct: (s: string) => YAML11_TRUE.has(s),
  predicate: (v: unknown) => typeof v === 'boolean',
});

// resolve.go: a scalar starting with a digit or sign is an int when strconv.ParseInt(s, 0, 64) (or
// ParseUint) takes it once every '_' is removed (Go's base prefixes 0x, 0o, 0b and a leading 0 for
// octal), else a float when it matches yamlStyleFloat; one starting with '.' is a float when
// strconv.ParseFloat takes it.
const GO_INT = /^([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))$/;
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const GO_DOT_FLOAT = /^\.[0-9]+(_[0-9]+)*([eE][-+]?[0-9]+(_[0-9]+)*)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function goInt(s: string): bigint | undefined {
  if (!/^[-+0-9]/.test(s)) return undefined;
  const m = GO_INT.exec(s.replace(/_/g, ''));
  if (!m) return undefined;
  const [, sign, hex, oct, bin, leadingZeroOct, dec] = m;
  const magnitude =
    hex !== undefined
      ? BigInt(`0x${hex}`)
      : oct !== undefined
        ? BigInt(`0o${oct}`)
        : bin !== undefined
          ? BigInt(`0b${bin}`)
          : leadingZeroOct !== undefined
            ? BigInt(`0o0${leadingZeroOct}`)
            : BigInt(dec);
  const value = sign === '-' ? -magnitude : magnitude;
  // ParseInt takes a signed int64; ParseUint an unsigned uint64 without a sign.
  return value >= INT64_MIN && value <= (sign === '' ? UINT64_MAX : INT64_MAX) ? value : undefined;
}

function goFloat(s: string): boolean {
  if (s.startsWith('.')) return GO_DOT_FLOAT.test(s);
  return /^[-+0-9]/.test(s) && YAML_STYLE_FLOAT.test(s.replace(/_/g, ''));
}

const yaml11Int = new jsyaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (s: string) => goInt(s) !== undefined,
  construct: (s: string) => Number(goInt(s)),
  predicate: (v: unknown) => typeof v === 'number' && Number.isInteger(v),
});

// `.inf`, `.nan` and their casings are resolve.go's map entries, as in YAML 1.2's core schema.
const SPECIAL_FLOATS: Readonly<Record<string, number>> = Object.fromEntries([
  ...['.nan', '.NaN', '.NAN'].map((s) => [s, NaN]),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((s) => [s, Infinity]),
  ...['-.inf', '-.Inf', '-.INF'].map((s) => [s, -Infinity]),
]);

const yaml11Float = new jsyaml.Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (s: string) => s in SPECIAL_FLOATS || goFloat(s),
  construct: (s: string) => (s in SPECIAL_FLOATS ? SPECIAL_FLOATS[s] : Number(s.replace(/_/g, ''))),
  predicate: (v: unknown) => typeof v === 'number',
});

/**
 * True when kubectl would read this plain (unquoted) scalar as a boolean or a number, not the string
 * it is: a writer must quote it (lib/app/_yaml.ts does).
 */
export function kubectlReadsAsNonString(s: string): boolean {
  return YAML11_TRUE.has(s) || YAML11_FALSE.has(s) || goInt(s) !== undefined || s in SPECIAL_FLOATS || goFloat(s);
}

/** kubectl's reading of a manifest: go-yaml v2's implicit types (null as in YAML 1.2 core). */
const KUBECTL_SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({ implicit: [types.null, yaml11Bool, yaml11Int, yaml11Float, types.merge] });

/** One line: `YAML error at line 2, column 1: duplicated mapping key` (js-yaml's own message adds a multi-line snippet). */
function oneLine(err: unknown): Error {
  if (err instanceof jsyaml.YAMLException) {
    const where = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    return new Error(`YAML error${where}: ${err.reason}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Every document of a multi-document Kubernetes manifest stream, read as kubectl reads it (YAML 1.1),
 * empty ones (a trailing `---`, only comments) included as null/undefined.
 */
export function loadYamlDocuments(text: string): unknown[] {
  try {
    return jsyaml.loadAll(text, null, { schema: KUBECTL_SCHEMA });
  } catch (err) {
    throw oneLine(err);
  }
}

/** A single-document compose file (YAML 1.2); more than one document is an error. */
export function loadYamlDocument(text: string): unknown {
  try {
    return jsyaml.load(text, { schema: YAML12_SCHEMA });
  } catch (err) {
    throw oneLine(err);
  }
}
