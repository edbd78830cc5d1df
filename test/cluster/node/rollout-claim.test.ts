/**
 * A rollout to a new image tag for servers whose model is on a single-attach claim, on a real node. Two
 * TfServingBackends read their model from a claim the user owns (ModelSource.fromVolume): one ReadWriteOnce, one
 * ReadWriteOncePod. The synth gives both maxSurge 0 / maxUnavailable 1 (the old pod lets go of the claim
 * before the new one starts). The test applies the stack at TF Serving 2.19.0, re-synthesizes it at 2.20.0
 * and applies that: both rollouts complete and the Services answer from 2.20.0. The control shows why the
 * synth does so: the same ReadWriteOncePod Deployment with the surge default of other servers (maxSurge 1,
 * maxUnavailable 0) never starts its new pod; the scheduler refuses it while the old pod holds the claim
 * (ReadWriteOncePod is enforced by the scheduler, KEP-2485, GA in 1.29). A ReadWriteOnce claim attaches to one
 * node, and this cluster has one node, so only the ReadWriteOncePod control can stall here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlApp, MlStack, ModelSource, TfServingBackend } from '../../../lib';
import { testNode, TestNode, waitUntil } from '../../_util/kube';
import { tempDir } from '../../_util/synth';
import { clearStack, ensureOutputCrds, importImages } from './_deploy';
import { imagesOf } from './_images';
import { applyYaml, provisionVolumes, request, serviceUrl, StackManifest, stackManifest, synthTo, waitReady } from './_stack';

jest.setTimeout(20 * 60_000);

const NS = 'rollout-claim';
const CLAIMS = { rwo: 'ReadWriteOnce', rwop: 'ReadWriteOncePod' } as const;
let node: TestNode;
let v1: StackManifest;
let v2: StackManifest;
let v1Dir: string;

function release(version: string): { manifest: StackManifest; outdir: string } {
  const outdir = synthTo(
    (app: MlApp) => {
      const stack = new MlStack(app, NS, { namespace: NS });
      for (const [id, accessMode] of Object.entries(CLAIMS)) {
        new TfServingBackend(stack, id, {
          modelName: 'model',
          model: ModelSource.fromVolume(`models-${id}`, { accessMode }),
          version,
          resources: { cpu: '50m', memory: '256Mi' },
        });
      }
    },
    path.join(tempDir('cdk8s-ml-node-rollout-'), 'dist'),
  );
  return { manifest: stackManifest(outdir, NS), outdir };
}

/** The claims the stack reads but does not own: the user makes them (here with a SavedModel-shaped directory). */
function claims(): any[] {
  return Object.entries(CLAIMS).map(([id, accessMode]) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: `models-${id}`, namespace: NS },
    spec: { accessModes: [accessMode], resources: { requests: { storage: '1Gi' } }, storageClassName: '' },
  }));
}

const version = async (id: string) => {
  const a = await request(`${await serviceUrl(node, NS, id, 'http')}/v1/models/model`);
  expect(a.status).toBe(200);
  return String(a.headers['x-standin-version']);
};

beforeAll(async () => {
  node = await testNode();
  ({ manifest: v1, outdir: v1Dir } = release('2.19.0'));
  v2 = release('2.20.0').manifest;
  await clearStack(node, v1);
  ensureOutputCrds(node);
  await importImages(node, v1Dir, [...imagesOf(v1.yaml), ...imagesOf(v2.yaml)]);
  await node.cluster.kube.ensureNamespace(NS);
  applyYaml(
    node,
    claims()
      .map((c) => `---\n${JSON.stringify(c)}\n`)
      .join(''),
  );
  await provisionVolumes(node, claims());
  for (const id of Object.keys(CLAIMS)) {
    const dir = path.join(node.node.dir, 'volumes', NS, `models-${id}`, '1');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), '');
  }
  const t0 = Date.now();
  applyYaml(node, v1.yaml);
  const ready = await waitReady(node, NS, { since: t0 });
  // eslint-disable-next-line no-console
  console.log(`rollout-claim: 2.19.0 ready in ${JSON.stringify(ready)} ms`);
});

afterAll(async () => {
  if (v1) await clearStack(node, v1);
});

test('the synth replaces the pod on a single-attach claim (maxSurge 0, maxUnavailable 1)', () => {
  for (const id of Object.keys(CLAIMS)) {
    const d = v2.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === id);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    expect(d.spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({ persistentVolumeClaim: expect.objectContaining({ claimName: `models-${id}` }) }),
    );
  }
});

test('a rollout from TF Serving 2.19.0 to 2.20.0 completes for both claims, and the Services answer from 2.20.0', async () => {
  expect(await version('rwo')).toBe('2.19.0');
  expect(await version('rwop')).toBe('2.19.0');
  const t0 = Date.now();
  applyYaml(node, v2.yaml);
  const times = await waitReady(node, NS, { since: t0, timeoutMs: 180_000 });
  // eslint-disable-next-line no-console
  console.log(`rollout-claim: 2.19.0 -> 2.20.0 rolled out in ${JSON.stringify(times)} ms`);
  const pods = await node.cluster.kube.list('v1', 'Pod', NS);
  expect(pods.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.spec.containers[0].image)).toEqual([
    'tensorflow/serving:2.20.0',
    'tensorflow/serving:2.20.0',
  ]);
  expect(await version('rwo')).toBe('2.20.0');
  expect(await version('rwop')).toBe('2.20.0');
});

test('control: with maxSurge 1 the ReadWriteOncePod rollout stalls, its new pod unschedulable while the old one holds the claim', async () => {
  const d = JSON.parse(JSON.stringify(v1.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'rwop')));
  d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
  applyYaml(node, JSON.stringify(d));
  let message = '';
  await waitUntil('the surge pod of rwop to be unschedulable', 90_000, async () => {
    const pods = await node.cluster.kube.list('v1', 'Pod', NS, 'app.kubernetes.io/instance=rollout-claim-rwop');
    const pending = pods.find((p) => p.spec.containers[0].image === 'tensorflow/serving:2.19.0' && !p.spec.nodeName);
    const cond = pending?.status?.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False');
    message = cond?.message ?? '';
    return message !== '';
  });
  // eslint-disable-next-line no-console
  console.log(`rollout-claim: surge pod with maxSurge 1: ${message}`);
  expect(message).toMatch(/ReadWriteOncePod/);
  const dep = await node.cluster.kube.get('apps/v1', 'Deployment', 'rwop', NS);
  expect(dep.status.availableReplicas).toBe(1);
  expect(await version('rwop')).toBe('2.20.0');
});
