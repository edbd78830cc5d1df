/**
 * `cdk8s-ml check PATH...`: the output check this library's own tests run, for any output
 * directory, YAML from other tools (kustomize build, helm template, kubectl get -o yaml), a
 * Dockerfile or a compose file. The Kubernetes objects of all PATHs are checked as one set, as a
 * cluster would see them: a Service in one file may be what an env URL in another names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlInputError } from '../_errors';
import { closestKey } from '../_validate';
import { CHECK_RULES, checkManifests, NEWEST_POD_SECURITY_VERSION, parseYamlStream, POD_SECURITY_VERSION } from '../check';
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
import type { CheckOptions, K8sObject } from '../check/k8s';
import { KUBERNETES_VERSIONS } from '../check/k8s-schema';
import { formatJson, formatSarif, formatText, parseProblem, ReportedProblem, selectProblems, summarize, unknownRuleIssue } from '../check/report';
import { CliIo, EXIT_FAILED, EXIT_OK, UsageError } from './_io';
import { ownPackage } from './_package';

const idWidth = Math.max(...CHECK_RULES.map((r) => r.id.length)) + 2;
const ruleList = CHECK_RULES.map((r) => `  ${r.id.padEnd(idWidth)}${r.summary}`).join('\n');

// The Kubernetes releases whose field tables the check holds (lib/check/k8s-schema.ts).
const NEWEST_KUBERNETES = KUBERNETES_VERSIONS[KUBERNETES_VERSIONS.length - 1];
const KUBERNETES_VERSIONS_HELP = `:\n${' '.repeat(25)}${KUBERNETES_VERSIONS.join(', ')} (default ${NEWEST_KUBERNETES})`;

export const CHECK_HELP = `Usage: cdk8s-ml check [OPTION]... PATH...

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

Options (each also as --option=VALUE):
  --skip RULE[,RULE]     do not report these rules (repeatable)
  --only RULE[,RULE]     report only these rules (repeatable); a rule in --skip too is skipped.
                         "yaml" problems (a file that cannot be read) are always reported
  --pod-security-version v1.N|latest
                         the Pod Security Standards version pods are checked at, unless a
                         Namespace among the objects sets pod-security.kubernetes.io/enforce-version
                         (default ${POD_SECURITY_VERSION}; "latest" is ${NEWEST_POD_SECURITY_VERSION} here)
  --kubernetes-version 1.N
                         the Kubernetes release whose fields the objects are checked against${KUBERNETES_VERSIONS_HELP}
  --crd FILE             a YAML file of CustomResourceDefinitions (repeatable): their kinds become
                         known, and their OpenAPI v3 schemas check the custom objects
  -o, --output FORMAT    text (default): one line per problem
                         json: one document {problems: [{file, line?, object?, rule, message, fix?}], summary}
                         sarif: SARIF 2.1.0, for code scanning (GitHub: upload-sarif); file paths
                         relative to the working directory

Text output is one line per problem on stdout:
  FILE: KIND/NAMESPACE/NAME: RULE: MESSAGE     a Kubernetes object ("-" when it has no namespace)
  FILE:LINE: RULE: MESSAGE                     a Dockerfile instruction
  FILE: RULE: MESSAGE                          anything else
and, in every format, a summary on stderr. Exit code 0: no problems; 1: problems; 2: the command
line is wrong (no PATH, a PATH or --crd FILE that does not exist, an unknown option or rule).

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

/** `cdk8s-ml check`'s command line, as its options name it (the shape of kubeconform's and kube-linter's; see VALUE_OPTIONS). */
interface CheckArgs {
  readonly paths: string[];
  readonly skip: string[];
  readonly only: string[];
  readonly crdFiles: string[];
  output: OutputFormat;
  podSecurityVersion?: string;
  kubernetesVersion?: string;
}

const OUTPUT_FORMATS = ['text', 'json', 'sarif'] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * Options with a value, by the names users know: --skip and -o/--output as kubeconform's (-skip,
 * -output), --only as kube-linter's --include narrowed to the rules named, --kubernetes-version as
 * kubeconform's; kubeconform skips kinds and kube-linter excludes checks: here both are rule ids.
 */
const VALUE_OPTIONS: Readonly<Record<string, (a: CheckArgs, v: string) => void>> = {
  '--skip': (a, v) => a.skip.push(...ruleIds('--skip', v)),
  '--only': (a, v) => a.only.push(...ruleIds('--only', v)),
  '--crd': (a, v) => a.crdFiles.push(v),
  '--pod-security-version': (a, v) => void (a.podSecurityVersion = v),
  '--kubernetes-version': (a, v) => void (a.kubernetesVersion = v),
  '--output': (a, v) => void (a.output = outputFormat(v)),
  '-o': (a, v) => void (a.output = outputFormat(v)),
};

function ruleIds(option: string, value: string): string[] {
  const ids = value
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (ids.length === 0) throw new UsageError(`${option} needs one or more rule ids, comma-separated`);
  for (const id of ids) {
    const issue = unknownRuleIssue(id, CHECK_RULES);
    if (issue) throw new UsageError(`${option}: ${issue}`);
  }
  return ids;
}

function outputFormat(v: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(v)) return v as OutputFormat;
  throw new UsageError(`--output ${v}: the formats are ${OUTPUT_FORMATS.join(', ')}`);
}

