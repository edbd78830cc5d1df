import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkInt, fail, MlInputError } from '../_errors';
import { checkImageString } from '../image/_image-build';
import {
  checkArray,
  checkBrand,
  checkChildId,
  checkDnsLabel,
  checkObject,
  checkOptionalBoolean,
  checkOptionalObject,
  checkString,
  keysOf,
} from '../_validate';
import { checkName } from '../_names';
import { DEFAULT_TF_SERVING_VERSION, ModelImage, TF_SERVING_UID } from '../model/model-image';
import { ModelMount, ModelSource } from '../model/model-source';
import { storageEndpointsOf } from '../policy/_network';
import { defaultName, MlStack } from '../stack/ml-stack';
import {
  CanaryTrackSpec,
  CheckedServedProps,
  checkHealthCheck,
  checkServedWorkloadProps,
  composeModelDir,
  envVars,
  HealthCheckOptions,
  ServedWorkloadProps,
  ServerCore,
  ServerSpec,
  SERVED_KEYS,
} from './_server';
import { renderTextProto, TextProtoMessage } from './_textproto';
import { IModelServer } from './model-server';
import { ServedWorkload } from './_served-workload';
import { CanaryOptions, checkCanary } from './canary';

export const TF_SERVING_REST_PORT = 8501;
export const TF_SERVING_GRPC_PORT = 8500;
const CONFIG_DIR = '/etc/tfserving';
const METRICS_PATH = '/monitoring/prometheus/metrics';

/** Which versions of a model TF Serving loads. */
export class VersionPolicy {
  /** The newest `n` versions (TF Serving's default is 1). */
  public static latest(n = 1): VersionPolicy {
    return new VersionPolicy('latest', [n]);
  }
  /** Every version directory found. */
  public static all(): VersionPolicy {
    return new VersionPolicy('all', []);
  }
  /** Exactly these versions (for canaries and pinned rollbacks). */
  public static specific(versions: number[]): VersionPolicy {
    return new VersionPolicy('specific', versions);
  }
  public static isVersionPolicy(x: unknown): x is VersionPolicy {
    return typeof x === 'object' && x !== null && VERSION_POLICY in x;
  }
  private constructor(
    /** @internal */ public readonly _kind: 'latest' | 'all' | 'specific',
    /** @internal */ public readonly _values: number[],
  ) {
    Object.defineProperty(this, VERSION_POLICY, { value: true });
  }
}

const VERSION_POLICY = Symbol.for('cdk8s-ml.VersionPolicy');

/** A served model and where TF Serving reads its version directories. */
type BoundModel = { name: string; basePath: string; source: ModelSource };

/** One model TF Serving serves. */
export interface TfServingModel {
  /** Served as /v1/models/<name>. */
  readonly name: string;
  /** Where the version directories (1/, 2/...) of this model are. */
  readonly source: ModelSource;
  /** @default VersionPolicy.latest(1) */
  readonly versionPolicy?: VersionPolicy;
  /** Labels such as { stable: 1, canary: 2 }; clients call /v1/models/<name>/labels/<label>. @default - none */
  readonly versionLabels?: Record<string, number>;
}

const TF_SERVING_MODEL_KEYS = keysOf<TfServingModel>()(['name', 'source', 'versionPolicy', 'versionLabels']);

/** Server-side batching (--enable_batching with a batching_parameters_file). */
export interface BatchingOptions {
  /** @default 32 */
  readonly maxBatchSize?: number;
  /** @default 1000 */
  readonly batchTimeoutMicros?: number;
  /** @default 100 */
  readonly maxEnqueuedBatches?: number;
  /** @default 4 */
  readonly numBatchThreads?: number;
  /** Batch sizes to pad to; the last must equal maxBatchSize. @default - any size */
  readonly allowedBatchSizes?: number[];
  /** @default false */
  readonly padVariableLengthInputs?: boolean;
}

const BATCHING_KEYS = keysOf<BatchingOptions>()([
  'maxBatchSize',
  'batchTimeoutMicros',
  'maxEnqueuedBatches',
  'numBatchThreads',
  'allowedBatchSizes',
  'padVariableLengthInputs',
]);

