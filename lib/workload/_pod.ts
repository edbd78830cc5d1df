import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { checkInt, fail } from '../_errors';
import { IImage, WRITABLE_HOME } from '../image/_image-build';
import { PythonImage } from '../image/python-image';
import { MlStack } from '../stack/ml-stack';
import { checkAnnotations, checkLabels, checkOptionalBoolean, checkOptionalObject, checkOptionalSize, keysOf } from '../_validate';
import { checkEnv, checkEnvFrom, checkEnvNames, libraryEnv } from './env';
import { RESOURCES_KEYS } from './resources';
import { checkPriorityClassName, checkScheduling, renderTolerations, SCHEDULING_KEYS, SchedulingProps } from './scheduling';

export { gpuToleration } from './scheduling';

/**
 * Pod-level hardening shared by every workload of the library. We emit k8s.Kube* objects directly
 * rather than cdk8s-plus L2 workloads: those leave capabilities and seccomp unset (pods fail PSS
 * "restricted"), set runAsNonRoot without a uid (root images such as tensorflow/serving then fail to
 * start), select pods by a path-derived label, default to imagePullPolicy Always, and restate many
 * Kubernetes defaults that clutter review diffs.
 */
export interface PodOptions {
  /** The construct whose props these are: bad scheduling props or env are reported against it. */
  readonly owner: IConstruct;
  readonly uid: number;
  readonly gid: number;
  /** Group that owns mounted volumes, so files written by another uid of that group stay readable. */
  readonly fsGroup?: number;
  readonly containers: k8s.Container[];
  readonly initContainers?: k8s.Container[];
  readonly volumes?: k8s.Volume[];
  /** Memory-backed /dev/shm of this size (PyTorch data loaders, TF Serving batching). */
  readonly shmSize?: string;
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  /**
   * false: the kubelet injects no service-link variables (`<SERVICE>_PORT=tcp://...`, `<SERVICE>_SERVICE_HOST`
   * for every Service of the namespace, a legacy of Docker links); cluster DNS finds Services. Emitted
   * only when false, so the pod templates of workloads that do not ask stay as they were (a Job's
   * template is immutable: a new field there breaks `kubectl apply` of existing Jobs).
   * @default - the Kubernetes default (true)
   */
  readonly enableServiceLinks?: boolean;
  readonly nodeSelector?: Record<string, string>;
  /** Tolerations the library adds (the GPU taint); the user's come from `scheduling`. */
  readonly tolerations?: k8s.Toleration[];
  /** The user's tolerations, affinity and priorityClassName. */
  readonly scheduling?: SchedulingProps;
  /** Spread these pods across nodes (labels = the workload's selector). */
  readonly spreadLabels?: Record<string, string>;
  readonly restartPolicy?: 'Always' | 'Never' | 'OnFailure';
  readonly subdomain?: string;
  readonly terminationGracePeriodSeconds?: number;
}

export const TMP_VOLUME = 'tmp';
export const SHM_VOLUME = 'dshm';
/** Container security context that passes "restricted" with a read-only root filesystem. */
export function hardenContainer(c: k8s.Container, extraMounts: k8s.VolumeMount[] = []): k8s.Container {
  return {
    ...c,
    volumeMounts: [...(c.volumeMounts ?? []), ...extraMounts, { name: TMP_VOLUME, mountPath: '/tmp' }],
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      ...c.securityContext,
    },
  };
}

/**
 * HOME first, so the user's values can refer to it as $(HOME) (Kubernetes expands a reference only
 * to a variable listed before it). The one place HOME is set: a user HOME is an error, not a second entry.
 */
function withHome(owner: IConstruct, c: k8s.Container): k8s.Container {
  const user = c.env?.find((e) => e.name === 'HOME');
  if (user) {
    fail(
      owner,
      'env.HOME',
      `is set by the library to ${WRITABLE_HOME}, the one directory every pod can write (read-only root filesystem, a uid without a home directory)`,
      user.value ?? user.valueFrom,
      'remove env.HOME; to put a cache elsewhere, use its own variable (HF_HOME, TORCH_HOME, MPLCONFIGDIR) on a volume you mount',
    );
  }
  return { ...c, env: [...libraryEnv([{ name: 'HOME', value: WRITABLE_HOME }]), ...(c.env ?? [])] };
}

