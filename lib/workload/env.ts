import { k8s } from 'cdk8s-plus-28';

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
