import { Construct, IConstruct } from 'constructs';
import { fail, problem } from '../_errors';
import { checkAbsolutePath, checkBrand, checkChildId, checkObject, keysOf } from '../_validate';
import { syncAfter } from '../stack/_sync-waves';
import { checkName } from '../_names';
import { IModelProducer } from '../model/model-source';
import { composeModelDir } from '../workload/_compose-parts';
import { IWorkload, WorkloadNetwork } from '../policy/_network';
import { defaultName, MlStack } from '../stack/ml-stack';
import { checkJobWorkloadProps, JOB_KEYS, JobCore, JobSpecInput, JobWorkloadProps } from './_job';
import { Distributed } from './distributed';
import { BoundOutput, ModelOutput } from './model-output';

export interface TrainingJobProps extends JobWorkloadProps {
  /**
   * Where the model goes: a claim the job creates (`ModelOutput.newClaim({ size })`) or an existing
   * one. It is mounted read-write at modelDir; `ModelSource.fromTrainingJob(job)` mounts the same
   * claim read-only in servers and batch jobs.
   * @default - no model output (the code uploads it itself, e.g. to object storage)
   */
  readonly modelOutput?: ModelOutput;
  /**
   * Where the output claim is mounted, given to the code as MODEL_DIR. The code writes its files
   * there; readers see the same tree at their model path. For TF Serving (which mounts the claim,
   * or its subPath, as the model's base path /models/<name>), write each SavedModel to
   * `$MODEL_DIR/<version>` with an integer version, e.g. the Unix time of the run
   * (`int(time.time())`; synth cannot set it: no clock at synth). TF Serving serves the highest
   * version and picks up the next run's directory by itself. Write under a name starting with '.'
   * (`$MODEL_DIR/.tmp-<version>`) and rename it into place when complete: readers wait until the
   * directory holds an entry whose name does not start with '.' (ModelSource.fromTrainingJob), and
   * never load half a model.
   * @default '/models'
   */
  readonly modelDir?: string;
  /**
   * A file (relative to modelDir) that the code writes last, when the whole model is in place, e.g.
   * 'metadata.json' after two model files. Readers (ModelSource.fromTrainingJob) wait until it
   * exists, so they never start on the first file of an unfinished set. Write it atomically (to a
   * '.'-name, then rename).
   * @default - readers wait for any entry whose name does not start with '.' (a renamed version directory)
   */
  readonly modelReadyFile?: string;
  /**
   * Run on several pods: an Indexed Job with a headless Service and per-worker environment.
   * @default - one pod
   */
  readonly distributed?: Distributed;
}

const TRAINING_JOB_KEYS = keysOf<TrainingJobProps>()([...JOB_KEYS, 'modelOutput', 'modelDir', 'modelReadyFile', 'distributed']);

/**
 * A training run as a Kubernetes Job (a CronJob with `schedule`, an Indexed Job with `distributed`),
 * hardened like every workload of the library, that writes its model to a PersistentVolumeClaim
 * servers and batch jobs read through `ModelSource.fromTrainingJob(job)`. No operator, no CRD.
 */
export class TrainingJob extends Construct implements IModelProducer, IWorkload {
  public readonly workloadName: string;
  public readonly namespaceName: string;
  public readonly podSelector: Record<string, string>;
  /** Where the model claim is mounted (MODEL_DIR). */
  public readonly modelDir: string;
  /** The file readers wait for (modelReadyFile), when set. */
  public readonly modelReadyFile?: string;
  /** Name of the model claim, when there is one. */
  public readonly modelClaimName?: string;
  /** uid, gid and fsGroup of the training pods. */
  public readonly uid: number;
  public readonly gid: number;
  public readonly fsGroup: number;
  /** The distributed settings, when set. */
  public readonly distributed?: Distributed;
  /** @internal */
  public readonly _network: WorkloadNetwork;
  /** @internal */
  public readonly _core: JobCore;
  private readonly output?: BoundOutput;
  private readonly readers: IConstruct[] = [];

