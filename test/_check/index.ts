/**
 * The one entry point for checking synthesized output.
 *
 * Output directory layout:
 *   manifests/*.yaml                  Kubernetes multi-document YAML, one file per stack
 *   images/<name>/Dockerfile          + images/<name>/Dockerfile.dockerignore
 *   images/docker-bake.json, images/build.sh
 *   compose/*.yml                     docker compose files
 *
 * All manifests of all files are checked together (a Service may be
 * referenced from another stack). Problems are prefixed with the file path
 * relative to the output directory; rule ids of the layout itself: `layout`,
 * `yaml`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { checkCompose } from './compose';
import { checkDockerfile, checkDockerignore } from './dockerfile';
import { checkManifests, K8sObject, objectRef, parseYamlStream } from './k8s';

export * from './k8s';
export * from './dockerfile';
export * from './compose';

/** Files under dir, relative, with '/' separators, sorted for stable output. */
function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(dir, child));
    else out.push(child);
  }
  return out.sort();
}

const isYaml = (f: string): boolean => /\.ya?ml$/i.test(f);

/**
 * `cdk8s synth --stdout` concatenates every *.yaml it finds as manifests, so
 * a YAML file anywhere but manifests/ (or a non-manifest in manifests/) would
 * be applied to the cluster.
 */
function layoutProblems(files: readonly string[]): string[] {
  const problems: string[] = [];
  for (const f of files) {
    if (f.startsWith('manifests/')) {
      if (!/^manifests\/[^/]+\.yaml$/.test(f)) problems.push(`${f}: layout: manifests/ may only hold *.yaml files (no subdirectories, no other extensions)`);
    } else if (/\.yaml$/i.test(f)) {
      problems.push(`${f}: layout: *.yaml outside manifests/ would be picked up as a Kubernetes manifest; use .yml`);
    }
  }
  if (!files.some((f) => f.startsWith('manifests/'))) problems.push('manifests/: layout: no manifests/*.yaml found');
  return problems;
}

/** Maps each problem back to the file its object came from. */
function manifestProblems(dir: string, files: readonly string[]): string[] {
  const problems: string[] = [];
  const objects: K8sObject[] = [];
  const fileOf = new Map<string, string>();
  for (const f of files.filter((x) => /^manifests\/[^/]+\.yaml$/.test(x))) {
    try {
      for (const obj of parseYamlStream(fs.readFileSync(path.join(dir, f), 'utf8'))) {
        objects.push(obj);
        if (!fileOf.has(objectRef(obj))) fileOf.set(objectRef(obj), f);
      }
    } catch (err) {
      problems.push(`${f}: yaml: ${(err as Error).message}`);
    }
  }
  for (const p of checkManifests(objects)) {
    const ref = p.split(': ', 1)[0];
    problems.push(`${fileOf.get(ref) ?? 'manifests/'}: ${p}`);
  }
  return problems;
}

function imageProblems(dir: string, files: readonly string[]): string[] {
  const problems: string[] = [];
  // images/docker-bake.json and images/build.sh sit beside the per-image directories.
  const imageDirs = [...new Set(files.filter((f) => /^images\/[^/]+\//.test(f)).map((f) => f.split('/').slice(0, 2).join('/')))];
  const bake = files.includes('images/docker-bake.json') ? JSON.parse(fs.readFileSync(path.join(dir, 'images/docker-bake.json'), 'utf8')) : undefined;
  if (imageDirs.length > 0 && !bake) problems.push('images/docker-bake.json: layout: missing (one command must build every image)');
  if (bake) {
    const targets = Object.keys(bake.target ?? {}).sort();
    const dirs = imageDirs.map((d) => d.split('/')[1]).sort();
    if (JSON.stringify(targets) !== JSON.stringify(dirs)) problems.push(`images/docker-bake.json: layout: targets ${targets.join(',')} differ from image directories ${dirs.join(',')}`);
  }
  for (const d of imageDirs) {
    const dockerfile = `${d}/Dockerfile`;
    const ignore = `${d}/Dockerfile.dockerignore`;
    if (!files.includes(dockerfile)) problems.push(`${dockerfile}: layout: missing`);
    else problems.push(...checkDockerfile(fs.readFileSync(path.join(dir, dockerfile), 'utf8')).map((p) => `${dockerfile}: ${p}`));
    if (!files.includes(ignore)) problems.push(`${ignore}: layout: missing (the whole build context, .git and secrets included, would be sent to the builder)`);
    else problems.push(...checkDockerignore(fs.readFileSync(path.join(dir, ignore), 'utf8')).map((p) => `${ignore}: ${p}`));
  }
  return problems;
}

function composeProblems(dir: string, files: readonly string[]): string[] {
  const problems: string[] = [];
  for (const f of files.filter((x) => x.startsWith('compose/') && isYaml(x))) {
    try {
      problems.push(...checkCompose(parseYaml(fs.readFileSync(path.join(dir, f), 'utf8'))).map((p) => `${f}: ${p}`));
    } catch (err) {
      problems.push(`${f}: yaml: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** Every problem of a synthesized output directory; empty = OK. */
export function checkOutputDir(dir: string): string[] {
  const files = listFiles(dir);
  return [...layoutProblems(files), ...manifestProblems(dir, files), ...imageProblems(dir, files), ...composeProblems(dir, files)];
}

export function expectValidOutputDir(dir: string): void {
  const problems = checkOutputDir(dir);
  if (problems.length > 0) throw new Error(`${problems.length} problem(s) in ${dir}:\n${problems.join('\n')}`);
}
