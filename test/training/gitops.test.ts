import { BatchInferenceJob, InferenceService, MlApp, MlStack, ModelOutput, ModelSource, TfServingBackend, TrainingJob } from '../../lib';
import { parseYamlStream } from '../../lib/check';
import { synth } from '../_util/synth';

const claim = (accessMode: 'ReadWriteOnce' | 'ReadWriteMany' = 'ReadWriteMany') => ModelOutput.newClaim({ size: '10Gi', accessMode });
const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';
const WAVE = 'argocd.argoproj.io/sync-wave';

/** The manifest stream Argo CD reads, and the document of one object in it. */
function stream(build: (app: MlApp) => void): { text: string; objects: any[]; doc: (kind: string, name: string) => string } {
  const { app } = synth(build);
  const text = app.manifestStream();
  const docs = text.split(/^---\n/m);
  const objects = parseYamlStream(text);
  return {
    text,
    objects,
    doc: (kind, name) => docs.find((d) => new RegExp(`^kind: ${kind}$`, 'm').test(d) && new RegExp(`^  name: ${name}$`, 'm').test(d)) ?? '',
  };
}
const waveOf = (objects: any[], kind: string, name: string): number => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  expect(o).toBeDefined();
  return Number(o.metadata.annotations?.[WAVE] ?? 0);
};

describe('Argo CD syncs a changed Job', () => {
  const trainer = (image: string) => (app: MlApp) => {
    new TrainingJob(new MlStack(app, 'ml'), 'train', { image, command: ['python', 'train.py'], modelOutput: claim() });
  };

  test('a Job is re-created when its (immutable) pod template changes: Force=true,Replace=true', () => {
    const v1 = stream(trainer('registry.example.com/train:1.0.0'));
    const v2 = stream(trainer('registry.example.com/train:1.1.0'));
    const [job1, job2] = [v1, v2].map((s) => s.objects.find((o) => o.kind === 'Job'));
    expect(job2.spec.template.spec.containers[0].image).toBe('registry.example.com/train:1.1.0');
    // The same Job name with a new template: Argo CD deletes and re-creates it instead of patching.
    expect(job2.metadata.name).toBe(job1.metadata.name);
    expect(job2.metadata.annotations[SYNC_OPTIONS]).toBe('Force=true,Replace=true');
  });

  test('an unchanged Job is byte-identical from one synth to the next (Argo CD sees it in sync; with ApplyOutOfSyncOnly, leaves it alone)', () => {
    const a = stream(trainer('registry.example.com/train:1.0.0'));
    const b = stream(trainer('registry.example.com/train:1.0.0'));
    expect(a.doc('Job', 'train')).not.toBe('');
    expect(b.doc('Job', 'train')).toBe(a.doc('Job', 'train'));
    expect(b.text).toBe(a.text);
  });

  test('a CronJob (mutable jobTemplate) is applied as usual: no sync options', () => {
    const { objects } = stream(
      (app) => new TrainingJob(new MlStack(app, 'ml'), 'train', { image: 'registry.example.com/train:1.0.0', schedule: { cron: '0 3 * * *' } }),
    );
    expect(objects.find((o) => o.kind === 'CronJob').metadata.annotations?.[SYNC_OPTIONS]).toBeUndefined();
  });
});

describe('sync waves: trainers before their readers', () => {
  test('the trainer (Job and claim) is in wave 0, a server and a batch job that read its model in wave 1', () => {
    const { objects } = stream((app) => {
      const s = new MlStack(app, 'ml');
      const train = new TrainingJob(s, 'train', { image: 'registry.example.com/train:1.0.0', modelOutput: claim() });
      new InferenceService(s, 'api', { image: 'registry.example.com/api:1.0.0', model: ModelSource.fromTrainingJob(train) });
      new BatchInferenceJob(s, 'score', { image: 'registry.example.com/score:1.0.0', model: ModelSource.fromTrainingJob(train) });
      new InferenceService(s, 'other', { image: 'registry.example.com/api:1.0.0' });
    });
    expect(waveOf(objects, 'Job', 'train')).toBe(0);
    expect(waveOf(objects, 'PersistentVolumeClaim', 'train-model')).toBe(0);
    expect(waveOf(objects, 'Deployment', 'api')).toBe(1);
    expect(waveOf(objects, 'Service', 'api')).toBe(1);
    expect(waveOf(objects, 'Job', 'score')).toBe(1);
    expect(waveOf(objects, 'Deployment', 'other')).toBe(0); // reads no trainer: not held back
    expect(objects.find((o) => o.kind === 'Job' && o.metadata.name === 'train').metadata.annotations[WAVE]).toBeUndefined();
  });

  test('a reader of two trainers goes after both', () => {
    const { objects } = stream((app) => {
      const s = new MlStack(app, 'ml');
      const a = new TrainingJob(s, 'train-a', { image: 'registry.example.com/train:1.0.0', modelOutput: claim() });
      const b = new TrainingJob(s, 'train-b', { image: 'registry.example.com/train:1.0.0', modelOutput: claim() });
      new TfServingBackend(s, 'server', {
        models: [
          { name: 'a', source: ModelSource.fromTrainingJob(a) },
          { name: 'b', source: ModelSource.fromTrainingJob(b) },
        ],
      });
    });
    const server = waveOf(objects, 'Deployment', 'server');
    expect(server).toBeGreaterThan(waveOf(objects, 'Job', 'train-a'));
    expect(server).toBeGreaterThan(waveOf(objects, 'Job', 'train-b'));
  });
});
