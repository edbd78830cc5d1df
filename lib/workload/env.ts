import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { fail } from '../_errors';
import {
  checkArray,
  checkBrand,
  checkConfigKey,
  checkDnsSubdomain,
  checkEnvFieldPath,
  checkEnvVarName,
  checkMap,
  checkNoInlineCredential,
  checkOptionalBoolean,
  checkOptionalObject,
  checkString,
  keysOf,
} from '../_validate';

const ENV_VALUE = Symbol.for('cdk8s-ml.EnvValue');
const ENV_FROM = Symbol.for('cdk8s-ml.EnvFrom');

/** What a factory was given, as given: checked when a workload uses it (the error then names the workload). */
type EnvSource =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'secret' | 'configMap'; readonly name: unknown; readonly key: unknown; readonly options: unknown }
  | { readonly kind: 'field'; readonly fieldPath: unknown };

const REF_OPTION_KEYS = keysOf<NonNullable<Parameters<typeof EnvValue.fromSecret>[2]>>()(['optional']);

/** The value of one environment variable: a literal, or a reference to a Secret or ConfigMap key. */
export class EnvValue {
  /** A literal value (never a credential: it shows in the manifest). */
  public static fromValue(value: string): EnvValue {
    return new EnvValue({ kind: 'value', value });
  }
  /** A key of a Secret in the stack's namespace. */
  public static fromSecret(secretName: string, key: string, options: { optional?: boolean } = {}): EnvValue {
    return new EnvValue({ kind: 'secret', name: secretName, key, options });
  }
  /** A key of a ConfigMap in the stack's namespace. */
  public static fromConfigMap(configMapName: string, key: string, options: { optional?: boolean } = {}): EnvValue {
    return new EnvValue({ kind: 'configMap', name: configMapName, key, options });
  }
  /** A field of the pod, e.g. 'metadata.name' or 'status.podIP'. */
  public static fromFieldRef(fieldPath: string): EnvValue {
    return new EnvValue({ kind: 'field', fieldPath });
  }
  public static isEnvValue(x: unknown): x is EnvValue {
    return typeof x === 'object' && x !== null && ENV_VALUE in x;
  }

  private constructor(private readonly source: EnvSource) {
    Object.defineProperty(this, ENV_VALUE, { value: true });
  }

  /**
   * Throws for what the API server would reject; `prop` is the variable's, e.g. 'env.TOKEN'.
   * @internal
   */
  public _validate(scope: IConstruct, prop: string): void {
    const s = this.source;
    if (s.kind === 'value') {
      checkString(scope, prop, s.value, { example: "'info'", multiline: true, allowEmpty: true });
    } else if (s.kind === 'field') {
      checkEnvFieldPath(scope, `${prop}.fieldPath`, s.fieldPath);
    } else {
      const what = s.kind === 'secret' ? 'the name of a Secret' : 'the name of a ConfigMap';
      checkDnsSubdomain(
        scope,
        `${prop}.${s.kind === 'secret' ? 'secretName' : 'configMapName'}`,
        s.name,
        what,
        s.kind === 'secret' ? 'api-credentials' : 'app-settings',
      );
      checkConfigKey(scope, `${prop}.key`, s.key);
      const o = checkOptionalObject(scope, `${prop}.options`, s.options ?? undefined, '{ optional: true }', REF_OPTION_KEYS);
      checkOptionalBoolean(scope, `${prop}.optional`, o?.optional);
    }
  }

  /** The literal of a fromValue, else undefined (a reference). @internal */
  public get _literal(): unknown {
    return this.source.kind === 'value' ? this.source.value : undefined;
  }

  /** @internal */
  public _toEnvVar(name: string): k8s.EnvVar {
    const s = this.source;
    if (s.kind === 'value') return { name, value: s.value as string };
    if (s.kind === 'field') return { name, valueFrom: { fieldRef: { fieldPath: s.fieldPath as string } } };
    const optional = (s.options as { optional?: unknown } | null | undefined)?.optional === true;
    const ref = { name: s.name as string, key: s.key as string, ...(optional ? { optional: true } : {}) };
    return { name, valueFrom: s.kind === 'secret' ? { secretKeyRef: ref } : { configMapKeyRef: ref } };
  }
}

