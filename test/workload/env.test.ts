import {
  BatchInferenceJob,
  Distributed,
  EnvValue,
  FlaskFrontend,
  InferenceService,
  ModelSource,
  PythonImage,
  TfServingBackend,
  TrainingJob,
} from '../../lib';
import { joinRegExp } from '../_util/regexp';
import { podSpec, pythonContext, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/api:1.0.0';
const TRAIN = 'registry.example.com/train:1.0.0';
const GS = ModelSource.fromUri('gs://models/m');
const webImage = () => PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' });
const names = (container: any): string[] => container.env.map((e: any) => e.name);

describe('user env that redefines a variable the library sets', () => {
  test.each([
    [
      'InferenceService MODEL_NAME',
      () => synthStack((s) => new InferenceService(s, 'api', { image: IMAGE, modelName: 'm', env: { MODEL_NAME: 'other' } })),
      joinRegExp(
        /InferenceService 'test\/api': env\.MODEL_NAME is set by the library from the props and /,
        /wiring \(container 'server' would list it twice: server-side apply rejects the duplicate key\), got "other"\. Fix: remove env\.MODEL_NAME/,
      ),
    ],
    [
      'InferenceService MODEL_DIR',
      () => synthStack((s) => new InferenceService(s, 'api', { image: IMAGE, model: GS, env: { MODEL_DIR: EnvValue.fromConfigMap('cfg', 'dir') } })),
      /InferenceService 'test\/api': env\.MODEL_DIR is set by the library.*got \{"configMapKeyRef":\{"name":"cfg","key":"dir"\}\}/,
    ],
    [
      'TfServingBackend HOME on a GPU',
      () =>
        synthStack((s) => new TfServingBackend(s, 'server', { modelName: 'm', model: GS, resources: { gpu: 1 }, env: { HOME: '/home/serving' } })),
      /TfServingBackend 'test\/server': env\.HOME is set by the library.*got "\/home\/serving"/,
    ],
    [
      'FlaskFrontend BACKEND_URL',
      () =>
        synthStack(
          (s) =>
            new FlaskFrontend(s, 'web', {
              image: webImage(),
              backend: new InferenceService(s, 'api', { image: IMAGE }),
              env: { BACKEND_URL: 'http://elsewhere' },
            }),
        ),
      /FlaskFrontend 'test\/web': env\.BACKEND_URL is set by the library.*got "http:\/\/elsewhere"/,
    ],
    [
      'FlaskFrontend FLASK_SECRET_KEY with secretKey',
      // From a Secret: a literal under this name fails earlier, as a credential written inline (test/catalog/credentials.test.ts).
      () =>
        synthStack(
          (s) =>
            new FlaskFrontend(s, 'web', {
              image: webImage(),
              secretKey: { secretName: 'web' },
              env: { FLASK_SECRET_KEY: EnvValue.fromSecret('other', 'key') },
            }),
        ),
      /FlaskFrontend 'test\/web': env\.FLASK_SECRET_KEY is set by the library.*got \{"secretKeyRef":\{"name":"other","key":"key"\}\}/,
    ],
    [
      'TrainingJob RANK of a distributed job',
      () => synthStack((s) => new TrainingJob(s, 'train', { image: TRAIN, distributed: Distributed.pytorch({ workers: 2 }), env: { RANK: '0' } })),
      /TrainingJob 'test\/train': env\.RANK is set by the library.*got "0"/,
    ],
    [
      'BatchInferenceJob MODEL_DIR',
      () => synthStack((s) => new BatchInferenceJob(s, 'batch', { image: TRAIN, model: GS, env: { MODEL_DIR: '/elsewhere' } })),
      /BatchInferenceJob 'test\/batch': env\.MODEL_DIR is set by the library.*got "\/elsewhere"/,
    ],
  ])('%s fails at synth, naming the variable', (_name, build, expected) => {
    expect(build).toThrow(expected);
  });

  test("without a clash, every variable is listed once: HOME, then the user's first (servers) and the library's first (jobs)", () => {
    const out = synthStack((s) => {
      const api = new InferenceService(s, 'api', { image: IMAGE, modelName: 'm', env: { LOG_LEVEL: 'info' } });
      new FlaskFrontend(s, 'web', { image: webImage(), backend: api, secretKey: { secretName: 'web' }, env: { GREETING: 'hi' } });
      new TrainingJob(s, 'train', { image: TRAIN, distributed: Distributed.pytorch({ workers: 2 }), env: { EPOCHS: '3' } });
    });
    expect(names(podSpec(out.find('Deployment', 'api')).containers[0])).toEqual(['HOME', 'LOG_LEVEL', 'MODEL_NAME']);
    expect(names(podSpec(out.find('Deployment', 'web')).containers[0])).toEqual([
      'HOME',
      'GREETING',
      'FLASK_SECRET_KEY',
      'BACKEND_URL',
      'BACKEND_PREDICT_URL',
      'BACKEND_MODEL_NAME',
    ]);
    const trainer = names(podSpec(out.find('Job', 'train')).containers[0]);
    expect(trainer[trainer.length - 1]).toBe('EPOCHS');
    expect(new Set(trainer).size).toBe(trainer.length);
  });
});
