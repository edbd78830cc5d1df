/**
 * `cdk8s-ml diff`: what a change does to the synthesized output, for review. Compares two output
 * directories (or synthesizes the base from a git ref in a temporary worktree) with diffOutputs and
 * prints the result as text, GitHub Markdown (a pull-request comment) or JSON.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliIo, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './_io';
import { appCommand } from './render';
import { readOutputDir } from '../check/files';
import { diffOutputs, renderDiffJson, renderDiffMarkdown, renderDiffText } from '../diff';

export const DIFF_HELP = `Usage: cdk8s-ml diff BASE HEAD [--format text|markdown|json]
       cdk8s-ml diff --git REF [HEAD_REF] [--dir DIR] [--format ...]

Compares two synthesized outputs (directories as MlApp writes them: manifests/, images/, compose/,
diagrams/) stack by stack: objects added, removed and changed; workloads' images, scale (replicas or
autoscaling bounds) and resources, with the CPU, memory and GPUs requested at minimum and maximum
scale; connections the NetworkPolicies newly allow or no longer allow and new ways in from outside;
hazards; the changed stacks' diagrams.

With --git, the base is the project in DIR (default: the current directory, which holds cdk8s.yaml)
at git ref REF, synthesized in a temporary git worktree with its "app:" command (the project's
node_modules are linked in); the head is HEAD_REF synthesized the same way, or without HEAD_REF the
working tree as it is. The worktrees are removed afterwards.

Hazards: an immutable field changed, an object removed (a claim or a namespace: its data), a Job
Argo CD re-creates (Replace=true) and so runs again, a Pod Security level changed, a canary's
traffic weight changed.

Formats: text (default), markdown (GitHub-flavoured, for a pull-request comment), json.
Exit code: 0 no hazard, 1 hazards, 2 a usage error or the diff could not be made (like diff(1)).
`;

type Format = 'text' | 'markdown' | 'json';
const FORMATS: readonly Format[] = ['text', 'markdown', 'json'];

interface DiffArgs {
  readonly format: Format;
  readonly positional: readonly string[];
  readonly git: boolean;
  readonly dir: string;
}

function parseArgs(args: readonly string[], cwd: string): DiffArgs {
  let format: Format = 'text';
  let git = false;
  let dir = cwd;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--format' || a === '--dir') {
      const v = args[++i];
      if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      if (a === '--dir') dir = path.resolve(cwd, v);
      else if ((FORMATS as readonly string[]).includes(v)) format = v as Format;
      else throw new UsageError(`--format ${v}: the formats are ${FORMATS.join(', ')}`);
    } else if (a === '--git') {
      git = true;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option "${a}"`);
    } else {
      positional.push(a);
    }
  }
  if (git && (positional.length < 1 || positional.length > 2)) {
    throw new UsageError(
      positional.length === 0
        ? '--git needs a REF (e.g. --git origin/main)'
        : `--git takes REF and at most one HEAD_REF, got ${positional.length} arguments`,
    );
  }
  if (!git && positional.length !== 2) {
    throw new UsageError(
      `needs two output directories, BASE and HEAD, got ` +
        `${positional.length === 0 ? 'none' : positional.map((p) => JSON.stringify(p)).join(' ')} (or --git REF to synthesize the base from git)`,
    );
  }
  return { format, positional, git, dir };
}

/** An output directory MlApp wrote: it must exist and hold manifests/. */
function readOutput(dir: string, role: string): Map<string, string> {
  if (!fs.existsSync(dir)) throw new UsageError(`${role} ${dir}: no such directory`);
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`${role} ${dir}: not a directory (give an output directory, e.g. dist)`);
  if (!fs.existsSync(path.join(dir, 'manifests')))
    throw new UsageError(`${role} ${dir}: no manifests/ in it; is it an output directory as MlApp writes it (e.g. dist)?`);
  return readOutputDir(dir);
}

function git(args: readonly string[], cwd: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`could not run git: ${r.error.message}`);
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

