/**
 * Rule `pss-restricted`: the Pod Security Standards "restricted" profile
 * (which includes "baseline") of one policy version, as the PodSecurity
 * admission controller evaluates it. A namespace labelled
 * `pod-security.kubernetes.io/enforce: restricted` rejects any pod that fails
 * one of these, so the controller never gets a replica up; catching it here
 * is much cheaper than catching it from `kubectl get events`.
 *
 * Versions: the rules are those of kubernetes/pod-security-admission
 * `policy/check_*.go`, each with the `MinimumVersion` its `VersionedCheck`
 * gives, and agree with that repository's restricted fixtures
 * (test/testdata/restricted/<version>/) of v1.28 and v1.37
 * (test/check/pss-fixtures.test.ts). Pods are checked at the version their
 * namespace enforces when a Namespace among the objects says so, else at
 * the caller's `podSecurityVersion`, else at POD_SECURITY_VERSION.
 *
 * Rules of our own that go beyond PSS look at the same fields through the same PodCtx:
 * `starts-non-root`, `read-only-root-fs`, `resources`, `image-tag` (rules/pod-security.ts).
 */
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import { describe as describeValue, MlInputError } from '../_errors';
import {
  asArray,
  asLabels,
  containersOf,
  describeContainer,
  isPlainObject,
  joinPath,
  K8sObject,
  LocatedContainer,
  Problem,
  WorkloadPodTemplate,
  field,
  metaName,
} from './k8s-common';

/**
 * The Pod Security version cdk8s-ml's namespaces enforce (MlStack writes it as
 * `pod-security.kubernetes.io/enforce-version`) and the version this check applies by default:
 * one constant, so the cluster and the check apply the same rules.
 *
 * Pinned, not `latest`: `latest` means a different rule set on every cluster version (v1.34
 * added the probe-host check, v1.37 two sysctls), which no check can match. v1.28 is the API
 * level cdk8s-plus-28 targets and cdk8s-ml's minimum cluster version, so every cluster from
 * v1.28 on applies exactly these rules to our namespaces (upstream's few in-place changes to a
 * version's rules aside: see ALLOWED_VOLUME_TYPES).
 */
export const POD_SECURITY_VERSION = 'v1.28';

/**
 * The newest policy version whose rules this check knows, and so what `latest` means here.
 * Limitation: on a cluster newer than that, `latest` may hold rules this check does not know;
 * pin the namespace's version (as MlStack does) to get the rules the check applies.
 */
export const NEWEST_POD_SECURITY_VERSION = 'v1.37';

/** The oldest version the check models: cdk8s-ml's minimum cluster version. */
const OLDEST_MINOR = 28;
const NEWEST_MINOR = 37;

const RULE = 'pss-restricted';
const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
const ENFORCE_VERSION_LABEL = 'pod-security.kubernetes.io/enforce-version';

/** A policy version as the check applies it: the minor of v1.<minor>. */
export type PolicyMinor = number;

interface ParsedVersion {
  readonly minor: PolicyMinor;
  /** Why the value is not what the check (or the apiserver) takes, when it is not. */
  readonly issue?: string;
  /** Not `latest` or `v1.<minor>`: the apiserver rejects such a label. */
  readonly malformed?: boolean;
}

/**
 * `latest` or `v1.<minor>`, as upstream api.ParseVersion reads it (`^v1\.([0-9]|[1-9][0-9]*)$`);
 * anything else is rejected by the apiserver and evaluated as latest. A version newer than the
 * check knows is clamped to the newest it knows, as upstream clamps to its own newest
 * (registry.go); an older one than v1.28 cannot be modelled and is checked at v1.28.
 */
function parseVersion(value: unknown): ParsedVersion {
  if (value === 'latest') return { minor: NEWEST_MINOR };
  const m = typeof value === 'string' ? /^v1\.([0-9]|[1-9][0-9]*)$/.exec(value) : null;
  if (!m) return { minor: NEWEST_MINOR, issue: 'must be "latest" or "v1.<minor>"', malformed: true };
  const minor = Number(m[1]);
  if (minor < OLDEST_MINOR)
    return { minor: OLDEST_MINOR, issue: `is older than v1.${OLDEST_MINOR}, the oldest Pod Security version this check models` };
  return { minor: Math.min(minor, NEWEST_MINOR) };
}

