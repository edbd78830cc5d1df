/**
 * and-gate end to end: synthesize the stack, build the web image from the GENERATED Dockerfile with
 * buildah on a local Debian base, run it with podman exactly as the manifest says (command, env,
 * uid, read-only root, /tmp), point the manifest's backend host at a local stand-in for TF Serving,
 * and check that the health path answers and a form POST reaches the stand-in's predict path and
 * shows its predictions. Fails with the reason if the builder cannot run; it never skips.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlApp } from '../../lib';
import { andGate } from '../../apps/and-gate/main';
import { parseYamlStream } from '../_util/yaml';
import { tempDir } from '../_util/synth';
import {
  CONTAINER_HOST_LOOPBACK,
  PYTHON_BASE_IMAGE,
  buildImage,
  cleanup,
  ensureBaseImages,
  ensureTools,
  freePort,
  removeImage,
  runContainer,
  startStandIn,
  timed,
  waitForHttp,
} from './_harness';

jest.setTimeout(20 * 60_000);

const timings: Record<string, number> = {};
let imageTag: string | undefined;

afterAll(async () => {
  await cleanup();
  if (imageTag) await removeImage(imageTag).catch(() => undefined);
  // eslint-disable-next-line no-console
  console.log(`and-gate e2e timings (ms): ${JSON.stringify(timings)}`);
});

test('the and-gate web image, built from its generated Dockerfile and run as the manifest says, serves the form through the backend', async () => {
  // GIVEN the synthesized stack
  const outdir = path.join(tempDir(), 'dist');
  const app = new MlApp({ outdir });
  andGate(app);
  app.synth();
  const objects = parseYamlStream(fs.readFileSync(path.join(outdir, 'manifests/and-gate.k8s.yaml'), 'utf8'));
  const web = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'web');
  const pod = web.spec.template.spec;
  const container = pod.containers[0];
  const port = container.ports[0].containerPort;
  const env: Record<string, string> = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
  const predict = new URL(env.BACKEND_PREDICT_URL);
  const bake = JSON.parse(fs.readFileSync(path.join(outdir, 'images/docker-bake.json'), 'utf8'));
  const target = Object.entries<any>(bake.target).find(([, t]) => t.tags.includes(container.image));
  expect(target).toBeDefined();
  const [imageName, build] = target!;

  // WHEN the image is built from the generated Dockerfile on the local base
  timings.tools = (await timed(() => ensureTools())).ms;
  timings.baseImage = (await timed(() => ensureBaseImages('python'))).ms;
  imageTag = container.image;
  timings.build = await buildImage({
    contextDir: path.resolve(outdir, 'images', build.context),
    dockerfile: path.join(outdir, 'images', imageName, 'Dockerfile'),
    tag: container.image,
    buildArgs: { PYTHON_IMAGE: PYTHON_BASE_IMAGE },
  });

  // a stand-in for TF Serving answers on the manifest's backend host and port
  const standIn = await startStandIn({
    port: Number(predict.port),
    routes: { [`POST ${predict.pathname}`]: { body: { predictions: [[0.9731]] } } },
  });
  const hostPort = await freePort();
  const started = Date.now();
  await runContainer({
    image: container.image,
    entrypoint: JSON.stringify(container.command), // podman takes the exec form as a JSON array
    env,
    user: `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`,
    readOnly: container.securityContext.readOnlyRootFilesystem,
    tmpfs: container.volumeMounts.filter((m: any) => m.mountPath === '/tmp').map((m: any) => m.mountPath),
    ports: [{ host: hostPort, container: port }],
    // the manifest's Service DNS name resolves to the stand-in (the host's loopback seen from the container)
    addHosts: { [predict.hostname]: CONTAINER_HOST_LOOPBACK },
  });

  // THEN the health path the probes use answers
  const health = await waitForHttp(`http://127.0.0.1:${hostPort}${container.readinessProbe.httpGet.path}`, { timeoutMs: 60_000 });
  timings.startToHealthy = Date.now() - started;
  expect(health.status).toBe(200);

  // and a form POST reaches the stand-in's predict path and shows its predictions
  const answer = await fetch(`http://127.0.0.1:${hostPort}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'a=1&b=1',
  });
  const html = await answer.text();
  expect(answer.status).toBe(200);
  expect(html).toContain('<output id="predictions">[[0.9731]]</output>');
  const req = await standIn.waitForRequest((r) => r.method === 'POST' && r.path === predict.pathname, 5_000);
  expect(req.json).toEqual({ instances: [[1, 1]] });

  // bad input is answered by the app without calling the backend
  const bad = await fetch(`http://127.0.0.1:${hostPort}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'a=2&b=1',
  });
  expect(await bad.text()).toContain('inputs must be 0 or 1');
  expect(standIn.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
});
