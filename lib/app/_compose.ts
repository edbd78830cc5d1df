import * as path from 'node:path';
import { WRITABLE_HOME } from '../image/_image-build';
import { ComposeServices, ComposeServiceSpec, ComposeValue, composeLiteral } from '../stack/_compose-spec';
import { COMPOSE_DIR, IOutputContributor } from '../stack/_output';
import { toYamlMapping } from './_yaml';

/**
 * docker-compose.yml for local development, one per stack, from the same constructs as the
 * manifests: same images (with build sections pointing at the generated Dockerfiles), ports, env
 * and model mounts; backend URLs point at compose service names. Written as compose/<stack>.compose.yml
 * (not *.yaml: `cdk8s synth --stdout` prints every *.yaml it finds). Only keys that both
 * docker-compose 1.29 and podman-compose 1.0.3 act on: no top-level `configs` (1.29 ignores them with
 * a warning, podman-compose drops them silently), files are bind mounts instead.
 */
export class ComposeFile implements IOutputContributor {
  private readonly stackName: string;
  private readonly services: readonly ComposeServiceSpec[];

  constructor(compose: ComposeServices) {
    this.stackName = compose.stackName;
    this.services = compose.services;
  }

  /** The compose document (typed model, validated against the compose-spec schema in tests). */
  public toDocument(outdir: string): Record<string, unknown> {
    // No top-level `name`: the compose-spec schema we validate against (and docker-compose 1.29)
    // predate it; run with `docker compose -p <stack> -f compose/<stack>.compose.yml up`.
    return { services: Object.fromEntries(this.serviceEntries(outdir)) };
  }

  /** The entries of the document's `services`, in order, one at a time. */
  private *serviceEntries(outdir: string): Generator<[string, Record<string, unknown>]> {
    const used: UsedPorts = { taken: new Set<number>(), next: new Map<number, number>() };
    const healthy = new Set(this.services.filter((s) => s.healthcheck).map((s) => s.name));
    for (const s of this.services) yield [s.name, this.serviceEntry(s, outdir, used, healthy)];
  }

  /** One service of the document; `used` collects the host ports published so far. */
  private serviceEntry(s: ComposeServiceSpec, outdir: string, used: UsedPorts, healthy: Set<string>): Record<string, unknown> {
    const image = typeof s.image === 'string' ? s.image : s.image.imageRef;
    const volumes = [
      ...(s.volumes ?? []).map((v) => ({ type: 'bind', source: v.source, target: v.target, read_only: v.readOnly ?? true })),
      ...(s.files ?? []).map((f) => ({ type: 'bind', source: `./${this.stackName}/${s.name}/${f.name}`, target: f.target, read_only: true })),
    ];
    return {
      ...(s.profiles && s.profiles.length > 0 ? { profiles: s.profiles } : {}),
      image,
      ...buildSection(s, outdir),
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
      ...healthcheckSection(s),
      // compose-spec depends_on `condition`: docker-compose waits for the healthcheck; podman-compose
      // 1.0.3 only orders the start-up (clients must retry, as in the cluster).
      ...(s.dependsOn && s.dependsOn.length > 0
        ? {
            depends_on: Object.fromEntries(s.dependsOn.map((d) => [d, { condition: healthy.has(d) ? 'service_healthy' : 'service_started' }])),
          }
        : {}),
      // compose-spec device reservations (docker-compose >= 1.28 passes them to the engine as --gpus).
      ...(s.gpus ? { deploy: { resources: { reservations: { devices: [{ driver: 'nvidia', count: s.gpus, capabilities: ['gpu'] }] } } } } : {}),
    };
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

/** The `build` section of an image the app builds: the generated Dockerfile and its context; none for a pulled image. */
function buildSection(s: ComposeServiceSpec, outdir: string): Record<string, unknown> {
  const build = typeof s.image === 'string' ? undefined : s.image._buildInfo?.();
  if (!build) return {};
  const composeDir = path.join(outdir, COMPOSE_DIR);
  return {
    build: {
      context: rel(composeDir, build.contextDir),
      dockerfile: rel(build.contextDir, path.join(outdir, 'images', build.name, 'Dockerfile')),
      ...(Object.keys(build.args).length > 0 ? { args: mapValues(build.args, composeLiteral) } : {}),
    },
  };
}

function healthcheckSection(s: ComposeServiceSpec): Record<string, unknown> {
  if (!s.healthcheck) return {};
  return {
    healthcheck: {
      test: ['CMD', ...s.healthcheck.test.map(composeLiteral)],
      interval: '10s',
      timeout: '5s',
      retries: 3,
      start_period: `${s.healthcheck.startPeriodSeconds}s`,
    },
  };
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
