/**
 * A real Kubernetes API server for the tests: the local control plane scripts/cluster/cluster.mjs builds
 * from upstream sources and starts on 127.0.0.1, or any cluster named by CDK8S_ML_TEST_KUBECONFIG
 * (`KUBECONFIG=~/.kube/config npm run test:cluster`: a kind cluster on a laptop).
 *
 * The local one is started on first use by whichever test file needs it and stopped by jest's global
 * teardown (test/_util/cluster-teardown.js) when this jest run started it; a cluster started by hand
 * (`npm run cluster:up`) is reused and left running.
 *
 * `Kube` talks to the API server directly (server-side apply and create, with dryRun and
 * fieldValidation=Strict as query parameters, the same requests kubectl makes) and returns the
 * server's warnings (the `Warning` response headers, RFC 7234 form `299 - "text"`) with every answer.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { load } from 'js-yaml';

export const ROOT = path.resolve(__dirname, '../..');
const CLUSTER_SCRIPT = path.join(ROOT, 'scripts/cluster/cluster.mjs');

export interface TestCluster {
  readonly kubeconfig: string;
  /** A kubectl of the cluster's version (the one built with the local cluster), or CDK8S_ML_KUBECTL / PATH's. */
  readonly kubectl: string;
  /** The Gateway API standard-channel CRDs' directory (built with the local cluster). */
  readonly gatewayCrds: string;
  /** True for the local cluster this repo starts; false for an external one. */
  readonly local: boolean;
  readonly kube: Kube;
}

let cached: Promise<TestCluster> | undefined;

/** The cluster the tests use (started, if local, at the first call of the jest run). */
export function testCluster(): Promise<TestCluster> {
  cached ??= open();
  return cached;
}

