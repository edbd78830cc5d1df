// Modified copies of reference stacks (apps/), built through the library's constructs as a user's
// change to main.ts would be: each option is one realistic edit; with no options the copy
// synthesizes exactly what the reference app does (diff.test.ts checks that).
import * as path from 'node:path';
import { Construct } from 'constructs';
import {
  AutoscalingOptions,
  BatchInferenceJob,
  Exposure,
  FlaskFrontend,
  InferenceService,
  MlApp,
  MlStack,
  ModelImage,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  TrainingJob,
} from '../../lib';
import { andGate } from '../../apps/and-gate/main';
import { argoCd } from '../../apps/argocd/main';
import { canary } from '../../apps/canary/main';
import { eegLetters } from '../../apps/eeg-letters/main';
import { imageClassifier } from '../../apps/image-classifier/main';
import { llmChat } from '../../apps/llm-chat/main';
import { mlModel } from '../../apps/ml-model/main';

const APPS = path.resolve(__dirname, '../../apps');

export interface AndGateEdit {
  readonly webTag?: string;
  readonly webAutoscaling?: AutoscalingOptions;
  readonly webExposure?: Exposure;
  /** An extra model server beside the AND gate (present in base and head of the wiring test). */
  readonly explainer?: boolean;
  /** server.allowFrom(explainer): the explainer may call the AND-gate server. */
  readonly explainerCallsServer?: boolean;
}

export function andGateCopy(app: Construct, edit: AndGateEdit = {}): MlStack {
  const stack = new MlStack(app, 'and-gate');
  const server = new TfServingBackend(stack, 'server', {
    modelName: 'and-gate',
    model: ModelSource.fromImage(
      ModelImage.fromDirectory(path.join(APPS, 'and-gate/model'), {
        repository: 'registry.example.com/and-gate-model',
        tag: '1.0.0',
        modelName: 'and-gate',
        version: 1,
      }),
    ),
    replicas: 3,
    resources: { cpu: '250m', cpuLimit: '1', memory: '512Mi', memoryLimit: '1Gi' },
    healthCheck: { startupTimeoutSeconds: 120 },
  });
  new FlaskFrontend(stack, 'web', {
    image: PythonImage.fromDirectory(path.join(APPS, 'and-gate/web'), {
      repository: 'registry.example.com/and-gate-web',
      tag: edit.webTag ?? '1.0.0',
    }),
    backend: server,
    ...(edit.webAutoscaling ? { autoscaling: edit.webAutoscaling } : { replicas: 3 }),
    exposure: edit.webExposure ?? Exposure.loadBalancer(),
  });
  if (edit.explainer || edit.explainerCallsServer) {
    const explainer = new InferenceService(stack, 'explainer', {
      image: 'registry.example.com/explainer:1.0.0',
      port: 8080,
      healthCheck: { path: '/healthz' },
    });
    if (edit.explainerCallsServer) server.allowFrom(explainer);
  }
  return stack;
}

export interface EegEdit {
  readonly trainCommand?: string[];
  /** Drop the batch-inference Job (and with it the claim it writes its predictions to). */
  readonly withoutBatchInference?: boolean;
}

export function eegLettersCopy(app: Construct, edit: EegEdit = {}): MlStack {
  const stack = new MlStack(app, 'eeg-letters');
  const image = PythonImage.fromDirectory(path.join(APPS, 'eeg-letters/src'), { repository: 'registry.example.com/eeg-letters', tag: '1.0.0' });
  const train = new TrainingJob(stack, 'train', {
    image,
    command: edit.trainCommand ?? ['python', 'train.py'],
    modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
    modelReadyFile: 'metadata.json',
    resources: { cpu: '1', cpuLimit: '2', memory: '1Gi', memoryLimit: '2Gi' },
    activeDeadlineSeconds: 1800,
  });
  const model = ModelSource.fromTrainingJob(train);
  if (!edit.withoutBatchInference) {
    new BatchInferenceJob(stack, 'batch-inference', {
      image,
      command: ['python', 'inference.py'],
      model,
      output: ModelOutput.newClaim({ size: '1Gi' }),
      resources: { cpu: '500m', cpuLimit: '1', memory: '512Mi', memoryLimit: '1Gi' },
      activeDeadlineSeconds: 3600,
    });
  }
  new InferenceService(stack, 'api', {
    image,
    command: ['gunicorn', '--bind', `0.0.0.0:${image.port}`, '--workers', '2', 'api:app'],
    model,
    replicas: 2,
    healthCheck: { path: '/readyz', livenessPath: '/healthz', startupTimeoutSeconds: 1800 },
    resources: { cpu: '250m', cpuLimit: '1', memory: '512Mi', memoryLimit: '1Gi' },
    exposure: Exposure.ingress({ host: 'eeg-letters.example.com', className: 'nginx' }),
  });
  return stack;
}

export interface CanaryEdit {
  readonly classifierWeight?: number;
  /** The classifier's stable replicas: with a wired client, its pod ratio must follow the route weight. */
  readonly classifierReplicas?: number;
  readonly scorerWeight?: number;
}

export function canaryCopy(app: Construct, edit: CanaryEdit = {}): MlStack {
  const stack = new MlStack(app, 'canary');
  const classifier = new TfServingBackend(stack, 'classifier', {
    modelName: 'image-classifier',
    model: ModelSource.fromUri('gs://example-ml-models/image-classifier'),
    version: '2.19.0',
    replicas: edit.classifierReplicas ?? 4,
    exposure: Exposure.gateway({ gateway: { name: 'public', namespace: 'gateway' }, hostnames: ['classifier.example.com'] }),
    canary: { weight: edit.classifierWeight ?? 20, version: '2.20.0' },
  });
  const scorer = new InferenceService(stack, 'scorer', {
    image: 'registry.example.com/scorer:1.4.0',
    port: 8080,
    modelName: 'scorer',
    healthCheck: { path: '/healthz' },
    replicas: 4,
    canary: { weight: edit.scorerWeight ?? 25, image: 'registry.example.com/scorer:1.5.0' },
  });
  new FlaskFrontend(stack, 'web', {
    image: PythonImage.fromDirectory(path.join(APPS, 'canary/web'), { repository: 'registry.example.com/canary-web', tag: '1.0.0' }),
    backends: { classifier, scorer },
    replicas: 2,
  });
  return stack;
}

export interface ReferenceEdits {
  readonly andGate?: AndGateEdit;
  readonly eegLetters?: EegEdit;
  readonly canary?: CanaryEdit;
}

/** buildReferenceApps (apps/main.ts) with the edited copies in place of the stacks named in `edits`. */
export function referenceWith(edits: ReferenceEdits): (app: MlApp) => void {
  return (app) => {
    const stacks = [
      edits.andGate ? andGateCopy(app, edits.andGate) : andGate(app),
      edits.eegLetters ? eegLettersCopy(app, edits.eegLetters) : eegLetters(app),
      imageClassifier(app),
      mlModel(app),
      llmChat(app),
      edits.canary ? canaryCopy(app, edits.canary) : canary(app),
    ];
    argoCd(app, stacks);
  };
}
