import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkInt, fail } from '../_errors';
import { checkChildId, checkConfigKey, checkDnsSubdomain, checkMap, checkObject, checkOptionalObject, checkUrlPath, keysOf } from '../_validate';
import { checkName } from '../_names';
import { PythonImage } from '../image/python-image';
import { IWorkload } from '../policy/_network';
import {
  CheckedServedProps,
  checkServedWorkloadProps,
  MetricsOptions,
  SERVED_KEYS,
  ServedWorkloadProps,
  ServerCore,
  ServerSpec,
} from '../serving/_server';
import { IModelServer, isModelServer } from '../serving/model-server';
import { isOpenAiServer } from '../serving/llm-server';
import { ServedWorkload } from '../serving/_served-workload';
import { defaultName } from '../stack/ml-stack';
import { envVars, EnvValue } from '../workload/env';

export interface FlaskFrontendProps extends ServedWorkloadProps {
  /** The web app's build context and recipe; its port and uid are the pods'. */
  readonly image: PythonImage;
  /**
   * The model server it calls. Injects BACKEND_URL (base URL), BACKEND_PREDICT_URL and
   * BACKEND_MODEL_NAME, and the NetworkPolicies that let this frontend, and only it, reach the
   * backend's HTTP port. An LlmServer also injects OPENAI_BASE_URL (<url>/v1) and OPENAI_MODEL.
   * @default - none
   */
  readonly backend?: IModelServer;
  /**
   * Several named backends: { classifier: server } injects CLASSIFIER_URL, CLASSIFIER_PREDICT_URL
   * and CLASSIFIER_MODEL_NAME for each.
   * @default - none
   */
  readonly backends?: Record<string, IModelServer>;
  /** The WSGI application gunicorn serves, module:variable. @default 'app:app' */
  readonly wsgiApp?: string;
  /** gunicorn worker processes. @default 2 */
  readonly workers?: number;
  /** Threads per worker (gthread). @default 4 */
  readonly threads?: number;
  /** Seconds before gunicorn restarts a silent worker; keep above the backend's slowest answer. @default 60 */
  readonly timeoutSeconds?: number;
  /** Path the probes call; must answer 200 without calling the backend. @default '/healthz' */
  readonly healthPath?: string;
  /**
   * The Flask secret key (sessions, CSRF) from a Secret, as FLASK_SECRET_KEY (Flask's
   * `app.config.from_prefixed_env()` reads it as SECRET_KEY). Never from code.
   * @default - none (the app has no sessions)
   */
  readonly secretKey?: { readonly secretName: string; readonly key?: string };
  /**
   * Prometheus scraping of the app's own metrics (e.g. prometheus_flask_exporter on /metrics):
   * scrape annotations on the pods and ingress from Prometheus' namespace on that port.
   * @default - not scraped
   */
  readonly metrics?: MetricsOptions;
}

const SECRET_KEY_KEYS = keysOf<NonNullable<FlaskFrontendProps['secretKey']>>()(['secretName', 'key']);
const FLASK_KEYS = keysOf<FlaskFrontendProps>()([
  ...SERVED_KEYS,
  'image',
  'backend',
  'backends',
  'wsgiApp',
  'workers',
  'threads',
  'timeoutSeconds',
  'healthPath',
  'secretKey',
  'metrics',
]);

/**
 * A Python web app in front of model servers: gunicorn (never Flask's development server), a
 * Deployment and Service with the servers' replica/autoscaling/PDB/probe/security machinery, the
 * backends' URLs as environment and the NetworkPolicies that admit exactly this pair.
 */
export class FlaskFrontend extends ServedWorkload implements IWorkload {
  /** The environment the backends inject, name -> value. */
  public readonly backendEnv: Record<string, string>;
  /** @internal */
  public readonly _core: ServerCore;

