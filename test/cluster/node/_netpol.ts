/**
 * The network probes a real cluster must answer for one synthesized stack, with the verdict of the
 * library's own reachability model (lib/check/network.ts, isConnectionAllowed) as the expectation,
 * and the Pod that tries each one.
 *
 * - Allowed edges are read off the output by the model (intendedConnections: env URLs naming a Service,
 *   Prometheus scrapes, Ingress and HTTPRoute backends, LoadBalancer Services), each mapped to the
 *   Service port a client dials. The client is a pod with the labels of the real client workload, in its
 *   namespace; Prometheus, the ingress controller and the Gateway are a pod of their namespace; `outside`
 *   (a LoadBalancer's clients) is a pod of another namespace, since no probe can come from outside here.
 * - Edges the stack must refuse, at least one per stack: a pod with other labels in the server's
 *   namespace, a client's twin in another namespace (`<stack>-netprobe`), the client on another port of
 *   the same Service. Their verdict is the model's too: the expectation never comes from this file.
 * - Not probed: connections leaving the cluster (object storage, a model hub: the test cluster has no
 *   outside network) and ports no Service exposes (a probe dials a Service).
 * The verdict is asked about the probe pod itself (its namespace and labels, added to the objects as a
 * Pod), so the model judges exactly the pod that runs.
 */
import { intendedConnections, isConnectionAllowed, K8sObject } from '../../../lib/check';
import {
  asArray,
  containersOf,
  effectiveNamespace,
  field,
  metaName,
  podsSelectedBy,
  WorkloadPodTemplate,
  workloadPodTemplates,
} from '../../../lib/check/k8s-common';

export interface Probe {
  readonly stack: string;
  /** e.g. `web -> server:8501`. */
  readonly name: string;
  /** The client's pod: labels copied from the real client workload for wired edges, others for the deny cases. */
  readonly from: { readonly namespace: string; readonly labels: Record<string, string> };
  /** `port` is the Service port, `targetPort` the container port behind it. */
  readonly to: { readonly service: string; readonly namespace: string; readonly port: number; readonly targetPort: number };
  /** The model's verdict. */
  readonly expect: 'allow' | 'deny';
  /**
   * The model's verdict on the client's DNS queries (UDP 53 to a pod of kube-system): when `deny`, a
   * refused probe may be a failed lookup, so probe by the Service's ClusterIP too (probePod's `ip`).
   */
  readonly dns: 'allow' | 'deny';
  readonly why: string;
}

/** Labels no policy of the library selects or admits: "a pod with other labels". */
export const OTHER_LABELS: Readonly<Record<string, string>> = { 'app.kubernetes.io/name': 'netprobe' };
/** Where a probe pod's connect result goes (the container's terminationMessagePath default). */
const TERMINATION_LOG = '/dev/termination-log';
const PROBE_UID = 10001;

/** The namespace of the probes that come from another namespace than the stack's. */
export function elsewhereNamespace(stack: string): string {
  return `${stack}-netprobe`;
}

/** One port of a Service and the pods behind it (each workload selected, with the container port it lands on). */
interface ServicePortTarget {
  readonly service: string;
  readonly namespace: string;
  readonly port: number;
  readonly targetPort: number;
  readonly pods: ReadonlyArray<{ readonly ref: string; readonly port: number }>;
}

interface Source {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** How the probe's name shows the client: `web`, `monitoring/*`, `outside`. */
  readonly shown: string;
  /** The real client workload, when the source is one. */
  readonly workload?: WorkloadPodTemplate;
}

/** A container port a Service's targetPort names or numbers, on one workload's pods. */
function targetPortOn(sp: Record<string, unknown>, t: WorkloadPodTemplate): number | undefined {
  const wanted = sp.targetPort ?? sp.port;
  if (typeof wanted === 'number') return wanted;
  for (const c of containersOf(t)) {
    for (const p of asArray<{ name?: unknown; containerPort?: unknown }>(c.container.ports)) {
      if (p?.name === wanted && typeof p.containerPort === 'number') return p.containerPort;
    }
  }
  return undefined;
}

