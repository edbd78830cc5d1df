/**
 * The reference apps' Python images through every build path the README documents, from build
 * contexts that hold secrets, then run as their manifests run them. The paths are:
 *   - images/build.sh with BUILDER=buildah (buildah bud --ignorefile <Dockerfile>.dockerignore)
 *   - images/build.sh with BUILDER=podman  (podman build --ignorefile <Dockerfile>.dockerignore)
 *   - podman-compose -f compose/<stack>.compose.yml build <service> (podman build WITHOUT any ignore
 *     file of ours: podman-compose 1.0.3 passes none, podman reads only the context's own files)
 *   - on a Docker engine the test starts (Debian's dockerd 20.10, BuildKit; test/e2e/_docker.ts):
 *     images/build.sh with BUILDER=docker (`docker build`, DOCKER_BUILDKIT=1: BuildKit reads
 *     <Dockerfile>.dockerignore itself), `docker buildx bake` in images/ (buildx v0.11.2 built by
 *     scripts/e2e/buildx/build.sh, docker driver), and docker-compose 1.29 build + up of ml-model
 *     (COMPOSE_DOCKER_CLI_BUILD=1: through the docker CLI, so BuildKit too); those images are
 *     listed and run through the same engine.
 * Each context is a copy of the app's source plus .env, id_rsa and key.pem (and nested ones): none
 * of them may be in any image, whatever the path; the files that are in /app are exactly those the
 * .dockerignore keeps (the output check's matcher). Each image then runs with its own CMD (no
 * command override) and with the manifest's command, as the manifest's uid on a read-only root with
 * a /tmp tmpfs and the manifest's literal env: both answer the manifest's liveness path, and HOME is
 * writable in both. One image per recipe shape of the apps: and-gate web (FlaskFrontend, CMD from
 * the frontend; image-classifier's web is the same shape, but needs pillow, which no local base
 * has), ml-model (a command option, a workload without one) and eeg-letters (one image for a server
 * and two jobs, on the scikit-learn base). Binds 127.0.0.1 only; removes what it starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { andGate } from '../../apps/and-gate/main';
import { eegLetters } from '../../apps/eeg-letters/main';
import { mlModel } from '../../apps/ml-model/main';
import { MlApp, ModelImage, PythonImage } from '../../lib';
import { parseYamlStream } from '../../lib/check';
import { dockerfileFacts, isDockerignored } from '../../lib/check/dockerfile';
import { tempDir } from '../_util/synth';
import {
  ContainerHandle,
  DEBIAN_BASE_IMAGE,
  ExecResult,
  PYTHON_BASE_IMAGE,
  PYTHON_SKLEARN_BASE_IMAGE,
  RunOptions,
  cleanup,
  ensureBaseImages,
  ensureTools,
  execInContainer,
  freePort,
  imageBuildEnv,
  imageExists,
  imageFileList,
  removeImage,
  runContainer,
  runTool,
  timed,
  waitForHttp,
} from './_harness';
import { DockerEngine } from './_docker';

jest.setTimeout(60 * 60_000);

const TAG = `e2e-images-${process.pid}`;
/** What the contexts get on top of the app's sources; none may reach an image. */
const SECRET_FILES: Record<string, string> = {
  '.env': 'API_KEY=hunter2\n',
  id_rsa: '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n',
  'key.pem': '-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n',
  'config/.env': 'DB_PASSWORD=hunter2\n',
  '.git/HEAD': 'ref: refs/heads/main\n',
};
const SECRET_NAMES = new Set(['.env', 'id_rsa', 'key.pem']);

const timings: Record<string, number> = {};
const builtTags = new Set<string>();
let workDir: string;

/** One group of stacks synthesized into one output directory, built on one base. */
interface Group {
  readonly outdir: string;
  readonly base: string;
  /** Python images of the group: bake target name -> the service that runs it. */
  readonly images: ImageUnderTest[];
  /** Other images build.sh builds (the and-gate model image), to remove afterwards. */
  readonly otherRefs: string[];
}

interface ImageUnderTest {
  readonly name: string;
  readonly imageRef: string;
  readonly stack: string;
  /** Deployment (and compose service) that runs it */
  readonly service: string;
  readonly contextDir: string;
  readonly dockerignore: string;
  readonly cmd: string[];
  readonly container: any;
  readonly user: string;
}

