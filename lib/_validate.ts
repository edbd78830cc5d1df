/**
 * The checks every public prop goes through, one per kind of value, so each construct calls the
 * same ones and every rejection reads the same way (an MlValidationError naming the construct path,
 * the prop, the value and the fix; see lib/_errors.ts). TypeScript users are protected by the
 * compiler, JavaScript users, configs loaded from JSON/YAML and `as any` are not: every check
 * starts with the value's type.
 *
 * Shape: `isX(value)` is the predicate, `checkX(scope, prop, value, ...)` throws or returns the
 * value typed. `checkX` accepts undefined only where its name says Optional (or it says so).
 * Rules are the API server's where one exists (the comment says where it is written); where the
 * library is stricter (strings that reach a Dockerfile, a shell or a compose file), it says why.
 *
 * Append-friendly: new checks go at the end of the file.
 */
import { isIP } from 'node:net';
import { IConstruct } from 'constructs';
import { checkInt, checkPort, describe, fail, MlInputError } from './_errors';
import { isDns1123Label, isDns1123Subdomain, isLabelValue, isQualifiedName } from './rules/dns';
import { isReferenceOnly, isSecretShapedEnvName, maskSecret } from './rules/credentials';
import { parseQuantity } from './rules/quantity';
import { urlCredentialsIn } from './rules/url';

export { checkInt, checkPort };
// The readings of names and quantities live in lib/rules, shared with `cdk8s-ml check`; the old names stay importable.
export { isDns1123Label as isDnsLabel, isDns1123Subdomain as isDnsSubdomain, isLabelValue, isQualifiedName, parseQuantity };

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/** An object with props (not null, not an array, not a function). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A required object of props, e.g. a construct's props; with `keys` (a keysOf list), no other key (checkKnownKeys). */
export function checkObject(scope: IConstruct, prop: string, v: unknown, example: string, keys?: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(v)) fail(scope, prop, 'must be an object of options', v, `pass an object, e.g. ${example}`);
  if (keys) checkKnownKeys(scope, prop, v, keys);
  return v;
}

/** An optional object of options: undefined, or an object (of `keys` only, when given). */
export function checkOptionalObject(
  scope: IConstruct,
  prop: string,
  v: unknown,
  example: string,
  keys?: readonly string[],
): Record<string, unknown> | undefined {
  return v === undefined ? undefined : checkObject(scope, prop, v, example, keys);
}

/** An optional list; `each` checks (and may convert) every item, reported as `prop[i]`. */
export function checkArray<T>(
  scope: IConstruct,
  prop: string,
  v: unknown,
  example: string,
  each: (item: unknown, itemProp: string) => T,
): T[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) fail(scope, prop, 'must be a list', v, `pass a list, e.g. ${example}`);
  return v.map((item, i) => each(item, `${prop}[${i}]`));
}

/** An optional map of string keys; `each` checks every entry. */
export function checkMap<T>(
  scope: IConstruct,
  prop: string,
  v: unknown,
  example: string,
  each: (key: string, value: unknown) => T,
): Record<string, T> | undefined {
  if (v === undefined) return undefined;
  if (!isPlainObject(v)) fail(scope, prop, 'must be an object of key: value entries', v, `pass an object, e.g. ${example}`);
  const out: Record<string, T> = {};
  for (const [k, value] of Object.entries(v)) out[k] = each(k, value);
  return out;
}

export function checkOptionalBoolean(scope: IConstruct, prop: string, v: unknown): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean')
    fail(
      scope,
      prop,
      'must be true or false',
      v,
      `write ${prop}: ${v === 'false' || v === 0 ? 'false' : 'true'} (a boolean, not a string or number)`,
    );
  return v as boolean | undefined;
}

/** A string or number as text, anything else ''; for values computed before their check runs (it reports them). */
export function asText(x: unknown): string {
  return typeof x === 'string' || typeof x === 'number' ? String(x) : '';
}

/** One of a fixed set of strings (an enum). */
export function checkOneOf<T extends string>(scope: IConstruct, prop: string, v: unknown, values: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !values.includes(v as T))
    fail(scope, prop, `must be one of ${values.map((x) => `'${x}'`).join(', ')}`, v, `use '${values[0]}'`);
  return v as T;
}

/**
 * A value made by one of the library's factories, told by its brand (`Symbol.for`), not instanceof:
 * an object literal of the right shape is not one (its internals would never have been checked).
 */
export function checkBrand<T>(scope: IConstruct, prop: string, v: unknown, is: (x: unknown) => x is T, what: string, example: string): T {
  if (!is(v)) fail(scope, prop, `must be ${what}`, v, `use ${example}`);
  return v;
}