export function buildPodSpec(o: PodOptions): k8s.PodSpec {
  const initContainers = (o.initContainers ?? []).map((c) => withHome(o.owner, c));
  const containers = o.containers.map((c) => withHome(o.owner, c));
  // Every container of every workload passes here once: the one place env names are checked.
  for (const c of [...initContainers, ...containers]) checkEnvNames(o.owner, c);
  const tolerations = renderTolerations(o.owner, o.tolerations ?? [], o.scheduling?.tolerations);
  const priorityClassName = checkPriorityClassName(o.owner, o.scheduling?.priorityClassName);
  const affinity = o.scheduling?.affinity;
  const shmMounts: k8s.VolumeMount[] = o.shmSize ? [{ name: SHM_VOLUME, mountPath: '/dev/shm' }] : [];
  const volumes: k8s.Volume[] = [
    ...(o.volumes ?? []),
    // readOnlyRootFilesystem: libraries still need a scratch /tmp.
    { name: TMP_VOLUME, emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
    ...(o.shmSize ? [{ name: SHM_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString(o.shmSize) } }] : []),
  ];
  const spec: k8s.PodSpec = {
    ...(o.serviceAccountName ? { serviceAccountName: o.serviceAccountName } : {}),
    // No API token in pods that do not call the Kubernetes API.
    automountServiceAccountToken: o.automountServiceAccountToken ?? false,
    ...(o.enableServiceLinks === false ? { enableServiceLinks: false } : {}),
    ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
    ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    ...(o.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: o.terminationGracePeriodSeconds } : {}),
    securityContext: {
      // Explicit ids: runAsNonRoot alone makes images without a USER fail with "image will run as root".
      runAsNonRoot: true,
      runAsUser: o.uid,
      runAsGroup: o.gid,
      ...(o.fsGroup !== undefined ? { fsGroup: o.fsGroup, fsGroupChangePolicy: 'OnRootMismatch' } : {}),
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(initContainers.length > 0 ? { initContainers: initContainers.map((c) => hardenContainer(c)) } : {}),
    containers: containers.map((c) => hardenContainer(c, shmMounts)),
    volumes,
    ...(o.nodeSelector && Object.keys(o.nodeSelector).length > 0 ? { nodeSelector: o.nodeSelector } : {}),
    ...(affinity && Object.keys(affinity).length > 0 ? { affinity } : {}),
    ...(tolerations.length > 0 ? { tolerations } : {}),
    ...(o.spreadLabels
      ? {
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              // ScheduleAnyway: a small cluster still schedules every replica.
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: o.spreadLabels },
            },
          ],
        }
      : {}),
    ...(priorityClassName ? { priorityClassName } : {}),
  };
  return spec;
}

/** The props every workload's pods share (servers and jobs), as a JavaScript caller may pass them. */
export interface PodProps extends SchedulingProps {
  readonly env?: unknown;
  readonly envFrom?: unknown;
  readonly resources?: unknown;
  readonly nodeSelector?: unknown;
  readonly gpuNodeSelector?: unknown;
  readonly shmSize?: unknown;
  readonly serviceAccount?: unknown;
  readonly podAnnotations?: unknown;
  readonly isolateEgress?: unknown;
}

/**
 * Checks the props every workload's pods share, at the boundary (before anything is built): types,
 * names, keys and quantities, each with the shared check of its kind (lib/_validate.ts).
 */
