/**
 * End-to-end image harness: builds the Dockerfiles cdk8s-ml generates and runs the images, on a
 * machine without registry access, with buildah and podman (a Docker engine started by the test
 * itself, for the docker paths: test/e2e/_docker.ts).
 *
 * - Tools: buildah (build), podman + runc (run; crun fails on cgroup-v1 hosts), debootstrap.
 *   `ensureTools()` installs them through scripts/e2e/install-tools.sh (root + apt needed).
 * - Base images: built locally from debootstrap by scripts/e2e/base-images.sh, never pulled.
 *   A generated Dockerfile starting with `ARG PYTHON_IMAGE=python:3.12...` / `FROM ${PYTHON_IMAGE}`
 *   is built with `buildArgs: { PYTHON_IMAGE: PYTHON_BASE_IMAGE }`. The python base has flask,
 *   requests and gunicorn from Debian (so `pip install -r requirements.txt` with those unpinned
 *   names is already satisfied: there is no PyPI here); the sklearn base adds scikit-learn,
 *   pandas, joblib. Python is Debian's 3.11, not 3.12.
 * - Storage: every buildah/podman call uses `--storage-driver vfs`, so both see the same images.
 * - Networking: containers run by default on `slirp4netns:allow_host_loopback=true`. There the
 *   host's 127.0.0.1 is reachable from inside the container as 10.0.2.2
 *   (`CONTAINER_HOST_LOOPBACK`), so a stand-in server bound to 127.0.0.1 only is reachable from
 *   containers and from nothing else; published ports are bound to 127.0.0.1 only
 *   (`-p 127.0.0.1:H:C`). (`host.containers.internal` does NOT work for this: it resolves to the
 *   CNI bridge gateway 10.88.0.1, where a loopback-bound server does not listen.)
 *   `network: 'host'` shares the host's network namespace instead (container sees 127.0.0.1
 *   directly, but its ports are then not published via -p and bind wherever the app binds);
 *   `network: 'bridge'` is podman's CNI bridge (no access to host loopback).
 * - Cleanup: every container gets the label `cdk8s-ml-e2e.pid=<this pid>`; `cleanup()` (call it
 *   in afterAll) removes all of them and closes every stand-in, even after a failed test.
 *   A process 'exit' hook removes leftovers as a last resort.
 * - Long-running podman calls are asynchronous so that a stand-in served by this same Node
 *   process keeps answering while a container talks to it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as os from 'node:os';

/** Base images built by scripts/e2e/base-images.sh (keep in sync with that script). */
export const DEBIAN_BASE_IMAGE = 'localhost/cdk8s-ml/debian:bookworm';
export const PYTHON_BASE_IMAGE = 'localhost/cdk8s-ml/python:bookworm';
export const PYTHON_SKLEARN_BASE_IMAGE = 'localhost/cdk8s-ml/python-sklearn:bookworm';
export const BASE_IMAGES = {
  debian: DEBIAN_BASE_IMAGE,
  python: PYTHON_BASE_IMAGE,
  'python-sklearn': PYTHON_SKLEARN_BASE_IMAGE,
} as const;
export type BaseImage = keyof typeof BASE_IMAGES;

/** The host's 127.0.0.1 as seen from a container on the default network (slirp4netns, allow_host_loopback). */
export const CONTAINER_HOST_LOOPBACK = '10.0.2.2';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SCRIPTS_DIR = path.join(REPO_ROOT, 'scripts', 'e2e');

const STORAGE = ['--storage-driver', 'vfs'];
const PODMAN_RUN_DEFAULTS = ['--runtime', 'runc'];
/** podman on this kind of machine fails to start containers without explicit ulimits. */
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const LABEL = `cdk8s-ml-e2e.pid=${process.pid}`;
const MAX_BUFFER = 256 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// tools and base images

