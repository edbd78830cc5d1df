import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { fail, MlInputError } from '../_errors';
import { checkImageString, IImage } from '../image/_image-build';
import { PythonImage } from '../image/python-image';
import { checkName } from '../_names';
import { ModelSource } from '../model/model-source';
import { defaultName } from '../stack/ml-stack';
import { podIds, runArgv } from '../workload/_pod';
import { composeModelDir, envVars, HealthCheckOptions, MetricsOptions, ServedWorkloadProps, ServerCore, ServerPort } from './_server';
import { IModelServer } from './model-server';
import { ServedWorkload } from './_served-workload';

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
  /** Probes. @default - a TCP check of the main port, 600 s startup window */
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
}

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
    super(scope, id);
    const name = checkName(this, 'name', props.name ?? defaultName(this), 50);
    const image = props.image;
    if (typeof image === 'string') checkImageString(this, 'image', image);
    const port = props.port ?? (typeof image !== 'string' ? image.port : undefined) ?? 8080;
    if (typeof image !== 'string' && image.port !== undefined && props.port !== undefined && props.port !== image.port) {
      fail(this, 'port', `differs from the port the image EXPOSEs (${image.port})`, props.port, "set the port on the image (PythonImage's port option) so image and manifest share one value");
    }
    const { uid, gid } = podIds(this, image, props.uid);
    const modelPath = props.modelPath ?? '/models';
    if (!modelPath.startsWith('/')) fail(this, 'modelPath', 'must be an absolute path', modelPath, "use e.g. '/models'");
    if (props.modelName !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(props.modelName)) {
      fail(this, 'modelName', 'must be letters, digits, _ . - (it is part of URLs)', props.modelName, "use a name such as 'eeg-letters'");
    }
    const model = props.model?._bind(this, modelPath);
    const hc = props.healthCheck ?? {};
    const probe = (path: string | undefined): k8s.Probe => path
      ? { httpGet: { path, port: k8s.IntOrString.fromNumber(port) }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 }
      : { tcpSocket: { port: k8s.IntOrString.fromNumber(port) }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
    if (hc.path !== undefined && !hc.path.startsWith('/')) fail(this, 'healthCheck.path', "must start with '/'", hc.path, `use '/${hc.path}'`);

    this._core = new ServerCore(name, {
      owner: this,
      component: 'model-server',
      props,
      image,
      uid,
      gid,
      fsGroup: gid,
      ports: [{ name: 'http', port }, ...(props.extraPorts ?? [])],
      command: props.command,
      args: props.args,
      env: envVars(props.env, {
        ...(props.model ? { MODEL_DIR: modelPath } : {}),
        ...(props.modelName ? { MODEL_NAME: props.modelName } : {}),
      }),
      readiness: probe(hc.path),
      liveness: { ...probe(hc.livenessPath ?? hc.path), periodSeconds: 20 },
      startupTimeoutSeconds: hc.startupTimeoutSeconds ?? 600,
      model,
      resourceDefaults: { cpu: '500m', cpuLimit: '2', memory: '1Gi', memoryLimit: '2Gi' },
      gpuNodeSelector: props.gpuNodeSelector,
      containerName: 'server',
      metrics: props.metrics,
      compose: {
        ...(props.model && !props.model.image ? { volumes: [{ source: composeModelDir(props.model._composeDir(props.modelName ?? name)), target: modelPath }] } : {}),
        // A PythonImage has python; for another image we cannot know a tool to run a healthcheck with.
        ...(PythonImage.isPythonImage(image) ? { healthcheckWith: 'python' as const } : {}),
      },
    });
    // What the pod runs becomes the CMD of an image the app builds, unless that image names its own.
    if (typeof image !== 'string') image._runWith?.(this, runArgv(props.command, props.args), 'server');
    this.containerPort = port;
    this.modelName = props.modelName;
    this.predictPath = props.predictPath ?? '/predict';
  }

  public predictUrl(model?: string): string {
    if (model !== undefined && model !== this.modelName) {
      throw new MlInputError(`InferenceService '${this.node.path}': predictUrl(${JSON.stringify(model)}) names a model it does not serve (${JSON.stringify(this.modelName)}).`);
    }
    return `${this.url}${this.predictPath}`;
  }
}