/** Characters that never belong in a one-line value: C0/C1 controls (a tab, a newline), DEL, lone surrogates. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * Characters outside YAML's printable set (YAML 1.2 §5.1 c-printable) that JSON leaves unescaped:
 * DEL, the C1 controls but NEL, U+FFFE and U+FFFF. Server-side apply decodes the object it is sent
 * (JSON, as kubectl and Argo CD send it) with a YAML reader (sigs.k8s.io/yaml on go-yaml), which
 * refuses them: "yaml: control characters are not allowed" (seen on kube-apiserver v1.36). The
 * escaped C0 controls of JSON (\u0006) pass.
 */
const NOT_YAML_PRINTABLE = /[\u007f-\u0084\u0086-\u009f\ufffe\uffff]/;

export interface StringOptions {
  /** e.g. "'api.example.com'" for the fix. */
  readonly example: string;
  /** Newlines and tabs allowed (a literal env value, a shell script in args). NUL never is. @default false */
  readonly multiline?: boolean;
  /** @default false */
  readonly allowEmpty?: boolean;
  /** @default 65536 */
  readonly maxLength?: number;
}

/**
 * A required string. One line by default: anything that reaches a Dockerfile (one instruction a
 * line), a shell or a compose file must not carry a newline or control character that starts a
 * new instruction or value. Lone UTF-16 surrogates are rejected everywhere: they cannot be written
 * as UTF-8, so the file would hold something else than the value.
 */
export function checkString(scope: IConstruct, prop: string, v: unknown, o: StringOptions): string {
  if (typeof v !== 'string') fail(scope, prop, 'must be a string', v, `pass a string, e.g. ${o.example}`);
  if (v === '' && !o.allowEmpty) fail(scope, prop, 'must not be empty', v, `pass e.g. ${o.example}`);
  const max = o.maxLength ?? 65536;
  if (v.length > max) fail(scope, prop, `must be at most ${max} characters`, v, `shorten it, e.g. ${o.example}`);
  if (LONE_SURROGATE.test(v) || v.includes('\u0000') || (!o.multiline && CONTROL.test(v))) {
    fail(
      scope,
      prop,
      o.multiline ? 'must not contain NUL or unpaired surrogate characters' : 'must be one line without control characters (no newline, tab or NUL)',
      v,
      `remove the control characters, e.g. ${o.example}`,
    );
  }
  if (o.multiline && NOT_YAML_PRINTABLE.test(v)) {
    fail(
      scope,
      prop,
      'must not contain DEL, C1 control characters (U+0080-U+009F) or U+FFFE/U+FFFF: server-side apply (kubectl apply --server-side, ' +
        'Argo CD ServerSideApply) refuses them as YAML control characters',
      v,
      `remove them, e.g. ${o.example}`,
    );
  }
  return v;
}

/**
 * An argv list (command or args): strings, as the container runtime passes them to exec. Newlines
 * are allowed (a `sh -c` script); NUL is not (exec takes C strings).
 */
export function checkArgv(scope: IConstruct, prop: string, v: unknown, o: { nonEmpty?: boolean; example: string }): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) fail(scope, prop, 'must be a list of strings (one per argument)', v, `pass a list, e.g. ${o.example}`);
  if (o.nonEmpty && v.length === 0)
    fail(scope, prop, 'must not be empty', v, `leave it out to run the image's, or give the process to start, e.g. ${o.example}`);
  v.forEach((a, i) => {
    checkString(scope, `${prop}[${i}]`, a, { example: o.example, multiline: true, allowEmpty: true });
    checkNoUrlCredentials(
      scope,
      `${prop}[${i}]`,
      a,
      "set the password in env from a Secret (DB_PASSWORD: EnvValue.fromSecret('api-credentials', 'password')) and write " +
        "'$(DB_PASSWORD)' in the URL: Kubernetes expands $(VAR) in command and args",
    );
  });
  return v as string[];
}

// ---------------------------------------------------------------------------
// Names and keys (k8s.io/apimachinery/pkg/util/validation/validation.go)
// ---------------------------------------------------------------------------

/** A suggestion for a name: lowercased, anything else '-'. */
function nameSuggestion(v: unknown, fallback: string): string {
  const s =
    typeof v === 'string'
      ? v
          .toLowerCase()
          .replace(/[^a-z0-9.-]+/g, '-')
          .replace(/^[-.]+|[-.]+$/g, '')
          .slice(0, 63)
          .replace(/[-.]+$/, '')
      : '';
  return s || fallback;
}

/** A namespace (or other DNS-1123 label) name. */
export function checkDnsLabel(scope: IConstruct, prop: string, v: unknown, what: string, example: string): string {
  if (!isDns1123Label(v)) {
    fail(
      scope,
      prop,
      `must be ${what}: a DNS-1123 label (lowercase letters, digits and '-', alphanumeric at both ends, at most 63 characters)`,
      v,
      `use e.g. '${nameSuggestion(v, example)}'`,
    );
  }
  return v;
}