function runScript(script: string, args: string[], timeoutMs: number): void {
  const file = path.join(SCRIPTS_DIR, script);
  const res = spawnSync('bash', [file, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: MAX_BUFFER, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (process.env.E2E_VERBOSE) process.stderr.write(output);
  if (res.error) throw new Error(`${script} ${args.join(' ')} could not run: ${res.error.message}\n${tail(output)}`);
  if (res.status !== 0) {
    const reasons = output.split('\n').filter((l) => /ERROR/.test(l));
    throw new Error(
      `${script} ${args.join(' ')} failed (exit ${res.status ?? res.signal})${reasons.length ? `: ${reasons.join('; ')}` : ''}\n${tail(output)}`,
    );
  }
}

/** Installs buildah/podman/runc/debootstrap (+ CNI plugins, iptables...) when missing. Throws with the reason on failure. */
export function ensureTools(opts: { timeoutMs?: number } = {}): void {
  runScript('install-tools.sh', [], opts.timeoutMs ?? 10 * 60_000);
}

/** Builds the base image (and the ones it derives from) unless already in vfs storage. Throws on failure. Returns its name. */
export function ensureBaseImages(which: 'python' | 'python-sklearn' | 'debian', opts: { timeoutMs?: number } = {}): string {
  runScript('base-images.sh', [which], opts.timeoutMs ?? 20 * 60_000);
  return BASE_IMAGES[which];
}

export function imageExists(image: string): boolean {
  return spawnSync('buildah', [...STORAGE, 'inspect', '--type', 'image', image], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------------------------------------
// process helpers

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout + stderr in arrival order */
  readonly output: string;
}

/** Runs a command asynchronously (the event loop, and with it any stand-in, keeps running). */
export function exec(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; onOutput?: (chunk: string) => void } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      output += d;
      opts.onOutput?.(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      output += d;
      opts.onOutput?.(d);
    });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) reject(new Error(`${cmd} ${args.join(' ')} timed out after ${opts.timeoutMs} ms\n${tail(output)}`));
      else resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr, output });
    });
  });
}

