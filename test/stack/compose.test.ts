/**
 * Compose files that every compose tool runs the same way (issue 12, defect 4). What docker-compose
 * 1.29 and podman-compose 1.0.3 really do with them is in test/e2e/compose.e2e.test.ts.
 */
import {
  BatchInferenceJob,
  Distributed,
  EnvValue,
  FlaskFrontend,
  InferenceService,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  TrainingJob,
} from '../../lib';
import { parseYamlStream } from '../../lib/check';
import { pythonContext, synthStack } from '../_util/synth';

const GS = ModelSource.fromUri('gs://models/and-gate');
const web = () => PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' });

function composeOf(out: { files: Map<string, string> }): any {
  return parseYamlStream(out.files.get('compose/test.compose.yml')!)[0];
}

describe('compose', () => {
  test("TF Serving's config files are bind mounts, not top-level configs (ignored by docker-compose 1.29, dropped by podman-compose 1.0.3)", () => {
    const out = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS }));
    const compose = composeOf(out);
    expect(compose.configs).toBeUndefined();
    expect(compose.services.server.configs).toBeUndefined();
    const args: string[] = compose.services.server.command;
    for (const flag of ['--model_config_file=', '--monitoring_config_file=']) {
      const target = args.find((a) => a.startsWith(flag))!.slice(flag.length);
      const mount = compose.services.server.volumes.find((v: any) => v.target === target);
      expect(mount).toMatchObject({ type: 'bind', read_only: true });
      // relative to the compose file, which sits in compose/: the file synth wrote there
      expect(out.files.has(`compose/${mount.source.replace(/^\.\//, '')}`)).toBe(true);
    }
  });

  test('a literal $ is written $$ (compose would interpolate it); values from the shell stay ${...}', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: 'registry.example.com/api:1.0.0',
          command: ['sh', '-c', 'echo $HOME'],
          env: { PRICE: '5$', TEMPLATE: '${X}', TOKEN: EnvValue.fromSecret('s', 'k') },
        }),
    );
    const api = composeOf(out).services.api;
    expect(api.environment).toEqual({ HOME: '/tmp', PRICE: '5$$', TEMPLATE: '$${X}', TOKEN: '${TOKEN:?set TOKEN in your shell}' });
    expect(api.entrypoint).toEqual(['sh', '-c', 'echo $$HOME']);
  });

  test('a GPU server reserves its GPUs (compose-spec device reservations)', () => {
    const out = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS, resources: { gpu: 2 } }));
    expect(composeOf(out).services.server.deploy).toEqual({
      resources: { reservations: { devices: [{ driver: 'nvidia', count: 2, capabilities: ['gpu'] }] } },
    });
  });

  test('depends_on waits for the backend to be healthy: a healthcheck from its readiness probe, with a tool its image has', () => {
    const out = synthStack((stack) => {
      const server = new TfServingBackend(stack, 'server', { modelName: 'm', model: GS });
      new FlaskFrontend(stack, 'web', { image: web(), backend: server });
      new InferenceService(stack, 'plain', { image: 'registry.example.com/api:1.0.0', healthCheck: { path: '/healthz' } });
    });
    const services = composeOf(out).services;
    expect(services.web.depends_on).toEqual({ server: { condition: 'service_healthy' } });
    // tensorflow/serving has no curl or wget; its ports open once the models are loaded
    expect(services.server.healthcheck).toMatchObject({ test: ['CMD', 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/8501'], start_period: '600s' });
    expect(services.web.healthcheck.test).toEqual([
      'CMD',
      'python',
      '-c',
      "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)",
    ]);
    // an image we do not build: no tool we know of, so no healthcheck (dependents only wait for the start)
    expect(services.plain.healthcheck).toBeUndefined();
  });

  test('ports are published on 127.0.0.1, movable from the shell when busy', () => {
    const out = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS }));
    expect(composeOf(out).services.server.ports).toEqual(['127.0.0.1:${SERVER_PORT:-8501}:8501', '127.0.0.1:${SERVER_GRPC_PORT:-8500}:8500']);
  });
});

describe('compose: jobs under profiles', () => {
  const TRAIN = 'registry.example.com/train:1.0.0';

  test('a TrainingJob is a service under the train profile that writes the model directory its server reads', () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'train', {
        image: TRAIN,
        command: ['python', 'train.py'],
        args: ['--epochs', '$EPOCHS'],
        env: { LR: '0.1$' },
        modelOutput: ModelOutput.newClaim({ size: '1Gi' }),
      });
      new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', model: ModelSource.fromTrainingJob(train) });
    });
    const services = composeOf(out).services;
    const train = services.train;
    expect(train.profiles).toEqual(['train']);
    expect(train.image).toBe(TRAIN);
    expect(train.entrypoint).toEqual(['python', 'train.py']);
    expect(train.command).toEqual(['--epochs', '$$EPOCHS']);
    expect(train.environment).toMatchObject({ MODEL_DIR: '/models', LR: '0.1$$' });
    expect(train.ports).toBeUndefined();
    expect(train).toMatchObject({ user: '10001:10001', read_only: true, tmpfs: ['/tmp'], cap_drop: ['ALL'] });
    const modelDir = '${MODELS_DIR:?set MODELS_DIR to the local directory holding your models}/train-model';
    expect(train.volumes).toEqual([{ type: 'bind', source: modelDir, target: '/models', read_only: false }]);
    // the server mounts the same host directory, read-only, and has no profile: `up` starts it
    expect(services.api.volumes).toEqual([{ type: 'bind', source: modelDir, target: '/models', read_only: true }]);
    expect(services.api.profiles).toBeUndefined();
  });

  test('a PythonImage trainer is built from its Dockerfile', () => {
    const out = synthStack(
      (stack) =>
        new TrainingJob(stack, 'train', {
          image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/train', tag: '1.0.0' }),
          command: ['python', 'train.py'],
        }),
    );
    const train = composeOf(out).services.train;
    expect(train.image).toBe('registry.example.com/train:1.0.0');
    expect(train.build).toMatchObject({ dockerfile: expect.stringMatching(/images\/.*\/Dockerfile$/) });
  });

  test("a BatchInferenceJob is under the batch profile: the trainer's model read-only, its output writable", () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'train', { image: TRAIN, modelOutput: ModelOutput.newClaim({ size: '1Gi' }) });
      new BatchInferenceJob(stack, 'score', {
        image: TRAIN,
        model: ModelSource.fromTrainingJob(train),
        output: ModelOutput.newClaim({ size: '1Gi' }),
        resources: { gpu: 1 },
      });
    });
    const score = composeOf(out).services.score;
    expect(score.profiles).toEqual(['batch']);
    expect(score.environment).toMatchObject({ MODEL_DIR: '/models', OUTPUT_DIR: '/output' });
    expect(score.volumes).toEqual([
      { type: 'bind', source: expect.stringMatching(/\}\/train-model$/), target: '/models', read_only: true },
      { type: 'bind', source: expect.stringMatching(/\}\/score-output$/), target: '/output', read_only: false },
    ]);
    expect(score.deploy.resources.reservations.devices[0].count).toBe(1);
  });

  test('a distributed job has no compose service (its workers need their index and the headless Service names)', () => {
    const out = synthStack((stack) => {
      new TrainingJob(stack, 'train', {
        image: TRAIN,
        modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
        distributed: Distributed.pytorch({ workers: 2 }),
      });
      new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0' });
    });
    expect(Object.keys(composeOf(out).services)).toEqual(['api']);
  });
});
