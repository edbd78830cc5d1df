import * as path from 'node:path';
import { IConstruct } from 'constructs';
import { fail } from '../_errors';
import { checkImageReference, parseImageReference } from '../_validate';
import { appOutputsOf, IOutputContributor, IMAGES_DIR } from '../stack/_output';
import { appKey, appScoped } from '../stack/_scoped';

/** What it takes to build one image the manifests reference. */
export interface ImageBuildSpec {
  /** The class that made it (PythonImage, ModelImage), for messages. */
  readonly kind: string;
  /** Directory name under images/ and bake target name. */
  readonly name: string;
  /** Exactly the reference the manifests use. */
  readonly imageRef: string;
  /** Absolute build context directory. */
  readonly contextDir: string;
  /** The Dockerfile, or a function that renders it at synth (its CMD may come from a workload constructed later). */
  readonly dockerfile: string | (() => string);
  readonly dockerignore: string;
  /** Build args with their defaults (the base image ARG among them). */
  readonly args: Record<string, string>;
}

/** Something a workload can run: a reference string, or an image the app builds. */
export interface IImage {
  /** The image reference the manifests use (repository:tag or @digest). */
  readonly imageRef: string;
  /** Numeric uid the image runs as (its Dockerfile USER), when the library knows it. */
  readonly uid?: number;
  /** Numeric gid of that USER. */
  readonly gid?: number;
  /** Port the image EXPOSEs, when the library knows it. */
  readonly port?: number;
  /**
   * Register the build files with the app that `scope` belongs to.
   * @internal
   */
  _bind(scope: IConstruct): void;
  /**
   * Throw for bad options of the image (reported against `scope`), before anything reads them.
   * @internal
   */
  _validate?(scope: IConstruct): void;
  /**
   * A workload of `role` runs the image with `argv` (its command, then args; undefined: the image's
   * own), serving `ports` (its containerPorts). Images the app builds may make it their CMD, so
   * `docker run IMAGE` runs what the pod runs, and EXPOSE every port a workload serves.
   * @internal
   */
  _runWith?(scope: IConstruct, argv: readonly string[] | undefined, role: 'server' | 'job', ports?: readonly number[]): void;
  /**
   * Where the image is built from, for compose build sections; undefined for pulled images.
   * @internal
   */
  _buildInfo?(): { name: string; contextDir: string; args: Record<string, string> };
}

/**
 * HOME of every container, and of every image the library builds (ENV HOME). The pods run as a uid
 * without a passwd entry on a read-only root, so HOME is unset or `/`, and libraries that cache under
 * `~` (Hugging Face, torch, matplotlib, pip) fail; /tmp is the scratch emptyDir every pod has.
 */
export const WRITABLE_HOME = '/tmp';

const REGISTRY = appKey<ImageBuilds>('imageBuilds');

/** docker-bake.json: one group building every target. */
interface BakeFile {
  readonly group: { readonly default: { readonly targets: string[] } };
  readonly target: Record<string, { context: string; dockerfile: string; tags: string[]; args?: Record<string, string> }>;
}

/**
 * The images an app builds: collected when workloads bind them, written as images/<name>/Dockerfile,
 * images/<name>/Dockerfile.dockerignore (BuildKit reads `<Dockerfile>.dockerignore`; buildah and
 * podman get it as --ignorefile), one docker-bake.json and a build.sh for docker, podman or buildah.
 */
export class ImageBuilds implements IOutputContributor {
  /** Register `spec` with the app of `scope`; a no-op for plain cdk8s Apps (nothing to write to). */
  public static register(scope: IConstruct, spec: ImageBuildSpec): void {
    const outputs = appOutputsOf(scope);
    if (!outputs) return;
    const reg = appScoped(scope, REGISTRY, () => {
      const builds = new ImageBuilds();
      outputs.add(builds);
      return builds;
    });
    reg.add(scope, spec);
  }

  private readonly specs = new Map<string, ImageBuildSpec>();
  /** The workload that registered each name first: clash messages name it. */
  private readonly firstBinders = new Map<string, IConstruct>();
  /** Other registrations of a name whose Dockerfile is rendered at synth: compared with the first then. */
  private readonly lazyTwins: Array<{ scope: IConstruct; spec: ImageBuildSpec }> = [];

