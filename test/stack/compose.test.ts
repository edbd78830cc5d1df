/**
 * Compose files that every compose tool runs the same way (issue 12, defect 4). What docker-compose
 * 1.29 and podman-compose 1.0.3 really do with them is in test/e2e/compose.e2e.test.ts.
 */
import {
  BatchInferenceJob,
  DataInput,
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
import { ComposeFile } from '../../lib/app/_compose';
import { parseYamlStream } from '../../lib/check';
import { pythonContext, synthStack } from '../_util/synth';

const GS = ModelSource.fromUri('gs://models/and-gate');
const web = () => PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' });

function composeOf(out: { files: Map<string, string> }): any {
  return parseYamlStream(out.files.get('compose/test.compose.yml')!)[0];
}

/** The stack's jobs file (compose/<stack>.jobs.compose.yml): the jobs `up` does not start. */
function jobsOf(out: { files: Map<string, string> }): any {
  return parseYamlStream(out.files.get('compose/test.jobs.compose.yml')!)[0];
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

describe('compose: jobs in a file of their own, which `up` of the servers does not start', () => {
  const TRAIN = 'registry.example.com/train:1.0.0';

  test('a TrainingJob is a service of the jobs file that writes the model directory its server reads', () => {
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
    // podman-compose 1.0.3 ignores `profiles`: the servers' file must hold no job at all
    const services = composeOf(out).services;
    expect(Object.keys(services)).toEqual(['api']);
    const jobs = jobsOf(out);
    expect(Object.keys(jobs.services)).toEqual(['train']);
    const train = jobs.services.train;
    expect(train.profiles).toBeUndefined();
    expect(train.image).toBe(TRAIN);
    expect(train.entrypoint).toEqual(['python', 'train.py']);
    expect(train.command).toEqual(['--epochs', '$$EPOCHS']);
    expect(train.environment).toMatchObject({ MODEL_DIR: '/models', LR: '0.1$$' });
    expect(train.ports).toBeUndefined();
    expect(train).toMatchObject({ user: '10001:10001', read_only: true, tmpfs: ['/tmp'], cap_drop: ['ALL'] });
    const modelDir = '${MODELS_DIR:?set MODELS_DIR to the local directory holding your models}/train-model';
    expect(train.volumes).toEqual([{ type: 'bind', source: modelDir, target: '/models', read_only: false }]);
    // the server mounts the same host directory, read-only
    expect(services.api.volumes).toEqual([{ type: 'bind', source: modelDir, target: '/models', read_only: true }]);
    // the jobs file says how to run a job, with the same arguments on every compose tool
    expect(out.files.get('compose/test.jobs.compose.yml')).toMatch(
      /^# .*\n# {3}docker compose -p test -f compose\/test.compose.yml -f compose\/test.jobs.compose.yml run --rm --no-deps <job>\n/,
    );
  });

  test('a PythonImage trainer is built from its Dockerfile', () => {
    const out = synthStack(
      (stack) =>
        new TrainingJob(stack, 'train', {
          image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/train', tag: '1.0.0' }),
          command: ['python', 'train.py'],
        }),
    );
    const train = jobsOf(out).services.train;
    expect(train.image).toBe('registry.example.com/train:1.0.0');
    // no server: no servers' file, and the command names the jobs file alone
    expect(out.files.has('compose/test.compose.yml')).toBe(false);
    expect(out.files.get('compose/test.jobs.compose.yml')).toContain('docker compose -p test -f compose/test.jobs.compose.yml run --rm --no-deps');
    expect(train.build).toMatchObject({ dockerfile: expect.stringMatching(/images\/.*\/Dockerfile$/) });
  });

  test("a BatchInferenceJob is in the jobs file: the trainer's model read-only, its output writable", () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'train', { image: TRAIN, modelOutput: ModelOutput.newClaim({ size: '1Gi' }) });
      new BatchInferenceJob(stack, 'score', {
        image: TRAIN,
        model: ModelSource.fromTrainingJob(train),
        output: ModelOutput.newClaim({ size: '1Gi' }),
        resources: { gpu: 1 },
      });
    });
    const score = jobsOf(out).services.score;
    expect(score.profiles).toBeUndefined();
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

describe('compose: DataInput mounts', () => {
  test('a job gets each input where the pod has it: a claim as $DATASETS_DIR/<claim>[/<subPath>], a URI as $DATASETS_DIR/<bucket>/<prefix>', () => {
    const out = synthStack((stack) => {
      new TrainingJob(stack, 'train', {
        image: 'registry.example.com/train:1.0.0',
        inputs: [
          DataInput.fromVolume('datasets', { mountPath: '/data', subPath: 'eeg/v1' }),
          DataInput.fromUri('s3://bucket/raw/letters/', { mountPath: '/raw' }),
          DataInput.fromUri('https://example.com/files/letters.csv?v=2', { mountPath: '/csv' }),
        ],
      });
    });
    const train = jobsOf(out).services.train;
    const data = '${DATASETS_DIR:?set DATASETS_DIR to the local directory holding your data}';
    expect(train.environment.DATA_DIR).toBe('/data');
    expect(train.volumes).toEqual([
      { type: 'bind', source: `${data}/datasets/eeg/v1`, target: '/data', read_only: true },
      { type: 'bind', source: `${data}/bucket/raw/letters`, target: '/raw', read_only: true },
      { type: 'bind', source: `${data}/example.com/files`, target: '/csv', read_only: true },
    ]);
  });
});

describe('compose: cluster DNS names written by hand', () => {
  const NAMES = (host: string) => [`http://${host}.svc.cluster.local:80/v1`, `http://${host}.svc:80/v1`, `http://${host}:80/v1`];

  test('each form of a Service name becomes the compose service, and the Service port the container port', () => {
    const out = synthStack((stack) => {
      const api = new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', servicePort: 80 });
      const urls = NAMES(`api.${stack.namespaceName}`);
      const train = new TrainingJob(stack, 'train', {
        image: 'registry.example.com/train:1.0.0',
        env: { A: urls[0], B: urls[1], C: urls[2], D: `http://api.${stack.namespaceName}.svc.cluster.local./x`, HOST: `api.${stack.namespaceName}` },
        args: ['--api', urls[1]],
      });
      api.allowFrom(train);
    });
    const train = jobsOf(out).services.train;
    expect(train.environment).toMatchObject({
      A: 'http://api:8080/v1',
      B: 'http://api:8080/v1',
      C: 'http://api:8080/v1',
      D: 'http://api:8080/x',
      HOST: 'api',
    });
    expect(train.command).toEqual(['--api', 'http://api:8080/v1']);
  });

  test('other names stay: another namespace, a longer host, a name that is not a Service of the stack', () => {
    // (the constructs refuse URLs of Services the app does not define: the rewrite itself, on a literal document)
    const env = { A: 'http://api.other.svc:8080', B: 'http://api.test.example.com/', C: 'http://web.test.svc:80', D: 'http://myapi.test.svc:80' };
    const file = new ComposeFile({
      stackName: 'test',
      namespaceName: 'test',
      services: [
        {
          name: 'api',
          image: 'api:1',
          ports: [{ name: 'http', port: 8080 }],
          servicePorts: [{ port: 80, targetPort: 8080 }],
          environment: {},
          user: '1:1',
        },
        { name: 'train', job: true, image: 'train:1', ports: [], environment: { ...env, E: 'api.test:80' }, user: '1:1' },
      ],
    });
    const doc = file.toDocument('/tmp/out', 'jobs') as any;
    expect(doc.services.train.environment).toEqual({ HOME: '/tmp', ...env, E: 'api:8080' });
  });
});
