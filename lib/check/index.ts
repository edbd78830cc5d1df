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
import { POD_SECURITY_VERSION } from './k8s-pss';

export { checkManifests, parseYamlStream } from './k8s';
export type { CheckOptions } from './k8s';
export { NEWEST_POD_SECURITY_VERSION, POD_SECURITY_VERSION } from './k8s-pss';
export type { K8sObject } from './k8s-common';
export { KNOWN_CUSTOM_KINDS } from './k8s-schema';
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

/** A rule of the check: the id every problem line names, and what it guards against. */
export interface CheckRule {
  readonly id: string;
  readonly summary: string;
}

/** Every rule id a problem can carry, in the order `cdk8s-ml check --help` lists them. */
export const CHECK_RULES: readonly CheckRule[] = [
  {
    id: 'schema',
    summary:
      'the Kubernetes OpenAPI schema (types, enums, required fields), apiVersions current Kubernetes serves, and what the apiserver validates beyond it',
  },
  { id: 'unknown-field', summary: 'a field the type does not have (a typo the apiserver would silently drop)' },
  { id: 'dns-1123', summary: 'names, label keys/values, annotation and data keys, hosts and port names the apiserver would reject' },
  { id: 'port-range', summary: 'ports outside 1..65535, named ports that are not IANA_SVC_NAMEs' },
  { id: 'service-selector', summary: 'a Service must select the pods of exactly one workload' },
  { id: 'workload-selector', summary: "a workload's selector must match its own pod template" },
  { id: 'service-target-port', summary: 'every Service port lands on a container port of the selected pods' },
  { id: 'env-url', summary: 'in-cluster URLs in env name a Service that exists, on a port it exposes' },
  { id: 'duplicate-env', summary: 'a container lists each env variable once (server-side apply rejects a duplicate)' },
  {
    id: 'network-reachability',
    summary:
      'NetworkPolicies admit every connection the objects imply: env URLs to Services, Prometheus scrapes, Ingress and LoadBalancer traffic, Indexed Job peers, object storage',
  },
  {
    id: 'pss-restricted',
    summary: `Pod Security Standards "restricted" (which rejects the pod at admission), at the version the namespace enforces (default ${POD_SECURITY_VERSION})`,
  },
  { id: 'starts-non-root', summary: 'runAsNonRoot with a numeric non-zero runAsUser, so the kubelet can start it' },
  { id: 'read-only-root-fs', summary: 'readOnlyRootFilesystem: true' },
  { id: 'resources', summary: 'cpu/memory requests and memory limits on every container' },
  { id: 'image-tag', summary: 'images pinned by tag or digest, not latest or untagged' },
  { id: 'dockerfile-utils', summary: 'Dockerfile syntax (dockerfile-utils errors and warnings)' },
  { id: 'base-image-arg', summary: 'FROM is a build ARG with a pinned default, so mirrors can override it' },
  { id: 'user', summary: 'the image runs as a numeric non-root USER' },
  { id: 'add-url', summary: 'no ADD of a URL (an unverified download)' },
  { id: 'copy-secret', summary: 'no COPY/ADD of keys, certificates or .env files' },
  { id: 'reserved-stage-name', summary: 'no build stage named context or scratch, which BuildKit reserves (ReservedStageName)' },
  { id: 'dockerignore', summary: '.dockerignore keeps .git, .env, keys, __pycache__ and virtualenvs out of the build context' },
  { id: 'compose-schema', summary: 'the Compose Specification JSON schema' },
  {
    id: 'layout',
    summary: 'output directory layout: only manifests/*.yaml are manifests; every image has its build files; diagrams/*.md hold a mermaid block',
  },
  { id: 'yaml', summary: 'the file is not valid YAML (duplicate keys included)' },
];