  private add(scope: IConstruct, spec: ImageBuildSpec): void {
    const existing = this.specs.get(spec.name);
    if (!existing) {
      for (const other of this.specs.values()) {
        if (other.imageRef === spec.imageRef) {
          fail(
            scope,
            'image',
            `is built twice from different recipes (${other.name} and ${spec.name})`,
            spec.imageRef,
            'give each build its own repository or tag',
          );
        }
      }
      this.specs.set(spec.name, spec);
      this.firstBinders.set(spec.name, scope);
      return;
    }
    if (
      existing.imageRef !== spec.imageRef ||
      existing.contextDir !== spec.contextDir ||
      (typeof existing.dockerfile === 'string' && typeof spec.dockerfile === 'string' && existing.dockerfile !== spec.dockerfile)
    ) {
      twoImages(scope, this.firstBinders.get(spec.name)!, existing, spec);
    }
    if (existing.dockerfile !== spec.dockerfile) this.lazyTwins.push({ scope, spec });
  }

  public outputFiles(outdir: string): Record<string, string> {
    const files: Record<string, string> = {};
    const imagesDir = path.join(outdir, IMAGES_DIR);
    const specs = [...this.specs.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    if (specs.length === 0) return files;
    for (const twin of this.lazyTwins) {
      const first = this.specs.get(twin.spec.name)!;
      if (render(first.dockerfile) !== render(twin.spec.dockerfile)) twoImages(twin.scope, this.firstBinders.get(first.name)!, first, twin.spec);
    }
    const bake: BakeFile = { group: { default: { targets: specs.map((s) => s.name) } }, target: {} };
    const script: string[] = [
      '#!/usr/bin/env bash',
      '# Generated by cdk8s-ml: builds every image the manifests reference, with exactly their tags.',
      '# BUILDER=docker|podman|buildah (default: the first found). Extra arguments go to every build,',
      '# e.g. --build-arg PYTHON_IMAGE=registry.local/python:3.12-slim to use a mirrored base.',
      'set -euo pipefail',
      'cd "$(dirname "$0")"',
      'BUILDER="${BUILDER:-$(command -v docker >/dev/null && echo docker || (command -v podman >/dev/null && echo podman) || echo buildah)}"',
      'build() {',
      '  local context="$1" dockerfile="$2" tag="$3"; shift 3',
      '  case "$BUILDER" in',
      '    docker) docker build -f "$dockerfile" -t "$tag" "$@" "$context" ;;',
      '    podman) podman build -f "$dockerfile" --ignorefile "$dockerfile.dockerignore" -t "$tag" "$@" "$context" ;;',
      '    buildah) buildah bud -f "$dockerfile" --ignorefile "$dockerfile.dockerignore" -t "$tag" "$@" "$context" ;;',
      '    *) echo "unknown BUILDER=$BUILDER (docker, podman or buildah)" >&2; exit 2 ;;',
      '  esac',
      '}',
    ];
    for (const s of specs) {
      const dockerfileAbs = path.join(imagesDir, s.name, 'Dockerfile');
      files[`${IMAGES_DIR}/${s.name}/Dockerfile`] = render(s.dockerfile);
      files[`${IMAGES_DIR}/${s.name}/Dockerfile.dockerignore`] = s.dockerignore;
      const context = rel(imagesDir, s.contextDir);
      bake.target[s.name] = {
        context,
        // bake resolves the Dockerfile relative to the context
        dockerfile: rel(s.contextDir, dockerfileAbs),
        tags: [s.imageRef],
        ...(Object.keys(s.args).length > 0 ? { args: s.args } : {}),
      };
      script.push(`build ${shellQuote(context)} ${shellQuote(`${s.name}/Dockerfile`)} ${shellQuote(s.imageRef)} "$@"`);
    }
    files[`${IMAGES_DIR}/docker-bake.json`] = `${JSON.stringify(bake, null, 2)}\n`;
    files[`${IMAGES_DIR}/build.sh`] = `${script.join('\n')}\n`;
    return files;
  }
}

function render(dockerfile: string | (() => string)): string {
  return typeof dockerfile === 'string' ? dockerfile : dockerfile();
}

/**
 * Two image objects write one images/<name>: the message names the workloads that use them, what the two share
 * (usually the directory: two fromDirectory calls on it) and where they differ.
 */
function twoImages(scope: IConstruct, firstScope: IConstruct, first: ImageBuildSpec, second: ImageBuildSpec): never {
  const differ = [
    ...(first.imageRef !== second.imageRef ? [`the reference, ${first.imageRef} vs ${second.imageRef}`] : []),
    ...(first.contextDir !== second.contextDir ? [`the directory, ${first.contextDir} vs ${second.contextDir}`] : []),
  ];
  if (differ.length === 0) differ.push(`the Dockerfile, ${dockerfileDifference(render(first.dockerfile), render(second.dockerfile))}`);
  const shared = first.contextDir === second.contextDir ? `, both from the directory ${first.contextDir}` : '';
  fail(
    scope,
    'image',
    `clashes with the ${first.kind} ${firstScope.constructor.name} '${firstScope.node.path}' runs: two different images would be written ` +
      `to ${IMAGES_DIR}/${first.name}${shared}; they differ in ${differ.join(' and in ')}`,
    second.imageRef,
    `make the image once (const image = ${second.kind}.fromDirectory(...)) and pass that one object to both workloads; for two images, ` +
      'give them repositories whose last path segments differ (or a name option)',
  );
}

/** The first instruction where two Dockerfiles differ (comments only when nothing else does), as `"a" vs "b"`. */
function dockerfileDifference(a: string, b: string): string {
  const instructions = (t: string) => t.split('\n').filter((l) => !l.startsWith('#'));
  const [la, lb] = instructions(a).join('\n') !== instructions(b).join('\n') ? [instructions(a), instructions(b)] : [a.split('\n'), b.split('\n')];
  const i = la.findIndex((l, k) => l !== lb[k]);
  const at = i === -1 ? la.length : i;
  return `${JSON.stringify(la[at] ?? '')} vs ${JSON.stringify(lb[at] ?? '')}`;
}

function rel(from: string, to: string): string {
  const r = path.relative(from, to).split(path.sep).join('/');
  return r === '' ? '.' : r;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `repository:tag` checks shared by every image the library builds; errors name the consumer. */
export function checkImageRef(scope: IConstruct, prop: string, repository: unknown, tag: unknown): string {
  // The distribution grammar, lowercase throughout (a registry host in capitals is legal but never needed).
  if (
    typeof repository !== 'string' ||
    !/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(repository) ||
    parseImageReference(`${repository}:x`) === undefined
  ) {
    fail(
      scope,
      `${prop}.repository`,
      'must be a lowercase image repository without a tag',
      repository,
      "use a repository such as 'registry.example.com/team/app' and put the version in tag",
    );
  }
  if (typeof tag !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag) || tag === 'latest') {
    fail(
      scope,
      `${prop}.tag`,
      "must be a pinned tag (not 'latest'; at most 128 of [A-Za-z0-9_.-])",
      tag,
      "use a version such as '1.0.0' or a git commit id, so every rollout is a visible change",
    );
  }
  return `${repository}:${tag}`;
}

/** An image given as a string must be pinned: a tag other than latest, or a digest. */
export function checkImageString(scope: IConstruct, prop: string, image: unknown): string {
  return checkImageReference(scope, prop, image, { pinned: true });
}

/** An image the app builds (PythonImage, ModelImage), told by what the library calls on it. */
export function isImage(x: unknown): x is IImage {
  return typeof x === 'object' && x !== null && typeof (x as IImage).imageRef === 'string' && typeof (x as IImage)._bind === 'function';
}

/** A workload's `image`: a pinned reference string, or an image the app builds (its options checked too). */
export function checkImage(scope: IConstruct, prop: string, v: unknown): string | IImage {
  if (typeof v === 'string') return checkImageString(scope, prop, v);
  if (!isImage(v)) {
    fail(
      scope,
      prop,
      'must be an image reference or an image the app builds (PythonImage)',
      v,
      "pass a pinned reference such as 'registry.example.com/api:1.0.0', or PythonImage.fromDirectory('api', { repository, tag })",
    );
  }
  v._validate?.(scope);
  return v;
}