function tail(s: string, lines = 40): string {
  return s.trimEnd().split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// build

export interface BuildImageOptions {
  /** build context directory */
  readonly contextDir: string;
  /** Dockerfile path (absolute, or relative to contextDir); default <contextDir>/Dockerfile */
  readonly dockerfile?: string;
  /**
   * Ignore file passed as `--ignorefile`. buildah 1.28 honours `--ignorefile` (it then replaces the
   * context's .dockerignore) and reads `<context>/.dockerignore` / `.containerignore`, but it does
   * NOT read BuildKit's `<Dockerfile>.dockerignore` next to the Dockerfile. Default here: that
   * `<Dockerfile>.dockerignore` when it exists (BuildKit semantics), else buildah's own default.
   */
  readonly ignoreFile?: string;
  readonly tag: string;
  readonly buildArgs?: Record<string, string>;
  readonly timeoutMs?: number;
  /** stream buildah's output to stderr (also on when E2E_VERBOSE is set) */
  readonly verbose?: boolean;
}

export interface BuildResult {
  readonly tag: string;
  readonly ms: number;
  readonly output: string;
}

/** `buildah --storage-driver vfs bud --isolation chroot ...`; resolves the build time in ms, throws with buildah's output on failure. */
export async function buildImage(opts: BuildImageOptions): Promise<number> {
  return (await buildImageDetailed(opts)).ms;
}

export async function buildImageDetailed(opts: BuildImageOptions): Promise<BuildResult> {
  const contextDir = path.resolve(opts.contextDir);
  const dockerfile = path.resolve(contextDir, opts.dockerfile ?? 'Dockerfile');
  if (!fs.existsSync(dockerfile)) throw new Error(`buildImage: no Dockerfile at ${dockerfile}`);
  let ignoreFile = opts.ignoreFile ? path.resolve(contextDir, opts.ignoreFile) : undefined;
  if (ignoreFile && !fs.existsSync(ignoreFile)) throw new Error(`buildImage: no ignore file at ${ignoreFile}`);
  if (!ignoreFile && fs.existsSync(`${dockerfile}.dockerignore`)) ignoreFile = `${dockerfile}.dockerignore`;
  const args = [...STORAGE, 'bud', '--isolation', 'chroot', '-f', dockerfile];
  if (ignoreFile) args.push('--ignorefile', ignoreFile);
  for (const [k, v] of Object.entries(opts.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
  args.push('-t', opts.tag, contextDir);
  const verbose = opts.verbose ?? !!process.env.E2E_VERBOSE;
  const t0 = Date.now();
  const res = await exec('buildah', args, {
    timeoutMs: opts.timeoutMs ?? 15 * 60_000,
    onOutput: verbose ? (c) => process.stderr.write(c) : undefined,
  });
  const ms = Date.now() - t0;
  if (res.exitCode !== 0) throw new Error(`buildah bud -t ${opts.tag} failed (exit ${res.exitCode}):\n${tail(res.output, 60)}`);
  return { tag: opts.tag, ms, output: res.output };
}

export async function removeImage(image: string): Promise<void> {
  await exec('buildah', [...STORAGE, 'rmi', '-f', image], { timeoutMs: 120_000 });
}

// ---------------------------------------------------------------------------------------------
// run

export interface PortMapping {
  readonly host: number;
  readonly container: number;
}
export interface Mount {
  readonly hostPath: string;
  readonly containerPath: string;
  readonly readOnly?: boolean;
}

export interface RunOptions {
  readonly image: string;
  readonly env?: Record<string, string>;
  /** published on 127.0.0.1 only; ignored with network 'host' */
  readonly ports?: readonly PortMapping[];
  readonly readOnly?: boolean;
  /** tmpfs mount points, e.g. ['/tmp'] (readOnly containers usually need /tmp) */
  readonly tmpfs?: readonly string[];
  /** bind mounts; a writable host dir must be chowned to the container's uid (see chownForContainer) */
  readonly mounts?: readonly Mount[];
  /** e.g. '10001:10001'; default: the image's USER */
  readonly user?: string;
  /** replaces the image's ENTRYPOINT (a single executable) */
  readonly entrypoint?: string;
  /** replaces the image's CMD */
  readonly command?: readonly string[];
  readonly name?: string;
  /** default 'slirp4netns' (allow_host_loopback: host 127.0.0.1 = CONTAINER_HOST_LOOPBACK) */
  readonly network?: 'slirp4netns' | 'host' | 'bridge';
  /** extra /etc/hosts entries (name -> ip), e.g. { 'model-server': CONTAINER_HOST_LOOPBACK } */
  readonly addHosts?: Record<string, string>;
  readonly workdir?: string;
  /** default true; false waits for the container to exit (handle.exitCode is then set) */
  readonly detach?: boolean;
  /** timeout of the podman call (for detach=false: of the whole run) */
  readonly timeoutMs?: number;
  /** extra raw `podman run` flags */
  readonly extraArgs?: readonly string[];
}

export interface ContainerHandle {
  readonly id: string;
  readonly name: string;
  /** set when started with detach: false */
  readonly exitCode?: number;
  /** stdout + stderr of the container so far */
  logs(): string;
  /** podman inspect State.Running */
  isRunning(): boolean;
  /** podman rm -f (idempotent) */
  remove(): void;
}

const started = new Set<string>();
let nameCounter = 0;

function podmanRunArgs(opts: RunOptions, name: string, detach: boolean): string[] {
  const args = [...STORAGE, 'run', ...PODMAN_RUN_DEFAULTS, ...ULIMITS, '--name', name, '--label', LABEL];
  if (detach) args.push('-d');
  const network = opts.network ?? 'slirp4netns';
  if (network === 'slirp4netns') args.push('--network', 'slirp4netns:allow_host_loopback=true');
  else args.push('--network', network);
  if (network !== 'host') {
    for (const p of opts.ports ?? []) args.push('-p', `127.0.0.1:${p.host}:${p.container}`);
  }
  if (opts.readOnly) args.push('--read-only');
  for (const t of opts.tmpfs ?? []) args.push('--tmpfs', t);
  for (const m of opts.mounts ?? []) args.push('-v', `${path.resolve(m.hostPath)}:${m.containerPath}:${m.readOnly ? 'ro' : 'rw'}`);
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  for (const [h, ip] of Object.entries(opts.addHosts ?? {})) args.push('--add-host', `${h}:${ip}`);
  if (opts.user) args.push('--user', opts.user);
  if (opts.workdir) args.push('--workdir', opts.workdir);
  if (opts.entrypoint !== undefined) args.push('--entrypoint', opts.entrypoint);
  args.push(...(opts.extraArgs ?? []));
  args.push(opts.image, ...(opts.command ?? []));
  return args;
}

function podmanSync(args: string[], timeoutMs = 60_000): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('podman', [...STORAGE, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: MAX_BUFFER });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function removeContainer(idOrName: string): void {
  podmanSync(['rm', '-f', '-t', '0', idOrName], 120_000);
  started.delete(idOrName);
}

function handle(id: string, name: string, exitCode?: number): ContainerHandle {
  return {
    id,
    name,
    exitCode,
    logs: () => {
      const r = podmanSync(['logs', id]);
      return r.stdout + r.stderr;
    },
    isRunning: () => podmanSync(['inspect', '--format', '{{.State.Running}}', id]).stdout.trim() === 'true',
    remove: () => removeContainer(name),
  };
}

/** `podman run` (detached by default). The container is removed by `remove()` or `cleanup()`. */
export async function runContainer(opts: RunOptions): Promise<ContainerHandle> {
  const name = opts.name ?? `cdk8s-ml-e2e-${process.pid}-${++nameCounter}`;
  const detach = opts.detach ?? true;
  started.add(name);
  const res = await exec('podman', podmanRunArgs(opts, name, detach), { timeoutMs: opts.timeoutMs ?? (detach ? 120_000 : 15 * 60_000) });
  if (detach) {
    if (res.exitCode !== 0) {
      removeContainer(name);
      throw new Error(`podman run ${opts.image} failed (exit ${res.exitCode}):\n${tail(res.output)}`);
    }
    return handle(res.stdout.trim().split('\n').pop()!, name);
  }
  const id = podmanSync(['inspect', '--format', '{{.Id}}', name]).stdout.trim();
  if (!id) throw new Error(`podman run ${opts.image} failed (exit ${res.exitCode}):\n${tail(res.output)}`);
  return handle(id, name, res.exitCode);
}

/** Runs a batch container to completion (podman run without -d), removes it, returns exit code and output. */
export async function runToCompletion(opts: Omit<RunOptions, 'detach'>): Promise<ExecResult> {
  const name = opts.name ?? `cdk8s-ml-e2e-${process.pid}-${++nameCounter}`;
  started.add(name);
  try {
    return await exec('podman', podmanRunArgs(opts, name, false), { timeoutMs: opts.timeoutMs ?? 15 * 60_000 });
  } finally {
    removeContainer(name);
  }
}

/** chown -R a host directory so that a container running as `uid:gid` can write a bind mount of it. */
export function chownForContainer(hostPath: string, uid: number, gid = uid): void {
  execFileSync('chown', ['-R', `${uid}:${gid}`, hostPath]);
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
  json<T = unknown>(): T;
}

export interface WaitForHttpOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** accept this status only (default: any 2xx) */
  readonly status?: number;
  /** fail fast (with its logs) when this container stops */
  readonly container?: ContainerHandle;
}

function toAnswer(status: number, body: string, headers: Headers): HttpAnswer {
  const h: Record<string, string> = {};
  headers.forEach((v, k) => {
    h[k] = v;
  });
  return { status, body, headers: h, json: <T>() => JSON.parse(body) as T };
}

/** Polls `url` with fetch until it answers (2xx, or `status`); throws after timeoutMs with the last error / container logs. */
export async function waitForHttp(url: string, opts: WaitForHttpOptions = {}): Promise<HttpAnswer> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last = 'no attempt';
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      const body = await r.text();
      if (opts.status !== undefined ? r.status === opts.status : r.ok) return toAnswer(r.status, body, r.headers);
      last = `HTTP ${r.status}: ${body.slice(0, 200)}`;
    } catch (e) {
      last = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
    }
    if (opts.container && !opts.container.isRunning()) {
      throw new Error(`waitForHttp ${url}: container ${opts.container.name} stopped (${last}). Logs:\n${tail(opts.container.logs())}`);
    }
    if (Date.now() > deadline) {
      const logs = opts.container ? `\nContainer logs:\n${tail(opts.container.logs())}` : '';
      throw new Error(`waitForHttp ${url}: no answer in ${opts.timeoutMs ?? 60_000} ms (last: ${last})${logs}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}

/** fetch helper returning status + body text (JSON body when `json` is given). */
export async function httpRequest(
  url: string,
  init: { method?: string; json?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] ??= 'application/json';
  }
  const r = await fetch(url, {
    method: init.method ?? (body ? 'POST' : 'GET'),
    headers,
    body,
    signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
  });
  return toAnswer(r.status, await r.text(), r.headers);
}

// ---------------------------------------------------------------------------------------------
// stand-in server

export interface RecordedRequest {
  readonly method: string;
  /** path without query */
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** parsed body when it is JSON, else undefined */
  readonly json?: unknown;
}

export interface StandInReply {
  readonly status?: number;
  /** serialized as JSON unless it is a string */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export type StandInRoute = StandInReply | ((req: RecordedRequest) => StandInReply);

export interface StandInOptions {
  /**
   * Answers keyed by `"METHOD /path"` (or `"/path"` for any method), e.g.
   * `{ 'POST /v1/models/and-gate:predict': { body: { predictions: [[0.97]] } } }`.
   */
  readonly routes?: Record<string, StandInRoute>;
  /** answer for anything else (default 404 JSON) */
  readonly fallback?: StandInRoute;
  /** default: a free port */
  readonly port?: number;
}

export interface StandIn {
  readonly port: number;
  /** http://127.0.0.1:<port> (from this process) */
  readonly url: string;
  /** http://10.0.2.2:<port>: the same server from a container on the default (slirp4netns) network */
  readonly containerUrl: string;
  /** every request received, in order */
  readonly requests: RecordedRequest[];
  /** resolves when a request matching the predicate arrives (or has arrived) */
  waitForRequest(pred: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

const standIns = new Set<StandIn>();

/** A recording fake HTTP server (e.g. a model server) on 127.0.0.1 only. */
export async function startStandIn(opts: StandInOptions = {}): Promise<StandIn> {
  const requests: RecordedRequest[] = [];
  const waiters: { pred: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://stand-in');
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body,
        json,
      };
      requests.push(rec);
      for (const w of [...waiters])
        if (w.pred(rec)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(rec);
        }
      const route = opts.routes?.[`${rec.method} ${rec.path}`] ??
        opts.routes?.[rec.path] ??
        opts.fallback ?? { status: 404, body: { error: `stand-in: no route for ${rec.method} ${rec.path}` } };
      let reply: StandInReply;
      try {
        reply = typeof route === 'function' ? route(rec) : route;
      } catch (e) {
        reply = { status: 500, body: { error: String(e) } };
      }
      const isString = typeof reply.body === 'string';
      const payload = reply.body === undefined ? '' : isString ? (reply.body as string) : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': isString ? 'text/plain' : 'application/json', ...(reply.headers ?? {}) });
      res.end(payload);
    });
  });
  const port = opts.port ?? (await freePort());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const standIn: StandIn = {
    port,
    url: `http://127.0.0.1:${port}`,
    containerUrl: `http://${CONTAINER_HOST_LOOPBACK}:${port}`,
    requests,
    waitForRequest: (pred, timeoutMs = 30_000) => {
      const seen = requests.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (r: RecordedRequest) => {
            clearTimeout(t);
            resolve(r);
          },
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(
            new Error(
              `stand-in :${port}: no matching request in ${timeoutMs} ms (got ${requests.map((r) => `${r.method} ${r.path}`).join(', ') || 'none'})`,
            ),
          );
        }, timeoutMs);
        waiters.push(w);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        standIns.delete(standIn);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  standIns.add(standIn);
  return standIn;
}

// ---------------------------------------------------------------------------------------------
// cleanup

/** Removes every container this process started (by label, so also ones whose handle was lost) and closes every stand-in. */
export async function cleanup(): Promise<void> {
  const ids = podmanSync(['ps', '-aq', '--filter', `label=${LABEL}`])
    .stdout.split('\n')
    .filter(Boolean);
  const all = new Set([...ids, ...started]);
  if (all.size) podmanSync(['rm', '-f', '-t', '0', ...all], 180_000);
  started.clear();
  await Promise.all([...standIns].map((s) => s.close()));
}

/** Last resort (process exit, e.g. jest forcibly exiting): remove leftover containers synchronously. */
process.once('exit', () => {
  if (started.size) spawnSync('podman', [...STORAGE, 'rm', '-f', '-t', '0', ...started], { stdio: 'ignore', timeout: 60_000 });
});

/** Milliseconds taken by `fn` (sync or async). */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// compose tools

/**
 * Environment for podman-compose (and the podman it calls): the same storage (vfs) and runtime
 * (runc, explicit ulimits) as every other podman call here, set through containers.conf and
 * storage.conf files, since podman-compose passes no flags of ours to podman.
 */
export function podmanComposeEnv(): NodeJS.ProcessEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-compose-conf-'));
  fs.writeFileSync(
    path.join(dir, 'storage.conf'),
    '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n',
  );
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n',
  );
  // BUILDAH_LAYERS=false: podman build would otherwise keep every step (and the generated Dockerfile's
  // first stage, which saw the context's secrets) as untagged local images.
  return {
    ...process.env,
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    BUILDAH_LAYERS: 'false',
  };
}

