/**
 * Reading two outputs cheaply: a manifest file is cut into its YAML documents as text, documents
 * whose text is the same on both sides are the same object and are never compared (nor parsed,
 * unless a summary needs them), and each distinct text is parsed at most once.
 */
import { loadYamlDocuments } from '../check/_yaml';
import { isDocument, type K8sObject } from '../check/k8s-common';

/** `manifests/<stack>.k8s.yaml` (or `<stack>.yaml`) -> the stack's name. */
export function stackOfFile(file: string): string | undefined {
  const m = /^manifests\/([^/]+?)(\.k8s)?\.yaml$/.exec(file);
  return m ? m[1] : undefined;
}

/**
 * The documents of a YAML stream, as text. A line that is exactly `---` can only start a document
 * (YAML 1.2 section 9.2: a document marker at column 0; content of a block scalar or a nested node is
 * indented, and a manifest's top level is a mapping). A stream with anything subtler (a `--- value`
 * line, `...` document ends) is returned whole, as one text that parses to several objects.
 */
export function splitDocuments(text: string): string[] {
  if (/^(---[ \t]+\S|\.\.\.[ \t]*$)/m.test(text)) return [text];
  return text.split(/^---[ \t]*$/m).filter((d) => /\S/.test(d.replace(/^#.*$/gm, '')));
}

/** The top-level `kind:` of a document's text, read without parsing it (undefined: not plainly written). */
export function kindOfText(text: string): string | undefined {
  const m = /^kind:[ \t]*["']?([A-Za-z0-9]+)["']?[ \t]*$/m.exec(text);
  return m ? m[1] : undefined;
}

/** Parses each distinct document text once. */
export class DocumentCache {
  private readonly parsed = new Map<string, K8sObject[]>();
  private readonly reduced = new Map<string, K8sObject[]>();

  public objects(text: string): K8sObject[] {
    let objs = this.parsed.get(text);
    if (objs === undefined) {
      objs = loadYamlDocuments(text).filter(isDocument);
      this.parsed.set(text, objs);
    }
    return objs;
  }

  public all(texts: readonly string[]): K8sObject[] {
    return texts.flatMap((t) => this.objects(t));
  }

  /** What a workload's scale and requests depend on (reduceForScale), the whole text when that does not parse. */
  public forScale(texts: readonly string[]): K8sObject[] {
    return texts.flatMap((t) => {
      let objs = this.parsed.get(t) ?? this.reduced.get(t);
      if (objs) return objs;
      try {
        objs = loadYamlDocuments(reduceForScale(t)).filter(isDocument);
      } catch {
        return this.objects(t);
      }
      this.reduced.set(t, objs);
      return objs;
    });
  }
}

/** Texts of `a` not in `b`, counting repeats (a multiset difference). */
export function textsOnlyIn(a: readonly string[], b: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const t of b) counts.set(t, (counts.get(t) ?? 0) + 1);
  const out: string[] = [];
  for (const t of a) {
    const n = counts.get(t) ?? 0;
    if (n > 0) counts.set(t, n - 1);
    else out.push(t);
  }
  return out;
}

/** Block keys a workload's scale and requests never depend on (see reduceForScale). */
const NOT_SCALE = new Set([
  'env',
  'envFrom',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'volumes',
  'volumeMounts',
  'securityContext',
  'labels',
  'annotations',
  'affinity',
  'topologySpreadConstraints',
  'tolerations',
  'command',
  'args',
  'ports',
  'selector',
  'nodeSelector',
  'behavior',
  'metrics',
  'lifecycle',
]);

/**
 * A workload document without the blocks its scale and requests never depend on (env, probes,
 * volumes, labels...), so that a stack of thousands of workloads parses in a fraction of the time.
 * Only a block-style entry `key:` with nothing after the colon is dropped, together with the lines
 * that belong to its value: more indented ones, and `- ` items at the key's own indentation (YAML
 * 1.2 section 8.2.1: a block sequence may sit at its parent key's indentation). Callers parse the
 * whole text when the reduced one does not parse.
 */
export function reduceForScale(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^( *)([A-Za-z]+):[ \t]*$/.exec(lines[i]);
    if (!m || !NOT_SCALE.has(m[2])) {
      out.push(lines[i]);
      continue;
    }
    const indent = m[1].length;
    while (i + 1 < lines.length) {
      const next = lines[i + 1];
      const lead = /^ */.exec(next)![0].length;
      if (next.trim() === '' || lead > indent || (lead === indent && /^ *- /.test(next))) i++;
      else break;
    }
  }
  return out.join('\n');
}
