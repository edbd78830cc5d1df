import { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkInt, fail } from '../_errors';
import { checkServiceName } from '../_names';
import { checkImage, IImage } from '../image/_image-build';
import { checkArgv, checkArray, checkBrand, checkOptionalBoolean, checkOptionalObject, keysOf } from '../_validate';
import { connect, envUrlProblems, IWorkload, StorageEndpoint, WorkloadNetwork } from '../policy/_network';
import { composeEnvironment } from '../workload/_compose-parts';
import { StackCompose } from '../stack/_compose';
import { MlStack } from '../stack/ml-stack';
import {
  buildPodSpec,
  checkPodProps,
  gpuToleration,
  POD_PROPS_KEYS,
  podIds,
  runArgv,
  serviceAccountFor,
  ServiceAccountOptions,
} from '../workload/_pod';
import { EnvFrom, EnvMap, libraryEnv, toEnvVars } from '../workload/env';
import { buildResources, ResourcesProps } from '../workload/resources';
import { SchedulingProps } from '../workload/scheduling';
import { DataInput } from './data-input';
import { Distributed } from './distributed';

/** A cron schedule: the job becomes a CronJob (periodic retraining or scoring). */
export interface ScheduleOptions {
  /** Five-field cron expression ('0 3 * * *') or a macro (@daily, @hourly...). */
  readonly cron: string;
  /** IANA time zone of the schedule, e.g. 'Europe/Berlin'. @default - the controller's time zone (UTC on managed clusters) */
  readonly timeZone?: string;
  /**
   * What happens when a run is due while the previous one is still running. Forbid skips the new run:
   * two trainers writing the same model directory at once corrupt it.
   * @default 'Forbid'
   */
  readonly concurrencyPolicy?: 'Forbid' | 'Replace' | 'Allow';
  /** Finished runs kept for inspection. @default 3 */
  readonly successfulJobsHistoryLimit?: number;
  /** Failed runs kept for inspection (the Kubernetes default keeps 1). @default 3 */
  readonly failedJobsHistoryLimit?: number;
  /**
   * A run that could not start this many seconds after its time is skipped (also keeps a controller
   * that was down from hitting the 100-missed-schedules limit).
   * @default 3600
   */
  readonly startingDeadlineSeconds?: number;
  /** Create the CronJob suspended. @default false */
  readonly suspend?: boolean;
}