function clusterScript(args: string[], extraEnv: Record<string, string> = {}): string {
  const res = spawnSync(process.execPath, [CLUSTER_SCRIPT, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...extraEnv },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) throw new Error(`node ${CLUSTER_SCRIPT} ${args.join(' ')}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`node scripts/cluster/cluster.mjs ${args.join(' ')} failed (exit ${res.status}):\n${res.stderr.trim()}`);
  // What it built and how long the start took, in the test log.
  // eslint-disable-next-line no-console
  if (res.stderr.trim() !== '') console.log(res.stderr.trim());
  return res.stdout;
}

function envLines(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

async function open(): Promise<TestCluster> {
  const paths = envLines(clusterScript(['env']));
  const external = process.env.CDK8S_ML_TEST_KUBECONFIG;
  if (external) {
    const builtKubectl = path.join(paths.CDK8S_ML_CLUSTER_BIN, 'kubectl');
    const kubectl = process.env.CDK8S_ML_KUBECTL || (fs.existsSync(builtKubectl) ? builtKubectl : 'kubectl');
    if (!fs.existsSync(path.join(paths.CDK8S_ML_CLUSTER_CRDS, 'done'))) clusterScript(['crds']);
    return { kubeconfig: external, kubectl, gatewayCrds: paths.CDK8S_ML_CLUSTER_CRDS, local: false, kube: new Kube(external) };
  }
  // The owner mark lets the global teardown stop only a cluster this jest run started.
  const kubeconfig = clusterScript(['up'], { CDK8S_ML_CLUSTER_OWNER: jestRunOwner() }).trim();
  return {
    kubeconfig,
    kubectl: path.join(paths.CDK8S_ML_CLUSTER_BIN, 'kubectl'),
    gatewayCrds: paths.CDK8S_ML_CLUSTER_CRDS,
    local: true,
    kube: new Kube(kubeconfig),
  };
}

/** The node of the local cluster (scripts/cluster/node.mjs), as cluster.json records it. */
export interface NodeInfo {
  readonly name: string;
  readonly ip: string;
  /** The node's binaries (kubelet, containerd, ctr ...). */
  readonly bin: string;
  /** containerd's socket. */
  readonly socket: string;
  /** The node's state directory (removed by `down`). */
  readonly dir: string;
  readonly podCidr: string;
  readonly dnsServiceIp: string;
  readonly startupMs: number;
}

export interface TestNode {
  readonly cluster: TestCluster;
  readonly node: NodeInfo;
  /** Imports docker/OCI archives into the node's image store under the names their manifests give. */
  importImages(archives: readonly string[]): void;
}

let cachedNode: Promise<TestNode> | undefined;

/**
 * The local cluster with its node (kubelet, containerd, kube-proxy, CoreDNS, kube-router), started at the first
 * call of the jest run. An external cluster (CDK8S_ML_TEST_KUBECONFIG) is not used here: the node tests import
 * images into this node's runtime, which no external cluster offers.
 */
export function testNode(): Promise<TestNode> {
  cachedNode ??= openNode();
  return cachedNode;
}

async function openNode(): Promise<TestNode> {
  const paths = envLines(clusterScript(['env']));
  const kubeconfig = clusterScript(['node-up'], { CDK8S_ML_CLUSTER_OWNER: jestRunOwner() }).trim();
  const info = JSON.parse(fs.readFileSync(path.join(path.dirname(kubeconfig), 'cluster.json'), 'utf8'));
  const cluster: TestCluster = {
    kubeconfig,
    kubectl: path.join(paths.CDK8S_ML_CLUSTER_BIN, 'kubectl'),
    gatewayCrds: paths.CDK8S_ML_CLUSTER_CRDS,
    local: true,
    kube: new Kube(kubeconfig),
  };
  cached ??= Promise.resolve(cluster);
  const node: NodeInfo = info.node;
  return {
    cluster,
    node,
    importImages(archives) {
      for (const a of archives) {
        const res = spawnSync(path.join(node.bin, 'ctr'), ['--address', node.socket, '--namespace', 'k8s.io', 'images', 'import', a], {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        if (res.status !== 0) throw new Error(`ctr images import ${a} failed (exit ${res.status}): ${res.stderr || res.error?.message}`);
      }
    },
  };
}

/** Set by test/_util/cluster-setup.js in the jest parent; workers inherit it. */
export function jestRunOwner(): string {
  return `jest-${process.env.CDK8S_ML_JEST_RUN ?? 'unknown'}`;
}

// ---------------------------------------------------------------------------------------------------

export interface ApiAnswer {
  readonly status: number;
  readonly body: any;
  /** The server's warnings, one per `Warning` header, without the `299 - "..."` wrapping. */
  readonly warnings: string[];
}

export interface ResourceInfo {
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The message of a refusal (a Status object's message), or the raw body. */
export function answerMessage(a: ApiAnswer): string {
  if (a.body && typeof a.body === 'object' && typeof a.body.message === 'string') return a.body.message;
  return typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
}

function parseWarning(raw: string): string {
  const m = /^\d{3} \S+ "(.*)"$/s.exec(raw.trim());
  return m ? m[1].replace(/\\(.)/g, '$1') : raw;
}

/** How to reach a cluster: its URL and the TLS options and headers of the current context's user. */
export interface Connection {
  readonly server: string;
  readonly tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
  readonly headers: Record<string, string>;
}

/**
 * The current context of a kubeconfig file: certificate authority, client certificate and key, or a
 * bearer token (inline or as files). Exec and auth-provider plugins are not run: use a kubeconfig with
 * credentials in it (kind's, or `kubectl config view --raw --minify --flatten` of one whose token is fresh).
 */
export function loadKubeconfig(file: string): Connection {
  const cfg = load(fs.readFileSync(file, 'utf8')) as any;
  const dir = path.dirname(file);
  const named = (list: any[] | undefined, name: string, what: string) => {
    const found = (list ?? []).find((e) => e?.name === name);
    if (!found) throw new Error(`${file}: no ${what} named ${JSON.stringify(name)}`);
    return found;
  };
  const ctx = named(cfg?.contexts, cfg?.['current-context'], 'context').context;
  const cluster = named(cfg.clusters, ctx.cluster, 'cluster').cluster;
  const user = ctx.user ? (named(cfg.users, ctx.user, 'user').user ?? {}) : {};
  const read = (data: string | undefined, f: string | undefined) =>
    data ? Buffer.from(data, 'base64').toString('utf8') : f ? fs.readFileSync(path.resolve(dir, f), 'utf8') : undefined;
  if (user.exec || user['auth-provider'])
    throw new Error(
      `${file}: user ${ctx.user} uses an exec or auth-provider plugin, which these tests do not ` +
        `run; give a kubeconfig with a client certificate or a token`,
    );
  const token = user.token ?? (user.tokenFile ? fs.readFileSync(path.resolve(dir, user.tokenFile), 'utf8').trim() : undefined);
  return {
    server: String(cluster.server).replace(/\/$/, ''),
    tls: {
      ca: read(cluster['certificate-authority-data'], cluster['certificate-authority']),
      cert: read(user['client-certificate-data'], user['client-certificate']),
      key: read(user['client-key-data'], user['client-key']),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    },
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  };
}

function parseAnswer(status: number, text: string, rawHeaders: string[]): ApiAnswer {
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  const warnings: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'warning') warnings.push(parseWarning(rawHeaders[i + 1]));
  return { status, body: parsed, warnings };
}

const groupPath = (apiVersion: string) => (apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);

/** A discovery answer (GET /api/v1, /apis/<group>/<version>) as kind -> resource. */
function discovered(a: ApiAnswer): Map<string, ResourceInfo> {
  const byKind = new Map<string, ResourceInfo>();
  if (a.status === 200) {
    for (const r of a.body.resources as Array<{ name: string; kind: string; namespaced: boolean }>) {
      if (!r.name.includes('/')) byKind.set(r.kind, { plural: r.name, namespaced: r.namespaced });
    }
  }
  return byKind;
}

function collectionUrl(apiVersion: string, r: ResourceInfo, namespace: string | undefined): string {
  return r.namespaced
    ? `${groupPath(apiVersion)}/namespaces/${encodeURIComponent(namespace ?? 'default')}/${r.plural}`
    : `${groupPath(apiVersion)}/${r.plural}`;
}

/** The server-side apply request of an object (PATCH application/apply-patch+yaml, forced, strict). */
function applyRequest(collection: string, obj: any, dryRun: boolean | undefined): [string, string, unknown, string] {
  const q = new URLSearchParams({ fieldManager: 'cdk8s-ml-test', force: 'true', fieldValidation: 'Strict' });
  if (dryRun) q.set('dryRun', 'All');
  return ['PATCH', `${collection}/${encodeURIComponent(obj?.metadata?.name ?? '')}?${q}`, obj, 'application/apply-patch+yaml'];
}

/** The API of one cluster: discovery, server-side apply, create, get, delete, with warnings. */
export class Kube {
  private readonly resources = new Map<string, Map<string, ResourceInfo>>();
  readonly connection: Connection;

  constructor(kubeconfigPath: string) {
    this.connection = loadKubeconfig(kubeconfigPath);
  }

  async request(method: string, urlPath: string, body?: unknown, contentType = 'application/json'): Promise<ApiAnswer> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json', ...this.connection.headers };
    if (payload !== undefined) headers['Content-Type'] = contentType;
    const url = new URL(this.connection.server + urlPath);
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, ...this.connection.tls, timeout: 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(parseAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), res.rawHeaders)));
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer in 60 s`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** The REST resource of apiVersion/kind, from discovery (re-read once on a miss: a CRD may be new). */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!this.resources.has(apiVersion) || attempt > 0)
        this.resources.set(apiVersion, discovered(await this.request('GET', groupPath(apiVersion))));
      const found = this.resources.get(apiVersion)!.get(kind);
      if (found) return found;
    }
    return undefined;
  }

  /** The collection path of an object's kind (in its namespace, `default` when it names none). */
  async collectionPath(obj: any): Promise<string> {
    const apiVersion = String(obj?.apiVersion ?? '');
    const r = await this.resource(apiVersion, String(obj?.kind ?? ''));
    if (!r) throw new Error(`the API server serves no ${obj?.kind} in ${apiVersion}`);
    return collectionUrl(apiVersion, r, obj?.metadata?.namespace);
  }

  /**
   * Server-side apply (what `kubectl apply --server-side [--dry-run=server] --field-validation=Strict`
   * sends): PATCH application/apply-patch+yaml with force, as one field manager.
   */
  async apply(obj: any, opts: { dryRun?: boolean } = {}): Promise<ApiAnswer> {
    return this.request(...applyRequest(await this.collectionPath(obj), obj, opts.dryRun));
  }

  /** A create (POST), as `kubectl create [--dry-run=server] --validate=strict` sends it. */
  async create(obj: any, opts: { dryRun?: boolean } = {}): Promise<ApiAnswer> {
    const q = new URLSearchParams({ fieldValidation: 'Strict', fieldManager: 'cdk8s-ml-test' });
    if (opts.dryRun) q.set('dryRun', 'All');
    return this.request('POST', `${await this.collectionPath(obj)}?${q}`, obj);
  }

  async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<any | undefined> {
    const a = await this.request('GET', `${await this.collectionPath({ apiVersion, kind, metadata: { namespace } })}/${encodeURIComponent(name)}`);
    return a.status === 200 ? a.body : undefined;
  }

  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<any[]> {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const a = await this.request('GET', `${await this.collectionPath({ apiVersion, kind, metadata: { namespace } })}${q}`);
    if (a.status !== 200) throw new Error(`list ${kind} in ${namespace}: ${a.status} ${answerMessage(a)}`);
    return a.body.items;
  }

  async delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<ApiAnswer> {
    return this.request(
      'DELETE',
      `${await this.collectionPath({ apiVersion, kind, metadata: { namespace } })}/${encodeURIComponent(name)}?propagationPolicy=Background`,
    );
  }

  /** Creates (for real) a namespace with these labels if it does not exist; waits for its default ServiceAccount. */
  async ensureNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    const a = await this.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    if (a.status >= 300) throw new Error(`namespace ${name}: ${a.status} ${answerMessage(a)}`);
    await waitUntil(
      `ServiceAccount default in namespace ${name}`,
      60_000,
      async () => (await this.get('v1', 'ServiceAccount', 'default', name)) !== undefined,
    );
  }

  /** Deletes a namespace and waits until it is gone (the namespace controller empties it first). */
  async deleteNamespace(name: string, timeoutMs = 120_000): Promise<void> {
    const a = await this.delete('v1', 'Namespace', name);
    if (a.status === 404) return;
    await waitUntil(`namespace ${name} deleted`, timeoutMs, async () => (await this.get('v1', 'Namespace', name)) === undefined);
  }
}

