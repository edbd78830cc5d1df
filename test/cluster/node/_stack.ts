/**
 * Deploying a synthesized stack on the local node (scripts/cluster/node.mjs) the way users do, and
 * watching it work: its images imported into the node's runtime under the names the manifests use, its
 * claims bound to volumes on this node, `kubectl apply --server-side` of the manifest as written, then
 * Deployments Available and Jobs Complete. Requests go from this host to Service addresses (kube-proxy's
 * rules take them to the pods) or from pods the tests start.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { MlApp } from '../../../lib';
import { quantityValue } from '../../../lib/rules/quantity';
import { buildReferenceApps } from '../../../apps/main';
import { kubectl, TestNode, waitUntil } from '../../_util/kube';
import { synth, tempDir } from '../../_util/synth';
import { parseYamlStream } from '../../_util/yaml';

let reference: string | undefined;

/** Every reference app synthesized once per test file (through the shared output check), as `npm run synth` writes dist/. */
export function referenceOutput(): string {
  if (!reference) {
    reference = synthTo((app: MlApp) => buildReferenceApps(app), path.join(tempDir('cdk8s-ml-node-'), 'dist'));
  }
  return reference;
}

/** An app synthesized (through the shared output check) and written to `outdir`, as `cdk8s synth` writes it. */
export function synthTo(build: (app: MlApp) => void, outdir: string): string {
  const out = synth(build, outdir);
  for (const [rel, content] of out.files) {
    fs.mkdirSync(path.dirname(path.join(outdir, rel)), { recursive: true });
    fs.writeFileSync(path.join(outdir, rel), content);
  }
  return outdir;
}

export interface StackManifest {
  readonly stack: string;
  readonly yaml: string;
  readonly objects: any[];
  readonly namespace: string;
}

export function stackManifest(outdir: string, stack: string): StackManifest {
  const yaml = fs.readFileSync(path.join(outdir, 'manifests', `${stack}.k8s.yaml`), 'utf8');
  const objects = parseYamlStream(yaml);
  const ns = objects.find((o) => o.kind === 'Namespace');
  if (!ns) throw new Error(`${stack}: no Namespace in its manifest`);
  return { stack, yaml, objects, namespace: ns.metadata.name };
}

/**
 * A volume on this node for every claim in `objects`, bound to it in advance (claimRef): a directory
 * under the node's state dir, writable by any uid (a hostPath volume takes no fsGroup). This is static
 * provisioning, which any cluster supports; the controller-manager's hostpath provisioner makes its
 * directories 0750 root-owned, so non-root pods could not write to them.
 */
export async function provisionVolumes(node: TestNode, objects: readonly any[]): Promise<string[]> {
  const made: string[] = [];
  for (const pvc of objects.filter((o) => o.kind === 'PersistentVolumeClaim')) {
    const ns = pvc.metadata.namespace;
    const name = `${ns}-${pvc.metadata.name}`;
    const dir = path.join(node.node.dir, 'volumes', ns, pvc.metadata.name);
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o777);
    await node.cluster.kube.delete('v1', 'PersistentVolume', name);
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, labels: { 'cdk8s-ml.test/volume': 'node' } },
      spec: {
        capacity: { storage: pvc.spec.resources.requests.storage },
        accessModes: pvc.spec.accessModes,
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: pvc.spec.storageClassName ?? '',
        claimRef: { namespace: ns, name: pvc.metadata.name },
        hostPath: { path: dir, type: 'Directory' },
      },
    };
    const a = await node.cluster.kube.create(pv);
    if (a.status >= 300) throw new Error(`PersistentVolume ${name}: ${a.status} ${JSON.stringify(a.body)}`);
    made.push(name);
  }
  return made;
}