/** Env variables: plain strings are literals. */
export type EnvMap = Record<string, string | EnvValue>;

/** Every key of a Secret or ConfigMap as environment variables. */
export class EnvFrom {
  public static secret(name: string, prefix?: string): EnvFrom {
    return new EnvFrom('secret', name, prefix);
  }
  public static configMap(name: string, prefix?: string): EnvFrom {
    return new EnvFrom('configMap', name, prefix);
  }
  public static isEnvFrom(x: unknown): x is EnvFrom {
    return typeof x === 'object' && x !== null && ENV_FROM in x;
  }
  private constructor(
    private readonly kind: 'secret' | 'configMap',
    private readonly name: unknown,
    private readonly prefix: unknown,
  ) {
    Object.defineProperty(this, ENV_FROM, { value: true });
  }

  /**
   * The name is a Secret's or ConfigMap's (DNS-1123 subdomain); the prefix, prepended to every key,
   * must itself be an env variable name (ValidateEnvFrom).
   * @internal
   */
  public _validate(scope: IConstruct, prop: string): void {
    checkDnsSubdomain(scope, `${prop}.name`, this.name, this.kind === 'secret' ? 'the name of a Secret' : 'the name of a ConfigMap', 'app-settings');
    if (this.prefix !== undefined && this.prefix !== '') checkEnvVarName(scope, `${prop}.prefix`, this.prefix);
  }

  /** @internal */
  public get _spec(): k8s.EnvFromSource {
    const ref = { name: this.name as string };
    return { ...(this.kind === 'secret' ? { secretRef: ref } : { configMapRef: ref }), ...(this.prefix ? { prefix: this.prefix as string } : {}) };
  }
}

/**
 * A workload's `env`: a map (not a list) of variable names to literals or EnvValues. A literal is no
 * credential (a secret-shaped name, a URL with user:password@): the manifest, in git, would show it.
 */
export function checkEnv(scope: IConstruct, prop: string, env: unknown): EnvMap | undefined {
  return checkMap(scope, prop, env, "{ LOG_LEVEL: 'info', TOKEN: EnvValue.fromSecret('api', 'token') }", (name, v) => {
    checkEnvVarName(scope, prop, name);
    if (typeof v === 'string') {
      checkString(scope, `${prop}.${name}`, v, { example: "'info'", multiline: true, allowEmpty: true });
      checkNoInlineCredential(scope, `${prop}.${name}`, name, v);
      return v;
    }
    if (!EnvValue.isEnvValue(v))
      fail(
        scope,
        `${prop}.${name}`,
        'must be a string or an EnvValue',
        v,
        "use a string, or EnvValue.fromSecret('name', 'key') / fromConfigMap / fromFieldRef",
      );
    v._validate(scope, `${prop}.${name}`);
    if (typeof v._literal === 'string') checkNoInlineCredential(scope, `${prop}.${name}`, name, v._literal);
    return v;
  });
}

/** A workload's `envFrom`: a list of EnvFrom. */
export function checkEnvFrom(scope: IConstruct, prop: string, envFrom: unknown): EnvFrom[] | undefined {
  return checkArray(scope, prop, envFrom, "[EnvFrom.secret('api-credentials')]", (e, itemProp) => {
    const ef = checkBrand(
      scope,
      itemProp,
      e,
      EnvFrom.isEnvFrom,
      'made with EnvFrom.secret() or EnvFrom.configMap()',
      "EnvFrom.secret('api-credentials')",
    );
    ef._validate(scope, itemProp);
    return ef;
  });
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
    const user = [first, e].find((x) => !LIBRARY_ENV.has(x));
    if (user && [first, e].some((x) => LIBRARY_ENV.has(x))) {
      fail(
        scope,
        `env.${e.name}`,
        `is set by the library from the props and wiring (container '${container.name}' would list it twice: server-side apply rejects ` +
          `the duplicate key)`,
        user.value ?? user.valueFrom,
        `remove env.${e.name}; change the prop it comes from instead`,
      );
    }
    fail(
      scope,
      `env.${e.name}`,
      `is listed twice in container '${container.name}' (server-side apply rejects the duplicate key)`,
      e.value ?? e.valueFrom,
      `set ${e.name} once`,
    );
  }
}
