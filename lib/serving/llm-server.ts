import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkInt, fail } from '../_errors';
import { checkImageString, IImage } from '../image/_image-build';
import { checkName } from '../_names';
import { ModelMount, ModelSource } from '../model/model-source';
import { defaultName, MlStack } from '../stack/ml-stack';
import {
  checkAbsolutePath,
  checkArray,
  checkBrand,
  checkChildId,
  checkDnsLabel,
  checkObject,
  checkOptionalBoolean,
  checkOptionalSize,
  checkString,
  keysOf,
} from '../_validate';
import {
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
import { ServedWorkload } from './_served-workload';
import { IModelServer } from './model-server';
import { CanaryOptions, checkCanary } from './canary';

/** vLLM release of the default image (vllm/vllm-openai on Docker Hub). */
export const DEFAULT_VLLM_VERSION = '0.31.0';
/** Port of vLLM's OpenAI-compatible server (its default, `vllm serve --port`). */
export const VLLM_PORT = 8000;
/** uid the server runs as: the vllm/vllm-openai image has no USER (it runs as root by default). */
export const LLM_SERVER_UID = 10001;
/** Where the compile and kernel caches go: under HOME (/tmp), on a volume of its own (they reach gigabytes). */
const CACHE_DIR = '/tmp/.cache';
/** Flags the construct owns: they come from props, and a second value would silently win or clash. */
const OWNED_FLAGS = /^--(model|port|host|served-model-name|tensor-parallel-size|download-dir)(=|$)|^-tp(=|$)/;

/** A server that speaks the OpenAI API (chat/completions) under `<url>/v1`: what a client is given. */
export interface IOpenAiServer extends IModelServer {
  /** http://<service>.<namespace>.svc:<port>/v1, what OpenAI clients take as base_url (OPENAI_BASE_URL). */
  readonly openAiBaseUrl: string;
  /** The model name requests carry (`"model": ...`). */
  readonly modelName: string;
}

/** True for LlmServer (and any server that offers an OpenAI-compatible base URL). */
export function isOpenAiServer(x: unknown): x is IOpenAiServer {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as IOpenAiServer).openAiBaseUrl === 'string' &&
    typeof (x as IOpenAiServer).modelName === 'string'
  );
}

export interface LlmServerProps extends ServedWorkloadProps {
  /**
   * The weights: ModelSource.fromHuggingFace('org/name', { revision }) (downloaded once into a
   * cache claim), or a directory of Hugging Face format weights on a claim, in object storage or
   * written by a TrainingJob (a fine-tune).
   */
  readonly model: ModelSource;
  /**
   * The model name clients send (`"model"` in requests; OPENAI_MODEL of wired clients).
   * @default - the repository id of a Hugging Face source ('Qwen/Qwen2.5-0.5B-Instruct'); required for other sources
   */
  readonly servedModelName?: string;
  /** vLLM release of the vllm/vllm-openai image. @default '0.31.0' */
  readonly version?: string;
  /** Image override (a mirror, or a CPU build with resources.gpu: 0). @default - vllm/vllm-openai:v<version> */
  readonly image?: string;
  /**
   * GPUs one replica shards the model across (--tensor-parallel-size). Every GPU of the pod takes a
   * shard, so it must equal resources.gpu.
   * @default - resources.gpu
   */
  readonly tensorParallel?: number;
  /** Longest context (prompt + answer) in tokens (--max-model-len). @default - the model's */
  readonly maxModelLen?: number;
  /**
   * Fraction of each GPU's memory vLLM may take for weights and KV cache, 0..1 (--gpu-memory-utilization).
   * @default - vLLM's (0.92: CacheConfig.gpu_memory_utilization in vllm/config/cache.py)
   */
  readonly gpuMemoryUtilization?: number;
  /** More `vllm serve` flags, e.g. ['--enable-prefix-caching']. @default - none */
  readonly extraArgs?: string[];
  /** Where the weights are mounted (read-only). @default '/models' */
  readonly modelPath?: string;
  /** Size of the emptyDir for vLLM's, torch's and Triton's compile caches. @default '10Gi' */
  readonly cacheSize?: string;
  /** Startup window: loading large weights and compiling CUDA graphs takes minutes. @default - 1800 s */
  readonly healthCheck?: Pick<HealthCheckOptions, 'startupTimeoutSeconds'>;
  /** Prometheus scraping of vLLM's /metrics (queue length, token throughput, KV cache use). @default true */
  readonly metrics?: boolean;
  /** Namespace of Prometheus, admitted to the server's port. @default 'monitoring' */
  readonly metricsNamespace?: string;
  /** Node selector added when GPUs are requested, e.g. { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }. @default - none */
  readonly gpuNodeSelector?: Record<string, string>;
  /**
   * A canary track: a second Deployment `<name>-canary` running another vLLM `version` or `image`
   * (or env), with a share of the traffic (weight 0 rolls back, 100 promotes). Both tracks read the
   * model cache claim: make it ReadWriteMany. @default - none
   */
  readonly canary?: CanaryOptions;
}