/** Every TCP port of every Service with a selector, with the workloads behind it. */
function servicePortTargets(objects: readonly K8sObject[], templates: readonly WorkloadPodTemplate[]): ServicePortTarget[] {
  const out: ServicePortTarget[] = [];
  for (const svc of objects.filter((o) => o?.kind === 'Service')) {
    const selected = podsSelectedBy(svc, templates);
    for (const sp of asArray<Record<string, unknown>>(field(svc, 'spec', 'ports'))) {
      if ((sp.protocol ?? 'TCP') !== 'TCP' || typeof sp.port !== 'number') continue;
      const pods = selected.flatMap((t) => {
        const port = targetPortOn(sp, t);
        return port === undefined ? [] : [{ ref: t.ref, port }];
      });
      if (pods.length === 0) continue;
      out.push({ service: metaName(svc) ?? '', namespace: effectiveNamespace(svc), port: sp.port, targetPort: pods[0].port, pods });
    }
  }
  return out;
}

/**
 * The Service port a client dials to reach `to` on `port`: the one the intent's reason names
 * (`calls Service classifier:8501`), else the one selecting the fewest workloads (a per-track Service
 * over the Service of both tracks), then by name.
 */
function serviceFor(targets: readonly ServicePortTarget[], to: string, port: number, reason: string): ServicePortTarget | undefined {
  const candidates = targets.filter((t) => t.pods.some((p) => p.ref === to && p.port === port));
  const named = /Service (?:[a-z0-9-]+\/)?([a-z0-9.-]+):(\d+)/.exec(reason);
  const byName = named && candidates.find((t) => t.service === named[1] && t.port === Number(named[2]));
  if (byName) return byName;
  return [...candidates].sort((a, b) => a.pods.length - b.pods.length || a.service.localeCompare(b.service))[0];
}

/** A pod as the model sees a source: its namespace and labels. */
function oraclePod(from: { namespace: string; labels: Record<string, string> }): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'netprobe', namespace: from.namespace, ...(Object.keys(from.labels).length > 0 ? { labels: from.labels } : {}) },
    spec: { containers: [{ name: 'probe', image: 'netprobe' }] },
  };
}

/**
 * The model's verdict for a pod dialing a Service port: each pod behind it must get the same one (a
 * Service balances over them), else the probe's answer would depend on the pod it lands on.
 */
function verdictOf(objects: readonly K8sObject[], from: Source, target: ServicePortTarget): { expect: 'allow' | 'deny'; dns: 'allow' | 'deny' } {
  const all = [...objects, oraclePod(from)];
  const ref = `Pod/${from.namespace}/netprobe`;
  const answers = target.pods.map((p) => isConnectionAllowed(all, ref, p.ref, p.port));
  if (answers.some((a) => a !== answers[0])) {
    const shown = target.pods.map((p, i) => `${p.ref}: ${answers[i] ? 'allow' : 'deny'}`).join(', ');
    throw new Error(
      `the model gives pods of ${from.namespace} with ${JSON.stringify(from.labels)} different verdicts behind Service ` +
        `${target.namespace}/${target.service}:${target.port} (${shown}): a probe through the Service cannot tell them apart`,
    );
  }
  const dns = isConnectionAllowed(all, ref, 'probe:kube-system', 53, 'UDP');
  return { expect: answers[0] ? 'allow' : 'deny', dns: dns ? 'allow' : 'deny' };
}

function sourceOf(ref: string, stack: string, templates: readonly WorkloadPodTemplate[]): Source | undefined {
  const workload = templates.find((t) => t.ref === ref);
  if (workload) return { namespace: workload.namespace, labels: { ...workload.labels }, shown: workload.name, workload };
  if (ref.startsWith('probe:'))
    return { namespace: ref.slice('probe:'.length), labels: { ...OTHER_LABELS }, shown: `${ref.slice('probe:'.length)}/*` };
  if (ref === 'outside') return { namespace: elsewhereNamespace(stack), labels: { ...OTHER_LABELS }, shown: 'outside' };
  return undefined;
}

