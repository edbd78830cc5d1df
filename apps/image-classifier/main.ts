// The classic image classifier (classic-deployments.md section 2), with its defects fixed: the model
// comes from object storage (not an empty emptyDir), the Ingress has TLS, the web tier autoscales,
// every pod has probes, and the GPU the model server needs is expressed (nvidia.com/gpu + toleration).
import * as path from 'node:path';
import { Construct } from 'constructs';
import { Exposure, FlaskFrontend, MlApp, MlStack, ModelSource, PythonImage, TfServingBackend } from '../../lib';

export function imageClassifier(app: Construct): MlStack {
  const stack = new MlStack(app, 'image-classifier');

  const server = new TfServingBackend(stack, 'model-server', {
    modelName: 'image-classifier',
    // TF Serving reads gs:// itself: version directories 1/, 2/... under this prefix.
    model: ModelSource.fromUri('gs://example-ml-models/image-classifier'),
    replicas: 2,
    resources: { cpu: '1', cpuLimit: '4', memory: '4Gi', memoryLimit: '8Gi', gpu: 1 },
    gpuNodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
    serviceAccount: { annotations: { 'iam.gke.io/gcp-service-account': 'model-reader@example-project.iam.gserviceaccount.com' } },
    batching: { maxBatchSize: 32, batchTimeoutMicros: 2000, allowedBatchSizes: [8, 16, 32] },
    healthCheck: { startupTimeoutSeconds: 900 },
  });

  new FlaskFrontend(stack, 'image-classifier', {
    image: PythonImage.fromDirectory(path.join(__dirname, 'web'), {
      repository: 'registry.example.com/image-classifier',
      tag: '1.0.0',
    }),
    backends: { classifier: server },
    resources: { cpu: '500m', cpuLimit: '1', memory: '1Gi', memoryLimit: '2Gi' },
    autoscaling: { minReplicas: 3, maxReplicas: 10, cpuUtilization: 70 },
    servicePort: 80,
    exposure: Exposure.ingress({ host: 'image-classifier.example.com', path: '/', className: 'nginx' }),
    workers: 2,
    threads: 8,
  });
  return stack;
}

if (require.main === module) {
  MlApp.main((app) => imageClassifier(app));
}