const LLM_SERVER_KEYS = keysOf<LlmServerProps>()([
  ...SERVED_KEYS,
  'model',
  'servedModelName',
  'version',
  'image',
  'tensorParallel',
  'maxModelLen',
  'gpuMemoryUtilization',
  'extraArgs',
  'modelPath',
  'cacheSize',
  'healthCheck',
  'metrics',
  'metricsNamespace',
  'gpuNodeSelector',
  'canary',
]);

/**
 * vLLM's OpenAI-compatible server (`vllm serve`) as a hardened Deployment: pinned image, the
 * weights downloaded once into a claim by an init container (the Hugging Face token in that
 * container only) and served offline, tensor parallelism from the GPU count, a memory-backed
 * /dev/shm, a long startup window, readiness on /health, Prometheus metrics, writable caches under
 * a read-only root, and PSS "restricted". Clients wired to it get OPENAI_BASE_URL and OPENAI_MODEL.
 *
 * The pinned image (vllm/vllm-openai:v0.31.0) is built on CUDA 13: GPU nodes need NVIDIA driver R580
 * or newer, or the server fails at start-up; pin an older `version` for older drivers.
 */
export class LlmServer extends ServedWorkload implements IOpenAiServer {
  public readonly containerPort = VLLM_PORT;
  public readonly modelName: string;
  /** GPUs per replica the model is sharded across. */
  public readonly tensorParallel: number;
  /** @internal */
  public readonly _core: ServerCore;

  constructor(scope: Construct, id: string, props: LlmServerProps) {
    super(scope, checkChildId(scope, id, 'LlmServer'));
    const example = "{ model: ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', { revision: '<commit sha>' }) }";
    checkObject(this, 'props', props, example, LLM_SERVER_KEYS);
    const checked = checkServedWorkloadProps(this, props);
    this.checkServerProps(props);
    const name = checkName(this, 'name', props.name ?? defaultName(this), 50);
    const image = this.resolveImage(props);
    const { canary, canaryImage } = this.resolveCanary(props, image);
    const gpu = props.resources?.gpu ?? 1;
    this.tensorParallel = this.resolveTensorParallel(props, gpu);
    const modelPath = checkAbsolutePath(this, 'modelPath', props.modelPath ?? '/models', { example: '/models' });
    const labels = MlStack.of(this)._workloadLabels(name, 'model-server').labels;
    const model = this.bindModel(props.model, modelPath, { name, labels, image });
    this.modelName = this.resolveServedModelName(props);
    this._core = new ServerCore(name, {
      ...this.serverSpec(props, checked, image, gpu, modelPath),
      model,
      canary:
        canary && canary.weight > 0
          ? { options: canary, image: canaryImage, env: canary.env ? envVars({ ...props.env, ...canary.env }, cacheEnv()) : undefined }
          : undefined,
    });
  }

