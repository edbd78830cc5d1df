/**
 * One test per finding of issue 14 (random configurations through the public API, one prop
 * corrupted at a time): each bad input fails with an MlValidationError that names the construct
 * (kind and path), the prop, the value received and a fix. Values are passed the way JavaScript
 * users, JSON/YAML configs and `as any` pass them: the compiler does not stand in the way.
 */
import {
  BatchInferenceJob,
  DataInput,
  Distributed,
  EnvFrom,
  EnvValue,
  Exposure,
  InferenceService,
  MlApp,
  MlStack,
  MlValidationError,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  TrainingJob,
} from '../../lib';
import { pythonContext, tempDir } from '../_util/synth';

const IMG = 'registry.example.com/api:1.0.0';
const TRAIN_IMG = 'registry.example.com/train:1.0.0';
const GS = ModelSource.fromUri('gs://models/m');
const js = (x: unknown): any => x;

interface Expected {
  /** construct kind and path, as the message starts */
  readonly where: string;
  readonly prop: string;
  /** the value as the message shows it after "got " */
  readonly got: string;
}

/** Build in a fresh MlApp (stack 'f') and synthesize; the error must be the library's, with every part. */
function expectRejected(build: (stack: MlStack, app: MlApp) => void, e: Expected): void {
  const app = new MlApp({ outdir: tempDir() });
  let error: unknown;
  try {
    build(new MlStack(app, 'f'), app);
    app.synthFiles();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(MlValidationError);
  const message = (error as Error).message;
  expect(message).toContain(`${e.where}: ${e.prop} `);
  expect(message).toContain(`, got ${e.got}. Fix: `);
  expect(message.split('Fix: ')[1].length).toBeGreaterThan(10);
  expect((error as MlValidationError).prop).toBe(e.prop);
}

const api = (props: Record<string, unknown>) => (s: MlStack) => new InferenceService(s, 'api', js({ image: IMG, ...props }));
const train = (props: Record<string, unknown>) => (s: MlStack) => new TrainingJob(s, 'train', js({ image: TRAIN_IMG, ...props }));
const tf = (props: Record<string, unknown>) => (s: MlStack) => new TfServingBackend(s, 'server', js({ modelName: 'm', model: GS, ...props }));
const API = "InferenceService 'f/api'";
const TRAIN = "TrainingJob 'f/train'";

describe('crashes instead of validation errors', () => {
  test('image missing (server core)', () => expectRejected(api({ image: undefined }), { where: API, prop: 'image', got: 'undefined' }));
  test('image not an image (server core)', () => expectRejected(api({ image: 42 }), { where: API, prop: 'image', got: '42' }));
  test('image missing (job core)', () => expectRejected(train({ image: undefined }), { where: TRAIN, prop: 'image', got: 'undefined' }));
  test('image not an image (job core)', () =>
    expectRejected((s) => new BatchInferenceJob(s, 'batch', js({ image: {}, model: GS })), {
      where: "BatchInferenceJob 'f/batch'",
      prop: 'image',
      got: '{}',
    }));
  test('extraPorts: [42]', () => expectRejected(api({ extraPorts: [42] }), { where: API, prop: 'extraPorts[0]', got: '42' }));
  test('extraPorts: [null]', () => expectRejected(api({ extraPorts: [null] }), { where: API, prop: 'extraPorts[0]', got: 'null' }));
  test('env: [{}]', () => expectRejected(api({ env: [{}] }), { where: API, prop: 'env', got: '[{}]' }));
  test('envFrom: [null]', () => expectRejected(api({ envFrom: [null] }), { where: API, prop: 'envFrom[0]', got: 'null' }));
  test('inputs: [42]', () => expectRejected(train({ inputs: [42] }), { where: TRAIN, prop: 'inputs[0]', got: '42' }));
  test("inputs: 'str'", () => expectRejected(train({ inputs: 'str' }), { where: TRAIN, prop: 'inputs', got: '"str"' }));
  test('command: null on jobs', () => expectRejected(train({ command: null }), { where: TRAIN, prop: 'command', got: 'null' }));
  test('exposure: {}', () => expectRejected(api({ exposure: {} }), { where: API, prop: 'exposure', got: '{}' }));
  test('modelOutput: {}', () => expectRejected(train({ modelOutput: {} }), { where: TRAIN, prop: 'modelOutput', got: '{}' }));
  test('modelPath: 42', () => expectRejected(api({ modelPath: 42, model: GS }), { where: API, prop: 'modelPath', got: '42' }));
  test('versionPolicy: 42', () =>
    expectRejected(tf({ modelName: undefined, model: undefined, models: [{ name: 'm', source: GS, versionPolicy: 42 }] }), {
      where: "TfServingBackend 'f/server'",
      prop: 'models[0].versionPolicy',
      got: '42',
    }));
  test("args: 'str'", () => expectRejected(api({ args: 'str' }), { where: API, prop: 'args', got: '"str"' }));
  test("resources: { memory: '-1Gi' }", () =>
    expectRejected(api({ resources: { memory: '-1Gi' } }), { where: API, prop: 'resources.memory', got: '"-1Gi"' }));
});

describe('accepted before, with output the API server rejects', () => {
  const env = (v: unknown) => api({ env: { TOKEN: v } });
  test("EnvValue.fromSecret name 'has space'", () =>
    expectRejected(env(EnvValue.fromSecret('has space', 'k')), { where: API, prop: 'env.TOKEN.secretName', got: '"has space"' }));
  test('EnvValue.fromSecret name of 254 characters', () => {
    const long = `${'a'.repeat(250)}.com`;
    expectRejected(env(EnvValue.fromSecret(long, 'k')), { where: API, prop: 'env.TOKEN.secretName', got: JSON.stringify(long) });
  });
  test('EnvValue.fromSecret empty key', () =>
    expectRejected(env(EnvValue.fromSecret('creds', '')), { where: API, prop: 'env.TOKEN.key', got: '""' }));
  test("EnvValue.fromConfigMap name 'has space'", () =>
    expectRejected(env(EnvValue.fromConfigMap('has space', 'k')), { where: API, prop: 'env.TOKEN.configMapName', got: '"has space"' }));
  test("EnvValue.fromConfigMap key 'a b'", () =>
    expectRejected(env(EnvValue.fromConfigMap('settings', 'a b')), { where: API, prop: 'env.TOKEN.key', got: '"a b"' }));
  test('EnvFrom name', () =>
    expectRejected(api({ envFrom: [EnvFrom.secret('has space')] }), { where: API, prop: 'envFrom[0].name', got: '"has space"' }));
  test('EnvFrom prefix', () =>
    expectRejected(api({ envFrom: [EnvFrom.configMap('settings', '1 bad')] }), { where: API, prop: 'envFrom[0].prefix', got: '"1 bad"' }));
  test("env variable name 'ÜNÏ'", () => expectRejected(api({ env: { ÜNÏ: 'x' } }), { where: API, prop: 'env', got: '"ÜNÏ"' }));
  test('env variable name with a tab', () => expectRejected(api({ env: { 'A\tB': 'x' } }), { where: API, prop: 'env', got: '"A\\tB"' }));
  test('field path', () =>
    expectRejected(env(EnvValue.fromFieldRef('metadata.bogus')), { where: API, prop: 'env.TOKEN.fieldPath', got: '"metadata.bogus"' }));
  test("tlsSecretName: 'UPPER'", () =>
    expectRejected(api({ exposure: Exposure.ingress({ host: 'api.example.com', tlsSecretName: 'UPPER' }) }), {
      where: API,
      prop: 'exposure.tlsSecretName',
      got: '"UPPER"',
    }));
  test("sourceRanges: ['trailing-']", () =>
    expectRejected(api({ exposure: Exposure.loadBalancer({ sourceRanges: ['trailing-'] }) }), {
      where: API,
      prop: 'exposure.sourceRanges[0]',
      got: '"trailing-"',
    }));
  test("annotation key 'Bad Key' on a service account", () =>
    expectRejected(api({ serviceAccount: { annotations: { 'Bad Key': 'x' } } }), {
      where: API,
      prop: 'serviceAccount.annotations',
      got: '"Bad Key"',
    }));
  test("annotation key 'a/b/c' on an exposure", () =>
    expectRejected(api({ exposure: Exposure.loadBalancer({ annotations: { 'a/b/c': 'x' } }) }), {
      where: API,
      prop: 'exposure.annotations',
      got: '"a/b/c"',
    }));
  test("annotation key 'Bad Key' on pods", () =>
    expectRejected(train({ podAnnotations: { 'Bad Key': 'x' } }), { where: TRAIN, prop: 'podAnnotations', got: '"Bad Key"' }));
  test('nodeSelector key', () => expectRejected(api({ nodeSelector: { 'bad key': 'x' } }), { where: API, prop: 'nodeSelector', got: '"bad key"' }));
  test('newline in exposure.controllerNamespace', () =>
    expectRejected(api({ exposure: Exposure.ingress({ host: 'api.example.com', controllerNamespace: 'ingress\nnginx' }) }), {
      where: API,
      prop: 'exposure.controllerNamespace',
      got: '"ingress\\nnginx"',
    }));
  test('command: [null]', () => expectRejected(api({ command: [null] }), { where: API, prop: 'command[0]', got: 'null' }));
  test('args: [{}]', () => expectRejected(train({ args: [{}] }), { where: TRAIN, prop: 'args[0]', got: '{}' }));
  test('autoscaling: []', () => expectRejected(api({ autoscaling: [] }), { where: API, prop: 'autoscaling', got: '[]' }));
  test("automountToken: 'true'", () =>
    expectRejected(api({ serviceAccount: { automountToken: 'true' } }), { where: API, prop: 'serviceAccount.automountToken', got: '"true"' }));
  test("env: 'str'", () => expectRejected(api({ env: 'str' }), { where: API, prop: 'env', got: '"str"' }));
  test('rollout: { maxSurge: 0, maxUnavailable: 0 }', () =>
    expectRejected(api({ rollout: { maxSurge: 0, maxUnavailable: 0 } }), { where: API, prop: 'rollout.maxUnavailable', got: '0' }));
  test('rollout.maxSurge: -1', () => expectRejected(api({ rollout: { maxSurge: -1 } }), { where: API, prop: 'rollout.maxSurge', got: '-1' }));
  test('rollout.maxUnavailable: 1e21', () =>
    expectRejected(api({ rollout: { maxUnavailable: 1e21 } }), { where: API, prop: 'rollout.maxUnavailable', got: '1e+21' }));
  test("shmSize: '8 GB'", () => expectRejected(train({ shmSize: '8 GB' }), { where: TRAIN, prop: 'shmSize', got: '"8 GB"' }));
  test("shmSize: '#comment'", () => expectRejected(api({ shmSize: '#comment' }), { where: API, prop: 'shmSize', got: '"#comment"' }));
  test("cpu: '500' (500 cores)", () => expectRejected(api({ resources: { cpu: '500' } }), { where: API, prop: 'resources.cpu', got: '"500"' }));
  test("PythonImage baseImage: 'line\\nbreak'", () =>
    expectRejected(
      api({ image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/api', tag: '1.0.0', baseImage: 'line\nbreak' }) }),
      { where: API, prop: 'image.baseImage', got: '"line\\nbreak"' },
    ));
  test("healthCheck.livenessPath: 'livez'", () =>
    expectRejected(api({ healthCheck: { path: '/healthz', livenessPath: 'livez' } }), {
      where: API,
      prop: 'healthCheck.livenessPath',
      got: '"livez"',
    }));
});

describe('messages that named no construct or prop', () => {
  test("stack ids 'aa' and 'AA' would write one manifest file: the message names both stacks and the id", () => {
    const app = new MlApp({ outdir: tempDir() });
    new InferenceService(new MlStack(app, 'aa', { namespace: 'one' }), 'api', { image: IMG });
    let error: unknown;
    try {
      new InferenceService(new MlStack(app, 'AA', { namespace: 'two' }), 'api', { image: IMG });
      app.synthFiles();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MlValidationError);
    const message = (error as Error).message;
    expect(message).toContain("MlStack 'AA': id ");
    expect(message).toContain("MlStack 'aa'");
    expect(message).toContain('manifests/aa.k8s.yaml');
    expect(message).toContain(', got "AA". Fix: ');
  });

  test('a workload id of null: the message names the parent path and says what an id must be', () => {
    expectRejected((s) => new InferenceService(s, js(null), { image: IMG }), { where: "MlStack 'f'", prop: 'id', got: 'null' });
    const app = new MlApp({ outdir: tempDir() });
    expect(() => new TrainingJob(new MlStack(app, 'f'), js(null), { image: TRAIN_IMG })).toThrow(/non-empty string/);
  });
});

test('factories given no options (JavaScript) fail at the workload that uses them', () => {
  expectRejected(train({ modelOutput: ModelOutput.newClaim(js(undefined)) }), { where: TRAIN, prop: 'modelOutput', got: 'undefined' });
  expectRejected(train({ inputs: [DataInput.fromVolume('data', js(undefined))] }), { where: TRAIN, prop: 'inputs[0]', got: 'undefined' });
  expectRejected(train({ modelOutput: ModelOutput.newClaim({ size: '1Gi' }), distributed: Distributed.pytorch(js(undefined)) }), {
    where: TRAIN,
    prop: 'distributed.workers',
    got: 'undefined',
  });
  expectRejected(api({ image: PythonImage.fromDirectory(js(42), js(null)) }), { where: API, prop: 'image', got: 'null' });
});
