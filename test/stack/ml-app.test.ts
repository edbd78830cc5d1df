import * as fs from 'node:fs';
import * as path from 'node:path';
import { InferenceService, MlApp, MlStack, PythonImage } from '../../lib';
import { buildReferenceApps } from '../../apps/main';
import { checked, pythonContext, synth, tempDir } from '../_util/synth';

function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

describe('MlApp synth', () => {
  test('writes manifests, Dockerfiles, the bake file and build script into the output directory', () => {
    const outdir = path.join(tempDir(), 'dist');
    const app = buildReferenceApps(new MlApp({ outdir }));
    app.synth();
    const tree = readTree(outdir);
    checked(app, tree); // the written files pass the shared output check
    expect([...tree.keys()].filter((f) => f.startsWith('manifests/'))).toEqual(expect.arrayContaining(['manifests/ml-model.k8s.yaml']));
    expect([...tree.keys()].every((f) => !f.startsWith('manifests/') || f.endsWith('.k8s.yaml'))).toBe(true);
    expect(tree.has('images/ml-model/Dockerfile')).toBe(true);
    expect(tree.has('images/ml-model/Dockerfile.dockerignore')).toBe(true);
    expect(tree.has('images/docker-bake.json')).toBe(true);
    expect(fs.statSync(path.join(outdir, 'images/build.sh')).mode & 0o111).toBeTruthy();
    // Only manifests are *.yaml: `cdk8s synth --stdout` prints every *.yaml under the output directory.
    expect([...tree.keys()].filter((f) => f.endsWith('.yaml') && !f.startsWith('manifests/'))).toEqual([]);
  });

  test('two synths are byte-identical, whatever the environment and current directory', () => {
    const outdir = path.join(tempDir(), 'dist');
    buildReferenceApps(new MlApp({ outdir })).synth();
    const first = readTree(outdir);
    const cwd = process.cwd();
    process.env.CDK8S_DISABLE_SORT = '1'; // cdk8s would change key order with it
    process.chdir(tempDir());
    try {
      buildReferenceApps(new MlApp({ outdir })).synth();
    } finally {
      delete process.env.CDK8S_DISABLE_SORT;
      process.chdir(cwd);
    }
    expect(readTree(outdir)).toEqual(first);
    expect(first.size).toBeGreaterThan(3);
  });

  test('a failed synth leaves the previous output directory exactly as it was', () => {
    const outdir = path.join(tempDir(), 'dist');
    buildReferenceApps(new MlApp({ outdir })).synth();
    const before = readTree(outdir);
    fs.writeFileSync(path.join(outdir, 'marker'), 'kept');

    // GIVEN an app whose validation fails only at synth time (after construction succeeded)
    const app = new MlApp({ outdir });
    const stack = new MlStack(app, 'broken');
    stack.node.addValidation({ validate: () => ['this stack is broken on purpose'] });
    // WHEN synth runs THEN it throws with the construct path and writes nothing
    expect(() => app.synth()).toThrow(/broken.*this stack is broken on purpose/);
    expect(readTree(outdir)).toEqual(new Map([...before, ['marker', 'kept']]));
    expect(fs.readdirSync(path.dirname(outdir)).filter((f) => f.includes('staging'))).toEqual([]);
  });

  test('a construct error is thrown before anything is written', () => {
    const outdir = path.join(tempDir(), 'dist');
    expect(() => {
      const app = new MlApp({ outdir });
      const stack = new MlStack(app, 'bad');
      new InferenceService(stack, 'api', { image: 'registry.example.com/api:latest' });
      app.synth();
    }).toThrow(
      "InferenceService 'bad/api': image must be an image reference pinned to a version tag " +
        '(not \'latest\') or a digest, got "registry.example.com/api:latest". Fix:',
    );
    expect(fs.existsSync(outdir)).toBe(false);
  });

  test('an image is written once even when two stacks run it; a clashing name is an error', () => {
    const ctx = pythonContext();
    const image = PythonImage.fromDirectory(ctx, { repository: 'registry.example.com/shared', tag: '1.0.0' });
    const out = synth((app) => {
      new InferenceService(new MlStack(app, 'one'), 'api', { image });
      new InferenceService(new MlStack(app, 'two'), 'api', { image });
    });
    expect([...out.files.keys()].filter((f) => f.endsWith('/Dockerfile'))).toEqual(['images/shared/Dockerfile']);
    expect(JSON.parse(out.files.get('images/docker-bake.json')!).group.default.targets).toEqual(['shared']);

    const other = PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/team-b/shared', tag: '2.0.0' });
    expect(() =>
      synth((app) => {
        const s = new MlStack(app, 'one');
        new InferenceService(s, 'a', { image });
        new InferenceService(s, 'b', { image: other });
      }),
    ).toThrow(/two different images would be written to images\/shared/);
  });
});

describe('MlStack', () => {
  test('puts every object in its namespace with the recommended labels and readable names', () => {
    const out = synth((app) => {
      const stack = new MlStack(app, 'fraud', { namespace: 'fraud-prod', labels: { team: 'risk' } });
      new InferenceService(stack, 'scorer', { image: 'registry.example.com/scorer:2.1.0', replicas: 2 });
    });
    expect(out.find('Namespace').metadata).toEqual({
      name: 'fraud-prod',
      labels: {
        'app.kubernetes.io/managed-by': 'cdk8s-ml',
        'app.kubernetes.io/part-of': 'fraud',
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.28',
        team: 'risk',
      },
    });
    for (const o of out.objects.filter((x) => x.kind !== 'Namespace')) {
      expect(o.metadata.namespace).toBe('fraud-prod');
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'fraud', 'app.kubernetes.io/managed-by': 'cdk8s-ml', team: 'risk' });
      expect(o.metadata.name).toBe('scorer'); // no hash suffix
    }
    expect(out.find('Deployment').metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'scorer',
      'app.kubernetes.io/instance': 'fraud-scorer',
      'app.kubernetes.io/component': 'model-server',
    });
    expect([...out.files.keys()].filter((f) => f.startsWith('manifests/'))).toEqual(['manifests/fraud.k8s.yaml']);
  });

  test('createNamespace: false leaves the Namespace to someone else', () => {
    const out = synth((app) => new InferenceService(new MlStack(app, 's', { createNamespace: false }), 'api', { image: 'r.example.com/api:1' }));
    expect(out.all('Namespace')).toEqual([]);
  });

  test.each([
    ['namespace', { namespace: 'Bad_NS' }, /MlStack 'ok': namespace must be a DNS-1123 label.*got "Bad_NS"\. Fix: pass a name such as 'bad-ns'/],
    ['labels', { labels: { team: 'has spaces' } }, /MlStack 'ok': labels.team must be a valid Kubernetes label.*got "has spaces"/],
  ])('rejects a bad %s', (_prop, props, message) => {
    expect(() => new MlStack(new MlApp(), 'ok', props as any)).toThrow(message);
  });

  test('constructs outside an MlStack get a clear error', () => {
    expect(() => new InferenceService(new MlApp(), 'api', { image: 'r.example.com/api:1' })).toThrow(/must be defined inside an MlStack/);
  });
});