  /** OpenAI-compatible base URL: http://<service>.<namespace>.svc:<port>/v1. */
  public get openAiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  /** The chat completions endpoint (POST, OpenAI format). */
  public predictUrl(model?: string): string {
    if (model !== undefined && model !== this.modelName) {
      fail(this, 'predictUrl', 'names a model this server does not serve', model, `pass ${JSON.stringify(this.modelName)} or nothing`);
    }
    return `${this.openAiBaseUrl}/chat/completions`;
  }

  /** Types and shapes of the props only LlmServer has (JavaScript callers included). */
  private checkServerProps(p: LlmServerProps): void {
    checkBrand(
      this,
      'model',
      p.model,
      ModelSource.isModelSource,
      'a ModelSource',
      "ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', { revision: '<commit sha>' })",
    );
    if (p.model.image)
      fail(
        this,
        'model',
        'is baked into a TF Serving ModelImage, which vLLM cannot serve',
        p.model.image.imageRef,
        "serve Hugging Face weights: ModelSource.fromHuggingFace('org/name', { revision }) or fromVolume",
      );
    if (p.servedModelName !== undefined) {
      checkString(this, 'servedModelName', p.servedModelName, { example: "'qwen2.5-0.5b'", maxLength: 128 });
      if (!/^[A-Za-z0-9][A-Za-z0-9._/:-]*$/.test(p.servedModelName))
        fail(
          this,
          'servedModelName',
          'must be letters, digits and . _ / : - (clients send it in every request)',
          p.servedModelName,
          "use e.g. 'qwen2.5-0.5b-instruct'",
        );
    }
    if (p.version !== undefined && (typeof p.version !== 'string' || !/^\d+\.\d+\.\d+(\.post\d+)?$/.test(p.version))) {
      fail(this, 'version', 'must be a vLLM release such as 0.31.0', p.version, `pin a release, e.g. '${DEFAULT_VLLM_VERSION}'`);
    }
    if (p.image !== undefined) checkImageString(this, 'image', p.image);
    if (p.image !== undefined && p.version !== undefined)
      fail(this, 'version', 'cannot be set together with image (the image names its own release)', p.version, 'drop version, or drop image');
    checkInt(this, 'tensorParallel', p.tensorParallel, 1, 64);
    checkInt(this, 'maxModelLen', p.maxModelLen, 1);
    if (
      p.gpuMemoryUtilization !== undefined &&
      !(typeof p.gpuMemoryUtilization === 'number' && p.gpuMemoryUtilization > 0 && p.gpuMemoryUtilization <= 1)
    ) {
      fail(
        this,
        'gpuMemoryUtilization',
        'must be a fraction in (0, 1]',
        p.gpuMemoryUtilization,
        "use e.g. 0.92 (vLLM's default), lower when another process shares the GPU",
      );
    }
    this.checkExtraArgs(p.extraArgs);
    checkOptionalSize(this, 'cacheSize', p.cacheSize, '10Gi');
    checkHealthCheck(this, p.healthCheck);
    checkOptionalBoolean(this, 'metrics', p.metrics);
    if (p.metricsNamespace !== undefined) checkDnsLabel(this, 'metricsNamespace', p.metricsNamespace, 'a namespace name', 'monitoring');
  }

  /** The canary's release or image: another one than stable's. */
  private resolveCanary(props: LlmServerProps, image: string): { canary?: CanaryOptions; canaryImage?: string | IImage } {
    const canary = checkCanary(this, props.canary, ['version', 'image', 'env']);
    if (canary?.image !== undefined) checkImageString(this, 'canary.image', canary.image);
    if (canary?.version !== undefined && (typeof canary.version !== 'string' || !/^\d+\.\d+\.\d+$/.test(canary.version)))
      fail(this, 'canary.version', 'must be a vLLM release such as 0.31.0', canary.version, `pin a release, e.g. '${DEFAULT_VLLM_VERSION}'`);
    const canaryImage = canary?.image ?? (canary?.version !== undefined ? `vllm/vllm-openai:v${canary.version}` : undefined);
    if (canaryImage !== undefined && canaryImage === image)
      fail(
        this,
        'canary',
        'runs the same image as stable: the canary would change nothing',
        canaryImage,
        'give the canary another release or image, or remove it',
      );
    return { canary, canaryImage };
  }