  constructor(scope: Construct, id: string, props: FlaskFrontendProps) {
    super(scope, checkChildId(scope, id, 'FlaskFrontend'));
    checkObject(this, 'props', props, "{ image: PythonImage.fromDirectory('web', { repository, tag }), backend: server }", FLASK_KEYS);
    const image = this.checkImage(props.image);
    const checked = checkServedWorkloadProps(this, props);
    const name = checkName(this, 'name', props.name ?? defaultName(this), 50);
    this.checkWiringProps(props);
    const backends = this.backendsOf(props);
    const { wsgiApp, healthPath } = this.checkGunicornProps(props);
    const { env, composeEnv } = this.backendEnvOf(backends);
    this.backendEnv = env;
    const command = gunicornCommand(image.port, props, wsgiApp);
    this._core = new ServerCore(name, {
      ...this.serverSpec(props, checked, image, command, healthPath),
      compose: { environment: composeEnv, dependsOn: Object.values(backends).map((b) => b.workloadName), healthcheckWith: 'python' },
    });
    // The image's CMD is this command unless the image names its own (PythonImage.command).
    image._runWith(this, command, 'server');
    for (const server of Object.values(backends)) server.allowFrom(this);
  }

  private checkImage(image: unknown): PythonImage {
    if (!PythonImage.isPythonImage(image)) {
      fail(
        this,
        'image',
        'must be a PythonImage (the frontend is built from its source)',
        image,
        "use PythonImage.fromDirectory('web', { repository, tag })",
      );
    }
    image._validate(this);
    return image;
  }

  /** `backend` and `backends` in one map; `backend` is the unprefixed one. */
  private backendsOf(props: FlaskFrontendProps): Record<string, IModelServer> {
    const backends: Record<string, IModelServer> = { ...(props.backend ? { backend: props.backend } : {}), ...props.backends };
    if (props.backend && props.backends && 'backend' in props.backends) {
      fail(this, 'backends.backend', "clashes with the 'backend' prop (both would set BACKEND_URL)", 'backend', 'rename the entry in backends');
    }
    return backends;
  }

  private checkGunicornProps(props: FlaskFrontendProps): { wsgiApp: string; healthPath: string } {
    const wsgiApp = props.wsgiApp ?? 'app:app';
    if (typeof wsgiApp !== 'string' || !/^[A-Za-z_][\w.]*:[A-Za-z_]\w*(\([^\u0000-\u001f]*\))?$/.test(wsgiApp))
      fail(this, 'wsgiApp', 'must be module:variable', wsgiApp, "use e.g. 'app:app' or 'mypkg.web:create_app()'");
    checkInt(this, 'workers', props.workers, 1, 64);
    checkInt(this, 'threads', props.threads, 1, 256);
    checkInt(this, 'timeoutSeconds', props.timeoutSeconds, 1, 3600);
    const healthPath = checkUrlPath(this, 'healthPath', props.healthPath ?? '/healthz', { query: true });
    return { wsgiApp, healthPath };
  }

  /** The backends' URLs (and an LLM server's OpenAI settings) in the cluster and, locally, at compose names. */
  private backendEnvOf(backends: Record<string, IModelServer>): { env: Record<string, string>; composeEnv: Record<string, string> } {
    const env: Record<string, string> = {};
    const composeEnv: Record<string, string> = {};
    for (const [key, server] of Object.entries(backends)) {
      if (!/^[a-z][a-zA-Z0-9]*$/.test(key))
        fail(this, `backends.${key}`, 'must be a camelCase name (it becomes an env variable prefix)', key, "use a name such as 'classifier'");
      const prefix = key === 'backend' ? 'BACKEND' : key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
      const local = `http://${server.workloadName}:${server.containerPort}`;
      env[`${prefix}_URL`] = server.url;
      composeEnv[`${prefix}_URL`] = local;
      if (isOpenAiServer(server)) {
        // What the OpenAI SDKs read (OpenAI() takes OPENAI_BASE_URL itself); named backends get a prefix.
        const openAi = key === 'backend' ? 'OPENAI' : `${prefix}_OPENAI`;
        env[`${openAi}_BASE_URL`] = server.openAiBaseUrl;
        env[`${openAi}_MODEL`] = server.modelName;
        composeEnv[`${openAi}_BASE_URL`] = `${local}/v1`;
        composeEnv[`${openAi}_MODEL`] = server.modelName;
      }
      if (server.modelName !== undefined) {
        env[`${prefix}_PREDICT_URL`] = server.predictUrl();
        env[`${prefix}_MODEL_NAME`] = server.modelName;
        composeEnv[`${prefix}_PREDICT_URL`] = local + server.predictUrl().slice(server.url.length);
        composeEnv[`${prefix}_MODEL_NAME`] = server.modelName;
      }
    }
    return { env, composeEnv };
  }

