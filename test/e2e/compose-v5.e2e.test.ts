/**
 * Today's Docker Compose (issue 22, finding 4): github.com/docker/compose/v5 at the version
 * scripts/e2e/compose/go.mod pins, built from the Go module proxy by scripts/e2e/compose/build.sh (cached),
 * run standalone as `docker-compose` against podman's Docker-compatible API: `podman system service`
 * on a socket of this test's own (DOCKER_HOST), stopped after. eeg-letters as in compose-tools.e2e:
 * `config` of the two files merged keeps every key and warns of nothing; `up -d` of the servers' file
 * starts the API alone; the training job runs by the command the jobs file documents and completes,
 * and the API then serves its model. Binds 127.0.0.1 only, on a free port; removes what it starts.
 *
 * Settings for compose v5 over podman 4.3's API:
 * - DOCKER_BUILDKIT=0: compose builds with bake when BuildKit is on and a buildx plugin is found
 *   (pkg/compose/build_bake.go, buildWithBake); podman's API has no BuildKit, so the classic builder
 *   (POST /build, which podman serves with buildah) is the one that works, and 0 also silences the
 *   "buildx plugin not found" warning. DOCKER_CONFIG: an empty one of ours, so no user config or plugin counts.
 * - The image is built with podman-compose as in compose-tools.e2e, not by compose v5: `build` through
 *   podman's API works (DOCKER_BUILDKIT=0, 8.7 min here) but podman's compat build endpoint keeps every
 *   step as an untagged image for a Docker client (layers default on when the request does not say),
 *   and on vfs each one is a full copy; BUILDAH_LAYERS does not reach it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { buildReferenceApps } from '../../apps/main';
import { MlApp } from '../../lib';
import { parseYamlStream } from '../../lib/check';
import { tempDir } from '../_util/synth';
import {
  type ExecResult,
  PYTHON_SKLEARN_BASE_IMAGE,
  SCRIPTS_DIR,
  chownForContainer,
  composeTool,
  ensureBaseImages,
  ensureTools,
  freePort,
  podmanComposeEnv,
  removeImage,
  timed,
  waitForHttp,
} from './_harness';

jest.setTimeout(40 * 60_000);

const STACK = 'eeg-letters';
const SERVERS = `compose/${STACK}.compose.yml`;
const JOBS = `compose/${STACK}.jobs.compose.yml`;
const timings: Record<string, number> = {};
const work = tempDir('cdk8s-ml-compose-v5-');
const outdir = path.join(work, 'dist');
const socket = path.join(work, 'podman.sock');
const project = `cdk8s-ml-e2e-v5-${process.pid}`;
let compose = '';
let service: ChildProcess | undefined;
let env: NodeJS.ProcessEnv = {};
let image: string | undefined;

beforeAll(async () => {
  buildReferenceApps(new MlApp({ outdir })).synth();
  ensureTools();
  timings.composeBuild = (await timed(() => (compose = buildCompose()))).ms;
  env = {
    ...podmanComposeEnv(),
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_BUILDKIT: '0',
    DOCKER_CONFIG: fs.mkdtempSync(path.join(work, 'docker-config-')),
  };
  timings.service = (await timed(() => startService())).ms;
});

afterAll(async () => {
  if (service) {
    v5(['-p', project, '-f', SERVERS, '-f', JOBS, 'down', '--volumes', '--remove-orphans', '-t', '0'], {}, 180_000);
    await stopService();
  }
  spawnSync('podman', ['network', 'rm', '-f', `${project}_default`], { env, stdio: 'ignore' });
  if (image) await removeImage(image).catch(() => undefined);
  fs.rmSync(work, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log(`compose v5 e2e timings (ms): ${JSON.stringify(timings)}`);
});

/** scripts/e2e/compose/build.sh: the pinned docker-compose, built once into the e2e cache; its path. */
function buildCompose(): string {
  const res = spawnSync('bash', [path.join(SCRIPTS_DIR, 'compose', 'build.sh')], { encoding: 'utf8', timeout: 20 * 60_000 });
  if (res.status !== 0) throw new Error(`scripts/e2e/compose/build.sh failed (exit ${res.status ?? res.signal}):\n${res.stderr}`);
  return res.stdout.trim().split('\n').pop()!;
}

/** podman's Docker-compatible API on our socket; resolves once it answers /_ping. */
async function startService(): Promise<void> {
  const log = fs.openSync(path.join(work, 'podman-service.log'), 'w');
  service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { env, stdio: ['ignore', log, log] });
  service.once('error', () => undefined); // reported below: the socket never answers
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (service.exitCode !== null) break;
    if (await ping()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const logText = fs.readFileSync(path.join(work, 'podman-service.log'), 'utf8');
  throw new Error(`podman system service did not answer on ${socket} (exit ${service.exitCode}):\n${logText.slice(-2000)}`);
}

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

async function stopService(): Promise<void> {
  const s = service!;
  service = undefined;
  if (s.exitCode !== null) return;
  const exited = new Promise((r) => s.once('exit', r));
  s.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (s.exitCode === null) s.kill('SIGKILL');
}