/** Runs a compose tool (podman-compose, docker-compose) with its output captured; never throws on exit status. */
export function composeTool(
  tool: 'podman-compose' | 'docker-compose',
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): ExecResult {
  const res = spawnSync(tool, args, {
    cwd: opts.cwd,
    env: opts.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 10 * 60_000,
    maxBuffer: MAX_BUFFER,
  });
  if (res.error) throw new Error(`${tool} could not run (${res.error.message}): scripts/e2e/install-tools.sh installs it`);
  return { exitCode: res.status ?? -1, stdout: res.stdout ?? '', stderr: res.stderr ?? '', output: `${res.stdout ?? ''}${res.stderr ?? ''}` };
}

// ---------------------------------------------------------------------------------------------
// distributed training: the torch base and a podman network standing in for a headless Service

/** Base with Debian's python3-torch 1.13 (CPU, gloo, torchrun) on the python base: scripts/e2e/python-torch.Dockerfile. */
export const PYTHON_TORCH_BASE_IMAGE = 'localhost/cdk8s-ml/python-torch:bookworm';

/** Builds the torch base (and the bases it derives from) unless already in vfs storage. Returns its name. */
export function ensureTorchBaseImage(opts: { timeoutMs?: number } = {}): string {
  runScript('base-images.sh', ['python-torch'], opts.timeoutMs ?? 20 * 60_000);
  return PYTHON_TORCH_BASE_IMAGE;
}

