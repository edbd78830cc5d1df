/**
 * Proves the e2e harness: tools + python base image, a generated-shape Dockerfile built with
 * buildah against the local base, run read-only with podman, talking to a Node stand-in server.
 * Needs root (installs tools, builds base images on first run: ~1.5 min cold, well under 1 s warm).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PythonImage } from '../../lib';
import {
  PYTHON_BASE_IMAGE,
  buildImage,
  cleanup,
  ensureBaseImages,
  ensureTools,
  freePort,
  httpRequest,
  removeImage,
  runContainer,
  runToCompletion,
  startStandIn,
  timed,
  waitForHttp,
} from './_harness';

jest.setTimeout(15 * 60_000);

const APP_PY = `import os
import requests
from flask import Flask, jsonify

app = Flask(__name__)
MODEL_URL = os.environ["MODEL_URL"]


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/echo")
def echo():
    r = requests.post(f"{MODEL_URL}/v1/models/and-gate:predict", json={"instances": [[1, 1]]}, timeout=5)
    return jsonify(model_url=MODEL_URL, upstream_status=r.status_code, upstream=r.json())
`;

const timings: Record<string, number> = {};
const tag = `localhost/cdk8s-ml-e2e/harness-echo:${process.pid}`;
let workDir: string;

afterAll(async () => {
  await cleanup();
  await removeImage(tag).catch(() => undefined);
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log(`e2e harness timings (ms): ${JSON.stringify(timings)}`);
});

test('tools and the python base image are available', async () => {
  timings.tools = (await timed(() => ensureTools())).ms;
  timings.pythonBase = (await timed(() => ensureBaseImages('python'))).ms;
});

test('a generated-shape Dockerfile builds against the local base and its container reaches the stand-in', async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-e2e-'));
  fs.writeFileSync(path.join(workDir, 'app.py'), APP_PY);
  fs.writeFileSync(path.join(workDir, 'requirements.txt'), 'flask\nrequests\ngunicorn\n');
  // The Dockerfile and ignore file PythonImage generates (not a hand copy that could drift from it).
  const image = PythonImage.fromDirectory(workDir, {
    repository: 'localhost/cdk8s-ml-e2e/harness-echo',
    tag: String(process.pid),
    command: ['gunicorn', '--bind', '0.0.0.0:8080', 'app:app'],
    ignore: ['secret.txt'],
  });
  fs.writeFileSync(path.join(workDir, 'Dockerfile'), image.renderDockerfile());
  // BuildKit-style per-Dockerfile ignore file: the harness passes it as --ignorefile.
  fs.writeFileSync(path.join(workDir, 'Dockerfile.dockerignore'), image.renderDockerignore());
  fs.writeFileSync(path.join(workDir, 'secret.txt'), 'must not be in the image\n');

  timings.build = await buildImage({ contextDir: workDir, dockerfile: 'Dockerfile', tag, buildArgs: { PYTHON_IMAGE: PYTHON_BASE_IMAGE } });

  const standIn = await startStandIn({
    routes: { 'POST /v1/models/and-gate:predict': { body: { predictions: [[0.97]] } } },
  });
  const port = await freePort();
  const t0 = Date.now();
  const app = await runContainer({
    image: tag,
    env: { MODEL_URL: standIn.containerUrl },
    ports: [{ host: port, container: 8080 }],
    readOnly: true,
    tmpfs: ['/tmp'],
  });
  const health = await waitForHttp(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 60_000, container: app });
  timings.runUntilHealthy = Date.now() - t0;
  expect(health.status).toBe(200);
  expect(health.body).toBe('ok');

  const echo = await httpRequest(`http://127.0.0.1:${port}/echo`);
  expect(echo.status).toBe(200);
  expect(echo.json()).toEqual({ model_url: standIn.containerUrl, upstream_status: 200, upstream: { predictions: [[0.97]] } });

  const rec = await standIn.waitForRequest((r) => r.path === '/v1/models/and-gate:predict');
  expect(rec.method).toBe('POST');
  expect(rec.json).toEqual({ instances: [[1, 1]] });
  expect(app.logs()).toMatch(/Booting worker/);

  // Batch-style run of the same image: user from the Dockerfile, read-only root, the ignore file honoured.
  const batch = await runToCompletion({
    image: tag,
    readOnly: true,
    tmpfs: ['/tmp'],
    command: ['sh', '-c', 'id -u; ls /app; touch /app/x 2>/dev/null && echo writable || echo read-only'],
  });
  expect(batch.exitCode).toBe(0);
  expect(batch.stdout).toMatch(/^10001\n/);
  expect(batch.stdout).toContain('app.py');
  expect(batch.stdout).not.toContain('secret.txt');
  expect(batch.stdout).toMatch(/read-only\n$/);

  app.remove();
  expect(app.isRunning()).toBe(false);
});