  /** The stable track's server: `vllm serve`, its probes, caches, metrics and GPU defaults. */
  private serverSpec(props: LlmServerProps, checked: CheckedServedProps, image: string, gpu: number, modelPath: string): Omit<ServerSpec, 'model'> {
    const probe: k8s.Probe = {
      httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(VLLM_PORT) },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    };
    return {
      owner: this,
      component: 'model-server',
      // One GPU unless told otherwise: the CUDA image does not start without one.
      props: { ...props, resources: { ...props.resources, gpu }, shmSize: props.shmSize ?? `${2 * Math.max(1, this.tensorParallel)}Gi` },
      checked,
      image,
      uid: LLM_SERVER_UID,
      gid: LLM_SERVER_UID,
      fsGroup: LLM_SERVER_UID,
      ports: [{ name: 'http', port: VLLM_PORT }],
      // Explicit, so the manifest says what runs whatever the image's ENTRYPOINT of the day is.
      command: ['vllm', 'serve'],
      args: this.serverArgs(props, modelPath),
      env: envVars(props.env, cacheEnv()),
      readiness: probe,
      liveness: { ...probe, periodSeconds: 20 },
      startupTimeoutSeconds: props.healthCheck?.startupTimeoutSeconds ?? 1800,
      volumes: [{ name: 'llm-cache', emptyDir: { sizeLimit: k8s.Quantity.fromString(props.cacheSize ?? '10Gi') } }],
      volumeMounts: [{ name: 'llm-cache', mountPath: CACHE_DIR }],
      resourceDefaults: { cpu: '4', cpuLimit: '8', memory: '16Gi', memoryLimit: '32Gi' },
      // vLLM serves Prometheus metrics on its API port.
      metrics: props.metrics === false ? undefined : { port: 'http', path: '/metrics', namespace: props.metricsNamespace },
      gpuNodeSelector: props.gpuNodeSelector,
      // No service-link variables: a Service named `vllm` in the namespace (this one, or any) would give
      // the pod VLLM_PORT=tcp://<ip>:<port>, and vLLM refuses to start ("VLLM_PORT ... appears to be a
      // URI", get_vllm_port in vllm/envs.py). The server finds its peers by DNS, never by these.
      enableServiceLinks: false,
      containerName: 'vllm',
      compose: {
        volumes: [{ source: composeModelDir(props.model._composeDir(composeModelName(props.model, this.modelName))), target: modelPath }],
      },
    };
  }

  /** Flags and their values, one argv entry each ('--max-num-seqs', '64'); none the construct sets itself. */
  private checkExtraArgs(extraArgs: unknown): void {
    checkArray(this, 'extraArgs', extraArgs, "['--enable-prefix-caching']", (a, prop) => {
      const arg = checkString(this, prop, a, { example: "'--enable-prefix-caching'" });
      if (OWNED_FLAGS.test(arg))
        fail(
          this,
          prop,
          'sets a flag the construct owns (model, port, served name and tensor parallelism come from props)',
          arg,
          'drop it and use the matching prop (servedModelName, tensorParallel, resources.gpu)',
        );
      return arg;
    });
  }

  /** The pinned vLLM image, or the override; the CUDA image needs a GPU. */
  private resolveImage(p: LlmServerProps): string {
    const image = p.image ?? `vllm/vllm-openai:v${p.version ?? DEFAULT_VLLM_VERSION}`;
    if (p.resources?.gpu === 0 && p.image === undefined) {
      fail(
        this,
        'resources.gpu',
        'is 0, but vllm/vllm-openai is a CUDA build that does not start without a GPU',
        0,
        'request a GPU (resources.gpu: 1), or set image to a vLLM CPU build',
      );
    }
    return image;
  }

  /** One shard per GPU: an explicit tensorParallel must match the GPUs the pod gets. */
  private resolveTensorParallel(p: LlmServerProps, gpu: number): number {
    const tp = p.tensorParallel ?? Math.max(1, gpu);
    if (p.tensorParallel !== undefined && gpu === 0 && tp > 1) {
      fail(
        this,
        'tensorParallel',
        'needs a GPU per shard, but resources.gpu is 0',
        tp,
        'request that many GPUs (resources.gpu), or drop tensorParallel',
      );
    }
    if (p.tensorParallel !== undefined && gpu > 0 && tp !== gpu) {
      fail(
        this,
        'tensorParallel',
        `must equal resources.gpu (${gpu}): vLLM shards the model across exactly --tensor-parallel-size GPUs, ` +
          'and a GPU more or less is idle or missing',
        tp,
        `drop tensorParallel (it follows resources.gpu), or set resources.gpu: ${tp}`,
      );
    }
    return tp;
  }

  private bindModel(source: ModelSource, modelPath: string, consumer: { name: string; labels: Record<string, string>; image: string }): ModelMount {
    // The whole weights directory, read-only; vLLM reads it with HF_HUB_OFFLINE=1.
    return source._bind(this, modelPath, '', 'model', 'model', consumer);
  }

  private resolveServedModelName(p: LlmServerProps): string {
    const name = p.servedModelName ?? p.model.huggingFace?.repo;
    if (name === undefined) {
      fail(
        this,
        'servedModelName',
        'is required when the model is not a Hugging Face repository (it is the name clients send)',
        undefined,
        "set servedModelName, e.g. 'my-finetune'",
      );
    }
    return name;
  }

  /** `vllm serve <dir> --flags`: the model as a local directory, so nothing is fetched at start. */
  private serverArgs(p: LlmServerProps, modelPath: string): string[] {
    return [
      modelPath,
      '--host',
      '0.0.0.0',
      '--port',
      String(VLLM_PORT),
      '--served-model-name',
      this.modelName,
      '--tensor-parallel-size',
      String(this.tensorParallel),
      ...(p.maxModelLen !== undefined ? ['--max-model-len', String(p.maxModelLen)] : []),
      ...(p.gpuMemoryUtilization !== undefined ? ['--gpu-memory-utilization', String(p.gpuMemoryUtilization)] : []),
      ...(p.extraArgs ?? []),
    ];
  }
}