/** Props every job of the library shares (TrainingJob, BatchInferenceJob). */
export interface JobWorkloadProps extends SchedulingProps {
  /** Image reference ('registry.example.com/train:1.0.0') or an image the app builds (PythonImage). */
  readonly image: string | IImage;
  /** Name of the Job (or CronJob) and its other objects. @default - the construct id path below the stack */
  readonly name?: string;
  /** Container command. @default - the image's */
  readonly command?: string[];
  /** Container args. @default - the image's */
  readonly args?: string[];
  /** Environment of the container (literals or EnvValue.fromSecret...). @default - none */
  readonly env?: EnvMap;
  /** Secrets or ConfigMaps whose keys become environment. @default - none */
  readonly envFrom?: EnvFrom[];
  /** Resources of the container. @default - cpu 1 (limit 2), memory 2Gi (limit 4Gi), no GPU */
  readonly resources?: ResourcesProps;
  /** Data the job reads; the first input's mountPath is DATA_DIR. @default - none */
  readonly inputs?: DataInput[];
  /** uid (and gid, fsGroup) the pod runs as. @default - the image's USER for images the app builds, else 10001 */
  readonly uid?: number;
  /** Node selector, e.g. a training node pool. @default - none */
  readonly nodeSelector?: Record<string, string>;
  /** Node selector added when GPUs are requested. @default - none */
  readonly gpuNodeSelector?: Record<string, string>;
  /** Memory-backed /dev/shm of this size (PyTorch DataLoader workers, NCCL). @default - none */
  readonly shmSize?: string;
  /** Create a ServiceAccount (cloud identity for object storage). @default - the namespace's default account, no token */
  readonly serviceAccount?: ServiceAccountOptions;
  /** Extra pod annotations. @default - none */
  readonly podAnnotations?: Record<string, string>;
  /** Restrict egress to DNS, object storage (URI inputs) and the job's own workers. @default true */
  readonly isolateEgress?: boolean;
  /**
   * Retries after a failure of the code. 0: a training run is long and its failures usually repeat
   * (bad data, a bug, OOM), so a retry mostly burns GPU hours; pods evicted or preempted (node drain,
   * spot reclaim) are retried anyway and do not count (podFailurePolicy Ignore on DisruptionTarget).
   * @default 0
   */
  readonly backoffLimit?: number;
  /** The run is stopped after this many seconds (a hung NCCL rendezvous does not hold GPUs forever). @default 86400 (24 h) */
  readonly activeDeadlineSeconds?: number;
  /**
   * A finished Job (and its pods, with their logs) is deleted after this many seconds.
   * Not set by default: under GitOps a Job that deletes itself is missing from the cluster but still
   * in git, so Argo CD reports it OutOfSync and, with auto-sync, creates it again: the training runs
   * again (argoproj/argo-cd#8586). A finished Job costs one object; a CronJob's history limits keep
   * its last runs. Set it for Jobs applied by hand or by CI.
   * @default - kept
   */
  readonly ttlSecondsAfterFinished?: number;
  /** Run on a schedule as a CronJob. @default - a Job that runs once */
  readonly schedule?: ScheduleOptions;
  /**
   * Kueue LocalQueue of a shared (GPU) cluster. The Job gets the label `kueue.x-k8s.io/queue-name`
   * and is created suspended: Kueue unsuspends it once the queue admits it, and admits all pods of a
   * distributed (Indexed) Job together (Kueue docs, "Run a Job"). Without Kueue installed the Job
   * stays suspended.
   * @default - no queue: the Job starts when it is created
   */
  readonly queue?: string;
}

/** The keys of the props every job shares (checkKnownKeys): `tsc` fails when JobWorkloadProps gains one the list lacks. */
export const JOB_KEYS = keysOf<JobWorkloadProps>()([
  ...POD_PROPS_KEYS,
  'image',
  'name',
  'command',
  'args',
  'inputs',
  'uid',
  'backoffLimit',
  'activeDeadlineSeconds',
  'ttlSecondsAfterFinished',
  'schedule',
  'queue',
]);
const SCHEDULE_KEYS = keysOf<ScheduleOptions>()([
  'cron',
  'timeZone',
  'concurrencyPolicy',
  'successfulJobsHistoryLimit',
  'failedJobsHistoryLimit',
  'startingDeadlineSeconds',
  'suspend',
]);

/**
 * The props every job shares, checked at the boundary: TrainingJob and BatchInferenceJob call this
 * first, before they build anything. Returns the image (a pinned reference or an image the app builds).
 */
export function checkJobWorkloadProps(owner: Construct, p: JobWorkloadProps): string | IImage {
  const image = checkImage(owner, 'image', p.image);
  checkPodProps(owner, p);
  checkArgv(owner, 'command', p.command, { nonEmpty: true, example: "['python', 'train.py']" });
  checkArgv(owner, 'args', p.args, { example: "['--epochs', '10']" });
  checkArray(owner, 'inputs', p.inputs, "[DataInput.fromUri('s3://bucket/data', { mountPath: '/data' })]", (x, prop) =>
    checkBrand(
      owner,
      prop,
      x,
      DataInput.isDataInput,
      'made with DataInput.fromVolume() or DataInput.fromUri()',
      "DataInput.fromVolume('datasets', { mountPath: '/data' })",
    ),
  );
  checkInt(owner, 'backoffLimit', p.backoffLimit, 0, 100);
  checkInt(owner, 'activeDeadlineSeconds', p.activeDeadlineSeconds, 1);
  checkInt(owner, 'ttlSecondsAfterFinished', p.ttlSecondsAfterFinished, 0);
  const sched = checkOptionalObject(owner, 'schedule', p.schedule, "{ cron: '0 3 * * *' }", SCHEDULE_KEYS);
  if (sched) checkSchedule(owner, sched as unknown as ScheduleOptions);
  if (p.queue !== undefined) checkQueue(owner, p.queue);
  return image;
}