  private serverSpec(
    props: FlaskFrontendProps,
    checked: CheckedServedProps,
    image: PythonImage,
    command: string[],
    healthPath: string,
  ): Omit<ServerSpec, 'compose'> {
    const secretEnv: Record<string, EnvValue> = props.secretKey
      ? { FLASK_SECRET_KEY: EnvValue.fromSecret(props.secretKey.secretName, props.secretKey.key ?? 'secret-key') }
      : {};
    const probe = (period: number): k8s.Probe => ({
      httpGet: { path: healthPath, port: k8s.IntOrString.fromNumber(image.port) },
      periodSeconds: period,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
    return {
      owner: this,
      component: 'frontend',
      props,
      checked,
      image,
      uid: image.uid,
      gid: image.gid,
      fsGroup: image.gid,
      ports: [{ name: 'http', port: image.port }],
      command,
      // The secret key and the backends' URLs are the library's: a user variable of the same name fails.
      env: envVars(props.env, { ...secretEnv, ...this.backendEnv }),
      readiness: probe(10),
      liveness: probe(20),
      startupTimeoutSeconds: 120,
      resourceDefaults: { cpu: '250m', cpuLimit: '1', memory: '256Mi', memoryLimit: '512Mi' },
      containerName: 'web',
      metrics: props.metrics,
    };
  }

  /** The backends are model servers of this library; the secret key names a Secret's key. */
  private checkWiringProps(props: FlaskFrontendProps): void {
    const example = 'backend: server (an InferenceService or TfServingBackend)';
    if (props.backend !== undefined && !isModelServer(props.backend))
      fail(this, 'backend', 'must be a model server (InferenceService or TfServingBackend)', props.backend, `pass the server object: ${example}`);
    checkMap(this, 'backends', props.backends, '{ classifier: server }', (key, server) => {
      if (!isModelServer(server))
        fail(this, `backends.${key}`, 'must be a model server (InferenceService or TfServingBackend)', server, `pass the server object: ${example}`);
      return server;
    });
    const sk = checkOptionalObject(this, 'secretKey', props.secretKey, "{ secretName: 'web-secret', key: 'secret-key' }", SECRET_KEY_KEYS);
    if (sk) {
      checkDnsSubdomain(this, 'secretKey.secretName', sk.secretName, 'the name of a Secret', 'web-secret');
      if (sk.key !== undefined) checkConfigKey(this, 'secretKey.key', sk.key);
    }
  }
}

/** gunicorn (never Flask's development server) on the image's port. */
function gunicornCommand(port: number, props: FlaskFrontendProps, wsgiApp: string): string[] {
  return [
    'gunicorn',
    '--bind',
    `0.0.0.0:${port}`,
    '--workers',
    String(props.workers ?? 2),
    '--threads',
    String(props.threads ?? 4),
    '--timeout',
    String(props.timeoutSeconds ?? 60),
    // /tmp is the writable emptyDir; gunicorn's heartbeat files go there.
    '--worker-tmp-dir',
    '/tmp',
    '--access-logfile',
    '-',
    wsgiApp,
  ];
}
