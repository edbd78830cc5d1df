import { Exposure, FlaskFrontend, InferenceService, MlStack, ModelSource, PythonImage, TfServingBackend } from '../../lib';
import { pythonContext, synth } from '../_util/synth';

/** The changed lines of two texts, as '-old' / '+new' (same line count: a positional diff suffices). */
function changedLines(a: string, b: string): string[] {
  const al = a.split('\n');
  const bl = b.split('\n');
  expect(bl.length).toBe(al.length);
  return al.flatMap((line, i) => (line === bl[i] ? [] : [`-${line.trim()}`, `+${bl[i].trim()}`]));
}

describe('stable output for reviewers', () => {
  const ctx = pythonContext();
  const build = (o: { replicas?: number; tag?: string; memory?: string } = {}) =>
    synth((app) => {
      const stack = new MlStack(app, 'shop');
      const server = new TfServingBackend(stack, 'server', {
        modelName: 'm',
        model: ModelSource.fromUri('gs://models/m'),
        replicas: o.replicas ?? 3,
        resources: { memory: o.memory ?? '2Gi' },
      });
      new FlaskFrontend(stack, 'web', {
        image: PythonImage.fromDirectory(ctx, { repository: 'registry.example.com/web', tag: o.tag ?? '1.0.0' }),
        backend: server,
        exposure: Exposure.ingress({ host: 'shop.example.com' }),
      });
    }).files;
  const base = build();

  test('changing a replica count changes only that line', () => {
    expect(changedLines(base.get('manifests/shop.k8s.yaml')!, build({ replicas: 5 }).get('manifests/shop.k8s.yaml')!)).toEqual([
      '-replicas: 3',
      '+replicas: 5',
    ]);
  });

  test('changing a tag changes only the image lines (manifest, bake file, compose)', () => {
    const next = build({ tag: '1.0.1' });
    expect(changedLines(base.get('manifests/shop.k8s.yaml')!, next.get('manifests/shop.k8s.yaml')!)).toEqual([
      '-image: registry.example.com/web:1.0.0',
      '+image: registry.example.com/web:1.0.1',
    ]);
    expect(changedLines(base.get('images/docker-bake.json')!, next.get('images/docker-bake.json')!)).toEqual([
      '-"registry.example.com/web:1.0.0"',
      '+"registry.example.com/web:1.0.1"',
    ]);
    expect(changedLines(base.get('compose/shop.compose.yml')!, next.get('compose/shop.compose.yml')!)).toEqual([
      '-image: registry.example.com/web:1.0.0',
      '+image: registry.example.com/web:1.0.1',
    ]);
    expect(next.get('images/web/Dockerfile')).toBe(base.get('images/web/Dockerfile'));
  });

  test('changing a resource changes only that line', () => {
    expect(changedLines(base.get('manifests/shop.k8s.yaml')!, build({ memory: '3Gi' }).get('manifests/shop.k8s.yaml')!)).toEqual([
      '-memory: 2Gi',
      '+memory: 3Gi',
    ]);
  });

  test('adding a workload renames nothing: every existing line stays, in order', () => {
    const grown = synth((app) => {
      const stack = new MlStack(app, 'shop');
      const server = new TfServingBackend(stack, 'server', {
        modelName: 'm',
        model: ModelSource.fromUri('gs://models/m'),
        replicas: 3,
        resources: { memory: '2Gi' },
      });
      new FlaskFrontend(stack, 'web', {
        image: PythonImage.fromDirectory(ctx, { repository: 'registry.example.com/web', tag: '1.0.0' }),
        backend: server,
        exposure: Exposure.ingress({ host: 'shop.example.com' }),
      });
      new InferenceService(stack, 'recommender', { image: 'registry.example.com/recommender:1.0.0' });
    })
      .files.get('manifests/shop.k8s.yaml')!
      .split('\n');
    const before = base.get('manifests/shop.k8s.yaml')!.split('\n');
    // `before` is a subsequence of `grown`: only additions
    let i = 0;
    for (const line of grown) if (i < before.length && line === before[i]) i++;
    expect(i).toBe(before.length);
    expect(grown.filter((l) => /^ {2}name: /.test(l)).sort()).toEqual(expect.arrayContaining(before.filter((l) => /^ {2}name: /.test(l)).sort()));
  });

  test('the same app twice gives the same files', () => {
    expect(build()).toEqual(base);
  });
});
