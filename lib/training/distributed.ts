import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { checkInt, checkPort } from '../_errors';

const DISTRIBUTED = Symbol.for('cdk8s-ml.Distributed');

/** The annotation the Job controller puts on every pod of an Indexed Job. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

export interface DistributedOptions {
  /** Number of worker pods (completions = parallelism = workers). */
  readonly workers: number;
  /** Rendezvous port: MASTER_PORT for PyTorch, the gRPC port in TF_CONFIG for TensorFlow. @default 29500 (PyTorch), 2222 (TensorFlow) */
  readonly port?: number;
}

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
   * PyTorch (torch.distributed, `init_method='env://'`): MASTER_ADDR is worker 0's DNS name,
   * MASTER_PORT the rendezvous port, WORLD_SIZE the number of workers, RANK the pod's completion
   * index (read through the downward API), LOCAL_RANK 0: one process per pod, so run the script
   * itself (`python train.py`). torchrun reads none of these for its own flags; pass them as
   * `--nnodes=$(WORLD_SIZE) --node_rank=$(RANK) --master_addr=$(MASTER_ADDR)
   * --master_port=$(MASTER_PORT)` (Kubernetes expands `$(VAR)` in command/args, never `$VAR`).
   */
  public static pytorch(options: DistributedOptions): Distributed {
    return new Distributed('pytorch', options.workers, options.port ?? 29500);
  }
  /**
   * TensorFlow (MultiWorkerMirroredStrategy): TF_CONFIG with every worker's `host:port` and the
   * pod's own task index.
   */
  public static tensorflow(options: DistributedOptions): Distributed {
    return new Distributed('tensorflow', options.workers, options.port ?? 2222);
  }
  public static isDistributed(x: unknown): x is Distributed {
    return typeof x === 'object' && x !== null && DISTRIBUTED in x;
  }

  private constructor(
    /** 'pytorch' or 'tensorflow'. */
    public readonly framework: 'pytorch' | 'tensorflow',
    public readonly workers: number,
    public readonly port: number,
  ) {
    Object.defineProperty(this, DISTRIBUTED, { value: true });
  }

  /** Name of the container port and Service port. */
  public get portName(): string {
    return this.framework === 'pytorch' ? 'rendezvous' : 'tf-worker';
  }

  /** @internal */
  public _validate(scope: IConstruct): void {
    checkInt(scope, 'distributed.workers', this.workers, 1, 10000);
    checkPort(scope, 'distributed.port', this.port);
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
  public _env(n: PeerNaming): k8s.EnvVar[] {
    const index: k8s.EnvVar = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } };
    if (this.framework === 'pytorch') {
      return [
        index,
        { name: 'MASTER_ADDR', value: this._hostOf(n, 0) },
        { name: 'MASTER_PORT', value: String(this.port) },
        { name: 'WORLD_SIZE', value: String(this.workers) },
        { name: 'RANK', valueFrom: index.valueFrom },
        { name: 'LOCAL_RANK', value: '0' },
      ];
    }
    const workers = Array.from({ length: this.workers }, (_, i) => `"${this._hostOf(n, i)}:${this.port}"`).join(',');
    return [
      index,
      { name: 'TF_CONFIG', value: `{"cluster":{"worker":[${workers}]},"task":{"type":"worker","index":$(JOB_COMPLETION_INDEX)}}` },
    ];
  }
}
