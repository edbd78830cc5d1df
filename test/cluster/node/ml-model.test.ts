/**
 * ml-model on a real node, from its manifest as written: the gunicorn model server built from its
 * generated Dockerfile, both replicas Ready behind its Service; a POST /predict through the Service comes
 * back with the linear model the manifest's env configures (MODEL_WEIGHTS 0.5,-0.25, MODEL_BIAS 0.1), a
 * malformed one with the app's 400; the NetworkPolicies admit exactly what the reachability model says.
 */
import { testNode, TestNode } from '../../_util/kube';
import { clearStack, deploy, Deployed, expectPoliciesAsModeled } from './_deploy';
import { referenceOutput, request, serviceUrl, stackManifest } from './_stack';

jest.setTimeout(20 * 60_000);

const NS = 'ml-model';
let node: TestNode;
let deployed: Deployed;
const dist = () => referenceOutput();

beforeAll(async () => {
  node = await testNode();
  deployed = await deploy(node, dist(), stackManifest(dist(), 'ml-model'));
  // eslint-disable-next-line no-console
  console.log(`ml-model: ready in ${deployed.totalMs} ms after apply (${JSON.stringify(deployed.readyMs)}); images ${deployed.imageMs} ms`);
});

afterAll(async () => {
  if (deployed) await clearStack(node, deployed.manifest);
});

test('the Deployment is Available with both its replicas', async () => {
  expect(Object.keys(deployed.readyMs)).toEqual(['ml-model']);
  const d = await node.cluster.kube.get('apps/v1', 'Deployment', 'ml-model', NS);
  expect(d.status).toMatchObject({ replicas: 2, availableReplicas: 2 });
});

test("POST /predict through the Service answers with the manifest's linear model", async () => {
  const url = await serviceUrl(node, NS, 'ml-model');
  const health = await request(`${url}/healthz`);
  expect({ status: health.status, body: JSON.parse(health.body) }).toEqual({ status: 200, body: { status: 'ok' } });
  const answer = await request(`${url}/predict`, {
    method: 'POST',
    body: JSON.stringify({
      instances: [
        [1, 2],
        [4, 0],
        [0, 0],
      ],
    }),
    headers: { 'content-type': 'application/json' },
  });
  expect(answer.status).toBe(200);
  // 0.5*x0 - 0.25*x1 + 0.1
  const predictions: number[] = JSON.parse(answer.body).predictions;
  expect(predictions).toHaveLength(3);
  [0.1, 2.1, 0.1].forEach((want, i) => expect(predictions[i]).toBeCloseTo(want, 9));
  const bad = await request(`${url}/predict`, { method: 'POST', body: JSON.stringify({ instances: [[1, 2, 3]] }) });
  expect(bad.status).toBe(400);
  expect(JSON.parse(bad.body).error).toContain('2 numbers');
  // eslint-disable-next-line no-console
  console.log(`ml-model: POST ${url}/predict [[1,2],[4,0],[0,0]] -> ${answer.status} ${answer.body.trim()}`);
});

test('the NetworkPolicies admit exactly what the reachability model says', async () => {
  await expectPoliciesAsModeled(node, dist(), deployed.manifest, 'ml-model');
});
