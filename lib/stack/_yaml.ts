import * as jsyaml from 'js-yaml';

/**
 * YAML 1.1 reads strings such as 1_000, 0x_1F, 1_0.5 or '.' as numbers, where YAML 1.2 reads strings; kubectl and
 * Argo CD parse with a YAML 1.1 library. js-yaml quotes a string when some implicit type of its
 * schema would resolve it, so this type (which never represents a JS value) makes such strings quoted.
 */
const YAML11_NUMBER = new jsyaml.Type('tag:cdk8s-ml,2025:yaml11-number', {
  kind: 'scalar',
  // The int and float patterns of the YAML 1.1 type repository (yaml.org/type/int, /float).
  resolve: (s: string) => /^([-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+))$/.test(s)
    || /^([-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/.test(s),
  construct: (s: string) => s,
  predicate: () => false,
});
const SCHEMA = jsyaml.DEFAULT_SCHEMA.extend({ implicit: [YAML11_NUMBER] });

/**
 * A multi-document YAML stream of JSON-like documents. js-yaml, not cdk8s's `Yaml.stringify`: the
 * `yaml` library builds a full document tree per object and is ~4x slower on large stacks (npm run
 * bench). Strings every YAML 1.1 or 1.2 reader could take for another type are quoted; key order is
 * kept (objects arrive sorted from cdk8s); no anchors; no line folding.
 */
export function toYaml(docs: readonly unknown[]): string {
  return docs.map(d => jsyaml.dump(d, { schema: SCHEMA, noRefs: true, lineWidth: -1, sortKeys: false })).join('---\n');
}

/**
 * Manifest files as ONE valid multi-document stream: each file ends with a newline and files are
 * joined by `---` (`cdk8s synth --stdout` glues them together without one: cdk8s-cli#943).
 */
export function joinYamlStreams(texts: readonly string[]): string {
  return texts.filter(t => t.trim() !== '').map(t => (t.endsWith('\n') ? t : `${t}\n`)).join('---\n');
}