function parseArgs(args: readonly string[]): CheckArgs {
  const parsed: CheckArgs = { paths: [], skip: [], only: [], crdFiles: [], output: 'text' };
  let options = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (options && a === '--') options = false;
    else if (options && a.startsWith('-') && a !== '-') {
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      const name = eq > 0 ? a.slice(0, eq) : a;
      const apply = Object.hasOwn(VALUE_OPTIONS, name) ? VALUE_OPTIONS[name] : undefined;
      if (!apply) {
        const guess = closestKey(name, Object.keys(VALUE_OPTIONS));
        throw new UsageError(`unknown option "${a}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
      }
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
      apply(parsed, value);
    } else parsed.paths.push(a);
  }
  if (parsed.paths.length === 0)
    throw new UsageError(
      'no PATH given: name an output directory, a directory or file of YAML, a Dockerfile, a compose file, or - for standard input',
    );
  if (parsed.paths.filter((p) => p === '-').length > 1) throw new UsageError('- (standard input) given more than once');
  return parsed;
}

/** The CustomResourceDefinitions of a --crd file (a v1 List's items too, what `kubectl get crd -o yaml` prints). */
function readCrds(file: string, cwd: string): K8sObject[] {
  const full = path.resolve(cwd, file);
  if (!fs.existsSync(full) || !fs.statSync(full).isFile()) throw new UsageError(`--crd ${file}: no such file`);
  let docs: K8sObject[];
  try {
    docs = parseYamlStream(fs.readFileSync(full, 'utf8'));
  } catch (err) {
    throw new UsageError(`--crd ${file}: yaml: ${(err as Error).message}`);
  }
  const isObj = (d: unknown): d is Record<string, unknown> => typeof d === 'object' && d !== null && !Array.isArray(d);
  const items = docs.flatMap((d) => (isObj(d) && d.kind === 'List' && Array.isArray(d.items) ? (d.items as K8sObject[]) : [d]));
  const crds = items.filter((d) => isObj(d) && d.kind === 'CustomResourceDefinition' && String(d.apiVersion).startsWith('apiextensions.k8s.io/'));
  if (crds.length === 0) throw new UsageError(`--crd ${file}: holds no CustomResourceDefinition (apiextensions.k8s.io/v1)`);
  return crds;
}

/** The options of the check; a bad one is the command line's fault, so exit 2 before anything is read. */
function checkOptions(args: CheckArgs, cwd: string): CheckOptions {
  const crds = args.crdFiles.flatMap((f) => readCrds(f, cwd));
  const options: CheckOptions = {
    ...(args.podSecurityVersion !== undefined ? { podSecurityVersion: args.podSecurityVersion } : {}),
    ...(args.kubernetesVersion !== undefined ? { kubernetesVersion: args.kubernetesVersion } : {}),
    ...(crds.length > 0 ? { crds } : {}),
  };
  try {
    // Checking no objects validates the options alone, with the library's own messages.
    checkManifests([], options);
  } catch (err) {
    if (err instanceof MlInputError) throw new UsageError(err.message);
    throw err;
  }
  return options;
}

export function runCheck(argv: string[], io: CliIo): number {
  const args = parseArgs(argv);
  // Every PATH must exist before anything is read: a typo is a usage error, not a half-done check.
  for (const p of args.paths) {
    if (p !== '-' && !fs.existsSync(path.resolve(io.cwd, p))) throw new UsageError(`${p}: no such file or directory`);
  }
  const options = checkOptions(args, io.cwd);
  const collected: Collected = { manifests: [], problems: [], files: [] };
  for (const p of args.paths) {
    if (p === '-') {
      collected.files.push('-');
      collected.manifests.push({ file: '-', text: io.readStdin() });
      continue;
    }
    const full = path.resolve(io.cwd, p);
    if (fs.statSync(full).isDirectory()) collectDir(p, full, collected);
    else collectFile(p, fs.readFileSync(full, 'utf8'), collected);
  }
  const lines = [...collected.problems, ...checkManifestFiles(collected.manifests, options)];
  const problems = selectProblems(
    byFile(
      lines.map((l) => parseProblem(l, collected.files, CHECK_RULES)),
      collected.files,
    ),
    args,
  );
  report(args.output, problems, collected.files.length, io);
  return problems.length === 0 ? EXIT_OK : EXIT_FAILED;
}

/** The report on stdout (text: nothing when clean; json and sarif: always one document), the summary on stderr. */
function report(output: OutputFormat, problems: readonly ReportedProblem[], filesChecked: number, io: CliIo): void {
  const summary = summarize(problems, filesChecked);
  if (output === 'json') io.stdout(formatJson(problems, summary));
  else if (output === 'sarif') {
    // Code scanning resolves a result's file against the repository checked out in the working directory.
    const relative = (f: string) => (f === '-' ? f : path.relative(io.cwd, path.resolve(io.cwd, f)).split(path.sep).join('/'));
    io.stdout(
      formatSarif(
        problems.map((p) => ({ ...p, file: relative(p.file) })),
        { name: 'cdk8s-ml', version: ownPackage().version },
        CHECK_RULES,
      ),
    );
  } else io.stdout(formatText(problems));
  io.stderr(
    problems.length === 0
      ? `no problems in ${plural(filesChecked, 'file')}\n`
      : `${plural(problems.length, 'problem')} in ${plural(summary.filesWithProblems, 'file')}\n`,
  );
}

/** Problems in the order of the files they are in (as read), each file's in the order found. */
function byFile(problems: readonly ReportedProblem[], files: readonly string[]): ReportedProblem[] {
  const order = new Map(files.map((f, i) => [f, i]));
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (order.get(a.p.file) ?? files.length) - (order.get(b.p.file) ?? files.length) || a.i - b.i)
    .map(({ p }) => p);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
