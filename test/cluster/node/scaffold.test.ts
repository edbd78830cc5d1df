/**
 * The project `cdk8s-ml init` writes (what users start from) on a real node: init run from this checkout's
 * bin into an empty directory, its app synthesized the way its cdk8s.yaml runs it, its web image built from
 * the generated Dockerfile and docker-bake.json (tensorflow/serving is the node's stand-in), the manifest
 * applied as written but for its CPU requests (scaled to fit this 2-CPU node); every Deployment Available,
 * and a POST /predict through the web Service comes back with the model server's predictions. Its NetworkPolicies,
 * tried for real, equal the reachability model.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { testNode, TestNode } from '../../_util/kube';
import { tempDir } from '../../_util/synth';
import { clearStack, importImages, expectPoliciesAsModeled } from './_deploy';
import { imagesOf } from './_images';
import {
  applyYaml,
  provisionVolumes,
  request,
  serviceUrl,
  StackManifest,
  stackManifest,
  waitReady,
  millicores,
  withCpuRequestsScaled,
} from './_stack';

jest.setTimeout(20 * 60_000);

const ROOT = path.resolve(__dirname, '../../..');
const NAME = 'scaffold-app';

/**
 * `cdk8s-ml init <name>` in a new directory, then the app command of its cdk8s.yaml (as `npx cdk8s synth`
 * runs it: through a shell, CDK8S_OUTDIR = its output). There is no `npm install` here: 'cdk8s-ml' is this
 * checkout's sources (the import rewritten, as test/cluster/reference-apps.cluster.test.ts does) and
 * cdk8s-ml/register this checkout's hook. Returns the output directory.
 */
function initAndSynth(work: string): string {
  const init = spawnSync(process.execPath, [path.join(ROOT, 'bin/cdk8s-ml.js'), 'init', NAME], { cwd: work, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`cdk8s-ml init failed (exit ${init.status}): ${init.stderr}`);
  expect(init.stdout).toContain('npx cdk8s synth');
  const project = path.join(work, NAME);
  const main = path.join(project, 'main.ts');
  fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace(/from 'cdk8s-ml'/g, `from '${path.join(ROOT, 'lib')}'`));
  const config = yaml.load(fs.readFileSync(path.join(project, 'cdk8s.yaml'), 'utf8')) as { app: string; output: string };
  expect(config.app).toContain('cdk8s-ml/register');
  const app = config.app.replace('cdk8s-ml/register', path.join(ROOT, 'register.js'));
  const outdir = path.join(project, config.output);
  const synth = spawnSync('/bin/sh', ['-c', app], { cwd: project, encoding: 'utf8', env: { ...process.env, CDK8S_OUTDIR: outdir } });
  if (synth.status !== 0) throw new Error(`the scaffold's synth (${app}) failed (exit ${synth.status}): ${synth.stderr}`);
  return outdir;
}

let node: TestNode;
let work: string;
let dist: string;
let manifest: StackManifest;
let appliedAt: number;
let imageMs: number;
let scaled: { yaml: string; before: number; after: number };

beforeAll(async () => {
  work = tempDir('cdk8s-ml-node-scaffold-');
  dist = initAndSynth(work);
  manifest = stackManifest(dist, NAME);
  node = await testNode();
  await clearStack(node, manifest);
  imageMs = await importImages(node, dist, imagesOf(manifest.yaml));
  await provisionVolumes(node, manifest.objects);
  // The scaffold asks for 2.5 CPUs (server 2 x 1, web 2 x 250m) and this node has 2: its CPU requests are
  // scaled down, everything else is applied as written (see the CPU test below).
  scaled = withCpuRequestsScaled(manifest.objects, 0.3);
  appliedAt = Date.now();
  applyYaml(node, scaled.yaml);
});

afterAll(async () => {
  if (manifest && node) await clearStack(node, manifest);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('init wrote one stack in its own namespace, with the web image built from the generated Dockerfile', () => {
  expect(fs.readdirSync(path.join(dist, 'manifests'))).toEqual([`${NAME}.k8s.yaml`]);
  expect(manifest.namespace).toBe(NAME);
  expect(imagesOf(manifest.yaml)).toEqual(['registry.example.com/scaffold-app-web:0.1.0', 'tensorflow/serving:2.20.0']);
  expect(fs.existsSync(path.join(dist, 'images', `${NAME}-web`, 'Dockerfile'))).toBe(true);
});

test("the scaffold's CPU requests exceed this 2-CPU node as written and fit once scaled", async () => {
  const n = await node.cluster.kube.get('v1', 'Node', node.node.name);
  const allocatable = millicores(n.status.allocatable.cpu);
  // eslint-disable-next-line no-console
  console.log(`scaffold: CPU requests ${scaled.before}m as written, ${scaled.after}m applied; node allocatable ${allocatable}m`);
  expect(scaled.before).toBe(2500);
  expect(scaled.before).toBeGreaterThan(allocatable);
  expect(scaled.after).toBeLessThanOrEqual(allocatable / 2);
});

test('every Deployment is Available with all its replicas', async () => {
  const readyMs = await waitReady(node, NAME, { since: appliedAt, timeoutMs: 300_000 });
  // eslint-disable-next-line no-console
  console.log(`scaffold: ready in ${Math.max(...Object.values(readyMs))} ms after apply (${JSON.stringify(readyMs)}); images ${imageMs} ms`);
  expect(Object.keys(readyMs).sort()).toEqual(['server', 'web']);
});

test("POST /predict through the web Service returns the model server's predictions", async () => {
  const web = await serviceUrl(node, NAME, 'web');
  const health = await request(`${web}/healthz`);
  expect({ status: health.status, body: JSON.parse(health.body) }).toEqual({ status: 200, body: { status: 'ok' } });
  const answer = await request(`${web}/predict`, {
    method: 'POST',
    body: JSON.stringify({
      instances: [
        [1, 1],
        [1, 0],
      ],
    }),
    headers: { 'content-type': 'application/json' },
  });
  // the web app passes the instances to BACKEND_PREDICT_URL; the TF Serving stand-in answers the AND of each
  expect({ status: answer.status, body: JSON.parse(answer.body) }).toEqual({ status: 200, body: { predictions: [[1.0], [0.0]] } });
  const bad = await request(`${web}/predict`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  expect(bad.status).toBe(400);
  // eslint-disable-next-line no-console
  console.log(`scaffold: POST ${web}/predict [[1,1],[1,0]] -> ${answer.status} ${answer.body.trim()}`);
});

test('the NetworkPolicies admit exactly what the reachability model says', async () => {
  await expectPoliciesAsModeled(node, dist, manifest, 'scaffold');
});
