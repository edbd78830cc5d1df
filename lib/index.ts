// The public API of cdk8s-ml.
export * from './stack/ml-app';
export * from './stack/ml-stack';
export { IOutputContributor, MANIFESTS_DIR, IMAGES_DIR, COMPOSE_DIR } from './stack/_output';
export * from './image/python-image';
export { IImage } from './image/_image-build';
export * from './model/model-source';
export * from './model/model-image';
export * from './workload/env';
export * from './workload/resources';
export { IWorkload } from './policy/_network';
export * from './serving/exposure';
export * from './serving/model-server';
export * from './serving/inference-service';
export * from './serving/tf-serving-backend';
export { AutoscalingOptions, RolloutOptions, ServiceAccountOptions, HealthCheckOptions, ServedWorkloadProps, ServerPort } from './serving/_server';
export * from './frontend/flask-frontend';
export * from './delivery/argocd-application';