export async function waitUntil(what: string, timeoutMs: number, done: () => Promise<boolean>, everyMs = 250): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await done()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs the cluster's kubectl; returns its exit status, stdout and stderr (never throws on a refusal). */
export function kubectl(cluster: TestCluster, args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const res = spawnSync(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 5 * 60_000,
  });
  if (res.error) throw new Error(`${cluster.kubectl} ${args.join(' ')}: ${res.error.message}`);
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** kubectl's warnings in its stderr (`Warning: ...` lines). */
export function kubectlWarnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('Warning: '));
}

// ---------------------------------------------------------------------------------------------------

/**
 * The same API, synchronous: for checks inside fast-check's synchronous properties. The requests run in
 * a worker thread; the caller blocks on Atomics.wait until the answer is posted (the pattern of the
 * `synckit` package, in 30 lines).
 */
export class SyncKube {
  private readonly worker: Worker;
  private readonly port: MessageChannel['port1'];
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly resources = new Map<string, Map<string, ResourceInfo>>();

  constructor(kubeconfigPath: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { connection: loadKubeconfig(kubeconfigPath), port: port2, flag: this.flag },
      transferList: [port2],
    });
    this.worker.unref();
  }

  request(method: string, urlPath: string, body?: unknown, contentType = 'application/json'): ApiAnswer {
    Atomics.store(this.flag, 0, 0);
    this.worker.postMessage({ method, urlPath, payload: body === undefined ? undefined : JSON.stringify(body), contentType });
    if (Atomics.wait(this.flag, 0, 0, 120_000) === 'timed-out') throw new Error(`${method} ${urlPath}: no answer in 120 s`);
    const msg = receiveMessageOnPort(this.port)?.message;
    if (!msg) throw new Error(`${method} ${urlPath}: the worker posted no answer`);
    if (msg.error) throw new Error(`${method} ${urlPath}: ${msg.error}`);
    return parseAnswer(msg.status, msg.text, msg.rawHeaders);
  }

  resource(apiVersion: string, kind: string): ResourceInfo | undefined {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!this.resources.has(apiVersion) || attempt > 0) this.resources.set(apiVersion, discovered(this.request('GET', groupPath(apiVersion))));
      const found = this.resources.get(apiVersion)!.get(kind);
      if (found) return found;
    }
    return undefined;
  }

  /** Server-side apply as Kube.apply; an object of a kind the server does not serve is a 404 answer. */
  apply(obj: any, opts: { dryRun?: boolean } = {}): ApiAnswer {
    const apiVersion = String(obj?.apiVersion ?? '');
    const r = this.resource(apiVersion, String(obj?.kind ?? ''));
    if (!r) return { status: 404, body: { message: `the API server serves no ${obj?.kind} in ${apiVersion}` }, warnings: [] };
    return this.request(...applyRequest(collectionUrl(apiVersion, r, obj?.metadata?.namespace), obj, opts.dryRun));
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

const WORKER_SOURCE = `
const https = require('https');
const { workerData, parentPort } = require('worker_threads');
const { connection, port, flag } = workerData;
parentPort.on('message', ({ method, urlPath, payload, contentType }) => {
  const done = msg => { port.postMessage(msg); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
  const headers = { Accept: 'application/json', ...connection.headers };
  if (payload !== undefined) headers['Content-Type'] = contentType;
  const req = https.request(new URL(connection.server + urlPath), { method, headers, ...connection.tls, timeout: 60000 }, res => {
    const chunks = [];
    res.on('data', c => chunks.push(c));
    res.on('end', () => done({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8'), rawHeaders: res.rawHeaders }));
  });
  req.on('error', e => done({ error: e.message }));
  req.on('timeout', () => req.destroy(new Error('no answer in 60 s')));
  if (payload !== undefined) req.write(payload);
  req.end();
});
`;