/** The edges the output implies, as dialled through a Service: one probe per client and Service port. */
function wiredProbes(stack: string, objects: readonly K8sObject[], templates: readonly WorkloadPodTemplate[], targets: readonly ServicePortTarget[]) {
  const out: Array<{ source: Source; target: ServicePortTarget; why: string }> = [];
  for (const c of intendedConnections(objects)) {
    const source = sourceOf(c.from, stack, templates);
    const target = serviceFor(targets, c.to, c.port, c.reason);
    if (!source || !target) continue; // leaves the cluster, or a port no Service exposes
    const as = c.from === 'outside' ? ` (a pod of ${source.namespace} stands in for it)` : '';
    out.push({ source, target, why: `${c.reason}${as} [${c.declaredBy}]` });
  }
  return out;
}

/** The deny cases around the wired edges (or around every Service port of a stack without any). */
function unwiredProbes(stack: string, wired: ReturnType<typeof wiredProbes>, targets: readonly ServicePortTarget[]) {
  const out: Array<{ source: Source; target: ServicePortTarget; why: string }> = [];
  const servers = wired.length > 0 ? [...new Set(wired.map((w) => w.target))] : targets;
  const elsewhere = elsewhereNamespace(stack);
  const twinned = new Set<ServicePortTarget>();
  for (const { source, target } of wired) {
    if (!source.workload || source.namespace === elsewhere) continue;
    twinned.add(target);
    out.push({
      source: { namespace: elsewhere, labels: source.labels, shown: `${elsewhere}/${source.shown}` },
      target,
      why: `the labels of ${source.workload.ref} in another namespace: a podSelector peer admits its own namespace only`,
    });
    for (const other of targets.filter((t) => t.service === target.service && t.namespace === target.namespace && t.port !== target.port)) {
      out.push({ source, target: other, why: `${source.workload.ref} on port ${other.port} of the Service it calls on ${target.port}` });
    }
  }
  for (const target of servers) {
    const labels = { ...OTHER_LABELS };
    out.push({
      source: { namespace: target.namespace, labels, shown: 'other-labels' },
      target,
      why: `a pod of ${target.namespace} with other labels`,
    });
    if (!twinned.has(target))
      out.push({ source: { namespace: elsewhere, labels, shown: `${elsewhere}/*` }, target, why: 'a pod of another namespace' });
  }
  return out;
}

/**
 * The probes of one stack: the edges its output implies and the deny cases around them, each with the
 * model's verdict. `objects` are the stack's manifests (its Namespace, NetworkPolicies, Services and
 * workloads); the namespaces the probes come from that are not among them are for the caller to create
 * (probeNamespaces).
 */
export function networkProbes(stack: string, objects: readonly K8sObject[]): Probe[] {
  const templates = workloadPodTemplates(objects);
  const targets = servicePortTargets(objects, templates);
  const wired = wiredProbes(stack, objects, templates, targets);
  const seen = new Set<string>();
  const probes: Probe[] = [];
  for (const { source, target, why } of [...wired, ...unwiredProbes(stack, wired, targets)]) {
    const key = JSON.stringify([source.namespace, source.labels, target.namespace, target.service, target.port]);
    if (seen.has(key)) continue;
    seen.add(key);
    probes.push({
      stack,
      name: `${source.shown} -> ${target.service}:${target.port}`,
      from: { namespace: source.namespace, labels: source.labels },
      to: { service: target.service, namespace: target.namespace, port: target.port, targetPort: target.targetPort },
      ...verdictOf(objects, source, target),
      why,
    });
  }
  return probes;
}

/**
 * Namespace objects for the namespaces probes come from that are not among `objects` (`<stack>-netprobe`,
 * monitoring, ingress-nginx, gateway), with the Pod Security labels of the stack's own namespace.
 */
