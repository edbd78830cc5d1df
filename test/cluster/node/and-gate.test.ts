/**
 * and-gate on a real node: the TF Serving stand-in (refuses to start without the models.config the
 * manifest mounts) and the Flask web app built from its generated Dockerfile, both Ready; a form POST
 * through the web Service comes back with the model server's prediction; the NetworkPolicies admit the
 * wiring and nothing else, as the reachability model says.
 */
import { testNode, TestNode } from '../../_util/kube';
import { clearStack, deploy, Deployed, expectPoliciesAsModeled } from './_deploy';
import { referenceOutput, request, serviceUrl, stackManifest } from './_stack';

jest.setTimeout(20 * 60_000);

let node: TestNode;
let deployed: Deployed;
const dist = () => referenceOutput();

beforeAll(async () => {
  node = await testNode();
  deployed = await deploy(node, dist(), stackManifest(dist(), 'and-gate'));
  // eslint-disable-next-line no-console
  console.log(`and-gate: ready in ${deployed.totalMs} ms after apply (${JSON.stringify(deployed.readyMs)}); images ${deployed.imageMs} ms`);
});

afterAll(async () => {
  if (deployed) await clearStack(node, deployed.manifest);
});

test('every Deployment is Available with all its replicas', () => {
  expect(Object.keys(deployed.readyMs).sort()).toEqual(['server', 'web']);
});

test("the form's POST through the web Service returns the server's prediction", async () => {
  const web = await serviceUrl(node, 'and-gate', 'web');
  const one = await request(`${web}/`, { method: 'POST', body: 'a=1&b=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(one.status).toBe(200);
  expect(one.body).toContain('<output id="predictions">[[1.0]]</output>');
  const zero = await request(`${web}/`, { method: 'POST', body: 'a=1&b=0', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(zero.body).toContain('<output id="predictions">[[0.0]]</output>');
  // eslint-disable-next-line no-console
  console.log(`and-gate: POST ${web}/ a=1&b=1 -> ${one.status} ${one.body.match(/<output id="predictions">[^<]*<\/output>/)?.[0]}`);
});

test('the NetworkPolicies admit exactly what the reachability model says', async () => {
  await expectPoliciesAsModeled(node, dist(), deployed.manifest, 'and-gate');
});