export interface TfServingBackendProps extends ServedWorkloadProps {
  /** Single-model shorthand: the served name (/v1/models/<modelName>). Use with `model`. */
  readonly modelName?: string;
  /** Single-model shorthand: the model's version directories. */
  readonly model?: ModelSource;
  /** Several models (or one with a version policy / labels). */
  readonly models?: TfServingModel[];
  /** tensorflow/serving version. @default '2.20.0' */
  readonly version?: string;
  /** Image override (a mirror). Must be a -gpu image when GPUs are requested. @default - tensorflow/serving:<version>[-gpu] */
  readonly image?: string;
  /** Server-side batching. @default - off */
  readonly batching?: BatchingOptions;
  /** Prometheus metrics on the REST port, with scrape annotations. @default true */
  readonly metrics?: boolean;
  /** Namespace of Prometheus, admitted to the REST port. @default 'monitoring' */
  readonly metricsNamespace?: string;
  /** Seconds between re-reads of the model config (edit the ConfigMap to change versions without a restart). @default 60 */
  readonly modelConfigPollSeconds?: number;
  /** Seconds between polls for new version directories. @default - TF Serving's (1 s) */
  readonly fileSystemPollSeconds?: number;
  /** @default - TF Serving's */
  readonly restApiTimeoutMs?: number;
  /** @default - TF Serving's */
  readonly restApiNumThreads?: number;
  /**
   * Run the SavedModel's warmup requests (assets.extra/tf_serving_warmup_requests) before serving.
   * TF Serving does so by default (`enable_model_warmup = true` in tensorflow_serving/model_servers/
   * server.h Options); false passes `--enable_model_warmup=false`.
   * @default true (TF Serving's default)
   */
  readonly enableModelWarmup?: boolean;
  /** @default - TF Serving's */
  readonly intraOpParallelism?: number;
  /** @default - TF Serving's */
  readonly interOpParallelism?: number;
  /** Fraction of GPU memory per process, 0..1. @default - TF Serving's */
  readonly gpuMemoryFraction?: number;
  /** More tensorflow_model_server flags. @default - none */
  readonly extraArgs?: string[];
  /** Startup window for large models. @default - 600 s */
  readonly healthCheck?: Pick<HealthCheckOptions, 'startupTimeoutSeconds'>;
  /** Node selector added when GPUs are requested. @default - none */
  readonly gpuNodeSelector?: Record<string, string>;
  /**
   * A canary track: a second Deployment `<name>-canary` running another TF Serving release
   * (`version`) or image, with a share of the traffic (weight 0 rolls back, 100 promotes). For a
   * new model version on the same pods, use versionLabels and predictUrl(model, { label }).
   * @default - none
   */
  readonly canary?: CanaryOptions;
}

const TF_SERVING_KEYS = keysOf<TfServingBackendProps>()([
  ...SERVED_KEYS,
  'modelName',
  'model',
  'models',
  'version',
  'image',
  'batching',
  'metrics',
  'metricsNamespace',
  'modelConfigPollSeconds',
  'fileSystemPollSeconds',
  'restApiTimeoutMs',
  'restApiNumThreads',
  'enableModelWarmup',
  'intraOpParallelism',
  'interOpParallelism',
  'gpuMemoryFraction',
  'extraArgs',
  'healthCheck',
  'gpuNodeSelector',
  'canary',
]);

/** Options of predictUrl. */
export interface PredictUrlOptions {
  /** A version label of the model (versionLabels): /v1/models/<model>/labels/<label>:predict. @default - the served default version */
  readonly label?: string;
}

const PREDICT_URL_KEYS = keysOf<PredictUrlOptions>()(['label']);

/**
 * tensorflow/serving as a hardened Deployment: pinned image (-gpu with GPUs), REST 8501 and gRPC
 * 8500, flags as args so the image's entrypoint stays, uid 1000, readiness on /v1/models/<name>, a
 * generated model_config_list (several models, version policies and labels), batching and
 * Prometheus monitoring config in one ConfigMap.
 */
export class TfServingBackend extends ServedWorkload implements IModelServer {
  public readonly containerPort = TF_SERVING_REST_PORT;
  public readonly grpcPort = TF_SERVING_GRPC_PORT;
  public readonly modelName: string;
  public readonly modelNames: string[];
  /** The generated text-format config files (models.config, batching.config, monitoring.config). */
  public readonly configFiles: Record<string, string>;
  /** @internal */
  public readonly _core: ServerCore;
  /** @internal */
  public readonly _models: BoundModel[];
  private readonly _labels: Record<string, Record<string, number>>;

