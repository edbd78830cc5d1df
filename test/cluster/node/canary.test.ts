/**
 * canary on a real node: the stable and canary Deployments of the classifier (TF Serving 2.19.0 and 2.20.0
 * stand-ins) and of the scorer (1.4.0, 1.5.0) behind one Service each, and the web app. Over a thousand
 * requests through each Service, the share the canary answers is within tolerance of the ratio the
 * Service's annotation states (kube-proxy picks an endpoint at random per connection, so the split is by
 * pods). A PodDisruptionBudget admits one eviction and refuses the second; a rollout of the web app to a new
 * image tag completes. The stack asks for 7.5 CPUs and this node has 2, so its CPU requests are scaled
 * down (withCpuRequestsScaled); replicas, images, probes, policies and everything else are as written.
 */
import { spawnSync } from 'node:child_process';
import { testNode, TestNode } from '../../_util/kube';
import { parseYamlStream } from '../../_util/yaml';
import { clearStack, deploy, Deployed, expectPoliciesAsModeled } from './_deploy';
import { applyYaml, referenceOutput, request, serviceUrl, stackManifest, waitReady, withCpuRequestsScaled } from './_stack';

jest.setTimeout(20 * 60_000);

const NS = 'canary';
const REQUESTS = 1000;
/** four standard deviations of the observed share of a binomial(REQUESTS, p): a false alarm about once in 16000 runs */
const tolerance = (p: number) => 4 * Math.sqrt((p * (1 - p)) / REQUESTS);
let node: TestNode;
let deployed: Deployed;
let scaledObjects: any[];
const dist = () => referenceOutput();

beforeAll(async () => {
  node = await testNode();
  const manifest = stackManifest(dist(), 'canary');
  const scaled = withCpuRequestsScaled(manifest.objects, 0.15);
  scaledObjects = parseYamlStream(scaled.yaml);
  deployed = await deploy(node, dist(), manifest, { yaml: scaled.yaml, timeoutMs: 420_000 });
  // eslint-disable-next-line no-console
  console.log(
    `canary: CPU requests ${scaled.before}m -> ${scaled.after}m; ready in ${deployed.totalMs} ms after apply ` +
      `(${JSON.stringify(deployed.readyMs)}); images ${deployed.imageMs} ms`,
  );
});

afterAll(async () => {
  if (deployed) await clearStack(node, deployed.manifest);
});

/** The canary's share the annotation states: "..., <name>-canary: 20% (1 pod)". */
function statedShare(service: string): number {
  const svc = deployed.manifest.objects.find((o) => o.kind === 'Service' && o.metadata.name === service);
  const text: string = svc.metadata.annotations['ml.cdk8s.io/traffic-split'];
  // the Service's own part ("classifier-canary: 20% (1 pod)"), not the HTTPRoute's
  const m = new RegExp(`${service}-canary: (\\d+)% \\(\\d+ pods?\\)`).exec(text);
  if (!m) throw new Error(`no canary share in ${service}'s annotation: ${text}`);
  return Number(m[1]) / 100;
}

async function split(count: number, one: () => Promise<string>): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const who = await one();
    seen[who] = (seen[who] ?? 0) + 1;
  }
  return seen;
}

