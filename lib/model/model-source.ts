import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { checkInt, fail } from '../_errors';
import {
  checkConfigKey,
  checkKnownKeys,
  checkDnsSubdomain,
  checkNoUrlCredentials,
  checkGitRevision,
  checkHttpUrl,
  checkHuggingFaceRepo,
  checkImageReference,
  checkOneOf,
  checkOptionalObject,
  checkOptionalSize,
  checkRelativePath,
  isDnsSubdomain,
  isPlainObject,
  keysOf,
} from '../_validate';
import { IImage } from '../image/_image-build';
import { ModelImage } from './model-image';
import { StorageEndpoint, storageEndpointsOf } from '../policy/_network';
import { MlStack } from '../stack/ml-stack';

const MODEL_SOURCE = Symbol.for('cdk8s-ml.ModelSource');

/** An object-storage URI the downloader reads: scheme, bucket or host, a path; printable ASCII, no spaces. */
const URI = /^(s3|gs|https?):\/\/[^/\s\u0000-\u001f\u007f]+(\/[^\s\u0000-\u001f\u007f]*)?$/;

type UriScheme = 's3' | 'gs' | 'http' | 'https';

function uriScheme(s: string | undefined): UriScheme | '' {
  return s === 's3' || s === 'gs' || s === 'http' || s === 'https' ? s : '';
}

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

/** The claim a Hugging Face download is cached in: one the consumer creates, or an existing one. */
export interface HuggingFaceCacheOptions {
  /** Download into this existing PersistentVolumeClaim. @default - a claim '<server name>-model-cache' created with the server */
  readonly existingClaim?: string;
  /** Size of the claim the server creates (the weights, in their dtype, plus room for a second revision). @default '50Gi' */
  readonly size?: string;
  /** Storage class of the claim the server creates. @default - the cluster's default class */
  readonly storageClassName?: string;
  /**
   * The claim's access mode. ReadWriteOnce attaches to one node: one replica only (the Multi-Attach
   * check says so); several replicas need ReadWriteMany (EFS, Filestore, NFS, CephFS).
   * @default 'ReadWriteOnce'
   */
  readonly accessMode?: 'ReadWriteOnce' | 'ReadWriteMany' | 'ReadWriteOncePod';
}