export interface PodmanNetwork {
  readonly name: string;
  /** e.g. '10.89.3.0/24', chosen by podman */
  readonly subnet: string;
  /** the n-th fixed address of the subnet (n >= 10, clear of the gateway) */
  ip(n: number): string;
  /** podman network rm -f (idempotent; also run at process exit) */
  remove(): void;
}

const networks = new Set<string>();

/** A podman bridge network of this process, for containers with fixed IPs (`runOnNetwork`). */
export function createNetwork(): PodmanNetwork {
  const name = `cdk8s-ml-e2e-${process.pid}-net${networks.size + 1}`;
  const created = podmanSync(['network', 'create', '--label', LABEL, name]);
  if (created.status !== 0) throw new Error(`podman network create ${name} failed: ${created.stderr}`);
  networks.add(name);
  const subnet = podmanSync(['network', 'inspect', '--format', '{{range .Subnets}}{{.Subnet}}{{end}}', name]).stdout.trim();
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(subnet);
  if (!m) throw new Error(`podman network ${name}: expected a /24 subnet, got '${subnet}'`);
  return {
    name,
    subnet,
    ip: (n: number) => `${m[1]}.${n}`,
    remove: () => {
      podmanSync(['network', 'rm', '-f', name], 120_000);
      networks.delete(name);
    },
  };
}

