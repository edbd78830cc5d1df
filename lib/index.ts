// The public API of cdk8s-ml: named exports only, each one reviewed (etc/cdk8s-ml.api.md is the
// report API Extractor writes of it; a test fails when it changes unreviewed). Internals stay in
// their modules: tests import those from the module path.

// App and stacks: the root construct, the chart every workload lives in, the labels and output layout they write.
export { MlApp, MlAppProps } from './app/ml-app';
export { LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, LABEL_PART_OF, MlStack, MlStackProps } from './stack/ml-stack';
export { COMPOSE_DIR, IMAGES_DIR, IOutputContributor, MANIFESTS_DIR } from './stack/_output';

// Errors the constructs throw: bad props (MlInputError), an app that would not deploy (MlValidationError).
export { MlInputError, MlValidationError } from './_errors';

// Images: what a workload runs, and the Python images the app builds.
export { IImage } from './image/_image-build';
export { DEFAULT_PYTHON_BASE, DEFAULT_PYTHON_UID, PythonImage, PythonImageOptions } from './image/python-image';

// Models: where the weights come from, and the TF Serving images that bake them in.
export {
  DEFAULT_DOWNLOADER_IMAGE,
  FromTrainingJobOptions,
  HuggingFaceCacheOptions,
  HuggingFaceOptions,
  IModelProducer,
  ModelSource,
  ModelUriOptions,
  ModelVolumeOptions,
} from './model/model-source';
export { DEFAULT_TF_SERVING_VERSION, ModelImage, ModelImageOptions, TF_SERVING_UID } from './model/model-image';

// Pod settings every workload takes: env, resources, scheduling.
export { EnvFrom, EnvMap, EnvValue } from './workload/env';
export { ResourcesProps } from './workload/resources';
export { SchedulingProps, TaintEffect, Toleration, TolerationOptions } from './workload/scheduling';
export { ServiceAccountOptions } from './workload/_pod';
export { IWorkload } from './policy/_network';

// Serving: the props every server shares, how it is reached, scaled and rolled out.
export {
  AllowFromOptions,
  HealthCheckOptions,
  MetricsOptions,
  RolloutOptions,
  ServedWorkloadProps,
  ServerPort,
} from './serving/_server';
export {
  Exposure,
  GatewayGrpcOptions,
  GatewayOptions,
  GatewayRef,
  IngressGrpcOptions,
  IngressOptions,
  LoadBalancerOptions,
} from './serving/exposure';
export {
  AutoscalingBehavior,
  AutoscalingOptions,
  ExternalMetricOptions,
  Metric,
  MetricQuantity,
  PodsMetricOptions,
  ResourceMetricTarget,
  ScalingPolicy,
  ScalingRules,
} from './serving/autoscaling';
export { CanaryChange, CanaryOptions, TRACK_LABEL } from './serving/canary';
export { TRAFFIC_SPLIT_ANNOTATION } from './check/k8s';

// Model servers: the interface frontends wire to, the base class of every served workload, and the three servers.
export { IModelServer } from './serving/model-server';
export { ServedWorkload } from './serving/_served-workload';
export { InferenceService, InferenceServiceProps } from './serving/inference-service';
export {
  BatchingOptions,
  PredictUrlOptions,
  TF_SERVING_GRPC_PORT,
  TF_SERVING_REST_PORT,
  TfServingBackend,
  TfServingBackendProps,
  TfServingModel,
  VersionPolicy,
} from './serving/tf-serving-backend';
export { DEFAULT_VLLM_VERSION, IOpenAiServer, LLM_SERVER_UID, LlmServer, LlmServerProps, VLLM_PORT } from './serving/llm-server';

// Frontends.
export { FlaskFrontend, FlaskFrontendProps } from './frontend/flask-frontend';

// Delivery with Argo CD.
export { ARGOCD_PLUGIN_NAME, ArgoCdApplication, ArgoCdApplicationProps, KUEUE_ADMISSION_IGNORED_FIELDS } from './delivery/argocd-application';

// Training and batch jobs: the jobs, their inputs and outputs, distributed training.
export { JobWorkloadProps, ScheduleOptions } from './training/_job';
export { TrainingJob, TrainingJobProps } from './training/training-job';
export { BatchInferenceJob, BatchInferenceJobProps } from './training/batch-inference-job';
export { Distributed, DistributedOptions } from './training/distributed';
export { ClaimAccessMode, ExistingClaimOptions, ModelOutput, NewClaimOptions } from './training/model-output';
export { DataInput, DataUriOptions, DataVolumeOptions } from './training/data-input';

// The output check (what `cdk8s-ml check` runs): the whole output, manifests, images, compose, network, upgrades.
export {
  AdmittedConnection,
  allowedIngress,
  CHECK_RULES,
  CheckOptions,
  CheckRule,
  checkCompose,
  checkDockerfile,
  checkDockerignore,
  checkManifests,
  checkOutput,
  checkOutputFiles,
  checkUpgrade,
  EndpointRef,
  IntendedConnection,
  immutableFields,
  intendedConnections,
  isConnectionAllowed,
  K8sObject,
  KNOWN_CUSTOM_KINDS,
  NetworkCheckOptions,
  NetworkConnection,
  NEWEST_POD_SECURITY_VERSION,
  OUTSIDE,
  OUTSIDE_IP,
  OutputFiles,
  POD_SECURITY_VERSION,
  parseYamlStream,
  UpgradeProblem,
  UpgradeProblemReason,
  unintendedIngress,
} from './check';

// Reviewing a change (what `cdk8s-ml diff` runs): the diff of two outputs, its hazards and renderers.
export {
  ChangedObjects,
  ConnectionChange,
  ContainerSummary,
  diffOutputDirs,
  diffOutputs,
  FieldChange,
  HAZARD_RULES,
  Hazard,
  HazardId,
  HazardRule,
  MARKDOWN_MARKER,
  ObjectChange,
  OutputDiff,
  ResourceAmounts,
  renderDiffJson,
  renderDiffMarkdown,
  renderDiffText,
  ScaleTotals,
  StackDiff,
  StackNetworkDiff,
  WorkloadChange,
  WorkloadSummary,
} from './diff';
