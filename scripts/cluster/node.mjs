// One node for the local cluster (scripts/cluster/cluster.mjs): containerd 2.x, the kubelet, kube-proxy,
// CoreDNS and kube-router's NetworkPolicy controller, built from upstream Go modules, plus Debian's runc and
// CNI plugins. Called by cluster.mjs (`up --node`, `node-up`, `down`), never on its own.
//
// The facts of these machines that decide the design (../shared/reference/real-cluster.md):
// - cgroup v1 with no systemd as PID 1: the kubelet and runc use the cgroupfs driver, and kubelet >= 1.35
//   needs `failCgroupV1: false` to start on cgroup v1 (KEP-5573).
// - Traffic may go only to loopback or to network namespaces this run made. Pods live in network namespaces
//   containerd makes; the node's address is the pod bridge's gateway (10.244.0.1 on cni0, made here), so the
//   kubelet, kube-proxy and CoreDNS listen there and on 127.0.0.1, never on eth0. A firewall chain drops any
//   pod packet routed to an interface other than the bridge, and CoreDNS has no `forward` plugin.
// - No image can be pulled: the pause and CoreDNS images are written here as docker archives (one layer
//   holding one static binary) and imported; the tests import every other image the same way.
// - Nothing is left behind by `down`: processes (by cgroup), mounts (by mount point under the state dir),
//   iptables rules (kube-proxy --cleanup, kube-router --cleanup-config, our own chain), ipsets, the bridge.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as dns from 'node:dns';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export const NODE_NAME = 'cdk8s-ml-node';
/** The node's pod network: one /24 on the bridge cni0, whose gateway address is the node's own address. */
export const POD_CIDR = '10.244.0.0/24';
export const CLUSTER_CIDR = '10.244.0.0/16';
export const NODE_IP = '10.244.0.1';
export const BRIDGE = 'cni0';
/** kube-dns's Service address: the 10th address of the service CIDR, as kubeadm chooses it. */
export const DNS_SERVICE_IP = '10.96.0.10';
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const COREDNS_IMAGE = 'localhost/cdk8s-ml/coredns:v1.15.0';
const FIREWALL_CHAIN = 'CDK8S-ML-NODE';
/** The kernel options the node needs (present on these machines, see real-cluster.md section 0). */
const KERNEL_OPTIONS = [
  'CONFIG_BRIDGE',
  'CONFIG_VETH',
  'CONFIG_BRIDGE_NETFILTER',
  'CONFIG_OVERLAY_FS',
  'CONFIG_NF_CONNTRACK',
  'CONFIG_NF_NAT',
  'CONFIG_NETFILTER_XT_SET',
  'CONFIG_IP_SET_HASH_IP',
  'CONFIG_IP_SET_HASH_NET',
  'CONFIG_NETFILTER_XT_MATCH_PHYSDEV',
  'CONFIG_NETFILTER_XT_MATCH_COMMENT',
  'CONFIG_NETFILTER_XT_TARGET_NFLOG',
];
/** Host tools the node needs -> the Debian package that has them (scripts/cluster/node-tools.sh installs them). */
const HOST_TOOLS = {
  '/usr/sbin/runc': 'runc',
  '/usr/sbin/iptables': 'iptables',
  '/usr/sbin/ipset': 'ipset',
  '/usr/sbin/conntrack': 'conntrack',
  '/usr/lib/cni/bridge': 'containernetworking-plugins',
  '/usr/lib/cni/host-local': 'containernetworking-plugins',
  '/usr/lib/cni/loopback': 'containernetworking-plugins',
  '/usr/lib/cni/portmap': 'containernetworking-plugins',
  '/usr/bin/openssl': 'openssl',
  '/usr/sbin/ip': 'iproute2',
};

