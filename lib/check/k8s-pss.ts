/**
 * Rule `pss-restricted`: the Pod Security Standards "restricted" profile
 * (which includes "baseline"), as enforced by the PodSecurity admission
 * controller from Kubernetes v1.28 on. A namespace labelled
 * `pod-security.kubernetes.io/enforce: restricted` rejects any pod that fails
 * one of these, so the controller never gets a replica up; catching it here
 * is much cheaper than catching it from `kubectl get events`.
 *
 * Rules of our own that go beyond PSS live here too because they look at the
 * same fields: `starts-non-root`, `read-only-root-fs`, `resources`, `image-tag`.
 */
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import {
  asArray,
  containersOf,
  describeContainer,
  isPlainObject,
  LocatedContainer,
  Problem,
  WorkloadPodTemplate,
} from './k8s-common';

const RULE = 'pss-restricted';

const ALLOWED_VOLUME_TYPES: ReadonlySet<string> = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);

const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

const ALLOWED_SELINUX_TYPES: ReadonlySet<string> = new Set(['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** Context handed to every sub-check: the template plus its pod-level securityContext and all containers. */
interface PodCtx {
  readonly t: WorkloadPodTemplate;
  readonly podSc: IPodSecurityContext;
  readonly podScPath: string;
  /** init + regular + ephemeral: PSS checks all three. */
  readonly containers: readonly LocatedContainer[];
}

type SubCheck = (ctx: PodCtx, report: (message: string) => void) => void;

function securityContextOf(c: LocatedContainer): ISecurityContext {
  const sc = c.container.securityContext;
  return isPlainObject(sc) ? sc : {};
}

function scPath(c: LocatedContainer, field: string): string {
  return `${c.path}.securityContext.${field}`;
}

const hostNamespaces: SubCheck = ({ t }, report) => {
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (t.podSpec[field] === true) report(`${t.specPath}.${field} must not be true`);
  }
};

const volumes: SubCheck = ({ t }, report) => {
  asArray<Record<string, unknown>>(t.podSpec.volumes).forEach((v, i) => {
    if (!isPlainObject(v)) return;
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const type of types) {
      if (!ALLOWED_VOLUME_TYPES.has(type)) {
        report(`volume "${String(v.name)}" (${t.specPath}.volumes[${i}]) uses volume type ${type}; allowed: ${[...ALLOWED_VOLUME_TYPES].join(', ')}`);
      }
    }
  });
};

const hostPorts: SubCheck = ({ containers }, report) => {
  for (const c of containers) {
    asArray<{ hostPort?: unknown }>(c.container.ports).forEach((p, i) => {
      if (p?.hostPort !== undefined && p.hostPort !== 0) report(`${describeContainer(c)}: ${c.path}.ports[${i}].hostPort must be unset (got ${String(p.hostPort)})`);
    });
  }
};

const privileged: SubCheck = ({ containers }, report) => {
  for (const c of containers) {
    if (securityContextOf(c).privileged === true) report(`${describeContainer(c)}: ${scPath(c, 'privileged')} must not be true`);
  }
};

const capabilities: SubCheck = ({ containers }, report) => {
  for (const c of containers) {
    const caps = securityContextOf(c).capabilities ?? {};
    const added = asArray<string>(caps.add).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0) report(`${describeContainer(c)}: ${scPath(c, 'capabilities.add')} may only contain NET_BIND_SERVICE (got ${added.join(', ')})`);
    if (!asArray<string>(caps.drop).includes('ALL')) report(`${describeContainer(c)}: ${scPath(c, 'capabilities.drop')} must include ALL`);
  }
};

const privilegeEscalation: SubCheck = ({ containers }, report) => {
  for (const c of containers) {
    const v = securityContextOf(c).allowPrivilegeEscalation;
    if (v !== false) report(`${describeContainer(c)}: ${scPath(c, 'allowPrivilegeEscalation')} must be false (got ${String(v)})`);
  }
};

const runAsNonRoot: SubCheck = ({ podSc, podScPath, containers }, report) => {
  for (const c of containers) {
    const effective = securityContextOf(c).runAsNonRoot ?? podSc.runAsNonRoot;
    if (effective !== true) {
      report(`${describeContainer(c)}: runAsNonRoot must be true in ${podScPath}.runAsNonRoot or ${scPath(c, 'runAsNonRoot')} (got ${String(effective)})`);
    }
  }
};

