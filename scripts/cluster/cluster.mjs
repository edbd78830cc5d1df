#!/usr/bin/env node
// A local Kubernetes control plane built from upstream sources, for this repo's tests.
//
//   node scripts/cluster/cluster.mjs build    build what is missing (kube-apiserver, kube-controller-manager,
//                                             kube-scheduler, kubectl, etcd; the Gateway API CRDs)
//   node scripts/cluster/cluster.mjs up       build what is missing, start on 127.0.0.1, wait for /readyz,
//                                             print the kubeconfig's path (reuses a running cluster)
//   node scripts/cluster/cluster.mjs down     stop every process `up` started and remove its state
//   node scripts/cluster/cluster.mjs status   print the kubeconfig's path if a cluster is up, exit 1 if not
//   node scripts/cluster/cluster.mjs env      the paths as KEY=value lines (bin dir, CRD dir, kubeconfig)
//   node scripts/cluster/cluster.mjs crds     fetch only the Gateway API CRDs (for tests against another cluster)
//
// Versions are pinned once, by the Go modules beside this file: k8s/go.mod (k8s.io/kubernetes and every
// staging module it replaces), etcd/go.mod (go.etcd.io/etcd/server/v3), crds/go.mod (sigs.k8s.io/gateway-api).
// Binaries and Go caches live under CDK8S_ML_CLUSTER_HOME (default /var/tmp/cdk8s-ml-cluster), outside any
// checkout, so a second run (and CI on the same machine) starts in seconds.
//
// What a real cluster has, and this one too: x509 client certificates from one CA (admin in
// system:masters; controller-manager and scheduler as their own users, bound by RBAC's bootstrap roles),
// service-account signing keys, RBAC and Node authorization, the default admission chain (PodSecurity
// included, so each namespace's enforce/enforce-version labels are honoured; ServiceAccount admission
// included, served by the controller-manager's service-account controllers), a service CIDR.
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLUSTER_CIDR, NODE_PROCESSES, nodeDown, nodeUp } from './node.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const HOME = path.resolve(process.env.CDK8S_ML_CLUSTER_HOME || '/var/tmp/cdk8s-ml-cluster');
const STATE = path.join(HOME, 'state');
const GOENV = {
  GOMODCACHE: path.join(HOME, 'go', 'mod'),
  GOCACHE: path.join(HOME, 'go', 'cache'),
  // Only what go.mod and go.sum pin; never a newer toolchain (GOTOOLCHAIN=local: this machine's Go 1.26).
  GOFLAGS: '-mod=readonly -buildvcs=false -trimpath',
  GOTOOLCHAIN: 'local',
};
/** The service CIDR (kept away from this machine's 192.0.2.0/24) and the API server's address. */
export const SERVICE_CIDR = '10.96.0.0/16';
const HOST = '127.0.0.1';

class StepError extends Error {
  constructor(step, message) {
    super(`cluster ${step}: ${message}`);
  }
}

const log = (msg) => process.stderr.write(`[cluster] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------
// Versions and build
// ---------------------------------------------------------------------------------------------------

function requiredVersion(modDir, module) {
  const text = fs.readFileSync(path.join(HERE, modDir, 'go.mod'), 'utf8');
  const m = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.\\/]/g, '\\$&')}\\s+(v\\S+)`, 'm').exec(text);
  if (!m) throw new StepError('build', `scripts/cluster/${modDir}/go.mod does not require ${module}`);
  return m[1];
}

export function versions() {
  return {
    kubernetes: requiredVersion('k8s', 'k8s.io/kubernetes'),
    etcd: requiredVersion('etcd', 'go.etcd.io/etcd/server/v3'),
    gatewayApi: requiredVersion('crds', 'sigs.k8s.io/gateway-api'),
  };
}

/** The binaries' directory: named after the versions and a hash of the modules' go.mod and go.sum. */
export function binDir() {
  const h = crypto.createHash('sha256');
  for (const d of ['k8s', 'etcd']) for (const f of ['go.mod', 'go.sum']) h.update(fs.readFileSync(path.join(HERE, d, f)));
  const v = versions();
  return path.join(HOME, 'bin', `kubernetes-${v.kubernetes}_etcd-${v.etcd}_${h.digest('hex').slice(0, 12)}`);
}