/** What the construct that owns the job hands the shared machinery. @internal */
export interface JobSpecInput {
  readonly owner: Construct;
  readonly component: string;
  readonly props: JobWorkloadProps;
  /** The image, as checkJobWorkloadProps returned it (the owner checks its props first). */
  readonly image: string | IImage;
  readonly containerName: string;
  /** Environment the library computes (MODEL_DIR...); the user's env may not redefine it. */
  readonly env: k8s.EnvVar[];
  readonly volumes: k8s.Volume[];
  readonly volumeMounts: k8s.VolumeMount[];
  readonly initContainers: k8s.Container[];
  readonly needsObjectStorage: boolean;
  /** Where the model is read from when needsObjectStorage. @default - cloud object storage over HTTPS */
  readonly storageEndpoints?: StorageEndpoint[];
  /** fsGroup of the pod; default the gid. */
  readonly fsGroup?: number;
  readonly distributed?: Distributed;
  /** The job's service in the stack's jobs compose file: its bind mounts (claims as host directories). */
  readonly compose: { readonly volumes: Array<{ source: string; target: string; readOnly?: boolean }> };
}

/** The Kubernetes objects of one job: Job or CronJob, headless Service, NetworkPolicy. @internal */
export class JobCore implements Omit<IWorkload, 'node' | 'with'> {
  public readonly workloadName: string;
  public readonly namespaceName: string;
  public readonly podSelector: Record<string, string>;
  public readonly _network: WorkloadNetwork;
  public readonly uid: number;
  public readonly gid: number;
  public readonly fsGroup: number;
  public readonly container: k8s.Container;
  public readonly scheduled: boolean;
  /** Pods that run at once. */
  public readonly parallelism: number;
  public readonly job?: k8s.KubeJob;
  public readonly cronJob?: k8s.KubeCronJob;
  public readonly service?: k8s.KubeService;

  constructor(name: string, s: JobSpecInput) {
    const { owner, props: p } = s;
    const stack = MlStack.of(owner);
    this.workloadName = name;
    this.namespaceName = stack.namespaceName;
    const { selector, labels } = stack._workloadLabels(name, s.component);
    this.podSelector = selector;
    const imageRef = bindImage(s);
    ({ uid: this.uid, gid: this.gid } = podIds(owner, s.image, p.uid));
    this.fsGroup = s.fsGroup ?? this.gid;
    this.scheduled = p.schedule !== undefined;
    const d = checkDistributed(name, s);
    this.parallelism = d ? d.workers : 1;
    const inputs = bindInputs(s);
    const sized = buildResources(owner, p.resources, { cpu: '1', cpuLimit: '2', memory: '2Gi', memoryLimit: '4Gi' });
    const env = this.renderEnv(name, s, inputs, sized.gpu);
    const serviceAccountName = serviceAccountFor(owner, stack, name, labels, p.serviceAccount);
    this.container = renderContainer(s, imageRef, env, sized.resources, inputs);
    const jobSpec = this.renderJobSpec(name, s, { labels, inputs, serviceAccountName, sized });
    // Kueue reads the queue from the Job's labels (not the pods'); a CronJob's Jobs get them from jobTemplate.
    const jobLabels = p.queue !== undefined ? { ...labels, [KUEUE_QUEUE_LABEL]: p.queue } : labels;
    if (p.schedule) this.cronJob = renderCronJob(owner, stack._metadata(name, labels), p.schedule, jobLabels, jobSpec);
    else this.job = new k8s.KubeJob(owner, 'Job', { metadata: stack._metadata(name, jobLabels, JOB_SYNC_OPTIONS), spec: jobSpec });
    if (d) this.service = renderHeadlessService(owner, stack._metadata(name, labels), selector, d);
    // Not for distributed jobs: every worker needs its completion index and its peers' names
    // (<job>-<i>.<job>, from the headless Service), which one compose service cannot provide.
    if (!d) addCompose(name, s, this, { gpu: sized.gpu, inputs });
    this._network = new WorkloadNetwork(owner, name, selector, labels, this.namespaceName, p.isolateEgress ?? true);
    this.openNetwork(s, inputs, env.user);
  }