/** The caller's `podSecurityVersion` option (default POD_SECURITY_VERSION); a bad one throws an MlInputError. */
export function podSecurityMinor(option: unknown): PolicyMinor {
  if (option === undefined) return parseVersion(POD_SECURITY_VERSION).minor;
  const parsed = parseVersion(option);
  if (parsed.issue !== undefined) {
    throw new MlInputError(
      `check option podSecurityVersion must be "latest" or "v1.<minor>" with minor from ${OLDEST_MINOR}, got ${describeValue(option)}. ` +
        `Fix: pass the version your namespaces enforce (pod-security.kubernetes.io/enforce-version), such as '${POD_SECURITY_VERSION}', ` +
        `the one cdk8s-ml's namespaces enforce, or leave it out`,
    );
  }
  return parsed.minor;
}

/** The versions pods are checked at: per namespace, from the Namespace objects among the manifests. */
export interface PodSecurityVersions {
  minorOf(t: WorkloadPodTemplate): PolicyMinor;
  /** Namespaces whose version label the apiserver rejects or the check cannot model. */
  readonly problems: readonly Problem[];
}

/**
 * A Namespace with `enforce-version` makes its pods checked at that version, as the cluster
 * would; one that enforces a level without a version gets the admission default, `latest`
 * (the AdmissionConfiguration default; a cluster may configure another). Namespaces without
 * Pod Security labels, and pods whose namespace is not among the objects, get `defaultMinor`.
 */
export function podSecurityVersions(objects: readonly K8sObject[], defaultMinor: PolicyMinor): PodSecurityVersions {
  const byNamespace = new Map<string, PolicyMinor>();
  const problems: Problem[] = [];
  for (const obj of objects) {
    const name = metaName(obj);
    if (obj?.kind !== 'Namespace' || name === undefined) continue;
    const labels = asLabels(field(obj, 'metadata', 'labels'));
    const version = labels[ENFORCE_VERSION_LABEL];
    if (version === undefined) {
      if (labels[ENFORCE_LABEL] !== undefined) byNamespace.set(name, NEWEST_MINOR);
      continue;
    }
    const parsed = parseVersion(version);
    byNamespace.set(name, parsed.minor);
    if (parsed.issue !== undefined) {
      const consequence = parsed.malformed
        ? `the apiserver rejects the Namespace; its pods are checked at latest (${NEWEST_POD_SECURITY_VERSION})`
        : `its pods are checked at v1.${parsed.minor}; pin v1.${OLDEST_MINOR} or newer`;
      problems.push({
        obj,
        rule: RULE,
        message: `${joinPath('metadata.labels', ENFORCE_VERSION_LABEL)} ${JSON.stringify(version)} ${parsed.issue}: ${consequence}`,
      });
    }
  }
  return {
    minorOf: (t) => byNamespace.get(t.namespace) ?? defaultMinor,
    problems,
  };
}

/** Something allowed from a policy version on: `[minimum minor, value]`. */
type FromVersion = readonly [PolicyMinor, string];

function allowedAt(table: readonly FromVersion[], minor: PolicyMinor): string[] {
  return table.filter(([from]) => from <= minor).map(([, value]) => value);
}

/**
 * check_restrictedVolumes.go. Upstream added `image` to that check's only (v1.0) function in
 * Kubernetes 1.33 instead of a new version, so a 1.33+ apiserver admits image volumes at every
 * pinned version while 1.31/1.32 apiservers reject them (and older ones lack the field). The
 * check allows them from v1.33: in a v1.28 namespace it flags what some supported clusters reject.
 */
const ALLOWED_VOLUME_TYPES: readonly FromVersion[] = [
  ...['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'].map((t) => [0, t] as const),
  [33, 'image'],
];

/** check_sysctls.go: the safe set grows at v1.27, v1.29, v1.32 and v1.37. */
const SAFE_SYSCTLS: readonly FromVersion[] = [
  [0, 'kernel.shm_rmid_forced'],
  [0, 'net.ipv4.ip_local_port_range'],
  [0, 'net.ipv4.tcp_syncookies'],
  [0, 'net.ipv4.ping_group_range'],
  [0, 'net.ipv4.ip_unprivileged_port_start'],
  [27, 'net.ipv4.ip_local_reserved_ports'],
  [29, 'net.ipv4.tcp_keepalive_time'],
  [29, 'net.ipv4.tcp_fin_timeout'],
  [29, 'net.ipv4.tcp_keepalive_intvl'],
  [29, 'net.ipv4.tcp_keepalive_probes'],
  [32, 'net.ipv4.tcp_rmem'],
  [32, 'net.ipv4.tcp_wmem'],
  [37, 'net.ipv4.tcp_slow_start_after_idle'],
  [37, 'net.ipv4.tcp_notsent_lowat'],
];