/** `runContainer` on a network of `createNetwork` with a fixed IP and hostname (as a pod has). */
export function runOnNetwork(
  net: PodmanNetwork,
  ip: string,
  hostname: string,
  opts: Omit<RunOptions, 'network' | 'ports'>,
): Promise<ContainerHandle> {
  return runContainer({
    ...opts,
    // podmanRunArgs passes any network name through as `--network <name>`.
    network: net.name as RunOptions['network'],
    extraArgs: ['--ip', ip, '--hostname', hostname, ...(opts.extraArgs ?? [])],
  });
}

/** Waits for a detached container to exit; resolves its exit code (throws after timeoutMs). */
export async function waitForExit(c: ContainerHandle, timeoutMs = 120_000): Promise<number> {
  const res = await exec('podman', [...STORAGE, 'wait', c.id], { timeoutMs });
  const code = Number(res.stdout.trim().split('\n').pop());
  if (res.exitCode !== 0 || !Number.isInteger(code)) throw new Error(`podman wait ${c.name} failed (exit ${res.exitCode}): ${res.output}`);
  return code;
}

process.once('exit', () => {
  for (const n of networks) spawnSync('podman', [...STORAGE, 'network', 'rm', '-f', n], { stdio: 'ignore', timeout: 60_000 });
});