export function probeNamespaces(probes: readonly Probe[], objects: readonly K8sObject[]): object[] {
  const defined = new Set(objects.filter((o) => o?.kind === 'Namespace').map((o) => metaName(o)));
  const stackNamespace = objects.find((o) => o?.kind === 'Namespace');
  const podSecurity = Object.fromEntries(
    Object.entries((field(stackNamespace, 'metadata', 'labels') ?? {}) as Record<string, string>).filter(([k]) =>
      k.startsWith('pod-security.kubernetes.io/'),
    ),
  );
  const wanted = [...new Set(probes.map((p) => p.from.namespace))].filter((ns) => !defined.has(ns)).sort();
  return wanted.map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, ...(Object.keys(podSecurity).length > 0 ? { labels: podSecurity } : {}) },
  }));
}

/**
 * The probe program (argv: host, port, seconds to keep trying, whether to retry a refused connect,
 * result file). A failed lookup is always retried within the time (CoreDNS may not know a new Service
 * yet); a refused or timed-out connect only for an edge expected open. One connect waits 3 s at most.
 */
export const PROBE_SCRIPT = [
  'import socket, sys, time',
  'host, port, budget, retry, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]',
  'end = time.monotonic() + budget',
  'while True:',
  '    lookup_failed = False',
  '    try:',
  '        addr = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4]',
  '    except OSError as e:',
  '        err, lookup_failed = f"lookup of {host}: {e}", True',
  '    else:',
  '        try:',
  '            socket.create_connection(addr, timeout=3).close()',
  '            msg = "open"',
  '            break',
  '        except OSError as e:',
  '            err = f"{addr[0]}:{port}: {type(e).__name__}: {e}"',
  '    if time.monotonic() + 1 > end or not (retry or lookup_failed):',
  '        msg = "refused/timeout: " + err',
  '        break',
  '    time.sleep(1)',
  'with open(out, "w") as f:',
  '    f.write(msg)',
  'print(msg)',
  'sys.exit(0 if msg == "open" else 1)',
].join('\n');

/** `python3 -c PROBE_SCRIPT ...` for a probe; `ip` dials that address (the Service's ClusterIP) instead of its DNS name. */
export function probeCommand(p: Probe, ip?: string, out = TERMINATION_LOG): string[] {
  const host = ip ?? `${p.to.service}.${p.to.namespace}.svc.cluster.local`;
  return ['python3', '-c', PROBE_SCRIPT, host, String(p.to.port), '5', p.expect === 'allow' ? '1' : '0', out];
}

/**
 * The Pod that tries a probe: in `p.from.namespace` with `p.from.labels`, Pod Security "restricted",
 * never restarted; it exits 0 when the connect succeeds, 1 otherwise, and its termination message says
 * `open` or `refused/timeout: <error>`. It is never Ready (a readiness gate nobody sets): a probe
 * carrying a client's labels is selected by that client's Service too, and must not receive its traffic.
 */
export function probePod(p: Probe, image: string, name: string, ip?: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: p.from.namespace,
      ...(Object.keys(p.from.labels).length > 0 ? { labels: { ...p.from.labels } } : {}),
      annotations: { 'cdk8s-ml.test/probe': `${p.stack}: ${p.name}`, 'cdk8s-ml.test/expect': p.expect },
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: 60,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      readinessGates: [{ conditionType: 'cdk8s-ml.test/never-ready' }],
      securityContext: {
        runAsNonRoot: true,
        runAsUser: PROBE_UID,
        runAsGroup: PROBE_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'probe',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: probeCommand(p, ip),
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            runAsUser: PROBE_UID,
          },
        },
      ],
    },
  };
}

function shownFrom(p: Probe): string {
  const who = p.from.labels['app.kubernetes.io/name'] ?? (Object.keys(p.from.labels).length === 0 ? '{}' : JSON.stringify(p.from.labels));
  return `${p.from.namespace}/${who}`;
}

/** An aligned table of probes and what the cluster answered: stack, from, to, model, real, equal. */
export function formatMatrix(rows: ReadonlyArray<{ probe: Probe; actual: 'allow' | 'deny' }>): string {
  const table = [
    ['stack', 'from', 'to', 'model', 'real', 'equal'],
    ...rows.map(({ probe: p, actual }) => [
      p.stack,
      shownFrom(p),
      `${p.to.service}.${p.to.namespace}:${p.to.port}`,
      p.expect,
      actual,
      p.expect === actual ? 'yes' : 'NO',
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  return table
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
