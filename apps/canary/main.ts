// Canary rollouts declared in git (README "Canary and A/B rollouts"): two servers, each with a
// stable and a canary track.
// - classifier: TF Serving behind a Gateway API route; the HTTPRoute splits requests 80/20 by
//   weight over one Service per track (the stable track keeps its 4 replicas, the canary gets 1).
//   The web frontend calls the one Service and gets the pod ratio, 4:1, the same 80/20: synth
//   refuses a canary whose route weight and pod ratio differ while in-cluster clients are wired.
// - scorer: any model server behind its plain Service; the split is by pods (3 stable + 1 canary
//   = 25%), which the Service states in its ml.cdk8s.io/traffic-split annotation.
// Promotion is `weight: 100` (the stable Deployment takes the canary's version), rollback
// `weight: 0` (the canary objects go); either is one line here and a small diff in the YAML.
import * as path from 'node:path';
import { Construct } from 'constructs';
import { Exposure, FlaskFrontend, InferenceService, MlApp, MlStack, ModelSource, PythonImage, TfServingBackend } from '../../lib';

export function canary(app: Construct): MlStack {
  const stack = new MlStack(app, 'canary');

  const classifier = new TfServingBackend(stack, 'classifier', {
    modelName: 'image-classifier',
    model: ModelSource.fromUri('gs://example-ml-models/image-classifier'),
    version: '2.19.0',
    replicas: 4,
    exposure: Exposure.gateway({ gateway: { name: 'public', namespace: 'gateway' }, hostnames: ['classifier.example.com'] }),
    canary: { weight: 20, version: '2.20.0' },
  });

  const scorer = new InferenceService(stack, 'scorer', {
    image: 'registry.example.com/scorer:1.4.0',
    port: 8080,
    modelName: 'scorer',
    healthCheck: { path: '/healthz' },
    replicas: 4,
    canary: { weight: 25, image: 'registry.example.com/scorer:1.5.0' },
  });

  new FlaskFrontend(stack, 'web', {
    image: PythonImage.fromDirectory(path.join(__dirname, 'web'), { repository: 'registry.example.com/canary-web', tag: '1.0.0' }),
    backends: { classifier, scorer },
    replicas: 2,
  });
  return stack;
}

if (require.main === module) {
  MlApp.main((app) => canary(app));
}