/** The name of a Secret, ConfigMap, claim or class the manifests refer to. */
export function checkDnsSubdomain(scope: IConstruct, prop: string, v: unknown, what: string, example: string): string {
  if (!isDns1123Subdomain(v)) {
    fail(
      scope,
      prop,
      `must be ${what}: a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', alphanumeric at both ends, at most 253 characters)`,
      v,
      `use the object's name as kubectl shows it, e.g. '${nameSuggestion(v, example)}'`,
    );
  }
  return v;
}

/** hasChDirPrefix: '.', '..' and names starting with '..' are rejected for keys and env names. */
function isChDir(v: string): boolean {
  return v === '.' || v === '..' || v.startsWith('..');
}

/** IsConfigMapKey: keys of ConfigMaps and Secrets, `[-._a-zA-Z0-9]+`, at most 253, not '.' or '..'. */
export function isConfigKey(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(v) && !isChDir(v);
}

export function checkConfigKey(scope: IConstruct, prop: string, v: unknown): string {
  if (!isConfigKey(v)) {
    fail(
      scope,
      prop,
      "must be a key of a Secret or ConfigMap (letters, digits, '-', '_' and '.', at most 253, not '.' or '..')",
      v,
      "use the key as `kubectl describe` lists it, e.g. 'password' or 'config.json'",
    );
  }
  return v;
}

/**
 * IsEnvVarName as of Kubernetes v1.28, the rule our output check applies: `[-._a-zA-Z][-._a-zA-Z0-9]*`
 * (not '.', '..' or starting with '..'). v1.30 relaxed it to any printable ASCII but '=' (the
 * RelaxedEnvironmentVariableValidation gate), so a name valid there can still be rejected by 1.28-1.29 clusters.
 */
export function isEnvVarName(v: unknown): v is string {
  return typeof v === 'string' && /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(v) && !isChDir(v);
}

export function checkEnvVarName(scope: IConstruct, prop: string, v: unknown): string {
  if (!isEnvVarName(v)) {
    fail(
      scope,
      prop,
      "names a variable Kubernetes rejects: an environment variable name is ASCII letters, digits, '_', '-' and '.', not starting with a digit",
      v,
      "rename it, e.g. 'MODEL_NAME'",
    );
  }
  return v;
}

const KEY_RULE = "an optional DNS prefix and '/', then a name of at most 63 of [A-Za-z0-9._-], alphanumeric at both ends";

/** Labels or a node selector: qualified-name keys, label values (ValidateLabels). */
export function checkLabels(
  scope: IConstruct,
  prop: string,
  v: unknown,
  example = "{ 'cloud.google.com/gke-nodepool': 'gpu' }",
): Record<string, string> | undefined {
  return checkMap(scope, prop, v, example, (k, value) => {
    if (!isQualifiedName(k))
      fail(
        scope,
        prop,
        `has a key that is not a valid Kubernetes label key (${KEY_RULE})`,
        k,
        `use keys such as 'app.kubernetes.io/name' or 'pool', e.g. ${example}`,
      );
    checkRenderableKey(scope, prop, k);
    if (!isLabelValue(value))
      fail(
        scope,
        `${prop}.${k}`,
        'must be a valid Kubernetes label value (a string of at most 63 of [A-Za-z0-9._-], alphanumeric at both ends, or empty)',
        value,
        `use a value such as 'gpu' or 'v1'`,
      );
    return value;
  });
}

/**
 * Annotations: keys are qualified names compared lowercased (ValidateAnnotations), values any
 * string; all of them together at most 256 KiB (TotalAnnotationSizeLimitB).
 */
export function checkAnnotations(
  scope: IConstruct,
  prop: string,
  v: unknown,
  example = "{ 'example.com/owner': 'ml-team' }",
): Record<string, string> | undefined {
  let size = 0;
  const out = checkMap(scope, prop, v, example, (k, value) => {
    if (!isQualifiedName(k.toLowerCase()))
      fail(scope, prop, `has a key that is not an annotation key (${KEY_RULE})`, k, `use keys such as 'prometheus.io/scrape', e.g. ${example}`);
    checkRenderableKey(scope, prop, k);
    const s = checkString(scope, `${prop}.${k}`, value, { example: "'true'", multiline: true, allowEmpty: true, maxLength: 262144 });
    size += k.length + s.length;
    return s;
  });
  if (size > 262144)
    fail(
      scope,
      prop,
      'must total at most 256 KiB (the API server limit of all annotations of an object)',
      `${size} bytes`,
      'move large values to a ConfigMap',
    );
  return out;
}

// ---------------------------------------------------------------------------
// Quantities (k8s.io/apimachinery/pkg/api/resource/quantity.go)
// ---------------------------------------------------------------------------

