/**
 * The GPU stacks on a node without GPUs. image-classifier and llm-chat are applied exactly as written: their
 * GPU servers stay Pending, and the scheduler says why. While the node is not in the manifests' accelerator
 * pool (cloud.google.com/gke-accelerator: nvidia-l4) the first reason is the node selector; once the node
 * carries that label (a GPU node pool whose device plugin has not registered any GPU) it is
 * `Insufficient nvidia.com/gpu`: the node's allocatable has no nvidia.com/gpu (an extended resource,
 * https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/). Then a copy of image-classifier without
 * the GPU request, node selector and toleration runs here (its TF Serving stand-in is tagged 2.20.0-gpu as
 * written), classifies an uploaded image through its web Service, and its NetworkPolicies admit what the
 * reachability model says. llm-chat has no such copy: its server is vLLM, whose image has no build on these
 * machines (_images.ts `unbuildable` says why).
 */
import { testNode, TestNode, kubectl, waitUntil } from '../../_util/kube';
import { parseYamlStream } from '../../_util/yaml';
import { clearStack, clearStacks, deploy, Deployed, ensureOutputCrds, importImages, expectPoliciesAsModeled } from './_deploy';
import { imagesOf } from './_images';
import { applyYaml, provisionVolumes, referenceOutput, request, serviceUrl, StackManifest, stackManifest, withCpuRequestsScaled } from './_stack';

jest.setTimeout(20 * 60_000);

const POOL_LABEL = 'cloud.google.com/gke-accelerator';
let node: TestNode;
let stacks: StackManifest[];
const dist = () => referenceOutput();

const usesGpu = (d: any) =>
  d.kind === 'Deployment' && d.spec.template.spec.containers.some((c: any) => c.resources?.limits?.['nvidia.com/gpu'] !== undefined);

function label(value: string | undefined): void {
  const arg = value === undefined ? `${POOL_LABEL}-` : `${POOL_LABEL}=${value}`;
  const res = kubectl(node.cluster, ['label', 'node', node.node.name, '--overwrite', arg]);
  if (res.status !== 0) throw new Error(`kubectl label node failed: ${res.stderr}`);
}

/** The PodScheduled condition's message of every pod of a Deployment, once each pod has one. */
async function unschedulable(namespace: string, deployment: any, pattern: RegExp): Promise<string[]> {
  const selector = Object.entries(deployment.spec.selector.matchLabels as Record<string, string>)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  let messages: string[] = [];
  await waitUntil(
    `${namespace}/${deployment.metadata.name}: every pod unschedulable with ${pattern}`,
    120_000,
    async () => {
      const pods = await node.cluster.kube.list('v1', 'Pod', namespace, selector);
      messages = pods.map((p) => {
        const c = (p.status?.conditions ?? []).find((x: any) => x.type === 'PodScheduled');
        return c && c.status === 'False' && c.reason === 'Unschedulable' && !p.spec.nodeName ? c.message : '';
      });
      return pods.length === deployment.spec.replicas && messages.every((m) => pattern.test(m));
    },
    1000,
  );
  return messages;
}

beforeAll(async () => {
  node = await testNode();
  stacks = ['image-classifier', 'llm-chat'].map((s) => stackManifest(dist(), s));
  label(undefined);
});

afterAll(async () => {
  if (node) label(undefined);
  if (stacks) await clearStacks(node, stacks);
});

test('applied as written, the GPU servers stay Pending: first for the node selector, then for Insufficient nvidia.com/gpu', async () => {
  ensureOutputCrds(node);
  await clearStacks(node, stacks);
  for (const s of stacks) {
    await importImages(node, dist(), imagesOf(s.yaml));
    await provisionVolumes(node, s.objects);
    applyYaml(node, s.yaml);
  }
  const gpu = stacks.flatMap((s) => s.objects.filter(usesGpu).map((d) => ({ ns: s.namespace, d })));
  expect(gpu.map((g) => `${g.ns}/${g.d.metadata.name}`)).toEqual(['image-classifier/model-server', 'llm-chat/llm']);
  const n = await node.cluster.kube.get('v1', 'Node', node.node.name);
  expect(n.status.allocatable['nvidia.com/gpu']).toBeUndefined();
  for (const g of gpu) {
    const msgs = await unschedulable(g.ns, g.d, /didn't match Pod's node affinity\/selector/);
    // eslint-disable-next-line no-console
    console.log(`gpu: ${g.ns}/${g.d.metadata.name} outside the pool: ${msgs[0]}`);
  }
  label('nvidia-l4');
  for (const g of gpu) {
    const msgs = await unschedulable(g.ns, g.d, /Insufficient nvidia\.com\/gpu/);
    // eslint-disable-next-line no-console
    console.log(`gpu: ${g.ns}/${g.d.metadata.name} in the pool: ${msgs[0]}`);
  }
  // and they stay so: nothing binds them while no GPU is allocatable
  await new Promise((r) => setTimeout(r, 15_000));
  for (const g of gpu) await unschedulable(g.ns, g.d, /Insufficient nvidia\.com\/gpu/);
  label(undefined);
  await clearStacks(node, stacks);
});

