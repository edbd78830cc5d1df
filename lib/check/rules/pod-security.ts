/**
 * Family of pod security: `pss-restricted` (Pod Security Standards "restricted", k8s-pss.ts) and the
 * rules of our own beyond it that look at the same fields: `starts-non-root`, `read-only-root-fs`,
 * `resources`, `image-tag`.
 */
import { describeContainer, isPlainObject, WorkloadPodTemplate } from '../k8s-common';
import { checkPodSecurity, POD_SECURITY_VERSION, PodCtx, podCtx, scPath, securityContextOf } from '../k8s-pss';
import { ObjectInput, ObjectRule } from './rule';

export const PSS_RESTRICTED: ObjectRule = {
  id: 'pss-restricted',
  summary:
    `Pod Security Standards "restricted" (which rejects the pod at admission), at the version the namespace enforces (default ` +
    `${POD_SECURITY_VERSION})`,
  fix: 'set the securityContext fields the message names (non-root, no privilege escalation, capabilities dropped, seccomp RuntimeDefault)',
  check: ({ t, pss }: ObjectInput): string[] => (t ? checkPodSecurity(t, pss.minorOf(t)).map((p) => p.message) : []),
};

/** The hardening rules look at a pod through one PodCtx (at the default policy version), built once per template. */
const contexts = new WeakMap<WorkloadPodTemplate, PodCtx>();
function hardeningCtx(t: WorkloadPodTemplate): PodCtx {
  let ctx = contexts.get(t);
  if (!ctx) contexts.set(t, (ctx = podCtx(t)));
  return ctx;
}

/** A hardening rule: a check of the pod's containers, for pod templates only. */
function hardening(id: string, summary: string, fix: string, issues: (ctx: PodCtx) => string[]): ObjectRule {
  return { id, summary, fix, check: ({ t }: ObjectInput): string[] => (t ? issues(hardeningCtx(t)) : []) };
}

/**
 * `starts-non-root`: runAsNonRoot only makes the kubelet refuse to start a
 * root image ("container has runAsNonRoot and image will run as root"); many
 * serving images (tensorflow/serving, tritonserver) have no USER, so a numeric
 * non-zero runAsUser must be set for the pod to start at all.
 */
function nonRootWithoutUid(ctx: PodCtx): string[] {
  const out: string[] = [];
  for (const c of ctx.containers) {
    const sc = securityContextOf(c);
    if ((sc.runAsNonRoot ?? ctx.podSc.runAsNonRoot) !== true) continue;
    const uid = sc.runAsUser ?? ctx.podSc.runAsUser;
    if (typeof uid !== 'number' || !Number.isInteger(uid) || uid <= 0) {
      out.push(
        `${describeContainer(c)}: runAsNonRoot is true but no non-zero numeric runAsUser is set in ${ctx.podScPath}.runAsUser or ` +
          `${scPath(c, 'runAsUser')} (got ${String(uid)}); images without a numeric USER fail with "image will run as root"`,
      );
    }
  }
  return out;
}

function writableRootFs(ctx: PodCtx): string[] {
  return ctx.containers
    .filter((c) => c.kind !== 'ephemeralContainers' && securityContextOf(c).readOnlyRootFilesystem !== true)
    .map(
      (c) =>
        `${describeContainer(c)}: ${scPath(c, 'readOnlyRootFilesystem')} must be true (got ${String(securityContextOf(c).readOnlyRootFilesystem)})`,
    );
}

/** Without requests the scheduler overcommits; without limits one pod can starve the node. Ephemeral containers cannot set resources. */
function missingResources(ctx: PodCtx): string[] {
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

function unpinnedImages(ctx: PodCtx): string[] {
  const out: string[] = [];
  for (const c of ctx.containers) {
    const issue = imageTagIssue(c.container.image);
    if (issue) out.push(`${describeContainer(c)}: ${c.path}.image: ${issue}`);
  }
  return out;
}

export const STARTS_NON_ROOT = hardening(
  'starts-non-root',
  'runAsNonRoot with a numeric non-zero runAsUser, so the kubelet can start it',
  'set securityContext.runAsUser to the numeric uid of the image user (not 0)',
  nonRootWithoutUid,
);
export const READ_ONLY_ROOT_FS = hardening(
  'read-only-root-fs',
  'readOnlyRootFilesystem: true',
  'set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the container writes',
  writableRootFs,
);
export const RESOURCES = hardening(
  'resources',
  'cpu/memory requests and memory limits on every container',
  'set resources.requests.cpu, requests.memory, limits.cpu and limits.memory',
  missingResources,
);
export const IMAGE_TAG = hardening(
  'image-tag',
  'images pinned by tag or digest, not latest or untagged',
  'pin the image by a version tag or a sha256 digest',
  unpinnedImages,
);