/**
 * A positive quantity of bytes (memory, storage, a size limit). `what` names it in the message
 * ('a memory quantity'). A milli suffix is rejected: '500m' of memory is half a byte, which
 * Kubernetes accepts and no container runs in.
 */
export function checkQuantity(scope: IConstruct, prop: string, v: unknown, what: string, example: string): string {
  const n = parseQuantity(v);
  if (n === undefined || n <= 0 || /[mnu]$/.test(v as string)) {
    fail(
      scope,
      prop,
      `must be ${what} such as '${example}'`,
      v,
      `use a binary suffix: '512Mi', '${example}' (Kubernetes rejects 'GB' and spaces; 'm' is milli)`,
    );
  }
  return v as string;
}

/** Memory of a container: "must be a memory quantity such as '512Mi' or '2Gi'". */
export function checkMemory(scope: IConstruct, prop: string, v: unknown): string {
  return checkQuantity(scope, prop, v, "a memory quantity such as '512Mi' or", '2Gi');
}

/** An optional size (emptyDir sizeLimit, /dev/shm). */
export function checkOptionalSize(scope: IConstruct, prop: string, v: unknown, example = '10Gi'): string | undefined {
  return v === undefined ? undefined : checkQuantity(scope, prop, v, 'a size', example);
}

/** CPU: cores ('2', '0.5', 2) or millicores ('500m'), positive; returns the quantity string. */
export function checkCpu(scope: IConstruct, prop: string, v: unknown): string {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  const n = parseQuantity(s);
  // Cores or whole millicores: Kubernetes rounds finer values up to 1m, and reads '1k' or '1Ki' as a thousand cores.
  if (n === undefined || n <= 0 || !/^(\d+(\.\d+)?|\.\d+|\d+m)$/.test(s as string)) {
    fail(scope, prop, "must be a CPU quantity such as '500m' or '2'", v, "write cores ('2', '0.5') or millicores ('500m')");
  }
  return s as string;
}

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

/**
 * The characters a path of the library may hold: letters, digits and `._-@+=,~`. Kubernetes
 * accepts more in a mountPath, but the same path is a compose bind target (where `$` is
 * interpolated), an env value (MODEL_DIR) and a shell argument; anything else is almost surely a typo.
 */
const PATH_SEGMENT = /^[A-Za-z0-9._@+=,~-]+$/;

export interface AbsolutePathOptions {
  readonly example: string;
  /** Paths that are taken (e.g. '/tmp', the pod's scratch volume). @default - none but '/' */
  readonly reserved?: readonly string[];
}

/**
 * An absolute path inside a container (mountPath, modelDir): starts with '/', is not '/', has no
 * '..' segment (validatePathNoBacksteps in the API server) and no empty or '.' segment.
 */
export function checkAbsolutePath(scope: IConstruct, prop: string, v: unknown, o: AbsolutePathOptions): string {
  const reserved = ['/', ...(o.reserved ?? [])];
  const ok =
    typeof v === 'string' &&
    v.startsWith('/') &&
    v.length <= 4096 &&
    v
      .slice(1)
      .replace(/\/$/, '')
      .split('/')
      .every((seg) => PATH_SEGMENT.test(seg) && seg !== '.' && seg !== '..');
  if (!ok || reserved.includes((v as string).replace(/\/+$/, '') || '/')) {
    fail(
      scope,
      prop,
      `must be an absolute path other than ${reserved.join(' and ')}`,
      v,
      `use e.g. '${o.example}' (segments of letters, digits and ._-@+=,~; no '..')`,
    );
  }
  return v as string;
}

/** A path relative to a claim, a build context or a directory: no leading '/', no '..' segment. */
export function checkRelativePath(scope: IConstruct, prop: string, v: unknown, example: string): string {
  const ok =
    typeof v === 'string' &&
    v.length > 0 &&
    v.length <= 4096 &&
    !v.startsWith('/') &&
    v
      .replace(/\/$/, '')
      .split('/')
      .every((seg) => PATH_SEGMENT.test(seg) && seg !== '.' && seg !== '..');
  if (!ok)
    fail(
      scope,
      prop,
      "must be a relative path (segments of letters, digits and ._-@+=,~; no leading '/', no '..')",
      v,
      `write it relative to its root, e.g. '${example}'`,
    );
  return v as string;
}

/**
 * An HTTP path (probes, metrics, Ingress): starts with '/', then the characters RFC 3986 allows in
 * a path (unreserved, sub-delims, ':', '@', '%'-escapes). `query`: a '?query' may follow (probes).
 * `ingress`: an Ingress Prefix path, which the API server rejects with '//' or a '.'/'..' segment
 * (validateIngressHTTPRuleValue), and ingress-nginx (strict path validation, the default since
 * v1.12) with anything but letters, digits and `-._~/`.
 */
