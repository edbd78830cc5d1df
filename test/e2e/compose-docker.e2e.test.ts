/**
 * Jobs in compose with Debian's docker-compose 1.29 (/usr/bin/docker-compose) against a Docker engine
 * of the test's own (Debian's dockerd 20.10 on a private socket, data root and bridge: test/e2e/_docker.ts),
 * as compose-tools.e2e does with podman-compose 1.0.3 and compose-v5.e2e with Docker Compose v5.
 * eeg-letters: the image is built by `docker-compose build` of the servers' file (through the docker
 * CLI: BuildKit) on the local scikit-learn base loaded into the engine; `up -d` of the servers' file
 * starts the API alone, not ready (no model yet); the training job runs by exactly the command the jobs
 * file's header documents (`docker compose` spelled `docker-compose`, <job> = train) and completes; the
 * API then answers /readyz 200. The engine is private, so the documented project name (the stack's)
 * is used as is. Binds 127.0.0.1 only, on a free port; removes what it starts (down -v, the engine).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildReferenceApps } from '../../apps/main';
import { MlApp } from '../../lib';
import { tempDir } from '../_util/synth';
import { DOCKER_CLI, DockerEngine } from './_docker';
import { PYTHON_SKLEARN_BASE_IMAGE, chownForContainer, composeTool, ensureBaseImages, ensureTools, freePort, timed, waitForHttp } from './_harness';

jest.setTimeout(30 * 60_000);

const COMPOSE = '/usr/bin/docker-compose';
const STACK = 'eeg-letters';
const SERVERS = `compose/${STACK}.compose.yml`;
const JOBS = `compose/${STACK}.jobs.compose.yml`;
const timings: Record<string, number> = {};
const work = tempDir('cdk8s-ml-compose-docker-');
const outdir = path.join(work, 'dist');
let docker: DockerEngine | undefined;
let env: NodeJS.ProcessEnv | undefined;

beforeAll(() => {
  buildReferenceApps(new MlApp({ outdir })).synth();
});

afterAll(async () => {
  if (docker && env) {
    composeTool('docker-compose', ['-p', STACK, '-f', SERVERS, '-f', JOBS, 'down', '-v', '--remove-orphans', '-t', '0'], {
      cwd: outdir,
      env,
      timeoutMs: 180_000,
    });
  }
  await docker?.stop();
  fs.rmSync(work, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log(`compose docker-compose 1.29 e2e timings (ms): ${JSON.stringify(timings)}`);
});

/** Names of the project's containers in the private engine, running or not. */
function containers(): string[] {
  const res = spawnSync(DOCKER_CLI, ['ps', '-a', '--filter', `label=com.docker.compose.project=${STACK}`, '--format', '{{.Names}}'], {
    env,
    encoding: 'utf8',
  });
  expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
  return res.stdout.trim().split('\n').filter(Boolean).sort();
}

test('docker-compose 1.29 on dockerd: `up -d` starts the API only; the job runs by the documented command; the API serves it', async () => {
  if (spawnSync(COMPOSE, ['version', '--short'], { encoding: 'utf8' }).status !== 0) {
    throw new Error(`${COMPOSE} not found or not runnable: scripts/e2e/install-tools.sh installs Debian's docker-compose`);
  }
  ensureTools();
  expect(spawnSync(COMPOSE, ['version', '--short'], { encoding: 'utf8' }).stdout.trim()).toMatch(/^1\.29\.\d+$/);
  timings.sklearnBase = (await timed(() => ensureBaseImages('python-sklearn'))).ms;
  timings.dockerd = (await timed(async () => (docker = await DockerEngine.start()))).ms;
  timings.loadBase = (await timed(() => docker!.loadImage(PYTHON_SKLEARN_BASE_IMAGE))).ms;

  const models = fs.mkdtempSync(path.join(work, 'models-'));
  for (const dir of ['train-model', 'batch-inference-output']) {
    fs.mkdirSync(path.join(models, dir));
    chownForContainer(path.join(models, dir), 10001);
  }
  const port = await freePort();
  // COMPOSE_DOCKER_CLI_BUILD: compose 1.29 builds with `docker build` (BuildKit, Dockerfile.dockerignore), as in images.e2e
  env = { ...docker!.env, COMPOSE_DOCKER_CLI_BUILD: '1', MODELS_DIR: models, API_PORT: String(port) };
  const compose = (args: string[], timeoutMs?: number) => composeTool('docker-compose', args, { cwd: outdir, env: env!, timeoutMs });
  const ok = (r: { exitCode: number; output: string }) => ({ exitCode: r.exitCode, output: r.exitCode === 0 ? '' : r.output });

  // GIVEN the stack's one image, built from the servers' file's build section on the local scikit-learn base
  // (compose's --build-arg overrides the file's registry base; a localhost/ name cannot be pulled)
  const build = await timed(() =>
    compose(['-p', STACK, '-f', SERVERS, 'build', '--build-arg', `PYTHON_IMAGE=${PYTHON_SKLEARN_BASE_IMAGE}`], 20 * 60_000),
  );
  timings.build = build.ms;
  expect(ok(build.value)).toEqual({ exitCode: 0, output: '' });

  // WHEN `up -d` of the servers' file
  const up = await timed(() => compose(['-p', STACK, '-f', SERVERS, 'up', '-d', '--no-build']));
  timings.up = up.ms;
  expect(ok(up.value)).toEqual({ exitCode: 0, output: '' });
  // THEN the API alone runs (compose 1.29 names containers <project>_<service>_<n>), not ready: no model yet
  expect(containers()).toEqual([`${STACK}_api_1`]);
  const before = await fetch(`http://127.0.0.1:${port}/readyz`).then(
    (r) => r.status,
    (e: Error) => e.message,
  );
  expect(before).not.toBe(200);

  // WHEN the training job runs by exactly the command its jobs file documents
  const header = fs.readFileSync(path.join(outdir, JOBS), 'utf8').split('\n')[1];
  expect(header).toBe(`#   docker compose -p ${STACK} -f ${SERVERS} -f ${JOBS} run --rm --no-deps <job>`);
  const documented = header
    .replace(/^#\s+docker compose\s+/, '')
    .split(/\s+/)
    .map((a) => (a === '<job>' ? 'train' : a));
  const run = await timed(() => compose(documented, 20 * 60_000));
  timings.train = run.ms;
  // THEN it completes, writes the models, leaves no container, and the API serves them
  expect(ok(run.value)).toEqual({ exitCode: 0, output: '' });
  expect(fs.readdirSync(path.join(models, 'train-model')).sort()).toEqual(['clf_lda.joblib', 'clf_nn.joblib', 'metadata.json']);
  expect(containers()).toEqual([`${STACK}_api_1`]);
  const ready = await timed(() => waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 120_000 }));
  timings.apiReady = ready.ms;
  expect(ready.value.status).toBe(200);
});