  /**
   * Computed variables first (TF_CONFIG refers to JOB_COMPLETION_INDEX defined before it, and user
   * values may refer to them as $(VAR)); buildPodSpec rejects a user name among them.
   */
  private renderEnv(name: string, s: JobSpecInput, inputs: BoundInput[], gpu: number): JobEnv {
    const { owner, props: p, distributed: d } = s;
    // Distributed PyTorch: one process per GPU under torchrun (PET_NPROC_PER_NODE, WORLD_SIZE).
    const processesPerWorker = d ? d._processesPerWorker(owner, gpu, [...(p.command ?? []), ...(p.args ?? [])]) : 1;
    const computed = libraryEnv([
      ...(d ? d._env({ jobName: name, serviceName: name, namespaceName: this.namespaceName }, processesPerWorker) : []),
      ...s.env,
      ...(inputs.length > 0 ? [{ name: 'DATA_DIR', value: inputs[0].mountPath }] : []),
    ]);
    return { computed, user: toEnvVars(p.env) };
  }

  private renderJobSpec(
    name: string,
    s: JobSpecInput,
    o: { labels: Record<string, string>; inputs: BoundInput[]; serviceAccountName?: string; sized: ReturnType<typeof buildResources> },
  ): k8s.JobSpec {
    const { owner, props: p, distributed: d } = s;
    const { gpu, gpuResource } = o.sized;
    const podSpec = buildPodSpec({
      owner,
      scheduling: p,
      uid: this.uid,
      gid: this.gid,
      fsGroup: this.fsGroup,
      containers: [this.container],
      initContainers: [...s.initContainers, ...o.inputs.flatMap((i) => i.initContainers)],
      volumes: [...s.volumes, ...o.inputs.flatMap((i) => i.volumes)],
      shmSize: p.shmSize,
      serviceAccountName: o.serviceAccountName,
      automountServiceAccountToken: p.serviceAccount?.automountToken,
      nodeSelector: { ...(gpu > 0 ? p.gpuNodeSelector : {}), ...p.nodeSelector },
      tolerations: gpu > 0 ? [gpuToleration(gpuResource)] : [],
      // A Job's pods are not restarted in place: a failed pod is kept for its logs, and the Job
      // decides (backoffLimit, podFailurePolicy) whether to start a new one.
      restartPolicy: 'Never',
      // Pod i of an Indexed Job is <job>-<i>.<service>: the headless Service below.
      subdomain: d ? name : undefined,
    });
    const annotations = { ...p.podAnnotations };
    return {
      // Kueue admits a suspended Job by setting suspend: false (ArgoCdApplication ignores that field).
      ...(p.queue !== undefined ? { suspend: true } : {}),
      backoffLimit: p.backoffLimit ?? 0,
      activeDeadlineSeconds: p.activeDeadlineSeconds ?? 86400,
      ...(p.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: p.ttlSecondsAfterFinished } : {}),
      // Evictions and preemptions are not the code's fault: retry them without counting.
      podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
      ...(d ? { completionMode: 'Indexed', completions: d.workers, parallelism: d.workers } : {}),
      template: {
        metadata: { labels: o.labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
        spec: podSpec,
      },
    };
  }

