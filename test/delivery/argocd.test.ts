import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ARGOCD_PLUGIN_NAME, ArgoCdApplication, InferenceService, MlApp, MlStack } from '../../lib';
import { buildReferenceApps } from '../../apps/main';
import { parseYamlStream } from '../../lib/check';
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
  return fs.readdirSync(dir).sort().flatMap(f => parseYamlStream(fs.readFileSync(path.join(dir, f), 'utf8')));
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
    expect(new Set(objects.map(o => o.metadata.namespace ?? o.metadata.name))).toEqual(new Set(['and-gate']));
    expect(() => app.manifestStream('nope')).toThrow(/--stack nope: no such stack; the stacks are and-gate, argocd, canary, eeg-letters, image-classifier, llm-chat, ml-model\./);
  });

  test('ArgoCdApplication points the plugin at one stack and its namespace (typed bindings from imports/)', () => {
    const out = synth(app => {
      const s = new MlStack(app, 'fraud', { namespace: 'fraud-prod' });
      new InferenceService(s, 'api', { image: 'registry.example.com/api:1.0.0' });
      const argo = new MlStack(app, 'argocd', { namespace: 'argocd', createNamespace: false });
      new ArgoCdApplication(argo, 'fraud', { stack: s, repoURL: 'https://git.example.com/ml.git', targetRevision: 'main' });
      new ArgoCdApplication(argo, 'fraud-committed', { stack: s, repoURL: 'https://git.example.com/ml.git', path: 'dist/manifests', render: 'committed', automated: false, argoNamespace: 'ci' });
    });
    const [plugin, committed] = out.all('Application');
    expect(plugin.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(plugin.metadata).toMatchObject({ name: 'fraud', namespace: 'argocd' });
    expect(plugin.spec).toEqual({
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'fraud-prod' },
      source: { repoURL: 'https://git.example.com/ml.git', path: '.', targetRevision: 'main', plugin: { name: ARGOCD_PLUGIN_NAME, env: [{ name: 'STACK', value: 'fraud' }] } },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['PruneLast=true', 'ApplyOutOfSyncOnly=true'] },
      ignoreDifferences: [{ group: 'batch', kind: 'Job', jsonPointers: ['/spec/suspend'] }],
    });
    expect(committed.spec.source).toEqual({ repoURL: 'https://git.example.com/ml.git', path: 'dist/manifests', targetRevision: 'HEAD', directory: { include: 'fraud.k8s.yaml' } });
    expect(committed.spec.syncPolicy.automated).toBeUndefined();
    expect(out.all('Namespace').map(n => n.metadata.name)).toEqual(['fraud-prod']); // argocd's namespace is left alone
  });

  test('ArgoCdApplication rejects a bad repo URL and path', () => {
    const build = (props: any) => () => synth(app => new ArgoCdApplication(new MlStack(app, 'argocd', { createNamespace: false }), 'x', { stack: new MlStack(app, 's'), repoURL: 'https://git.example.com/r.git', ...props }));
    expect(build({ repoURL: 'git.example.com/r' })).toThrow(/ArgoCdApplication 'argocd\/x': repoURL must be a git URL.*got "git.example.com\/r"\. Fix: use e.g./);
    expect(build({ path: '../outside' })).toThrow(/path must be a relative path inside the repository, got "..\/outside"/);
  });

  test('the plugin config runs the same command, for the name ArgoCdApplication uses', () => {
    const plugin = parse(fs.readFileSync(path.join(ROOT, 'deploy/argocd/plugin.yaml'), 'utf8'));
    expect(plugin.kind).toBe('ConfigManagementPlugin');
    expect(`${plugin.metadata.name}-${plugin.spec.version}`).toBe(ARGOCD_PLUGIN_NAME);
    expect(plugin.spec.discover.fileName).toBe('cdk8s.yaml');
    // run the generate command as the sidecar would, for one stack, with this checkout's cdk8s-ml on PATH
    // (a consumer repo has it in node_modules/.bin: test/e2e/consumer.e2e.test.ts runs it there)
    const res = spawnSync('sh', plugin.spec.generate.command.slice(1), { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${cliShim()}:${process.env.PATH}`, ARGOCD_ENV_STACK: 'ml-model' } });
    expect(res.status).toBe(0);
    const objects = parseYamlStream(res.stdout);
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual(parseYamlStream(buildReferenceApps(new MlApp({ outdir: tempDir() })).manifestStream('ml-model')).map(o => `${o.kind}/${o.metadata.name}`));
  });
});

describe('command line', () => {
  test('bad input: exit code 1, the message without a stack trace, and the output directory untouched', () => {
    const dir = tempDir();
    const outdir = path.join(dir, 'dist');
    buildReferenceApps(new MlApp({ outdir })).synth();
    const before = fs.readdirSync(path.join(outdir, 'manifests'));
    const main = path.join(dir, 'main.ts');
    fs.writeFileSync(main, `import { InferenceService, MlApp, MlStack } from '${path.join(ROOT, 'lib')}';
MlApp.main(app => new InferenceService(new MlStack(app, 'shop'), 'api', { image: 'registry.example.com/api:1.0.0', replicas: -2 }));
`);
    const res = spawnSync('node', [...TS_NODE, main], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK8S_OUTDIR: outdir } });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(`cdk8s-ml: synth failed: ${outdir} was left unchanged.\nInferenceService 'shop/api': replicas must be a whole number >= 0, got -2. Fix: set replicas to a whole number >= 0\n`);
    expect(res.stdout).toBe('');
    expect(fs.readdirSync(path.join(outdir, 'manifests'))).toEqual(before);
  });
});
