import {
  Distributed,
  FlaskFrontend,
  InferenceService,
  MlApp,
  MlStack,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  TrainingJob,
} from '../../lib';
import { joinRegExp } from '../_util/regexp';
import { pythonContext, synth, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/api:1.0.0';
const TRAIN = 'registry.example.com/train:1.0.0';
const GS = ModelSource.fromUri('gs://models/m');

describe('Service names are DNS-1035 labels', () => {
  test.each([
    [
      'an InferenceService id',
      (s: MlStack) => new InferenceService(s, '1api', { image: IMAGE }),
      joinRegExp(
        /InferenceService 'test\/1api': name must start with a lowercase letter: it names a /,
        /Service, and Kubernetes validates Service names as DNS-1035 labels .*got "1api"\. Fix: /,
        /pass name: 'api-1', or give the construct an id that starts with a letter/,
      ),
    ],
    [
      'an explicit name',
      (s: MlStack) => new InferenceService(s, 'api', { image: IMAGE, name: '2-tower' }),
      /InferenceService 'test\/api': name must start with a lowercase letter.*got "2-tower"\. Fix: pass name: 'tower-2'/,
    ],
    [
      'a TfServingBackend',
      (s: MlStack) => new TfServingBackend(s, '3d', { modelName: 'm', model: GS }),
      /TfServingBackend 'test\/3d': name must start with a lowercase letter.*got "3d"/,
    ],
    [
      'a FlaskFrontend',
      (s: MlStack) =>
        new FlaskFrontend(s, '42', { image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' }) }),
      /FlaskFrontend 'test\/42': name must start with a lowercase letter.*got "42"\. Fix: pass name: 'svc-42'/,
    ],
  ])('%s starting with a digit fails at synth', (_name, build, expected) => {
    expect(() => synthStack(build)).toThrow(expected);
  });

  test('a distributed training job (headless Service) fails too', () => {
    expect(() => synthStack((s) => new TrainingJob(s, '7b', { image: TRAIN, distributed: Distributed.pytorch({ workers: 2 }) }))).toThrow(
      /TrainingJob 'test\/7b': name must start with a lowercase letter: it names a Service.*got "7b"\. Fix: pass name: 'b-7'/,
    );
  });

  test('a single-pod training job has no Service: a leading digit is a valid Job name', () => {
    const out = synthStack((s) => new TrainingJob(s, '7b', { image: TRAIN }));
    expect(out.find('Job', '7b')).toBeDefined();
    expect(out.all('Service')).toEqual([]);
  });
});

describe('two workloads with one object name in one namespace', () => {
  test('ids IrisAPI and iris-api both become iris-api: the later one fails naming the first', () => {
    expect(() =>
      synthStack((s) => {
        new InferenceService(s, 'IrisAPI', { image: IMAGE });
        new InferenceService(s, 'iris-api', { image: IMAGE });
      }),
    ).toThrow(
      joinRegExp(
        /InferenceService 'test\/iris-api': name clashes with InferenceService 'test\/IrisAPI' in /,
        /namespace 'test': both emit Deployment, Service and NetworkPolicy named "iris-api", .*got /,
        /"iris-api"\. Fix: give one of the two another id or name/,
      ),
    );
  });

  test("an explicit name equal to another workload's, of another kind", () => {
    expect(() =>
      synthStack((s) => {
        new InferenceService(s, 'api', { image: IMAGE, name: 'iris' });
        new TrainingJob(s, 'train', { image: TRAIN, name: 'iris' });
      }),
    ).toThrow(/TrainingJob 'test\/train': name clashes with InferenceService 'test\/api' in namespace 'test': both emit NetworkPolicy named "iris"/);
  });

  test("objects other than the workload's own are named by kind", () => {
    expect(() =>
      synthStack((s) => {
        new TrainingJob(s, 'a', { image: TRAIN, modelOutput: ModelOutput.newClaim({ size: '1Gi', name: 'b-model' }) });
        new TrainingJob(s, 'b', { image: TRAIN, modelOutput: ModelOutput.newClaim({ size: '1Gi' }) });
      }),
    ).toThrow(
      joinRegExp(
        /TrainingJob 'test\/b': PersistentVolumeClaim name clashes with TrainingJob 'test\/a' in /,
        /namespace 'test': both emit PersistentVolumeClaim named "b-model"/,
      ),
    );
  });

  test('across two stacks of one namespace', () => {
    expect(() =>
      synth((app) => {
        new InferenceService(new MlStack(app, 'a', { namespace: 'ml' }), 'api', { image: IMAGE });
        new InferenceService(new MlStack(app, 'b', { namespace: 'ml', createNamespace: false }), 'api', { image: IMAGE });
      }),
    ).toThrow(/InferenceService 'b\/api': name clashes with InferenceService 'a\/api' in namespace 'ml'/);
  });

  test('the same name in two namespaces is fine', () => {
    const out = synth((app) => {
      new InferenceService(new MlStack(app, 'a'), 'api', { image: IMAGE });
      new InferenceService(new MlStack(app, 'b'), 'api', { image: IMAGE });
    });
    expect(out.all('Deployment').map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual(['a/api', 'b/api']);
  });

  test('each clash is reported once, by the later workload', () => {
    let message = '';
    try {
      synthStack((s) => {
        new InferenceService(s, 'IrisAPI', { image: IMAGE });
        new InferenceService(s, 'iris-api', { image: IMAGE });
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.match(/clashes with/g)).toHaveLength(1);
  });
});

describe('one Namespace object per namespace', () => {
  test('a second stack that would emit it fails, naming both stacks and the fix', () => {
    expect(() =>
      synth((app) => {
        new MlStack(app, 'serving', { namespace: 'ml' });
        new MlStack(app, 'training', { namespace: 'ml' });
      }),
    ).toThrow(
      joinRegExp(
        /MlStack 'training': createNamespace would emit Namespace 'ml', which MlStack 'serving' /,
        /emits too: their two Argo CD applications would both own it.*got true\. Fix: set /,
        /createNamespace: false on every stack of namespace 'ml' but one/,
      ),
    );
  });

  test('with createNamespace: false on all but one, the namespace is shared and emitted once', () => {
    const out = synth((app) => {
      new InferenceService(new MlStack(app, 'serving', { namespace: 'ml' }), 'api', { image: IMAGE });
      new TrainingJob(new MlStack(app, 'training', { namespace: 'ml', createNamespace: false }), 'train', { image: TRAIN });
    });
    expect(out.all('Namespace').map((n) => n.metadata.name)).toEqual(['ml']);
  });

  test("separate apps do not see each other's stacks", () => {
    const build = (app: MlApp) => new InferenceService(new MlStack(app, 'serving', { namespace: 'ml' }), 'api', { image: IMAGE });
    synth(build);
    expect(synth(build).all('Namespace')).toHaveLength(1);
  });
});
