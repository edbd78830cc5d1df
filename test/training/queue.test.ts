import { ArgoCdApplication, BatchInferenceJob, Distributed, MlStack, ModelOutput, ModelSource, TrainingJob } from '../../lib';
import { podSpec, synth, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/train:1.0.0';
const claim = (o: Partial<Parameters<typeof ModelOutput.newClaim>[0]> = {}) => ModelOutput.newClaim({ size: '10Gi', ...o });
const QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';

describe('queue (Kueue)', () => {
  test('a queued Job carries the queue label and starts suspended; its pods keep their own labels', () => {
    const out = synthStack(stack => new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim(), queue: 'team-gpu', priorityClassName: 'batch-low' }));
    const job = out.find('Job', 'train');
    expect(job.metadata.labels[QUEUE_LABEL]).toBe('team-gpu');
    expect(job.spec.suspend).toBe(true);
    expect(job.spec.template.metadata.labels[QUEUE_LABEL]).toBeUndefined();
    // Kueue takes the Workload's priority from the pods' PriorityClass.
    expect(podSpec(job).priorityClassName).toBe('batch-low');
  });

  test('a Job without a queue is neither labelled nor suspended', () => {
    const job = synthStack(stack => new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim() })).find('Job', 'train');
    expect(job.metadata.labels[QUEUE_LABEL]).toBeUndefined();
    expect(job.spec.suspend).toBeUndefined();
  });

  test('a distributed (Indexed) Job is queued as one: label and suspend on the one Job of all workers', () => {
    const out = synthStack(stack => new TrainingJob(stack, 'train', {
      image: IMAGE, modelOutput: claim({ accessMode: 'ReadWriteMany' }), distributed: Distributed.pytorch({ workers: 4 }), queue: 'team-gpu',
    }));
    const job = out.find('Job', 'train');
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', parallelism: 4, suspend: true });
    expect(job.metadata.labels[QUEUE_LABEL]).toBe('team-gpu');
  });

  test('a scheduled job: the label and suspend go on the jobTemplate (each run is queued), not the CronJob', () => {
    const out = synthStack(stack => new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim(), schedule: { cron: '0 3 * * *' }, queue: 'nightly' }));
    const cron = out.find('CronJob', 'train');
    expect(cron.metadata.labels[QUEUE_LABEL]).toBeUndefined();
    expect(cron.spec.suspend).toBeUndefined();
    expect(cron.spec.jobTemplate.metadata.labels[QUEUE_LABEL]).toBe('nightly');
    expect(cron.spec.jobTemplate.spec.suspend).toBe(true);
  });

  test('BatchInferenceJob takes a queue too', () => {
    const out = synthStack(stack => new BatchInferenceJob(stack, 'score', { image: IMAGE, model: ModelSource.fromUri('gs://models/m'), queue: 'batch', priorityClassName: 'batch-low' }));
    const job = out.find('Job', 'score');
    expect(job.metadata.labels[QUEUE_LABEL]).toBe('batch');
    expect(job.spec.suspend).toBe(true);
    expect(podSpec(job).priorityClassName).toBe('batch-low');
  });

  test.each([
    ['team/gpu'], ['-gpu'], ['gpu.'], [''], ['q'.repeat(64)],
  ])('a queue name that is not a label value fails: %j', queue => {
    expect(() => synthStack(stack => new TrainingJob(stack, 'train', { image: IMAGE, queue })))
      .toThrow(/TrainingJob 'test\/train': queue must be a Kueue LocalQueue name usable as a label value .*got ".*"\. Fix: use the name of a LocalQueue/);
  });

  test('ArgoCdApplication ignores spec.suspend of Jobs, which Kueue flips to false on admission', () => {
    const out = synth(app => {
      const s = new MlStack(app, 'ml');
      new TrainingJob(s, 'train', { image: IMAGE, modelOutput: claim(), queue: 'team-gpu' });
      new ArgoCdApplication(new MlStack(app, 'argocd', { namespace: 'argocd', createNamespace: false }), 'ml', { stack: s, repoURL: 'https://git.example.com/ml.git' });
    });
    expect(out.find('Application', 'ml').spec.ignoreDifferences).toEqual([{ group: 'batch', kind: 'Job', jsonPointers: ['/spec/suspend'] }]);
  });
});
