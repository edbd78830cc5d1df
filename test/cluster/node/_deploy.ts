/**
 * One reference stack on the node, end to end: its images built (as users build them, from the generated
 * Dockerfiles) and imported, its claims given volumes, its manifest applied as written, every Deployment
 * Available and every Job Complete; then its NetworkPolicies tried for real, edge by edge, against the
 * verdicts of the library's reachability model.
 */
import { TestNode } from '../../_util/kube';
import { buildNodeImages, imagesOf, isUnbuildable, NODE_SYSTEM_IMAGES } from './_images';
import { formatMatrix, networkProbes, Probe, probeNamespaces, probePod } from './_netpol';
import { applyYaml, provisionVolumes, runPod, StackManifest, waitReady } from './_stack';
import { waitUntil } from '../../_util/kube';
import { installOutputCrds } from '../_deploy';

export interface Deployed {
  readonly manifest: StackManifest;
  /** Workload -> ms from apply to Available / Complete. */
  readonly readyMs: Record<string, number>;
  /** ms from apply until the last workload was ready. */
  readonly totalMs: number;
  readonly imageMs: number;
}

const imported = new Set<string>();
let crdsInstalled = false;

/** Builds (or takes from the cache) and imports the named images the node does not have yet. */
export async function importImages(node: TestNode, distDir: string, names: readonly string[]): Promise<number> {
  const t0 = Date.now();
  const wanted = names.filter((n) => !imported.has(n) && !isUnbuildable(n));
  const images = await buildNodeImages(distDir, wanted);
  node.importImages(images.map((i) => i.archive));
  for (const n of wanted) imported.add(n);
  return Date.now() - t0;
}

/** Removes what an earlier run (or the API-only tests) left of this stack, so it starts from nothing. */
export function clearStack(node: TestNode, manifest: StackManifest): Promise<void> {
  return clearStacks(node, [manifest]);
}

/** clearStack of several stacks at once (the node is idle only once all of them are gone). */
export async function clearStacks(node: TestNode, manifests: readonly StackManifest[]): Promise<void> {
  const kube = node.cluster.kube;
  const namespaces = manifests.flatMap((m) => [m.namespace, `${m.stack}-netprobe`]);
  await Promise.all(namespaces.map((ns) => kube.deleteNamespace(ns, 180_000)));
  for (const pv of await kube.list('v1', 'PersistentVolume', undefined, 'cdk8s-ml.test/volume=node')) {
    if (manifests.some((m) => pv.spec.claimRef?.namespace === m.namespace)) await kube.delete('v1', 'PersistentVolume', pv.metadata.name);
  }
  await waitNodeIdle(node);
}

/**
 * Waits until no pod outside kube-system is on the node: the node has 2 CPUs, and a stack's pods fit only
 * when the stacks before it (and the pods of the API-only tests, whose namespaces are being deleted) are gone.
 */
export async function waitNodeIdle(node: TestNode, timeoutMs = 240_000): Promise<void> {
  let busy: string[] = [];
  try {
    await waitUntil(
      'the node to have no pods outside kube-system',
      timeoutMs,
      async () => {
        const pods = await node.cluster.kube.request('GET', `/api/v1/pods?fieldSelector=spec.nodeName%3D${node.node.name}`);
        busy = (pods.body.items ?? [])
          .filter((p: any) => p.metadata.namespace !== 'kube-system')
          .map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`);
        return busy.length === 0;
      },
      1000,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${busy.join(', ')}`);
  }
}

/** The stacks write Gateway API routes: a cluster that runs them has the Gateway API's CRDs (installed once). */
export function ensureOutputCrds(node: TestNode): void {
  if (crdsInstalled) return;
  installOutputCrds(node.cluster);
  crdsInstalled = true;
}

export async function deploy(
  node: TestNode,
  distDir: string,
  manifest: StackManifest,
  opts: { yaml?: string; deployments?: string[]; jobs?: string[]; timeoutMs?: number } = {},
): Promise<Deployed> {
  await clearStack(node, manifest);
  ensureOutputCrds(node);
  const imageMs = await importImages(node, distDir, imagesOf(opts.yaml ?? manifest.yaml));
  await provisionVolumes(node, manifest.objects);
  const t0 = Date.now();
  applyYaml(node, opts.yaml ?? manifest.yaml);
  const readyMs = await waitReady(node, manifest.namespace, { deployments: opts.deployments, jobs: opts.jobs, timeoutMs: opts.timeoutMs, since: t0 });
  return { manifest, readyMs, totalMs: Math.max(0, ...Object.values(readyMs)), imageMs };
}

export interface ProbeResult {
  readonly probe: Probe;
  readonly actual: 'allow' | 'deny';
  readonly detail: string;
}

/**
 * Every edge of the stack's probe list, tried from a pod with the client's labels in the client's
 * namespace (created here when it is not the stack's own), all at once.
 */
export async function probeNetwork(node: TestNode, distDir: string, manifest: StackManifest): Promise<ProbeResult[]> {
  await importImages(node, distDir, [NODE_SYSTEM_IMAGES.netprobe]);
  const probes = networkProbes(manifest.stack, manifest.objects);
  const extra = probeNamespaces(probes, manifest.objects) as any[];
  for (const ns of extra) await node.cluster.kube.ensureNamespace(ns.metadata.name, ns.metadata.labels ?? {});
  const runs = await Promise.all(
    probes.map((p, i) => runPod(node, probePod(p, NODE_SYSTEM_IMAGES.netprobe, `netprobe-${manifest.stack}-${i}`), 120_000)),
  );
  return probes.map((probe, i) => ({ probe, actual: runs[i].exitCode === 0 ? 'allow' : 'deny', detail: runs[i].message }));
}

/**
 * probeNetwork, the matrix printed, and the test's assertion: at least one edge tried, and every real result
 * equal to the reachability model's verdict (the mismatches listed otherwise).
 */
export async function expectPoliciesAsModeled(node: TestNode, distDir: string, manifest: StackManifest, label = manifest.stack): Promise<void> {
  const rows = await probeNetwork(node, distDir, manifest);
  // eslint-disable-next-line no-console
  console.log(`${label} NetworkPolicy matrix:\n${formatMatrix(rows)}`);
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.filter((r) => r.actual !== r.probe.expect).map((r) => `${r.probe.name}: ${r.actual} (${r.detail})`)).toEqual([]);
}
