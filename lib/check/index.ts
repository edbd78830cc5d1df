/**
 * The output check: what every test of this library runs on what it synthesizes, what
 * `cdk8s-ml check` runs, and what users can run on their own output or on YAML from other tools
 * (kustomize build, helm template). It catches, before a cluster or a builder does, what neither
 * the Kubernetes schema nor `kubectl apply --dry-run=client` reports: a typo in a field name that
 * the apiserver silently drops, a Service that selects no pods, an env URL naming a Service that
 * does not exist, a pod that Pod Security "restricted" rejects, a Dockerfile running as root.
 *
 * Output directory layout it expects (what `MlApp` writes):
 *   manifests/*.yaml                  Kubernetes multi-document YAML, one file per stack
 *   images/<name>/Dockerfile          + images/<name>/Dockerfile.dockerignore
 *   images/docker-bake.json, images/build.sh
 *   compose/*.yml                     docker compose files
 */
import { checkOutputFiles, readOutputDir } from './files';
import type { CheckOptions } from './k8s';
import { ALL_RULES, CheckRule } from './rules';

export { checkManifests, parseYamlStream } from './k8s';
export type { CheckOptions } from './k8s';
export { NEWEST_POD_SECURITY_VERSION, POD_SECURITY_VERSION } from './k8s-pss';
export type { K8sObject } from './k8s-common';
export type { CheckRule } from './rules';
export { KNOWN_CUSTOM_KINDS, KUBERNETES_VERSIONS, NEWEST_KUBERNETES_VERSION } from './k8s-schema';
export { checkDockerfile, checkDockerignore } from './dockerfile';
export { checkCompose } from './compose';
export { checkOutputFiles } from './files';
/**
 * NetworkPolicy reachability (network.ts): `isConnectionAllowed(objects, 'Deployment/shop/web',
 * 'Deployment/shop/server', 8501)`; `allowedIngress(objects)`, every allowed connection into a
 * workload; `intendedConnections(objects)`, the connections the objects themselves imply (env URLs,
 * Prometheus scrapes, Ingresses, LoadBalancers, Indexed Job peers, object storage);
 * `unintendedIngress(objects)`, what policies admit beyond those. Endpoints are `Kind/ns/name`,
 * `probe:<namespace>` (a pod without labels there), `outside` or `ip:<address>`.
 */
export { allowedIngress, intendedConnections, isConnectionAllowed, OUTSIDE, OUTSIDE_IP, unintendedIngress } from './network';
export type { AdmittedConnection, EndpointRef, IntendedConnection, NetworkCheckOptions, NetworkConnection } from './network';
export type { OutputFiles } from './files';
/** Upgrade safety (upgrade.ts): what applying the next output over the previous one breaks (immutable fields, removed objects). */
export { checkUpgrade, immutableFields } from './upgrade';
export type { UpgradeProblem, UpgradeProblemReason } from './upgrade';

/**
 * Every problem of an output directory on disk, as `checkOutputFiles` reports them; empty = OK.
 * Paths in the problems are relative to dir.
 */
export function checkOutput(dir: string, options: CheckOptions = {}): string[] {
  return checkOutputFiles(readOutputDir(dir), options);
}

/** Every rule id a problem can carry, in the order `cdk8s-ml check --help` lists them (built from the rule objects of rules/). */
export const CHECK_RULES: readonly CheckRule[] = ALL_RULES;
