import * as path from 'node:path';
import { IConstruct } from 'constructs';
import { IImage } from '../image/_image-build';
import { WRITABLE_HOME } from '../workload/_pod';
import { COMPOSE_DIR, IOutputContributor } from './_output';
import { MlApp } from './ml-app';
import { MlStack } from './ml-stack';
import { toYamlMapping } from './_yaml';

/** One compose service, derived from the same construct as the Deployment. */
export interface ComposeServiceSpec {
  readonly name: string;
  readonly image: string | IImage;
  /** Container ports (the first is the main one), each published on 127.0.0.1; none for a job. */
  readonly ports: Array<{ readonly name: string; readonly port: number }>;
  /**
   * Compose profiles: a service with a profile starts only when asked for (`--profile train`, or
   * `docker compose run <service>`), as a job runs to completion instead of serving.
   */
  readonly profiles?: string[];
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

const COMPOSE = Symbol.for('cdk8s-ml.Compose');

/**
 * Compose interpolates `$VAR` and `${VAR}` in every value (compose-spec, Interpolation): a literal `$`
 * is written `$$`, so the local env and command stay the cluster's.
 */
export function composeLiteral(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

/**
 * docker-compose.yml for local development, one per stack, from the same constructs as the
 * manifests: same images (with build sections pointing at the generated Dockerfiles), ports, env
 * and model mounts; backend URLs point at compose service names. Written as compose/<stack>.compose.yml
 * (not *.yaml: `cdk8s synth --stdout` prints every *.yaml it finds). Only keys that both
 * docker-compose 1.29 and podman-compose 1.0.3 act on: no top-level `configs` (1.29 ignores them with
 * a warning, podman-compose drops them silently), files are bind mounts instead.
 */
export class StackCompose implements IOutputContributor {
  public static of(scope: IConstruct): StackCompose | undefined {
    const app = MlApp.tryOf(scope);
    if (!app) return undefined;
    const stack = MlStack.of(scope);
    let c: StackCompose = (stack as any)[COMPOSE];
    if (!c) {
      c = new StackCompose(stack.stackName);
      Object.defineProperty(stack, COMPOSE, { value: c });
      app.addOutput(c);
    }
    return c;
  }

  private readonly services: ComposeServiceSpec[] = [];
  private constructor(private readonly stackName: string) {}

  public add(spec: ComposeServiceSpec): void {
    this.services.push(spec);
  }

  /** The compose document (typed model, validated against the compose-spec schema in tests). */
  public toDocument(outdir: string): Record<string, unknown> {
    // No top-level `name`: the compose-spec schema we validate against (and docker-compose 1.29)
    // predate it; run with `docker compose -p <stack> -f compose/<stack>.compose.yml up`.
    return { services: Object.fromEntries(this.serviceEntries(outdir)) };
  }

  /** The entries of the document's `services`, in order, one at a time. */
  private *serviceEntries(outdir: string): Generator<[string, Record<string, unknown>]> {
    const composeDir = path.join(outdir, COMPOSE_DIR);
    const used: UsedPorts = { taken: new Set<number>(), next: new Map<number, number>() };
    const healthy = new Set(this.services.filter((s) => s.healthcheck).map((s) => s.name));
    for (const s of this.services) {
      const image = typeof s.image === 'string' ? s.image : s.image.imageRef;
      const build = typeof s.image === 'string' ? undefined : s.image._buildInfo?.();
      const volumes = [
        ...(s.volumes ?? []).map((v) => ({ type: 'bind', source: v.source, target: v.target, read_only: v.readOnly ?? true })),
        ...(s.files ?? []).map((f) => ({ type: 'bind', source: `./${this.stackName}/${s.name}/${f.name}`, target: f.target, read_only: true })),
      ];
      yield [
        s.name,
        {
          ...(s.profiles && s.profiles.length > 0 ? { profiles: s.profiles } : {}),
          image,
          ...(build
            ? {
                build: {
                  context: rel(composeDir, build.contextDir),
                  dockerfile: rel(build.contextDir, path.join(outdir, 'images', build.name, 'Dockerfile')),
                  ...(Object.keys(build.args).length > 0 ? { args: mapValues(build.args, composeLiteral) } : {}),
                },
              }
            : {}),
          ...(s.command ? { entrypoint: s.command.map(composeLiteral) } : {}),
          ...(s.args && s.args.length > 0 ? { command: s.args.map(composeLiteral) } : {}),
          // HOME as in every pod: the one writable directory under a read-only root (buildPodSpec).
          environment: mapValues({ HOME: WRITABLE_HOME, ...s.environment }, renderValue),
          ...(s.ports.length > 0 ? { ports: s.ports.map((p, i) => publish(s.name, p, i === 0, used)) } : {}),
          user: s.user,
          // Same constraints as the pods: read-only root, scratch /tmp, no privileges.
          read_only: true,
          tmpfs: ['/tmp'],
          cap_drop: ['ALL'],
          security_opt: ['no-new-privileges:true'],
          ...(volumes.length > 0 ? { volumes } : {}),
          ...(s.healthcheck
            ? {
                healthcheck: {
                  test: ['CMD', ...s.healthcheck.test.map(composeLiteral)],
                  interval: '10s',
                  timeout: '5s',
                  retries: 3,
                  start_period: `${s.healthcheck.startPeriodSeconds}s`,
                },
              }
            : {}),
          // compose-spec depends_on `condition`: docker-compose waits for the healthcheck; podman-compose
          // 1.0.3 only orders the start-up (clients must retry, as in the cluster).
          ...(s.dependsOn && s.dependsOn.length > 0
            ? {
                depends_on: Object.fromEntries(s.dependsOn.map((d) => [d, { condition: healthy.has(d) ? 'service_healthy' : 'service_started' }])),
              }
            : {}),
          // compose-spec device reservations (docker-compose >= 1.28 passes them to the engine as --gpus).
          ...(s.gpus ? { deploy: { resources: { reservations: { devices: [{ driver: 'nvidia', count: s.gpus, capabilities: ['gpu'] }] } } } } : {}),
        },
      ];
    }
  }

  public outputFiles(outdir: string): Record<string, string> {
    if (this.services.length === 0) return {};
    // toYaml([this.toDocument(outdir)]), one service at a time (npm run bench: at 10,000 services the
    // whole document and its YAML were the largest part of synth's peak memory).
    const compose = toYamlMapping('services', this.serviceEntries(outdir));
    const files: Record<string, string> = { [`${COMPOSE_DIR}/${this.stackName}.compose.yml`]: compose };
    for (const s of this.services) {
      for (const f of s.files ?? []) files[`${COMPOSE_DIR}/${this.stackName}/${s.name}/${f.name}`] = f.content;
    }
    return files;
  }
}

function renderValue(v: ComposeValue): string {
  return typeof v === 'string' ? composeLiteral(v) : v.fromShell;
}

function mapValues<T>(o: Record<string, T>, f: (v: T) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

/** Host ports published so far, and per container port where the search for a free one resumes. */
interface UsedPorts {
  readonly taken: Set<number>;
  readonly next: Map<number, number>;
}

/**
 * `127.0.0.1:${WEB_PORT:-8080}:8080`: published on loopback only, on the container's port unless
 * another service took it, and movable from the shell when that port is busy on the machine.
 */
function publish(service: string, p: { name: string; port: number }, main: boolean, used: UsedPorts): string {
  // The lowest free host port >= the container's: a scan from where the last one for this port ended
  // (the ports below it stay taken), so N services on one port cost N steps, not N^2/2.
  let host = used.next.get(p.port) ?? p.port;
  while (used.taken.has(host)) host++;
  used.taken.add(host);
  used.next.set(p.port, host + 1);
  const variable = `${service}${main ? '' : `_${p.name}`}_PORT`.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return `127.0.0.1:\${${variable}:-${host}}:${p.port}`;
}

function rel(from: string, to: string): string {
  const r = path.relative(from, to).split(path.sep).join('/');
  return r === '' ? '.' : r;
}