  /** Isolated by default; opened by the URLs the pod mentions, object storage and, distributed, the peers. */
  private openNetwork(s: JobSpecInput, inputs: BoundInput[], user: k8s.EnvVar[]): void {
    const { owner, distributed: d } = s;
    this._network.allowEgressToMentioned([this.container, ...s.initContainers, ...inputs.flatMap((i) => i.initContainers)]);
    if (user.length > 0) owner.node.addValidation({ validate: () => envUrlProblems(owner, user) });
    if (s.needsObjectStorage || inputs.some((i) => i.needsObjectStorage)) {
      this._network.allowEgressToObjectStorage([...(s.storageEndpoints ?? []), ...inputs.flatMap((i) => i.storageEndpoints ?? [])]);
    }
    // Workers reach each other on every port: the rendezvous port, plus the ports NCCL/gloo open at run time.
    if (d && d.workers > 1) connect(this as unknown as IWorkload, this as unknown as IWorkload, []);
  }
}

/** An input bound to the pod: its volumes, mounts, init containers and storage. */
type BoundInput = ReturnType<DataInput['_bind']>;

/** The container's environment: the library's variables, then the user's. */
interface JobEnv {
  readonly computed: k8s.EnvVar[];
  readonly user: k8s.EnvVar[];
}

/** An image the app builds is bound to the job; what the pod runs becomes its CMD when no server runs it. */
function bindImage(s: JobSpecInput): string {
  const image = s.image;
  if (typeof image === 'string') return image;
  image._bind(s.owner);
  if (image._runWith) image._runWith(s.owner, runArgv(s.owner, image, s.props.command, s.props.args), 'job');
  return image.imageRef;
}

/** Distributed training: its settings, a Service name for the workers to find each other, no schedule. */
function checkDistributed(name: string, s: JobSpecInput): Distributed | undefined {
  const { owner, distributed: d } = s;
  const sched = s.props.schedule;
  if (!d) return undefined;
  d._validate(owner);
  // The workers find each other through a headless Service of the job's name.
  checkServiceName(owner, 'name', name);
  if (sched) {
    fail(
      owner,
      'schedule',
      'cannot be combined with distributed ' + '(the pods of a CronJob run get a generated Job name, so worker 0 has no stable DNS name)',
      sched.cron,
      'run distributed training as a Job (re-run it from CI or Argo CD), or schedule a single-pod TrainingJob',
    );
  }
  return d;
}

/** Inputs: DATA_DIR is the first one's mount path; no two volumes at one path. */
function bindInputs(s: JobSpecInput): BoundInput[] {
  const { owner, props: p } = s;
  const inputs = (p.inputs ?? []).map((input, i) => input._bind(owner, `inputs[${i}]`, `data-${i}`));
  const mountPaths = [...s.volumeMounts, ...inputs.flatMap((i) => i.volumeMounts)].map((m) => m.mountPath);
  for (const [i, m] of mountPaths.entries()) {
    if (m === '/tmp' || mountPaths.indexOf(m) !== i)
      fail(
        owner,
        'inputs',
        'mount two volumes at the same path',
        m,
        'give every input its own mountPath (not /tmp, and not the model or output directory)',
      );
  }
  return inputs;
}

function renderContainer(s: JobSpecInput, imageRef: string, env: JobEnv, resources: k8s.ResourceRequirements, inputs: BoundInput[]): k8s.Container {
  const { props: p, distributed: d } = s;
  const envVars = [...env.computed, ...env.user];
  const volumeMounts = [...s.volumeMounts, ...inputs.flatMap((i) => i.volumeMounts)];
  return {
    name: s.containerName,
    image: imageRef,
    ...(p.command ? { command: p.command } : {}),
    ...(p.args && p.args.length > 0 ? { args: p.args } : {}),
    ...(d ? { ports: [{ name: d.portName, containerPort: d.port, protocol: 'TCP' }] } : {}),
    ...(envVars.length > 0 ? { env: envVars } : {}),
    ...(p.envFrom && p.envFrom.length > 0 ? { envFrom: p.envFrom.map((e) => e._spec) } : {}),
    resources,
    ...(volumeMounts.length > 0 ? { volumeMounts } : {}),
  };
}

