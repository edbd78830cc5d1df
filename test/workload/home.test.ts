import { andGate } from '../../apps/and-gate/main';
import { eegLetters } from '../../apps/eeg-letters/main';
import { imageClassifier } from '../../apps/image-classifier/main';
import { mlModel } from '../../apps/ml-model/main';
import { FlaskFrontend, InferenceService, MlStack, ModelSource, PythonImage, TfServingBackend, TrainingJob } from '../../lib';
import { dockerfileFacts } from '../../lib/check/dockerfile';
import { joinRegExp } from '../_util/regexp';
import { podSpec, pythonContext, synth, synthStack } from '../_util/synth';

const WORKLOADS = ['Deployment', 'Job', 'CronJob'];

describe('HOME: every container has a writable home, in the pod and in the image', () => {
  test('every container of every reference app (init ones too) lists HOME once, first, at its writable /tmp; built images set the same HOME', () => {
    const out = synth((app) => {
      andGate(app);
      imageClassifier(app);
      mlModel(app);
      eegLetters(app);
      // and a pod with an init container (the model download)
      new InferenceService(new MlStack(app, 'extra'), 'api', {
        image: 'registry.example.com/api:1.0.0',
        model: ModelSource.fromUri('s3://models/api'),
      });
    });
    const pods = out.objects.filter((o) => WORKLOADS.includes(o.kind)).map((o) => ({ what: `${o.kind}/${o.metadata.name}`, pod: podSpec(o) }));
    expect(pods.length).toBeGreaterThanOrEqual(8);
    let containers = 0;
    for (const { what, pod } of pods) {
      const tmp = pod.volumes.find((v: any) => v.name === 'tmp');
      expect(tmp.emptyDir).toBeDefined();
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        containers++;
        const homes = c.env.filter((e: any) => e.name === 'HOME');
        expect({ what, container: c.name, homes, first: c.env[0].name }).toEqual({
          what,
          container: c.name,
          homes: [{ name: 'HOME', value: '/tmp' }],
          first: 'HOME',
        });
        // writable: the emptyDir, on a read-only root
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      }
    }
    expect(containers).toBeGreaterThan(pods.length);
    // The Python images (ModelImage's tensorflow/serving is not ours to give a HOME; its pods have one).
    const dockerfiles = [...out.files.keys()].filter((f) => f.endsWith('/Dockerfile') && /^ARG PYTHON_IMAGE=/m.test(out.files.get(f)!));
    expect(dockerfiles).toHaveLength(4);
    for (const f of dockerfiles) {
      expect({ f, home: dockerfileFacts(out.files.get(f)!).env.HOME }).toEqual({ f, home: '/tmp' });
    }
  });

  test('TF Serving on a GPU lists HOME once (it used to set its own)', () => {
    const out = synthStack(
      (s) => new TfServingBackend(s, 'server', { modelName: 'm', model: ModelSource.fromUri('gs://models/m'), resources: { gpu: 1 } }),
    );
    const env = podSpec(out.find('Deployment')).containers[0].env;
    expect(env.filter((e: any) => e.name === 'HOME')).toEqual([{ name: 'HOME', value: '/tmp' }]);
    expect(env).toContainEqual({ name: 'CUDA_CACHE_PATH', value: '/tmp/cuda-cache' });
  });

  test('a user HOME fails at synth, in the env of a workload or of the image', () => {
    const img = (env?: Record<string, string>) =>
      PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0', env });
    expect(() => synthStack((s) => new FlaskFrontend(s, 'web', { image: img(), env: { HOME: '/home/app' } }))).toThrow(
      joinRegExp(
        /FlaskFrontend 'test\/web': env\.HOME is set by the library to \/tmp, the one directory /,
        /every pod can write .*, got "\/home\/app"\. Fix: remove env\.HOME/,
      ),
    );
    expect(() => synthStack((s) => new TrainingJob(s, 'train', { image: 'registry.example.com/train:1.0.0', env: { HOME: '/root' } }))).toThrow(
      /TrainingJob 'test\/train': env\.HOME is set by the library/,
    );
    expect(() => synthStack((s) => new FlaskFrontend(s, 'web', { image: img({ HOME: '/home/app' }) }))).toThrow(
      /FlaskFrontend 'test\/web': image\.env\.HOME is set by the library to \/tmp/,
    );
  });
});
