/**
 * What a workload contributes to its stack's compose file (local development): the same image, ports,
 * env and mounts as its Deployment or Job. Workloads add these through the ground (StackCompose, in
 * ./_compose.ts); the app renders them (lib/app/_compose.ts).
 */

/** An image as compose sees it: its reference, and where it is built from when the app builds it. */
export interface ComposeImage {
  readonly imageRef: string;
  /** Where the image is built from, for compose build sections; undefined for pulled images. */
  _buildInfo?(): { name: string; contextDir: string; args: Record<string, string> };
}

/** One compose service, derived from the same construct as the Deployment. */
export interface ComposeServiceSpec {
  readonly name: string;
  readonly image: string | ComposeImage;
  /** Container ports (the first is the main one), each published on 127.0.0.1; none for a job. */
  readonly ports: Array<{ readonly name: string; readonly port: number }>;
  /**
   * A job (runs to completion): written to compose/<stack>.jobs.compose.yml, not to the file `up` starts.
   * Not compose `profiles`: podman-compose 1.0.3 ignores them and would start every job on `up`.
   */
  readonly job?: boolean;
  /**
   * The Service's ports (port -> container port) of a server: a cluster DNS name written by hand
   * (`http://<svc>.<ns>.svc.cluster.local:<port>`) is rewritten to `http://<svc>:<container port>`.
   */
  readonly servicePorts?: ReadonlyArray<{ readonly port: number; readonly targetPort: number }>;
  readonly command?: string[];
  readonly args?: string[];
  /** Env of the service: literal values, or references to the developer's shell (Secrets). */
  readonly environment: Record<string, ComposeValue>;
  /** host path (absolute, or containing ${...}) -> container path, read-only unless readOnly is false. */
  readonly volumes?: Array<{ source: string; target: string; readOnly?: boolean }>;
  readonly user: string;
  /** Services this one calls: it starts once they are healthy (or started, when they have no healthcheck). */
  readonly dependsOn?: string[];
  /** Files the service reads (TF Serving's config), written beside the compose file and bind-mounted. */
  readonly files?: Array<{ name: string; content: string; target: string }>;
  /** Healthcheck command run inside the container (the readiness probe, with a tool the image has). */
  readonly healthcheck?: { readonly test: string[]; readonly startPeriodSeconds: number };
  /** GPUs to reserve (NVIDIA). */
  readonly gpus?: number;
}

/** A literal value (a `$` in it stays a `$`) or a `${VAR...}` reference compose fills from the shell. */
export type ComposeValue = string | { readonly fromShell: string };

/** The compose services of one stack, in the order its workloads added them. */
export interface ComposeServices {
  readonly stackName: string;
  /** The stack's namespace: the `<ns>` of the cluster DNS names that compose rewrites. */
  readonly namespaceName: string;
  readonly services: readonly ComposeServiceSpec[];
}

/**
 * Compose interpolates `$VAR` and `${VAR}` in every value (compose-spec, Interpolation): a literal `$`
 * is written `$$`, so the local env and command stay the cluster's.
 */
export function composeLiteral(value: string): string {
  return value.replace(/\$/g, '$$$$');
}
