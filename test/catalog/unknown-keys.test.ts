/**
 * Issue 22, finding 1: a misspelt key in props or options was dropped in silence (the scaffold's
 * cdk8s.yaml runs main.ts transpile-only, JavaScript callers and configs read from files have no
 * compiler). Every props and options object now fails at synth on a key its interface does not have,
 * naming the construct path, the key, the keys that exist and the nearest one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import {
  ArgoCdApplication,
  BatchInferenceJob,
  DataInput,
  Distributed,
  EnvValue,
  Exposure,
  FlaskFrontend,
  InferenceService,
  LlmServer,
  Metric,
  MlApp,
  MlStack,
  ModelImage,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  Toleration,
  TrainingJob,
} from '../../lib';
import { closestKey, editDistance } from '../../lib/_validate';
import { joinRegExp } from '../_util/regexp';
import { pythonContext, synth, tempDir } from '../_util/synth';

interface Case {
  /** construct kind and path in the message */
  readonly where: string;
  /** the unknown key as the message names it (with the path of its object) */
  readonly prop: string;
  /** the known key the message suggests; undefined when none is close */
  readonly guess: string | undefined;
  readonly build: (app: MlApp) => void;
}

const IMG = 'registry.example.com/api:1.0.0';
const TRAIN_IMG = 'registry.example.com/train:1.0.0';
const GS = ModelSource.fromUri('gs://models/m');
const REV = '7ae557604adf67be50417f59c2c2f167def9a775';
const ctx = pythonContext();
const py = (o: object = {}) => PythonImage.fromDirectory(ctx, { repository: 'registry.example.com/web', tag: '1.0.0', ...o });