class NodeError extends Error {
  constructor(step, message) {
    super(`node ${step}: ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Host checks
// ---------------------------------------------------------------------------------------------------

function run(cmd, args, { check = true, step = 'run', input } = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (check && (res.error || res.status !== 0)) {
    throw new NodeError(
      step,
      `${cmd} ${args.join(' ')} failed (${res.error ? res.error.message : `exit ${res.status}`}): ${res.stderr || res.stdout}`,
    );
  }
  return res;
}

/** The missing kernel options, read from /proc/config.gz (undefined when the kernel does not publish its config). */
export function missingKernelOptions(configGz = '/proc/config.gz') {
  if (!fs.existsSync(configGz)) return undefined;
  const text = zlib.gunzipSync(fs.readFileSync(configGz)).toString('utf8');
  return KERNEL_OPTIONS.filter((o) => !new RegExp(`^${o}=[ym]$`, 'm').test(text));
}

export function checkHost(here) {
  if (process.getuid && process.getuid() !== 0) throw new NodeError('host', 'the node runs containers, routes and iptables rules: run as root');
  const missing = missingKernelOptions();
  if (missing && missing.length > 0) throw new NodeError('host', `this kernel lacks ${missing.join(', ')} (read from /proc/config.gz)`);
  const absent = Object.keys(HOST_TOOLS).filter((f) => !fs.existsSync(f));
  if (absent.length > 0) {
    const res = spawnSync('bash', [path.join(here, 'node-tools.sh')], { encoding: 'utf8' });
    if (res.status !== 0) throw new NodeError('host', `installing ${absent.join(', ')} failed:\n${res.stderr}`);
    const still = Object.keys(HOST_TOOLS).filter((f) => !fs.existsSync(f));
    if (still.length > 0) throw new NodeError('host', `still missing after node-tools.sh: ${still.map((f) => `${f} (${HOST_TOOLS[f]})`).join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Images: a docker archive with one layer, written here (no builder needed for the node's own images)
// ---------------------------------------------------------------------------------------------------

function tarHeader(name, size, mode) {
  const h = Buffer.alloc(512, 0);
  const put = (s, off, len) => h.write(s, off, len, 'ascii');
  const octal = (n, len) => `${n.toString(8).padStart(len - 1, '0')}\0`;
  put(name, 0, 100);
  put(octal(mode, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12); // mtime 0: the same bytes every time
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

/** A tar stream of [name, Buffer, mode] entries (ustar, regular files only). */
export function tar(entries) {
  const parts = [];
  for (const [name, data, mode] of entries) {
    parts.push(tarHeader(name, data.length, mode), data, Buffer.alloc((512 - (data.length % 512)) % 512, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

/** Writes a docker archive (the format `docker save` writes and `ctr images import` reads) of one binary. */
export function writeBinaryImage(file, { name, binary, entrypoint, user = '0:0', exposed = [] }) {
  const layer = tar([[path.basename(binary), fs.readFileSync(binary), 0o755]]);
  const diffId = `sha256:${sha256(layer)}`;
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Entrypoint: entrypoint, User: user, ExposedPorts: Object.fromEntries(exposed.map((p) => [p, {}])) },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created_by: `cdk8s-ml scripts/cluster/node.mjs: ${path.basename(binary)}` }],
    }),
  );
  const configName = `${sha256(config)}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [name], Layers: ['layer.tar'] }]));
  fs.writeFileSync(
    file,
    tar([
      [configName, config, 0o644],
      ['layer.tar', layer, 0o644],
      ['manifest.json', manifest, 0o644],
    ]),
  );
  return file;
}

// ---------------------------------------------------------------------------------------------------
// Configuration files
// ---------------------------------------------------------------------------------------------------

export function containerdConfig(dirs) {
  // containerd 2.x config version 3 (docs/cri/config.md); runc through the runc v2 shim with the cgroupfs
  // driver (no systemd here); network namespaces mounted under the state dir so `down` finds them all.
  return `version = 3
root = "${dirs.root}"
state = "${dirs.state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${dirs.socket}"

[ttrpc]
  address = "${dirs.socket}.ttrpc"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${PAUSE_IMAGE}"

[plugins.'io.containerd.cri.v1.runtime']
  netns_mounts_under_state_dir = true
  # These machines withhold CAP_SYS_RESOURCE: a process may raise its oom_score_adj, never lower it below
  # its parent's. The kubelet asks for negative values (critical and Guaranteed pods); runc then fails with
  # "failed to update /proc/self/oom_score_adj: Permission denied". Clamp to our own, as rootless setups do.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "${dirs.cniConf}"

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins.'io.containerd.internal.v1.opt']
  path = "${dirs.opt}"
`;
}

export function cniConfig(dirs) {
  // Debian's plugins are 1.1.1: CNI spec 1.0.0. The bridge exists already (made by `up` with the node's
  // address); isGateway keeps that address as the pods' default route. No masquerade: nothing leaves.
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'cdk8s-ml-pods',
      plugins: [
        {
          type: 'bridge',
          bridge: BRIDGE,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', dataDir: dirs.ipam, ranges: [[{ subnet: POD_CIDR, gateway: NODE_IP }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig({ certDir, socket, port, healthzPort, podLogsDir }) {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: ${port}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${healthzPort}
# cgroup v1, no systemd (real-cluster.md section 0); kubelet >= 1.35 refuses cgroup v1 without this (KEP-5573).
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://${socket}
clusterDNS: [${DNS_SERVICE_IP}]
clusterDomain: cluster.local
# No host resolver in pods: pods with dnsPolicy Default get none, so nothing asks this machine's resolver.
resolvConf: ""
# Container logs under the node's state dir (default /var/log/pods), so \`down\` removes them with the rest.
podLogsDir: ${podLogsDir}
podCIDR: ${POD_CIDR}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${path.join(certDir, 'ca.crt')}}
authorization: {mode: Webhook}
protectKernelDefaults: false
serializeImagePulls: false
# Free disk has been low on these machines: evict late, and never collect the images imported by hand.
evictionHard: {memory.available: 200Mi, nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`;
}

export function kubeProxyConfig({ kubeconfig, healthzPort, metricsPort }) {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: ${kubeconfig}}
mode: iptables
clusterCIDR: ${CLUSTER_CIDR}
hostnameOverride: ${NODE_NAME}
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:${healthzPort}
metricsBindAddress: 127.0.0.1:${metricsPort}
nodePortAddresses: ["${NODE_IP}/32"]
# No sysctl writes for conntrack (as hack/local-up-cluster.sh): the defaults of this kernel do.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`;
}

export function corefile({ healthPort, readyPort }) {
  // No `forward`: names outside the cluster domain are not sent to another host (this machine's rule).
  return `.:53 {
    bind ${NODE_IP}
    errors
    health ${NODE_IP}:${healthPort}
    ready ${NODE_IP}:${readyPort}
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig /etc/coredns/kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loadbalance
}
`;
}

/** The DNS add-on's objects: what kubeadm's CoreDNS add-on creates, with the pod on the host network. */
export function dnsObjects({ kubeconfigYaml, healthPort, readyPort }) {
  const labels = { 'k8s-app': 'kube-dns' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:coredns' }],
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      stringData: { Corefile: corefile({ healthPort, readyPort }), kubeconfig: kubeconfigYaml },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            // On the host network: the API server listens on 127.0.0.1 only, which a pod network cannot reach.
            hostNetwork: true,
            dnsPolicy: 'Default',
            priorityClassName: 'system-cluster-critical',
            automountServiceAccountToken: false,
            containers: [
              {
                name: 'coredns',
                image: COREDNS_IMAGE,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: readyPort }, periodSeconds: 1 },
                livenessProbe: { httpGet: { path: '/health', port: healthPort }, periodSeconds: 10 },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
                // No CPU request: the node has 2 CPUs, and eeg-letters alone asks for exactly 2 (api 2 x 250m, train 1,
                // batch 500m); a DNS request would leave one of its pods Pending with Insufficient cpu.
                resources: { requests: { memory: '64Mi' }, limits: { memory: '170Mi' } },
              },
            ],
            volumes: [{ name: 'config', secret: { secretName: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels },
      spec: {
        clusterIP: DNS_SERVICE_IP,
        selector: labels,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Network set-up and tear-down
// ---------------------------------------------------------------------------------------------------

const linkExists = (name) => run('ip', ['link', 'show', name], { check: false }).status === 0;

export function setUpNetwork(stateDir) {
  const saved = { ipForward: fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() };
  fs.writeFileSync(path.join(stateDir, 'saved-sysctls.json'), JSON.stringify(saved));
  fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  if (!linkExists(BRIDGE)) run('ip', ['link', 'add', BRIDGE, 'type', 'bridge'], { step: 'network' });
  run('ip', ['addr', 'replace', `${NODE_IP}/24`, 'dev', BRIDGE], { step: 'network' });
  run('ip', ['link', 'set', BRIDGE, 'up'], { step: 'network' });
  // Pods may talk to each other, to Services and to this host, nothing else: drop what would be routed out.
  run('iptables', ['-w', '-N', FIREWALL_CHAIN], { check: false });
  run('iptables', ['-w', '-F', FIREWALL_CHAIN], { step: 'network' });
  run('iptables', ['-w', '-A', FIREWALL_CHAIN, '-s', CLUSTER_CIDR, '!', '-o', BRIDGE, '-j', 'DROP'], { step: 'network' });
  if (run('iptables', ['-w', '-C', 'FORWARD', '-j', FIREWALL_CHAIN], { check: false }).status !== 0) {
    run('iptables', ['-w', '-I', 'FORWARD', '1', '-j', FIREWALL_CHAIN], { step: 'network' });
  }
}

export function tearDownNetwork(stateDir) {
  while (run('iptables', ['-w', '-D', 'FORWARD', '-j', FIREWALL_CHAIN], { check: false }).status === 0) {
    /* every copy of the jump */
  }
  run('iptables', ['-w', '-F', FIREWALL_CHAIN], { check: false });
  run('iptables', ['-w', '-X', FIREWALL_CHAIN], { check: false });
  if (linkExists(BRIDGE)) run('ip', ['link', 'del', BRIDGE], { check: false });
  try {
    const saved = JSON.parse(fs.readFileSync(path.join(stateDir, 'saved-sysctls.json'), 'utf8'));
    fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', saved.ipForward);
  } catch {
    /* never set */
  }
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo; octal escapes decoded). */
export function mountsUnder(dir, mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')) {
  const decode = (s) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8)));
  const points = mountinfo
    .split('\n')
    .filter(Boolean)
    .map((l) => decode(l.split(' ')[4]))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export function unmountAll(dir) {
  for (let i = 0; i < 5; i++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) run('umount', [p], { check: false }).status === 0 || run('umount', ['-l', p], { check: false });
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new NodeError('down', `mounts left under ${dir}: ${left.join(', ')}`);
}

/** Every cgroup directory of the pods' hierarchy (kubepods) in each mounted v1 hierarchy, deepest first. */
export function podCgroups(root = '/sys/fs/cgroup') {
  const out = [];
  const walk = (d) => {
    let entries = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  for (const h of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    const k = path.join(root, h, 'kubepods');
    if (fs.existsSync(k)) walk(k);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Kills every process in the pods' cgroups (containers outlive their shims otherwise) and removes the cgroups. */
export function killPodProcesses() {
  const pids = new Set();
  for (const d of podCgroups()) {
    try {
      for (const p of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(p));
    } catch {
      /* gone */
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 10_000;
  for (const d of podCgroups()) {
    for (;;) {
      try {
        fs.rmdirSync(d);
        break;
      } catch (e) {
        if (e.code === 'ENOENT' || Date.now() > deadline) break;
        spawnSync('sleep', ['0.1']);
      }
    }
  }
  return pids.size;
}

/**
 * Removes the chains the kubelet (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT), kube-proxy and
 * kube-router (KUBE-ROUTER-*, KUBE-NWPLCY-*, KUBE-POD-FW-*) leave after their own clean-up, in every table of
 * iptables and ip6tables: first the jumps to them from any other chain, then the chains. Only KUBE-* chains:
 * no other program on these machines names its chains so.
 */
export function removeKubeChains() {
  const removed = [];
  for (const tool of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const res = run(tool, ['-w', '-t', table, '-S'], { check: false });
      if (res.status !== 0) continue;
      const lines = res.stdout.split('\n');
      const chains = lines.filter((l) => /^-N KUBE-/.test(l)).map((l) => l.slice(3).trim());
      if (chains.length === 0) continue;
      for (const l of lines.filter((l) => /^-A /.test(l) && / -j KUBE-\S+/.test(l))) {
        const chain = l.split(' ')[1];
        if (chain.startsWith('KUBE-')) continue; // flushed below
        run(tool, ['-w', '-t', table, '-D', ...splitRule(l.slice(3))], { check: false });
      }
      for (const c of chains) run(tool, ['-w', '-t', table, '-F', c], { check: false });
      for (const c of chains) if (run(tool, ['-w', '-t', table, '-X', c], { check: false }).status === 0) removed.push(`${tool}/${table}/${c}`);
    }
  }
  return removed;
}

/** Splits an `iptables -S` rule into arguments (double-quoted comments stay one argument). */
export function splitRule(rule) {
  const out = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m = re.exec(rule);
  while (m) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
    m = re.exec(rule);
  }
  return out;
}

/** kube-router's ipsets (names it makes: KUBE-SRC-*, KUBE-DST-*, kube-router-*), destroyed after its rules go. */
export function destroyIpsets() {
  const res = run('ipset', ['list', '-n'], { check: false });
  if (res.status !== 0) return [];
  const ours = res.stdout.split('\n').filter((n) => /^(KUBE-(SRC|DST)-|kube-router-|inet6:KUBE-|inet6:kube-router-)/.test(n));
  for (const n of ours) run('ipset', ['destroy', n], { check: false });
  return ours;
}

// ---------------------------------------------------------------------------------------------------
// DNS check from the host: kube-proxy's rules take 10.96.0.10 to the CoreDNS pod
// ---------------------------------------------------------------------------------------------------

export async function resolveThroughClusterDns(name) {
  const r = new dns.promises.Resolver({ timeout: 1000, tries: 1 });
  r.setServers([DNS_SERVICE_IP]);
  return r.resolve4(name);
}

// ---------------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------------

/** Go modules (beside this file) whose go.mod/go.sum pin the node's components; their hash names the bin dir. */
const NODE_MODULES = ['k8s', 'containerd', 'coredns', 'kube-router'];
const NODE_SOURCES = ['coredns/main.go', 'containerd/pause/main.go'];

export function nodeBinDir(here, home) {
  const h = crypto.createHash('sha256');
  for (const d of NODE_MODULES) for (const f of ['go.mod', 'go.sum']) h.update(fs.readFileSync(path.join(here, d, f)));
  for (const f of NODE_SOURCES) h.update(fs.readFileSync(path.join(here, f)));
  return path.join(home, 'bin', `node-${h.digest('hex').slice(0, 12)}`);
}

/** What builds each binary: [module dir, package, extra go build args]. */
const NODE_BINARIES = {
  kubelet: ['k8s', 'k8s.io/kubernetes/cmd/kubelet'],
  'kube-proxy': ['k8s', 'k8s.io/kubernetes/cmd/kube-proxy'],
  // containerd's own build drops btrfs (no headers here) with this tag, as its Makefile's BUILDTAGS allow.
  containerd: ['containerd', 'github.com/containerd/containerd/v2/cmd/containerd', ['-tags', 'no_btrfs']],
  'containerd-shim-runc-v2': ['containerd', 'github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2', ['-tags', 'no_btrfs']],
  ctr: ['containerd', 'github.com/containerd/containerd/v2/cmd/ctr', ['-tags', 'no_btrfs']],
  pause: ['containerd', './pause'],
  coredns: ['coredns', '.'],
  'kube-router': ['kube-router', 'github.com/cloudnativelabs/kube-router/v2/cmd/kube-router'],
};

export function buildNode(ctx) {
  const dir = nodeBinDir(ctx.here, ctx.home);
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    for (const [bin, [mod, pkg, extra = []]] of Object.entries(NODE_BINARIES)) {
      if (fs.existsSync(path.join(dir, bin))) continue;
      fs.mkdirSync(tmp, { recursive: true });
      const ldflags = mod === 'k8s' ? ctx.k8sLdflags() : '-s -w';
      ctx.goBuild(mod, ['build', ...extra, '-ldflags', ldflags, '-o', path.join(tmp, bin), pkg], bin, { CGO_ENABLED: '0' });
      fs.mkdirSync(dir, { recursive: true });
      fs.renameSync(path.join(tmp, bin), path.join(dir, bin));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------------
// Up and down
// ---------------------------------------------------------------------------------------------------

const NODE_PROCESSES = ['kube-router', 'kube-proxy', 'kubelet', 'containerd'];

function nodeDirs(state) {
  const nd = path.join(state, 'node');
  return {
    nd,
    root: path.join(nd, 'containerd', 'root'),
    state: path.join(nd, 'containerd', 'state'),
    opt: path.join(nd, 'containerd', 'opt'),
    socket: path.join(nd, 'containerd', 'containerd.sock'),
    cniConf: path.join(nd, 'cni', 'net.d'),
    ipam: path.join(nd, 'cni', 'ipam'),
    kubelet: path.join(nd, 'kubelet'),
    images: path.join(nd, 'images'),
  };
}

function signClient(certDir, outDir, name, subject) {
  const p = (f) => path.join(outDir, f);
  const ca = (f) => path.join(certDir, f);
  run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p(`${name}.key`)], { step: 'certificates' });
  run('openssl', ['req', '-new', '-key', p(`${name}.key`), '-subj', subject, '-out', p(`${name}.csr`)], { step: 'certificates' });
  fs.writeFileSync(p(`${name}.ext`), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  run(
    'openssl',
    ['x509', '-req', '-in', p(`${name}.csr`), '-CA', ca('ca.crt'), '-CAkey', ca('ca.key'), '-CAcreateserial', '-sha256', '-days', '30'].concat([
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.crt`),
    ]),
    { step: 'certificates' },
  );
}

/** A kubeconfig with the certificates inlined (for CoreDNS, which reads it inside its pod). */
function inlineKubeconfig(certDir, outDir, user, server) {
  const b64 = (f) => fs.readFileSync(f).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: ${server}, certificate-authority-data: ${b64(path.join(certDir, 'ca.crt'))}}
users:
- name: ${user}
  user: {client-certificate-data: ${b64(path.join(outDir, `${user}.crt`))}, client-key-data: ${b64(path.join(outDir, `${user}.key`))}}
contexts:
- name: ${user}
  context: {cluster: local, user: ${user}}
current-context: ${user}
`;
}

function ctr(bin, socket, args, step = 'ctr') {
  return run(path.join(bin, 'ctr'), ['--address', socket, '--namespace', 'k8s.io', ...args], { step });
}

/** Imports docker or OCI archives into the node's image store (the CRI's `k8s.io` namespace). */
export function importImages(node, archives) {
  for (const a of archives) ctr(node.bin, node.socket, ['images', 'import', '--no-unpack=false', a], 'import image');
}

function kubectlApply(ctx, objects) {
  const input = objects.map((o) => JSON.stringify(o)).join('\n');
  run(path.join(ctx.info.bin, 'kubectl'), ['--kubeconfig', ctx.info.kubeconfig, 'apply', '--server-side', '--force-conflicts', '-f', '-'], {
    step: 'apply',
    input,
  });
}

async function apiJson(ctx, urlPath) {
  const r = await ctx.get(`${ctx.info.server}${urlPath}`, ctx.info.certDir);
  return r.status === 200 ? JSON.parse(r.body) : undefined;
}

export async function nodeUp(ctx) {
  const t0 = Date.now();
  checkHost(ctx.here);
  const bin = buildNode(ctx);
  const d = nodeDirs(ctx.state);
  for (const k of ['root', 'state', 'opt', 'cniConf', 'ipam', 'kubelet', 'images']) fs.mkdirSync(d[k], { recursive: true });
  const certs = path.join(d.nd, 'certs');
  fs.mkdirSync(certs, { recursive: true });
  signClient(ctx.info.certDir, certs, 'kubelet', `/O=system:nodes/CN=system:node:${NODE_NAME}`);
  signClient(ctx.info.certDir, certs, 'kube-proxy', '/CN=system:kube-proxy');
  signClient(ctx.info.certDir, certs, 'system:coredns', '/CN=system:coredns');
  const kc = (user) => {
    const file = path.join(d.nd, `${user}.kubeconfig`);
    fs.writeFileSync(file, inlineKubeconfig(ctx.info.certDir, certs, user, ctx.info.server));
    return file;
  };
  const [kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics, dnsHealth, dnsReady] = await Promise.all(Array.from({ length: 6 }, ctx.freePort));
  const node = { name: NODE_NAME, ip: NODE_IP, bin, socket: d.socket, dir: d.nd, podCidr: POD_CIDR, dnsServiceIp: DNS_SERVICE_IP, kubeletPort };
  ctx.info.node = node;
  ctx.writeInfo();
  setUpNetwork(d.nd);

  // containerd, then the node's own images
  fs.writeFileSync(path.join(d.nd, 'containerd.toml'), containerdConfig(d));
  fs.writeFileSync(path.join(d.cniConf, '10-cdk8s-ml.conflist'), cniConfig(d));
  const env = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
  ctx.info.pids.containerd = ctx.startProcess('containerd', path.join(bin, 'containerd'), ['--config', path.join(d.nd, 'containerd.toml')], env);
  ctx.writeInfo();
  await ctx.waitFor('start containerd', 'containerd', 30_000, async () => {
    if (!fs.existsSync(d.socket)) return 'no socket yet';
    const r = run(path.join(bin, 'ctr'), ['--address', d.socket, 'version'], { check: false });
    return r.status === 0 ? true : r.stderr.trim();
  });
  importImages(node, [
    writeBinaryImage(path.join(d.images, 'pause.tar'), {
      name: PAUSE_IMAGE,
      binary: path.join(bin, 'pause'),
      entrypoint: ['/pause'],
      user: '65535:65535',
    }),
    writeBinaryImage(path.join(d.images, 'coredns.tar'), {
      name: COREDNS_IMAGE,
      binary: path.join(bin, 'coredns'),
      entrypoint: ['/coredns'],
      exposed: ['53/udp', '53/tcp'],
    }),
  ]);

  // the kubelet registers the node; Ready once the runtime and its network (the CNI config) are ready
  fs.writeFileSync(
    path.join(d.nd, 'kubelet.yaml'),
    kubeletConfig({
      certDir: ctx.info.certDir,
      socket: d.socket,
      port: kubeletPort,
      healthzPort: kubeletHealthz,
      podLogsDir: path.join(d.nd, 'pod-logs'),
    }),
  );
  ctx.info.pids.kubelet = ctx.startProcess(
    'kubelet',
    path.join(bin, 'kubelet'),
    [
      `--config=${path.join(d.nd, 'kubelet.yaml')}`,
      `--kubeconfig=${kc('kubelet')}`,
      `--root-dir=${d.kubelet}`,
      `--cert-dir=${path.join(d.nd, 'kubelet-pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${NODE_IP}`,
      '--v=1',
    ],
    env,
  );
  ctx.writeInfo();
  await ctx.waitFor('start kubelet', 'kubelet', 120_000, async () => {
    const n = await apiJson(ctx, `/api/v1/nodes/${NODE_NAME}`);
    const ready = n?.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' ? true : `node ${n ? `Ready=${ready?.status} ${ready?.message ?? ''}` : 'not registered'}`;
  });

  // Services (kube-proxy) and NetworkPolicies (kube-router's firewall controller alone)
  fs.writeFileSync(
    path.join(d.nd, 'kube-proxy.yaml'),
    kubeProxyConfig({ kubeconfig: kc('kube-proxy'), healthzPort: proxyHealthz, metricsPort: proxyMetrics }),
  );
  ctx.info.pids['kube-proxy'] = ctx.startProcess('kube-proxy', path.join(bin, 'kube-proxy'), [`--config=${path.join(d.nd, 'kube-proxy.yaml')}`], env);
  ctx.writeInfo();
  await ctx.waitFor('start kube-proxy', 'kube-proxy', 60_000, async () => {
    const r = await ctx.httpGet(`http://127.0.0.1:${proxyHealthz}/healthz`);
    return r.status === 200 ? true : `healthz ${r.status} ${r.body.slice(0, 120)}`;
  });
  ctx.info.pids['kube-router'] = ctx.startProcess(
    'kube-router',
    path.join(bin, 'kube-router'),
    [
      '--run-firewall=true',
      '--run-router=false',
      '--run-service-proxy=false',
      `--kubeconfig=${ctx.info.kubeconfig}`,
      `--hostname-override=${NODE_NAME}`,
      '--health-port=0', // it would listen on every interface
      '--metrics-port=0',
    ],
    env,
  );
  ctx.writeInfo();
  await ctx.waitFor('start kube-router', 'kube-router', 60_000, async () => {
    const r = run('iptables', ['-w', '-S', 'KUBE-ROUTER-FORWARD'], { check: false });
    return r.status === 0 ? true : 'no KUBE-ROUTER-FORWARD chain yet';
  });

  // cluster DNS
  kubectlApply(ctx, dnsObjects({ kubeconfigYaml: fs.readFileSync(kc('system:coredns'), 'utf8'), healthPort: dnsHealth, readyPort: dnsReady }));
  await ctx.waitFor('start CoreDNS', 'kubelet', 120_000, async () => {
    try {
      const a = await resolveThroughClusterDns('kubernetes.default.svc.cluster.local');
      return a.includes('10.96.0.1') ? true : `kubernetes.default resolved to ${a}`;
    } catch (e) {
      return `kubernetes.default.svc.cluster.local: ${e.code ?? e.message}`;
    }
  });
  node.startupMs = Date.now() - t0;
  ctx.writeInfo();
  ctx.log(`node ${NODE_NAME} Ready at ${NODE_IP} (pods ${POD_CIDR}, DNS ${DNS_SERVICE_IP}) in ${(node.startupMs / 1000).toFixed(1)} s`);
  return node;
}

/** Processes whose executable is one of `bin`'s (the containerd shims detach from containerd). */
function processesOf(bin) {
  const out = [];
  for (const p of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (fs.readlinkSync(`/proc/${p}/exe`).startsWith(`${bin}/`)) out.push(Number(p));
    } catch {
      /* gone or not ours to read */
    }
  }
  return out;
}

export async function nodeDown(ctx) {
  const d = nodeDirs(ctx.state);
  if (!fs.existsSync(d.nd)) return;
  const bin = ctx.info?.node?.bin;
  // The kubelet first (it would restart containers), then every pod process, then the rest.
  await ctx.stop('kubelet');
  const killed = killPodProcesses();
  for (const name of ['kube-router', 'kube-proxy', 'containerd']) await ctx.stop(name);
  if (bin) {
    for (const pid of processesOf(bin)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    // kube-proxy and kube-router remove their own rules (both iptables and nftables for kube-proxy).
    if (fs.existsSync(path.join(bin, 'kube-proxy'))) run(path.join(bin, 'kube-proxy'), ['--cleanup'], { check: false });
    if (fs.existsSync(path.join(bin, 'kube-router'))) run(path.join(bin, 'kube-router'), ['--cleanup-config'], { check: false });
  }
  removeKubeChains();
  destroyIpsets();
  killPodProcesses();
  unmountAll(d.nd);
  tearDownNetwork(d.nd);
  const left = leftovers(bin, d.nd);
  fs.rmSync(d.nd, { recursive: true, force: true });
  if (left.length > 0) throw new NodeError('down', `left behind: ${left.join('; ')}`);
  if (!ctx.quiet) ctx.log(`node down (${killed} pod processes killed; no process, mount, KUBE-* chain, ipset, bridge or pod cgroup left)`);
}

/** What a stopped node must not leave on the machine; each entry names one thing left. */
export function leftovers(bin, dir) {
  const left = [];
  if (bin) for (const pid of processesOf(bin)) left.push(`process ${pid} (${fs.readlinkSync(`/proc/${pid}/exe`)})`);
  for (const m of mountsUnder(dir)) left.push(`mount ${m}`);
  for (const c of podCgroups()) left.push(`cgroup ${c}`);
  if (linkExists(BRIDGE)) left.push(`link ${BRIDGE}`);
  // every table: kube-proxy's Service chains are in nat, the kubelet's and kube-router's in filter and mangle
  for (const tool of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const res = run(tool, ['-w', '-t', table, '-S'], { check: false });
      for (const l of res.status === 0 ? res.stdout.split('\n') : []) {
        if (/^-N (KUBE-|CDK8S-ML-)/.test(l)) left.push(`${tool} ${table} chain ${l.slice(3)}`);
      }
    }
  }
  const sets = run('ipset', ['list', '-n'], { check: false });
  for (const n of sets.status === 0 ? sets.stdout.split('\n').filter(Boolean) : []) if (/^(KUBE-|kube-router-)/.test(n)) left.push(`ipset ${n}`);
  return left;
}

export { NODE_PROCESSES };
