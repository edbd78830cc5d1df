/**
 * Jobs in compose, with the compose tools that run here (issue 22, finding 4): podman-compose 1.0.3
 * ignores `profiles`, so the jobs live in compose/<stack>.jobs.compose.yml. `up` of the servers' file
 * starts the servers only; a job runs by the command the jobs file documents, the same on every tool:
 * `-p <stack> -f <stack>.compose.yml -f <stack>.jobs.compose.yml run --rm --no-deps <job>` (--no-deps:
 * podman-compose 1.0.3's `run` otherwise runs `up` of every service when the job has no depends_on).
 * eeg-letters: the API comes up alone, the training job runs and completes, and the API then serves
 * the model it wrote (both mount $MODELS_DIR/train-model). docker-compose 1.29 accepts the two files
 * merged and drops none of their keys. Binds 127.0.0.1 only, on a free port; removes what it starts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildReferenceApps } from '../../apps/main';
import { MlApp } from '../../lib';
import { parseYamlStream } from '../../lib/check';
import { tempDir } from '../_util/synth';
import {
  PYTHON_SKLEARN_BASE_IMAGE,
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

jest.setTimeout(30 * 60_000);

const STACK = 'eeg-letters';
const SERVERS = `compose/${STACK}.compose.yml`;
const JOBS = `compose/${STACK}.jobs.compose.yml`;
const timings: Record<string, number> = {};
const outdir = path.join(tempDir(), 'dist');
const project = `cdk8s-ml-e2e-jobs-${process.pid}`;
let env: NodeJS.ProcessEnv | undefined;
let image: string | undefined;

beforeAll(() => {
  buildReferenceApps(new MlApp({ outdir })).synth();
});

afterAll(async () => {
  if (env) {
    composeTool('podman-compose', ['-p', project, '-f', SERVERS, '-f', JOBS, 'down'], { cwd: outdir, env, timeoutMs: 120_000 });
    spawnSync('podman', ['network', 'rm', '-f', `${project}_default`], { env });
    spawnSync('podman', ['pod', 'rm', '-f', `pod_${project}`], { env });
  }
  if (image) await removeImage(image).catch(() => undefined);
  // eslint-disable-next-line no-console
  console.log(`compose-tools e2e timings (ms): ${JSON.stringify(timings)}`);
});

/** The value each `${NAME:?...}` of the files needs from the shell: a directory. */
function shellValues(files: string[], dir: string): Record<string, string> {
  const text = files.map((f) => fs.readFileSync(path.join(outdir, f), 'utf8')).join('\n');
  return Object.fromEntries([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)].map((m) => [m[1], dir]));
}

test('docker-compose 1.29 accepts the servers file and the jobs file merged, and ignores none of their keys', () => {
  ensureTools();
  const res = composeTool('docker-compose', ['-f', SERVERS, '-f', JOBS, 'config'], {
    cwd: outdir,
    env: { ...process.env, ...shellValues([SERVERS, JOBS], '/tmp') },
  });
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

test('podman-compose 1.0.3: `up` of eeg-letters starts the API only; the job runs by the documented command; the API serves it', async () => {
  ensureTools();
  timings.sklearnBase = (await timed(() => ensureBaseImages('python-sklearn'))).ms;
  const models = tempDir();
  fs.mkdirSync(path.join(models, 'train-model'));
  fs.mkdirSync(path.join(models, 'batch-inference-output'));
  chownForContainer(path.join(models, 'train-model'), 10001);
  chownForContainer(path.join(models, 'batch-inference-output'), 10001);
  const port = await freePort();
  env = { ...podmanComposeEnv(), MODELS_DIR: models, API_PORT: String(port) };
  const servers = parseYamlStream(fs.readFileSync(path.join(outdir, SERVERS), 'utf8'))[0] as any;
  image = servers.services.api.image as string;
  const tool = (args: string[], files: string[] = [SERVERS]) =>
    composeTool('podman-compose', ['-p', project, ...files.flatMap((f) => ['-f', f]), ...args], { cwd: outdir, env: env! });

  // GIVEN the stack's one image, built from its compose build section on the local scikit-learn base
  // (podman-compose's --build-arg comes after the file's args: the last one wins)
  const build = await timed(() => tool(['build', '--build-arg', `PYTHON_IMAGE=${PYTHON_SKLEARN_BASE_IMAGE}`, 'api']));
  timings.build = build.ms;
  expect({ exitCode: build.value.exitCode, output: build.value.exitCode === 0 ? '' : build.value.output }).toEqual({ exitCode: 0, output: '' });

  // WHEN `up` of the servers' file
  const up = tool(['up', '-d']);
  expect({ exitCode: up.exitCode, output: up.exitCode === 0 ? '' : up.output }).toEqual({ exitCode: 0, output: '' });
  // THEN the API alone runs: no job container (podman-compose 1.0.3 would have started them under `profiles`)
  const listed = spawnSync('podman', ['ps', '-a', '--filter', `label=io.podman.compose.project=${project}`, '--format', '{{.Names}}'], {
    env,
    encoding: 'utf8',
  });
  expect(listed.stdout.trim().split('\n').sort()).toEqual([`${project}_api_1`]);
  // and it is not ready: no model yet
  const before = await fetch(`http://127.0.0.1:${port}/readyz`).then(
    (r) => r.status,
    (e: Error) => e.message,
  );
  expect(before).not.toBe(200);

  // WHEN the training job runs by the command its jobs file documents
  const header = fs.readFileSync(path.join(outdir, JOBS), 'utf8').split('\n')[1];
  expect(header).toBe(`#   docker compose -p ${STACK} -f ${SERVERS} -f ${JOBS} run --rm --no-deps <job>`);
  const run = await timed(() => tool(['run', '--rm', '--no-deps', 'train'], [SERVERS, JOBS]));
  timings.train = run.ms;
  // THEN it completes, writes the models, leaves no container, and the API serves them
  expect({ exitCode: run.value.exitCode, output: run.value.exitCode === 0 ? '' : run.value.output }).toEqual({ exitCode: 0, output: '' });
  expect(fs.readdirSync(path.join(models, 'train-model')).sort()).toEqual(['clf_lda.joblib', 'clf_nn.joblib', 'metadata.json']);
  const after = spawnSync('podman', ['ps', '-a', '--filter', `label=io.podman.compose.project=${project}`, '--format', '{{.Names}}'], {
    env,
    encoding: 'utf8',
  });
  expect(after.stdout.trim().split('\n')).toEqual([`${project}_api_1`]);
  const ready = await timed(() => waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 120_000 }));
  timings.apiReady = ready.ms;
});