afterAll(async () => {
  await cleanup();
  for (const ref of builtTags) await removeImage(ref).catch(() => undefined);
  jest.restoreAllMocks();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log(`images e2e timings (ms): ${JSON.stringify(timings)}`);
});

/** A copy of an app's source directory with the secrets added. */
function contextWithSecrets(source: string): string {
  const dir = path.join(workDir, 'contexts', path.relative(path.resolve(__dirname, '../../apps'), source).replace(/[\\/]/g, '-'));
  fs.cpSync(source, dir, { recursive: true });
  for (const [rel, content] of Object.entries(SECRET_FILES)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content, { mode: 0o600 });
  }
  return dir;
}

/** Synthesizes the apps with every image built from a copy of its context (with secrets) and a tag of this run. */
function synthGroup(name: string, base: string, build: (app: MlApp) => void): Group {
  const fromPython = PythonImage.fromDirectory;
  const fromModel = ModelImage.fromDirectory;
  const python = jest
    .spyOn(PythonImage, 'fromDirectory')
    .mockImplementation((dir, options) => fromPython.call(PythonImage, contextWithSecrets(dir), { ...options, tag: TAG }));
  const model = jest
    .spyOn(ModelImage, 'fromDirectory')
    .mockImplementation((dir, options) => fromModel.call(ModelImage, dir, { ...options, tag: TAG }));
  const outdir = path.join(workDir, name, 'dist');
  try {
    const app = new MlApp({ outdir });
    build(app);
    app.synth();
  } finally {
    python.mockRestore();
    model.mockRestore();
  }
  const bake = JSON.parse(fs.readFileSync(path.join(outdir, 'images/docker-bake.json'), 'utf8'));
  const deployments = fs.readdirSync(path.join(outdir, 'manifests')).flatMap((f) =>
    parseYamlStream(fs.readFileSync(path.join(outdir, 'manifests', f), 'utf8'))
      .filter((o: any) => o.kind === 'Deployment')
      .map((o: any) => ({ stack: f.replace(/\.k8s\.yaml$/, ''), o })),
  );
  const images: ImageUnderTest[] = [];
  const otherRefs: string[] = [];
  for (const [target, t] of Object.entries<any>(bake.target)) {
    const imageRef: string = t.tags[0];
    const dockerfile = fs.readFileSync(path.join(outdir, 'images', target, 'Dockerfile'), 'utf8');
    if (!/^ARG PYTHON_IMAGE=/m.test(dockerfile)) {
      otherRefs.push(imageRef);
      continue;
    }
    const runs = deployments.filter((d) => d.o.spec.template.spec.containers[0].image === imageRef);
    expect(runs).toHaveLength(1);
    const { stack, o } = runs[0];
    const pod = o.spec.template.spec;
    images.push({
      name: target,
      imageRef,
      stack,
      service: o.metadata.name,
      contextDir: path.resolve(outdir, 'images', t.context),
      dockerignore: fs.readFileSync(path.join(outdir, 'images', target, 'Dockerfile.dockerignore'), 'utf8'),
      cmd: dockerfileFacts(dockerfile).cmd!,
      container: pod.containers[0],
      user: `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`,
    });
  }
  return { outdir, base, images, otherRefs };
}

/** Where an image is looked at and run: podman (vfs storage, shared with buildah) or a Docker engine. */
interface Engine {
  exists(image: string): boolean | Promise<boolean>;
  fileList(image: string): string[] | Promise<string[]>;
  run(opts: RunOptions): Promise<ContainerHandle>;
  exec(c: ContainerHandle, argv: string[]): Promise<ExecResult>;
  /** An exec-form command as the engine's --entrypoint takes it, the manifest's args after it. */
  entrypoint(command: string[], args: string[]): { entrypoint: string; command: string[] };
}

const PODMAN: Engine = {
  exists: imageExists,
  fileList: imageFileList,
  run: runContainer,
  exec: execInContainer,
  // podman takes an exec-form entrypoint as a JSON array; the manifest's args replace the CMD
  entrypoint: (command, args) => ({ entrypoint: JSON.stringify(command), command: args }),
};

function dockerEngine(docker: DockerEngine): Engine {
  return {
    exists: async (image) =>
      await docker.docker(['image', 'inspect', image]).then(
        () => true,
        () => false,
      ),
    fileList: (image) => docker.fileList(image),
    run: (opts) => docker.run(opts),
    exec: (c, argv) => docker.execIn(c, argv),
    // docker's --entrypoint is one executable: the rest of the command goes before the manifest's args
    entrypoint: (command, args) => ({ entrypoint: command[0], command: [...command.slice(1), ...args] }),
  };
}

