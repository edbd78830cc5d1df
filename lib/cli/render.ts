/**
 * `cdk8s-ml render`: what the Argo CD config-management plugin runs in a project's checkout. It runs
 * the app named by cdk8s.yaml (as cdk8s-cli does: through a shell, with CDK8S_OUTDIR set) into a
 * temporary directory and prints every manifest as ONE valid multi-document stream: `cdk8s synth
 * --stdout` glues files together without `---` (cdk8s-cli#943). Nothing but manifests reaches
 * stdout; the app's own output goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { CliIo, EXIT_FAILED, UsageError } from './_io';
import { MANIFESTS_DIR } from '../stack/_output';
import { joinYamlStreams } from '../app/_yaml';

export const RENDER_HELP = `Usage: cdk8s-ml render [--stack NAME] [--dir DIR]

Runs the app that DIR/cdk8s.yaml names (its "app:" command; DIR defaults to the current directory)
into a temporary directory and prints its manifests as one multi-document YAML stream on stdout,
files joined by "---". With --stack, only manifests/NAME.k8s.yaml. The app's output and errors go to
stderr; the exit code is 1 when the app fails or writes no manifest. Nothing is written to DIR.

This is the generate command of the Argo CD plugin (argocd/plugin.yaml of a project made by
'cdk8s-ml init'); Argo CD passes the Application's plugin env STACK as ARGOCD_ENV_STACK.
`;

interface RenderArgs {
  readonly dir: string;
  readonly stack?: string;
}

function parseArgs(args: readonly string[], cwd: string): RenderArgs {
  let dir = cwd;
  let stack: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--stack' || a === '--dir') {
      const v = args[++i];
      if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      if (a === '--stack') stack = v;
      else dir = path.resolve(cwd, v);
    } else {
      throw new UsageError(`unknown argument "${a}"`);
    }
  }
  return { dir, stack };
}

/** The `app:` command of cdk8s.yaml, the one thing render needs from it. */
export function appCommand(dir: string): string {
  const file = path.join(dir, 'cdk8s.yaml');
  if (!fs.existsSync(file)) throw new Error(`no cdk8s.yaml in ${dir}: run it in a project made by 'cdk8s-ml init' (or any cdk8s app)`);
  let config: unknown;
  try {
    config = yaml.load(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const app = (config as { app?: unknown } | null)?.app;
  if (typeof app !== 'string' || app.trim() === '') throw new Error(`${file} has no "app:" command (e.g. app: node -r cdk8s-ml/register main.ts)`);
  return app;
}

/** *.yaml files of an output directory in the order cdk8s-cli lists them: MlApp's manifests/, else the top level. */
function manifestFiles(outdir: string): string[] {
  const manifests = path.join(outdir, MANIFESTS_DIR);
  const dir = fs.existsSync(manifests) ? manifests : outdir;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function renderStream(files: readonly string[], stack: string | undefined): string {
  const selected = stack === undefined ? files : files.filter((f) => path.basename(f) === `${stack}.k8s.yaml`);
  if (selected.length === 0) {
    const names = files.map((f) => path.basename(f).replace(/(\.k8s)?\.yaml$/, ''));
    throw new Error(stack === undefined ? 'the app wrote no manifest' : `--stack ${stack}: no such stack; the stacks are ${names.join(', ')}`);
  }
  return joinYamlStreams(selected.map((f) => fs.readFileSync(f, 'utf8')));
}

export function runRender(args: string[], io: CliIo): number {
  const { dir, stack } = parseArgs(args, io.cwd);
  const command = appCommand(dir);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-render-'));
  try {
    const res = spawnSync(command, {
      cwd: dir,
      shell: true,
      env: { ...process.env, CDK8S_OUTDIR: outdir },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    // The app's own output is diagnostics: stdout must carry manifests only.
    if (res.stdout) io.stderr(res.stdout);
    if (res.stderr) io.stderr(res.stderr);
    if (res.error) throw new Error(`could not run the app "${command}": ${res.error.message}`);
    if (res.status !== 0) {
      io.stderr(`cdk8s-ml render: the app "${command}" failed (exit code ${res.status ?? res.signal}); nothing was printed\n`);
      return EXIT_FAILED;
    }
    io.stdout(renderStream(manifestFiles(outdir), stack));
    return 0;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
