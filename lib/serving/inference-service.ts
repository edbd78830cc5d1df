import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { fail, MlInputError } from '../_errors';
import { checkImage, IImage } from '../image/_image-build';
import { checkAbsolutePath, checkArgv, checkBrand, checkChildId, checkObject, checkPort, checkUrlPath, keysOf } from '../_validate';
import { PythonImage } from '../image/python-image';
import { checkName } from '../_names';
import { ModelSource } from '../model/model-source';
import { defaultName } from '../stack/ml-stack';
import { podIds, runArgv } from '../workload/_pod';
import {
  CanaryTrackSpec,
  CheckedServedProps,
  checkExtraPorts,
  checkHealthCheck,
  checkServedWorkloadProps,
  composeModelDir,
  envVars,
  HealthCheckOptions,
  MetricsOptions,
  ServedWorkloadProps,
  ServerCore,
  ServerPort,
  ServerSpec,
  SERVED_KEYS,
} from './_server';
import { IModelServer } from './model-server';
import { ServedWorkload } from './_served-workload';
import { CanaryOptions, checkCanary } from './canary';
import { knownHealthPaths } from './_health';

export interface InferenceServiceProps extends ServedWorkloadProps {
  /** Image reference ('registry.example.com/api:1.0.0') or an image the app builds (PythonImage). */
  readonly image: string | IImage;
  /** Main HTTP port. @default - the image's port (PythonImage), else 8080 */
  readonly port?: number;
  /** More ports, e.g. { name: 'grpc', port: 9000 }. @default - none */
  readonly extraPorts?: ServerPort[];
  /** Container command (entrypoint override). @default - the image's */
  readonly command?: string[];
  /** Container args. @default - the image's */
  readonly args?: string[];
  /** The model, mounted read-only at modelPath; MODEL_DIR tells the code where. @default - none */
  readonly model?: ModelSource;
  /** Where the model is mounted. @default '/models' */
  readonly modelPath?: string;
  /** Name of the model, for predictUrl and MODEL_NAME. @default - none */
  readonly modelName?: string;
  /** Path of the predict endpoint, for predictUrl. @default '/predict' */
  readonly predictPath?: string;
  /**
   * Probes: HTTP GET of `path` on the main port. A TCP check passes as soon as the port opens, which
   * most servers do before the model is loaded, so the default is HTTP wherever a path is known.
   * @default - the documented readiness path of a known model-server image (Triton, MLServer:
   * /v2/health/ready; TorchServe: /ping; TGI, vLLM: /health; tensorflow/serving with modelName:
   * /v1/models/<modelName>), else a TCP check of the main port; 600 s startup window
   */
  readonly healthCheck?: HealthCheckOptions;
  /**
   * uid (and gid, fsGroup) the pods run as.
   * @default - the image's USER for images the app builds, else 10001
   */
  readonly uid?: number;
  /** Node selector added when GPUs are requested, e.g. { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }. @default - none */
  readonly gpuNodeSelector?: Record<string, string>;
  /**
   * Prometheus scraping of the server's metrics (`{ port: 'metrics', path: '/metrics' }` for an
   * extra port): scrape annotations on the pods and ingress from Prometheus' namespace on that port.
   * @default - not scraped
   */
  readonly metrics?: MetricsOptions;
  /**
   * A canary track: a second Deployment `<name>-canary` with its own image, model or env and a
   * share of the traffic (weight 0 rolls back, 100 promotes). @default - none
   */
  readonly canary?: CanaryOptions;
}

const INFERENCE_SERVICE_KEYS = keysOf<InferenceServiceProps>()([
  ...SERVED_KEYS,
  'image',
  'port',
  'extraPorts',
  'command',
  'args',
  'model',
  'modelPath',
  'modelName',
  'predictPath',
  'healthCheck',
  'uid',
  'gpuNodeSelector',
  'metrics',
  'canary',
]);

