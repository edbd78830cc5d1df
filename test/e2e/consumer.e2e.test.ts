/**
 * A new user's path, as CI can run it (it reaches only the npm registry): pack this checkout, run
 * `cdk8s-ml init` from the tarball in an empty directory, install the tarball in place of the
 * registry's cdk8s-ml and the rest from the registry, `npx cdk8s synth`, `cdk8s-ml check dist`, the
 * scaffold's own `npm test`, and the Argo CD plugin's init and generate commands in a fresh checkout,
 * whose output must parse as one stream holding exactly the objects of dist/manifests; the first
 * render (empty caches) and the next one (another checkout: no npm at all) timed against Argo CD's
 * 60 s deadline.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load, loadAll } from 'js-yaml';
import { initProject, installProject, packCheckout, ROOT, run, userEnv } from '../_util/consumer';

jest.setTimeout(15 * 60_000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-consumer-'));
const project = path.join(work, 'fraud-detect');

function objectsOf(dir: string): unknown[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => loadAll(fs.readFileSync(path.join(dir, f), 'utf8')));
}

let tarball: string;
let packedFiles: string[];

beforeAll(() => {
  ({ tarball, files: packedFiles } = packCheckout(work));
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the tarball holds LICENSE, the compiled library with typings, bin, hook, plugin and templates; no tests, apps or sources', () => {
  expect(packedFiles).toEqual(
    expect.arrayContaining([
      'LICENSE',
      'README.md',
      'package.json',
      'bin/cdk8s-ml.js',
      'register.js',
      'build/lib/index.js',
      'build/lib/index.d.ts',
      'build/lib/cli/main.js',
      'build/lib/check/index.d.ts',
      'build/lib/check/k8s-fields.json',
      'deploy/argocd/plugin.yaml',
      'deploy/argocd/repo-server-patch.yaml',
      'templates/init/main.ts',
      'templates/init/_gitignore',
    ]),
  );
  const misplaced = packedFiles.filter(
    (f) =>
      /^(test|apps|bench|scripts|imports\/crds)\//.test(f) ||
      /^build\/(test|apps|bench)\//.test(f) ||
      (/\.ts$/.test(f) && !/\.d\.ts$/.test(f) && !f.startsWith('templates/')) ||
      (/\.test\./.test(f) && !f.startsWith('templates/')),
  );
  expect(misplaced).toEqual([]);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(pkg.exports['.']).toEqual({ types: './build/lib/index.d.ts', default: './build/lib/index.js' });
  for (const target of Object.values<any>(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))) {
    expect(packedFiles).toContain(String(target).replace(/^\.\//, ''));
  }
});

test("init, install, synth, check, the scaffold's own tests and the Argo CD plugin work in a new repo", () => {
  // GIVEN a project made by the packed cdk8s-ml's init, in an empty directory
  initProject(tarball, project);
  expect(fs.existsSync(path.join(project, 'cdk8s.yaml'))).toBe(true);
  // WHEN it is installed: the packed tarball in place of the registry's cdk8s-ml, the rest from the registry
  installProject(project, tarball);

  // THEN npx cdk8s synth writes the output, and cdk8s-ml check finds it clean
  run('npx', ['cdk8s', 'synth'], project);
  const dist = path.join(project, 'dist');
  expect(fs.readdirSync(path.join(dist, 'manifests'))).toEqual(['fraud-detect.k8s.yaml']);
  expect(fs.existsSync(path.join(dist, 'images/fraud-detect-web/Dockerfile'))).toBe(true);
  const check = spawnSync('npx', ['cdk8s-ml', 'check', 'dist'], { cwd: project, env: userEnv(), encoding: 'utf8' });
  expect({ status: check.status, stdout: check.stdout }).toEqual({ status: 0, stdout: '' });
  // and the check is real there too: a broken manifest fails it
  const broken = path.join(work, 'broken.yaml');
  fs.writeFileSync(broken, 'apiVersion: v1\nkind: Service\nmetadata: { name: 9api }\nspec: { ports: [{ port: 80 }] }\n');
  const bad = spawnSync('npx', ['cdk8s-ml', 'check', broken], { cwd: project, env: userEnv(), encoding: 'utf8' });
  expect(bad.status).toBe(1);
  expect(bad.stdout).toMatch(/broken\.yaml: Service\/-\/9api: /);

  // the scaffold's npm test: first run writes its snapshot (as on a laptop), then passes under CI
  run('npm', ['test'], project, userEnv({ CI: undefined }));
  expect(fs.readdirSync(path.join(project, 'test/__snapshots__'))).toEqual(['main.test.ts.snap']);
  run('npm', ['test'], project, userEnv({ CI: 'true' }));

  // the Argo CD plugin, as the repo server runs it: a fresh checkout (no node_modules, no dist), init, generate;
  // the sidecar's caches start empty (a new pod): its npm cache and the plugin's install cache
  const plugin = load(fs.readFileSync(path.join(project, 'argocd/plugin.yaml'), 'utf8')) as any;
  const [sh, ...generate] = plugin.spec.generate.command;
  const sidecar = { CDK8S_ML_MODULES_CACHE: path.join(work, 'sidecar/modules'), npm_config_cache: path.join(work, 'sidecar/npm') };
  const freshCheckout = (name: string): string => {
    const dir = path.join(work, name);
    fs.cpSync(project, dir, { recursive: true, filter: (src) => !/\/(node_modules|dist)(\/|$)/.test(src.slice(project.length)) });
    return dir;
  };
  const render = (dir: string, env: NodeJS.ProcessEnv): { stream: string; seconds: number } => {
    const start = Date.now();
    run(plugin.spec.init.command[0], plugin.spec.init.command.slice(1), dir, env);
    const stream = run(sh, generate, dir, env).stdout;
    return { stream, seconds: (Date.now() - start) / 1000 };
  };
  const checkout = freshCheckout('argocd-checkout');
  const cold = render(checkout, userEnv(sidecar));
  expect(fs.existsSync(path.join(checkout, 'node_modules/cdk8s-cli'))).toBe(false); // runtime dependencies only
  expect(fs.existsSync(path.join(checkout, 'node_modules/typescript'))).toBe(false);
  // the next render of the same lockfile (another refresh, another checkout) installs nothing: npm is
  // not even on its PATH; it links the install the first render left in the sidecar's cache
  const noNpm = fs.mkdtempSync(path.join(work, 'no-npm-'));
  fs.writeFileSync(path.join(noNpm, 'npm'), '#!/bin/sh\necho "npm must not run on a warm render: $*" >&2\nexit 1\n', { mode: 0o755 });
  const again = freshCheckout('argocd-checkout-2');
  const warm = render(again, userEnv({ ...sidecar, PATH: `${noNpm}:${process.env.PATH}` }));
  expect(fs.lstatSync(path.join(again, 'node_modules')).isSymbolicLink()).toBe(true);
  expect(warm.stream).toBe(cold.stream);
  // Argo CD gives init + generate together the controller's 60 s call to the repo server (and 90 s of
  // ARGOCD_EXEC_TIMEOUT); the repo server still has to fetch the repo and stream it to the sidecar in
  // that time, so a first render gets 3/4 of it. A warm render is the app's own render time plus a link.
  // eslint-disable-next-line no-console
  console.log(
    `consumer e2e: Argo CD plugin render (init + generate) cold ${cold.seconds.toFixed(1)} s, ` +
      `warm ${warm.seconds.toFixed(1)} s (Argo CD's deadline: 60 s)`,
  );
  expect(cold.seconds).toBeLessThan(45);
  expect(warm.seconds).toBeLessThan(10);
  const stream = cold.stream;
  expect(loadAll(stream)).toEqual(objectsOf(path.join(dist, 'manifests')));
  expect(stream.split(/^---$/m)).toHaveLength(loadAll(stream).length);
  const one = run(sh, generate, checkout, userEnv({ ARGOCD_ENV_STACK: 'fraud-detect' })).stdout;
  expect(one).toBe(stream);
  const unknown = spawnSync(sh, generate, { cwd: checkout, env: userEnv({ ARGOCD_ENV_STACK: 'nope' }), encoding: 'utf8' });
  expect(unknown.status).toBe(1);
  expect(unknown.stdout).toBe('');
  expect(unknown.stderr).toContain('--stack nope: no such stack; the stacks are fraud-detect');
  expect(fs.existsSync(path.join(checkout, 'dist'))).toBe(false); // render writes nothing into the checkout

  // eslint-disable-next-line no-console
  console.log(
    `consumer e2e: runtime install (npm ci ` +
      `--omit=dev) ${execFileSync('du', ['-sh', `${path.join(checkout, 'node_modules')}/`], { encoding: 'utf8' }).split('\t')[0]}`,
  );
});
