import * as fs from 'node:fs';
import * as path from 'node:path';
import { IConstruct } from 'constructs';
import { CONTEXT_DIR, CONTEXT_STAGE, contextStage, DEFAULT_DOCKERIGNORE, DockerfileBuilder, ignorePatterns } from './_dockerfile';
import { checkImageRef, IImage, ImageBuilds, WRITABLE_HOME } from './_image-build';
import { checkInt, checkPort, fail, problem } from '../_errors';
import {
  asText,
  checkArgv,
  checkArray,
  checkDnsLabel,
  checkEnvVarName,
  checkImageReference,
  checkKnownKeys,
  checkMap,
  checkRelativePath,
  checkString,
  isPlainObject,
  keysOf,
} from '../_validate';
import { toDnsLabel } from '../_names';

const PYTHON_IMAGE = Symbol.for('cdk8s-ml.PythonImage');

/** The pinned default base; override per image or per build with --build-arg PYTHON_IMAGE=... */
export const DEFAULT_PYTHON_BASE = 'python:3.12.8-slim-bookworm';
/** uid and gid the image's USER and the pods' runAsUser/runAsGroup share. */
export const DEFAULT_PYTHON_UID = 10001;

export interface PythonImageOptions {
  /** Image repository without tag, e.g. 'registry.example.com/and-gate-web'. */
  readonly repository: string;
  /** Pinned tag ('latest' is rejected). */
  readonly tag: string;
  /**
   * Requirements file, relative to the build context; installed in a layer before the code is
   * copied so code changes do not reinstall dependencies.
   * @default 'requirements.txt'
   */
  readonly requirements?: string;
  /**
   * Default of the `PYTHON_IMAGE` build ARG the Dockerfile starts FROM.
   * @default 'python:3.12.8-slim-bookworm'
   */
  readonly baseImage?: string;
  /**
   * Numeric uid (and gid) of the image's USER; the pods' runAsUser/runAsGroup/fsGroup use it too.
   * @default 10001
   */
  readonly uid?: number;
  /**
   * The port the app listens on: EXPOSE in the image and containerPort in the manifests.
   * @default 8080
   */
  readonly port?: number;
  /**
   * The image's CMD. Without it, the CMD is the command of a workload that runs the image (see
   * `command`), else `python app.py`.
   * @default - the command of the first server (FlaskFrontend, InferenceService) that runs the image
   * with one, else of the first job (TrainingJob, BatchInferenceJob), else ['python', 'app.py']
   */
  readonly command?: string[];
  /**
   * Extra ENV baked into the image (never secrets: use env from Secrets on the workload).
   * @default - PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE only
   */
  readonly env?: Record<string, string>;
  /**
   * Extra .dockerignore patterns, on top of the defaults that keep keys, .env, .git, caches and
   * virtualenvs out.
   * @default - the defaults only
   */
  readonly ignore?: string[];
  /**
   * Directory name under images/ in the output and bake target name.
   * @default - the last segment of the repository
   */
  readonly name?: string;
}

const PYTHON_IMAGE_KEYS = keysOf<PythonImageOptions>()([
  'repository',
  'tag',
  'requirements',
  'baseImage',
  'uid',
  'port',
  'command',
  'env',
  'ignore',
  'name',
]);

/** What runs an image: a workload's command (and args), and whether it is a long-running server. */
interface ImageRun {
  readonly scope: IConstruct;
  readonly argv: readonly string[];
  readonly server: boolean;
}

/** The default CMD when neither the image nor any workload names a command. */
const DEFAULT_COMMAND: readonly string[] = ['python', 'app.py'];

/**
 * A Python build context (a directory with the code and a requirements file) and the recipe that
 * turns it into an image: a Dockerfile, its .dockerignore and a bake target, written by synth with
 * exactly the reference the manifests use.
 */
export class PythonImage implements IImage {
  /** A build context on disk; relative paths resolve against the current directory, like cdk8s-plus assets. */
  public static fromDirectory(directory: string, options: PythonImageOptions): PythonImage {
    // Checked when a workload uses the image (the error then names the workload): keep what was given.
    return new PythonImage(typeof directory === 'string' ? path.resolve(directory) : directory, options);
  }

  public static isPythonImage(x: unknown): x is PythonImage {
    return typeof x === 'object' && x !== null && PYTHON_IMAGE in x;
  }

  public readonly imageRef: string;
  public readonly uid: number;
  public readonly gid: number;
  public readonly port: number;
  /** Absolute build context. */
  public readonly directory: string;
  /** Directory name under images/ and bake target. */
  public readonly name: string;
  /** Build ARG that names the base image. */
  public readonly baseImageArg = 'PYTHON_IMAGE';
  /** Working directory of the code inside the image. */
  public readonly workdir = '/app';
  private readonly options: PythonImageOptions;
  private readonly rawOptions: unknown;
  /** Workloads that run the image with a command of their own, in construction order. */
  private readonly runs: ImageRun[] = [];
  /** Ports the servers that run the image serve besides `port` (their extraPorts): EXPOSEd too. */
  private readonly servedPorts = new Set<number>();
  private firstBinder?: IConstruct;
  /** One function object per image: the build registry tells two bindings of this image from two images. */
  private readonly lazyDockerfile = (): string => this.renderDockerfile();