  constructor(scope: Construct, id: string, props: TrainingJobProps) {
    super(scope, checkChildId(scope, id, 'TrainingJob'));
    checkObject(this, 'props', props, "{ image: 'registry.example.com/train:1.0.0' }", TRAINING_JOB_KEYS);
    const image = checkJobWorkloadProps(this, props);
    // 52: the CronJob limit (the controller appends 11 characters to name each run's Job).
    const name = checkName(this, 'name', props.name ?? defaultName(this), 52);
    this.checkTrainingProps(props);
    this.modelDir = checkAbsolutePath(this, 'modelDir', props.modelDir ?? '/models', { example: '/models', reserved: ['/tmp'] });
    this.modelReadyFile = this.checkModelReadyFile(props);
    this.distributed = props.distributed;
    this.output = this.bindOutput(props, name);
    this._core = new JobCore(name, this.jobSpec(props, image));
    this.workloadName = name;
    this.namespaceName = this._core.namespaceName;
    this.podSelector = this._core.podSelector;
    this._network = this._core._network;
    this.uid = this._core.uid;
    this.gid = this._core.gid;
    this.fsGroup = this._core.fsGroup;
    this.modelClaimName = this.output?.claimName;

    this.node.addValidation({ validate: () => this.validateReaders() });
  }

  /** distributed and modelOutput are made by their factories. */
  private checkTrainingProps(props: TrainingJobProps): void {
    if (props.distributed !== undefined && !Distributed.isDistributed(props.distributed)) {
      fail(
        this,
        'distributed',
        'must be made with Distributed.pytorch() or Distributed.tensorflow()',
        props.distributed,
        'use Distributed.pytorch({ workers: 4 })',
      );
    }
    if (props.modelOutput !== undefined) {
      checkBrand(
        this,
        'modelOutput',
        props.modelOutput,
        ModelOutput.isModelOutput,
        'made with ModelOutput.newClaim() or ModelOutput.existingClaim()',
        "ModelOutput.newClaim({ size: '10Gi' })",
      );
    }
  }

  /** A relative path inside modelDir that readers wait for; it needs the output claim. */
  private checkModelReadyFile(props: TrainingJobProps): string | undefined {
    const f = props.modelReadyFile;
    if (f === undefined) return undefined;
    if (
      typeof f !== 'string' ||
      !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(f) ||
      f.length > 255 ||
      f.split('/').some((seg) => seg === '.' || seg === '..')
    ) {
      fail(
        this,
        'modelReadyFile',
        'must be a relative path inside modelDir (letters, digits, ".", "_", "-", "/"; no "." or ".." segments)',
        f,
        "use e.g. 'metadata.json' or 'model/DONE'",
      );
    }
    if (!props.modelOutput)
      fail(
        this,
        'modelReadyFile',
        'needs modelOutput (readers wait for it in the output claim)',
        f,
        'give the job modelOutput, or drop modelReadyFile',
      );
    return f;
  }

  /** The output claim; distributed workers on several nodes need it ReadWriteMany. */
  private bindOutput(props: TrainingJobProps, name: string): BoundOutput | undefined {
    const { labels } = MlStack.of(this)._workloadLabels(name, 'training');
    const output = props.modelOutput?._bind(this, 'modelOutput', `${name}-model`, labels);
    const workers = props.distributed?.workers ?? 1;
    if (output && workers > 1 && output.accessMode !== 'ReadWriteMany') {
      fail(
        this,
        'modelOutput.accessMode',
        `must be ReadWriteMany when ${workers} distributed workers mount the claim (pods on other nodes fail with Multi-Attach errors)`,
        output.accessMode,
        "use ModelOutput.newClaim({ accessMode: 'ReadWriteMany', ... }) on an RWX storage class (EFS, Filestore, NFS, CephFS), " +
          'or leave modelOutput out and let rank 0 upload the model to object storage',
      );
    }
    return output;
  }

