/**
 * The generated compose files with the compose tools that run here: docker-compose 1.29 must find no
 * key it would ignore in any of them, and podman-compose 1.0.3 brings the and-gate stack up from
 * its compose file — the web app built from its generated Dockerfile by the compose file's build
 * section, TF Serving replaced by a stand-in (the real image cannot be pulled here) that reads the
 * generated model config where the real server reads it — and the form gets an answer through the
 * backend. Binds 127.0.0.1 only, on free ports; removes what it starts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlApp } from '../../lib';
import { buildReferenceApps } from '../../apps/main';
import { parseYamlStream } from '../../lib/check';
import { tempDir } from '../_util/synth';
import {
  PYTHON_BASE_IMAGE,
  REPO_ROOT,
  buildImage,
  composeTool,
  ensureBaseImages,
  ensureTools,
  freePort,
  podmanComposeEnv,
  removeImage,
  timed,
  waitForHttp,
} from './_harness';

jest.setTimeout(20 * 60_000);

const timings: Record<string, number> = {};
const outdir = path.join(tempDir(), 'dist');
const project = `cdk8s-ml-e2e-${process.pid}`;
let env: NodeJS.ProcessEnv;
const builtImages: string[] = [];
let baseAlias: string | undefined;

beforeAll(() => {
  buildReferenceApps(new MlApp({ outdir })).synth();
});

afterAll(async () => {
  if (env) {
    composeTool('podman-compose', ['-p', project, '-f', 'and-gate.compose.yml', 'down'], {
      cwd: path.join(outdir, 'compose'),
      env,
      timeoutMs: 120_000,
    });
    spawnSync('podman', ['network', 'rm', '-f', `${project}_default`], { env });
  }
  for (const image of builtImages) await removeImage(image).catch(() => undefined);
  if (baseAlias) spawnSync('podman', ['untag', PYTHON_BASE_IMAGE, baseAlias], { env });
  // eslint-disable-next-line no-console
  console.log(`compose e2e timings (ms): ${JSON.stringify(timings)}`);
});

test('docker-compose 1.29 accepts every generated compose file and ignores none of its keys', () => {
  ensureTools();
  const files = fs.readdirSync(path.join(outdir, 'compose')).filter((f) => f.endsWith('.compose.yml'));
  expect(files.length).toBeGreaterThanOrEqual(4);
  for (const file of files) {
    // the values compose reads from the shell: MODELS_DIR and the Secrets' keys (`${NAME:?...}`)
    const text = fs.readFileSync(path.join(outdir, 'compose', file), 'utf8');
    const fromShell = Object.fromEntries([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)].map((m) => [m[1], '/tmp']));
    const res = composeTool('docker-compose', ['-f', file, 'config'], { cwd: path.join(outdir, 'compose'), env: { ...process.env, ...fromShell } });
    expect({ file, exitCode: res.exitCode, stderr: res.stderr }).toEqual({ file, exitCode: 0, stderr: '' });
    // what docker-compose resolved is the file itself: nothing dropped
    const resolved = parseYamlStream(res.stdout)[0] as any;
    const original = parseYamlStream(text)[0] as any;
    expect(Object.keys(resolved.services).sort()).toEqual(Object.keys(original.services).sort());
    for (const [name, svc] of Object.entries<any>(original.services)) {
      for (const key of Object.keys(svc))
        expect({ file, name, key, present: key in resolved.services[name] }).toEqual({ file, name, key, present: true });
    }
  }
});

test('podman-compose brings and-gate up from its compose file: the form gets an answer through the backend', async () => {
  // GIVEN the tools, the local Python base under the name the Dockerfile's default ARG names, and a
  // TF Serving stand-in under the name of the model image (so compose runs it instead of building)
  timings.tools = (await timed(() => ensureTools())).ms;
  timings.baseImage = (await timed(() => ensureBaseImages('python'))).ms;
  env = podmanComposeEnv();
  const compose = parseYamlStream(fs.readFileSync(path.join(outdir, 'compose/and-gate.compose.yml'), 'utf8'))[0] as any;
  const pythonArg = compose.services.web.build.args.PYTHON_IMAGE;
  execFileSync('podman', ['tag', PYTHON_BASE_IMAGE, pythonArg], { env });
  baseAlias = pythonArg;
  const standInDir = tempDir();
  fs.copyFileSync(path.join(REPO_ROOT, 'scripts/e2e/tf-serving-standin.py'), path.join(standInDir, 'standin.py'));
  fs.writeFileSync(
    path.join(standInDir, 'Dockerfile'),
    `FROM ${PYTHON_BASE_IMAGE}\nCOPY standin.py /standin.py\nENTRYPOINT ["python3", "/standin.py"]\n`,
  );
  timings.standInBuild = await buildImage({ contextDir: standInDir, tag: compose.services.server.image });
  builtImages.push(compose.services.server.image, compose.services.web.image);

  // WHEN compose builds the web image from its build section and brings the stack up on free ports
  const cwd = path.join(outdir, 'compose');
  const ports = { WEB_PORT: String(await freePort()), SERVER_PORT: String(await freePort()), SERVER_GRPC_PORT: String(await freePort()) };
  env = { ...env, ...ports };
  const build = await timed(() => composeTool('podman-compose', ['-p', project, '-f', 'and-gate.compose.yml', 'build', 'web'], { cwd, env }));
  timings.webBuild = build.ms;
  expect({ exitCode: build.value.exitCode, output: build.value.exitCode === 0 ? '' : build.value.output }).toEqual({ exitCode: 0, output: '' });
  const up = composeTool('podman-compose', ['-p', project, '-f', 'and-gate.compose.yml', 'up', '-d'], { cwd, env });
  expect({ exitCode: up.exitCode, output: up.exitCode === 0 ? '' : up.output }).toEqual({ exitCode: 0, output: '' });
  // every port is published on loopback only
  expect(up.output).not.toMatch(/-p (0\.0\.0\.0:)?\d+:\d+/);

  // THEN the stand-in loaded the generated model config from where TF Serving reads it
  const started = Date.now();
  await waitForHttp(`http://127.0.0.1:${ports.SERVER_PORT}/v1/models/and-gate`, { timeoutMs: 60_000 });
  // and the web app answers a form POST with the backend's predictions, reached at the compose name
  await waitForHttp(`http://127.0.0.1:${ports.WEB_PORT}/healthz`, { timeoutMs: 60_000 });
  timings.upToHealthy = Date.now() - started;
  const answer = await fetch(`http://127.0.0.1:${ports.WEB_PORT}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'a=1&b=1',
  });
  expect(answer.status).toBe(200);
  expect(await answer.text()).toContain('<output id="predictions">[[1.0]]</output>');
  const logs = spawnSync('podman', ['logs', `${project}_server_1`], { env, encoding: 'utf8' });
  expect(logs.stdout).toContain("stand-in: serving ['and-gate'] from /etc/tfserving/models.config");
  expect(logs.stdout).toContain('stand-in: POST /v1/models/and-gate:predict {"instances": [[1, 1]]}');
});
