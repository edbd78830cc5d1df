import { execFileSync, spawnSync } from 'node:child_process';
import { ArgoCdApplication, BatchInferenceJob, Distributed, MlStack, ModelOutput, ModelSource, TrainingJob } from '../../lib';
import { podSpec, synth, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/train:1.0.0';
const claim = (o: Partial<Parameters<typeof ModelOutput.newClaim>[0]> = {}) => ModelOutput.newClaim({ size: '10Gi', ...o });
const QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';

describe('queue (Kueue)', () => {
  test('a queued Job carries the queue label and starts suspended; its pods keep their own labels', () => {
    const out = synthStack(
      (stack) => new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim(), queue: 'team-gpu', priorityClassName: 'batch-low' }),
    );
    const job = out.find('Job', 'train');
    expect(job.metadata.labels[QUEUE_LABEL]).toBe('team-gpu');
    expect(job.spec.suspend).toBe(true);
    expect(job.spec.template.metadata.labels[QUEUE_LABEL]).toBeUndefined();
    // Kueue takes the Workload's priority from the pods' PriorityClass.
    expect(podSpec(job).priorityClassName).toBe('batch-low');
  });

  test('a Job without a queue is neither labelled nor suspended', () => {
    const job = synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim() })).find('Job', 'train');
    expect(job.metadata.labels[QUEUE_LABEL]).toBeUndefined();
    expect(job.spec.suspend).toBeUndefined();
  });

  test('a distributed (Indexed) Job is queued as one: label and suspend on the one Job of all workers', () => {
    const out = synthStack(
      (stack) =>
        new TrainingJob(stack, 'train', {
          image: IMAGE,
          modelOutput: claim({ accessMode: 'ReadWriteMany' }),
          distributed: Distributed.pytorch({ workers: 4 }),
          queue: 'team-gpu',
        }),
    );
    const job = out.find('Job', 'train');
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', parallelism: 4, suspend: true });
    expect(job.metadata.labels[QUEUE_LABEL]).toBe('team-gpu');
  });

  test('a scheduled job: the label and suspend go on the jobTemplate (each run is queued), not the CronJob', () => {
    const out = synthStack(
      (stack) => new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim(), schedule: { cron: '0 3 * * *' }, queue: 'nightly' }),
    );
    const cron = out.find('CronJob', 'train');
    expect(cron.metadata.labels[QUEUE_LABEL]).toBeUndefined();
    expect(cron.spec.suspend).toBeUndefined();
    expect(cron.spec.jobTemplate.metadata.labels[QUEUE_LABEL]).toBe('nightly');
    expect(cron.spec.jobTemplate.spec.suspend).toBe(true);
  });

  test('BatchInferenceJob takes a queue too', () => {
    const out = synthStack(
      (stack) =>
        new BatchInferenceJob(stack, 'score', {
          image: IMAGE,
          model: ModelSource.fromUri('gs://models/m'),
          queue: 'batch',
          priorityClassName: 'batch-low',
        }),
    );
    const job = out.find('Job', 'score');
    expect(job.metadata.labels[QUEUE_LABEL]).toBe('batch');
    expect(job.spec.suspend).toBe(true);
    expect(podSpec(job).priorityClassName).toBe('batch-low');
  });

  test.each([['team/gpu'], ['-gpu'], ['gpu.'], [''], ['q'.repeat(64)]])('a queue name that is not a label value fails: %j', (queue) => {
    expect(() => synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, queue }))).toThrow(
      /TrainingJob 'test\/train': queue must be a Kueue LocalQueue name usable as a label value .*got ".*"\. Fix: use the name of a LocalQueue/,
    );
  });

  test('ArgoCdApplication ignores spec.suspend of Jobs and the pod template fields Kueue writes on admission', () => {
    const out = synth((app) => {
      const s = new MlStack(app, 'ml');
      new TrainingJob(s, 'train', { image: IMAGE, modelOutput: claim(), queue: 'team-gpu' });
      new ArgoCdApplication(new MlStack(app, 'argocd', { namespace: 'argocd', createNamespace: false }), 'ml', {
        stack: s,
        repoURL: 'https://git.example.com/ml.git',
      });
    });
    const queued = 'select(.metadata.labels["kueue.x-k8s.io/queue-name"] != null) | ';
    expect(out.find('Application', 'ml').spec.ignoreDifferences).toEqual([
      {
        group: 'batch',
        kind: 'Job',
        jsonPointers: ['/spec/suspend'],
        jqPathExpressions: [
          '.spec.template.metadata.labels',
          '.spec.template.metadata.annotations',
          '.spec.template.spec.nodeSelector',
          '.spec.template.spec.tolerations',
          '.spec.template.spec.schedulingGates',
        ].map((f) => queued + f),
      },
    ]);
    // RespectIgnoreDifferences would re-create a changed queued Job with the old admission's fields.
    expect(out.find('Application', 'ml').spec.syncPolicy.syncOptions).not.toContain('RespectIgnoreDifferences=true');
  });

  // jq stands in for gojq, which Argo CD runs as `del(<expr>)` on both the live and the desired object.
  test("an admitted queued Job diffs as Synced; other Jobs' template fields are still compared", () => {
    ensureJq();
    const out = synth((app) => {
      const s = new MlStack(app, 'ml');
      new TrainingJob(s, 'train', { image: IMAGE, modelOutput: claim(), queue: 'team-gpu', resources: { gpu: 1 }, nodeSelector: { pool: 'train' } });
      new TrainingJob(s, 'plain', { image: IMAGE, modelOutput: claim(), nodeSelector: { pool: 'train' } });
      new ArgoCdApplication(new MlStack(app, 'argocd', { namespace: 'argocd', createNamespace: false }), 'ml', {
        stack: s,
        repoURL: 'https://git.example.com/ml.git',
      });
    });
    const ignore = out.find('Application', 'ml').spec.ignoreDifferences[0];
    const normalize = (o: any) => {
      const copy = structuredClone(o);
      for (const p of ignore.jsonPointers) if (p === '/spec/suspend') delete copy.spec.suspend;
      return ignore.jqPathExpressions.reduce(
        (x: any, e: string) => JSON.parse(execFileSync('jq', ['-c', `del(${e})`], { input: JSON.stringify(x), encoding: 'utf8' })),
        copy,
      );
    };
    // GIVEN what kueue v0.19 RunWithPodSetsInfo + podset.Merge do to the Job on admission (flavor with
    // nodeLabels and a toleration, TAS, a ProvisioningRequest admission check's PodSetUpdate)
    const desired = out.find('Job', 'train');
    const admitted = structuredClone(desired);
    admitted.spec.suspend = false;
    const t = admitted.spec.template;
    t.spec.nodeSelector = { ...t.spec.nodeSelector, 'cloud.example.com/accelerator': 'a100' };
    t.spec.tolerations = [...(t.spec.tolerations ?? []), { key: 'spot', operator: 'Exists', effect: 'NoSchedule' }];
    t.spec.schedulingGates = [{ name: 'kueue.x-k8s.io/topology' }];
    t.metadata.annotations = {
      ...t.metadata.annotations,
      'kueue.x-k8s.io/podset-unconstrained-topology': 'true',
      'autoscaling.x-k8s.io/provisioning-class-name': 'queued-provisioning.gke.io',
    };
    t.metadata.labels = { ...t.metadata.labels, 'example.com/admitted-by': 'check' };
    expect(admitted).not.toEqual(desired);
    // THEN Argo CD sees no difference: selfHeal leaves the running Job alone
    expect(normalize(admitted)).toEqual(normalize(desired));
    // ... but a real change still shows (the container is compared), and a Job without a queue keeps its template compared
    const changed = structuredClone(admitted);
    changed.spec.template.spec.containers[0].image = 'registry.example.com/train:2.0.0';
    expect(normalize(changed)).not.toEqual(normalize(desired));
    const plain = out.find('Job', 'plain');
    const plainChanged = structuredClone(plain);
    plainChanged.spec.template.spec.nodeSelector = { pool: 'other' };
    expect(normalize(plainChanged)).not.toEqual(normalize(plain));
  });
});

/**
 * jq on PATH: Debian's, installed here when missing (as scripts/e2e/install-tools.sh installs the e2e
 * tools); the test fails with the reason when it cannot be had.
 */
function ensureJq(): void {
  if (spawnSync('jq', ['--version']).status === 0) return;
  const res = spawnSync(
    'sh',
    ['-c', 'apt-get install -y --no-install-recommends jq || (apt-get update && apt-get install -y --no-install-recommends jq)'],
    { encoding: 'utf8' },
  );
  if (spawnSync('jq', ['--version']).status !== 0)
    throw new Error(`this test needs jq (it stands in for Argo CD's gojq) and could not install it with apt-get: ${res.stderr}`);
}
