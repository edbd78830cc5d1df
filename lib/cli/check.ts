/**
 * `cdk8s-ml check PATH...`: the output check this library's own tests run, for any output
 * directory, YAML from other tools (kustomize build, helm template, kubectl get -o yaml), a
 * Dockerfile or a compose file. The Kubernetes objects of all PATHs are checked as one set, as a
 * cluster would see them: a Service in one file may be what an env URL in another names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliIo, EXIT_FAILED, EXIT_OK, UsageError } from './_io';
import { CHECK_RULES } from '../check';
import {
  checkComposeFile,
  checkDockerfileFile,
  checkDockerignoreFile,
  checkManifestFiles,
  listFiles,
  NamedText,
  outputParts,
  readOutputDir,
} from '../check/files';

const idWidth = Math.max(...CHECK_RULES.map((r) => r.id.length)) + 2;
const ruleList = CHECK_RULES.map((r) => `  ${r.id.padEnd(idWidth)}${r.summary}`).join('\n');

export const CHECK_HELP = `Usage: cdk8s-ml check PATH...

Checks what would reach a cluster or a builder, before it does. Each PATH is one of:
  an output directory    one with manifests/ (what cdk8s-ml synth writes): its layout, every
                         manifest, image build file and compose file
  any other directory    every *.yaml and *.yml under it as Kubernetes manifests (compose.yaml,
                         docker-compose.yaml and *.compose.yaml as compose files); hidden
                         directories and node_modules are skipped
  a file                 Dockerfile or *.Dockerfile; *.dockerignore; compose.y(a)ml,
                         docker-compose.y(a)ml or *.compose.y(a)ml; any other *.yaml, *.yml or
                         *.json as Kubernetes manifests (a v1 List's items included)
  -                      Kubernetes YAML on standard input (shown as "-")
The Kubernetes objects of all PATHs are checked together, as one cluster would hold them.

Prints one line per problem on stdout:
  FILE: KIND/NAMESPACE/NAME: RULE: MESSAGE     a Kubernetes object ("-" when it has no namespace)
  FILE:LINE: RULE: MESSAGE                     a Dockerfile instruction
  FILE: RULE: MESSAGE                          anything else
and a summary on stderr. Exit code 0: no problems; 1: problems; 2: the command line is wrong
(no PATH, a PATH that does not exist, an unknown option).

Rules:
${ruleList}
`;

/** What one PATH contributes: manifests (checked with every other PATH's) and its other problems. */
interface Collected {
  readonly manifests: NamedText[];
  readonly problems: string[];
  /** Every file read, for the summary and for grouping the output by file. */
  readonly files: string[];
}

const DOCKERIGNORE = /\.dockerignore$/;
const DOCKERFILE = /^Dockerfile$|\.Dockerfile$/;
const COMPOSE = /^(docker-)?compose\.ya?ml$|\.compose\.ya?ml$/;
const YAML = /\.ya?ml$/;
const MANIFEST = /\.(ya?ml|json)$/;

/** A file named on the command line: what its name says it is. */
function collectFile(file: string, text: string, into: Collected): void {
  const base = path.basename(file);
  const named = { file, text };
  into.files.push(file);
  if (DOCKERIGNORE.test(base)) into.problems.push(...checkDockerignoreFile(named));
  else if (DOCKERFILE.test(base)) into.problems.push(...checkDockerfileFile(named));
  else if (COMPOSE.test(base)) into.problems.push(...checkComposeFile(named));
  else if (MANIFEST.test(base)) into.manifests.push(named);
  else throw new UsageError(`${file}: not a file check knows (Dockerfile, *.dockerignore, compose.yaml, *.yaml, *.yml or *.json)`);
}

/** Shown the way the user wrote it, so the lines match what they typed (and the shell completed). */
function display(arg: string, rel: string): string {
  return arg === '.' || arg === './' ? rel : `${arg.replace(/\/+$/, '')}/${rel}`;
}

function collectDir(arg: string, dir: string, into: Collected): void {
  if (fs.existsSync(path.join(dir, 'manifests')) && fs.statSync(path.join(dir, 'manifests')).isDirectory()) {
    const files = readOutputDir(dir);
    const parts = outputParts(files, display(arg, ''));
    into.files.push(...[...files.keys()].map((rel) => display(arg, rel)));
    into.manifests.push(...parts.manifests);
    into.problems.push(...parts.layout, ...parts.rest);
    return;
  }
  const yamls = listFiles(dir, (name) => name.startsWith('.') || name === 'node_modules').filter((rel) => YAML.test(rel));
  if (yamls.length === 0) throw new UsageError(`${arg}: no *.yaml or *.yml files in this directory`);
  for (const rel of yamls) {
    const file = display(arg, rel);
    const text = fs.readFileSync(path.join(dir, rel), 'utf8');
    into.files.push(file);
    if (COMPOSE.test(path.basename(rel))) into.problems.push(...checkComposeFile({ file, text }));
    else into.manifests.push({ file, text });
  }
}

function parseArgs(args: readonly string[]): string[] {
  const paths: string[] = [];
  let options = true;
  for (const a of args) {
    if (options && a === '--') options = false;
    else if (options && a.startsWith('-') && a !== '-') throw new UsageError(`unknown option "${a}"`);
    else paths.push(a);
  }
  if (paths.length === 0)
    throw new UsageError(
      'no PATH given: name an output directory, a directory or file of YAML, a Dockerfile, a compose file, or - for standard input',
    );
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('- (standard input) given more than once');
  return paths;
}

export function runCheck(args: string[], io: CliIo): number {
  const paths = parseArgs(args);
  // Every PATH must exist before anything is read: a typo is a usage error, not a half-done check.
  for (const p of paths) {
    if (p !== '-' && !fs.existsSync(path.resolve(io.cwd, p))) throw new UsageError(`${p}: no such file or directory`);
  }
  const collected: Collected = { manifests: [], problems: [], files: [] };
  for (const p of paths) {
    if (p === '-') {
      collected.files.push('-');
      collected.manifests.push({ file: '-', text: io.readStdin() });
      continue;
    }
    const full = path.resolve(io.cwd, p);
    if (fs.statSync(full).isDirectory()) collectDir(p, full, collected);
    else collectFile(p, fs.readFileSync(full, 'utf8'), collected);
  }
  const problems = [...collected.problems, ...checkManifestFiles(collected.manifests)];
  const lines = groupByFile(problems, collected.files);
  if (lines.length === 0) {
    io.stderr(`no problems in ${plural(collected.files.length, 'file')}\n`);
    return EXIT_OK;
  }
  io.stdout(lines.map((l) => `${l.line}\n`).join(''));
  io.stderr(`${plural(lines.length, 'problem')} in ${plural(new Set(lines.map((l) => l.file)).size, 'file')}\n`);
  return EXIT_FAILED;
}

/** Problems in the order of the files they are in (as read), each file's in the order found. */
function groupByFile(problems: readonly string[], files: readonly string[]): { file: string; line: string }[] {
  const order = new Map(files.map((f, i) => [f, i]));
  // Longest first, so `dist/manifests/a.yaml` is not taken for a file `dist`.
  const byLength = [...files].sort((a, b) => b.length - a.length);
  const fileOf = (line: string): string => byLength.find((f) => line.startsWith(`${f}:`)) ?? line.split(':', 1)[0];
  return problems
    .map((line, i) => ({ file: fileOf(line), line, i }))
    .sort((a, b) => (order.get(a.file) ?? files.length) - (order.get(b.file) ?? files.length) || a.i - b.i)
    .map(({ file, line }) => ({ file, line }));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
