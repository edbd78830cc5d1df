import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ARGOCD_PLUGIN_NAME, ArgoCdApplication, InferenceService, KUEUE_ADMISSION_IGNORED_FIELDS, MlApp, MlStack } from '../../lib';
import { buildReferenceApps } from '../../apps/main';
import { parseYamlStream } from '../_util/yaml';
import { synth, tempDir } from '../_util/synth';

const ROOT = path.resolve(__dirname, '../..');
const TS_NODE = ['-r', path.join(ROOT, 'scripts/register.js')];

/** A directory holding a `cdk8s-ml` command that runs this checkout's sources. */
function cliShim(): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'cdk8s-ml'), `#!/bin/sh\nexec node -r ${ROOT}/scripts/register.js ${ROOT}/lib/cli/main.ts "$@"\n`, { mode: 0o755 });
  return dir;
}

/** The objects of dist/manifests/*.yaml, file by file in name order, as Argo CD would read them. */
function objectsOfDist(outdir: string): any[] {
  const dir = path.join(outdir, 'manifests');
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((f) => parseYamlStream(fs.readFileSync(path.join(dir, f), 'utf8')));
}

describe('Argo CD', () => {
  test('the manifests command prints one valid stream with exactly the objects of dist/, in the same order', () => {
    const outdir = path.join(tempDir(), 'dist');
    buildReferenceApps(new MlApp({ outdir })).synth();
    const stream = execFileSync('node', [...TS_NODE, 'apps/main.ts', '--stdout'], { cwd: ROOT, encoding: 'utf8' });
    const fromStream = parseYamlStream(stream);
    expect(fromStream).toEqual(objectsOfDist(outdir));
    expect(fromStream.length).toBeGreaterThan(20);
    // every document boundary is explicit: files are joined with '---', never glued together
    expect(stream.split(/^---$/m).length).toBe(fromStream.length);
  });

  test('--stack prints one stack; an unknown stack is an error naming the stacks', () => {
    const app = buildReferenceApps(new MlApp({ outdir: tempDir() }));
    const objects = parseYamlStream(app.manifestStream('and-gate'));
    expect(new Set(objects.map((o) => o.metadata.namespace ?? o.metadata.name))).toEqual(new Set(['and-gate']));
    expect(() => app.manifestStream('nope')).toThrow(
      /--stack nope: no such stack; the stacks are and-gate, argocd, canary, eeg-letters, image-classifier, llm-chat, ml-model\./,
    );
  });

  test('ArgoCdApplication points the plugin at one stack and its namespace (typed bindings from imports/)', () => {
    const out = synth((app) => {
      const s = new MlStack(app, 'fraud', { namespace: 'fraud-prod' });
      new InferenceService(s, 'api', { image: 'registry.example.com/api:1.0.0' });
      const argo = new MlStack(app, 'argocd', { namespace: 'argocd', createNamespace: false });
      new ArgoCdApplication(argo, 'fraud', { stack: s, repoURL: 'https://git.example.com/ml.git', targetRevision: 'main' });
      new ArgoCdApplication(argo, 'fraud-committed', {
        stack: s,
        repoURL: 'https://git.example.com/ml.git',
        path: 'dist/manifests',
        render: 'committed',
        automated: false,
        argoNamespace: 'ci',
      });
    });
    const [plugin, committed] = out.all('Application');
    expect(plugin.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(plugin.metadata).toMatchObject({ name: 'fraud', namespace: 'argocd' });
    expect(plugin.spec).toEqual({
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'fraud-prod' },
      source: {
        repoURL: 'https://git.example.com/ml.git',
        path: '.',
        targetRevision: 'main',
        plugin: { name: ARGOCD_PLUGIN_NAME, env: [{ name: 'STACK', value: 'fraud' }] },
      },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['PruneLast=true', 'ApplyOutOfSyncOnly=true'] },
      ignoreDifferences: [{ group: 'batch', kind: 'Job', jsonPointers: ['/spec/suspend'], jqPathExpressions: [...KUEUE_ADMISSION_IGNORED_FIELDS] }],
    });
    expect(committed.spec.source).toEqual({
      repoURL: 'https://git.example.com/ml.git',
      path: 'dist/manifests',
      targetRevision: 'HEAD',
      directory: { include: 'fraud.k8s.yaml' },
    });
    expect(committed.spec.syncPolicy.automated).toBeUndefined();
    expect(out.all('Namespace').map((n) => n.metadata.name)).toEqual(['fraud-prod']); // argocd's namespace is left alone
  });

  test('ArgoCdApplication rejects a bad repo URL and path', () => {
    const build = (props: any) => () =>
      synth(
        (app) =>
          new ArgoCdApplication(new MlStack(app, 'argocd', { createNamespace: false }), 'x', {
            stack: new MlStack(app, 's'),
            repoURL: 'https://git.example.com/r.git',
            ...props,
          }),
      );
    expect(build({ repoURL: 'git.example.com/r' })).toThrow(
      /ArgoCdApplication 'argocd\/x': repoURL must be a git URL.*got "git.example.com\/r"\. Fix: use e.g./,
    );
    expect(build({ path: '../outside' })).toThrow(/path must be a relative path inside the repository, got "..\/outside"/);
  });

  test('the plugin config runs the same command, for the name ArgoCdApplication uses', () => {
    const plugin = parse(fs.readFileSync(path.join(ROOT, 'deploy/argocd/plugin.yaml'), 'utf8'));
    expect(plugin.kind).toBe('ConfigManagementPlugin');
    expect(`${plugin.metadata.name}-${plugin.spec.version}`).toBe(ARGOCD_PLUGIN_NAME);
    expect(plugin.spec.discover.fileName).toBe('cdk8s.yaml');
    // run the generate command as the sidecar would, for one stack, with this checkout's cdk8s-ml on PATH
    // (a consumer repo has it in node_modules/.bin: test/e2e/consumer.e2e.test.ts runs it there)
    const res = spawnSync('sh', plugin.spec.generate.command.slice(1), {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${cliShim()}:${process.env.PATH}`, ARGOCD_ENV_STACK: 'ml-model' },
    });
    expect(res.status).toBe(0);
    const objects = parseYamlStream(res.stdout);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      parseYamlStream(buildReferenceApps(new MlApp({ outdir: tempDir() })).manifestStream('ml-model')).map((o) => `${o.kind}/${o.metadata.name}`),
    );
  });
});

/**
 * The plugin's init, run as the sidecar runs it (`sh -c <script>` from plugin.yaml) with a stand-in
 * `npm` on PATH that records its calls and writes a node_modules: the caching around the install is
 * what is tested here; test/e2e/consumer.e2e.test.ts runs it with the real npm and times it.
 */
describe('Argo CD plugin init: one install per lockfile', () => {
  const init: string[] = parse(fs.readFileSync(path.join(ROOT, 'deploy/argocd/plugin.yaml'), 'utf8')).spec.init.command;
  let work: string;
  let cache: string;
  let fakeBin: string;
  const npmCalls = (): string[] => {
    const log = path.join(work, 'npm.log');
    return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  };
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-plugin-'));
    cache = path.join(work, 'cache');
    fakeBin = path.join(work, 'bin');
    fs.mkdirSync(fakeBin);
    fs.writeFileSync(
      path.join(fakeBin, 'npm'),
      `#!/bin/sh
echo "$*" >> ${work}/npm.log
sleep 0.3
mkdir -p node_modules/.bin node_modules/dep && echo "$(cat package-lock.json)" > node_modules/dep/lock
`,
      { mode: 0o755 },
    );
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  function checkout(name: string, lock = '{"lockfileVersion":3}'): string {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"app"}\n');
    fs.writeFileSync(path.join(dir, 'package-lock.json'), lock);
    return dir;
  }
  function runInit(dir: string): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(init[0], init.slice(1), {
        cwd: dir,
        env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, CDK8S_ML_MODULES_CACHE: cache },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stderr }));
    });
  }
  const entries = (): string[] => fs.readdirSync(cache).sort();
  const linkOf = (dir: string): string => fs.readlinkSync(path.join(dir, 'node_modules'));

  test('the first render of a lockfile installs it, the next ones link the cached install', async () => {
    const first = checkout('first');
    expect(await runInit(first)).toMatchObject({ status: 0 });
    expect(npmCalls()).toEqual(['ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline']);
    const [entry] = entries();
    expect(linkOf(first)).toBe(path.join(cache, entry, 'node_modules'));
    expect(fs.readFileSync(path.join(first, 'node_modules/dep/lock'), 'utf8')).toContain('lockfileVersion');

    const next = checkout('next');
    expect(await runInit(next)).toMatchObject({ status: 0 });
    expect(npmCalls()).toHaveLength(1); // no install again
    expect(linkOf(next)).toBe(linkOf(first));

    const changed = checkout('changed', '{"lockfileVersion":3,"packages":{}}');
    expect(await runInit(changed)).toMatchObject({ status: 0 });
    expect(npmCalls()).toHaveLength(2);
    expect(entries()).toHaveLength(2);
    expect(linkOf(changed)).not.toBe(linkOf(first));
  });

  test('concurrent first renders of one lockfile all succeed and leave one complete entry', async () => {
    const dirs = ['a', 'b', 'c'].map((n) => checkout(n));
    const results = await Promise.all(dirs.map(runInit));
    expect(results.map((r) => r.status)).toEqual([0, 0, 0]);
    expect(entries()).toHaveLength(1); // the losers dropped their copies; no temporary directory left
    for (const d of dirs) expect(fs.readFileSync(path.join(d, 'node_modules/dep/lock'), 'utf8')).toContain('lockfileVersion');
  });

  test('the cache keeps the 3 most recently used installs and drops leftovers of killed renders', async () => {
    fs.mkdirSync(cache);
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const [i, name] of ['old1', 'old2', 'old3', 'old4'].entries()) {
      fs.mkdirSync(path.join(cache, name, 'node_modules'), { recursive: true });
      const t = new Date(hourAgo.getTime() - i * 60_000);
      fs.utimesSync(path.join(cache, name), t, t);
    }
    fs.mkdirSync(path.join(cache, '.tmp-killed'));
    fs.utimesSync(path.join(cache, '.tmp-killed'), new Date(0), new Date(0));
    fs.mkdirSync(path.join(cache, '.tmp-running'));
    expect(await runInit(checkout('x'))).toMatchObject({ status: 0 });
    expect(entries()).toEqual(['.tmp-running', path.basename(path.dirname(linkOf(path.join(work, 'x')))), 'old1', 'old2'].sort());
  });

  test('a repo without a lockfile fails with the fix', async () => {
    const dir = checkout('nolock');
    fs.rmSync(path.join(dir, 'package-lock.json'));
    const res = await runInit(dir);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("cdk8s-ml plugin: no package-lock.json: commit the lockfile 'npm install' writes");
  });
});

describe('command line', () => {
  test('bad input: exit code 1, the message without a stack trace, and the output directory untouched', () => {
    const dir = tempDir();
    const outdir = path.join(dir, 'dist');
    buildReferenceApps(new MlApp({ outdir })).synth();
    const before = fs.readdirSync(path.join(outdir, 'manifests'));
    const main = path.join(dir, 'main.ts');
    fs.writeFileSync(
      main,
      `import { InferenceService, MlApp, MlStack } from '${path.join(ROOT, 'lib')}';
MlApp.main(app => new InferenceService(new MlStack(app, 'shop'), 'api', { image: 'registry.example.com/api:1.0.0', replicas: -2 }));
`,
    );
    const res = spawnSync('node', [...TS_NODE, main], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK8S_OUTDIR: outdir } });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(
      `cdk8s-ml: synth failed: ${outdir} was left unchanged.\nInferenceService 'shop/api': ` +
        `replicas must be a whole number >= 0, got -2. Fix: set replicas to a whole number >= 0\n`,
    );
    expect(res.stdout).toBe('');
    expect(fs.readdirSync(path.join(outdir, 'manifests'))).toEqual(before);
  });
});