/** check_seLinuxOptions.go: container_engine_t from v1.31 (and the empty type always). */
const ALLOWED_SELINUX_TYPES: readonly FromVersion[] = [
  [0, 'container_t'],
  [0, 'container_init_t'],
  [0, 'container_kvm_t'],
  [31, 'container_engine_t'],
];

/** check_hostProbesAndhostLifecycle.go: a `host` in probes and lifecycle handlers is forbidden from v1.34 (the kubelet would call it: SSRF). */
const PROBE_HOST_FROM: PolicyMinor = 34;
/** check_runAsNonRoot.go, check_runAsUser.go: skipped for a pod in a user namespace (`hostUsers: false`) from v1.35. */
const USER_NAMESPACE_RELAXATION_FROM: PolicyMinor = 35;

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** Context handed to every sub-check: the template plus its pod-level securityContext and all containers. */
export interface PodCtx {
  readonly t: WorkloadPodTemplate;
  readonly podSc: IPodSecurityContext;
  readonly podScPath: string;
  /** init + regular + ephemeral: PSS checks all three. */
  readonly containers: readonly LocatedContainer[];
  /** The policy version the pod is checked at. */
  readonly minor: PolicyMinor;
  /**
   * `spec.os.name: windows`: from v1.25 the Linux-only restricted checks (capabilities, seccomp,
   * allowPrivilegeEscalation) admit the pod, as the API rejects those fields on Windows pods.
   */
  readonly windows: boolean;
}

type SubCheck = (ctx: PodCtx, report: (message: string) => void) => void;

export function securityContextOf(c: LocatedContainer): ISecurityContext {
  const sc = c.container.securityContext;
  return isPlainObject(sc) ? sc : {};
}

export function scPath(c: LocatedContainer, field: string): string {
  return `${c.path}.securityContext.${field}`;
}

const hostNamespaces: SubCheck = ({ t }, report) => {
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (t.podSpec[field] === true) report(`${t.specPath}.${field} must not be true`);
  }
};

const volumes: SubCheck = ({ t, minor }, report) => {
  const allowed = allowedAt(ALLOWED_VOLUME_TYPES, minor);
  asArray<Record<string, unknown>>(t.podSpec.volumes).forEach((v, i) => {
    if (!isPlainObject(v)) return;
    // A volume with no source is defaulted to emptyDir before admission.
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const type of types) {
      if (!allowed.includes(type)) {
        report(`volume "${String(v.name)}" (${t.specPath}.volumes[${i}]) uses volume type ${type}; allowed: ${allowed.join(', ')}`);
      }
    }
  });
};

const hostPorts: SubCheck = ({ containers }, report) => {
  for (const c of containers) {
    asArray<{ hostPort?: unknown }>(c.container.ports).forEach((p, i) => {
      if (p?.hostPort !== undefined && p.hostPort !== 0)
        report(`${describeContainer(c)}: ${c.path}.ports[${i}].hostPort must be unset (got ${String(p.hostPort)})`);
    });
  }
};

const privileged: SubCheck = ({ containers }, report) => {
  for (const c of containers) {
    if (securityContextOf(c).privileged === true) report(`${describeContainer(c)}: ${scPath(c, 'privileged')} must not be true`);
  }
};

const capabilities: SubCheck = ({ containers, windows }, report) => {
  if (windows) return;
  for (const c of containers) {
    const caps = securityContextOf(c).capabilities ?? {};
    const added = asArray<string>(caps.add).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0)
      report(`${describeContainer(c)}: ${scPath(c, 'capabilities.add')} may only contain NET_BIND_SERVICE (got ${added.join(', ')})`);
    if (!asArray<string>(caps.drop).includes('ALL')) report(`${describeContainer(c)}: ${scPath(c, 'capabilities.drop')} must include ALL`);
  }
};

