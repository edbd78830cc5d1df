/**
 * Every rule of `cdk8s-ml check`, one object per rule (id, summary, fix and, for the manifest rules,
 * the check), one file per family. PER_OBJECT_RULES is the order an object's problems come out in.
 */
import { INLINE_CREDENTIALS } from './credentials';
import { DOCKERFILE_RULES } from './dockerfile';
import { DUPLICATE_ENV, ENV_URL } from './env';
import { DNS_1123 } from './names';
import { NETWORK_REACHABILITY } from './network';
import { COMPOSE_SCHEMA, LAYOUT, YAML } from './output';
import { GPU_TOLERATION, HPA_FIXED_REPLICAS, READINESS_PROBE, RWO_CLAIM_REPLICAS } from './ml';
import { IMAGE_TAG, PSS_RESTRICTED, READ_ONLY_ROOT_FS, RESOURCES, STARTS_NON_ROOT } from './pod-security';
import { PORT_RANGE } from './ports';
import { CheckRule, ObjectRule } from './rule';
import { SCHEMA, UNKNOWN_FIELD } from './schema';
import { SERVICE_SELECTOR, SERVICE_TARGET_PORT } from './services';
import { WORKLOAD_SELECTOR } from './workloads';

export type { CheckRule, ObjectInput, ObjectRule } from './rule';
export { envServiceUrlProblems } from './env';
export { imageTagIssue } from './pod-security';
export { mlProblems } from './ml';
export { serviceProblems, TRAFFIC_SPLIT_ANNOTATION } from './services';

/** The rules checked on each object alone, in the order their problems are listed (after schema and unknown-field). */
export const PER_OBJECT_RULES: readonly ObjectRule[] = [
  DNS_1123,
  PORT_RANGE,
  WORKLOAD_SELECTOR,
  PSS_RESTRICTED,
  STARTS_NON_ROOT,
  READ_ONLY_ROOT_FS,
  RESOURCES,
  IMAGE_TAG,
  DUPLICATE_ENV,
  INLINE_CREDENTIALS,
  GPU_TOLERATION,
  READINESS_PROBE,
];

/** Every rule, in the order `cdk8s-ml check --help` lists them. */
export const ALL_RULES: readonly CheckRule[] = [
  SCHEMA,
  UNKNOWN_FIELD,
  DNS_1123,
  PORT_RANGE,
  SERVICE_SELECTOR,
  WORKLOAD_SELECTOR,
  SERVICE_TARGET_PORT,
  ENV_URL,
  DUPLICATE_ENV,
  INLINE_CREDENTIALS,
  NETWORK_REACHABILITY,
  PSS_RESTRICTED,
  STARTS_NON_ROOT,
  READ_ONLY_ROOT_FS,
  RESOURCES,
  IMAGE_TAG,
  RWO_CLAIM_REPLICAS,
  HPA_FIXED_REPLICAS,
  GPU_TOLERATION,
  READINESS_PROBE,
  ...DOCKERFILE_RULES,
  COMPOSE_SCHEMA,
  LAYOUT,
  YAML,
];
