// Synthesizes every reference app into one output directory: manifests/<stack>.k8s.yaml,
// images/ (Dockerfiles, docker-bake.json, build.sh) and compose/.
import { MlApp } from '../lib';
import { andGate } from './and-gate/main';
import { argoCd } from './argocd/main';
import { eegLetters } from './eeg-letters/main';
import { imageClassifier } from './image-classifier/main';
import { llmChat } from './llm-chat/main';
import { canary } from './canary/main';
import { mlModel } from './ml-model/main';

export function buildReferenceApps(app: MlApp): MlApp {
  const stacks = [andGate(app), eegLetters(app), imageClassifier(app), mlModel(app), llmChat(app), canary(app)];
  argoCd(app, stacks);
  return app;
}

if (require.main === module) {
  // `--stdout` prints every manifest as one multi-document stream (what Argo CD's plugin runs).
  MlApp.main(buildReferenceApps);
}