/** image-classifier's objects without the GPU: no nvidia.com/gpu request, no accelerator selector, no GPU toleration. */
function withoutGpu(objects: readonly any[]): any[] {
  return objects.map((o) => {
    if (!usesGpu(o)) return o;
    const c = JSON.parse(JSON.stringify(o));
    const spec = c.spec.template.spec;
    for (const ct of spec.containers) {
      delete ct.resources.limits['nvidia.com/gpu'];
      delete ct.resources.requests?.['nvidia.com/gpu'];
    }
    delete spec.nodeSelector[POOL_LABEL];
    if (Object.keys(spec.nodeSelector).length === 0) delete spec.nodeSelector;
    spec.tolerations = (spec.tolerations ?? []).filter((t: any) => t.key !== 'nvidia.com/gpu');
    if (spec.tolerations.length === 0) delete spec.tolerations;
    return c;
  });
}

/** A P6 (binary PPM) image of one grey level: the web app's Pillow opens it like any upload. */
function greyPpm(size: number, level: number): string {
  return `P6\n${size} ${size}\n255\n${String.fromCharCode(level).repeat(size * size * 3)}`;
}

test('a copy of image-classifier without the GPU runs, classifies an uploaded image through its web Service; its policies hold', async () => {
  const manifest = stacks[0];
  const scaled = withCpuRequestsScaled(withoutGpu(manifest.objects), 0.3);
  expect(scaled.yaml).not.toContain('nvidia');
  let deployed: Deployed | undefined;
  try {
    deployed = await deploy(node, dist(), manifest, { yaml: scaled.yaml });
    // eslint-disable-next-line no-console
    console.log(
      `gpu: image-classifier without GPU ready in ${deployed.totalMs} ms (${JSON.stringify(deployed.readyMs)}); ` +
        `CPU ${scaled.before}m -> ${scaled.after}m`,
    );
    expect(Object.keys(deployed.readyMs).sort()).toEqual(['image-classifier', 'model-server']);
    const server = parseYamlStream(scaled.yaml).find((o) => o.kind === 'Deployment' && o.metadata.name === 'model-server');
    expect(server.spec.template.spec.containers[0].image).toBe('tensorflow/serving:2.20.0-gpu');
    const web = await serviceUrl(node, manifest.namespace, 'image-classifier');
    const boundary = 'cdk8s-ml-test-boundary';
    const level = 100; // below 128: the body stays ASCII
    const body =
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="grey.ppm"\r\nContent-Type: image/x-portable-pixmap\r\n\r\n` +
      `${greyPpm(8, level)}\r\n--${boundary}--\r\n`;
    const answer = await request(`${web}/classify`, {
      method: 'POST',
      body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    // eslint-disable-next-line no-console
    console.log(`gpu: POST ${web}/classify (8x8 grey ${level}) -> ${answer.status} ${answer.body.trim()}`);
    expect(answer.status).toBe(200);
    // the stand-in's ten scores of a uniform image: ((i + 1) * (mean + 0.1)) mod 1, mean = level / 255
    const mean = level / 255;
    const scores = Array.from({ length: 10 }, (_, i) => ((i + 1) * (mean + 0.1)) % 1);
    const top = scores
      .map((s, i) => ({ i, s }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 5);
    const got = JSON.parse(answer.body).classes as { class: number; score: number }[];
    expect(got.map((c) => c.class)).toEqual(top.map((t) => t.i));
    got.forEach((c, k) => expect(c.score).toBeCloseTo(top[k].s, 4));
    const bad = await request(`${web}/classify`, { method: 'POST', body: '', headers: { 'content-type': 'text/plain' } });
    expect(bad.status).toBe(400);
    await expectPoliciesAsModeled(node, dist(), manifest, 'image-classifier (without GPU)');
  } finally {
    await clearStack(node, manifest);
  }
});
