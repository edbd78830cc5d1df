// EEG letters (classic-deployments.md section 3), done right: one image with train.py,
// inference.py and api.py; a TrainingJob writes the models to a claim it creates; a
// BatchInferenceJob and an online API read the same claim read-only. No SSH, no key in any image,
// no download at run time (the data ships in the image), pinned tags.
import * as path from 'node:path';
import { Construct } from 'constructs';
import { BatchInferenceJob, Exposure, InferenceService, MlApp, MlStack, ModelOutput, ModelSource, PythonImage, TrainingJob } from '../../lib';

export function eegLetters(app: Construct): MlStack {
  const stack = new MlStack(app, 'eeg-letters');
  // One image for the three workloads. Its CMD is the API's gunicorn command (the library's rule: the
  // first server that runs an image gives it its CMD), so `docker run -p 8080:8080` on it serves
  // like the Deployment and answers the probes' paths; the two Jobs state their commands in their
  // manifests. (Before, the image named train.py: a `docker run` trained into a MODEL_DIR nobody set.)
  const image = PythonImage.fromDirectory(path.join(__dirname, 'src'), {
    repository: 'registry.example.com/eeg-letters',
    tag: '1.0.0',
  });

  const train = new TrainingJob(stack, 'train', {
    image,
    command: ['python', 'train.py'],
    // ReadWriteMany: the batch job and two API replicas read the models while they may run on
    // different nodes (and a retraining run could write them). With a ReadWriteOnce class the
    // Multi-Attach check fails the synth: then run one API replica and no batch job at the same
    // time, or hand the models over through object storage.
    modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
    // train.py writes the two model files, then metadata.json (each atomically): the readers' init
    // containers wait for metadata.json, so they never load one new model beside an old one.
    modelReadyFile: 'metadata.json',
    resources: { cpu: '1', cpuLimit: '2', memory: '1Gi', memoryLimit: '2Gi' },
    activeDeadlineSeconds: 1800,
  });
  const model = ModelSource.fromTrainingJob(train);

  new BatchInferenceJob(stack, 'batch-inference', {
    image,
    // Both Jobs start together: the library's model-wait init container holds this one until the
    // trainer has written metadata.json (the code does not wait itself).
    command: ['python', 'inference.py'],
    model,
    output: ModelOutput.newClaim({ size: '1Gi' }),
    resources: { cpu: '500m', cpuLimit: '1', memory: '512Mi', memoryLimit: '1Gi' },
    activeDeadlineSeconds: 3600,
  });

  new InferenceService(stack, 'api', {
    image,
    command: ['gunicorn', '--bind', `0.0.0.0:${image.port}`, '--workers', '2', 'api:app'],
    model,
    replicas: 2,
    // Ready once the models exist; the startup window covers a first training run.
    healthCheck: { path: '/readyz', livenessPath: '/healthz', startupTimeoutSeconds: 1800 },
    resources: { cpu: '250m', cpuLimit: '1', memory: '512Mi', memoryLimit: '1Gi' },
    // The online API's users are outside the cluster (the classic served it over REST): a TLS Ingress, whose
    // controller the NetworkPolicy admits. Without an exposure or a wired client the policy admits nobody.
    exposure: Exposure.ingress({ host: 'eeg-letters.example.com', className: 'nginx' }),
  });
  return stack;
}

if (require.main === module) {
  MlApp.main((app) => eegLetters(app));
}