// ---------------------------------------------------------------------------------------------
// image builds through the generated build files, and what is inside an image (images.e2e)

/**
 * Environment for the build paths the README documents (images/build.sh with buildah or podman,
 * podman-compose build): vfs storage and runc through podmanComposeEnv, chroot isolation, and no
 * intermediate layers (BUILDAH_ISOLATION, BUILDAH_LAYERS: read by buildah bud and podman build).
 * podman build commits every step by default; on vfs each commit is a full copy of the root
 * filesystem (5x slower here), and the intermediate images would stay behind in the storage.
 */
export function imageBuildEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  buildEnv ??= { ...podmanComposeEnv(), BUILDAH_ISOLATION: 'chroot', BUILDAH_LAYERS: 'false' };
  return { ...buildEnv, ...extra };
}
let buildEnv: NodeJS.ProcessEnv | undefined;

/** Runs `cmd` asynchronously with `env` and `cwd`; throws with the output's tail on a non-zero exit. */
export async function runTool(
  cmd: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<ExecResult> {
  const res = await new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    const verbose = !!process.env.E2E_VERBOSE;
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20 * 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      output += d;
      if (verbose) process.stderr.write(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      output += d;
      if (verbose) process.stderr.write(d);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} could not run (${e.message}): scripts/e2e/install-tools.sh installs it`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr, output });
    });
  });
  if (res.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${res.exitCode}):\n${tail(res.output, 60)}`);
  return res;
}

/** `podman exec` in a running container (as its user); resolves exit code and output. */
export function execInContainer(c: ContainerHandle, argv: readonly string[], timeoutMs = 60_000): Promise<ExecResult> {
  return exec('podman', [...STORAGE, 'exec', c.id, ...argv], { timeoutMs });
}

/**
 * Every path of an image's filesystem ('/'-separated, relative to its root; symlinks not followed),
 * read through `podman image mount` (with vfs, the mount point is the top layer's full tree).
 */
export function imageFileList(image: string): string[] {
  const mounted = podmanSync(['image', 'mount', image], 120_000);
  if (mounted.status !== 0) throw new Error(`podman image mount ${image} failed: ${mounted.stderr}`);
  const root = mounted.stdout.trim().split('\n').pop()!;
  try {
    const out: string[] = [];
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        out.push(p);
        if (e.isDirectory()) walk(p);
      }
    };
    walk('');
    return out.sort();
  } finally {
    podmanSync(['image', 'unmount', image], 120_000);
  }
}