test('classifier: the canary (2.20.0) answers the share of requests the Service annotation states', async () => {
  const url = `${await serviceUrl(node, NS, 'classifier', 'http')}/v1/models/image-classifier:predict`;
  const seen = await split(REQUESTS, async () => {
    const a = await request(url, {
      method: 'POST',
      body: JSON.stringify({ instances: [[0.1, 0.2, 0.3]] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(a.status).toBe(200);
    return String(a.headers['x-standin-version']);
  });
  const share = (seen['2.20.0'] ?? 0) / REQUESTS;
  // eslint-disable-next-line no-console
  console.log(
    `canary: ${REQUESTS} POSTs to classifier -> ${JSON.stringify(seen)}: canary ${share}, ` +
      `stated ${statedShare('classifier')} ± ${tolerance(statedShare('classifier')).toFixed(3)}`,
  );
  expect(Object.keys(seen).sort()).toEqual(['2.19.0', '2.20.0']);
  expect(Math.abs(share - statedShare('classifier'))).toBeLessThanOrEqual(tolerance(statedShare('classifier')));
});

test('scorer: the canary (1.5.0) answers the share of requests the Service annotation states', async () => {
  const url = `${await serviceUrl(node, NS, 'scorer', 'http')}/predict`;
  const seen = await split(REQUESTS, async () => {
    const a = await request(url, { method: 'POST', body: JSON.stringify({ instances: [[1, 2]] }), headers: { 'content-type': 'application/json' } });
    expect(a.status).toBe(200);
    return JSON.parse(a.body).version;
  });
  const share = (seen['1.5.0'] ?? 0) / REQUESTS;
  // eslint-disable-next-line no-console
  console.log(
    `canary: ${REQUESTS} POSTs to scorer -> ${JSON.stringify(seen)}: canary ${share}, ` +
      `stated ${statedShare('scorer')} ± ${tolerance(statedShare('scorer')).toFixed(3)}`,
  );
  expect(Object.keys(seen).sort()).toEqual(['1.4.0', '1.5.0']);
  expect(Math.abs(share - statedShare('scorer'))).toBeLessThanOrEqual(tolerance(statedShare('scorer')));
});

test('the NetworkPolicies admit exactly what the reachability model says', async () => {
  await expectPoliciesAsModeled(node, dist(), deployed.manifest, 'canary');
});

test("the classifier's PodDisruptionBudget (maxUnavailable 1) admits one eviction and refuses the second", async () => {
  const kube = node.cluster.kube;
  const pods = (await kube.list('v1', 'Pod', NS, 'app.kubernetes.io/instance=canary-classifier')).filter((p) => p.status.phase === 'Running');
  expect(pods.length).toBe(4);
  const evict = (name: string) =>
    kube.request('POST', `/api/v1/namespaces/${NS}/pods/${name}/eviction`, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace: NS },
    });
  const first = await evict(pods[0].metadata.name);
  const second = await evict(pods[1].metadata.name);
  // eslint-disable-next-line no-console
  console.log(`canary: eviction 1 -> ${first.status}; eviction 2 -> ${second.status} ${second.body?.message ?? ''}`);
  expect(first.status).toBe(201);
  expect(second.status).toBe(429);
  expect(second.body.message).toContain('disruption budget');
});

test('a rollout of the web app to a new image tag completes', async () => {
  const kube = node.cluster.kube;
  const ctr = node.node;
  // the new release: the same image under the tag a new synth would write
  const tag = spawnSync(
    `${ctr.bin}/ctr`,
    [
      '--address',
      ctr.socket,
      '-n',
      'k8s.io',
      'images',
      'tag',
      '--force',
      'registry.example.com/canary-web:1.0.0',
      'registry.example.com/canary-web:1.0.1',
    ],
    { encoding: 'utf8' },
  );
  expect(tag.status).toBe(0);
  const web = scaledObjects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'web');
  const next = JSON.parse(JSON.stringify(web));
  next.spec.template.spec.containers[0].image = 'registry.example.com/canary-web:1.0.1';
  const t0 = Date.now();
  applyYaml(node, JSON.stringify(next));
  const times = await waitReady(node, NS, { deployments: ['web'], jobs: [], since: t0 });
  const d = await kube.get('apps/v1', 'Deployment', 'web', NS);
  const pods = await kube.list('v1', 'Pod', NS, 'app.kubernetes.io/instance=canary-web');
  // eslint-disable-next-line no-console
  console.log(`canary: web rolled out to 1.0.1 in ${times.web} ms`);
  expect(d.status.updatedReplicas).toBe(2);
  expect(pods.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.spec.containers[0].image)).toEqual([
    'registry.example.com/canary-web:1.0.1',
    'registry.example.com/canary-web:1.0.1',
  ]);
});
