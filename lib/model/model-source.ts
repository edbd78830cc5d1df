import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { checkInt, fail } from '../_errors';
import { IImage } from '../image/_image-build';
import type { ModelImage } from './model-image';
import { StorageEndpoint, storageEndpointsOf } from '../policy/_network';

const MODEL_SOURCE = Symbol.for('cdk8s-ml.ModelSource');

/** Pinned downloader: one static binary that reads s3://, gs:// and http(s)://. */
export const DEFAULT_DOWNLOADER_IMAGE = 'rclone/rclone:1.68.2';

export interface ModelUriOptions {
  /**
   * Secret whose keys become the downloader's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
   * AWS_REGION, or GOOGLE_APPLICATION_CREDENTIALS...). Only the init container sees it, never the server.
   * @default - the pod's service account identity (IRSA, GKE Workload Identity)
   */
  readonly credentialsSecret?: string;
  /** Downloader image, e.g. a mirrored rclone. @default 'rclone/rclone:1.68.2' */
  readonly downloaderImage?: string;
  /** Size limit of the emptyDir the model is downloaded into. @default '10Gi' */
  readonly sizeLimit?: string;
  /**
   * Download into this PersistentVolumeClaim instead of an emptyDir: a restarted pod finds the model
   * there and `rclone copy` only fetches what changed. Shared by several replicas, it must be
   * ReadWriteMany (the Multi-Attach check applies).
   * @default - an emptyDir per pod
   */
  readonly cacheClaim?: { readonly claimName: string; readonly accessMode?: 'ReadWriteOnce' | 'ReadWriteMany' | 'ReadWriteOncePod' };
  /** S3-compatible endpoint (MinIO...) for s3:// URIs. @default - AWS */
  readonly s3Endpoint?: string;
}

/**
 * How a reader waits for a TrainingJob's model. The publish contract (TrainingJob.modelDir): the
 * trainer writes under a name starting with '.' and renames it into place when complete (a rename
 * in one directory is atomic), e.g. `$MODEL_DIR/.tmp-<version>` -> `$MODEL_DIR/<version>`, or
 * `.model.joblib.tmp` -> `model.joblib`. The model exists once the directory holds an entry whose
 * name does not start with '.'. Chosen over a marker file or a wrapper around the user's command:
 * it is what TF Serving already needs (it loads every version directory it sees), it needs no shell
 * in the training image, and the manifest runs exactly the command the user wrote.
 */
export interface FromTrainingJobOptions {
  /**
   * How long the reader's init container waits for the model before it fails (a server's pod then
   * restarts it; a BatchInferenceJob fails, within its activeDeadlineSeconds). Long enough for a
   * daily scheduled trainer's first run.
   * @default 86400 (24 h)
   */
  readonly waitTimeoutSeconds?: number;
  /** Image of the waiting init container (it needs sh, ls, grep, date and sleep), e.g. a mirror. @default 'rclone/rclone:1.68.2' (busybox) */
  readonly waitImage?: string;
}

export interface ModelVolumeOptions {
  /** Directory inside the claim that holds the model. @default - the claim's root */
  readonly subPath?: string;
  /** The claim's access mode, for the ReadWriteOnce multi-reader check. @default 'ReadWriteMany' */
  readonly accessMode?: 'ReadWriteOnce' | 'ReadWriteMany' | 'ReadOnlyMany' | 'ReadWriteOncePod';
}

/** What a trainer exposes so servers and batch jobs can read its output (see TrainingJob). */
export interface IModelProducer extends IConstruct {
  /** @internal */
  readonly _modelOutput: {
    readonly claimName: string;
    readonly accessMode: string;
    readonly subPath?: string;
    readonly fsGroup: number;
    readonly namespaceName: string;
    /** A path under the output whose existence means the model is complete (TrainingJob modelReadyFile). */
    readonly readyFile?: string;
  };
  /**
   * Called by every workload that mounts the output (ModelSource.fromTrainingJob), so the producer
   * can check at synth that its claim's access mode allows all of them (Multi-Attach).
   * @internal
   */
  _registerReader?(reader: IConstruct): void;
}

