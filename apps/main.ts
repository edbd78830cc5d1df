// Synthesizes every reference app into one output directory: manifests/<stack>.k8s.yaml,
// images/ (Dockerfiles, docker-bake.json, build.sh) and compose/.
import { MlApp } from '../lib';
import { mlModel } from './ml-model/main';

export function buildReferenceApps(app: MlApp): MlApp {
  mlModel(app);
  return app;
}

if (require.main === module) {
  buildReferenceApps(new MlApp()).synth();
}
