import * as path from 'node:path';
import { WRITABLE_HOME } from '../image/_image-build';
import { ComposeServices, ComposeServiceSpec, ComposeValue, composeLiteral } from '../stack/_compose-spec';
import { COMPOSE_DIR, IOutputContributor } from '../stack/_output';
import { toYamlMapping } from './_yaml';

/**
 * Compose files for local development, two per stack, from the same constructs as the manifests: same
 * images (with build sections pointing at the generated Dockerfiles), ports, env and model mounts;
 * backend URLs point at compose service names. compose/<stack>.compose.yml holds the servers (what
 * `up` starts), compose/<stack>.jobs.compose.yml the jobs, run one at a time with both files:
 * `-f <stack>.compose.yml -f <stack>.jobs.compose.yml run --rm --no-deps <job>`. Not `profiles`:
 * podman-compose 1.0.3 ignores them, and its `run` without --no-deps runs `up` of every service when
 * the job has no depends_on (podman_compose.py, compose_run and get_excluded). *.yml, not *.yaml:
 * `cdk8s synth --stdout` prints every *.yaml it finds. Only keys that both docker-compose 1.29 and
 * podman-compose 1.0.3 act on: no top-level `configs` (1.29 ignores them with a warning,
 * podman-compose drops them silently), files are bind mounts instead; no `networks.aliases`
 * (podman-compose 1.0.3 fails on them), so cluster DNS names written by hand are rewritten.
 */
export class ComposeFile implements IOutputContributor {
  private readonly stackName: string;
  private readonly services: readonly ComposeServiceSpec[];
  private readonly rewrite: (value: string) => string;

  constructor(compose: ComposeServices) {
    this.stackName = compose.stackName;
    this.services = compose.services;
    this.rewrite = clusterNameRewriter(compose.namespaceName, compose.services);
  }

  /** The servers' compose document, or the jobs' (typed model, validated against the compose-spec schema in tests). */
  public toDocument(outdir: string, part: 'servers' | 'jobs' = 'servers'): Record<string, unknown> {
    // No top-level `name`: the compose-spec schema we validate against (and docker-compose 1.29)
    // predate it; run with `docker compose -p <stack> -f compose/<stack>.compose.yml up`.
    return { services: Object.fromEntries(this.serviceEntries(outdir, part)) };
  }

  /** The entries of one document's `services`, in order, one at a time. */
  private *serviceEntries(outdir: string, part: 'servers' | 'jobs'): Generator<[string, Record<string, unknown>]> {
    const used: UsedPorts = { taken: new Set<number>(), next: new Map<number, number>() };
    const healthy = new Set(this.services.filter((s) => s.healthcheck).map((s) => s.name));
    for (const s of this.services) {
      if ((s.job === true) === (part === 'jobs')) yield [s.name, this.serviceEntry(s, outdir, used, healthy)];
    }
  }

  /** One service of the document; `used` collects the host ports published so far. */
  private serviceEntry(s: ComposeServiceSpec, outdir: string, used: UsedPorts, healthy: Set<string>): Record<string, unknown> {
    const image = typeof s.image === 'string' ? s.image : s.image.imageRef;
    const volumes = [
      ...(s.volumes ?? []).map((v) => ({ type: 'bind', source: v.source, target: v.target, read_only: v.readOnly ?? true })),
      ...(s.files ?? []).map((f) => ({ type: 'bind', source: `./${this.stackName}/${s.name}/${f.name}`, target: f.target, read_only: true })),
    ];
    const literal = (v: string) => composeLiteral(this.rewrite(v));
    return {
      image,
      ...buildSection(s, outdir),
      ...(s.command ? { entrypoint: s.command.map(literal) } : {}),
      ...(s.args && s.args.length > 0 ? { command: s.args.map(literal) } : {}),
      // HOME as in every pod: the one writable directory under a read-only root (buildPodSpec).
      environment: mapValues<ComposeValue>({ HOME: WRITABLE_HOME, ...s.environment }, (v) => (typeof v === 'string' ? literal(v) : v.fromShell)),
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
    const files: Record<string, string> = {};
    const stack = this.stackName;
    if (this.services.some((s) => !s.job)) {
      files[`${COMPOSE_DIR}/${stack}.compose.yml`] = toYamlMapping('services', this.serviceEntries(outdir, 'servers'));
    }
    if (this.services.some((s) => s.job)) {
      const servers = this.services.some((s) => !s.job) ? `-f compose/${stack}.compose.yml ` : '';
      files[`${COMPOSE_DIR}/${stack}.jobs.compose.yml`] =
        `# The jobs of ${stack}, which \`up\` does not start. Run one (from dist/, after \`build\` with the same files):\n` +
        `#   docker compose -p ${stack} ${servers}-f compose/${stack}.jobs.compose.yml run --rm --no-deps <job>\n` +
        '# (the same arguments for docker-compose 1.29 and podman-compose 1.0.3)\n' +
        toYamlMapping('services', this.serviceEntries(outdir, 'jobs'));
    }
    for (const s of this.services) {
      for (const f of s.files ?? []) files[`${COMPOSE_DIR}/${stack}/${s.name}/${f.name}`] = f.content;
    }
    return files;
  }
}

/**
 * Rewrites the cluster DNS names of the stack's Services (`<svc>.<ns>`, `<svc>.<ns>.svc`,
 * `<svc>.<ns>.svc.cluster.local`, Kubernetes DNS spec) to the compose service name, and the Service
 * port to the container port (`http://api.ns.svc:80` -> `http://api:8080`): a URL written by hand
 * resolves in compose too. A URL without a port gets the container port of Service port 80 (443 for https).
 */
function clusterNameRewriter(namespace: string, services: readonly ComposeServiceSpec[]): (value: string) => string {
  const servers = new Map(services.filter((s) => s.servicePorts).map((s) => [s.name, s.servicePorts ?? []]));
  if (servers.size === 0) return (v) => v;
  const names = [...servers.keys()].map(escapeRegExp).join('|');
  const re = new RegExp(`(?<![\\w.-])(${names})\\.${escapeRegExp(namespace)}(?:\\.svc(?:\\.cluster\\.local)?)?\\.?(?::(\\d+))?(?![\\w.-])`, 'g');
  return (value) =>
    value.replace(re, (_m, svc: string, port: string | undefined, offset: number) => {
      const ports = servers.get(svc) ?? [];
      const scheme = /(https?):\/\/$/.exec(value.slice(0, offset))?.[1];
      const servicePort = port !== undefined ? Number(port) : scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined;
      const target = ports.find((p) => p.port === servicePort)?.targetPort ?? (port !== undefined ? Number(port) : undefined);
      return target === undefined ? svc : `${svc}:${target}`;
    });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