  constructor(scope: Construct, id: string, props: TfServingBackendProps) {
    super(scope, checkChildId(scope, id, 'TfServingBackend'));
    checkObject(this, 'props', props, "{ modelName: 'and-gate', model: ModelSource.fromUri('gs://models/and-gate') }", TF_SERVING_KEYS);
    const checked = checkServedWorkloadProps(this, props);
    this.checkServerProps(props);
    const name = checkName(this, 'name', props.name ?? defaultName(this), 50);
    const stack = MlStack.of(this);
    const models = this.resolveModels(props);
    const gpu = props.resources?.gpu ?? 0;
    const { image, baked } = this.resolveImage(props, models, gpu);
    const canary = this.resolveCanary(props, image, baked, gpu);
    this.checkGpuImage(image, gpu);
    const { bound, mounts } = this.bindModels(props, models);
    this._models = bound;
    this._labels = Object.fromEntries(models.map((m) => [m.name, { ...m.versionLabels }]));
    const gsCredentials = models.map((m) => (m.source.scheme === 'gs' ? m.source.uriOptions?.credentialsSecret : undefined)).find((x) => x);
    const model = mergeMounts(models, mounts, gsCredentials);
    this.checkTuningProps(props);
    const metrics = props.metrics ?? true;
    this.configFiles = this.renderConfig(stack, props, name, bound, models, metrics);
    const args = this.serverArgs(props, models, metrics);
    this._core = new ServerCore(name, {
      ...this.serverSpec(props, checked, image, { gpu, gsCredentials, metrics }),
      args,
      model,
      volumes: [{ name: 'config', configMap: { name: `${name}-config` } }],
      canary: canary && canary.options.weight > 0 ? canary : undefined,
      compose: this.composeOf(bound, models),
    });
    this.modelNames = bound.map((m) => m.name);
    this.modelName = this.modelNames[0];
  }