/** A Hugging Face Hub model repository at a pinned revision. */
export interface HuggingFaceOptions {
  /**
   * The revision: a commit sha (best: it never moves), a tag or a branch. The cache keeps a
   * revision once downloaded, so changing the weights is a change of this value in the diff.
   */
  readonly revision: string;
  /**
   * Secret with a Hugging Face token, for gated and private repositories (HF_TOKEN). Only the
   * download init container sees it, never the server.
   * @default - anonymous download (public repositories)
   */
  readonly tokenSecret?: { readonly secretName: string /** @default 'token' */; readonly key?: string };
  /** Where the download is cached. @default - a ReadWriteOnce claim of 50Gi created with the server */
  readonly cache?: HuggingFaceCacheOptions;
  /** Hub endpoint, e.g. an in-cluster mirror (HF_ENDPOINT). @default 'https://huggingface.co' */
  readonly endpoint?: string;
  /** Image of the download init container: it needs python3 and huggingface_hub. @default - the server's image (no second pull) */
  readonly downloaderImage?: string;
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

/** The workload a source is bound to, for what the source creates with it. @internal */
export interface ModelConsumer {
  /** The workload's name: a created cache claim is '<name>-model-cache'. */
  readonly name: string;
  readonly labels: Record<string, string>;
  /** The workload's image, when it can run the downloader (python3 and huggingface_hub). */
  readonly image?: string;
}

type Kind =
  // scheme '': not a URI the downloader reads (validateUri reports it).
  | { kind: 'uri'; uri: string; scheme: UriScheme | ''; options: ModelUriOptions }
  | { kind: 'volume'; claimName: string; options: ModelVolumeOptions }
  | { kind: 'image'; image: ModelImage }
  | { kind: 'training-job'; producer: IModelProducer; options: FromTrainingJobOptions }
  | { kind: 'hugging-face'; repo: string; options: HuggingFaceOptions };

/** The keys of each factory's options (checkKnownKeys): `tsc` fails when an interface gains one the list lacks. */
const URI_KEYS = keysOf<ModelUriOptions>()(['credentialsSecret', 'downloaderImage', 'sizeLimit', 'cacheClaim', 's3Endpoint']);
const CACHE_CLAIM_KEYS = keysOf<NonNullable<ModelUriOptions['cacheClaim']>>()(['claimName', 'accessMode']);
const VOLUME_KEYS = keysOf<ModelVolumeOptions>()(['subPath', 'accessMode']);
const TRAINING_JOB_KEYS = keysOf<FromTrainingJobOptions>()(['waitTimeoutSeconds', 'waitImage']);
const HUGGING_FACE_KEYS = keysOf<HuggingFaceOptions>()(['revision', 'tokenSecret', 'cache', 'endpoint', 'downloaderImage']);
const TOKEN_SECRET_KEYS = keysOf<NonNullable<HuggingFaceOptions['tokenSecret']>>()(['secretName', 'key']);
const HF_CACHE_KEYS = keysOf<HuggingFaceCacheOptions>()(['existingClaim', 'size', 'storageClassName', 'accessMode']);
const FACTORY_KEYS: Record<string, readonly string[]> = {
  'ModelSource.fromUri': URI_KEYS,
  'ModelSource.fromVolume': VOLUME_KEYS,
  'ModelSource.fromTrainingJob': TRAINING_JOB_KEYS,
  'ModelSource.fromHuggingFace': HUGGING_FACE_KEYS,
};

/** The options a factory was given: an object of the factory's keys (a JavaScript caller may pass anything). */
function factoryOptions(scope: IConstruct, prop: string, s: Kind, what: string): Record<string, unknown> {
  const o = (s as { options?: unknown }).options;
  if (!isPlainObject(o))
    fail(scope, prop, `was made with options that are not an object (${what})`, o, `pass an object of options to ${what}, or leave it out`);
  checkKnownKeys(scope, prop, o, FACTORY_KEYS[what] ?? []);
  return o;
}

/** ModelSource.fromUri: a scheme the downloader knows, its options, and the cache claim. */
function validateUri(scope: IConstruct, prop: string, s: Extract<Kind, { kind: 'uri' }>): void {
  // First: the other messages print the URI, which must not show a password.
  checkNoUrlCredentials(scope, prop, s.uri, URI_CREDENTIALS_FIX);
  if (!s.scheme) {
    fail(
      scope,
      prop,
      'must be an s3://, gs://, http:// or https:// URI with a bucket or host',
      s.uri,
      'use ModelSource.fromUri with one of those schemes, ModelSource.fromVolume for a PersistentVolumeClaim, ' +
        'or ModelSource.fromImage for a model baked into the image',
    );
  }
  const o = factoryOptions(scope, prop, s, 'ModelSource.fromUri');
  checkDownloadOptions(scope, prop, s.scheme, o);
  const cacheExample = "{ claimName: 'model-cache', accessMode: 'ReadWriteMany' }";
  const cache = checkOptionalObject(scope, `${prop}.cacheClaim`, o.cacheClaim, cacheExample, CACHE_CLAIM_KEYS);
  if (cache) {
    if (!isDnsSubdomain(cache.claimName)) {
      fail(
        scope,
        `${prop}.cacheClaim.claimName`,
        'must name a PersistentVolumeClaim (a DNS-1123 name)',
        cache.claimName,
        'pass the claim name as it appears in kubectl get pvc',
      );
    }
    checkOneOf(scope, `${prop}.cacheClaim.accessMode`, cache.accessMode, ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod']);
  }
}

/** ModelSource.fromVolume: a claim name, a relative subPath, a known access mode. */
function validateVolume(scope: IConstruct, prop: string, s: Extract<Kind, { kind: 'volume' }>): void {
  if (!isDnsSubdomain(s.claimName))
    fail(scope, prop, 'must name a PersistentVolumeClaim (a DNS-1123 name)', s.claimName, 'pass the claim name as it appears in kubectl get pvc');
  const o = factoryOptions(scope, prop, s, 'ModelSource.fromVolume');
  if (o.subPath !== undefined) checkRelativePath(scope, `${prop}.subPath`, o.subPath, 'models/and-gate');
  checkOneOf(scope, `${prop}.accessMode`, o.accessMode, ['ReadWriteMany', 'ReadOnlyMany', 'ReadWriteOnce', 'ReadWriteOncePod']);
}

/** ModelSource.fromTrainingJob: a TrainingJob, and how long (and with what image) readers wait for its model. */
function validateTrainingJob(scope: IConstruct, prop: string, s: Extract<Kind, { kind: 'training-job' }>): void {
  const p = s.producer as unknown;
  if (typeof p !== 'object' || p === null || !('_modelOutput' in p)) {
    fail(
      scope,
      prop,
      'must be made with ModelSource.fromTrainingJob(job) from a TrainingJob',
      p,
      'pass the TrainingJob object that writes the model',
    );
  }
  const o = factoryOptions(scope, prop, s, 'ModelSource.fromTrainingJob');
  checkInt(scope, `${prop}.waitTimeoutSeconds`, o.waitTimeoutSeconds, 1);
  if (o.waitImage !== undefined) checkImageReference(scope, `${prop}.waitImage`, o.waitImage, { pinned: true, example: DEFAULT_DOWNLOADER_IMAGE });
}

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
    const m = typeof uri === 'string' ? URI.exec(uri) : null;
    return new ModelSource({ kind: 'uri', uri, scheme: uriScheme(m?.[1]), options });
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
  /**
   * A model repository on the Hugging Face Hub ('org/name') at a pinned revision, downloaded once
   * into a PersistentVolumeClaim by an init container (huggingface_hub snapshot_download) and
   * mounted read-only: a restarted or rescheduled pod finds it there and downloads nothing.
   */
  public static fromHuggingFace(repo: string, options: HuggingFaceOptions): ModelSource {
    return new ModelSource({ kind: 'hugging-face', repo, options });
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
  /** The repository and revision, for fromHuggingFace sources. */
  public get huggingFace(): { readonly repo: string; readonly revision: string } | undefined {
    return this.source.kind === 'hugging-face' ? { repo: this.source.repo, revision: this.source.options.revision } : undefined;
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

  /** Throws for a source the pods cannot read, with the options of its factory. @internal */
  public _validate(scope: IConstruct, prop: string): void {
    const s = this.source;
    switch (s.kind) {
      case 'uri':
        validateUri(scope, prop, s);
        return;
      case 'volume':
        validateVolume(scope, prop, s);
        return;
      case 'image':
        if (!ModelImage.isModelImage(s.image))
          fail(
            scope,
            prop,
            'must be made with ModelSource.fromImage(ModelImage.fromDirectory(...))',
            s.image,
            "use ModelImage.fromDirectory('export/m', { repository, tag, modelName })",
          );
        s.image._validate(scope);
        return;
      case 'hugging-face':
        checkHuggingFaceOptions(scope, prop, s.repo, factoryOptions(scope, prop, s, 'ModelSource.fromHuggingFace'));
        return;
      case 'training-job':
        validateTrainingJob(scope, prop, s);
        return;
    }
  }

  /**
   * Volumes, init containers and mounts that put the model at `mountPath` (read-only for the
   * server). `downloadSubdir` is where inside the mount a download lands (TF Serving wants
   * /models/<name>/<version>). `consumer` names and labels a claim the source creates (a Hugging
   * Face cache), and gives its default downloader image.
   * @internal
   */
  public _bind(
    scope: IConstruct,
    mountPath: string,
    downloadSubdir = '',
    volumeName = 'model',
    prop = 'model',
    consumer?: ModelConsumer,
  ): ModelMount {
    this._validate(scope, prop);
    const s = this.source;
    switch (s.kind) {
      case 'uri': {
        const dest = downloadSubdir ? `${mountPath}/${downloadSubdir}` : mountPath;
        const o = s.options;
        return {
          volumes: [
            o.cacheClaim
              ? { name: volumeName, persistentVolumeClaim: { claimName: o.cacheClaim.claimName } }
              : { name: volumeName, emptyDir: { sizeLimit: k8s.Quantity.fromString(o.sizeLimit ?? '10Gi') } },
          ],
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
      case 'hugging-face':
        return bindHuggingFace(scope, prop, s.repo, s.options, mountPath, volumeName, consumer);
    }
  }
}

/** The fix for a download URI or endpoint with user:password@. @internal */
export const URI_CREDENTIALS_FIX =
  'remove the user and password from the URL, put them in a Secret and name it with credentialsSecret: its keys become the ' +
  "downloader's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY...), which only the init container sees";

/**
 * The options of a download (ModelSource.fromUri, DataInput.fromUri): what reaches the init
 * container's image, envFrom and emptyDir. Shared with data inputs. @internal
 */
export function checkDownloadOptions(scope: IConstruct, prop: string, scheme: string, o: Record<string, unknown>): void {
  if (o.credentialsSecret !== undefined)
    checkDnsSubdomain(scope, `${prop}.credentialsSecret`, o.credentialsSecret, 'the name of a Secret', 'storage-credentials');
  if (o.downloaderImage !== undefined)
    checkImageReference(scope, `${prop}.downloaderImage`, o.downloaderImage, { pinned: true, example: DEFAULT_DOWNLOADER_IMAGE });
  checkOptionalSize(scope, `${prop}.sizeLimit`, o.sizeLimit, '20Gi');
  checkS3Endpoint(scope, `${prop}.s3Endpoint`, scheme, o.s3Endpoint);
}

/**
 * An S3-compatible endpoint is a URL the downloader and the NetworkPolicy both use: scheme, host and
 * optional port, nothing else. Shared with data inputs. @internal
 */
export function checkS3Endpoint(scope: IConstruct, prop: string, scheme: string, endpoint: unknown): void {
  if (endpoint === undefined) return;
  checkNoUrlCredentials(scope, prop, endpoint, URI_CREDENTIALS_FIX);
  if (scheme !== 's3') fail(scope, prop, 'only applies to s3:// URIs', endpoint, 'drop s3Endpoint, or use an s3:// URI');
  if (
    typeof endpoint !== 'string' ||
    !/^https?:\/\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?\/?$/.test(endpoint) ||
    Number(/:(\d+)\/?$/.exec(endpoint)?.[1] ?? 1) > 65535
  ) {
    fail(
      scope,
      prop,
      'must be an http:// or https:// URL of a host and optional port',
      endpoint,
      "use e.g. 'http://minio.storage.svc:9000' or 'https://s3.eu-central-1.example.com'",
    );
  }
}

/**
 * The init container that fills `volumeName` (mounted at `mountPath`) with `uri`, downloaded into
 * `dest`; credentials, when given, reach only this container. Shared by models and data inputs.
 * @internal
 */
export function downloadInitContainer(
  volumeName: string,
  uri: string,
  scheme: string,
  mountPath: string,
  dest: string,
  o: ModelUriOptions,
): k8s.Container {
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
export function waitForModelInitContainer(
  volumeName: string,
  mountPath: string,
  subPath: string | undefined,
  trainer: string,
  where: string,
  o: FromTrainingJobOptions,
  readyFile?: string,
): k8s.Container {
  const timeout = o.waitTimeoutSeconds ?? 86400;
  // $5, when given, is the trainer's modelReadyFile: the model is complete once that path exists
  // (the trainer writes it last). Without it, once an entry not starting with '.' exists.
  const script = [
    'end=$(( $(date +%s) + $3 ))',
    'ready() { if [ -n "${5:-}" ]; then [ -e "$1/$5" ]; else ls -A "$1" | grep -qv \'^\\.\'; fi; }',
    'until ready "$@"; do',
    '  if [ "$(date +%s)" -ge "$end" ]; then ' +
      'echo "no model from TrainingJob $2 at $4${5:+ (no $5)} after $3 s: check the training Job\'s status and logs" >&2; exit 1; fi',
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

// ---------------------------------------------------------------------------
// Hugging Face Hub (ModelSource.fromHuggingFace)
// ---------------------------------------------------------------------------

const HF_ENDPOINT = 'https://huggingface.co';
/** Where the download init container mounts the cache claim (writable there only). */
const HF_CACHE_MOUNT = '/model-cache';

/** fromHuggingFace's repository id and options, reported under the consumer's prop. */
function checkHuggingFaceOptions(scope: IConstruct, prop: string, repo: unknown, o: Record<string, unknown>): void {
  checkHuggingFaceRepo(scope, prop, repo);
  checkGitRevision(scope, `${prop}.revision`, o.revision);
  const token = checkOptionalObject(scope, `${prop}.tokenSecret`, o.tokenSecret, "{ secretName: 'hf-token', key: 'token' }", TOKEN_SECRET_KEYS);
  if (token) {
    if (token.secretName === undefined) {
      fail(
        scope,
        `${prop}.tokenSecret.secretName`,
        'is required: it names the Secret that holds the Hugging Face token',
        undefined,
        "pass tokenSecret: { secretName: 'hf-token' } (key defaults to 'token')",
      );
    }
    checkDnsSubdomain(scope, `${prop}.tokenSecret.secretName`, token.secretName, 'the name of a Secret', 'hf-token');
    if (token.key !== undefined) checkConfigKey(scope, `${prop}.tokenSecret.key`, token.key);
  }
  const cache = checkOptionalObject(scope, `${prop}.cache`, o.cache, "{ size: '100Gi', accessMode: 'ReadWriteMany' }", HF_CACHE_KEYS);
  if (cache) {
    if (cache.existingClaim !== undefined) {
      checkDnsSubdomain(scope, `${prop}.cache.existingClaim`, cache.existingClaim, 'the name of a PersistentVolumeClaim', 'model-cache');
      const created = (['size', 'storageClassName'] as const).find((k) => cache[k] !== undefined);
      if (created)
        fail(
          scope,
          `${prop}.cache.${created}`,
          'only applies to a claim the server creates, not to existingClaim',
          cache[created],
          `drop ${created}, or drop existingClaim to let the server create the claim`,
        );
    }
    checkOptionalSize(scope, `${prop}.cache.size`, cache.size, '100Gi');
    if (cache.storageClassName !== undefined)
      checkDnsSubdomain(scope, `${prop}.cache.storageClassName`, cache.storageClassName, 'the name of a StorageClass', 'standard-rwx');
    // The init container writes the download: a read-only claim cannot hold it.
    checkOneOf(scope, `${prop}.cache.accessMode`, cache.accessMode, ['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod']);
  }
  checkNoUrlCredentials(
    scope,
    `${prop}.endpoint`,
    o.endpoint,
    "remove the user and password from the URL; the download sends the token of tokenSecret (HF_TOKEN): tokenSecret: { secretName: 'hf-token' }",
  );
  if (o.endpoint !== undefined) checkHttpUrl(scope, `${prop}.endpoint`, o.endpoint, HF_ENDPOINT);
  if (o.downloaderImage !== undefined)
    checkImageReference(scope, `${prop}.downloaderImage`, o.downloaderImage, { pinned: true, example: 'vllm/vllm-openai:v0.31.0' });
}

/**
 * The cache claim (created, or existing), the init container that fills `<repo>/<revision>` in it
 * once, and the consumer's read-only mount of that directory at `mountPath`.
 */
function bindHuggingFace(
  scope: IConstruct,
  prop: string,
  repo: string,
  o: HuggingFaceOptions,
  mountPath: string,
  volumeName: string,
  consumer: ModelConsumer | undefined,
): ModelMount {
  const cache = o.cache ?? {};
  if (!cache.existingClaim && !consumer) {
    fail(
      scope,
      `${prop}.cache.existingClaim`,
      'is required here: only an LlmServer creates the cache claim of a Hugging Face model',
      undefined,
      "pass cache: { existingClaim: 'model-cache' }, or serve the model with LlmServer",
    );
  }
  const image =
    o.downloaderImage ??
    consumer?.image ??
    fail(
      scope,
      `${prop}.downloaderImage`,
      'is required here: the download runs in an image with python3 and huggingface_hub',
      undefined,
      "pass downloaderImage, e.g. 'vllm/vllm-openai:v0.31.0'",
    );
  const accessMode = cache.accessMode ?? 'ReadWriteOnce';
  const claimName = cache.existingClaim ?? `${consumer!.name}-model-cache`;
  if (!cache.existingClaim) {
    const stack = MlStack.of(scope);
    new k8s.KubePersistentVolumeClaim(scope as Construct, 'ModelCache', {
      metadata: stack._metadata(claimName, consumer!.labels),
      spec: {
        accessModes: [accessMode],
        ...(cache.storageClassName ? { storageClassName: cache.storageClassName } : {}),
        resources: { requests: { storage: k8s.Quantity.fromString(cache.size ?? '50Gi') } },
      },
    });
  }
  // One directory per repository and revision: a new revision is a new directory, the old one stays
  // for a rollback (and until someone deletes it).
  const subPath = `${repo}/${o.revision}`;
  const endpoint = o.endpoint ?? HF_ENDPOINT;
  return {
    volumes: [{ name: volumeName, persistentVolumeClaim: { claimName } }],
    initContainers: [huggingFaceInitContainer(volumeName, image, repo, o, endpoint, `${HF_CACHE_MOUNT}/${subPath}`)],
    // subPath is resolved when the server container starts, after the init container created it.
    volumeMounts: [{ name: volumeName, mountPath, readOnly: true, subPath }],
    needsObjectStorage: true,
    storageEndpoints: storageEndpointsOf(endpoint),
    claim: { name: claimName, accessMode },
  };
}

/**
 * Files of a repository that are a second copy of the weights in another format, skipped by the
 * download (huggingface_hub snapshot_download `ignore_patterns`, fnmatch patterns, `*` spans `/`):
 * Meta's Llama repositories ship the original checkpoint under `original/` (consolidated `*.pth`)
 * beside the safetensors, which doubles the download and the claim. vLLM loads safetensors (or
 * `*.bin`/`*.pt`), never `*.pth`, and ignores `original/**` itself (LoadConfig.ignore_patterns
 * default in vllm/config/load.py).
 */
export const HF_IGNORE_PATTERNS: readonly string[] = ['original/*', '*.pth'];

/**
 * Replicas that start together take a lock in the claim: one downloads, the others wait and then
 * find the marker (flock works across nodes on NFSv4, EFS and CephFS). The marker is written last,
 * so an interrupted download is resumed by the next start (snapshot_download skips complete files).
 */
const HF_DOWNLOAD_SCRIPT = [
  'import fcntl, os, sys',
  'repo, revision, dest = sys.argv[1:4]',
  "done = os.path.join(dest, '.cdk8s-ml-complete')",
  'os.makedirs(dest, exist_ok=True)',
  "with open(dest + '.lock', 'a') as lock:",
  '    fcntl.flock(lock, fcntl.LOCK_EX)',
  '    if os.path.exists(done):',
  "        print(f'{repo}@{revision} is already in the cache at {dest}: nothing to download', flush=True)",
  '        sys.exit(0)',
  '    from huggingface_hub import snapshot_download',
  "    print(f'downloading {repo}@{revision} to {dest}', flush=True)",
  '    snapshot_download(repo_id=repo, revision=revision, local_dir=dest,',
  `                      ignore_patterns=${JSON.stringify(HF_IGNORE_PATTERNS)})`,
  "    with open(done, 'w') as f:",
  "        f.write(revision + '\\n')",
  "    print(f'{repo}@{revision} downloaded to {dest}', flush=True)",
].join('\n');

/** The download init container: the only container that sees the token. */
function huggingFaceInitContainer(
  volumeName: string,
  image: string,
  repo: string,
  o: HuggingFaceOptions,
  endpoint: string,
  dest: string,
): k8s.Container {
  const token = o.tokenSecret;
  return {
    name: `${volumeName}-download`,
    image,
    command: ['python3', '-c', HF_DOWNLOAD_SCRIPT, repo, o.revision, dest],
    env: [
      { name: 'HF_ENDPOINT', value: endpoint },
      { name: 'HF_HUB_DISABLE_TELEMETRY', value: '1' },
      { name: 'HF_HUB_DISABLE_PROGRESS_BARS', value: '1' },
      // The Xet chunk cache (10 GB by default, under HF_HOME) would fill the pod's small /tmp.
      { name: 'HF_XET_CHUNK_CACHE_SIZE_BYTES', value: '0' },
      ...(token ? [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: token.secretName, key: token.key ?? 'token' } } }] : []),
    ],
    volumeMounts: [{ name: volumeName, mountPath: HF_CACHE_MOUNT }],
    resources: {
      requests: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('512Mi') },
      limits: { cpu: k8s.Quantity.fromString('2'), memory: k8s.Quantity.fromString('2Gi') },
    },
  };
}