/**
 * Writable caches under the read-only root: HOME is /tmp (every container); the caches that reach
 * gigabytes (torch.compile, Triton kernels, CUDA JIT) go to the llm-cache volume at /tmp/.cache.
 * The hub is never called by the server (the weights are local), and usage stats stay off.
 */
function cacheEnv(): Record<string, string> {
  return {
    HF_HUB_OFFLINE: '1',
    HF_HOME: `${CACHE_DIR}/huggingface`,
    XDG_CACHE_HOME: CACHE_DIR,
    VLLM_CACHE_ROOT: `${CACHE_DIR}/vllm`,
    VLLM_CONFIG_ROOT: '/tmp/.config/vllm',
    TRITON_CACHE_DIR: `${CACHE_DIR}/triton`,
    TORCHINDUCTOR_CACHE_DIR: `${CACHE_DIR}/torchinductor`,
    CUDA_CACHE_PATH: `${CACHE_DIR}/nv`,
    NUMBA_CACHE_DIR: `${CACHE_DIR}/numba`,
    // The uid has no passwd entry: getpass.getuser() (torch, triton) reads USER first.
    USER: 'vllm',
    VLLM_NO_USAGE_STATS: '1',
    DO_NOT_TRACK: '1',
  };
}

/** The directory under MODELS_DIR compose mounts: <repo>/<revision> for a Hugging Face model. */
function composeModelName(source: ModelSource, servedName: string): string {
  const hf = source.huggingFace;
  return hf ? `${hf.repo}/${hf.revision}` : servedName;
}