  /** The server: a baked model image, an override, or the pinned release (its -gpu build with GPUs). */
  private resolveImage(props: TfServingBackendProps, models: TfServingModel[], gpu: number): { image: string | ModelImage; baked: ModelImage[] } {
    const version = props.version ?? DEFAULT_TF_SERVING_VERSION;
    if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version))
      fail(this, 'version', 'must be a TF Serving release such as 2.20.0', version, `pin a release, e.g. '${DEFAULT_TF_SERVING_VERSION}'`);
    const baked = models.map((m) => m.source.image).filter((i): i is ModelImage => i !== undefined);
    if (baked.length > 1)
      fail(
        this,
        'models',
        'bake models into more than one image; a pod runs one TF Serving image',
        baked.map((b) => b.imageRef),
        'bake them into one ModelImage or serve the others from storage',
      );
    if (baked.length === 1 && props.image)
      fail(
        this,
        'image',
        'cannot be set when the model is baked into a ModelImage (that image is the server)',
        props.image,
        'drop image, or serve the model from storage',
      );
    if (props.image !== undefined) checkImageString(this, 'image', props.image);
    baked[0]?._validate(this);
    return { image: baked[0] ?? props.image ?? `tensorflow/serving:${version}${gpu > 0 ? '-gpu' : ''}`, baked };
  }

  /** The canary track: another release or image than stable's (a -gpu one with GPUs). */
  private resolveCanary(props: TfServingBackendProps, image: string | ModelImage, baked: ModelImage[], gpu: number): CanaryTrackSpec | undefined {
    const canary = checkCanary(this, props.canary, ['image', 'version']);
    if (!canary) return undefined;
    if (canary.version !== undefined && (typeof canary.version !== 'string' || !/^\d+\.\d+\.\d+$/.test(canary.version)))
      fail(
        this,
        'canary.version',
        'must be a TF Serving release such as 2.20.0',
        canary.version,
        `pin a release, e.g. '${DEFAULT_TF_SERVING_VERSION}'`,
      );
    if (canary.image !== undefined && canary.version !== undefined)
      fail(this, 'canary.image', 'cannot be set together with canary.version (the image names the release)', canary.image, 'keep one of the two');
    if (canary.image !== undefined) checkImageString(this, 'canary.image', canary.image);
    if (baked.length === 1 && canary.version !== undefined)
      fail(
        this,
        'canary.version',
        'cannot change the release of a baked ModelImage (that image is the server)',
        canary.version,
        'bake a second ModelImage and give it as canary.image',
      );
    const canaryImage = canary.image ?? (canary.version !== undefined ? `tensorflow/serving:${canary.version}${gpu > 0 ? '-gpu' : ''}` : undefined);
    if (canaryImage !== undefined && canaryImage === (typeof image === 'string' ? image : image.imageRef))
      fail(
        this,
        'canary',
        'runs the same image as stable: the canary would change nothing',
        canaryImage,
        'give the canary another release or image, or remove it',
      );
    if (typeof canaryImage === 'string' && gpu > 0 && !/-gpu$/.test(canaryImage.split(':').pop() ?? ''))
      fail(this, 'canary.image', `runs a CPU-only TF Serving image while resources.gpu is ${gpu}`, canaryImage, 'use the matching -gpu tag');
    return { options: canary, image: canaryImage };
  }

  /** GPUs need a -gpu build of TF Serving (the image's tag, or the ModelImage's base). */
  private checkGpuImage(image: string | ModelImage, gpu: number): void {
    const imageName = typeof image === 'string' ? image : image.baseImage;
    if (gpu > 0 && !/-gpu$/.test(imageName.split(':').pop() ?? '')) {
      fail(
        this,
        typeof image === 'string' ? 'image' : 'model',
        `runs a CPU-only TF Serving image while resources.gpu is ${gpu}`,
        imageName,
        typeof image === 'string'
          ? 'use the matching -gpu tag (e.g. tensorflow/serving:2.20.0-gpu) or drop resources.gpu'
          : 'build the ModelImage with gpu: true, or drop resources.gpu',
      );
    }
  }

  /** Where each model is read from: baked in the image, gs:// read by TF Serving itself, or mounted. */
  private bindModels(props: TfServingBackendProps, models: TfServingModel[]): { bound: BoundModel[]; mounts: ModelMount[] } {
    const mounts: ModelMount[] = [];
    const bound = models.map((m, i) => {
      if (m.source.image) {
        if (m.source.image.modelName !== m.name)
          fail(
            this,
            `models[${i}].source`,
            `bakes the model as '${m.source.image.modelName}' but it is served as '${m.name}'`,
            m.source.image.modelName,
            'use the same modelName in ModelImage and here',
          );
        return { name: m.name, basePath: `/models/${m.name}`, source: m.source };
      }
      if (m.source.scheme === 'gs') {
        // TF Serving reads gs:// itself: no download, the server needs storage egress (validated in resolveModels).
        return { name: m.name, basePath: m.source.uri!.replace(/\/+$/, ''), source: m.source };
      }
      const volumeName = models.length === 1 ? 'model' : `model-${i}`;
      mounts.push(m.source._bind(this, `/models/${m.name}`, '', volumeName, models.length === 1 && props.model ? 'model' : `models[${i}].source`));
      return { name: m.name, basePath: `/models/${m.name}`, source: m.source };
    });
    return { bound, mounts };
  }

  /** Polling, REST and TensorFlow threading flags. */
  private checkTuningProps(props: TfServingBackendProps): void {
    for (const [k, v] of [
      ['modelConfigPollSeconds', props.modelConfigPollSeconds],
      ['fileSystemPollSeconds', props.fileSystemPollSeconds],
      ['restApiTimeoutMs', props.restApiTimeoutMs],
    ] as const)
      checkInt(this, k, v, 1);
    for (const [k, v] of [
      ['restApiNumThreads', props.restApiNumThreads],
      ['intraOpParallelism', props.intraOpParallelism],
      ['interOpParallelism', props.interOpParallelism],
    ] as const)
      checkInt(this, k, v, 1, 1024);
    if (
      props.gpuMemoryFraction !== undefined &&
      !(typeof props.gpuMemoryFraction === 'number' && props.gpuMemoryFraction > 0 && props.gpuMemoryFraction <= 1)
    ) {
      fail(this, 'gpuMemoryFraction', 'must be a fraction in (0, 1]', props.gpuMemoryFraction, 'use e.g. 0.5 to let two processes share a GPU');
    }
  }

  /** models.config, batching.config and monitoring.config in the ConfigMap `<name>-config`. */
  private renderConfig(
    stack: MlStack,
    props: TfServingBackendProps,
    name: string,
    bound: BoundModel[],
    models: TfServingModel[],
    metrics: boolean,
  ): Record<string, string> {
    const files: Record<string, string> = { 'models.config': renderTextProto(modelConfigList(bound, models)) };
    if (props.batching) files['batching.config'] = renderTextProto(this.batchingConfig(props.batching));
    if (metrics)
      files['monitoring.config'] = renderTextProto([
        [
          'prometheus_config',
          [
            ['enable', true],
            ['path', METRICS_PATH],
          ],
        ],
      ]);
    const configMapName = `${name}-config`;
    new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: stack._metadata(configMapName, stack._workloadLabels(name, 'model-server').labels),
      data: files,
    });
    return files;
  }

  /** Flags as args: the image's entrypoint (tf_serving_entrypoint.sh) stays and passes them on. */
  private serverArgs(props: TfServingBackendProps, models: TfServingModel[], metrics: boolean): string[] {
    const args = [
      `--model_config_file=${CONFIG_DIR}/models.config`,
      `--model_config_file_poll_wait_seconds=${props.modelConfigPollSeconds ?? 60}`,
      ...(props.fileSystemPollSeconds ? [`--file_system_poll_wait_seconds=${props.fileSystemPollSeconds}`] : []),
      ...(props.batching ? ['--enable_batching=true', `--batching_parameters_file=${CONFIG_DIR}/batching.config`] : []),
      ...(metrics ? [`--monitoring_config_file=${CONFIG_DIR}/monitoring.config`] : []),
      ...(props.restApiTimeoutMs ? [`--rest_api_timeout_in_ms=${props.restApiTimeoutMs}`] : []),
      ...(props.restApiNumThreads ? [`--rest_api_num_threads=${props.restApiNumThreads}`] : []),
      // Written whenever set: false must be said, true is TF Serving's default but stays explicit.
      ...(props.enableModelWarmup !== undefined ? [`--enable_model_warmup=${props.enableModelWarmup}`] : []),
      ...(props.intraOpParallelism ? [`--tensorflow_intra_op_parallelism=${props.intraOpParallelism}`] : []),
      ...(props.interOpParallelism ? [`--tensorflow_inter_op_parallelism=${props.interOpParallelism}`] : []),
      ...(props.gpuMemoryFraction ? [`--per_process_gpu_memory_fraction=${props.gpuMemoryFraction}`] : []),
      // A label may name a version that is not loaded yet only with this flag; labels in the start-up
      // config otherwise stop the server ("not currently available"): TF Serving's configuration
      // guide, tensorflow/serving#1230, #1608.
      ...(models.some((m) => Object.keys(m.versionLabels ?? {}).length > 0) ? ['--allow_version_labels_for_unavailable_models=true'] : []),
      ...(props.extraArgs ?? []),
    ];
    this.checkExtraArgs(props.extraArgs);
    return args;
  }

  private checkExtraArgs(extraArgs: string[] | undefined): void {
    for (const a of extraArgs ?? []) {
      if (!/^--[A-Za-z0-9_]/.test(a))
        fail(this, 'extraArgs', 'must be tensorflow_model_server flags (--flag=value)', a, `write it as '--${a.replace(/^-*/, '')}'`);
      if (/^--(port|rest_api_port|model_config_file|model_name|model_base_path)=/.test(a))
        fail(
          this,
          'extraArgs',
          'sets a flag the construct owns (ports and model config come from props)',
          a,
          'drop it and use the matching prop (models, modelConfigPollSeconds...)',
        );
    }
  }

  /** The stable track's server: REST and gRPC ports, readiness on the first model, uid 1000. */
  private serverSpec(
    props: TfServingBackendProps,
    checked: CheckedServedProps,
    image: string | ModelImage,
    o: { gpu: number; gsCredentials: string | undefined; metrics: boolean },
  ): Omit<ServerSpec, 'args' | 'model' | 'volumes' | 'canary' | 'compose'> {
    const probe: k8s.Probe = {
      httpGet: { path: `/v1/models/${this._models[0].name}`, port: k8s.IntOrString.fromNumber(TF_SERVING_REST_PORT) },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    };
    return {
      owner: this,
      component: 'model-server',
      props,
      checked,
      image: image,
      uid: TF_SERVING_UID,
      gid: TF_SERVING_UID,
      fsGroup: TF_SERVING_UID,
      ports: [
        { name: 'http', port: TF_SERVING_REST_PORT },
        { name: 'grpc', port: TF_SERVING_GRPC_PORT },
      ],
      env: envVars(props.env, {
        // HOME=/tmp comes with every container (buildPodSpec); CUDA's JIT cache goes to /tmp too.
        ...(o.gpu > 0 ? { CUDA_CACHE_PATH: '/tmp/cuda-cache' } : {}),
        ...(o.gsCredentials ? { GOOGLE_APPLICATION_CREDENTIALS: '/var/secrets/gcp/key.json' } : {}),
      }),
      readiness: probe,
      liveness: { ...probe, periodSeconds: 20 },
      startupTimeoutSeconds: props.healthCheck?.startupTimeoutSeconds ?? 600,
      // No subPath: the kubelet refreshes the files and --model_config_file_poll_wait_seconds picks them up.
      volumeMounts: [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }],
      resourceDefaults: { cpu: '1', cpuLimit: '2', memory: '2Gi', memoryLimit: '4Gi' },
      // TF Serving serves Prometheus metrics on the REST port once monitoring.config enables them.
      metrics: o.metrics ? { port: 'http', path: METRICS_PATH, namespace: props.metricsNamespace } : undefined,
      gpuNodeSelector: props.gpuNodeSelector,
      containerName: 'tensorflow-serving',
    };
  }

  /** Locally every model is a directory: baked into the image, or bind-mounted from MODELS_DIR. */
  private composeOf(bound: BoundModel[], models: TfServingModel[]): ServerSpec['compose'] {
    return {
      files: Object.entries({
        ...this.configFiles,
        'models.config': renderTextProto(
          modelConfigList(
            bound.map((m) => ({ name: m.name, basePath: `/models/${m.name}` })),
            models,
          ),
        ),
      }).map(([file, content]) => ({ name: file, content, target: `${CONFIG_DIR}/${file}` })),
      volumes: bound
        .filter((m) => !m.source.image)
        .map((m) => ({ source: composeModelDir(m.source._composeDir(m.name)), target: `/models/${m.name}` })),
      healthcheckWith: 'bash',
    };
  }

  /**
   * http://<service>.<namespace>.svc:8501/v1/models/<model>:predict, or with `{ label }` the
   * version the label points at: /v1/models/<model>/labels/<label>:predict (TF Serving's REST API).
   */
  public predictUrl(model?: string, options: PredictUrlOptions = {}): string {
    const m = model ?? this.modelName;
    if (!this.modelNames.includes(m)) {
      throw new MlInputError(
        `TfServingBackend '${this.node.path}': predictUrl(${JSON.stringify(model)}) names a model it does not serve ` +
          `(${this.modelNames.join(', ')}). Fix: pass one of those names.`,
      );
    }
    checkObject(this, 'predictUrl.options', options, "{ label: 'canary' }", PREDICT_URL_KEYS);
    const label = options.label;
    if (label === undefined) return `${this.url}/v1/models/${m}:predict`;
    const labels = Object.keys(this._labels[m] ?? {});
    if (typeof label !== 'string' || !labels.includes(label)) {
      fail(
        this,
        'predictUrl.label',
        `is not a version label of model '${m}'`,
        label,
        labels.length > 0
          ? `use one of ${labels.map((l) => `'${l}'`).join(', ')}`
          : `give the model versionLabels, e.g. { stable: 1, canary: 2 }, with VersionPolicy.specific([1, 2])`,
      );
    }
    return `${this.url}/v1/models/${m}/labels/${label}:predict`;
  }

  /** The props only TF Serving has (the served workload's are checkServedWorkloadProps'). */
  private checkServerProps(props: TfServingBackendProps): void {
    if (props.models !== undefined && !Array.isArray(props.models))
      fail(this, 'models', 'must be a list of { name, source }', props.models, "use [{ name: 'a', source: ModelSource.fromUri('gs://models/a') }]");
    const example = "{ name: 'a', source: ModelSource.fromUri('gs://models/a') }";
    (props.models ?? []).forEach((m, i) => checkObject(this, `models[${i}]`, m, example, TF_SERVING_MODEL_KEYS));
    const b = checkOptionalObject(this, 'batching', props.batching, '{ maxBatchSize: 32 }', BATCHING_KEYS);
    if (b) {
      checkArray(this, 'batching.allowedBatchSizes', b.allowedBatchSizes, '[8, 16, 32]', (x) => x);
      checkOptionalBoolean(this, 'batching.padVariableLengthInputs', b.padVariableLengthInputs);
    }
    checkOptionalBoolean(this, 'metrics', props.metrics);
    if (props.metricsNamespace !== undefined) checkDnsLabel(this, 'metricsNamespace', props.metricsNamespace, 'a namespace name', 'monitoring');
    checkOptionalBoolean(this, 'enableModelWarmup', props.enableModelWarmup);
    // Flags are args of one process: no newline or control character in them.
    checkArray(this, 'extraArgs', props.extraArgs, "['--grpc_max_threads=8']", (a, prop) =>
      checkString(this, prop, a, { example: "'--grpc_max_threads=8'" }),
    );
    checkHealthCheck(this, props.healthCheck);
  }

  private resolveModels(props: TfServingBackendProps): TfServingModel[] {
    if (props.models && (props.model || props.modelName)) {
      fail(
        this,
        'models',
        'cannot be combined with model/modelName',
        props.models.map((m) => m.name),
        'use models for several models, or modelName + model for one',
      );
    }
    const models = props.models ?? (props.model || props.modelName ? [{ name: props.modelName as string, source: props.model as ModelSource }] : []);
    if (models.length === 0)
      fail(
        this,
        'models',
        'must name at least one model',
        props.models,
        "pass modelName and model: ModelSource.fromUri('gs://bucket/models/and-gate')",
      );
    const seen = new Set<string>();
    models.forEach((m, i) => this.checkModel(props, m, i, seen));
    return models;
  }

  /** One model: its served name, its source (checked by its factory's rules) and its versions. */
  private checkModel(props: TfServingBackendProps, m: TfServingModel, i: number, seen: Set<string>): void {
    const prop = props.models ? `models[${i}]` : 'modelName';
    if (typeof m.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(m.name)) {
      fail(
        this,
        `${prop}${props.models ? '.name' : ''}`,
        'must be a model name of letters, digits, _ . - (it becomes /v1/models/<name>)',
        m.name,
        "use a name such as 'and-gate'",
      );
    }
    if (seen.has(m.name)) fail(this, `${prop}.name`, 'is used by two models', m.name, 'give every model its own name');
    seen.add(m.name);
    if (!ModelSource.isModelSource(m.source))
      fail(
        this,
        props.models ? `${prop}.source` : 'model',
        'must be a ModelSource',
        m.source,
        "use ModelSource.fromUri('gs://...'), fromVolume, fromImage or fromTrainingJob",
      );
    // Its factory's arguments before anything reads them (the baked image's name and version, say).
    m.source._validate(this, props.models ? `${prop}.source` : 'model');
    this.checkVersions(prop, m);
  }

  /** The version policy and the labels that point into it. */
  private checkVersions(prop: string, m: TfServingModel): void {
    if (m.versionPolicy !== undefined)
      checkBrand(
        this,
        `${prop}.versionPolicy`,
        m.versionPolicy,
        VersionPolicy.isVersionPolicy,
        'made with VersionPolicy.latest(), all() or specific()',
        'VersionPolicy.specific([1, 2])',
      );
    const vp = m.versionPolicy;
    if (vp?._kind === 'specific' && !Array.isArray(vp._values))
      fail(this, `${prop}.versionPolicy`, 'specific() needs a list of versions', vp._values, 'use e.g. VersionPolicy.specific([1, 2])');
    if (m.versionLabels !== undefined) checkObject(this, `${prop}.versionLabels`, m.versionLabels, '{ stable: 1, canary: 2 }');
    if (vp?._kind === 'latest' && (!Number.isInteger(vp._values[0]) || vp._values[0] < 1))
      fail(this, `${prop}.versionPolicy`, 'latest(n) needs a whole n >= 1', vp._values[0], 'use VersionPolicy.latest(1)');
    if (vp?._kind === 'specific') {
      if (vp._values.length === 0)
        fail(this, `${prop}.versionPolicy`, 'specific() needs at least one version', vp._values, 'list the integer versions to serve');
      vp._values.forEach((v) => {
        if (!Number.isInteger(v) || v < 0)
          fail(
            this,
            `${prop}.versionPolicy`,
            'versions must be integers (TF Serving version directories are integers)',
            v,
            'use e.g. VersionPolicy.specific([1, 2])',
          );
      });
    }
    this.checkVersionLabels(prop, m.versionLabels, vp);
  }

  private checkVersionLabels(prop: string, versionLabels: Record<string, number> | undefined, vp: VersionPolicy | undefined): void {
    for (const [label, v] of Object.entries(versionLabels ?? {})) {
      if (!Number.isInteger(v) || v < 0)
        fail(
          this,
          `${prop}.versionLabels.${label}`,
          'must be an integer version',
          v,
          'point the label at an integer version directory, e.g. { stable: 1 }',
        );
      if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(label))
        fail(this, `${prop}.versionLabels`, 'has a label that is not a simple word', label, "use labels such as 'stable' and 'canary'");
      if (vp?._kind === 'specific' && !vp._values.includes(v))
        fail(
          this,
          `${prop}.versionLabels.${label}`,
          `points at version ${v}, which the version policy does not load`,
          v,
          `add ${v} to VersionPolicy.specific([...]) or point the label at a loaded version`,
        );
      if (vp === undefined || vp._kind === 'latest')
        fail(
          this,
          `${prop}.versionLabels.${label}`,
          'needs a version policy that loads the labelled versions',
          v,
          `set versionPolicy: VersionPolicy.specific([${v}, ...])`,
        );
    }
  }

  private batchingConfig(b: BatchingOptions): TextProtoMessage {
    const maxBatchSize = b.maxBatchSize ?? 32;
    for (const [k, v] of Object.entries({
      maxBatchSize: b.maxBatchSize,
      batchTimeoutMicros: b.batchTimeoutMicros,
      maxEnqueuedBatches: b.maxEnqueuedBatches,
      numBatchThreads: b.numBatchThreads,
    })) {
      checkInt(this, `batching.${k}`, v, k === 'batchTimeoutMicros' ? 0 : 1);
    }
    const sizes = b.allowedBatchSizes ?? [];
    sizes.forEach((sz) => checkInt(this, 'batching.allowedBatchSizes', sz, 1));
    if (sizes.length > 0) {
      if (sizes.some((v, i) => i > 0 && v <= sizes[i - 1]))
        fail(this, 'batching.allowedBatchSizes', 'must be increasing', sizes, 'sort them, e.g. [8, 16, 32]');
      if (sizes[sizes.length - 1] !== maxBatchSize)
        fail(
          this,
          'batching.allowedBatchSizes',
          `must end with maxBatchSize (${maxBatchSize}) or TF Serving refuses to start`,
          sizes,
          `append ${maxBatchSize} or set maxBatchSize to ${sizes[sizes.length - 1]}`,
        );
    }
    return [
      ['max_batch_size', [['value', maxBatchSize]]],
      ['batch_timeout_micros', [['value', b.batchTimeoutMicros ?? 1000]]],
      ['max_enqueued_batches', [['value', b.maxEnqueuedBatches ?? 100]]],
      ['num_batch_threads', [['value', b.numBatchThreads ?? 4]]],
      ...sizes.map((v): [string, number] => ['allowed_batch_sizes', v]),
      ...(b.padVariableLengthInputs ? [['pad_variable_length_inputs', true] as [string, boolean]] : []),
    ];
  }
}