  private constructor(directory: string, options: PythonImageOptions) {
    Object.defineProperty(this, PYTHON_IMAGE, { value: true });
    this.directory = directory;
    // Tolerant of what a JavaScript caller passes: _validate reports it against the workload.
    this.options = (typeof options === 'object' && options !== null ? options : {}) as PythonImageOptions;
    this.rawOptions = options;
    const o = this.options;
    this.imageRef = `${asText(o.repository)}:${asText(o.tag)}`;
    this.uid = o.uid ?? DEFAULT_PYTHON_UID;
    this.gid = this.uid;
    this.port = o.port ?? 8080;
    this.name = o.name ?? toDnsLabel(typeof o.repository === 'string' ? (o.repository.split('/').pop() ?? 'image') : 'image');
  }

  /**
   * The image's CMD, so that `docker run IMAGE` (and compose) runs what the pods run. The rule:
   * 1. the `command` option, when given (workloads with another command state theirs in the manifest);
   * 2. else the command of the first server (FlaskFrontend, InferenceService) that runs the image:
   *    `docker run -p` on the image then serves, answering the probes' paths, like the Deployment;
   * 3. else the command of the first job (TrainingJob, BatchInferenceJob) that runs it;
   * 4. else `python app.py` (synth fails if the build context has no app.py).
   * Every workload keeps its own command in its manifest, so the pod never depends on this choice.
   * A command with `$(VAR)` is not eligible: Kubernetes expands `$(VAR)` in command/args, an image's
   * CMD is run as written. Complete once every workload is constructed (the Dockerfile is rendered at synth).
   */
  public get command(): readonly string[] {
    return this.resolveCommand().argv;
  }

  private resolveCommand(): { argv: readonly string[]; from?: ImageRun } {
    if (this.options.command !== undefined) return { argv: this.options.command };
    const eligible = this.runs.filter((r) => !r.argv.some((a) => /\$\([A-Za-z_][A-Za-z0-9_]*\)/.test(a)));
    const from = eligible.find((r) => r.server) ?? eligible[0];
    return from ? { argv: from.argv, from } : { argv: DEFAULT_COMMAND };
  }

  /** The Dockerfile synth writes for this image. */
  public renderDockerfile(): string {
    const o = this.options;
    const requirements = o.requirements ?? 'requirements.txt';
    const base = `\${${this.baseImageArg}}`;
    const { argv, from } = this.resolveCommand();
    const df = new DockerfileBuilder()
      .comment('Generated by cdk8s-ml. Base image as a build ARG: --build-arg PYTHON_IMAGE=<mirror> to use another.')
      .arg(this.baseImageArg, o.baseImage ?? DEFAULT_PYTHON_BASE);
    contextStage(df, base, ignorePatterns(this.ignoreLines()))
      .from(base)
      // HOME: the uid has no passwd entry (HOME would be /) and the root filesystem is read-only;
      // /tmp is writable in the pods (emptyDir) and under compose (tmpfs). Caches under ~ go there.
      .env({
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        PIP_NO_CACHE_DIR: '1',
        PIP_DISABLE_PIP_VERSION_CHECK: '1',
        ...o.env,
        HOME: WRITABLE_HOME,
      })
      .workdir(this.workdir)
      // Dependencies first: a code change does not invalidate this layer.
      .copy(requirements, './requirements.txt')
      .run('python -m pip install --no-cache-dir -r requirements.txt')
      // The code from the cleaned stage, owned by root and not writable by the app's user.
      .copy(`${CONTEXT_DIR}/`, './', { from: CONTEXT_STAGE })
      .user(this.uid, this.gid)
      // Every port a workload serves from the image, so `docker run -P` and tools that read EXPOSE see them all.
      .expose(this.port, ...[...this.servedPorts].filter((p) => p !== this.port).sort((a, b) => a - b));
    if (o.command === undefined) {
      df.comment(
        from
          ? `CMD: the command of ${from.scope.constructor.name} '${from.scope.node.path}' ` +
              `(the first ${from.server ? 'server' : 'job'} that runs this image; its manifest states it too).`
          : 'CMD: no workload runs this image with a command of its own.',
      );
    }
    return df.cmd(argv).render();
  }

  public renderDockerignore(): string {
    return `${this.ignoreLines().join('\n')}\n`;
  }

  /** One list for both the .dockerignore and the deletions of the context stage. */
  private ignoreLines(): string[] {
    return [...DEFAULT_DOCKERIGNORE, ...(this.options.ignore ?? [])];
  }

  /** @internal */
  public _buildInfo(): { name: string; contextDir: string; args: Record<string, string> } {
    return { name: this.name, contextDir: this.directory, args: { [this.baseImageArg]: this.options.baseImage ?? DEFAULT_PYTHON_BASE } };
  }