/**
 * Any model-server image (Flask/sklearn, TorchServe, Triton...) as a hardened Deployment and
 * Service, with PDB, HPA, exposure and NetworkPolicies derived from its props and wiring.
 */
export class InferenceService extends ServedWorkload implements IModelServer {
  public readonly containerPort: number;
  public readonly modelName?: string;
  /** @internal */
  public readonly _core: ServerCore;
  private readonly predictPath: string;

  constructor(scope: Construct, id: string, props: InferenceServiceProps) {
    super(scope, checkChildId(scope, id, 'InferenceService'));
    checkObject(this, 'props', props, "{ image: 'registry.example.com/api:1.0.0' }", INFERENCE_SERVICE_KEYS);
    const image = checkImage(this, 'image', props.image);
    const checked = checkServedWorkloadProps(this, props);
    const name = checkName(this, 'name', props.name ?? defaultName(this), 50);
    const server = this.checkServerProps(props, image);
    const model = props.model?._bind(this, server.modelPath);
    const canary = checkCanary(this, props.canary, ['image', 'model', 'env']);
    const canaryImage = canary?.image === undefined ? undefined : checkImage(this, 'canary.image', canary.image);
    const hc = checkHealthCheck(this, props.healthCheck);
    this.predictPath = checkUrlPath(this, 'predictPath', props.predictPath ?? '/predict');
    this._core = new ServerCore(name, {
      ...this.serverSpec(props, checked, image, server, hc),
      model,
      canary: canary && canary.weight > 0 ? this.canaryTrack(props, canary, canaryImage, server.modelPath) : undefined,
      compose: this.composeOf(props, image, name, server.modelPath),
    });
    this.runImages(props, image, canaryImage, [server.port, ...server.extraPorts.map((p) => p.port)]);
    this.containerPort = server.port;
    this.modelName = props.modelName;
  }

  public predictUrl(model?: string): string {
    if (model !== undefined && model !== this.modelName) {
      throw new MlInputError(
        `InferenceService '${this.node.path}': predictUrl(${JSON.stringify(model)}) ` +
          `names a model it does not serve (${JSON.stringify(this.modelName)}).`,
      );
    }
    return `${this.url}${this.predictPath}`;
  }

  /** The props only InferenceService has, in the order they are reported. */
  private checkServerProps(props: InferenceServiceProps, image: string | IImage): CheckedServer {
    checkPort(this, 'port', props.port);
    const extraPorts = checkExtraPorts(this, props.extraPorts) ?? [];
    checkArgv(this, 'command', props.command, { example: "['python', 'serve.py']" });
    checkArgv(this, 'args', props.args, { example: "['--workers', '2']" });
    if (props.model !== undefined)
      checkBrand(
        this,
        'model',
        props.model,
        ModelSource.isModelSource,
        'a ModelSource',
        "ModelSource.fromUri('s3://bucket/models/m'), fromVolume, fromImage or fromTrainingJob",
      );
    const port = props.port ?? (typeof image !== 'string' ? image.port : undefined) ?? 8080;
    if (typeof image !== 'string' && image.port !== undefined && props.port !== undefined && props.port !== image.port) {
      fail(
        this,
        'port',
        `differs from the port the image EXPOSEs (${image.port})`,
        props.port,
        "set the port on the image (PythonImage's port option) so image and manifest share one value",
      );
    }
    const { uid, gid } = podIds(this, image, props.uid);
    const modelPath = checkAbsolutePath(this, 'modelPath', props.modelPath ?? '/models', { example: '/models' });
    checkModelName(this, props.modelName);
    return { port, extraPorts, uid, gid, modelPath };
  }