/** The models' mounts as one: their volumes, init containers, storage egress, and the gs:// credentials. */
function mergeMounts(models: TfServingModel[], mounts: ModelMount[], gsCredentials: string | undefined): ModelMount {
  const needsStorage = models.some((m) => m.source.scheme === 'gs') || mounts.some((mm) => mm.needsObjectStorage);
  const claims = mounts.filter((mm) => mm.claim);
  return {
    volumes: [...mounts.flatMap((mm) => mm.volumes), ...(gsCredentials ? [{ name: 'gcp-credentials', secret: { secretName: gsCredentials } }] : [])],
    initContainers: mounts.flatMap((mm) => mm.initContainers),
    volumeMounts: [
      ...mounts.flatMap((mm) => mm.volumeMounts),
      ...(gsCredentials ? [{ name: 'gcp-credentials', mountPath: '/var/secrets/gcp', readOnly: true }] : []),
    ],
    needsObjectStorage: needsStorage,
    storageEndpoints: [
      ...models.filter((m) => m.source.scheme === 'gs').flatMap((m) => storageEndpointsOf(m.source.uri!)),
      ...mounts.flatMap((mm) => mm.storageEndpoints ?? []),
    ],
    // The claim the replica and rollout checks apply to: a single-attach one when any is (ReadWriteOncePod too).
    claim: claims.find((c) => ['ReadWriteOnce', 'ReadWriteOncePod'].includes(c.claim!.accessMode))?.claim ?? claims[0]?.claim,
    fsGroup: mounts.find((mm) => mm.fsGroup !== undefined)?.fsGroup,
  };
}

function modelConfigList(bound: Array<{ name: string; basePath: string }>, models: TfServingModel[]): TextProtoMessage {
  return [
    [
      'model_config_list',
      bound.map((m, i): [string, TextProtoMessage] => {
        const vp = models[i].versionPolicy;
        const policy: TextProtoMessage | undefined =
          vp === undefined
            ? undefined
            : vp._kind === 'latest'
              ? [['latest', [['num_versions', vp._values[0]]]]]
              : vp._kind === 'all'
                ? [['all', []]]
                : [['specific', vp._values.map((v): [string, number] => ['versions', v])]];
        return [
          'config',
          [
            ['name', m.name],
            ['base_path', m.basePath],
            ['model_platform', 'tensorflow'],
            ...(policy ? [['model_version_policy', policy] as [string, TextProtoMessage]] : []),
            ...Object.entries(models[i].versionLabels ?? {})
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, v]): [string, TextProtoMessage] => [
                'version_labels',
                [
                  ['key', k],
                  ['value', v],
                ],
              ]),
          ],
        ];
      }),
    ],
  ];
}