/** How a consumer mounts a model. @internal */
export interface ModelMount {
  readonly volumes: k8s.Volume[];
  readonly initContainers: k8s.Container[];
  readonly volumeMounts: k8s.VolumeMount[];
  /** The consumer pods read object storage (egress to storageEndpoints). */
  readonly needsObjectStorage: boolean;
  /** Where the model is read from. @default - cloud object storage over HTTPS */
  readonly storageEndpoints?: StorageEndpoint[];
  /** A claim mounted by every replica (for the Multi-Attach check). */
  readonly claim?: { readonly name: string; readonly accessMode: string };
  /** Group that owns the model files, for fsGroup. */
  readonly fsGroup?: number;
  /** Local directory to mount in compose, when known. */
  readonly localPath?: string;
}

type Kind =
  | { kind: 'uri'; uri: string; scheme: 's3' | 'gs' | 'http' | 'https'; options: ModelUriOptions }
  | { kind: 'volume'; claimName: string; options: ModelVolumeOptions }
  | { kind: 'image'; image: ModelImage }
  | { kind: 'training-job'; producer: IModelProducer; options: FromTrainingJobOptions };

/**
 * Where a server or batch job gets its model: object storage (s3://, gs://, http(s)://), a
 * PersistentVolumeClaim, an image the model is baked into, or a TrainingJob's output.
 */
export class ModelSource {
  /**
   * A model in object storage. gs:// is read by TF Serving itself; everything else is downloaded by
   * an init container into an emptyDir before the server starts. An http(s):// URI names one file;
   * a .tar.gz/.tgz archive is unpacked into the model directory.
   */
  public static fromUri(uri: string, options: ModelUriOptions = {}): ModelSource {
    const m = /^(s3|gs|https?):\/\/[^/\s]+(\/[^\s]*)?$/.exec(uri);
    return new ModelSource({ kind: 'uri', uri, scheme: (m?.[1] ?? '') as any, options });
  }
  /** A model on an existing PersistentVolumeClaim, mounted read-only. */
  public static fromVolume(claimName: string, options: ModelVolumeOptions = {}): ModelSource {
    return new ModelSource({ kind: 'volume', claimName, options });
  }
  /** A model baked into the server image (see ModelImage). */
  public static fromImage(image: ModelImage): ModelSource {
    return new ModelSource({ kind: 'image', image });
  }
  /**
   * The model a TrainingJob writes to its output claim, mounted read-only. The reader may start
   * before a model exists (a scheduled trainer's first run, a first sync): an init container waits
   * until the trainer has published one (see FromTrainingJobOptions).
   */
  public static fromTrainingJob(job: IModelProducer, options: FromTrainingJobOptions = {}): ModelSource {
    return new ModelSource({ kind: 'training-job', producer: job, options });
  }
  public static isModelSource(x: unknown): x is ModelSource {
    return typeof x === 'object' && x !== null && MODEL_SOURCE in x;
  }

  private constructor(private readonly source: Kind) {
    Object.defineProperty(this, MODEL_SOURCE, { value: true });
  }

  /** The URI, for object-storage sources. */
  public get uri(): string | undefined {
    return this.source.kind === 'uri' ? this.source.uri : undefined;
  }
  /** The image the model is baked into, for fromImage sources. */
  public get image(): (IImage & ModelImage) | undefined {
    return this.source.kind === 'image' ? this.source.image : undefined;
  }
  /** The URI scheme, for object-storage sources. */
  public get scheme(): string | undefined {
    return this.source.kind === 'uri' ? this.source.scheme : undefined;
  }
  /** Options of an object-storage source. */
  public get uriOptions(): ModelUriOptions | undefined {
    return this.source.kind === 'uri' ? this.source.options : undefined;
  }
  /** The trainer, for fromTrainingJob sources. */
  public get producer(): IModelProducer | undefined {
    return this.source.kind === 'training-job' ? this.source.producer : undefined;
  }

  /**
   * The directory under MODELS_DIR that compose mounts for this model: a TrainingJob's claim (where
   * its compose service writes), else `fallback` (the reader's model name).
   * @internal
   */
  public _composeDir(fallback: string): string {
    if (this.source.kind !== 'training-job') return fallback;
    const out = this.source.producer._modelOutput;
    return out.subPath ? `${out.claimName}/${out.subPath}` : out.claimName;
  }