  /** The stable track's server: ports, probes (HTTP where a path is given or known, else TCP), environment and defaults. */
  private serverSpec(
    props: InferenceServiceProps,
    checked: CheckedServedProps,
    image: string | IImage,
    server: CheckedServer,
    hc: HealthCheckOptions,
  ): Omit<ServerSpec, 'model' | 'canary' | 'compose'> {
    const { port } = server;
    // A path the user gives wins; else the server's own, when the image is one we know.
    const known = hc.path === undefined ? knownHealthPaths(image, props.modelName) : undefined;
    const probe = (path: string | undefined): k8s.Probe =>
      path
        ? { httpGet: { path, port: k8s.IntOrString.fromNumber(port) }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 }
        : { tcpSocket: { port: k8s.IntOrString.fromNumber(port) }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
    return {
      owner: this,
      component: 'model-server',
      props,
      checked,
      image,
      uid: server.uid,
      gid: server.gid,
      fsGroup: server.gid,
      ports: [{ name: 'http', port }, ...server.extraPorts],
      command: props.command,
      args: props.args,
      env: envVars(props.env, modelEnv(props, server.modelPath)),
      readiness: probe(hc.path ?? known?.readiness),
      liveness: { ...probe(hc.livenessPath ?? hc.path ?? known?.liveness), periodSeconds: 20 },
      startupTimeoutSeconds: hc.startupTimeoutSeconds ?? 600,
      resourceDefaults: { cpu: '500m', cpuLimit: '2', memory: '1Gi', memoryLimit: '2Gi' },
      gpuNodeSelector: props.gpuNodeSelector,
      containerName: 'server',
      metrics: props.metrics,
    };
  }

  /** What the canary track runs instead: its image, its env (with the model's), its model. */
  private canaryTrack(
    props: InferenceServiceProps,
    canary: CanaryOptions,
    canaryImage: string | IImage | undefined,
    modelPath: string,
  ): CanaryTrackSpec {
    return {
      options: canary,
      image: canaryImage,
      env:
        canary.env || (canary.model && !props.model)
          ? envVars({ ...props.env, ...canary.env }, { ...modelEnv(props, modelPath), ...(canary.model ? { MODEL_DIR: modelPath } : {}) })
          : undefined,
      model: canary.model?._bind(this, modelPath, '', 'model', 'canary.model'),
    };
  }

  private composeOf(props: InferenceServiceProps, image: string | IImage, name: string, modelPath: string): ServerSpec['compose'] {
    return {
      ...(props.model && !props.model.image
        ? { volumes: [{ source: composeModelDir(props.model._composeDir(props.modelName ?? name)), target: modelPath }] }
        : {}),
      // A PythonImage has python; for another image we cannot know a tool to run a healthcheck with.
      ...(PythonImage.isPythonImage(image) ? { healthcheckWith: 'python' as const } : {}),
    };
  }

  /** What the pod runs becomes the CMD of an image the app builds, unless that image names its own; the ports it serves, its EXPOSE. */
  private runImages(props: InferenceServiceProps, image: string | IImage, canaryImage: string | IImage | undefined, ports: number[]): void {
    if (typeof image !== 'string' && image._runWith) image._runWith(this, runArgv(this, image, props.command, props.args), 'server', ports);
    if (canaryImage !== undefined && typeof canaryImage !== 'string' && canaryImage !== image && canaryImage._runWith)
      canaryImage._runWith(this, runArgv(this, canaryImage, props.command, props.args), 'server', ports);
  }
}

/** InferenceService's own props, checked. */
interface CheckedServer {
  readonly port: number;
  readonly extraPorts: ServerPort[];
  readonly uid: number;
  readonly gid: number;
  readonly modelPath: string;
}

/** modelName is part of URLs (predictUrl, TF Serving's status path): letters, digits, _ . - */
function checkModelName(owner: Construct, v: unknown): void {
  if (v !== undefined && (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/.test(v))) {
    fail(owner, 'modelName', 'must be letters, digits, _ . - (it is part of URLs)', v, "use a name such as 'eeg-letters'");
  }
}

/** MODEL_DIR and MODEL_NAME: where the code finds the model, and its name. */
function modelEnv(props: InferenceServiceProps, modelPath: string): Record<string, string> {
  return {
    ...(props.model ? { MODEL_DIR: modelPath } : {}),
    ...(props.modelName ? { MODEL_NAME: props.modelName } : {}),
  };
}