const runAsUser: SubCheck = ({ podSc, podScPath, containers }, report) => {
  if (podSc.runAsUser === 0) report(`${podScPath}.runAsUser must not be 0`);
  for (const c of containers) {
    if (securityContextOf(c).runAsUser === 0) report(`${describeContainer(c)}: ${scPath(c, 'runAsUser')} must not be 0`);
  }
};

const seccomp: SubCheck = ({ podSc, podScPath, containers }, report) => {
  const podType = podSc.seccompProfile?.type;
  if (podType === 'Unconfined') report(`${podScPath}.seccompProfile.type must not be Unconfined`);
  for (const c of containers) {
    const own = securityContextOf(c).seccompProfile?.type;
    const effective = own ?? podType;
    if (effective !== 'RuntimeDefault' && effective !== 'Localhost') {
      report(`${describeContainer(c)}: seccompProfile.type must be RuntimeDefault or Localhost in ${podScPath}.seccompProfile or ${scPath(c, 'seccompProfile')} (got ${String(effective)})`);
    }
  }
};

const sysctls: SubCheck = ({ podSc, podScPath }, report) => {
  asArray<{ name?: unknown }>(podSc.sysctls).forEach((s, i) => {
    const name = String(s?.name);
    if (!SAFE_SYSCTLS.has(name)) report(`${podScPath}.sysctls[${i}] sets unsafe sysctl ${name}`);
  });
};

function seLinuxIssues(opts: unknown, at: string): string[] {
  if (!isPlainObject(opts)) return [];
  const issues: string[] = [];
  if (opts.type !== undefined && opts.type !== '' && !ALLOWED_SELINUX_TYPES.has(String(opts.type))) {
    issues.push(`${at}.type must be one of ${[...ALLOWED_SELINUX_TYPES].join(', ')} (got ${String(opts.type)})`);
  }
  for (const field of ['user', 'role']) {
    if (opts[field] !== undefined && opts[field] !== '') issues.push(`${at}.${field} must not be set (got ${String(opts[field])})`);
  }
  return issues;
}

const seLinux: SubCheck = ({ podSc, podScPath, containers }, report) => {
  seLinuxIssues(podSc.seLinuxOptions, `${podScPath}.seLinuxOptions`).forEach(report);
  for (const c of containers) {
    seLinuxIssues(securityContextOf(c).seLinuxOptions, scPath(c, 'seLinuxOptions')).forEach((m) => report(`${describeContainer(c)}: ${m}`));
  }
};

const procMount: SubCheck = ({ containers }, report) => {
  for (const c of containers) {
    const v = securityContextOf(c).procMount;
    if (v !== undefined && v !== 'Default') report(`${describeContainer(c)}: ${scPath(c, 'procMount')} must be Default (got ${String(v)})`);
  }
};

const appArmor: SubCheck = ({ t, podSc, podScPath, containers }, report) => {
  if (podSc.appArmorProfile?.type === 'Unconfined') report(`${podScPath}.appArmorProfile.type must not be Unconfined`);
  for (const c of containers) {
    if (securityContextOf(c).appArmorProfile?.type === 'Unconfined') report(`${describeContainer(c)}: ${scPath(c, 'appArmorProfile.type')} must not be Unconfined`);
  }
  // The pre-1.30 annotation form is still honoured by the admission controller.
  for (const [key, value] of Object.entries(t.annotations)) {
    if (key.startsWith(APPARMOR_ANNOTATION_PREFIX) && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      report(`pod template annotation ${key} must be runtime/default or localhost/* (got ${value})`);
    }
  }
};

const hostProcess: SubCheck = ({ podSc, podScPath, containers }, report) => {
  if (podSc.windowsOptions?.hostProcess === true) report(`${podScPath}.windowsOptions.hostProcess must not be true`);
  for (const c of containers) {
    if (securityContextOf(c).windowsOptions?.hostProcess === true) report(`${describeContainer(c)}: ${scPath(c, 'windowsOptions.hostProcess')} must not be true`);
  }
};

const PSS_CHECKS: readonly SubCheck[] = [
  hostNamespaces, volumes, hostPorts, privileged, capabilities, privilegeEscalation,
  runAsNonRoot, runAsUser, seccomp, sysctls, seLinux, procMount, appArmor, hostProcess,
];

