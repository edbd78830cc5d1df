import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { fail } from '../_errors';
import { checkName } from '../_names';
import { checkDnsSubdomain, checkKnownKeys, checkQuantity, checkRelativePath, isPlainObject, keysOf } from '../_validate';
import { MlStack } from '../stack/ml-stack';

/** Access modes of a PersistentVolumeClaim. */
export type ClaimAccessMode = 'ReadWriteOnce' | 'ReadWriteMany' | 'ReadOnlyMany' | 'ReadWriteOncePod';

const WRITABLE: readonly string[] = ['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod'];
const MODEL_OUTPUT = Symbol.for('cdk8s-ml.ModelOutput');

export interface NewClaimOptions {
  /** Requested size, e.g. '10Gi'. */
  readonly size: string;
  /** Storage class. @default - the cluster's default class */
  readonly storageClassName?: string;
  /**
   * Access mode. ReadWriteOnce is what every cluster offers (EBS, PD, local disks) but attaches to one
   * node at a time: when servers with several replicas, or servers and a batch job, read the model
   * while it may be written, use ReadWriteMany (EFS, Filestore, NFS, CephFS) or object storage. The
   * synth-time Multi-Attach check says which.
   * @default 'ReadWriteOnce'
   */
  readonly accessMode?: ClaimAccessMode;
  /** Name of the claim. @default - '<job name>-model' for a model, '<job name>-output' for predictions */
  readonly name?: string;
}

export interface ExistingClaimOptions {
  /** The claim's access mode, for the Multi-Attach check. @default 'ReadWriteOnce' */
  readonly accessMode?: ClaimAccessMode;
  /** Directory inside the claim the job writes to (and readers read). @default - the claim's root */
  readonly subPath?: string;
}

const NEW_CLAIM_KEYS = keysOf<NewClaimOptions>()(['size', 'storageClassName', 'accessMode', 'name']);
const EXISTING_CLAIM_KEYS = keysOf<ExistingClaimOptions>()(['accessMode', 'subPath']);

/** The claim a job writes to, as bound to one job. @internal */
export interface BoundOutput {
  readonly claimName: string;
  readonly accessMode: ClaimAccessMode;
  readonly subPath?: string;
}

type Spec = { kind: 'new'; options: NewClaimOptions } | { kind: 'existing'; claimName: string; options: ExistingClaimOptions };

/**
 * Where a job writes: a PersistentVolumeClaim the job creates (`newClaim`) or one that exists
 * (`existingClaim`). A TrainingJob writes its model there; a BatchInferenceJob its predictions.
 */
export class ModelOutput {
  /** A claim created with the job (same stack and namespace), named after the job. */
  public static newClaim(options: NewClaimOptions): ModelOutput {
    return new ModelOutput({ kind: 'new', options });
  }
  /** A claim that already exists in the stack's namespace. */
  public static existingClaim(claimName: string, options: ExistingClaimOptions = {}): ModelOutput {
    return new ModelOutput({ kind: 'existing', claimName, options });
  }

  public static isModelOutput(x: unknown): x is ModelOutput {
    return typeof x === 'object' && x !== null && MODEL_OUTPUT in x;
  }

  private constructor(private readonly spec: Spec) {
    Object.defineProperty(this, MODEL_OUTPUT, { value: true });
  }

  /**
   * Validate, create the claim when asked to, and return what the job mounts.
   * @internal
   */
  public _bind(owner: Construct, prop: string, defaultClaimName: string, labels: Record<string, string>): BoundOutput {
    const s = this.spec;
    if (!isPlainObject(s.options)) {
      fail(
        owner,
        prop,
        `was made with options that are not an object (ModelOutput.${s.kind === 'new' ? 'newClaim' : 'existingClaim'})`,
        s.options,
        s.kind === 'new' ? "use ModelOutput.newClaim({ size: '10Gi' })" : "use ModelOutput.existingClaim('models') or pass an object of options",
      );
    }
    checkKnownKeys(owner, prop, s.options, s.kind === 'new' ? NEW_CLAIM_KEYS : EXISTING_CLAIM_KEYS);
    const accessMode = (s.options.accessMode ?? 'ReadWriteOnce') as ClaimAccessMode;
    if (typeof accessMode !== 'string' || !WRITABLE.includes(accessMode)) {
      fail(
        owner,
        `${prop}.accessMode`,
        'must be writable (the job writes to the claim)',
        accessMode,
        "use 'ReadWriteOnce', 'ReadWriteMany' or 'ReadWriteOncePod'",
      );
    }
    if (s.kind === 'existing') {
      checkDnsSubdomain(owner, `${prop}.claimName`, s.claimName, 'the name of a PersistentVolumeClaim', 'models');
      const sub = s.options.subPath;
      if (sub !== undefined && (typeof sub !== 'string' || sub === '' || sub.startsWith('/') || sub.split('/').includes('..'))) {
        fail(
          owner,
          `${prop}.subPath`,
          'must be a relative path inside the claim',
          sub,
          "write it relative to the claim's root, e.g. 'models/eeg-letters'",
        );
      }
      if (sub !== undefined) checkRelativePath(owner, `${prop}.subPath`, sub, 'models/eeg-letters');
      return { claimName: s.claimName, accessMode, ...(sub ? { subPath: sub } : {}) };
    }
    const o = s.options;
    checkQuantity(owner, `${prop}.size`, o.size, 'a storage quantity', '10Gi');
    if (o.storageClassName !== undefined)
      checkDnsSubdomain(owner, `${prop}.storageClassName`, o.storageClassName, 'the name of a StorageClass', 'standard-rwx');
    const claimName = checkName(owner, `${prop}.name`, o.name ?? defaultClaimName);
    const stack = MlStack.of(owner);
    new k8s.KubePersistentVolumeClaim(owner, prop === 'modelOutput' ? 'ModelClaim' : 'OutputClaim', {
      metadata: stack._metadata(claimName, labels),
      spec: {
        accessModes: [accessMode],
        ...(o.storageClassName ? { storageClassName: o.storageClassName } : {}),
        resources: { requests: { storage: k8s.Quantity.fromString(o.size) } },
      },
    });
    return { claimName, accessMode };
  }
}
