import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BatchInferenceJob, InferenceService, ModelOutput, ModelSource, TfServingBackend, TrainingJob } from '../../lib';
import { podSpec, synthStack, tempDir } from '../_util/synth';

const TRAIN = 'registry.example.com/train:1.0.0';
const rwx = () => ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' });

describe("hand-off: readers wait for the trainer's model", () => {
  test('a server reading ModelSource.fromTrainingJob waits in an init container: same claim and mount, pinned image, clear message', () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'train', { image: TRAIN, modelOutput: rwx(), schedule: { cron: '0 3 * * *' } });
      new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', model: ModelSource.fromTrainingJob(train) });
    });
    const pod = podSpec(out.find('Deployment', 'api'));
    const wait = pod.initContainers.find((c: any) => c.name === 'model-wait');
    expect(wait.image).toBe('rclone/rclone:1.68.2');
    const mount = pod.containers[0].volumeMounts.find((m: any) => m.name === 'model');
    expect(wait.volumeMounts).toEqual([mount, { name: 'tmp', mountPath: '/tmp' }]); // /tmp: every container's scratch
    expect(wait.command.slice(0, 2)).toEqual(['sh', '-ec']);
    expect(wait.command.slice(3)).toEqual(['wait-for-model', mount.mountPath, 'test/train', '86400', 'train-model']);
    expect(wait.command[2]).toContain('waiting for model from TrainingJob $2 at $4${5:+ (until $5 exists)} (timeout $3 s)');
    expect(wait.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  test("a BatchInferenceJob waits too, with its own timeout; the claim's subPath is where it waits", () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'train', {
        image: TRAIN,
        modelOutput: ModelOutput.existingClaim('models', { subPath: 'fraud', accessMode: 'ReadWriteMany' }),
      });
      new BatchInferenceJob(stack, 'score', { image: TRAIN, model: ModelSource.fromTrainingJob(train, { waitTimeoutSeconds: 600 }) });
    });
    const wait = podSpec(out.find('Job', 'score')).initContainers.find((c: any) => c.name === 'model-wait');
    expect(wait.volumeMounts[0]).toEqual({ name: 'model', mountPath: '/models', readOnly: true, subPath: 'fraud' });
    expect(wait.command.slice(3)).toEqual(['wait-for-model', '/models', 'test/train', '600', 'models/fraud']);
  });

  test("a server of two trainers' models waits for each", () => {
    const out = synthStack((stack) => {
      const a = new TrainingJob(stack, 'a', { image: TRAIN, modelOutput: rwx() });
      const b = new TrainingJob(stack, 'b', { image: TRAIN, modelOutput: rwx() });
      new TfServingBackend(stack, 'server', {
        models: [
          { name: 'a', source: ModelSource.fromTrainingJob(a) },
          { name: 'b', source: ModelSource.fromTrainingJob(b) },
        ],
      });
    });
    const waits = podSpec(out.find('Deployment', 'server')).initContainers.filter((c: any) => c.name.endsWith('-wait'));
    expect(waits.map((c: any) => c.command[5])).toEqual(['test/a', 'test/b']);
  });

  test('other sources do not wait', () => {
    const out = synthStack(
      (stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', model: ModelSource.fromVolume('models') }),
    );
    expect(podSpec(out.find('Deployment', 'api')).initContainers).toBeUndefined();
  });

  test('waitTimeoutSeconds must be a whole number >= 1', () => {
    expect(() =>
      synthStack((stack) => {
        const train = new TrainingJob(stack, 'train', { image: TRAIN, modelOutput: rwx() });
        new BatchInferenceJob(stack, 'score', { image: TRAIN, model: ModelSource.fromTrainingJob(train, { waitTimeoutSeconds: 0 }) });
      }),
    ).toThrow(/BatchInferenceJob 'test\/score': model\.waitTimeoutSeconds must be .*got 0/);
  });

  test('modelReadyFile: readers wait for the file the trainer writes last, not for its first file', () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'train', { image: TRAIN, modelOutput: rwx(), modelReadyFile: 'metrics/DONE' });
      new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', model: ModelSource.fromTrainingJob(train) });
    });
    const wait = podSpec(out.find('Deployment', 'api')).initContainers.find((c: any) => c.name === 'model-wait');
    expect(wait.command.slice(3)).toEqual(['wait-for-model', '/models', 'test/train', '86400', 'train-model', 'metrics/DONE']);
  });

  test.each([['/abs/DONE'], ['../DONE'], ['a/../DONE'], ['./DONE'], ['has space'], ['line\nbreak'], [''], ['a//b'], [42]])(
    'modelReadyFile %j is rejected with the prop, the value and the fix',
    (bad) => {
      expect(() => synthStack((stack) => new TrainingJob(stack, 'train', { image: TRAIN, modelOutput: rwx(), modelReadyFile: bad as any }))).toThrow(
        /TrainingJob 'test\/train': modelReadyFile must be a relative path inside modelDir .*got .*use e\.g\. 'metadata\.json'/s,
      );
    },
  );

  test('modelReadyFile without modelOutput is rejected', () => {
    expect(() => synthStack((stack) => new TrainingJob(stack, 'train', { image: TRAIN, modelReadyFile: 'DONE' }))).toThrow(
      /TrainingJob 'test\/train': modelReadyFile needs modelOutput .*got "DONE".*give the job modelOutput/s,
    );
  });

  describe("the wait script (run with this machine's sh)", () => {
    const command = (dir: string, timeout: number, readyFile?: string): string[] => {
      let cmd: string[] = [];
      synthStack((stack) => {
        const train = new TrainingJob(stack, 'train', { image: TRAIN, modelOutput: rwx(), ...(readyFile ? { modelReadyFile: readyFile } : {}) });
        const job = new BatchInferenceJob(stack, 'score', {
          image: TRAIN,
          model: ModelSource.fromTrainingJob(train, { waitTimeoutSeconds: timeout }),
        });
        cmd = (job._core.job!.toJson().spec.template.spec.initContainers as any[]).find((c) => c.name === 'model-wait').command;
      });
      return [...cmd.slice(0, 4), dir, ...cmd.slice(5)];
    };
    const run = (cmd: string[]) => spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 20000 });

    test('a published model (an entry not starting with ".") ends the wait at once', () => {
      const dir = tempDir();
      fs.mkdirSync(path.join(dir, '1700000000'));
      const r = run(command(dir, 60));
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('model from TrainingJob test/train found at train-model');
    });

    test('a model still being written (a "." name) is waited for, and the timeout fails with the trainer named', () => {
      const dir = tempDir();
      fs.mkdirSync(path.join(dir, '.tmp-1700000000'));
      // 3 s, not 1: the script computes its deadline, then checks it; with 1 s, a start just before a
      // second's end on a loaded machine passed the deadline at the first check and never said it waited.
      const r = run(command(dir, 3));
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('waiting for model from TrainingJob test/train at train-model (timeout 3 s)');
      expect(r.stderr).toContain('no model from TrainingJob test/train at train-model after 3 s');
    });

    test('with modelReadyFile, a first model file does not end the wait; the ready file does', () => {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, 'clf_lda.joblib'), 'x');
      const r = run(command(dir, 3, 'metadata.json')); // 3 s: see the test above
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('waiting for model from TrainingJob test/train at train-model (until metadata.json exists) (timeout 3 s)');
      expect(r.stderr).toContain('no model from TrainingJob test/train at train-model (no metadata.json) after 3 s');
      fs.writeFileSync(path.join(dir, 'metadata.json'), '{}');
      const ok = run(command(dir, 60, 'metadata.json'));
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain('model from TrainingJob test/train found at train-model');
    });
  });
});