export function checkUrlPath(scope: IConstruct, prop: string, v: unknown, o: { query?: boolean; ingress?: boolean } = {}): string {
  const path = o.ingress ? /^\/[A-Za-z0-9\-._~/]*$/ : /^\/([A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
  const [p, ...q] = typeof v === 'string' ? v.split('?') : [];
  const ok =
    typeof v === 'string' &&
    v.length <= 2048 &&
    path.test(p) &&
    (q.length === 0 || (o.query === true && q.length === 1 && /^([A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/.test(q[0]))) &&
    (!o.ingress || !/\/\/|\/\.\.?(\/|$)/.test(p));
  if (!ok) {
    // The usual mistake first, in the words of the other checks: 'healthz' for '/healthz'.
    if (typeof v === 'string' && v !== '' && !v.startsWith('/') && !/[\s\u0000-\u001f]/.test(v))
      fail(scope, prop, "must start with '/'", v, `use '/${v}' (start the path with '/')`);
    const fix = "use a path such as '/healthz'";
    const chars = o.ingress
      ? "letters, digits and -._~/, no '//' and no '.' or '..' segment"
      : `RFC 3986 path characters${o.query ? ', optionally a ?query' : ''}`;
    fail(scope, prop, `must be an HTTP path starting with '/' (${chars})`, v, fix);
  }
  return v as string;
}

// ---------------------------------------------------------------------------
// Images (the distribution reference grammar: github.com/distribution/reference, reference.go)
// ---------------------------------------------------------------------------

export interface ImageReference {
  /** Registry host and optional port, when the reference names one. */
  readonly domain?: string;
  /** Repository path below the domain. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[_.]|__|[-]+)[a-z0-9]+)*';
const REFERENCE = new RegExp(
  // [domain/]path[:tag][@algorithm:hex digest]
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?` +
    '(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$',
);

/**
 * Parse an image reference: `[domain/]path[:tag][@digest]`. The first component is a domain only
 * when it has a '.' or ':' or is 'localhost' (ParseNormalizedNamed's rule), as Docker reads it.
 * The name (domain and path) is at most 255 characters.
 */
export function parseImageReference(v: unknown): ImageReference | undefined {
  if (typeof v !== 'string') return undefined;
  const m = REFERENCE.exec(v);
  if (!m) {
    // An uppercase first component is valid only as a domain ('Registry.example.com/app').
    return undefined;
  }
  let [, domain, path] = m;
  const [, , , tag, digest] = m;
  if (domain && !/[.:]/.test(domain) && domain !== 'localhost' && !domain.startsWith('[')) {
    // 'team/app': 'team' is a path component, not a registry.
    if (!/^[a-z0-9]+(?:(?:[_.]|__|[-]+)[a-z0-9]+)*$/.test(domain)) return undefined;
    path = `${domain}/${path}`;
    domain = undefined as unknown as string;
  }
  if ((domain ? domain.length + 1 : 0) + path.length > 255) return undefined;
  return { ...(domain ? { domain } : {}), path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/**
 * An image reference the manifests (or a Dockerfile's FROM) use. `pinned`: a tag other than
 * 'latest', or a digest, so every rollout is a visible change (DESIGN, principle 6).
 */
export function checkImageReference(scope: IConstruct, prop: string, v: unknown, o: { pinned: boolean; example?: string }): string {
  const example = o.example ?? 'registry.example.com/api:1.0.0';
  const ref = parseImageReference(v);
  if (!ref) {
    fail(scope, prop, 'must be an image reference: [registry/]repository[:tag][@digest], lowercase repository, one line', v, `use e.g. '${example}'`);
  }
  if (o.pinned && !ref.digest && (!ref.tag || ref.tag === 'latest')) {
    fail(
      scope,
      prop,
      "must be an image reference pinned to a version tag (not 'latest') or a digest",
      v,
      `append a version, e.g. '${example}', so each rollout is a visible change`,
    );
  }
  return v as string;
}

// ---------------------------------------------------------------------------
// Downward API (pkg/apis/core/validation/validation.go: validEnvDownwardAPIFieldPathExpressions, v1.28)
// ---------------------------------------------------------------------------

const ENV_FIELD_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.podIP',
  'status.podIPs',
];

/** A fieldRef path an env variable may read: the list above, or one label or annotation by key. */
export function isEnvFieldPath(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  if (ENV_FIELD_PATHS.includes(v)) return true;
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(v);
  return m !== null && isQualifiedName(m[1] === 'annotations' ? m[2].toLowerCase() : m[2]);
}

export function checkEnvFieldPath(scope: IConstruct, prop: string, v: unknown): string {
  if (!isEnvFieldPath(v)) {
    fail(
      scope,
      prop,
      `must be a pod field the downward API gives env (${ENV_FIELD_PATHS.join(', ')}, metadata.labels['<key>'] or metadata.annotations['<key>'])`,
      v,
      "use e.g. 'metadata.name' or 'status.podIP'",
    );
  }
  return v;
}

// ---------------------------------------------------------------------------
// Int or percent (k8s.io/kubernetes pkg/apis/apps/validation: ValidatePositiveIntOrPercent)
// ---------------------------------------------------------------------------

/** A count (whole number >= 0) or a percent string ('25%'); returns it and whether it is zero. */
export function checkIntOrPercent(
  scope: IConstruct,
  prop: string,
  v: unknown,
  o: { maxPercent?: number; max?: number } = {},
): { value: number | string; zero: boolean } {
  const max = o.max ?? 2147483647;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > max)
      fail(scope, prop, `must be a whole number from 0 to ${max} or a percent string such as '25%'`, v, "use e.g. 1 or '25%'");
    return { value: v, zero: v === 0 };
  }
  const m = typeof v === 'string' ? /^(\d{1,10})%$/.exec(v) : null;
  if (!m || (o.maxPercent !== undefined && Number(m[1]) > o.maxPercent)) {
    fail(
      scope,
      prop,
      `must be a whole number or a percent string such as '25%'${o.maxPercent !== undefined ? ` (at most ${o.maxPercent}%)` : ''}`,
      v,
      "use e.g. 1 or '25%'",
    );
  }
  return { value: v as string, zero: Number(m[1]) === 0 };
}

// ---------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------

/**
 * An IPv4 or IPv6 CIDR (loadBalancerSourceRanges: the API server parses each with net.ParseCIDR).
 * Leading zeros in IPv4 octets are rejected (Go's parser does since 1.17).
 */
export function isCidr(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(v);
  if (!m) return false;
  const family = isIP(m[1]);
  if (family === 0 || (family === 4 && /(^|\.)0\d/.test(m[1]))) return false;
  return Number(m[2]) <= (family === 4 ? 32 : 128);
}

export function checkCidr(scope: IConstruct, prop: string, v: unknown): string {
  if (!isCidr(v)) fail(scope, prop, 'must be an IPv4 or IPv6 CIDR', v, "use e.g. '203.0.113.0/24' or '2001:db8::/32'");
  return v;
}

/** An https:// (or http://) URL: scheme, host, optional port and path; one line. */
export function checkHttpUrl(scope: IConstruct, prop: string, v: unknown, example: string): string {
  checkNoUrlCredentials(scope, prop, v, `remove the user and password from the URL (e.g. '${example}') and give the credentials from a Secret`);
  if (typeof v !== 'string' || !/^https?:\/\/[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:\d{1,5})?(\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)?$/.test(v)) {
    fail(scope, prop, 'must be an http:// or https:// URL', v, `use e.g. '${example}'`);
  }
  return v;
}

// ---------------------------------------------------------------------------
// Construct ids
// ---------------------------------------------------------------------------

/**
 * The id of a construct created under `scope`, checked before the construct exists (so the error
 * names the parent): a non-empty string. constructs would otherwise throw its own "Only root
 * constructs may have an empty ID" (or a TypeError for a number), naming neither.
 */
export function checkChildId(scope: IConstruct, id: unknown, kind: string): string {
  if (typeof scope !== 'object' || scope === null || typeof (scope as { node?: unknown }).node !== 'object') {
    throw new MlInputError(
      `${kind}: the scope (first argument) must be a construct, an MlStack or a construct inside one, got ${describe(scope)}. Fix: pass ` +
        `the stack, e.g. new ${kind}(stack, 'id', props).`,
    );
  }
  if (typeof id !== 'string' || id === '') {
    fail(
      scope,
      'id',
      `of a new ${kind} must be a non-empty string (it names the construct in the tree, '${scope.node.path || '<app>'}/<id>', and its objects)`,
      id,
      `pass an id such as 'api' as the second argument of new ${kind}(scope, id, props)`,
    );
  }
  // constructs would throw a plain "There is already a Construct with name ..." naming no prop:
  // for a sibling's id, and for any property every JavaScript object has (its children are a plain
  // object, and it tests `id in children`).
  if (id in {}) {
    fail(
      scope,
      'id',
      `of a new ${kind} cannot be '${id}': the constructs library keeps children in a plain object, which already has a property of that name`,
      id,
      `use another id, e.g. '${id}-1'`,
    );
  }
  // tryFindChild, not a search of node.children: a stack of 20,000 workloads made that quadratic (npm run bench).
  const other = scope.node.tryFindChild(id);
  if (other) {
    fail(
      scope,
      'id',
      `of a new ${kind} is already the id of ${other.constructor?.name ?? 'a construct'} '${other.node.path}' (ids are unique among the ` +
        `children of one scope)`,
      id,
      `give the new ${kind} an id of its own, e.g. '${id}-2'`,
    );
  }
  return id;
}

// ---------------------------------------------------------------------------
// Autoscaling (pkg/apis/autoscaling/validation/validation.go: validateMetricIdentifier, validateMetricTarget)
// ---------------------------------------------------------------------------

/**
 * The name of a Pods or External metric. The API server's rule is IsValidPathSegmentName (the name
 * is a segment of the custom/external metrics API URL): not '.' or '..', no '/' or '%'. The library
 * also rejects whitespace and control characters: no Prometheus series, prometheus-adapter rule or
 * KEDA metric has them, so one is a typo the HPA would only report at run time (FailedGetPodsMetric).
 */
export function isMetricName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 1024 && v !== '.' && v !== '..' && !/[/%\s\u0000-\u001f\u007f]/.test(v);
}

export function checkMetricName(scope: IConstruct, prop: string, v: unknown, o: { api: 'custom' | 'external'; example: string }): string {
  if (!isMetricName(v)) {
    fail(
      scope,
      prop,
      "must be a metric name as the metrics API serves it (not empty, '.' or '..'; no '/', '%', whitespace or control characters)",
      v,
      `use a name the metrics adapter lists (kubectl get --raw /apis/${o.api}.metrics.k8s.io/v1beta1), e.g. '${o.example}'`,
    );
  }
  return v;
}

/**
 * A positive quantity of a metric target (value, averageValue): '5', '0.5', '500m', '2k', or a
 * finite number; returned as the quantity string the manifest carries. The API server rejects
 * zero and negative targets ("must be positive").
 */
export function checkMetricQuantity(scope: IConstruct, prop: string, v: unknown, example: string): string {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  const n = parseQuantity(s);
  if (n === undefined || !(n > 0)) {
    fail(
      scope,
      prop,
      "must be a positive quantity (a number such as 5 or '0.5', or with a suffix such as '500m' or '2k')",
      v,
      `use e.g. '${example}'`,
    );
  }
  return s as string;
}

// ---------------------------------------------------------------------------
// Hugging Face Hub
// ---------------------------------------------------------------------------

/**
 * A Hub repository id 'org/name' (huggingface_hub validate_repo_id): letters, digits, '-', '_' and
 * '.'; '--' and '..' are forbidden; '-' and '.' neither start nor end a part; a name at most 96.
 */
export function isHuggingFaceRepo(v: unknown): v is string {
  const part = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$/;
  if (typeof v !== 'string' || v.includes('--') || v.includes('..')) return false;
  const parts = v.split('/');
  return parts.length === 2 && parts.every((p) => part.test(p));
}

export function checkHuggingFaceRepo(scope: IConstruct, prop: string, v: unknown): string {
  if (!isHuggingFaceRepo(v)) {
    fail(
      scope,
      prop,
      "must be a Hugging Face repository id 'org/name' (letters, digits, - _ .)",
      v,
      "copy the id from the model page, e.g. 'Qwen/Qwen2.5-0.5B-Instruct'",
    );
  }
  return v;
}

/**
 * A git revision of a Hub repository: a commit sha, a tag or a branch (git check-ref-format's
 * rules, narrowed to what is also a safe directory path: no '..', '//', leading '-' or '/', '.lock').
 */
export function checkGitRevision(scope: IConstruct, prop: string, v: unknown): string {
  if (v === undefined) {
    fail(
      scope,
      prop,
      'is required: the cache keeps the revision it downloaded, so the weights change only when this value does',
      v,
      "pin the commit sha from the model page's history (e.g. '7ae557604adf67be50417f59c2c2f167def9a775'), or a tag",
    );
  }
  if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/.test(v) || /\.\.|\/\/|\/$|\.$|\.lock(\/|$)|\/\./.test(v)) {
    fail(
      scope,
      prop,
      'must be a commit sha, tag or branch of the repository',
      v,
      "use the 40-character commit sha, e.g. '7ae557604adf67be50417f59c2c2f167def9a775'",
    );
  }
  return v;
}

/**
 * A map key cdk8s can write. Its serializer (cdk8s _util.ts sanitizeValue) takes an object whose
 * `constructor` is not Object for a class instance and fails ("can't render non-simple object"),
 * so a label, annotation or node selector key 'constructor', valid for Kubernetes, cannot be emitted.
 */
export function checkRenderableKey(scope: IConstruct, prop: string, key: string): void {
  if (key === 'constructor') {
    fail(
      scope,
      prop,
      "has the key 'constructor', which cdk8s cannot write (its serializer reads an object's constructor property to tell plain data " +
        'from class instances)',
      key,
      "use a prefixed key, e.g. 'example.com/constructor'",
    );
  }
}

/**
 * A share in whole percent, 0..100 (a canary's traffic weight): a number, an integer, in range.
 * `meaning` says what the ends mean, e.g. '0 rolls back, 100 promotes'.
 */
export function checkWholePercent(scope: IConstruct, prop: string, v: unknown, o: { meaning: string; fix: string }): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100)
    fail(scope, prop, `must be a whole percentage from 0 to 100 (${o.meaning})`, v, o.fix);
  return v;
}

