import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { checkPort, fail } from '../_errors';
import { checkKnownKeys, keysOf } from '../_validate';

const DISTRIBUTED = Symbol.for('cdk8s-ml.Distributed');

/** The annotation the Job controller puts on every pod of an Indexed Job. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

export interface DistributedOptions {
  /** Number of worker pods (completions = parallelism = workers), at least 2. */
  readonly workers: number;
  /** Rendezvous port: MASTER_PORT for PyTorch, the gRPC port in TF_CONFIG for TensorFlow. @default 29500 (PyTorch), 2222 (TensorFlow) */
  readonly port?: number;
}

const DISTRIBUTED_KEYS = keysOf<DistributedOptions>()(['workers', 'port']);

/** Where the workers find each other, derived from the Job and its headless Service. @internal */
export interface PeerNaming {
  readonly jobName: string;
  readonly serviceName: string;
  readonly namespaceName: string;
}

/**
 * Distributed training without an operator: an Indexed Job (one pod per worker, each with a stable
 * completion index) and a headless Service that gives pod `i` the DNS name
 * `<job>-<i>.<service>.<namespace>.svc`. Every worker gets the environment its framework reads.
 */
export class Distributed {
  /**
   * PyTorch (torch.distributed). Both ways of starting the script form one group without flags:
   *
   * - `command: ['torchrun', 'train.py']`: torchrun takes its own settings from `PET_*` variables
   *   (each launcher flag falls back to `PET_<FLAG>`: torch/distributed/argparse_util.py), and
   *   every worker gets PET_NNODES (the workers), PET_NODE_RANK (the pod's completion index),
   *   PET_MASTER_ADDR / PET_MASTER_PORT (worker 0 through the headless Service) and
   *   PET_NPROC_PER_NODE (the container's `resources.gpu`, or 1 without GPUs). torchrun starts that
   *   many processes per pod and sets RANK, WORLD_SIZE and LOCAL_RANK for each of them. Flags given
   *   in the command still win over the variables.
   * - `command: ['python', 'train.py']` with `init_method='env://'`: one process per pod, reading
   *   MASTER_ADDR, MASTER_PORT, WORLD_SIZE (the workers), RANK (the completion index) and
   *   LOCAL_RANK (0). Only torchrun can start one process per GPU, so a plain command with more
   *   than one GPU per worker fails at synth.
   *
   * Kubernetes cannot template env per pod; the completion index comes from the pod's
   * `batch.kubernetes.io/job-completion-index` annotation through the downward API.
   */
  public static pytorch(options: DistributedOptions): Distributed {
    return new Distributed('pytorch', options?.workers, options?.port ?? 29500, options);
  }
  /**
   * TensorFlow (MultiWorkerMirroredStrategy): TF_CONFIG in TensorFlow's documented format,
   * `{"cluster":{"worker":["host:port", ...]},"task":{"type":"worker","index":i}}`
   * (https://www.tensorflow.org/tutorials/distribute/multi_worker_with_keras), with every worker's
   * DNS name and the pod's own completion index.
   */
  public static tensorflow(options: DistributedOptions): Distributed {
    return new Distributed('tensorflow', options?.workers, options?.port ?? 2222, options);
  }
  public static isDistributed(x: unknown): x is Distributed {
    return typeof x === 'object' && x !== null && DISTRIBUTED in x;
  }

  private constructor(
    /** 'pytorch' or 'tensorflow'. */
    public readonly framework: 'pytorch' | 'tensorflow',
    public readonly workers: number,
    public readonly port: number,
    /** The options as given: their keys are checked when a job uses them (it then has a scope). @internal */
    public readonly _options?: unknown,
  ) {
    Object.defineProperty(this, DISTRIBUTED, { value: true });
  }

  /** Name of the container port and Service port. */
  public get portName(): string {
    return this.framework === 'pytorch' ? 'rendezvous' : 'tf-worker';
  }

