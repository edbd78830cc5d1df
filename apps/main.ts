// Synthesizes every reference app into one output directory: manifests/<stack>.k8s.yaml,
// images/ (Dockerfiles, docker-bake.json, build.sh) and compose/.
import { MlApp } from '../lib';
import { andGate } from './and-gate/main';
import { imageClassifier } from './image-classifier/main';
import { mlModel } from './ml-model/main';

export function buildReferenceApps(app: MlApp): MlApp {
  andGate(app);
  imageClassifier(app);
  mlModel(app);
  return app;
}

if (require.main === module) {
  buildReferenceApps(new MlApp()).synth();
}
