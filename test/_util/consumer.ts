/**
 * A new user's project made from this checkout as npm would ship it: `npm pack`, then `cdk8s-ml init`
 * from the tarball and an install with the tarball in place of the registry's cdk8s-ml. Shared by the
 * consumer end-to-end test and the benchmark.
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

/** The environment of a user's shell: none of the npm_* variables of an `npm test` or `npm run` running us. */
export function userEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'CDK8S_OUTDIR') env[k] = v;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs a command and fails with its whole output when it does not exit 0. */
export function run(cmd: string, args: string[], cwd: string, env = userEnv()): SpawnSyncReturns<string> {
  const res = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 10 * 60_000 });
  if (res.error) throw new Error(`${cmd} ${args.join(' ')}: ${res.error.message} (is ${cmd} installed?)`);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${cwd} exited ${res.status}:\n${res.stdout}\n${res.stderr}`);
  return res;
}

/** `npm pack` of this checkout into dir (runs the build); the tarball's path and the files it holds. */
export function packCheckout(dir: string): { tarball: string; files: string[] } {
  const out = run('npm', ['pack', '--json', '--pack-destination', dir], ROOT).stdout;
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  return { tarball: path.join(dir, info.filename), files: info.files.map((f: { path: string }) => f.path) };
}

/** `cdk8s-ml init` run from the tarball (as `npx cdk8s-ml init` would), in a new empty directory. */
export function initProject(tarball: string, dir: string): void {
  fs.mkdirSync(dir);
  run('npm', ['exec', '--yes', `--package=${tarball}`, '--', 'cdk8s-ml', 'init'], dir);
}

/** The packed tarball in place of the registry's cdk8s-ml, then everything else from the registry. */
export function installProject(dir: string, tarball: string): void {
  run('npm', ['install', '--no-audit', '--no-fund', tarball], dir);
  run('npm', ['install', '--no-audit', '--no-fund'], dir);
}