  /** @internal */
  public _runWith(scope: IConstruct, argv: readonly string[] | undefined, role: 'server' | 'job', ports: readonly number[] = []): void {
    if (argv && argv.length > 0) this.runs.push({ scope, argv: [...argv], server: role === 'server' });
    for (const p of ports) this.servedPorts.add(p);
  }

  /**
   * The options, as a Dockerfile needs them: every string that reaches it is one line (a newline
   * would start an instruction of its own), names are the API server's or Docker's.
   * @internal
   */
  public _validate(scope: IConstruct): void {
    if (!isPlainObject(this.rawOptions)) {
      fail(
        scope,
        'image',
        'needs options (the second argument of PythonImage.fromDirectory)',
        this.rawOptions,
        "pass { repository: 'registry.example.com/web', tag: '1.0.0' }",
      );
    }
    checkKnownKeys(scope, 'image', this.rawOptions, PYTHON_IMAGE_KEYS);
    const o = this.options;
    if (typeof this.directory !== 'string')
      fail(
        scope,
        'image',
        'needs a build context directory (a path)',
        this.directory,
        "pass the directory of your code, e.g. PythonImage.fromDirectory('web', { repository, tag })",
      );
    checkImageRef(scope, 'image', o.repository, o.tag);
    checkInt(scope, 'image.uid', o.uid, 1, 2147483647);
    checkPort(scope, 'image.port', o.port);
    if (o.baseImage !== undefined) checkImageReference(scope, 'image.baseImage', o.baseImage, { pinned: true, example: DEFAULT_PYTHON_BASE });
    if (o.requirements !== undefined) checkString(scope, 'image.requirements', o.requirements, { example: "'requirements.txt'" });
    checkArgv(scope, 'image.command', o.command, { nonEmpty: true, example: "['python', 'app.py']" });
    checkMap(scope, 'image.env', o.env, "{ HF_HOME: '/tmp/hf' }", (k, v) => {
      checkEnvVarName(scope, 'image.env', k);
      if (k === 'HOME') {
        fail(
          scope,
          'image.env.HOME',
          `is set by the library to ${WRITABLE_HOME}, the one directory every pod can write (read-only root, a uid without a home directory)`,
          v,
          'remove it; point a cache elsewhere with its own variable (HF_HOME, TORCH_HOME, MPLCONFIGDIR)',
        );
      }
      return checkString(scope, `image.env.${k}`, v, { example: "'/tmp/hf'", allowEmpty: true });
    });
    // One pattern a line in the .dockerignore, and an argument of the context stage's RUN.
    checkArray(scope, 'image.ignore', o.ignore, "['data/', '*.ckpt']", (x, prop) => checkString(scope, prop, x, { example: "'data/'" }));
    // The directory under images/ and the bake target.
    if (o.name !== undefined) checkDnsLabel(scope, 'image.name', o.name, 'a directory and bake target name', 'web');
  }

  /** @internal */
  public _bind(scope: IConstruct): void {
    this._validate(scope);
    const o = this.options;
    if (!fs.existsSync(this.directory) || !fs.statSync(this.directory).isDirectory()) {
      fail(
        scope,
        'image',
        'needs an existing build context directory',
        this.directory,
        'create the directory with your code and requirements.txt, or fix the path given to PythonImage.fromDirectory',
      );
    }
    const requirements = o.requirements ?? 'requirements.txt';
    if (path.isAbsolute(requirements) || requirements.split(/[\\/]/).includes('..') || !fs.existsSync(path.join(this.directory, requirements))) {
      fail(
        scope,
        'image.requirements',
        `must name a file inside the build context ${this.directory}`,
        requirements,
        `add ${requirements} to the build context (an empty file is fine), or pass requirements: '<path inside the context>'`,
      );
    }
    // It is a COPY source: a space would split it into two.
    checkRelativePath(scope, 'image.requirements', requirements, 'requirements.txt');
    if (!this.firstBinder) {
      this.firstBinder = scope;
      // After every constructor: a later workload may still give the image its command.
      scope.node.addValidation({ validate: () => this.defaultCommandProblems(scope) });
    }
    ImageBuilds.register(scope, {
      kind: 'PythonImage',
      name: this.name,
      imageRef: this.imageRef,
      contextDir: this.directory,
      dockerfile: this.lazyDockerfile,
      dockerignore: this.renderDockerignore(),
      args: { [this.baseImageArg]: o.baseImage ?? DEFAULT_PYTHON_BASE },
    });
  }

  /** The default CMD names app.py: the context must have it, or the image cannot start. */
  private defaultCommandProblems(scope: IConstruct): string[] {
    const { argv } = this.resolveCommand();
    if (argv !== DEFAULT_COMMAND || fs.existsSync(path.join(this.directory, 'app.py'))) return [];
    return [
      problem(
        scope,
        'image.command',
        `is not set and no workload runs the image with a command, so its CMD would be ${JSON.stringify(DEFAULT_COMMAND)}, ` +
          `but the build context ${this.directory} has no app.py`,
        undefined,
        "pass command: ['python', '<your script>.py'] (or your server's command) to PythonImage.fromDirectory, or give the workload a command",
      ),
    ];
  }
}
