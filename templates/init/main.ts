// The whole system: a TF Serving model server behind a Flask web app, wired by object reference.
// `npx cdk8s synth` writes dist/ (manifests/, images/, compose/); `npm test` type-checks and tests it.
import * as path from 'path';
import { Exposure, FlaskFrontend, MlApp, MlStack, ModelSource, PythonImage, TfServingBackend } from 'cdk8s-ml';

export function build(app: MlApp): MlStack {
  const stack = new MlStack(app, '__NAME__', { namespace: '__NAME__' });

  const server = new TfServingBackend(stack, 'server', {
    modelName: 'model',
    // A SavedModel directory holding integer version directories (1/, 2/, ...); TF Serving reads gs:// itself.
    model: ModelSource.fromUri('gs://__NAME__-models/model'),
    replicas: 2,
  });

  new FlaskFrontend(stack, 'web', {
    image: PythonImage.fromDirectory(path.join(__dirname, 'web'), {
      repository: 'registry.example.com/__NAME__-web',
      tag: '0.1.0',
    }),
    backend: server, // injects BACKEND_PREDICT_URL; only these pods may reach the server
    replicas: 2,
    exposure: Exposure.loadBalancer(),
  });
  return stack;
}

if (require.main === module) {
  MlApp.main(app => build(app));
}