/**
 * The keys of a props or options interface, as a list the compiler holds to the interface: a key it
 * lacks fails `tsc` (naming the key under `missing`), and so does a key the interface has not.
 * Interfaces that extend another spread the other's list: `keysOf<B>()([...A_KEYS, 'b'])`.
 */
export const keysOf =
  <T>() =>
  <const K extends readonly (keyof T & string)[]>(
    keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, K[number]> }),
  ): K =>
    keys;

/** Edit distance with adjacent swaps (optimal string alignment), case-insensitive: 'replica' to 'replicas' is 1. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0][j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/**
 * The known key a misspelt one most likely meant: the same but for a plural, else the nearest by edit distance when
 * it is close (at most 2 edits, or a third of the longer name), else one the key starts (`tls` for `tlsSecretName`).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  // Singular for plural ('policy' for 'policies') is three edits in a short name: match it first.
  const singular = (k: string) => k.toLowerCase().replace(/ies$/, 'y').replace(/s$/, '');
  const plural = known.find((k) => singular(k) === singular(key));
  if (plural !== undefined) return plural;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  const longer = Math.max(key.length, best?.length ?? 0);
  if (best !== undefined && bestDistance < key.length && bestDistance <= Math.max(2, Math.floor(longer / 3))) return best;
  const lower = key.toLowerCase();
  if (lower.length < 3) return undefined;
  return known.find((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()));
}

/**
 * Every own key of a props or options object must be one the interface has: TypeScript checks object
 * literals, but not JavaScript callers, configs read from files, `as any`, or a transpile-only build (what the
 * scaffold's cdk8s.yaml runs), where a misspelt key would be dropped in silence. A key holding undefined is fine
 * only if known. `prop` is how the object is named ('props' for a construct's props: its keys are named bare).
 */