export function checkPodProps(owner: IConstruct, p: PodProps): void {
  checkEnv(owner, 'env', p.env);
  checkEnvFrom(owner, 'envFrom', p.envFrom);
  checkOptionalObject(owner, 'resources', p.resources, "{ cpu: '1', memory: '4Gi' }", RESOURCES_KEYS);
  checkLabels(owner, 'nodeSelector', p.nodeSelector);
  checkLabels(owner, 'gpuNodeSelector', p.gpuNodeSelector, "{ 'cloud.google.com/gke-accelerator': 'nvidia-l4' }");
  checkOptionalSize(owner, 'shmSize', p.shmSize, '8Gi');
  const sa = checkOptionalObject(
    owner,
    'serviceAccount',
    p.serviceAccount,
    "{ annotations: { 'iam.gke.io/gcp-service-account': 'sa@project.iam.gserviceaccount.com' } }",
    SERVICE_ACCOUNT_KEYS,
  );
  if (sa) {
    checkAnnotations(
      owner,
      'serviceAccount.annotations',
      sa.annotations,
      "{ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/model-reader' }",
    );
    checkOptionalBoolean(owner, 'serviceAccount.automountToken', sa.automountToken);
  }
  checkAnnotations(owner, 'podAnnotations', p.podAnnotations);
  checkOptionalBoolean(owner, 'isolateEgress', p.isolateEgress);
  checkScheduling(owner, p);
}

/** The uid/gid a pod runs as: the prop, else the built image's USER, else 10001 (gid = uid). */
export function podIds(scope: IConstruct, image: string | IImage, uid: number | undefined): { uid: number; gid: number } {
  checkInt(scope, 'uid', uid, 1, 2147483647);
  const fromImage = typeof image !== 'string' && uid === undefined ? image : undefined;
  const resolved = uid ?? fromImage?.uid ?? 10001;
  return { uid: resolved, gid: fromImage?.gid ?? resolved };
}

/**
 * The process a container runs from an image the app builds (a CMD, no ENTRYPOINT): command then
 * args; undefined when the container runs the image's CMD. Kubernetes appends `args` to the image's
 * ENTRYPOINT and drops its CMD (kubernetes.io, "Define a Command and Arguments for a Container",
 * the table of command/args against ENTRYPOINT/Cmd): with no ENTRYPOINT, args alone are the whole
 * command, and `args: ['--workers', '2']` runs a program named `--workers`. So args need a command.
 */
export function runArgv(
  owner: IConstruct,
  image: IImage,
  command: readonly string[] | undefined,
  args: readonly string[] | undefined,
): string[] | undefined {
  if (command && command.length > 0) return [...command, ...(args ?? [])];
  if (!args || args.length === 0) return undefined;
  const cmd = PythonImage.isPythonImage(image) ? image.command : undefined;
  return fail(
    owner,
    'args',
    `are given without command, and image ${image.imageRef} (built by the app) has no ENTRYPOINT: Kubernetes would run ` +
      `${JSON.stringify(args)} as the whole command, in place of the image's CMD`,
    args,
    `give the program too: command: ${JSON.stringify(cmd && cmd.length > 0 ? cmd : ['python', 'serve.py'])}, args: ${JSON.stringify(args)}`,
  );
}

/** A ServiceAccount named after the workload when asked for (cloud identity); its name for the pod. */
export function serviceAccountFor(
  owner: Construct,
  stack: MlStack,
  name: string,
  labels: Record<string, string>,
  options: ServiceAccountOptions | undefined,
): string | undefined {
  if (!options) return undefined;
  new k8s.KubeServiceAccount(owner, 'ServiceAccount', {
    metadata: stack._metadata(name, labels, options.annotations),
    automountServiceAccountToken: options.automountToken ?? false,
  });
  return name;
}

/** A ServiceAccount for cloud identity (IRSA, GKE Workload Identity). */
export interface ServiceAccountOptions {
  /** e.g. { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::...' } or { 'iam.gke.io/gcp-service-account': '...' } */
  readonly annotations?: Record<string, string>;
  /** Mount an API token (only if the code calls the Kubernetes API). @default false */
  readonly automountToken?: boolean;
}

const SERVICE_ACCOUNT_KEYS = keysOf<ServiceAccountOptions>()(['annotations', 'automountToken']);

/** The keys of PodProps, for the lists of the props that extend it (servers' and jobs'). */
export const POD_PROPS_KEYS = keysOf<PodProps>()([
  ...SCHEDULING_KEYS,
  'env',
  'envFrom',
  'resources',
  'nodeSelector',
  'gpuNodeSelector',
  'shmSize',
  'serviceAccount',
  'podAnnotations',
  'isolateEgress',
]);