  /** Throws for a URI we cannot read. @internal */
  public _validate(scope: IConstruct, prop: string): void {
    const s = this.source;
    if (s.kind === 'uri' && !s.scheme) {
      fail(scope, prop, 'must be an s3://, gs://, http:// or https:// URI with a bucket or host', s.uri,
        'use ModelSource.fromUri with one of those schemes, ModelSource.fromVolume for a PersistentVolumeClaim, or ModelSource.fromImage for a model baked into the image');
    }
    if (s.kind === 'uri') checkS3Endpoint(scope, `${prop}.s3Endpoint`, s.scheme, s.options.s3Endpoint);
    if (s.kind === 'volume' && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s.claimName)) {
      fail(scope, prop, 'must name a PersistentVolumeClaim (a DNS-1123 name)', s.claimName, 'pass the claim name as it appears in kubectl get pvc');
    }
    if (s.kind === 'volume' && s.options.subPath && (s.options.subPath.startsWith('/') || s.options.subPath.split('/').includes('..'))) {
      fail(scope, `${prop}.subPath`, 'must be a relative path inside the claim', s.options.subPath, "write it relative to the claim's root, e.g. 'models/and-gate'");
    }
  }

  /**
   * Volumes, init containers and mounts that put the model at `mountPath` (read-only for the
   * server). `downloadSubdir` is where inside the mount a download lands (TF Serving wants
   * /models/<name>/<version>).
   * @internal
   */
  public _bind(scope: IConstruct, mountPath: string, downloadSubdir = '', volumeName = 'model', prop = 'model'): ModelMount {
    this._validate(scope, prop);
    const s = this.source;
    switch (s.kind) {
      case 'uri': {
        const dest = downloadSubdir ? `${mountPath}/${downloadSubdir}` : mountPath;
        const o = s.options;
        if (o.cacheClaim && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.cacheClaim.claimName)) {
          fail(scope, `${prop}.cacheClaim.claimName`, 'must name a PersistentVolumeClaim (a DNS-1123 name)', o.cacheClaim.claimName, 'pass the claim name as it appears in kubectl get pvc');
        }
        return {
          volumes: [o.cacheClaim
            ? { name: volumeName, persistentVolumeClaim: { claimName: o.cacheClaim.claimName } }
            : { name: volumeName, emptyDir: { sizeLimit: k8s.Quantity.fromString(o.sizeLimit ?? '10Gi') } }],
          initContainers: [downloadInitContainer(volumeName, s.uri, s.scheme, mountPath, dest, o)],
          volumeMounts: [{ name: volumeName, mountPath, readOnly: true }],
          needsObjectStorage: true,
          storageEndpoints: storageEndpointsOf(s.uri, o.s3Endpoint),
          ...(o.cacheClaim ? { claim: { name: o.cacheClaim.claimName, accessMode: o.cacheClaim.accessMode ?? 'ReadWriteMany' } } : {}),
        };
      }
      case 'volume':
        return {
          volumes: [{ name: volumeName, persistentVolumeClaim: { claimName: s.claimName, readOnly: true } }],
          initContainers: [],
          volumeMounts: [{ name: volumeName, mountPath, readOnly: true, ...(s.options.subPath ? { subPath: s.options.subPath } : {}) }],
          needsObjectStorage: false,
          claim: { name: s.claimName, accessMode: s.options.accessMode ?? 'ReadWriteMany' },
        };
      case 'training-job': {
        const out = s.producer._modelOutput;
        s.producer._registerReader?.(scope);
        checkInt(scope, `${prop}.waitTimeoutSeconds`, s.options.waitTimeoutSeconds, 1);
        const where = `${out.claimName}${out.subPath ? `/${out.subPath}` : ''}`;
        return {
          volumes: [{ name: volumeName, persistentVolumeClaim: { claimName: out.claimName, readOnly: true } }],
          initContainers: [waitForModelInitContainer(volumeName, mountPath, out.subPath, s.producer.node.path, where, s.options, out.readyFile)],
          volumeMounts: [{ name: volumeName, mountPath, readOnly: true, ...(out.subPath ? { subPath: out.subPath } : {}) }],
          needsObjectStorage: false,
          claim: { name: out.claimName, accessMode: out.accessMode },
          fsGroup: out.fsGroup,
        };
      }
      case 'image':
        return { volumes: [], initContainers: [], volumeMounts: [], needsObjectStorage: false, localPath: s.image.directory };
    }
  }
}

/**
 * An S3-compatible endpoint is a URL the downloader and the NetworkPolicy both use: scheme, host and
 * optional port, nothing else. Shared with data inputs. @internal
 */