function renderCronJob(
  owner: Construct,
  metadata: ApiObjectMetadata,
  sched: ScheduleOptions,
  jobLabels: Record<string, string>,
  jobSpec: k8s.JobSpec,
): k8s.KubeCronJob {
  return new k8s.KubeCronJob(owner, 'CronJob', {
    metadata,
    spec: {
      schedule: sched.cron.trim().replace(/\s+/g, ' '),
      ...(sched.timeZone ? { timeZone: sched.timeZone } : {}),
      concurrencyPolicy: sched.concurrencyPolicy ?? 'Forbid',
      startingDeadlineSeconds: sched.startingDeadlineSeconds ?? 3600,
      successfulJobsHistoryLimit: sched.successfulJobsHistoryLimit ?? 3,
      failedJobsHistoryLimit: sched.failedJobsHistoryLimit ?? 3,
      ...(sched.suspend ? { suspend: true } : {}),
      jobTemplate: { metadata: { labels: jobLabels }, spec: jobSpec },
    },
  });
}

/**
 * Headless: no virtual IP, one DNS record per pod; records exist before readiness (there is no
 * readiness probe on a training pod, and workers must find each other while starting).
 */
function renderHeadlessService(owner: Construct, metadata: ApiObjectMetadata, selector: Record<string, string>, d: Distributed): k8s.KubeService {
  return new k8s.KubeService(owner, 'Service', {
    metadata,
    spec: {
      clusterIp: 'None',
      publishNotReadyAddresses: true,
      selector,
      ports: [{ name: d.portName, port: d.port, targetPort: k8s.IntOrString.fromNumber(d.port), protocol: 'TCP' }],
    },
  });
}

/**
 * The job as a service of the stack's jobs compose file (`run --rm --no-deps <name>`): same image
 * (built from the same Dockerfile), command, env and uid as the pod; claims become directories under
 * MODELS_DIR, so the model a local training run writes is the one the server service reads, and the
 * data inputs directories under DATASETS_DIR, mounted where the pod has them (DATA_DIR).
 */
function addCompose(name: string, s: JobSpecInput, core: JobCore, o: { gpu: number; inputs: BoundInput[] }): void {
  const gpu = o.gpu;
  const data = (s.props.inputs ?? []).map((input, i) => input._composeVolume(o.inputs[i].mountPath));
  StackCompose.of(s.owner)?.add({
    name,
    job: true,
    image: s.props.image,
    ports: [],
    command: s.props.command,
    args: s.props.args,
    environment: composeEnvironment(core.container.env ?? []),
    volumes: [...s.compose.volumes, ...data],
    user: `${core.uid}:${core.gid}`,
    ...(gpu > 0 ? { gpus: gpu } : {}),
  });
}

const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const CRON_FIELDS: Array<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** Why a cron expression is invalid, or undefined. */
export function cronProblem(expr: string): string | undefined {
  const e = expr.trim();
  if (e.startsWith('@')) return CRON_MACROS.includes(e) ? undefined : `unknown macro (known: ${CRON_MACROS.join(', ')})`;
  if (/^(CRON_)?TZ=/.test(e)) return 'carries a time zone, which Kubernetes rejects in the schedule';
  const fields = e.split(/\s+/);
  if (fields.length !== 5) return `has ${fields.length} field(s); a Kubernetes schedule has 5 (minute hour day-of-month month day-of-week)`;
  for (const [i, f] of fields.entries()) {
    const spec = CRON_FIELDS[i];
    const value = (v: string): number | undefined => {
      const n = spec.names?.indexOf(v.toUpperCase()) ?? -1;
      if (n >= 0) return spec.name === 'month' ? n + 1 : n;
      return /^\d+$/.test(v) ? Number(v) : undefined;
    };
    for (const part of f.split(',')) {
      const m = /^(\*|\?|([A-Za-z0-9]+)(-([A-Za-z0-9]+))?)(\/(\d+))?$/.exec(part);
      if (!m) return `${spec.name} field '${f}' is not a cron list of values, ranges (a-b) and steps (*/n)`;
      if (m[6] !== undefined && Number(m[6]) < 1) return `${spec.name} field '${f}' has a step of 0`;
      for (const v of [m[2], m[4]]) {
        if (v === undefined) continue;
        const n = value(v);
        if (n === undefined || n < spec.min || n > spec.max) return `${spec.name} field '${f}': '${v}' is outside ${spec.min}-${spec.max}`;
      }
    }
  }
  return undefined;
}