  /** @internal */
  public _validate(scope: IConstruct): void {
    checkKnownKeys(scope, 'distributed', this._options, DISTRIBUTED_KEYS);
    if (!Number.isInteger(this.workers) || this.workers < 2 || this.workers > 10000) {
      fail(
        scope,
        'distributed.workers',
        'must be a whole number from 2 to 10000 (one pod per worker)',
        this.workers,
        'set distributed.workers to the number of worker pods, e.g. 4; for a single pod leave distributed out ' +
          '(several GPUs in one pod need no Distributed: run torchrun --nproc_per_node)',
      );
    }
    checkPort(scope, 'distributed.port', this.port);
  }

  /**
   * Processes each worker pod runs: one per GPU (what torchrun starts with PET_NPROC_PER_NODE), one
   * without GPUs. Several are only possible under torchrun; a plain `python train.py` is one
   * process that would leave the other GPUs idle and disagree with WORLD_SIZE, so it fails here.
   * @internal
   */
  public _processesPerWorker(scope: IConstruct, gpusPerWorker: number, argv: readonly string[] | undefined): number {
    const processes = Math.max(1, gpusPerWorker);
    if (this.framework === 'pytorch' && processes > 1 && !startsTorchrun(argv ?? [])) {
      fail(
        scope,
        'command',
        `does not start torchrun, but each of the ${this.workers} distributed PyTorch workers requests ${gpusPerWorker} GPUs ` +
          '(resources.gpu) and only torchrun starts one process per GPU',
        argv,
        "start the script with torchrun, e.g. command: ['torchrun', 'train.py'] (it reads PET_NPROC_PER_NODE), " +
          'or request resources.gpu: 1 and more distributed.workers',
      );
    }
    return processes;
  }

  /** DNS name of worker `index`. @internal */
  public _hostOf(n: PeerNaming, index: number): string {
    return `${n.jobName}-${index}.${n.serviceName}.${n.namespaceName}.svc`;
  }

  /**
   * Per-worker environment. Kubernetes cannot template env per index, but it expands `$(VAR)`
   * references to variables defined earlier in the same list: JOB_COMPLETION_INDEX comes first (from
   * the pod's completion-index annotation, as the Job controller itself sets it), and TF_CONFIG
   * refers to it. No shell wrapper around the image's command, no per-index ConfigMap.
   * @internal
   */
  public _env(n: PeerNaming, processesPerWorker = 1): k8s.EnvVar[] {
    const index: k8s.EnvVar = {
      name: 'JOB_COMPLETION_INDEX',
      valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } },
    };
    if (this.framework === 'pytorch') {
      const master = this._hostOf(n, 0);
      return [
        index,
        // init_method='env://' in a plain `python train.py` (one process per pod); torchrun
        // replaces RANK, WORLD_SIZE and LOCAL_RANK in the environment of each process it starts.
        { name: 'MASTER_ADDR', value: master },
        { name: 'MASTER_PORT', value: String(this.port) },
        { name: 'WORLD_SIZE', value: String(this.workers * processesPerWorker) },
        { name: 'RANK', valueFrom: index.valueFrom },
        { name: 'LOCAL_RANK', value: '0' },
        // torchrun's own flags (--nnodes, --nproc_per_node, --node_rank, --master_addr,
        // --master_port), which it never takes from the variables above.
        { name: 'PET_NNODES', value: String(this.workers) },
        { name: 'PET_NPROC_PER_NODE', value: String(processesPerWorker) },
        { name: 'PET_NODE_RANK', valueFrom: index.valueFrom },
        { name: 'PET_MASTER_ADDR', value: master },
        { name: 'PET_MASTER_PORT', value: String(this.port) },
      ];
    }
    const workers = Array.from({ length: this.workers }, (_, i) => `"${this._hostOf(n, i)}:${this.port}"`).join(',');
    return [index, { name: 'TF_CONFIG', value: `{"cluster":{"worker":[${workers}]},"task":{"type":"worker","index":$(JOB_COMPLETION_INDEX)}}` }];
  }
}

/**
 * True when the container starts the PyTorch launcher: `torchrun` (also through a path or a
 * `sh -c` string) or `python -m torch.distributed.run` / `torch.distributed.launch`, all of
 * which read the PET_* variables.
 */
export function startsTorchrun(argv: readonly string[]): boolean {
  return argv.some((a) => /(^|[\s/;&|])torchrun(\s|$)/.test(a) || /(^|\s)torch\.distributed\.(run|launch)(\s|$)/.test(a));
}