/** The first key of `obj` that is not in `known`, with the known key it is closest to (if one is close). */
export function firstUnknownKey(obj: Record<string, unknown>, known: readonly string[]): { key: string; guess?: string } | undefined {
  const key = Object.keys(obj).find((k) => !known.includes(k));
  return key === undefined ? undefined : { key, guess: closestKey(key, known) };
}

export function checkKnownKeys(scope: IConstruct, prop: string, obj: unknown, known: readonly string[]): void {
  if (!isPlainObject(obj)) return;
  const unknown = firstUnknownKey(obj, known);
  if (unknown) {
    const { key, guess } = unknown;
    const name = prop === 'props' ? key : `${prop}.${key}`;
    fail(
      scope,
      name,
      `is not a known key${guess ? ` (did you mean '${guess}'?)` : ''}, so it would be ignored`,
      obj[key],
      `${guess ? `rename '${key}' to '${guess}'` : `remove '${key}'`}. Known keys: ${known.join(', ')}`,
    );
  }
}

// ---------------------------------------------------------------------------
// Credentials written inline (the readings: lib/rules/credentials.ts, urlCredentialsIn in lib/rules/url.ts)
// ---------------------------------------------------------------------------

/**
 * A string the manifests carry (a URI, an argument, an env value) holds no credential in a URL's userinfo
 * (`https://user:pass@host`): it would be in plain text in the manifest, and in git. The message shows it masked.
 */
