import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { fail } from '../_errors';

const ENV_VALUE = Symbol.for('cdk8s-ml.EnvValue');

/** The value of one environment variable: a literal, or a reference to a Secret or ConfigMap key. */
export class EnvValue {
  /** A literal value (never a credential: it shows in the manifest). */
  public static fromValue(value: string): EnvValue {
    return new EnvValue({ value });
  }
  /** A key of a Secret in the stack's namespace. */
  public static fromSecret(secretName: string, key: string, options: { optional?: boolean } = {}): EnvValue {
    return new EnvValue({ valueFrom: { secretKeyRef: { name: secretName, key, ...(options.optional ? { optional: true } : {}) } } });
  }
  /** A key of a ConfigMap in the stack's namespace. */
  public static fromConfigMap(configMapName: string, key: string, options: { optional?: boolean } = {}): EnvValue {
    return new EnvValue({ valueFrom: { configMapKeyRef: { name: configMapName, key, ...(options.optional ? { optional: true } : {}) } } });
  }
  /** A field of the pod, e.g. 'metadata.name' or 'status.podIP'. */
  public static fromFieldRef(fieldPath: string): EnvValue {
    return new EnvValue({ valueFrom: { fieldRef: { fieldPath } } });
  }
  public static isEnvValue(x: unknown): x is EnvValue {
    return typeof x === 'object' && x !== null && ENV_VALUE in x;
  }

  private constructor(private readonly spec: Omit<k8s.EnvVar, 'name'>) {
    Object.defineProperty(this, ENV_VALUE, { value: true });
  }

  /** @internal */
  public _toEnvVar(name: string): k8s.EnvVar {
    return { name, ...this.spec };
  }
}

/** Env variables: plain strings are literals. */
export type EnvMap = Record<string, string | EnvValue>;

/** Every key of a Secret or ConfigMap as environment variables. */
export class EnvFrom {
  public static secret(name: string, prefix?: string): EnvFrom {
    return new EnvFrom({ secretRef: { name }, ...(prefix ? { prefix } : {}) });
  }
  public static configMap(name: string, prefix?: string): EnvFrom {
    return new EnvFrom({ configMapRef: { name }, ...(prefix ? { prefix } : {}) });
  }
  private constructor(/** @internal */ public readonly _spec: k8s.EnvFromSource) {}
}

export function toEnvVars(env: EnvMap | undefined): k8s.EnvVar[] {
  return Object.entries(env ?? {}).map(([name, v]) => (typeof v === 'string' ? { name, value: v } : v._toEnvVar(name)));
}

/** The entries the library computed (MODEL_DIR, BACKEND_URL, RANK...), as opposed to the user's env. */
const LIBRARY_ENV = new WeakSet<k8s.EnvVar>();

/** Mark variables as set by the library, so a user variable of the same name is reported as such. */
export function libraryEnv(vars: k8s.EnvVar[]): k8s.EnvVar[] {
  for (const v of vars) LIBRARY_ENV.add(v);
  return vars;
}

/** A server's environment: the user's env, then the variables the library computes. */
export function envVars(env: EnvMap | undefined, extra: EnvMap = {}): k8s.EnvVar[] {
  return [...toEnvVars(env), ...libraryEnv(toEnvVars(extra))];
}

/**
 * Every container of a pod lists each variable once. A name listed twice is kept twice by the API
 * server, but server-side apply (Argo CD's ServerSideApply, kubectl apply --server-side) fails on
 * the duplicate key of the list, and client-side apply keeps only one of the two values.
 */
export function checkEnvNames(scope: IConstruct, container: k8s.Container): void {
  const seen = new Map<string, k8s.EnvVar>();
  for (const e of container.env ?? []) {
    const first = seen.get(e.name);
    if (!first) {
      seen.set(e.name, e);
      continue;
    }
    const user = [first, e].find(x => !LIBRARY_ENV.has(x));
    if (user && [first, e].some(x => LIBRARY_ENV.has(x))) {
      fail(scope, `env.${e.name}`, `is set by the library from the props and wiring (container '${container.name}' would list it twice: server-side apply rejects the duplicate key)`,
        user.value ?? user.valueFrom, `remove env.${e.name}; change the prop it comes from instead`);
    }
    fail(scope, `env.${e.name}`, `is listed twice in container '${container.name}' (server-side apply rejects the duplicate key)`, e.value ?? e.valueFrom, `set ${e.name} once`);
  }
}