export function checkS3Endpoint(scope: IConstruct, prop: string, scheme: string, endpoint: string | undefined): void {
  if (endpoint === undefined) return;
  if (scheme !== 's3') fail(scope, prop, 'only applies to s3:// URIs', endpoint, 'drop s3Endpoint, or use an s3:// URI');
  if (typeof endpoint !== 'string' || !/^https?:\/\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?\/?$/.test(endpoint) || Number(/:(\d+)\/?$/.exec(endpoint)?.[1] ?? 1) > 65535) {
    fail(scope, prop, 'must be an http:// or https:// URL of a host and optional port', endpoint, "use e.g. 'http://minio.storage.svc:9000' or 'https://s3.eu-central-1.example.com'");
  }
}

/**
 * The init container that fills `volumeName` (mounted at `mountPath`) with `uri`, downloaded into
 * `dest`; credentials, when given, reach only this container. Shared by models and data inputs.
 * @internal
 */
export function downloadInitContainer(volumeName: string, uri: string, scheme: string, mountPath: string, dest: string, o: ModelUriOptions): k8s.Container {
  return {
    name: `${volumeName}-download`,
    image: o.downloaderImage ?? DEFAULT_DOWNLOADER_IMAGE,
    command: downloadCommand(uri, scheme, dest, o),
    env: [{ name: 'RCLONE_CONFIG', value: '/tmp/rclone.conf' }],
    ...(o.credentialsSecret ? { envFrom: [{ secretRef: { name: o.credentialsSecret } }] } : {}),
    volumeMounts: [{ name: volumeName, mountPath }],
    resources: {
      requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('128Mi') },
      limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('512Mi') },
    },
  };
}

/**
 * The init container that holds a reader until the trainer has published a model in the claim
 * (an entry not starting with '.'), printing where it waits and for how long. @internal
 */
export function waitForModelInitContainer(volumeName: string, mountPath: string, subPath: string | undefined, trainer: string, where: string, o: FromTrainingJobOptions, readyFile?: string): k8s.Container {
  const timeout = o.waitTimeoutSeconds ?? 86400;
  // $5, when given, is the trainer's modelReadyFile: the model is complete once that path exists
  // (the trainer writes it last). Without it, once an entry not starting with '.' exists.
  const script = [
    'end=$(( $(date +%s) + $3 ))',
    'ready() { if [ -n "${5:-}" ]; then [ -e "$1/$5" ]; else ls -A "$1" | grep -qv \'^\\.\'; fi; }',
    'until ready "$@"; do',
    '  if [ "$(date +%s)" -ge "$end" ]; then echo "no model from TrainingJob $2 at $4${5:+ (no $5)} after $3 s: check the training Job\'s status and logs" >&2; exit 1; fi',
    '  echo "waiting for model from TrainingJob $2 at $4${5:+ (until $5 exists)} (timeout $3 s)"',
    '  sleep 5',
    'done',
    'echo "model from TrainingJob $2 found at $4"',
  ].join('\n');
  return {
    name: `${volumeName}-wait`,
    image: o.waitImage ?? DEFAULT_DOWNLOADER_IMAGE,
    command: ['sh', '-ec', script, 'wait-for-model', mountPath, trainer, String(timeout), where, ...(readyFile ? [readyFile] : [])],
    volumeMounts: [{ name: volumeName, mountPath, readOnly: true, ...(subPath ? { subPath } : {}) }],
    resources: {
      requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('16Mi') },
      limits: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('64Mi') },
    },
  };
}

function downloadCommand(uri: string, scheme: string, dest: string, o: ModelUriOptions): string[] {
  const rest = uri.replace(/^[a-z0-9]+:\/\//, '');
  if (scheme === 's3') {
    // Connection-string remotes: no config file; credentials from env or the service account.
    const remote = `:s3,provider=${o.s3Endpoint ? 'Other' : 'AWS'},env_auth=true${o.s3Endpoint ? `,endpoint='${o.s3Endpoint}'` : ''}:${rest}`;
    return ['rclone', 'copy', '--fast-list', remote, dest];
  }
  if (scheme === 'gs') return ['rclone', 'copy', `:gcs,env_auth=true,bucket_policy_only=true:${rest}`, dest];
  if (/\.(tar\.gz|tgz)$/.test(uri)) {
    return ['sh', '-ec', `mkdir -p "$2" && rclone cat --http-url "$1" :http: | tar -xzf - -C "$2"`, 'download', uri, dest];
  }
  return ['rclone', 'copyurl', '--auto-filename', uri, dest];
}