export function checkNoUrlCredentials(scope: IConstruct, prop: string, v: unknown, fix: string): void {
  if (typeof v !== 'string') return;
  const { count, masked } = urlCredentialsIn(v);
  if (count > 0)
    fail(scope, prop, 'has a credential in a URL (user:password@host), which would be in plain text in the manifest, and in git', masked, fix);
}

/**
 * A literal env value: not under a credential's name (AWS_SECRET_ACCESS_KEY, HF_TOKEN, DB_PASSWORD: see
 * isSecretShapedEnvName), no credential in a URL. Empty values and `$(VAR)` references pass.
 */
export function checkNoInlineCredential(scope: IConstruct, prop: string, name: string, value: string): void {
  const fix =
    `keep the value in a Secret (kubectl create secret generic api-credentials --from-literal=${name}=...) and write ` +
    `${name}: EnvValue.fromSecret('api-credentials', '${name}')`;
  if (isSecretShapedEnvName(name) && !isReferenceOnly(value))
    fail(scope, prop, "is a literal value under a credential's name: it would be in plain text in the pod spec, and in git", maskSecret(value), fix);
  checkNoUrlCredentials(
    scope,
    prop,
    value,
    `${fix}; or keep only the password in the Secret: set e.g. DB_PASSWORD with EnvValue.fromSecret before ${name} and write ` +
      "'postgres://app:$(DB_PASSWORD)@db/x' (Kubernetes expands $(VAR) of a variable defined earlier in env)",
  );
}
