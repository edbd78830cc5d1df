/**
 * The check applied to files rather than parsed objects: what `checkOutputFiles` and the
 * `cdk8s-ml check` command share. Every problem is one line starting with the file it is in:
 *   `file: Kind/namespace/name: rule: message`   a Kubernetes object
 *   `file:line: rule: message`                   a Dockerfile instruction
 *   `file: rule: message`                        anything else
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadYamlDocument } from './_yaml';
import { checkCompose } from './compose';
import { checkDockerfile, checkDockerignore } from './dockerfile';
import { CheckOptions, findManifestProblems, formatProblem, isPlainObject, K8sObject, parseYamlStream } from './k8s';

/** A file to check, by its name as problems should show it. */
export interface NamedText {
  readonly file: string;
  readonly text: string;
}

/**
 * `kubectl get -o yaml` prints a `v1 List`; kubectl apply takes its items as objects, so the
 * check does too.
 */
function expandLists(docs: readonly K8sObject[]): K8sObject[] {
  return docs.flatMap((d) => (isPlainObject(d) && d.apiVersion === 'v1' && d.kind === 'List' && Array.isArray(d.items) ? d.items : [d]));
}

/**
 * The Kubernetes objects of all files checked as one set (a Service in one file may be what an
 * env URL in another names), each problem mapped back to the file of its object.
 */
export function checkManifestFiles(files: readonly NamedText[], options: CheckOptions = {}): string[] {
  const problems: string[] = [];
  const objects: K8sObject[] = [];
  // By identity, not Kind/ns/name: the same object may well sit in two files (two tools' output).
  const fileOf = new Map<unknown, string>();
  for (const { file, text } of files) {
    let docs: K8sObject[];
    try {
      docs = expandLists(parseYamlStream(text));
    } catch (err) {
      problems.push(`${file}: yaml: ${(err as Error).message}`);
      continue;
    }
    for (const obj of docs) {
      objects.push(obj);
      if (!fileOf.has(obj)) fileOf.set(obj, file);
    }
  }
  for (const p of findManifestProblems(objects, options)) problems.push(`${fileOf.get(p.obj) ?? files[0]?.file ?? '-'}: ${formatProblem(p)}`);
  return problems;
}

/** `line 8: user: ...` becomes `Dockerfile:8: user: ...`, the form editors and CI annotations link. */
export function checkDockerfileFile({ file, text }: NamedText): string[] {
  return checkDockerfile(text).map((p) => {
    const m = /^line (\d+): (.*)$/s.exec(p);
    return m ? `${file}:${m[1]}: ${m[2]}` : `${file}: ${p}`;
  });
}

export function checkDockerignoreFile({ file, text }: NamedText): string[] {
  return checkDockerignore(text).map((p) => `${file}: ${p}`);
}

export function checkComposeFile({ file, text }: NamedText): string[] {
  let doc: unknown;
  try {
    doc = loadYamlDocument(text);
  } catch (err) {
    return [`${file}: yaml: ${(err as Error).message}`];
  }
  return checkCompose(doc).map((p) => `${file}: ${p}`);
}

// ---------------------------------------------------------------------------
// Output directories
// ---------------------------------------------------------------------------

/** Relative path -> content, the in-memory form of an output directory (what `MlApp.synthFiles()` returns). */
export type OutputFiles = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export function asFileMap(files: OutputFiles): ReadonlyMap<string, string> {
  return files instanceof Map ? files : new Map(Object.entries(files));
}

const MANIFEST_FILE = /^manifests\/[^/]+\.yaml$/;

/**
 * An output directory taken apart: the problems of its layout, images and compose files (with
 * `prefix` before every path), and its manifest files, which the caller checks together with
 * whatever other manifests it has.
 */
export interface OutputParts {
  readonly layout: string[];
  readonly manifests: NamedText[];
  readonly rest: string[];
}

export function outputParts(files: ReadonlyMap<string, string>, prefix = ''): OutputParts {
  const names = [...files.keys()].sort();
  const named = (rel: string): NamedText => ({ file: `${prefix}${rel}`, text: files.get(rel) ?? '' });
  return {
    layout: layoutProblems(names).map((p) => `${prefix}${p}`),
    manifests: names.filter((f) => MANIFEST_FILE.test(f)).map(named),
    rest: [
      ...imageProblems(files, names, prefix),
      ...names.filter((f) => f.startsWith('compose/') && /\.ya?ml$/i.test(f)).flatMap((f) => checkComposeFile(named(f))),
      ...names.filter((f) => f.startsWith('diagrams/')).flatMap((f) => checkDiagramFile(named(f))),
    ],
  };
}