// Every builder takes `any`: what a JavaScript caller, a config read from a file or `as any` passes.
const stack = (app: MlApp) => new MlStack(app, 'keys');
const svc = (props: any) => (app: MlApp) => new InferenceService(stack(app), 'api', { image: IMG, ...props });
const tf = (props: any) => (app: MlApp) => new TfServingBackend(stack(app), 'server', { modelName: 'm', model: GS, ...props });
const llm = (props: any) => (app: MlApp) =>
  new LlmServer(stack(app), 'llm', { model: ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', { revision: REV }), ...props });
const web = (props: any) => (app: MlApp) => new FlaskFrontend(stack(app), 'web', { image: py(), ...props });
const train = (props: any) => (app: MlApp) =>
  new TrainingJob(stack(app), 'train', { image: TRAIN_IMG, modelOutput: ModelOutput.newClaim({ size: '1Gi' }), ...props });
const batch = (props: any) => (app: MlApp) => new BatchInferenceJob(stack(app), 'batch', { image: TRAIN_IMG, model: GS, ...props });
const model = (source: ModelSource) => svc({ model: source });
const A = (x: object) => x as any;

const API = "InferenceService 'keys/api'";
const TF = "TfServingBackend 'keys/server'";
const TRAIN = "TrainingJob 'keys/train'";

export const CASES: Record<string, Case> = {
  // The three of the issue.
  'issue: InferenceService replica': { where: API, prop: 'replica', guess: 'replicas', build: svc({ replica: 2 }) },
  'issue: Exposure.ingress tls': {
    where: API,
    prop: 'exposure.tls',
    guess: 'tlsSecretName',
    build: svc({ exposure: Exposure.ingress(A({ host: 'api.example.com', tls: true })) }),
  },
  'issue: rollout type': { where: API, prop: 'rollout.type', guess: undefined, build: svc({ rollout: { type: 'Recreate' } }) },

  // Constructs: their props.
  'MlApp props': { where: "MlApp '<app>'", prop: 'outDir', guess: 'outdir', build: () => new MlApp(A({ outDir: 'dist' })) },
  'MlStack props': { where: "MlStack 'keys'", prop: 'namespce', guess: 'namespace', build: (app) => new MlStack(app, 'keys', A({ namespce: 'x' })) },
  'TfServingBackend props': { where: TF, prop: 'modelname', guess: 'modelName', build: tf({ modelname: 'm' }) },
  'LlmServer props': { where: "LlmServer 'keys/llm'", prop: 'maxModelLength', guess: 'maxModelLen', build: llm({ maxModelLength: 4096 }) },
  'FlaskFrontend props': { where: "FlaskFrontend 'keys/web'", prop: 'worker', guess: 'workers', build: web({ worker: 2 }) },
  'TrainingJob props': {
    where: TRAIN,
    prop: 'modelOuput',
    guess: 'modelOutput',
    build: train({ modelOuput: ModelOutput.newClaim({ size: '1Gi' }) }),
  },
  'BatchInferenceJob props': { where: "BatchInferenceJob 'keys/batch'", prop: 'ouputDir', guess: 'outputDir', build: batch({ ouputDir: '/out' }) },
  'ArgoCdApplication props': {
    where: "ArgoCdApplication 'keys/app'",
    prop: 'repoUrl',
    guess: 'repoURL',
    build: (app) => {
      const s = stack(app);
      new ArgoCdApplication(s, 'app', A({ stack: s, repoURL: 'https://git.example.com/r.git', repoUrl: 'x' }));
    },
  },
  'scheduling props (a server)': { where: API, prop: 'toleration', guess: 'tolerations', build: svc({ toleration: [] }) },
  'scheduling props (a job)': { where: TRAIN, prop: 'priorityClass', guess: 'priorityClassName', build: train({ priorityClass: 'high' }) },
  'pod props (a job)': { where: TRAIN, prop: 'nodeselector', guess: 'nodeSelector', build: train({ nodeselector: {} }) },

  // Nested options of the servers.
  rollout: { where: API, prop: 'rollout.maxSurges', guess: 'maxSurge', build: svc({ rollout: { maxSurges: 1 } }) },
  healthCheck: { where: API, prop: 'healthCheck.pth', guess: 'path', build: svc({ healthCheck: { pth: '/healthz' } }) },
  metrics: { where: API, prop: 'metrics.namespce', guess: 'namespace', build: svc({ metrics: { namespce: 'monitoring' } }) },
  'extraPorts[0]': { where: API, prop: 'extraPorts[0].nme', guess: 'name', build: svc({ extraPorts: [{ nme: 'grpc', port: 9000 }] }) },
  resources: { where: API, prop: 'resources.memry', guess: 'memory', build: svc({ resources: { memry: '1Gi' } }) },
  'resources (a job)': { where: TRAIN, prop: 'resources.gpus', guess: 'gpu', build: train({ resources: { gpus: 1 } }) },
  serviceAccount: { where: API, prop: 'serviceAccount.annotation', guess: 'annotations', build: svc({ serviceAccount: { annotation: {} } }) },
  canary: { where: API, prop: 'canary.wieght', guess: 'weight', build: svc({ canary: { wieght: 10, image: 'registry.example.com/api:2.0.0' } }) },
  autoscaling: { where: API, prop: 'autoscaling.maxReplica', guess: 'maxReplicas', build: svc({ autoscaling: { maxReplica: 4 } }) },
  'autoscaling.behavior': {
    where: API,
    prop: 'autoscaling.behavior.scaledown',
    guess: 'scaleDown',
    build: svc({ autoscaling: { maxReplicas: 4, behavior: { scaledown: {} } } }),
  },
  'autoscaling.behavior.scaleDown': {
    where: API,
    prop: 'autoscaling.behavior.scaleDown.policy',
    guess: 'policies',
    build: svc({ autoscaling: { maxReplicas: 4, behavior: { scaleDown: { policy: [] } } } }),
  },
  'autoscaling.behavior.scaleUp.policies[0]': {
    where: API,
    prop: 'autoscaling.behavior.scaleUp.policies[0].periodSecond',
    guess: 'periodSeconds',
    build: svc({ autoscaling: { maxReplicas: 4, behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSecond: 60 }] } } } }),
  },
  batching: { where: TF, prop: 'batching.maxBatchsize', guess: 'maxBatchSize', build: tf({ batching: { maxBatchsize: 32 } }) },
  'models[0]': {
    where: TF,
    prop: 'models[0].sourc',
    guess: 'source',
    build: tf({ modelName: undefined, model: undefined, models: [{ name: 'a', sourc: GS }] }),
  },
  secretKey: {
    where: "FlaskFrontend 'keys/web'",
    prop: 'secretKey.secretname',
    guess: 'secretName',
    build: web({ secretKey: { secretname: 'web-secret' } }),
  },
  schedule: { where: TRAIN, prop: 'schedule.timezone', guess: 'timeZone', build: train({ schedule: { cron: '0 3 * * *', timezone: 'UTC' } }) },
  'allowFrom options': {
    where: API,
    prop: 'allowFrom.options.port',
    guess: 'ports',
    build: (app) => {
      const s = stack(app);
      const api = new InferenceService(s, 'api', { image: IMG });
      api.allowFrom(new InferenceService(s, 'client', { image: IMG }), A({ port: ['http'] }));
    },
  },
  'predictUrl options': {
    where: TF,
    prop: 'predictUrl.options.lable',
    guess: 'label',
    build: (app) => {
      tf({})(app);
      const server = app.node.findAll().find((c) => c instanceof TfServingBackend) as TfServingBackend;
      server.predictUrl('m', A({ lable: 'canary' }));
    },
  },

  // Factories: their options, checked when a workload uses them.
  'Exposure.loadBalancer': {
    where: API,
    prop: 'exposure.sourceRange',
    guess: 'sourceRanges',
    build: svc({ exposure: Exposure.loadBalancer(A({ sourceRange: [] })) }),
  },
  'Exposure.gateway': {
    where: API,
    prop: 'exposure.hostname',
    guess: 'hostnames',
    build: svc({ exposure: Exposure.gateway(A({ gateway: { name: 'public' }, hostname: 'api.example.com' })) }),
  },
  'Exposure.gateway gateway': {
    where: API,
    prop: 'exposure.gateway.namspace',
    guess: 'namespace',
    build: svc({ exposure: Exposure.gateway(A({ gateway: { name: 'public', namspace: 'gw' } })) }),
  },
  'Metric.pods': {
    where: API,
    prop: 'autoscaling.metrics[0].averageVal',
    guess: 'averageValue',
    build: svc({ autoscaling: { maxReplicas: 4, metrics: [Metric.pods('requests', A({ averageVal: 5 }))] } }),
  },
  'Metric.external': {
    where: API,
    prop: 'autoscaling.metrics[0].selectr',
    guess: 'selector',
    build: svc({ autoscaling: { maxReplicas: 4, metrics: [Metric.external('queue', A({ value: 5, selectr: {} }))] } }),
  },
  'Metric.resource': {
    where: API,
    prop: 'autoscaling.metrics[0].averageUtilisation',
    guess: 'averageUtilization',
    build: svc({ autoscaling: { maxReplicas: 4, metrics: [Metric.resource('cpu', A({ averageUtilisation: 70 }))] } }),
  },
  'ModelSource.fromUri': {
    where: API,
    prop: 'model.credentialSecret',
    guess: 'credentialsSecret',
    build: model(ModelSource.fromUri('gs://models/m', A({ credentialSecret: 'gcs' }))),
  },
  'ModelSource.fromUri cacheClaim': {
    where: API,
    prop: 'model.cacheClaim.claimname',
    guess: 'claimName',
    build: model(ModelSource.fromUri('gs://models/m', A({ cacheClaim: { claimname: 'cache' } }))),
  },
  'ModelSource.fromVolume': {
    where: API,
    prop: 'model.subpath',
    guess: 'subPath',
    build: model(ModelSource.fromVolume('models', A({ subpath: 'm' }))),
  },
  'ModelSource.fromTrainingJob': {
    where: API,
    prop: 'model.waitTimeout',
    guess: 'waitTimeoutSeconds',
    build: (app) => {
      const t = train({ modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }) })(app);
      new InferenceService(MlStack.of(t), 'api', { image: IMG, model: ModelSource.fromTrainingJob(t, A({ waitTimeout: 60 })) });
    },
  },
  'ModelSource.fromHuggingFace': {
    where: "LlmServer 'keys/llm'",
    prop: 'model.revison',
    guess: 'revision',
    build: llm({ model: ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', A({ revision: REV, revison: REV })) }),
  },
  'ModelSource.fromHuggingFace tokenSecret': {
    where: "LlmServer 'keys/llm'",
    prop: 'model.tokenSecret.secretname',
    guess: 'secretName',
    build: llm({ model: ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', A({ revision: REV, tokenSecret: { secretname: 'hf' } })) }),
  },
  'ModelSource.fromHuggingFace cache': {
    where: "LlmServer 'keys/llm'",
    prop: 'model.cache.sise',
    guess: 'size',
    build: llm({ model: ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', A({ revision: REV, cache: { sise: '10Gi' } })) }),
  },
  'ModelImage.fromDirectory': {
    where: TF,
    prop: 'model.image.modelname',
    guess: 'modelName',
    build: tf({
      model: ModelSource.fromImage(ModelImage.fromDirectory(tempDir(), A({ repository: 'registry.example.com/m', tag: '1', modelname: 'm' }))),
    }),
  },
  'PythonImage.fromDirectory': {
    where: "FlaskFrontend 'keys/web'",
    prop: 'image.requirement',
    guess: 'requirements',
    build: web({ image: py({ requirement: 'requirements.txt' }) }),
  },
  'Distributed.pytorch': {
    where: TRAIN,
    prop: 'distributed.worker',
    guess: 'workers',
    build: train({
      modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
      distributed: Distributed.pytorch(A({ workers: 2, worker: 2 })),
    }),
  },
  'Distributed.tensorflow': {
    where: TRAIN,
    prop: 'distributed.prot',
    guess: 'port',
    build: train({
      modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
      distributed: Distributed.tensorflow(A({ workers: 2, prot: 2222 })),
    }),
  },
  'DataInput.fromVolume': {
    where: TRAIN,
    prop: 'inputs[0].subpath',
    guess: 'subPath',
    build: train({ inputs: [DataInput.fromVolume('datasets', A({ mountPath: '/data', subpath: 'x' }))] }),
  },
  'DataInput.fromUri': {
    where: TRAIN,
    prop: 'inputs[0].s3endpoint',
    guess: 's3Endpoint',
    build: train({ inputs: [DataInput.fromUri('s3://bucket/data', A({ mountPath: '/data', s3endpoint: 'http://minio:9000' }))] }),
  },
  'ModelOutput.newClaim': {
    where: TRAIN,
    prop: 'modelOutput.sise',
    guess: 'size',
    build: train({ modelOutput: ModelOutput.newClaim(A({ sise: '1Gi' })) }),
  },
  'ModelOutput.existingClaim': {
    where: TRAIN,
    prop: 'modelOutput.subpath',
    guess: 'subPath',
    build: train({ modelOutput: ModelOutput.existingClaim('models', A({ subpath: 'm' })) }),
  },
  'EnvValue.fromSecret': {
    where: API,
    prop: 'env.TOKEN.options.optinal',
    guess: 'optional',
    build: svc({ env: { TOKEN: EnvValue.fromSecret('api', 'token', A({ optinal: true })) } }),
  },
  'EnvValue.fromConfigMap': {
    where: API,
    prop: 'env.LEVEL.options.Optional',
    guess: 'optional',
    build: svc({ env: { LEVEL: EnvValue.fromConfigMap('settings', 'level', A({ Optional: true })) } }),
  },
  'Toleration.equal': {
    where: API,
    prop: 'tolerations[0].options.efect',
    guess: 'effect',
    build: svc({ tolerations: [Toleration.equal('sku', 'gpu', A({ efect: 'NoSchedule' }))] }),
  },
  'Toleration.exists': {
    where: API,
    prop: 'tolerations[0].options.tolerationSecs',
    guess: 'tolerationSeconds',
    build: svc({ tolerations: [Toleration.exists('sku', A({ tolerationSecs: 10 }))] }),
  },
};

function messageOf(build: (app: MlApp) => void): string {
  try {
    const app = new MlApp({ outdir: tempDir() });
    build(app);
    app.synthFiles();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

describe('an unknown key in any props or options object fails at synth', () => {
  test.each(Object.entries(CASES))('%s', (_name, c) => {
    const message = messageOf(c.build);
    // The construct path and the key; the keys that exist; the nearest one when one is close.
    expect(message).toMatch(new RegExp(`^${escapeRegExp(c.where)}: ${escapeRegExp(c.prop)} is not (a known key|an option here)`));
    expect(message).toContain('. Fix: ');
    expect(message).toMatch(/Known keys: \w/);
    if (c.guess) expect(message).toContain(`(did you mean '${c.guess}'?)`);
    else expect(message).not.toContain('did you mean');
  });

  test("the issue's three examples read as the user needs them", () => {
    expect(messageOf(CASES['issue: InferenceService replica'].build)).toMatch(
      joinRegExp(
        /^InferenceService 'keys\/api': replica is not a known key \(did you mean 'replicas'\?\), so it would be ignored, got 2\. /,
        /Fix: rename 'replica' to 'replicas'\. Known keys: .*\breplicas\b/,
      ),
    );
    const tls = messageOf(CASES['issue: Exposure.ingress tls'].build);
    expect(tls).toContain("exposure.tls is not a known key (did you mean 'tlsSecretName'?)");
    expect(tls).toContain('disableTls');
    const rollout = messageOf(CASES['issue: rollout type'].build);
    expect(rollout).toContain('rollout.type is not a known key, so it would be ignored, got "Recreate". Fix: remove \'type\'');
    expect(rollout).toContain('Known keys: maxSurge, maxUnavailable, minReadySeconds');
  });

  test('props read from a JSON file (a JavaScript caller) are checked the same way', () => {
    const props = JSON.parse('{ "image": "registry.example.com/api:1.0.0", "replica": 2 }');
    expect(messageOf((app) => new InferenceService(new MlStack(app, 'keys'), 'api', props))).toContain(
      "replica is not a known key (did you mean 'replicas'?)",
    );
  });

  test('a known key holding undefined is fine; an unknown one is not', () => {
    expect(() => synth((app) => new InferenceService(new MlStack(app, 'keys'), 'api', { image: IMG, replicas: undefined }))).not.toThrow();
    expect(messageOf(svc({ replica: undefined }))).toContain(
      "replica is not a known key (did you mean 'replicas'?), so it would be ignored, got undefined",
    );
  });

  test('a key the object has but this server cannot use still says so (canary)', () => {
    expect(messageOf(svc({ canary: { weight: 10, version: '2.18.0' } }))).toContain(
      "canary.version is not something this server's canary can change",
    );
  });
});

describe('the nearest key', () => {
  test.each([
    ['replica', 'replicas'],
    ['Replicas', 'replicas'],
    ['repilcas', 'replicas'],
    ['policy', 'policies'],
    ['tls', 'tlsSecretName'],
    ['imgae', 'image'],
    ['type', undefined],
    ['x', undefined],
    ['zzzzzzzz', undefined],
  ])('%s -> %s', (key, want) => {
    expect(closestKey(key, ['image', 'replicas', 'tlsSecretName', 'maxSurge', 'port', 'policies'])).toBe(want);
  });

  test('an adjacent swap is one edit', () => {
    expect(editDistance('repilcas', 'replicas')).toBe(1);
    expect(editDistance('abc', '')).toBe(3);
  });
});

describe('the key lists are held to their interfaces by the compiler (keysOf)', () => {
  /** tsc's messages for a module that uses keysOf (lib/_validate.ts and what it imports only: a second or two). */
  function typeErrors(code: string): string[] {
    const file = path.join(__dirname, '.keys-of-check.ts');
    const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, noEmit: true, types: [] };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (f, v, ...rest) => (f === file ? ts.createSourceFile(f, code, v) : getSourceFile(f, v, ...rest));
    const program = ts.createProgram([file], options, host);
    return ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }
  const head = "import { keysOf } from '../../lib/_validate';\ninterface A { readonly a?: number; readonly b?: string }\n";

  test('a list with every key compiles; an interface that extends another spreads its list', () => {
    const code = `${head}const AK = keysOf<A>()(['a', 'b']);
interface B extends A { readonly c?: number }
export const BK = keysOf<B>()([...AK, 'c']);
`;
    expect(typeErrors(code)).toEqual([]);
  });

  test('a key the interface gains and the list lacks fails tsc, naming it', () => {
    expect(typeErrors(`${head}export const AK = keysOf<A>()(['a']);\n`).join('\n')).toMatch(/missing: "b"/);
  });

  test('a key the interface does not have fails tsc', () => {
    expect(typeErrors(`${head}export const AK = keysOf<A>()(['a', 'b', 'c']);\n`).join('\n')).toMatch(/"c"/);
  });
});

describe("the scaffold's main.ts (run transpile-only by its cdk8s.yaml)", () => {
  const ROOT = path.join(__dirname, '../..');
  /** templates/init as `cdk8s-ml init` writes it, importing this checkout's lib. */
  function scaffold(edit: (main: string) => string = (m) => m): (app: MlApp) => void {
    const dir = tempDir('cdk8s-ml-scaffold-');
    fs.cpSync(path.join(ROOT, 'templates/init/web'), path.join(dir, 'web'), { recursive: true });
    const main = fs
      .readFileSync(path.join(ROOT, 'templates/init/main.ts'), 'utf8')
      .replace(/__NAME__/g, 'demo')
      .replace(/from 'cdk8s-ml'/, `from ${JSON.stringify(path.join(ROOT, 'lib'))}`);
    fs.writeFileSync(path.join(dir, 'main.ts'), edit(main));
    return require(path.join(dir, 'main.ts')).build;
  }

  test('synthesizes as written', () => {
    const build = scaffold();
    expect(synth((app) => build(app)).files.size).toBeGreaterThan(0);
  });

  test('with a misspelt prop fails at synth, naming it', () => {
    const build = scaffold((m) => m.replace('replicas: 2,\n  });\n\n  new FlaskFrontend', 'replica: 2,\n  });\n\n  new FlaskFrontend'));
    expect(messageOf((app) => build(app))).toMatch(/^TfServingBackend 'demo\/server': replica is not a known key \(did you mean 'replicas'\?\)/);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
