import { Distributed, MlValidationError, ModelOutput, TrainingJob, TrainingJobProps } from '../../lib';
import { startsTorchrun } from '../../lib/training/distributed';
import { podSpec, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/train:1.0.0';
const INDEX = { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } };
const shared = () => ModelOutput.newClaim({ size: '10Gi', accessMode: 'ReadWriteMany' });
const envOf = (container: any): Record<string, any> => Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

function workerEnv(props: Partial<TrainingJobProps>, namespace = 'ml'): Record<string, any> {
  const out = synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: shared(), ...props } as TrainingJobProps), {
    namespace,
  });
  return envOf(podSpec(out.find('Job', 'train')).containers[0]);
}

function thrown(fn: () => unknown): MlValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MlValidationError) return e;
    throw e;
  }
  throw new Error('expected an MlValidationError');
}

describe('Distributed.pytorch', () => {
  test.each([
    ['torchrun', ['torchrun', 'train.py']],
    ['python with env://', ['python', 'train.py']],
  ])("%s: every worker gets torchrun's PET_* settings and the env:// variables of one process per pod", (_, command) => {
    const env = workerEnv({ command, distributed: Distributed.pytorch({ workers: 3 }) });
    // torchrun reads its flags from PET_<FLAG> (torch/distributed/argparse_util.py), never from MASTER_ADDR & co.
    expect(env.PET_NNODES).toBe('3');
    expect(env.PET_NPROC_PER_NODE).toBe('1');
    expect(env.PET_NODE_RANK).toEqual(INDEX);
    expect(env.PET_MASTER_ADDR).toBe('train-0.train.ml.svc');
    expect(env.PET_MASTER_PORT).toBe('29500');
    // init_method='env://' in a plain python process
    expect(env.MASTER_ADDR).toBe('train-0.train.ml.svc');
    expect(env.MASTER_PORT).toBe('29500');
    expect(env.WORLD_SIZE).toBe('3');
    expect(env.RANK).toEqual(INDEX);
    expect(env.LOCAL_RANK).toBe('0');
    // No launcher flags of the harness quirks (PET_REDIRECTS/PET_TEE) in the library's output.
    expect(
      Object.keys(env)
        .filter((k) => k.startsWith('PET_'))
        .sort(),
    ).toEqual(['PET_MASTER_ADDR', 'PET_MASTER_PORT', 'PET_NNODES', 'PET_NODE_RANK', 'PET_NPROC_PER_NODE']);
  });

  test('a custom port is the rendezvous port of both entry points', () => {
    const env = workerEnv({ command: ['torchrun', 'train.py'], distributed: Distributed.pytorch({ workers: 2, port: 23456 }) });
    expect(env.MASTER_PORT).toBe('23456');
    expect(env.PET_MASTER_PORT).toBe('23456');
  });

  test('several GPUs per worker: torchrun starts one process per GPU, and WORLD_SIZE counts processes', () => {
    const env = workerEnv({ command: ['torchrun', 'train.py'], resources: { gpu: 4 }, distributed: Distributed.pytorch({ workers: 2 }) });
    expect(env.PET_NPROC_PER_NODE).toBe('4');
    expect(env.PET_NNODES).toBe('2');
    expect(env.WORLD_SIZE).toBe('8');
    for (const command of [
      ['python', '-m', 'torch.distributed.run', 'train.py'],
      ['/usr/local/bin/torchrun', 'train.py'],
      ['sh', '-c', 'exec torchrun train.py'],
    ]) {
      expect(workerEnv({ command, resources: { gpu: 2 }, distributed: Distributed.pytorch({ workers: 2 }) }).PET_NPROC_PER_NODE).toBe('2');
    }
  });

  test('one GPU per worker runs with a plain python command too', () => {
    const env = workerEnv({ command: ['python', 'train.py'], resources: { gpu: 1 }, distributed: Distributed.pytorch({ workers: 4 }) });
    expect(env.PET_NPROC_PER_NODE).toBe('1');
    expect(env.WORLD_SIZE).toBe('4');
  });

  test('several GPUs per worker without torchrun fail at synth: one process cannot drive them', () => {
    for (const command of [['python', 'train.py'], undefined]) {
      const e = thrown(() => workerEnv({ command, resources: { gpu: 4 }, distributed: Distributed.pytorch({ workers: 2 }) }));
      expect(e.constructPath).toBe('test/train');
      expect(e.prop).toBe('command');
      expect(e.message).toMatch(
        /does not start torchrun, but each of the 2 distributed PyTorch workers requests 4 GPUs .*Fix: start the script with torchrun/,
      );
    }
  });

  test.each([[1], [0], [2.5], [10001]])('workers %p is rejected: at least 2 whole pods', (workers) => {
    const e = thrown(() => workerEnv({ distributed: Distributed.pytorch({ workers }) }));
    expect(e.prop).toBe('distributed.workers');
    expect(e.message).toMatch(
      new RegExp(`TrainingJob 'test/train': distributed.workers must be a whole number from 2 to 10000 .*got ${workers}\\. Fix: `),
    );
  });
});

describe('Distributed.tensorflow', () => {
  test("TF_CONFIG is TensorFlow's documented format for every worker (tensorflow.org multi_worker_with_keras)", () => {
    // https://www.tensorflow.org/tutorials/distribute/multi_worker_with_keras:
    // {"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}
    const out = synthStack(
      (stack) => new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: shared(), distributed: Distributed.tensorflow({ workers: 3 }) }),
      { namespace: 'ml' },
    );
    const job = out.find('Job', 'train');
    const svc = out.find('Service', 'train');
    const c = podSpec(job).containers[0];
    const env = envOf(c);
    expect(env.JOB_COMPLETION_INDEX).toEqual(INDEX);
    expect(Object.keys(env).filter((k) => k.startsWith('PET_') || k === 'MASTER_ADDR')).toEqual([]);
    const hosts = [0, 1, 2].map((i) => `${job.metadata.name}-${i}.${svc.metadata.name}.ml.svc:${svc.spec.ports[0].port}`);
    for (const i of [0, 1, 2]) {
      // What the kubelet hands worker i after expanding $(JOB_COMPLETION_INDEX).
      const config = JSON.parse(env.TF_CONFIG.replace('$(JOB_COMPLETION_INDEX)', String(i)));
      expect(config).toStrictEqual({ cluster: { worker: hosts }, task: { type: 'worker', index: i } });
      expect(Number.isInteger(config.task.index)).toBe(true);
    }
  });
});

test('startsTorchrun recognizes the launcher however it is started', () => {
  expect(startsTorchrun(['torchrun', 'train.py'])).toBe(true);
  expect(startsTorchrun(['/opt/conda/bin/torchrun', '--standalone', 'train.py'])).toBe(true);
  expect(startsTorchrun(['python3', '-m', 'torch.distributed.run', 'train.py'])).toBe(true);
  expect(startsTorchrun(['bash', '-c', 'pip list && torchrun train.py'])).toBe(true);
  expect(startsTorchrun(['python', 'train.py'])).toBe(false);
  expect(startsTorchrun(['python', 'torchrun_helpers.py'])).toBe(false);
  expect(startsTorchrun([])).toBe(false);
});