/**
 * `cdk8s synth --stdout` and Argo CD take every *.yaml they find as manifests, so a YAML file
 * anywhere but manifests/ (or anything else in manifests/) would be applied to the cluster.
 */
function layoutProblems(names: readonly string[]): string[] {
  const problems: string[] = [];
  for (const f of names) {
    if (f.startsWith('manifests/')) {
      if (!MANIFEST_FILE.test(f)) problems.push(`${f}: layout: manifests/ may only hold *.yaml files (no subdirectories, no other extensions)`);
    } else if (/\.yaml$/i.test(f)) {
      problems.push(`${f}: layout: *.yaml outside manifests/ would be picked up as a Kubernetes manifest; use .yml`);
    }
  }
  if (!names.some((f) => f.startsWith('manifests/'))) problems.push('manifests/: layout: no manifests/*.yaml found');
  return problems;
}

function imageProblems(files: ReadonlyMap<string, string>, names: readonly string[], prefix: string): string[] {
  const problems: string[] = [];
  const at = (rel: string, p: string): string => `${prefix}${rel}: ${p}`;
  // images/docker-bake.json and images/build.sh sit beside the per-image directories.
  const imageDirs = [...new Set(names.filter((f) => /^images\/[^/]+\//.test(f)).map((f) => f.split('/').slice(0, 2).join('/')))];
  const bakeText = files.get('images/docker-bake.json');
  if (imageDirs.length > 0 && bakeText === undefined)
    problems.push(at('images/docker-bake.json', 'layout: missing (one command must build every image)'));
  if (bakeText !== undefined) {
    let bake: { target?: Record<string, unknown> } | undefined;
    try {
      bake = JSON.parse(bakeText);
    } catch (err) {
      problems.push(at('images/docker-bake.json', `layout: not valid JSON: ${(err as Error).message}`));
    }
    if (bake) {
      const targets = Object.keys(bake.target ?? {}).sort();
      const dirs = imageDirs.map((d) => d.split('/')[1]).sort();
      if (JSON.stringify(targets) !== JSON.stringify(dirs))
        problems.push(at('images/docker-bake.json', `layout: targets ${targets.join(',')} differ from image directories ${dirs.join(',')}`));
    }
  }
  for (const d of imageDirs) {
    const dockerfile = `${d}/Dockerfile`;
    const ignore = `${d}/Dockerfile.dockerignore`;
    const df = files.get(dockerfile);
    if (df === undefined) problems.push(at(dockerfile, 'layout: missing'));
    else problems.push(...checkDockerfileFile({ file: `${prefix}${dockerfile}`, text: df }));
    const di = files.get(ignore);
    if (di === undefined)
      problems.push(at(ignore, 'layout: missing (the whole build context, .git and secrets included, would be sent to the builder)'));
    else problems.push(...checkDockerignoreFile({ file: `${prefix}${ignore}`, text: di }));
  }
  return problems;
}

/**
 * A stack's review diagram (diagrams/<stack>.md, what MlApp writes beside the manifests): a
 * Markdown file holding one closed ```mermaid flowchart block. Its content is the library's to
 * get right (test/stack/diagram.test.ts); this only catches a file that would not render.
 */
export function checkDiagramFile({ file, text }: NamedText): string[] {
  if (!/^(?:.*\/)?diagrams\/[^/]+\.md$/.test(file)) return [`${file}: layout: diagrams/ may only hold <stack>.md files`];
  const fence = /^```mermaid\n(flowchart|graph) [A-Z]{2}\n[\s\S]*?^```$/m;
  return fence.test(text) ? [] : [`${file}: layout: a diagram must hold a closed \`\`\`mermaid block starting with "flowchart <direction>"`];
}

/** Layout, then manifests (all together), then images, then compose files, then diagrams. */
export function checkOutputFiles(files: OutputFiles, options: CheckOptions = {}): string[] {
  const parts = outputParts(asFileMap(files));
  return [...parts.layout, ...checkManifestFiles(parts.manifests, options), ...parts.rest];
}

/** Files under dir, relative, with '/' separators, sorted; directories followed, symlinked ones not (no loops). */
export function listFiles(dir: string, skip: (name: string) => boolean = () => false, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (skip(entry.name)) continue;
    const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(dir, skip, child));
    else if (entry.isFile() || (entry.isSymbolicLink() && fs.statSync(path.join(dir, child)).isFile())) out.push(child);
  }
  return out.sort();
}

/** An output directory read into the form `checkOutputFiles` takes. */
export function readOutputDir(dir: string): Map<string, string> {
  return new Map(listFiles(dir).map((rel) => [rel, fs.readFileSync(path.join(dir, rel), 'utf8')]));
}
