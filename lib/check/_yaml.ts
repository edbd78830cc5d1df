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

/**
 * The limits Kubernetes YAML is read with; past one, the file's documents are refused with one error.
 * - maxDocumentBytes: 3 MiB, the request body the API server takes (k8s.io/apiserver server/config.go,
 *   MaxRequestBodyBytes); an object larger than that cannot be applied anyway.
 * - maxFileBytes: 256 MiB, half of the longest string node can hold; split larger files.
 * - maxDepth: 1,000 levels. kubectl's reader stops at 10,000 (go-yaml scannerc.go, max_indents and
 *   max_flow_level); this reader and the rules recurse, and manifests nest a few dozen levels.
 * Aliases are limited as go-yaml v2 limits them (decode.go, allowedAliasRatio): see aliasProblem.
 */
export interface YamlLimits {
  readonly maxDocumentBytes: number;
  readonly maxFileBytes: number;
  readonly maxDepth: number;
}

export const YAML_LIMITS: YamlLimits = { maxDocumentBytes: 3 * 2 ** 20, maxFileBytes: 256 * 2 ** 20, maxDepth: 1000 };

/** One line: `YAML error at line 2, column 1: duplicated mapping key` (js-yaml's own message adds a multi-line snippet). */
function oneLine(err: unknown, lineOffset = 0): Error {
  if (err instanceof jsyaml.YAMLException) {
    const where = err.mark ? ` at line ${err.mark.line + 1 + lineOffset}, column ${err.mark.column + 1}` : '';
    return new Error(`YAML error${where}: ${err.reason}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** A document of a stream as kubectl splits it, with the line (0-based) it starts on. */
interface Chunk {
  readonly text: string;
  readonly line: number;
}

/**
 * kubectl splits a stream into documents itself, at every line that starts with `---` followed by
 * nothing but spaces or a comment (k8s.io/apimachinery util/yaml/decoder.go, YAMLReader.Read), and
 * hands each to go-yaml alone. Done here too, so each document is read, limited and freed on its own.
 * A `---` after a `%` directive line stays inside its chunk (js-yaml reads the directive with it).
 */
function splitDocuments(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  const separator = /^---[ \t]*(?:#.*)?\r?$/gm;
  let start = 0;
  let startLine = 0;
  let line = 0;
  let counted = 0;
  const directives = /^%/m.test(text);
  for (let m = separator.exec(text); m !== null; m = separator.exec(text)) {
    if (m.index === 0 || (directives && /(^|\n)%[^\n]*\r?\n[ \t\r\n]*$/.test(text.slice(Math.max(start, m.index - 200), m.index)))) continue;
    line += countLines(text, counted, m.index);
    counted = m.index;
    chunks.push({ text: text.slice(start, m.index), line: startLine });
    start = m.index;
    startLine = line;
  }
  chunks.push({ text: text.slice(start), line: startLine });
  return chunks;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

// go-yaml v2 decode.go: up to 400,000 decoded nodes 99% may come from expanding aliases, from
// 4,000,000 on 10%, linearly between; checked once more than 100 nodes came from aliases and more
// than 1,000 were decoded. kubectl then fails with "document contains excessive aliasing".
function allowedAliasRatio(decoded: number): number {
  if (decoded <= 400_000) return 0.99;
  if (decoded >= 4_000_000) return 0.1;
  return 0.99 - (0.89 * (decoded - 400_000)) / 3_600_000;
}

/**
 * js-yaml makes an alias the same object as its anchor, so reading a bomb is cheap but every rule
 * walking it is not. This walks a document as go-yaml's decoder would, counting each alias as the
 * nodes it expands to (memoized per object, so the walk stays as small as the text), and says what
 * is wrong: excessive aliasing, or nesting (through aliases too) deeper than maxDepth.
 */
function aliasProblem(doc: unknown, maxDepth: number): string | undefined {
  // Per object: the nodes it expands to and how deep it reaches, memoized, so chained aliases stay cheap.
  const expanded = new Map<object, { size: number; height: number }>();
  const expand = (v: unknown): { size: number; height: number } => {
    if (v === null || typeof v !== 'object') return { size: 1, height: 1 };
    const known = expanded.get(v);
    if (known !== undefined) return known;
    const e = { size: 1, height: 1 };
    for (const c of Object.values(v)) {
      const ce = expand(c);
      e.size += ce.size;
      e.height = Math.max(e.height, ce.height + 1);
    }
    expanded.set(v, e);
    return e;
  };
  let decoded = 0;
  let fromAliases = 0;
  const seen = new Set<object>();
  const visit = (v: unknown, depth: number): 'aliases' | 'depth' | undefined => {
    if (depth > maxDepth) return 'depth';
    decoded++;
    if (v === null || typeof v !== 'object') return undefined;
    if (seen.has(v)) {
      const e = expand(v);
      if (depth + e.height - 1 > maxDepth) return 'depth';
      decoded += e.size - 1;
      fromAliases += e.size;
    } else {
      seen.add(v);
      for (const c of Object.values(v)) {
        const p = visit(c, depth + 1);
        if (p) return p;
      }
    }
    return fromAliases > 100 && decoded > 1000 && fromAliases / decoded > allowedAliasRatio(decoded) ? 'aliases' : undefined;
  };
  const p = visit(doc, 1);
  if (p === 'aliases') return `excessive aliasing: its aliases expand it to ${fmtCount(expand(doc).size)} nodes`;
  return p === 'depth' ? `nested deeper than ${maxDepth} levels (through its aliases)` : undefined;
}

const fmtCount = (n: number): string => (n >= 1e15 ? n.toExponential(1) : Math.round(n).toLocaleString('en-US'));

const FIX: Readonly<Record<string, string>> = {
  aliases:
    'kubectl refuses it too ("document contains excessive aliasing", go-yaml decode.go); write the repeated parts out instead of aliasing them',
  depth: 'kubectl stops at 10,000 levels; no manifest needs this many: flatten it',
};

/**
 * go-yaml accepts `\'` in a double-quoted scalar (scannerc.go, the escapes of
 * yaml_parser_scan_flow_scalar: 0 a b t TAB n v f r e SPACE " ' \ N _ L P x u U); js-yaml, after
 * YAML 1.2, does not. When js-yaml stops at one, every `\'` of that scalar becomes `'` (the same
 * value) and the document is read again; at most 100 times a document, so a hostile one stays cheap.
 */
function withQuoteEscapesFixed(text: string, err: unknown): string | undefined {
  if (!(err instanceof jsyaml.YAMLException) || err.reason !== 'unknown escape sequence' || !err.mark) return undefined;
  const at = err.mark.position;
  if (text[at] !== "'" || text[at - 1] !== '\\') return undefined;
  let out = text.slice(0, at - 1);
  let i = at - 1;
  for (; i < text.length && text[i] !== '"'; i++) {
    if (text[i] === '\\' && text[i + 1] === "'") continue;
    out += text[i];
    if (text[i] === '\\') out += text[++i] ?? '';
  }
  return out + text.slice(i);
}

function loadChunk(chunk: Chunk, index: number, limits: YamlLimits): unknown[] {
  const where = `document ${index + 1} (line ${chunk.line + 1})`;
  if (chunk.text.length > limits.maxDocumentBytes / 4 && Buffer.byteLength(chunk.text) > limits.maxDocumentBytes)
    throw new Error(
      `${where} is ${fmtCount(Buffer.byteLength(chunk.text))} bytes, over the ${mib(limits.maxDocumentBytes)} the API server takes in one request: ` +
        'split the object (a large ConfigMap into several, a large CRD schema into fewer fields)',
    );
  let text = chunk.text;
  for (let attempt = 0; ; attempt++) {
    try {
      const docs = jsyaml.loadAll(text, null, { schema: KUBECTL_SCHEMA, maxDepth: limits.maxDepth } as jsyaml.LoadOptions);
      if (text.includes('*')) {
        for (const doc of docs) {
          const p = aliasProblem(doc, limits.maxDepth);
          if (p) throw new Error(`${where}: ${p}: ${FIX[p.startsWith('excessive') ? 'aliases' : 'depth']}`);
        }
      }
      return docs;
    } catch (err) {
      if (err instanceof jsyaml.YAMLException && err.reason.startsWith('nesting exceeded maxDepth'))
        throw new Error(`${where}: nested deeper than ${limits.maxDepth} levels: ${FIX.depth}`);
      const fixed = attempt < 100 ? withQuoteEscapesFixed(text, err) : undefined;
      if (fixed === undefined) throw oneLine(err, chunk.line);
      text = fixed;
    }
  }
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1).replace(/\.0$/, '')} MiB`;

/**
 * Every document of a multi-document Kubernetes manifest stream, read as kubectl reads it (YAML 1.1),
 * empty ones (a trailing `---`, only comments) included as null/undefined. Throws one line on a YAML
 * error or a limit passed (YAML_LIMITS).
 */
export function loadYamlDocuments(text: string, limits: YamlLimits = YAML_LIMITS): unknown[] {
  if (text.length > limits.maxFileBytes / 4 && Buffer.byteLength(text) > limits.maxFileBytes)
    throw new Error(
      `the file is ${fmtCount(Buffer.byteLength(text))} bytes, over the ${mib(limits.maxFileBytes)} the check reads: split it into several files`,
    );
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: unknown[] = [];
  splitDocuments(source).forEach((chunk, i) => {
    for (const doc of loadChunk(chunk, i, limits)) out.push(doc);
  });
  return out;
}

/** A single-document compose file (YAML 1.2); more than one document is an error. */
export function loadYamlDocument(text: string): unknown {
  try {
    return jsyaml.load(text, { schema: YAML12_SCHEMA });
  } catch (err) {
    throw oneLine(err);
  }
}