const privilegeEscalation: SubCheck = ({ containers, windows }, report) => {
  if (windows) return;
  for (const c of containers) {
    const v = securityContextOf(c).allowPrivilegeEscalation;
    if (v !== false) report(`${describeContainer(c)}: ${scPath(c, 'allowPrivilegeEscalation')} must be false (got ${String(v)})`);
  }
};

/** `hostUsers: false`: the pod's uid 0 is not the host's. */
function inUserNamespace({ t, minor }: PodCtx): boolean {
  return minor >= USER_NAMESPACE_RELAXATION_FROM && t.podSpec.hostUsers === false;
}

const runAsNonRoot: SubCheck = (ctx, report) => {
  const { podSc, podScPath, containers } = ctx;
  if (inUserNamespace(ctx)) return;
  for (const c of containers) {
    const effective = securityContextOf(c).runAsNonRoot ?? podSc.runAsNonRoot;
    if (effective !== true) {
      report(
        `${describeContainer(c)}: runAsNonRoot must be true in ${podScPath}.runAsNonRoot or ${scPath(c, 'runAsNonRoot')} (got ${String(effective)})`,
      );
    }
  }
};

const runAsUser: SubCheck = (ctx, report) => {
  const { podSc, podScPath, containers } = ctx;
  if (inUserNamespace(ctx)) return;
  if (podSc.runAsUser === 0) report(`${podScPath}.runAsUser must not be 0`);
  for (const c of containers) {
    if (securityContextOf(c).runAsUser === 0) report(`${describeContainer(c)}: ${scPath(c, 'runAsUser')} must not be 0`);
  }
};

const seccomp: SubCheck = ({ podSc, podScPath, containers, windows }, report) => {
  if (windows) return;
  const podType = podSc.seccompProfile?.type;
  if (podType === 'Unconfined') report(`${podScPath}.seccompProfile.type must not be Unconfined`);
  for (const c of containers) {
    const own = securityContextOf(c).seccompProfile?.type;
    const effective = own ?? podType;
    if (effective !== 'RuntimeDefault' && effective !== 'Localhost') {
      report(
        `${describeContainer(c)}: seccompProfile.type must be RuntimeDefault or Localhost in ${podScPath}.seccompProfile or ` +
          `${scPath(c, 'seccompProfile')} (got ${String(effective)})`,
      );
    }
  }
};

const sysctls: SubCheck = ({ podSc, podScPath, minor }, report) => {
  const safe = allowedAt(SAFE_SYSCTLS, minor);
  asArray<{ name?: unknown }>(podSc.sysctls).forEach((s, i) => {
    const name = String(s?.name);
    if (safe.includes(name)) return;
    const later = SAFE_SYSCTLS.find(([, n]) => n === name);
    report(
      later
        ? `${podScPath}.sysctls[${i}] sets sysctl ${name}, which Pod Security v1.${minor} does not allow (safe from v1.${later[0]} on)`
        : `${podScPath}.sysctls[${i}] sets unsafe sysctl ${name}`,
    );
  });
};

function seLinuxIssues(opts: unknown, at: string, allowedTypes: readonly string[]): string[] {
  if (!isPlainObject(opts)) return [];
  const issues: string[] = [];
  if (opts.type !== undefined && opts.type !== '' && !allowedTypes.includes(String(opts.type))) {
    issues.push(`${at}.type must be one of ${allowedTypes.join(', ')} (got ${String(opts.type)})`);
  }
  for (const field of ['user', 'role']) {
    if (opts[field] !== undefined && opts[field] !== '') issues.push(`${at}.${field} must not be set (got ${String(opts[field])})`);
  }
  return issues;
}

const seLinux: SubCheck = ({ podSc, podScPath, containers, minor }, report) => {
  const allowedTypes = allowedAt(ALLOWED_SELINUX_TYPES, minor);
  seLinuxIssues(podSc.seLinuxOptions, `${podScPath}.seLinuxOptions`, allowedTypes).forEach(report);
  for (const c of containers) {
    seLinuxIssues(securityContextOf(c).seLinuxOptions, scPath(c, 'seLinuxOptions'), allowedTypes).forEach((m) =>
      report(`${describeContainer(c)}: ${m}`),
    );
  }
};

/**
 * Restricted allows only the Default procMount at every version: below v1.35 the baseline check's
 * user-namespace relaxation sat behind an alpha gate that was off by default, and from v1.35
 * procMount_restricted overrides the relaxed baseline check.
 */
