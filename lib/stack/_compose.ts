import * as path from 'path';
import { IConstruct } from 'constructs';
import { IImage } from '../image/_image-build';
import { COMPOSE_DIR, IOutputContributor } from './_output';
import { MlApp } from './ml-app';
import { MlStack } from './ml-stack';
import { toYaml } from './_yaml';

/** One compose service, derived from the same construct as the Deployment. */
export interface ComposeServiceSpec {
  readonly name: string;
  readonly image: string | IImage;
  /** Container port published on 127.0.0.1 (first) and the others. */
  readonly ports: number[];
  readonly command?: string[];
  readonly args?: string[];
  /** Literal env; values of Secrets become ${VAR} from the developer's shell. */
  readonly environment: Record<string, string>;
  /** host path (absolute, or containing ${...}) -> container path, read-only. */
  readonly volumes?: Array<{ source: string; target: string; readOnly?: boolean }>;
  readonly user: string;
  readonly dependsOn?: string[];
  /** Files the service reads (TF Serving's config), written beside the compose file. */
  readonly configs?: Array<{ name: string; content: string; target: string }>;
}

const COMPOSE = Symbol.for('cdk8s-ml.Compose');

/**
 * docker-compose.yml for local development, one per stack, from the same constructs as the
 * manifests: same images (with build sections pointing at the generated Dockerfiles), ports, env
 * and model mounts; backend URLs point at compose service names. Written as compose/<stack>.compose.yml
 * (not *.yaml: `cdk8s synth --stdout` prints every *.yaml it finds).
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
    const composeDir = path.join(outdir, COMPOSE_DIR);
    const used = new Set<number>();
    const services: Record<string, unknown> = {};
    const configs: Record<string, unknown> = {};
    for (const s of this.services) {
      for (const c of s.configs ?? []) configs[`${s.name}-${c.name}`] = { file: `./${this.stackName}/${s.name}/${c.name}` };
      const image = typeof s.image === 'string' ? s.image : s.image.imageRef;
      const build = typeof s.image === 'string' ? undefined : s.image._buildInfo?.();
      const ports = s.ports.map(p => {
        let host = p;
        while (used.has(host)) host++;
        used.add(host);
        return `127.0.0.1:${host}:${p}`;
      });
      services[s.name] = {
        image,
        ...(build ? {
          build: {
            context: rel(composeDir, build.contextDir),
            dockerfile: rel(build.contextDir, path.join(outdir, 'images', build.name, 'Dockerfile')),
            ...(Object.keys(build.args).length > 0 ? { args: build.args } : {}),
          },
        } : {}),
        ...(s.command ? { entrypoint: s.command } : {}),
        ...(s.args && s.args.length > 0 ? { command: s.args } : {}),
        ...(Object.keys(s.environment).length > 0 ? { environment: s.environment } : {}),
        ports,
        user: s.user,
        // Same constraints as the pods: read-only root, scratch /tmp, no privileges.
        read_only: true,
        tmpfs: ['/tmp'],
        cap_drop: ['ALL'],
        security_opt: ['no-new-privileges:true'],
        ...(s.volumes && s.volumes.length > 0 ? {
          volumes: s.volumes.map(v => ({ type: 'bind', source: v.source, target: v.target, read_only: v.readOnly ?? true })),
        } : {}),
        ...(s.configs && s.configs.length > 0 ? { configs: s.configs.map(c => ({ source: `${s.name}-${c.name}`, target: c.target })) } : {}),
        ...(s.dependsOn && s.dependsOn.length > 0 ? { depends_on: s.dependsOn } : {}),
      };
    }
    // No top-level `name`: the compose-spec schema we validate against (and docker-compose 1.29)
    // predate it; run with `docker compose -p <stack> -f compose/<stack>.compose.yml up`.
    return { services, ...(Object.keys(configs).length > 0 ? { configs } : {}) };
  }

  public outputFiles(outdir: string): Record<string, string> {
    if (this.services.length === 0) return {};
    const files: Record<string, string> = { [`${COMPOSE_DIR}/${this.stackName}.compose.yml`]: toYaml([this.toDocument(outdir)]) };
    for (const s of this.services) {
      for (const c of s.configs ?? []) files[`${COMPOSE_DIR}/${this.stackName}/${s.name}/${c.name}`] = c.content;
    }
    return files;
  }
}

function rel(from: string, to: string): string {
  const r = path.relative(from, to).split(path.sep).join('/');
  return r === '' ? '.' : r;
}