/** The built docker-compose, standalone, on podman's socket; never throws on exit status. */
function v5(args: readonly string[], extra: Record<string, string> = {}, timeoutMs = 10 * 60_000): ExecResult {
  const res = spawnSync(compose, args, { cwd: outdir, env: { ...env, ...extra }, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (res.error) throw new Error(`${compose} could not run (${res.error.message}): scripts/e2e/compose/build.sh builds it`);
  return { exitCode: res.status ?? -1, stdout: res.stdout ?? '', stderr: res.stderr ?? '', output: `${res.stdout ?? ''}${res.stderr ?? ''}` };
}

/** Names of this project's containers, as compose v5 lists them (running or not). */
function containers(): string[] {
  const res = v5(['-p', project, '-f', SERVERS, '-f', JOBS, 'ps', '-a', '--format', '{{.Name}}']);
  expect({ exitCode: res.exitCode, stderr: res.stderr }).toEqual({ exitCode: 0, stderr: '' });
  return res.stdout.trim().split('\n').filter(Boolean).sort();
}

/** The value each `${NAME:?...}` of the files needs from the shell: a directory. */
function shellValues(files: string[], dir: string): Record<string, string> {
  const text = files.map((f) => fs.readFileSync(path.join(outdir, f), 'utf8')).join('\n');
  return Object.fromEntries([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)].map((m) => [m[1], dir]));
}

test('docker compose v5 (podman API) accepts the servers file and the jobs file merged, warns of nothing, ignores none of their keys', () => {
  const version = v5(['version', '--short']);
  expect(version.stdout.trim()).toMatch(/^v?5\.\d+\.\d+$/);
  const res = v5(['-f', SERVERS, '-f', JOBS, 'config'], shellValues([SERVERS, JOBS], '/tmp'));
  expect({ exitCode: res.exitCode, stderr: res.stderr }).toEqual({ exitCode: 0, stderr: '' });
  const resolved = parseYamlStream(res.stdout)[0] as any;
  const files = [SERVERS, JOBS].map((f) => parseYamlStream(fs.readFileSync(path.join(outdir, f), 'utf8'))[0] as any);
  expect(Object.keys(resolved.services).sort()).toEqual(['api', 'batch-inference', 'train']);
  for (const file of files) {
    for (const [name, svc] of Object.entries<any>(file.services)) {
      for (const key of Object.keys(svc)) expect({ name, key, present: key in resolved.services[name] }).toEqual({ name, key, present: true });
    }
  }
});

test('docker compose v5 (podman API): `up -d` starts the API only; the training job runs by the documented command; the API serves it', async () => {
  timings.sklearnBase = (await timed(() => ensureBaseImages('python-sklearn'))).ms;
  const models = fs.mkdtempSync(path.join(work, 'models-'));
  for (const dir of ['train-model', 'batch-inference-output']) {
    fs.mkdirSync(path.join(models, dir));
    chownForContainer(path.join(models, dir), 10001);
  }
  const port = await freePort();
  env = { ...env, MODELS_DIR: models, API_PORT: String(port) };
  const servers = parseYamlStream(fs.readFileSync(path.join(outdir, SERVERS), 'utf8'))[0] as any;
  image = servers.services.api.image as string;

  // GIVEN the stack's one image, built from its compose build section on the local scikit-learn base (see the header)
  const build = await timed(() =>
    composeTool('podman-compose', ['-p', project, '-f', SERVERS, 'build', '--build-arg', `PYTHON_IMAGE=${PYTHON_SKLEARN_BASE_IMAGE}`, 'api'], {
      cwd: outdir,
      env,
    }),
  );
  timings.imageBuild = build.ms;
  expect({ exitCode: build.value.exitCode, output: build.value.exitCode === 0 ? '' : build.value.output }).toEqual({ exitCode: 0, output: '' });

  // WHEN `up -d` of the servers' file
  const up = await timed(() => v5(['-p', project, '-f', SERVERS, 'up', '-d']));
  timings.up = up.ms;
  expect({ exitCode: up.value.exitCode, output: up.value.exitCode === 0 ? '' : up.value.output }).toEqual({ exitCode: 0, output: '' });
  // THEN the API alone runs (compose v5 names containers <project>-<service>-<n>), and it is not ready: no model yet
  expect(containers()).toEqual([`${project}-api-1`]);
  const before = await fetch(`http://127.0.0.1:${port}/readyz`).then(
    (r) => r.status,
    (e: Error) => e.message,
  );
  expect(before).not.toBe(200);

  // WHEN the training job runs by the command its jobs file documents
  const header = fs.readFileSync(path.join(outdir, JOBS), 'utf8').split('\n')[1];
  expect(header).toBe(`#   docker compose -p ${STACK} -f ${SERVERS} -f ${JOBS} run --rm --no-deps <job>`);
  const run = await timed(() => v5(['-p', project, '-f', SERVERS, '-f', JOBS, 'run', '--rm', '--no-deps', 'train']));
  timings.train = run.ms;
  // THEN it completes, writes the models, leaves no container, and the API serves them
  expect({ exitCode: run.value.exitCode, output: run.value.exitCode === 0 ? '' : run.value.output }).toEqual({ exitCode: 0, output: '' });
  expect(fs.readdirSync(path.join(models, 'train-model')).sort()).toEqual(['clf_lda.joblib', 'clf_nn.joblib', 'metadata.json']);
  expect(containers()).toEqual([`${project}-api-1`]);
  timings.apiReady = (await timed(() => waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 120_000 }))).ms;
});