/**
 * A Job's pod template is immutable (kubernetes/kubernetes#89657): a changed image or command makes
 * Argo CD's `kubectl apply` fail with "field is immutable". Force=true,Replace=true makes Argo CD
 * delete and re-create the Job instead (Argo CD docs, Sync Options: "Force Sync"), so a changed
 * spec trains again, as it should. It does so whenever it applies the Job, changed or not, so
 * ArgoCdApplication sets ApplyOutOfSyncOnly=true: an unchanged (in-sync) Job is not applied, and a
 * sync for another object does not re-run training. Chosen over content-hashed Job names: those
 * put a hash into a name users type (kubectl logs job/<name>) and review (DESIGN, principle 6), and
 * leave old Jobs to prune. A CronJob's jobTemplate is mutable and needs neither.
 */
const JOB_SYNC_OPTIONS = { 'argocd.argoproj.io/sync-options': 'Force=true,Replace=true' };

/** The label Kueue's job integration reads (Kueue docs, "Run a Job"). */
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';

/** A LocalQueue name as a label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
function checkQueue(owner: Construct, queue: string): void {
  if (typeof queue !== 'string' || queue.length > 63 || !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(queue)) {
    fail(
      owner,
      'queue',
      'must be a Kueue LocalQueue name usable as a label value (at most 63 of [A-Za-z0-9._-], alphanumeric at both ends)',
      queue,
      "use the name of a LocalQueue of the namespace (kubectl get localqueues), e.g. 'team-gpu'",
    );
  }
}

function checkSchedule(owner: Construct, s: ScheduleOptions): void {
  const problem = typeof s.cron === 'string' ? cronProblem(s.cron) : 'is not a string';
  if (problem)
    fail(
      owner,
      'schedule.cron',
      `must be a cron expression: it ${problem}`,
      s.cron,
      "write five fields, e.g. '0 3 * * *' (03:00 every day), and put the time zone in schedule.timeZone",
    );
  const tz = /^(UTC|GMT|[A-Z][A-Za-z]+(\/[A-Za-z0-9_+-]+){1,2}|Etc\/[A-Za-z0-9+-]+)$/;
  if (s.timeZone !== undefined && (typeof s.timeZone !== 'string' || s.timeZone.length > 64 || !tz.test(s.timeZone))) {
    fail(owner, 'schedule.timeZone', 'must be an IANA time zone name', s.timeZone, "use a name such as 'UTC', 'Europe/Berlin' or 'America/New_York'");
  }
  if (s.concurrencyPolicy !== undefined && !['Forbid', 'Replace', 'Allow'].includes(s.concurrencyPolicy)) {
    fail(
      owner,
      'schedule.concurrencyPolicy',
      "must be 'Forbid', 'Replace' or 'Allow'",
      s.concurrencyPolicy,
      "use 'Forbid' (skip a run while the previous one is running)",
    );
  }
  checkInt(owner, 'schedule.successfulJobsHistoryLimit', s.successfulJobsHistoryLimit, 0, 100);
  checkInt(owner, 'schedule.failedJobsHistoryLimit', s.failedJobsHistoryLimit, 0, 100);
  checkInt(owner, 'schedule.startingDeadlineSeconds', s.startingDeadlineSeconds, 10);
  checkOptionalBoolean(owner, 'schedule.suspend', s.suspend);
}