const procMount: SubCheck = ({ containers }, report) => {
  for (const c of containers) {
    const v = securityContextOf(c).procMount;
    if (v !== undefined && v !== 'Default') report(`${describeContainer(c)}: ${scPath(c, 'procMount')} must be Default (got ${String(v)})`);
  }
};

const appArmor: SubCheck = ({ t, podSc, podScPath, containers }, report) => {
  if (podSc.appArmorProfile?.type === 'Unconfined') report(`${podScPath}.appArmorProfile.type must not be Unconfined`);
  for (const c of containers) {
    if (securityContextOf(c).appArmorProfile?.type === 'Unconfined')
      report(`${describeContainer(c)}: ${scPath(c, 'appArmorProfile.type')} must not be Unconfined`);
  }
  // The pre-1.30 annotation form is still honoured by the admission controller (empty allowed).
  for (const [key, value] of Object.entries(t.annotations)) {
    if (key.startsWith(APPARMOR_ANNOTATION_PREFIX) && value !== '' && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      report(`pod template annotation ${key} must be runtime/default or localhost/* (got ${value})`);
    }
  }
};

const hostProcess: SubCheck = ({ podSc, podScPath, containers }, report) => {
  if (podSc.windowsOptions?.hostProcess === true) report(`${podScPath}.windowsOptions.hostProcess must not be true`);
  for (const c of containers) {
    if (securityContextOf(c).windowsOptions?.hostProcess === true)
      report(`${describeContainer(c)}: ${scPath(c, 'windowsOptions.hostProcess')} must not be true`);
  }
};

const PROBE_FIELDS = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const LIFECYCLE_FIELDS = ['postStart', 'preStop'] as const;

/** Every `httpGet.host` / `tcpSocket.host` of a container's probes and lifecycle handlers, with its path. */
function handlerHosts(c: LocatedContainer): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const collect = (handler: unknown, at: string): void => {
    if (!isPlainObject(handler)) return;
    for (const kind of ['httpGet', 'tcpSocket']) {
      const h = handler[kind];
      if (isPlainObject(h) && h.host !== undefined && h.host !== null && h.host !== '') out.push([`${at}.${kind}.host`, h.host]);
    }
  };
  for (const probe of PROBE_FIELDS) collect(c.container[probe], `${c.path}.${probe}`);
  const lifecycle: unknown = c.container.lifecycle;
  if (isPlainObject(lifecycle)) for (const hook of LIFECYCLE_FIELDS) collect(lifecycle[hook], `${c.path}.lifecycle.${hook}`);
  return out;
}

const probeHosts: SubCheck = ({ containers, minor }, report) => {
  if (minor < PROBE_HOST_FROM) return;
  for (const c of containers) {
    for (const [at, host] of handlerHosts(c)) {
      report(
        `${describeContainer(c)}: ${at} must be unset from Pod Security v1.${PROBE_HOST_FROM} on (got ${JSON.stringify(host)}): the ` +
          `kubelet would send the request to that host; unset, it goes to the pod`,
      );
    }
  }
};

const PSS_CHECKS: readonly SubCheck[] = [
  hostNamespaces,
  volumes,
  hostPorts,
  privileged,
  capabilities,
  privilegeEscalation,
  runAsNonRoot,
  runAsUser,
  seccomp,
  sysctls,
  seLinux,
  procMount,
  appArmor,
  hostProcess,
  probeHosts,
];

export function podCtx(t: WorkloadPodTemplate, minor: PolicyMinor = parseVersion(POD_SECURITY_VERSION).minor): PodCtx {
  const podSc = isPlainObject(t.podSpec.securityContext) ? t.podSpec.securityContext : {};
  const os: unknown = t.podSpec.os;
  return {
    t,
    podSc,
    podScPath: `${t.specPath}.securityContext`,
    containers: containersOf(t, ['initContainers', 'containers', 'ephemeralContainers']),
    minor,
    windows: isPlainObject(os) && os.name === 'windows',
  };
}

/** The pss-restricted problems of one pod template, at a policy version (default POD_SECURITY_VERSION). */
export function checkPodSecurity(t: WorkloadPodTemplate, minor?: PolicyMinor): Problem[] {
  const ctx = podCtx(t, minor);
  const problems: Problem[] = [];
  for (const check of PSS_CHECKS) check(ctx, (message) => problems.push({ obj: t.obj, rule: RULE, message }));
  return problems;
}