/** The literal env of a container, as podman -e takes it (the apps' images need no Secret here). */
function literalEnv(container: any): Record<string, string> {
  return Object.fromEntries((container.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
}

function withoutHome(env: Record<string, string>): Record<string, string> {
  const { HOME: _home, ...rest } = env;
  return rest;
}

/** No secret anywhere in the image, and /app holds exactly the context's files the .dockerignore keeps. */
async function expectNoSecrets(engine: Engine, img: ImageUnderTest, how: string): Promise<void> {
  const files = await engine.fileList(img.imageRef);
  const secrets = files.filter((f) => SECRET_NAMES.has(path.posix.basename(f)) || f.startsWith('app/.git'));
  expect({ how, image: img.name, secrets }).toEqual({ how, image: img.name, secrets: [] });
  const inApp = files.filter((f) => f.startsWith('app/')).map((f) => f.slice('app/'.length));
  const context = listTree(img.contextDir);
  // the context does hold them: the image is clean because of the build, not of the copy
  for (const s of Object.keys(SECRET_FILES)) expect(context).toContain(s);
  const kept = context.filter((f) => !isDockerignored(img.dockerignore, f));
  expect({ how, image: img.name, app: inApp }).toEqual({ how, image: img.name, app: kept });
}

function listTree(root: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(root, rel), { withFileTypes: true })
    .flatMap((e) => {
      const p = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? [p, ...listTree(root, p)] : [p];
    })
    .sort();
}

/**
 * Runs the image as the pod runs it (uid, read-only root, /tmp, literal env), with its own CMD or
 * with the manifest's command; the liveness path answers and HOME is writable.
 */
async function expectServes(engine: Engine, img: ImageUnderTest, how: string, which: 'image CMD' | 'manifest command'): Promise<void> {
  const c = img.container;
  const port = c.ports[0].containerPort;
  const hostPort = await freePort();
  const command: string[] | undefined = c.command;
  const t0 = Date.now();
  const server = await engine.run({
    image: img.imageRef,
    user: img.user,
    readOnly: c.securityContext.readOnlyRootFilesystem,
    tmpfs: c.volumeMounts.filter((m: any) => m.mountPath === '/tmp').map((m: any) => m.mountPath),
    // With its own CMD the image runs as `docker run` would: HOME from its ENV, not from the manifest.
    env: which === 'image CMD' ? withoutHome(literalEnv(c)) : literalEnv(c),
    ports: [{ host: hostPort, container: port }],
    ...(which === 'manifest command' ? engine.entrypoint(command!, c.args ?? []) : {}),
  });
  try {
    const health = await waitForHttp(`http://127.0.0.1:${hostPort}${c.livenessProbe.httpGet.path}`, { timeoutMs: 120_000, container: server });
    expect(health.status).toBe(200);
    timings[`${how}:${img.name}:${which}:untilHealthy`] = Date.now() - t0;
    const home = await engine.exec(server, [
      'python',
      '-c',
      "import os, pathlib; h = pathlib.Path(os.path.expanduser('~')); p = h / '.cache' / " +
        "'probe'; p.parent.mkdir(parents=True, exist_ok=True); p.write_text('ok'); print(h)",
    ]);
    expect({ how, image: img.name, which, exit: home.exitCode, home: home.stdout.trim() }).toEqual({
      how,
      image: img.name,
      which,
      exit: 0,
      home: '/tmp',
    });
  } finally {
    server.remove();
  }
}

async function checkImages(group: Group, how: string, engine = PODMAN): Promise<void> {
  for (const img of group.images) {
    if (engine === PODMAN) builtTags.add(img.imageRef);
    expect(await engine.exists(img.imageRef)).toBe(true);
    await expectNoSecrets(engine, img, how);
    await expectServes(engine, img, how, 'image CMD');
    // ml-model's Deployment states no command: it runs the image's CMD, checked above.
    if (img.container.command) await expectServes(engine, img, how, 'manifest command');
  }
}

async function removeGroupImages(group: Group): Promise<void> {
  for (const ref of [...group.images.map((i) => i.imageRef), ...group.otherRefs]) await removeImage(ref);
}

describe("the reference apps' Python images, built from contexts with secrets through every documented build path", () => {
  let groups: Group[];

  beforeAll(() => {
    let t0 = Date.now();
    ensureTools();
    timings.tools = Date.now() - t0;
    t0 = Date.now();
    ensureBaseImages('python-sklearn'); // and the python and debian bases it derives from
    timings.baseImages = Date.now() - t0;
    workDir = tempDir('cdk8s-ml-e2e-images-');
    groups = [
      // the Flask apps on the python base; build.sh also builds and-gate's model image (on the Debian base)
      synthGroup('flask', PYTHON_BASE_IMAGE, (app) => {
        andGate(app);
        mlModel(app);
      }),
      synthGroup('sklearn', PYTHON_SKLEARN_BASE_IMAGE, (app) => {
        eegLetters(app);
      }),
    ];
    for (const g of groups) for (const ref of g.otherRefs) builtTags.add(ref);
  });

  test("what the test runs: the three images, each CMD the command its Deployment runs (or the image option ml-model's runs)", () => {
    const images = groups.flatMap((g) => g.images);
    expect(images.map((i) => i.name).sort()).toEqual(['and-gate-web', 'eeg-letters', 'ml-model']);
    for (const img of images) {
      expect({ image: img.name, cmd: img.cmd }).toEqual({ image: img.name, cmd: img.container.command ?? img.cmd });
      expect(literalEnv(img.container).HOME).toBe('/tmp');
    }
  });

  for (const builder of ['buildah', 'podman'] as const) {
    test(`images/build.sh with BUILDER=${builder}`, async () => {
      for (const g of groups) {
        const args = [
          '--build-arg',
          `PYTHON_IMAGE=${g.base}`,
          ...(g.otherRefs.length > 0 ? ['--build-arg', `TF_SERVING_IMAGE=${DEBIAN_BASE_IMAGE}`] : []),
        ];
        const { ms } = await timed(() =>
          runTool('bash', [path.join(g.outdir, 'images/build.sh'), ...args], { env: imageBuildEnv({ BUILDER: builder }) }),
        );
        timings[`build.sh ${builder}:${path.basename(path.dirname(g.outdir))}`] = ms;
        await checkImages(g, `build.sh ${builder}`);
        await removeGroupImages(g);
      }
    });
  }

  test('podman-compose build of each service from its compose file (no ignore file reaches podman)', async () => {
    for (const g of groups) {
      for (const img of g.images) {
        const composeFile = path.join(g.outdir, 'compose', `${img.stack}.compose.yml`);
        const service = (parseYamlStream(fs.readFileSync(composeFile, 'utf8'))[0] as any).services[img.service];
        expect(service.image).toBe(img.imageRef);
        expect(service.build.args.PYTHON_IMAGE).toBe('python:3.12.8-slim-bookworm');
        // The compose file's base ARG names the registry image; podman-compose's own --build-arg comes
        // after the compose file's args, and the last one wins: the local base.
        // compose interpolates the whole file first: the API's model mount needs MODELS_DIR set
        const { ms } = await timed(() =>
          runTool('podman-compose', ['-f', composeFile, '-p', `${img.stack}-${TAG}`, 'build', '--build-arg', `PYTHON_IMAGE=${g.base}`, img.service], {
            env: imageBuildEnv({ MODELS_DIR: workDir }),
          }),
        );
        timings[`podman-compose:${img.name}`] = ms;
      }
      await checkImages(g, 'podman-compose');
      await removeGroupImages(g).catch(() => undefined);
    }
  });
  /**
   * The path most users take: a Docker engine (dockerd 20.10, BuildKit), started by the test on a
   * socket of its own (test/e2e/_docker.ts). The local bases are copied into it under the names the
   * builds' base ARGs give; the images are then looked at and run through the same engine.
   */
  describe('through a Docker engine (BuildKit)', () => {
    let docker: DockerEngine;
    let engine: Engine;

    beforeAll(async () => {
      const t0 = Date.now();
      docker = await DockerEngine.start({ buildx: true });
      timings['docker:start+buildx'] = Date.now() - t0;
      engine = dockerEngine(docker);
      for (const base of [PYTHON_SKLEARN_BASE_IMAGE, PYTHON_BASE_IMAGE, DEBIAN_BASE_IMAGE]) {
        timings[`docker:load ${base}`] = (await timed(() => docker.loadImage(base))).ms;
      }
    });

    afterAll(async () => {
      await docker?.stop();
    });

    const baseArgs = (g: Group): string[] => [
      '--build-arg',
      `PYTHON_IMAGE=${g.base}`,
      ...(g.otherRefs.length > 0 ? ['--build-arg', `TF_SERVING_IMAGE=${DEBIAN_BASE_IMAGE}`] : []),
    ];
    const removeFromDocker = (g: Group) => docker.docker(['rmi', '-f', ...g.images.map((i) => i.imageRef), ...g.otherRefs]);

    test('images/build.sh with BUILDER=docker: docker build with BuildKit, which reads Dockerfile.dockerignore', async () => {
      for (const g of groups) {
        const { ms } = await timed(() =>
          runTool('bash', [path.join(g.outdir, 'images/build.sh'), ...baseArgs(g)], { env: { ...docker.env, BUILDER: 'docker' } }),
        );
        timings[`docker build:${path.basename(path.dirname(g.outdir))}`] = ms;
        await checkImages(g, 'docker build', engine);
        await removeFromDocker(g);
      }
    });

    test("docker buildx bake in images/ (the docker driver: the daemon's BuildKit and image store)", async () => {
      for (const g of groups) {
        const images = path.join(g.outdir, 'images');
        const set = [
          '--set',
          `*.args.PYTHON_IMAGE=${g.base}`,
          ...(g.otherRefs.length > 0 ? ['--set', `*.args.TF_SERVING_IMAGE=${DEBIAN_BASE_IMAGE}`] : []),
        ];
        const { value: res, ms } = await timed(() => docker.docker(['buildx', 'bake', '--progress', 'plain', '--no-cache', ...set], { cwd: images }));
        timings[`docker buildx bake:${path.basename(path.dirname(g.outdir))}`] = ms;
        expect(res.output).not.toMatch(/pulling|resolve docker\.io/i);
        await checkImages(g, 'docker buildx bake', engine);
        await removeFromDocker(g);
      }
    });

    test('docker-compose 1.29 build and up of ml-model against dockerd (its builds through the docker CLI: BuildKit)', async () => {
      const g = groups[0];
      const img = g.images.find((i) => i.name === 'ml-model')!;
      const composeDir = path.join(g.outdir, 'compose');
      const file = `${img.stack}.compose.yml`;
      const service = (parseYamlStream(fs.readFileSync(path.join(composeDir, file), 'utf8'))[0] as any).services[img.service];
      const portVar = /^127\.0\.0\.1:\$\{(\w+):-\d+\}:\d+$/.exec(service.ports[0])![1];
      const port = await freePort();
      // COMPOSE_DOCKER_CLI_BUILD: compose 1.29 builds with `docker build` (BuildKit, Dockerfile.dockerignore)
      // instead of docker-py's legacy builder, which reads only the context's .dockerignore
      const env = { ...docker.env, COMPOSE_DOCKER_CLI_BUILD: '1', [portVar]: String(port) };
      const project = `cdk8s-ml-e2e-docker-${process.pid}`;
      const compose = (args: string[]) => runTool('docker-compose', ['-p', project, '-f', file, ...args], { env, cwd: composeDir });
      try {
        timings['docker-compose build:ml-model'] = (
          await timed(() => compose(['build', '--no-cache', '--build-arg', `PYTHON_IMAGE=${g.base}`, img.service]))
        ).ms;
        await expectNoSecrets(engine, img, 'docker-compose');
        const t0 = Date.now();
        await compose(['up', '-d', '--no-build', img.service]);
        const health = await waitForHttp(`http://127.0.0.1:${port}${img.container.livenessProbe.httpGet.path}`, { timeoutMs: 120_000 });
        expect(health.status).toBe(200);
        timings['docker-compose up:ml-model:untilHealthy'] = Date.now() - t0;
        const id = (await compose(['ps', '-q', img.service])).stdout.trim();
        const inspect = JSON.parse((await docker.docker(['inspect', id])).stdout)[0];
        expect({
          user: inspect.Config.User,
          readOnly: inspect.HostConfig.ReadonlyRootfs,
          tmpfs: Object.keys(inspect.HostConfig.Tmpfs ?? {}),
        }).toEqual({ user: img.user, readOnly: true, tmpfs: ['/tmp'] });
      } finally {
        await compose(['down', '--volumes', '--rmi', 'all', '--timeout', '0']).catch(() => undefined);
      }
    });
  });
});
