// The classic AND-gate deployment (classic-deployments.md section 1), with its defects fixed:
// the web app gets the backend URL from the wiring (never a hard-coded host), runs under gunicorn as
// a non-root uid, both tiers have probes, resources, pinned tags and a PDB, and only the web pods can
// reach TF Serving.
import * as path from 'node:path';
import { Construct } from 'constructs';
import { Exposure, FlaskFrontend, MlApp, MlStack, ModelImage, ModelSource, PythonImage, TfServingBackend } from '../../lib';

export function andGate(app: Construct): MlStack {
  const stack = new MlStack(app, 'and-gate');

  const server = new TfServingBackend(stack, 'server', {
    modelName: 'and-gate',
    // The SavedModel that train.py writes, baked into a tensorflow/serving image at /models/and-gate/1.
    model: ModelSource.fromImage(
      ModelImage.fromDirectory(path.join(__dirname, 'model'), {
        repository: 'registry.example.com/and-gate-model',
        tag: '1.0.0',
        modelName: 'and-gate',
        version: 1,
      }),
    ),
    replicas: 3,
    // A two-weight model: far below the TF Serving defaults.
    resources: { cpu: '250m', cpuLimit: '1', memory: '512Mi', memoryLimit: '1Gi' },
    healthCheck: { startupTimeoutSeconds: 120 },
  });

  new FlaskFrontend(stack, 'web', {
    image: PythonImage.fromDirectory(path.join(__dirname, 'web'), {
      repository: 'registry.example.com/and-gate-web',
      tag: '1.0.0',
    }),
    backend: server,
    replicas: 3,
    exposure: Exposure.loadBalancer(),
  });
  return stack;
}

if (require.main === module) {
  MlApp.main((app) => andGate(app));
}