export function applyYaml(node: TestNode, yaml: string): string[] {
  const res = kubectl(node.cluster, ['apply', '--server-side', '--field-manager=cdk8s-ml-test', '--force-conflicts', '-o', 'name', '-f', '-'], yaml);
  if (res.status !== 0) throw new Error(`kubectl apply failed (exit ${res.status}):\n${res.stderr}`);
  return res.stdout.split('\n').filter(Boolean);
}

/** What a pod is doing, for failure messages: phase, each container's state, the last events. */
export async function describePods(node: TestNode, namespace: string): Promise<string> {
  const pods = await node.cluster.kube.list('v1', 'Pod', namespace);
  const events = await node.cluster.kube.list('v1', 'Event', namespace);
  const lines = pods.map((p) => {
    const cs = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]
      .map((c: any) => `${c.name}: ${JSON.stringify(c.state)}${c.lastState?.terminated ? ` last ${JSON.stringify(c.lastState.terminated)}` : ''}`)
      .join('; ');
    const conds = (p.status?.conditions ?? [])
      .filter((c: any) => c.status !== 'True')
      .map((c: any) => `${c.type}: ${c.reason ?? ''} ${c.message ?? ''}`);
    return `${p.metadata.name} ${p.status?.phase} ${cs} ${conds.join(' ')}`;
  });
  const ev = events
    .filter((e) => e.type === 'Warning')
    .slice(-10)
    .map((e) => `${e.involvedObject?.name}: ${e.reason} ${e.message}`);
  return [...lines, ...ev].join('\n');
}

/** The logs of every container of a pod (the API server reads them from the kubelet). */
export function podLogs(node: TestNode, namespace: string, pod: string): string {
  const res = kubectl(node.cluster, ['logs', '-n', namespace, pod, '--all-containers', '--tail=200']);
  return `${res.stdout}${res.stderr}`;
}

const available = (d: any) =>
  (d.status?.observedGeneration ?? 0) >= d.metadata.generation &&
  (d.status?.updatedReplicas ?? 0) === d.spec.replicas &&
  (d.status?.availableReplicas ?? 0) === d.spec.replicas &&
  (d.status?.replicas ?? 0) === d.spec.replicas;

const jobDone = (j: any, type: 'Complete' | 'Failed') => (j.status?.conditions ?? []).some((c: any) => c.type === type && c.status === 'True');

/**
 * Waits until every Deployment of `names` (all of the namespace's when omitted) is Available with all its
 * replicas updated, and every Job Complete; returns the milliseconds each took from `since`.
 */
export async function waitReady(
  node: TestNode,
  namespace: string,
  opts: { deployments?: string[]; jobs?: string[]; timeoutMs?: number; since?: number } = {},
): Promise<Record<string, number>> {
  const since = opts.since ?? Date.now();
  const kube = node.cluster.kube;
  const deployments = opts.deployments ?? (await kube.list('apps/v1', 'Deployment', namespace)).map((d) => d.metadata.name);
  const jobs = opts.jobs ?? (await kube.list('batch/v1', 'Job', namespace)).map((j) => j.metadata.name);
  const times: Record<string, number> = {};
  try {
    await waitUntil(
      `${namespace}: ${[...deployments, ...jobs].join(', ')} ready`,
      opts.timeoutMs ?? 240_000,
      async () => {
        for (const name of deployments.filter((n) => times[n] === undefined)) {
          const d = await kube.get('apps/v1', 'Deployment', name, namespace);
          if (d && available(d)) times[name] = Date.now() - since;
        }
        for (const name of jobs.filter((n) => times[n] === undefined)) {
          const j = await kube.get('batch/v1', 'Job', name, namespace);
          if (j && jobDone(j, 'Failed')) throw new Error(`Job ${namespace}/${name} failed: ${JSON.stringify(j.status.conditions)}`);
          if (j && jobDone(j, 'Complete')) times[name] = Date.now() - since;
        }
        return Object.keys(times).length === deployments.length + jobs.length;
      },
      500,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await describePods(node, namespace)}`);
  }
  return times;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** One HTTP request from this host on a fresh connection (so kube-proxy picks a backend per request). */
export function request(
  url: string,
  opts: { method?: string; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    // a body goes with its Content-Length, as HTTP clients (python requests, curl) send it; without one node
    // sends it chunked, which the stand-ins' http.server does not read (RFC 9112 section 6.3)
    const headers = { ...opts.headers, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) };
    const req = http.request(url, { method: opts.method ?? 'GET', headers, agent: false, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 10_000} ms: ${url}`)));
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** `http://<ClusterIP>:<port>` of a Service's port (by name, or its first). */
export async function serviceUrl(node: TestNode, namespace: string, service: string, portName?: string): Promise<string> {
  const svc = await node.cluster.kube.get('v1', 'Service', service, namespace);
  if (!svc) throw new Error(`no Service ${namespace}/${service}`);
  const port = portName ? svc.spec.ports.find((p: any) => p.name === portName) : svc.spec.ports[0];
  if (!port) throw new Error(`Service ${namespace}/${service} has no port ${portName}`);
  return `http://${svc.spec.clusterIP}:${port.port}`;
}

