// The public API of cdk8s-ml.
export * from './stack/ml-app';
export { MlInputError, MlValidationError } from './_errors';
export { LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, LABEL_PART_OF, MlStack, MlStackProps } from './stack/ml-stack';
export { IOutputContributor, MANIFESTS_DIR, IMAGES_DIR, COMPOSE_DIR } from './stack/_output';
export * from './image/python-image';
export { IImage } from './image/_image-build';
export {
  DEFAULT_DOWNLOADER_IMAGE,
  FromTrainingJobOptions,
  IModelProducer,
  ModelSource,
  ModelUriOptions,
  ModelVolumeOptions,
} from './model/model-source';
export { HuggingFaceCacheOptions, HuggingFaceOptions } from './model/model-source';
export * from './model/model-image';
export { EnvFrom, EnvMap, EnvValue } from './workload/env';
export { ResourcesProps } from './workload/resources';
export { SchedulingProps, TaintEffect, Toleration, TolerationOptions } from './workload/scheduling';
export { IWorkload } from './policy/_network';
export * from './serving/exposure';
export { CanaryChange, CanaryOptions, REPLICA_RATIO_TOLERANCE, TRACK_LABEL, TRAFFIC_SPLIT_ANNOTATION } from './serving/canary';
export {
  AutoscalingBehavior,
  ExternalMetricOptions,
  Metric,
  MetricQuantity,
  PodsMetricOptions,
  ResourceMetricTarget,
  ScalingPolicy,
  ScalingRules,
} from './serving/autoscaling';
export * from './serving/model-server';
export * from './serving/inference-service';
export * from './serving/tf-serving-backend';
export * from './serving/llm-server';
export {
  AllowFromOptions,
  AutoscalingOptions,
  MetricsOptions,
  RolloutOptions,
  ServiceAccountOptions,
  HealthCheckOptions,
  ServedWorkloadProps,
  ServerPort,
} from './serving/_server';
export * from './frontend/flask-frontend';
export * from './delivery/argocd-application';
export * from './training/training-job';
export * from './training/batch-inference-job';
export { Distributed, DistributedOptions } from './training/distributed';
export { ClaimAccessMode, ExistingClaimOptions, ModelOutput, NewClaimOptions } from './training/model-output';
export { DataInput, DataUriOptions, DataVolumeOptions } from './training/data-input';
export { JobWorkloadProps, ScheduleOptions } from './training/_job';
export * from './check';
export * from './diff';
