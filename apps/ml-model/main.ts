// The smallest case (classic-deployments.md section 4): one Python model server from its source
// folder, as a Deployment + Service with its Dockerfile, instead of a hand-written Pod.
import * as path from 'node:path';
import { Construct } from 'constructs';
import { InferenceService, MlApp, MlStack, PythonImage } from '../../lib';

export function mlModel(app: Construct): MlStack {
  const stack = new MlStack(app, 'ml-model');
  new InferenceService(stack, 'ml-model', {
    image: PythonImage.fromDirectory(path.join(__dirname, 'app'), {
      repository: 'registry.example.com/ml-model',
      tag: '1.0.0',
      // gunicorn, not Flask's development server
      command: ['gunicorn', '--bind', '0.0.0.0:8080', '--workers', '2', 'app:app'],
    }),
    env: { MODEL_WEIGHTS: '0.5,-0.25', MODEL_BIAS: '0.1' },
    healthCheck: { path: '/healthz', startupTimeoutSeconds: 60 },
    replicas: 2,
    resources: { cpu: '250m', cpuLimit: '1', memory: '256Mi', memoryLimit: '512Mi' },
  });
  return stack;
}

if (require.main === module) {
  MlApp.main((app) => mlModel(app));
}