/**
 * Runs the project's app into outdir the way `cdk8s-ml render` does (through a shell, CDK8S_OUTDIR
 * set, as cdk8s-cli runs it); its own output goes to stderr.
 */
function synthProject(dir: string, outdir: string, io: CliIo, what: string): void {
  const command = appCommand(dir);
  const res = spawnSync(command, {
    cwd: dir,
    shell: true,
    env: { ...process.env, CDK8S_OUTDIR: outdir },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (res.stdout) io.stderr(res.stdout);
  if (res.stderr) io.stderr(res.stderr);
  if (res.error) throw new Error(`could not run the app "${command}" for ${what}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`the app "${command}" failed for ${what} (exit code ${res.status ?? res.signal})`);
}

/** Synthesizes the project at `ref` in a temporary worktree, removed afterwards (also on failure). */
function synthAtRef(dir: string, ref: string, tmp: string, io: CliIo): Map<string, string> {
  const top = git(['rev-parse', '--show-toplevel'], dir);
  if (!top.ok) throw new UsageError(`--git: ${dir} is not in a git repository`);
  const commit = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], dir);
  if (!commit.ok) throw new UsageError(`--git ${ref}: no such commit in ${top.out}`);
  const prefix = path.relative(top.out, fs.realpathSync(dir));
  const worktree = path.join(tmp, `worktree-${commit.out.slice(0, 12)}`);
  const added = git(['worktree', 'add', '--detach', worktree, commit.out], dir);
  if (!added.ok) throw new Error(`git worktree add failed: ${added.err}`);
  try {
    const project = path.join(worktree, prefix);
    // node_modules is not in git: the worktree uses the project's installed packages.
    const modules = path.join(dir, 'node_modules');
    if (fs.existsSync(modules) && !fs.existsSync(path.join(project, 'node_modules')))
      fs.symlinkSync(modules, path.join(project, 'node_modules'), 'dir');
    const outdir = path.join(project, OUTDIR_NAME);
    synthProject(project, outdir, io, `${ref} (${commit.out.slice(0, 12)})`);
    return readOutput(outdir, `the output of ${ref}`);
  } finally {
    git(['worktree', 'remove', '--force', worktree], dir);
    fs.rmSync(worktree, { recursive: true, force: true });
    git(['worktree', 'prune'], dir);
  }
}

/**
 * Where a synthesized side is written: inside its project, at the same place for both sides, because
 * build files (docker-bake.json, compose) name their contexts relative to the output directory.
 */
const OUTDIR_NAME = `.cdk8s-ml-diff-${process.pid}`;

function inputs(a: DiffArgs, io: CliIo, tmp: string): [Map<string, string>, Map<string, string>] {
  if (!a.git) return [readOutput(path.resolve(io.cwd, a.positional[0]), 'BASE'), readOutput(path.resolve(io.cwd, a.positional[1]), 'HEAD')];
  const base = synthAtRef(a.dir, a.positional[0], tmp, io);
  if (a.positional[1] !== undefined) return [base, synthAtRef(a.dir, a.positional[1], tmp, io)];
  const outdir = path.join(a.dir, OUTDIR_NAME);
  try {
    synthProject(a.dir, outdir, io, 'the working tree');
    return [base, readOutput(outdir, 'the output of the working tree')];
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

export function runDiff(args: string[], io: CliIo): number {
  const a = parseArgs(args, io.cwd);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-diff-'));
  try {
    const [base, head] = inputs(a, io, tmp);
    const d = diffOutputs(base, head);
    const render = a.format === 'markdown' ? renderDiffMarkdown : a.format === 'json' ? renderDiffJson : renderDiffText;
    io.stdout(render(d));
    return d.hazards.length > 0 ? EXIT_FAILED : EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // Exit 1 means "hazards" to CI: a diff that could not be made is trouble, 2 (as diff(1) has it).
    io.stderr(`cdk8s-ml diff: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_USAGE;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