function podCtx(t: WorkloadPodTemplate): PodCtx {
  const podSc = isPlainObject(t.podSpec.securityContext) ? t.podSpec.securityContext : {};
  return {
    t,
    podSc,
    podScPath: `${t.specPath}.securityContext`,
    containers: containersOf(t, ['initContainers', 'containers', 'ephemeralContainers']),
  };
}

export function checkPodSecurity(t: WorkloadPodTemplate): Problem[] {
  const ctx = podCtx(t);
  const problems: Problem[] = [];
  for (const check of PSS_CHECKS) check(ctx, (message) => problems.push({ obj: t.obj, rule: RULE, message }));
  return problems;
}

// ---------------------------------------------------------------------------
// Our rules beyond PSS
// ---------------------------------------------------------------------------

/**
 * `starts-non-root`: runAsNonRoot only makes the kubelet refuse to start a
 * root image ("container has runAsNonRoot and image will run as root"); many
 * serving images (tensorflow/serving, tritonserver) have no USER, so a numeric
 * non-zero runAsUser must be set for the pod to start at all.
 */
function startsNonRoot(ctx: PodCtx): string[] {
  const out: string[] = [];
  for (const c of ctx.containers) {
    const sc = securityContextOf(c);
    if ((sc.runAsNonRoot ?? ctx.podSc.runAsNonRoot) !== true) continue;
    const uid = sc.runAsUser ?? ctx.podSc.runAsUser;
    if (typeof uid !== 'number' || !Number.isInteger(uid) || uid <= 0) {
      out.push(`${describeContainer(c)}: runAsNonRoot is true but no non-zero numeric runAsUser is set in ${ctx.podScPath}.runAsUser or ${scPath(c, 'runAsUser')} (got ${String(uid)}); images without a numeric USER fail with "image will run as root"`);
    }
  }
  return out;
}

function readOnlyRootFs(ctx: PodCtx): string[] {
  return ctx.containers
    .filter((c) => c.kind !== 'ephemeralContainers' && securityContextOf(c).readOnlyRootFilesystem !== true)
    .map((c) => `${describeContainer(c)}: ${scPath(c, 'readOnlyRootFilesystem')} must be true (got ${String(securityContextOf(c).readOnlyRootFilesystem)})`);
}

/** Without requests the scheduler overcommits; without limits one pod can starve the node. Ephemeral containers cannot set resources. */
function resources(ctx: PodCtx): string[] {
  const out: string[] = [];
  for (const c of ctx.containers) {
    if (c.kind === 'ephemeralContainers') continue;
    for (const kind of ['requests', 'limits'] as const) {
      const values = c.container.resources?.[kind];
      for (const res of ['cpu', 'memory']) {
        const v = isPlainObject(values) ? values[res] : undefined;
        if (v === undefined || v === null || v === '') out.push(`${describeContainer(c)}: ${c.path}.resources.${kind}.${res} must be set`);
      }
    }
  }
  return out;
}

/** `repo:tag` or `repo@sha256:...`; the tag is whatever follows the last ':' after the last '/' (a registry port is before it). */
export function imageTagIssue(image: unknown): string | undefined {
  if (typeof image !== 'string' || image === '') return 'image must be set';
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon < 0) return `image ${image} has no tag (defaults to latest); pin a version tag or digest`;
  const tag = lastSegment.slice(colon + 1);
  if (tag === 'latest' || tag === '') return `image ${image} uses tag "${tag}"; pin a version tag or digest`;
  return undefined;
}

function imageTags(ctx: PodCtx): string[] {
  const out: string[] = [];
  for (const c of ctx.containers) {
    const issue = imageTagIssue(c.container.image);
    if (issue) out.push(`${describeContainer(c)}: ${c.path}.image: ${issue}`);
  }
  return out;
}

const HARDENING_RULES: ReadonlyArray<readonly [string, (ctx: PodCtx) => string[]]> = [
  ['starts-non-root', startsNonRoot],
  ['read-only-root-fs', readOnlyRootFs],
  ['resources', resources],
  ['image-tag', imageTags],
];

export function checkPodHardening(t: WorkloadPodTemplate): Problem[] {
  const ctx = podCtx(t);
  return HARDENING_RULES.flatMap(([rule, fn]) => fn(ctx).map((message) => ({ obj: t.obj, rule, message })));
}