export function crdDir() {
  return path.join(HOME, 'crds', `gateway-api-${versions().gatewayApi}`);
}

const K8S_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];

/** The version stamp upstream's hack/lib/version.sh sets (without it the binaries say v0.0.0-master). */
function k8sLdflags() {
  const v = versions().kubernetes;
  const [major, minor] = v.replace(/^v/, '').split('.');
  return [
    '-s',
    '-w',
    `-X k8s.io/component-base/version.gitVersion=${v}`,
    `-X k8s.io/component-base/version.gitMajor=${major}`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
    `-X k8s.io/client-go/pkg/version.gitVersion=${v}`,
    `-X k8s.io/client-go/pkg/version.gitMajor=${major}`,
    `-X k8s.io/client-go/pkg/version.gitMinor=${minor}`,
  ].join(' ');
}

function goBuild(modDir, args, what, env = {}) {
  if (spawnSync('go', ['version'], { encoding: 'utf8' }).error) {
    throw new StepError('build', `go is not on PATH: the cluster is built from upstream Go modules (Go >= 1.26 needed for ${what})`);
  }
  const logFile = path.join(HOME, 'logs', `build-${what}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const t0 = Date.now();
  log(`building ${what} (go ${args.join(' ')}); log: ${logFile}`);
  const res = spawnSync('go', args, {
    cwd: path.join(HERE, modDir),
    env: { ...process.env, ...GOENV, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  fs.writeFileSync(logFile, `${res.stdout ?? ''}${res.stderr ?? ''}`);
  if (res.status !== 0) {
    const tail = `${res.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
    throw new StepError(
      'build',
      `go build of ${what} failed (exit ${res.status}${res.error ? `, ${res.error.message}` : ''}):\n${tail}\nfull log: ${logFile}`,
    );
  }
  log(`built ${what} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/** Builds what is missing; returns the bin dir. Each binary is written to a temp dir and moved in whole. */
export function build() {
  const dir = binDir();
  const missingK8s = K8S_BINARIES.filter((b) => !fs.existsSync(path.join(dir, b)));
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    if (missingK8s.length > 0) {
      fs.mkdirSync(tmp, { recursive: true });
      // CGO_ENABLED=0 as upstream builds these (hack/lib/golang.sh KUBE_STATIC_LIBRARIES).
      const ldflags = k8sLdflags();
      goBuild('k8s', ['build', '-ldflags', ldflags, '-o', `${tmp}/`, ...missingK8s.map((b) => `k8s.io/kubernetes/cmd/${b}`)], 'kubernetes', {
        CGO_ENABLED: '0',
      });
    }
    if (!fs.existsSync(path.join(dir, 'etcd'))) {
      fs.mkdirSync(tmp, { recursive: true });
      // etcd's server module has replace directives, so `go install ...@v` refuses it (etcd-io/etcd#18501):
      // it is built from a module of ours that requires it.
      goBuild('etcd', ['build', '-ldflags', '-s -w', '-o', path.join(tmp, 'etcd'), 'go.etcd.io/etcd/server/v3'], 'etcd', { CGO_ENABLED: '0' });
    }
    if (fs.existsSync(tmp)) {
      fs.mkdirSync(dir, { recursive: true });
      for (const f of fs.readdirSync(tmp)) fs.renameSync(path.join(tmp, f), path.join(dir, f));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  fetchCrds();
  return dir;
}

/** The Gateway API's standard-channel CRDs, from the module zip the Go proxy serves (checked against crds/go.sum). */
function fetchCrds() {
  const dest = crdDir();
  if (fs.existsSync(path.join(dest, 'done'))) return dest;
  const res = spawnSync('go', ['mod', 'download', '-json', 'sigs.k8s.io/gateway-api'], {
    cwd: path.join(HERE, 'crds'),
    env: { ...process.env, ...GOENV },
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new StepError('build', `go mod download sigs.k8s.io/gateway-api failed: ${res.stderr || res.stdout}`);
  const info = JSON.parse(res.stdout);
  const src = path.join(info.Dir, 'config', 'crd', 'standard');
  if (!fs.existsSync(src)) throw new StepError('build', `the Gateway API module ${info.Version} has no config/crd/standard (looked in ${src})`);
  fs.mkdirSync(dest, { recursive: true });
  for (const f of fs
    .readdirSync(src)
    .filter((f) => f.endsWith('.yaml'))
    .sort())
    fs.copyFileSync(path.join(src, f), path.join(dest, f));
  fs.writeFileSync(path.join(dest, 'done'), `${info.Version}\n`);
  return dest;
}

// ---------------------------------------------------------------------------------------------------
// Certificates (openssl): one CA, the API server's serving cert, a client cert per user
// ---------------------------------------------------------------------------------------------------

function openssl(args, what) {
  const res = spawnSync('openssl', args, { encoding: 'utf8' });
  if (res.error) throw new StepError('certificates', `openssl is not installed (${res.error.message}); apt-get install openssl`);
  if (res.status !== 0) throw new StepError('certificates', `openssl ${what} failed: ${res.stderr}`);
}

function makeCerts(dir) {
  const p = (f) => path.join(dir, f);
  // ECDSA P-256 keys: quick to make, accepted for TLS, client certs and service-account tokens (ES256).
  const key = (name) => openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p(`${name}.key`)], `key ${name}`);
  key('ca');
  openssl(['req', '-x509', '-new', '-key', p('ca.key'), '-sha256', '-days', '30', '-subj', '/CN=cdk8s-ml-test-ca', '-out', p('ca.crt')], 'CA');
  const sign = (name, subject, ext) => {
    key(name);
    openssl(['req', '-new', '-key', p(`${name}.key`), '-subj', subject, '-out', p(`${name}.csr`)], `CSR ${name}`);
    fs.writeFileSync(p(`${name}.ext`), ext);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        p(`${name}.csr`),
        '-CA',
        p('ca.crt'),
        '-CAkey',
        p('ca.key'),
        '-CAcreateserial',
        '-sha256',
        '-days',
        '30',
        '-extfile',
        p(`${name}.ext`),
        '-out',
        p(`${name}.crt`),
      ],
      `certificate ${name}`,
    );
  };
  // The SANs clients use: this host, and the in-cluster name and first service IP of the `kubernetes` Service.
  sign(
    'apiserver',
    '/CN=kube-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,' +
      'DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1\n',
  );
  const client = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
  // CN is the user, O the groups (Kubernetes x509 authentication); RBAC's bootstrap policy binds
  // system:kube-controller-manager and system:kube-scheduler to their roles, system:masters to cluster-admin.
  sign('admin', '/O=system:masters/CN=cdk8s-ml-admin', client);
  sign('controller-manager', '/CN=system:kube-controller-manager', client);
  sign('scheduler', '/CN=system:kube-scheduler', client);
  sign('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', client);
  key('sa');
  openssl(['ec', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')], 'service-account public key');
}

function kubeconfig(dir, user, server) {
  return `apiVersion: v1
kind: Config
clusters:
- name: cdk8s-ml-test
  cluster:
    server: ${server}
    certificate-authority: ${path.join(dir, 'ca.crt')}
users:
- name: ${user}
  user:
    client-certificate: ${path.join(dir, `${user}.crt`)}
    client-key: ${path.join(dir, `${user}.key`)}
contexts:
- name: ${user}@cdk8s-ml-test
  context: {cluster: cdk8s-ml-test, user: ${user}}
current-context: ${user}@cdk8s-ml-test
`;
}

// ---------------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function startProcess(name, bin, args, env = {}) {
  const out = fs.openSync(path.join(STATE, 'logs', `${name}.log`), 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  fs.closeSync(out);
  if (!child.pid) throw new StepError(`start ${name}`, `could not start ${bin}`);
  child.unref();
  fs.writeFileSync(path.join(STATE, 'pids', name), `${child.pid}\n`);
  return child.pid;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function logTail(name, lines = 20) {
  try {
    return fs
      .readFileSync(path.join(STATE, 'logs', `${name}.log`), 'utf8')
      .trim()
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

function get(url, certDir, { client = 'admin', verify = true } = {}) {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      {
        ca: fs.readFileSync(path.join(certDir, 'ca.crt')),
        // The scheduler serves /healthz with a self-signed certificate of its own, as in kubeadm clusters.
        rejectUnauthorized: verify,
        cert: fs.readFileSync(path.join(certDir, `${client}.crt`)),
        key: fs.readFileSync(path.join(certDir, `${client}.key`)),
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function waitFor(step, name, timeoutMs, probe) {
  const t0 = Date.now();
  let last = '';
  for (;;) {
    const pid = Number(fs.readFileSync(path.join(STATE, 'pids', name), 'utf8'));
    if (!alive(pid)) throw new StepError(step, `${name} exited; last lines of ${path.join(STATE, 'logs', `${name}.log`)}:\n${logTail(name)}`);
    const r = await probe();
    if (r === true) return Date.now() - t0;
    last = r;
    if (Date.now() - t0 > timeoutMs)
      throw new StepError(step, `${name} not ready after ${timeoutMs / 1000} s (${last}); last lines of its log:\n${logTail(name)}`);
    await sleep(250);
  }
}

function readInfo() {
  try {
    return JSON.parse(fs.readFileSync(path.join(STATE, 'cluster.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The running cluster's info if every process is alive and /readyz answers ok. */
export async function status() {
  const info = readInfo();
  if (!info) return undefined;
  if (!info.pids || Object.values(info.pids).some((pid) => !alive(pid))) return undefined;
  const r = await get(`${info.server}/readyz`, info.certDir);
  return r.status === 200 ? info : undefined;
}

/**
 * One `up` or `down` at a time on this machine (jest may run several test files at once): a directory
 * made atomically, holding the holder's pid; a lock whose holder is gone is taken over.
 */
async function withLock(fn) {
  const lock = path.join(HOME, 'lock');
  fs.mkdirSync(HOME, { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), `${process.pid}\n`);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder = 0;
      try {
        holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        /* being written */
      }
      if (holder && !alive(holder)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      // A cold build can take half an hour; wait for it rather than build twice.
      if (Date.now() - t0 > 60 * 60_000) throw new StepError('lock', `${lock} held by pid ${holder} for an hour`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export function up(opts = {}) {
  return withLock(async () => {
    const info = await upLocked(opts);
    if (!opts.node || info.node) return info;
    try {
      await nodeUp(nodeContext(info));
      return info;
    } catch (e) {
      // CDK8S_ML_CLUSTER_KEEP=1 leaves a failed node running, to look at it (then `down`).
      if (process.env.CDK8S_ML_CLUSTER_KEEP !== '1') await downLocked({ quiet: true });
      throw e;
    }
  });
}

/** What node.mjs uses of this file (one set of process, certificate and wait helpers for both). */
function nodeContext(info, quiet = false) {
  return {
    here: HERE,
    home: HOME,
    state: STATE,
    info,
    quiet,
    writeInfo: () => fs.writeFileSync(path.join(STATE, 'cluster.json'), `${JSON.stringify(info, null, 2)}\n`),
    startProcess,
    waitFor,
    freePort,
    get,
    httpGet,
    goBuild,
    k8sLdflags,
    log,
    stop: (name) => stopProcess(name, quiet),
  };
}

async function upLocked({ owner = 'manual' } = {}) {
  const running = await status();
  if (running) return running;
  if (fs.existsSync(STATE)) await downLocked({ quiet: true });
  const bin = build();
  const t0 = Date.now();
  for (const d of ['certs', 'logs', 'pids', 'etcd']) fs.mkdirSync(path.join(STATE, d), { recursive: true });
  const certDir = path.join(STATE, 'certs');
  makeCerts(certDir);
  const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const server = `https://${HOST}:${apiPort}`;
  for (const u of ['admin', 'controller-manager', 'scheduler']) fs.writeFileSync(path.join(STATE, `${u}.kubeconfig`), kubeconfig(certDir, u, server));
  const info = { owner, server, certDir, kubeconfig: path.join(STATE, 'admin.kubeconfig'), bin, crds: crdDir(), serviceCidr: SERVICE_CIDR, pids: {} };
  const writeInfo = () => fs.writeFileSync(path.join(STATE, 'cluster.json'), `${JSON.stringify(info, null, 2)}\n`);
  try {
    const etcdUrl = `http://${HOST}:${etcdClient}`;
    info.pids.etcd = startProcess('etcd', path.join(bin, 'etcd'), [
      '--name=default',
      `--data-dir=${path.join(STATE, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://${HOST}:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://${HOST}:${etcdPeer}`,
      `--initial-cluster=default=http://${HOST}:${etcdPeer}`,
      // A throwaway test store: no fsync (what envtest-style setups do for speed).
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    writeInfo();
    await waitFor('start etcd', 'etcd', 30_000, async () => {
      const r = await new Promise((resolve) => {
        const req = http.get(`${etcdUrl}/health`, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(res.statusCode === 200 && b.includes('true') ? true : `health ${res.statusCode} ${b}`));
        });
        req.on('error', (e) => resolve(e.message));
      });
      return r;
    });
    const c = (f) => path.join(certDir, f);
    info.pids['kube-apiserver'] = startProcess('kube-apiserver', path.join(bin, 'kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${HOST}`,
      `--advertise-address=${HOST}`,
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${c('apiserver.crt')}`,
      `--tls-private-key-file=${c('apiserver.key')}`,
      `--client-ca-file=${c('ca.crt')}`,
      // The aggregation layer's front-proxy settings, as kubeadm writes them (one CA here).
      `--requestheader-client-ca-file=${c('ca.crt')}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--kubelet-client-certificate=${c('apiserver-kubelet-client.crt')}`,
      `--kubelet-client-key=${c('apiserver-kubelet-client.key')}`,
      // Logs, exec and port-forward go to the node's InternalIP (10.244.0.1), never by looking its name up
      // in this machine's resolver (the default order starts with Hostname).
      '--kubelet-preferred-address-types=InternalIP',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${c('sa.pub')}`,
      `--service-account-signing-key-file=${c('sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=Node,RBAC',
      // The default admission chain (PodSecurity, ServiceAccount, LimitRanger, DefaultStorageClass, ...) plus
      // NodeRestriction, as kubeadm and kubernetes-the-hard-way run it.
      '--enable-admission-plugins=NodeRestriction',
      // Pod Security admission is the judge of privilege, not this flag (kubeadm sets it too).
      '--allow-privileged=true',
      '--profiling=false',
    ]);
    writeInfo();
    await waitFor('start kube-apiserver', 'kube-apiserver', 90_000, async () => {
      const r = await get(`${server}/readyz`, certDir);
      return r.status === 200
        ? true
        : `readyz ${r.status} ${
            r.body
              .split('\n')
              .filter((l) => l.startsWith('[-]'))
              .join(' ') || r.body.slice(0, 200)
          }`;
    });
    info.pids['kube-controller-manager'] = startProcess('kube-controller-manager', path.join(bin, 'kube-controller-manager'), [
      `--kubeconfig=${path.join(STATE, 'controller-manager.kubeconfig')}`,
      `--authentication-kubeconfig=${path.join(STATE, 'controller-manager.kubeconfig')}`,
      `--authorization-kubeconfig=${path.join(STATE, 'controller-manager.kubeconfig')}`,
      `--bind-address=${HOST}`,
      `--secure-port=${kcmPort}`,
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${c('sa.key')}`,
      `--root-ca-file=${c('ca.crt')}`,
      `--cluster-signing-cert-file=${c('ca.crt')}`,
      `--cluster-signing-key-file=${c('ca.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // Node pod ranges, as kubeadm's --pod-network-cidr sets them: the node's kube-router reads its node's podCIDR.
      '--allocate-node-cidrs=true',
      `--cluster-cidr=${CLUSTER_CIDR}`,
      '--node-cidr-mask-size=24',
    ]);
    info.pids['kube-scheduler'] = startProcess('kube-scheduler', path.join(bin, 'kube-scheduler'), [
      `--kubeconfig=${path.join(STATE, 'scheduler.kubeconfig')}`,
      `--authentication-kubeconfig=${path.join(STATE, 'scheduler.kubeconfig')}`,
      `--authorization-kubeconfig=${path.join(STATE, 'scheduler.kubeconfig')}`,
      `--bind-address=${HOST}`,
      `--secure-port=${schedPort}`,
      '--leader-elect=false',
    ]);
    writeInfo();
    // The controllers are up when the service-account controller has made `default` in namespace default
    // (Pods need it: ServiceAccount admission) and the scheduler answers its health check.
    await waitFor('start kube-controller-manager', 'kube-controller-manager', 60_000, async () => {
      const r = await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, certDir);
      return r.status === 200 ? true : `serviceaccount default/default: ${r.status}`;
    });
    await waitFor('start kube-scheduler', 'kube-scheduler', 30_000, async () => {
      const r = await get(`https://${HOST}:${schedPort}/healthz`, certDir, { verify: false });
      return r.status === 200 ? true : `healthz ${r.status} ${r.body.slice(0, 100)}`;
    });
    info.startupMs = Date.now() - t0;
    writeInfo();
    log(`control plane ${versions().kubernetes} up at ${server} in ${(info.startupMs / 1000).toFixed(1)} s`);
    return info;
  } catch (e) {
    await downLocked({ quiet: true });
    throw e;
  }
}

/** Stops every process `up` started (SIGTERM, then SIGKILL after 10 s) and removes the state directory. */
export function down(opts = {}) {
  return withLock(() => downLocked(opts));
}

async function downLocked({ quiet = false } = {}) {
  // The node first: its processes, pods, mounts, rules and bridge (node.mjs), while the API server still runs.
  await nodeDown(nodeContext(readInfo() ?? {}, quiet));
  const pidDir = path.join(STATE, 'pids');
  const names = fs.existsSync(pidDir) ? fs.readdirSync(pidDir) : [];
  // Reverse start order: clients before the API server, etcd last.
  const order = [...NODE_PROCESSES, 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
  names.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  for (const name of names) await stopProcess(name, quiet);
  fs.rmSync(STATE, { recursive: true, force: true });
}

/** Stops one process `up` started (its process group: SIGTERM, SIGKILL after 10 s) and forgets its pid. */
async function stopProcess(name, quiet) {
  const file = path.join(STATE, 'pids', name);
  if (!fs.existsSync(file)) return;
  const pid = Number(fs.readFileSync(file, 'utf8'));
  const signal = (sig) => {
    try {
      process.kill(-pid, sig); // the process group: detached children lead their own group
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  if (pid && alive(pid)) {
    signal('SIGTERM');
    const t0 = Date.now();
    while (alive(pid) && Date.now() - t0 < 10_000) await sleep(100);
    if (alive(pid)) signal('SIGKILL');
    while (alive(pid) && Date.now() - t0 < 15_000) await sleep(100);
    if (alive(pid)) throw new StepError('down', `${name} (pid ${pid}) did not stop`);
    if (!quiet) log(`stopped ${name} (pid ${pid})`);
  }
  fs.rmSync(file, { force: true });
}

/** A plain-HTTP GET on this host (health endpoints of the node's components). */
function httpGet(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function main() {
  const cmd = process.argv[2];
  switch (cmd) {
    case 'build': {
      const t0 = Date.now();
      const dir = await withLock(() => build());
      log(`binaries in ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return;
    }
    case 'up':
    case 'node-up': {
      const node = cmd === 'node-up' || process.argv.includes('--node');
      const info = await up({ owner: process.env.CDK8S_ML_CLUSTER_OWNER || 'manual', node });
      process.stdout.write(`${info.kubeconfig}\n`);
      return;
    }
    case 'down':
      await down();
      return;
    case 'crds':
      process.stdout.write(`${await withLock(() => fetchCrds())}\n`);
      return;
    case 'status': {
      const info = await status();
      if (!info) {
        process.stderr.write('no cluster is up\n');
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${info.kubeconfig}\n`);
      return;
    }
    case 'env':
      process.stdout.write(
        `CDK8S_ML_CLUSTER_BIN=${binDir()}\nCDK8S_ML_CLUSTER_CRDS=${crdDir()}\nCDK8S_ML_CLUSTER_KUBECONFIG=${path.join(STATE, 'admin.kubeconfig')}\n`,
      );
      return;
    default:
      process.stderr.write('usage: node scripts/cluster/cluster.mjs build|up [--node]|node-up|down|status|env|crds\n');
      process.exitCode = 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
  });
}