  /** The trainer: MODEL_DIR and the output claim mounted read-write there (locally, a directory under MODELS_DIR). */
  private jobSpec(props: TrainingJobProps, image: JobSpecInput['image']): JobSpecInput {
    const out = this.output;
    const modelDir = this.modelDir;
    return {
      owner: this,
      component: 'training',
      props,
      image,
      containerName: 'trainer',
      env: out ? [{ name: 'MODEL_DIR', value: modelDir }] : [],
      volumes: out ? [{ name: 'model', persistentVolumeClaim: { claimName: out.claimName } }] : [],
      volumeMounts: out ? [{ name: 'model', mountPath: modelDir, ...(out.subPath ? { subPath: out.subPath } : {}) }] : [],
      initContainers: [],
      needsObjectStorage: false,
      distributed: props.distributed,
      compose: {
        volumes: out
          ? [{ source: composeModelDir(out.subPath ? `${out.claimName}/${out.subPath}` : out.claimName), target: modelDir, readOnly: false }]
          : [],
      },
    };
  }

  /** @internal */
  public get _modelOutput(): IModelProducer['_modelOutput'] {
    const out = this.output;
    if (!out) {
      fail(
        this,
        'modelOutput',
        'is not set, so there is no model for ModelSource.fromTrainingJob to mount',
        undefined,
        "give the job modelOutput: ModelOutput.newClaim({ size: '10Gi' }) (or ModelOutput.existingClaim(...))",
      );
    }
    return {
      claimName: out.claimName,
      accessMode: out.accessMode,
      ...(out.subPath ? { subPath: out.subPath } : {}),
      fsGroup: this.fsGroup,
      namespaceName: this.namespaceName,
      ...(this.modelReadyFile ? { readyFile: this.modelReadyFile } : {}),
    };
  }

  /** @internal */
  public _registerReader(reader: IConstruct): void {
    const readerNamespace = MlStack.of(reader).namespaceName;
    if (readerNamespace !== this.namespaceName) {
      fail(
        reader,
        'model',
        `reads the output of TrainingJob '${this.node.path}' from namespace '${readerNamespace}', ` +
          `but its claim lives in '${this.namespaceName}' (a PersistentVolumeClaim is namespaced)`,
        this.node.path,
        'put the reader in a stack with the same namespace, or hand the model over through object storage (ModelSource.fromUri)',
      );
    }
    if (!this.readers.includes(reader)) this.readers.push(reader);
    syncAfter(reader, this);
  }

  /**
   * ReadWriteOnce attaches a volume to one node at a time. Fine: a Job that runs once and its
   * readers one pod at a time (the finished trainer releases the volume; the reader waits for it).
   * An error: readers whose pods together can run more than one at a time (servers and a batch
   * job, or several replicas) may land on different nodes; and a scheduled trainer needs the volume
   * again while its readers hold it.
   */
  private validateReaders(): string[] {
    const out = this.output;
    if (!out || this.readers.length === 0 || out.accessMode === 'ReadWriteMany') return [];
    const readers = this.readers.map((r) => ({ path: r.node.path, pods: podsOf(r) }));
    const list = readers.map((r) => `'${r.path}' (${r.pods} pod${r.pods === 1 ? '' : 's'})`).join(', ');
    const fix =
      "make the claim ReadWriteMany (ModelOutput.newClaim({ accessMode: 'ReadWriteMany', " +
      'storageClassName: <an RWX class: EFS, Filestore, NFS, CephFS> })), ' +
      'run a single reader pod, or write the model to object storage and read it with ModelSource.fromUri';
    const problems: string[] = [];
    if (this._core.scheduled) {
      problems.push(
        problem(
          this,
          'modelOutput',
          `is a ${out.accessMode} claim written by every scheduled run while ${list} read it: a run on another node fails with Multi-Attach errors`,
          out.accessMode,
          fix,
        ),
      );
    }
    const total = readers.reduce((n, r) => n + r.pods, 0);
    if (total > 1) {
      problems.push(
        problem(
          this,
          'modelOutput',
          `is a ${out.accessMode} claim read by up to ${total} pods at once (${list}): pods on other nodes fail with Multi-Attach errors`,
          out.accessMode,
          fix,
        ),
      );
    }
    return problems;
  }
}

/** Pods a reader can run at once: a server's replicas (or HPA maximum), a job's parallelism. */
function podsOf(reader: IConstruct): number {
  const r = reader as { _core?: { maxReplicas?: number; parallelism?: number } };
  return r._core?.maxReplicas ?? r._core?.parallelism ?? 1;
}
