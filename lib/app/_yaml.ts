import * as jsyaml from 'js-yaml';
import { kubectlReadsAsNonString } from '../check/_yaml';

// The int and float patterns of the YAML 1.1 type repository (yaml.org/type/int, /float); constants, as a
// literal in the function would be a new RegExp for every string written.
const YAML11_INT = /^([-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+))$/;
const YAML11_FLOAT =
  /^([-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;
// The floats of the `yaml` package's YAML 1.1 schema (what cdk8s's Include and Yaml.load read with): wider than the
// type repository's, e.g. `e3` (NaN) and `.5_` (0.5).
const YAML11_LIB_FLOAT = /^[-+]?([0-9][0-9_]*)?(\.[0-9_]*)?[eE][-+]?[0-9]+$|^[-+]?([0-9][0-9_]*)?\.[0-9_]*$/;
// YAML 1.2 core schema (yaml.org/spec/1.2.2, 10.3.2): int, octal, hex, float, .inf/.nan, bool and null, e.g. 2e928 (Infinity),
// 0o17, +12. js-yaml's default schema happens to cover them; written out so the writer does not depend on that.
const YAML12_CORE_NUMBER =
  /^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;
const YAML12_CORE_OTHER = /^([Tt]rue|TRUE|[Ff]alse|FALSE|~|[Nn]ull|NULL|)$/;
/**
 * YAML 1.1 reads strings such as 1_000, 0x_1F, 1_0.5 or '.' as numbers, where YAML 1.2 reads strings; kubectl and
 * Argo CD parse with a YAML 1.1 library; YAML 1.2 readers take 2e928 or 0o17 for numbers. js-yaml quotes a string when
 * some implicit type of its schema would resolve it, so this type (which never represents a JS value) makes quoted
 * every string a YAML 1.1 or YAML 1.2 core reader would not read as that string: the YAML 1.1 type repository's
 * patterns, the `yaml` package's 1.1 floats, the 1.2 core schema, and whatever kubectl's go-yaml v2 resolves to a
 * number (it drops every '_' first, so 0.1_0 is 0.1 to it: the check's reader, lib/check/_yaml.ts, says which).
 */
const READ_AS_NON_STRING = new jsyaml.Type('tag:cdk8s-ml,2025:yaml11-number', {
  kind: 'scalar',
  resolve: (s: string) =>
    YAML11_INT.test(s) ||
    YAML11_FLOAT.test(s) ||
    YAML11_LIB_FLOAT.test(s) ||
    YAML12_CORE_NUMBER.test(s) ||
    YAML12_CORE_OTHER.test(s) ||
    kubectlReadsAsNonString(s),
  construct: (s: string) => s,
  predicate: () => false,
});
const SCHEMA = jsyaml.DEFAULT_SCHEMA.extend({ implicit: [READ_AS_NON_STRING] });

/**
 * A multi-document YAML stream of JSON-like documents. js-yaml, not cdk8s's `Yaml.stringify`: the
 * `yaml` library builds a full document tree per object and is ~4x slower on large stacks (npm run
 * bench). Strings every YAML 1.1 or 1.2 reader could take for another type are quoted; key order is
 * kept (objects arrive sorted from cdk8s); no anchors; no line folding.
 */
export function toYaml(docs: readonly unknown[]): string {
  return docs.map(dumpOne).join('---\n');
}

/**
 * toYaml of objects rendered one at a time (`o.toJson()`, in order), each written before the next is
 * rendered: a large stack's objects are never all held as JSON at once.
 */
export function renderYaml(objects: readonly { toJson(): unknown }[]): string {
  return [...renderYamlPieces(objects)].join('');
}

/**
 * renderYaml's text in pieces of a few documents, each rendered when the piece is asked for (MlApp.synth
 * writes them as they come, so the text is never held whole either). js-yaml builds a document by
 * concatenation, which V8 keeps as a tree of its pieces (several times the text) until something
 * flattens it: joined a few at a time, the trees die young (npm run bench).
 */
export function* renderYamlPieces(objects: readonly { toJson(): unknown }[]): Generator<string> {
  for (let i = 0; i < objects.length; i += RENDER_BATCH) {
    yield (i > 0 ? '---\n' : '') +
      objects
        .slice(i, i + RENDER_BATCH)
        .map((o) => dumpOne(o.toJson()))
        .join('---\n');
  }
}
const RENDER_BATCH = 64;

/**
 * `toYaml([{ [key]: Object.fromEntries(entries) }])`, byte for byte, one entry at a time: each is
 * written as `{ [key]: { [entry]: value } }` and all but the first lose the `key:` line. One document
 * of thousands of entries (a compose file's services) is otherwise one string that V8 keeps as a tree
 * of its millions of pieces until it is written (npm run bench).
 */
export function toYamlMapping(key: string, entries: Iterable<[string, unknown]>): string {
  const parts: string[] = [];
  for (const [k, v] of entries) {
    const doc = dumpOne({ [key]: { [k]: v } });
    parts.push(parts.length === 0 ? doc : doc.slice(doc.indexOf('\n') + 1));
  }
  return parts.length === 0 ? dumpOne({ [key]: {} }) : parts.join('');
}

function dumpOne(doc: unknown): string {
  return jsyaml.dump(doc, { schema: SCHEMA, noRefs: true, lineWidth: -1, sortKeys: false });
}

/**
 * Manifest files as ONE valid multi-document stream: each file ends with a newline and files are
 * joined by `---` (`cdk8s synth --stdout` glues them together without one: cdk8s-cli#943).
 */
export function joinYamlStreams(texts: readonly string[]): string {
  return texts
    .filter((t) => t.trim() !== '')
    .map((t) => (t.endsWith('\n') ? t : `${t}\n`))
    .join('---\n');
}