export interface PodRun {
  readonly exitCode: number;
  readonly message: string;
  readonly ms: number;
}

/** Creates a pod that runs to completion and returns its container's exit code and termination message. */
export async function runPod(node: TestNode, pod: any, timeoutMs = 90_000): Promise<PodRun> {
  const kube = node.cluster.kube;
  const ns = pod.metadata.namespace;
  await kube.delete('v1', 'Pod', pod.metadata.name, ns);
  const t0 = Date.now();
  const a = await kube.create(pod);
  if (a.status >= 300) throw new Error(`Pod ${ns}/${pod.metadata.name}: ${a.status} ${JSON.stringify(a.body?.message ?? a.body)}`);
  let done: any;
  try {
    await waitUntil(`pod ${ns}/${pod.metadata.name} finished`, timeoutMs, async () => {
      const p = await kube.get('v1', 'Pod', pod.metadata.name, ns);
      const t = p?.status?.containerStatuses?.[0]?.state?.terminated;
      if (t) done = t;
      return t !== undefined;
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await describePods(node, ns)}`);
  }
  await kube.request('DELETE', `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}?gracePeriodSeconds=0`);
  return { exitCode: done.exitCode, message: (done.message ?? '').trim(), ms: Date.now() - t0 };
}

/** Millicores of a CPU quantity as a manifest writes it ('250m', '1', 2); 0 when absent. */
export function millicores(q: unknown): number {
  return q === undefined ? 0 : Math.round((quantityValue(q) ?? Number.NaN) * 1000);
}

/**
 * The stack's objects with every container's CPU request multiplied by `factor` (at least 10m), limits and
 * everything else as written. Only for stacks whose requests exceed this node's 2 CPUs (canary asks for 7.5):
 * the scheduler would leave most pods Pending with Insufficient cpu, and the test is about what runs.
 */
export function withCpuRequestsScaled(objects: readonly any[], factor: number): { yaml: string; before: number; after: number } {
  let before = 0;
  let after = 0;
  const copy = objects.map((o) => {
    const spec = o.spec?.template?.spec;
    if (!spec) return o;
    const c = JSON.parse(JSON.stringify(o));
    const replicas = o.kind === 'Deployment' ? (o.spec.replicas ?? 1) : 1;
    for (const ct of [...(c.spec.template.spec.initContainers ?? []), ...c.spec.template.spec.containers]) {
      const cpu = ct.resources?.requests?.cpu;
      if (cpu === undefined) continue;
      const m = Math.max(10, Math.round(millicores(cpu) * factor));
      before += millicores(cpu) * replicas;
      after += m * replicas;
      ct.resources.requests.cpu = `${m}m`;
    }
    return c;
  });
  return { yaml: copy.map((o) => `---\n${JSON.stringify(o)}\n`).join(''), before, after };
}
