/**
 * Generators of VALID configurations of the whole public API, for the property tests. A
 * configuration is drawn step by step with fast-check's `gen` (later choices depend on earlier
 * ones: a server reads the model of a TrainingJob drawn before it, a claim one pod attaches is
 * read by one reader), as an AppSpec (./_spec): constructs wired by object reference, options made
 * with their static factories.
 *
 * Every `drawX(g, ...)` below produces one kind of value. Optional props are drawn present with
 * a given chance and shrink to absent; choices shrink to their first (simplest) alternative.
 * "Valid" means what the library documents as accepted: props in their documented ranges, the
 * cross-prop rules it states (a single-attach claim is read by one pod, labels need a version
 * policy that loads them...), and names that do not clash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { toDnsLabel } from '../../lib/_names';
import { AppSpec, Call, ConstructKind, MethodSpec, NodeSpec, Ref, Val } from './_spec';

export type G = fc.GeneratorValue;

// ---------------------------------------------------------------------------------------------
// Primitives

/** Present with `pct` percent chance; shrinks to absent. */
export function has(g: G, pct: number): boolean {
  return g(fc.integer, { min: 0, max: 99 }) >= 100 - pct;
}
export function pick<T>(g: G, values: readonly T[]): T {
  return values[g(fc.integer, { min: 0, max: values.length - 1 })];
}
export function int(g: G, min: number, max: number): number {
  return g(fc.integer, { min, max });
}
/**
 * A string matching `re`. gen caches arbitraries by builder and arguments, and compares arguments
 * structurally: two RegExps look equal to it (no own keys), so each regex gets its own builder.
 */
const matchers = new Map<string, () => fc.Arbitrary<string>>();
export function match(g: G, re: RegExp): string {
  let builder = matchers.get(re.source);
  if (!builder) {
    const arb = fc.stringMatching(re);
    builder = () => arb;
    matchers.set(re.source, builder);
  }
  return g(builder);
}
function bool(g: G): boolean {
  return g(fc.boolean);
}
/** An object of the props whose value is not undefined (so the rendered code shows only what is set). */
function props(o: Record<string, Val>): Record<string, Val> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
function opt<T>(g: G, pct: number, draw: () => T): T | undefined {
  return has(g, pct) ? draw() : undefined;
}
function some<T>(g: G, min: number, max: number, draw: (i: number) => T): T[] {
  return Array.from({ length: int(g, min, max) }, (_, i) => draw(i));
}

/** Text a user may put where any string is allowed (env values, annotations): unicode, YAML and shell metacharacters, newlines. */
const SPECIAL_TEXT = [
  'value',
  '',
  ' ',
  'a b',
  'line\nbreak',
  'two\n\nlines\n',
  'tab\there',
  'quote"d',
  "it's",
  'back\\slash',
  '$HOME',
  '$(HOME)',
  '${HOME}',
  '$$',
  '#hash',
  ': colon',
  '- dash',
  '{a: 1}',
  '[1, 2]',
  '&anchor',
  '*alias',
  '!!binary',
  '%',
  '@at',
  '`tick`',
  '---',
  '...',
  'null',
  'true',
  'yes',
  'no',
  '~',
  '0x1F',
  '1e3',
  '0777',
  'ÜNÏ',
  '日本語',
  '🙂',
  'a\u200bb',
  'x\u2028y',
  '\u202eevil',
  'x'.repeat(300),
  's3://bucket/data.csv',
  'https://api.example.com/v1',
  'http://10.0.0.7:8080/x',
];
export function freeText(g: G): string {
  switch (int(g, 0, 2)) {
    case 0:
      return pick(g, SPECIAL_TEXT);
    // NUL has no place in text a manifest carries, nor DEL, C1 controls, U+FFFE/U+FFFF, which
    // server-side apply refuses (the library rejects them all; lib/_validate.ts NOT_YAML_PRINTABLE).
    case 1:
      return g(fc.string, { unit: 'grapheme', maxLength: 12 }).replace(/[\u007f-\u0084\u0086-\u009f\ufffe\uffff]/g, '');
    default:
      return g(fc.string, { unit: 'binary-ascii', maxLength: 12 }).replace(/[\0\u007f]/g, '');
  }
}
/** Text on one line without control characters (what reaches a Dockerfile, a command line or a file name). */
export function lineText(g: G): string {
  switch (int(g, 0, 2)) {
    case 0:
      return pick(g, [
        'value',
        'a b',
        'quote"d',
        "it's",
        'back\\slash',
        '$HOME',
        '${HOME}',
        '$$',
        '#hash',
        'ÜNÏ',
        '🙂',
        '--flag=1',
        '&& echo',
        '; ls',
        '| cat',
        '*.py',
        '--data=gs://bucket/train',
        'https://api.example.com:8443/x',
        'localhost:9000',
      ]);
    case 1:
      return match(g, /^[ -~]{0,12}$/);
    default:
      return g(fc.string, { unit: 'grapheme-composite', maxLength: 8 }).replace(/[\p{C}\p{Zl}\p{Zp}]/gu, '');
  }
}

// Names

export function dnsLabel(g: G, max = 12): string {
  // Not 'xn--' (a punycode prefix: URL parsers reject such a host unless it is valid punycode).
  return match(g, new RegExp(`^[a-z]([-a-z0-9]{0,${max - 2}}[a-z0-9])?$`)).replace(/^xn--/, 'xn-');
}
/** DNS-1123 subdomain (Secret, ConfigMap, claim, PriorityClass names). */
export function dnsSubdomain(g: G): string {
  return pick(g, [() => dnsLabel(g), () => `${dnsLabel(g, 6)}.${dnsLabel(g, 6)}`, () => match(g, /^[0-9][a-z0-9]{0,4}$/)])();
}
/** Label and annotation keys: an optional DNS prefix, '/', a name. */
export function qualifiedKey(g: G): string {
  const name = match(g, /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?$/);
  return has(g, 50) ? `${pick(g, ['example.com', 'team.acme.io', 'a'])}/${name}` : name;
}
export function labelValue(g: G): string {
  return match(g, /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?)?$/);
}
function labelMap(g: G, reserved: readonly string[] = []): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (let i = int(g, 1, 3); i > 0; i--) {
    const k = qualifiedKey(g);
    if (!reserved.includes(k) && !k.startsWith('kubernetes.io/') && !k.startsWith('app.kubernetes.io/')) out[k] = labelValue(g);
  }
  return out;
}
function annotations(g: G): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = int(g, 1, 3); i > 0; i--) out[qualifiedKey(g)] = freeText(g);
  return out;
}
/** A Secret or ConfigMap key. */
function dataKey(g: G): string {
  // Kubernetes IsConfigMapKey: not '.', and not starting with '..'.
  return match(g, /^[-._a-zA-Z0-9]{1,12}$/).replace(/^\.(\..*)?$/, 'key');
}
/** An env variable name no library variable has (MODEL_DIR, BACKEND_URL, RANK...). */
function envName(g: G): string {
  return pick(g, [() => `USR_${match(g, /^[A-Z0-9_]{0,8}$/)}`, () => `usr.${match(g, /^[-._a-zA-Z0-9]{0,8}$/)}`, () => 'USR-X'])();
}

// Values of kinds

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,9}$/;
function tag(g: G): string {
  const t = match(g, TAG);
  return t === 'latest' ? '1.0.0' : t;
}
function repository(g: G, last: string): string {
  return `${pick(g, ['registry.example.com/team', 'localhost:5000', 'ghcr.io/acme/ml', 'docker.io/library'])}/${last}`;
}
/** A pinned image reference string. */
export function imageRef(g: G, last = 'img'): string {
  if (has(g, 15)) return `${repository(g, last)}@sha256:${match(g, /^[a-f0-9]{64}$/)}`;
  return `${pick(g, [() => repository(g, last), () => last])()}:${tag(g)}`;
}
export function port(g: G): number {
  return pick(g, [() => 8080, () => int(g, 1, 65535), () => pick(g, [1, 80, 443, 1024, 9000, 65535])])();
}
function absPath(g: G, avoid: readonly string[] = []): string {
  for (;;) {
    const p = `/${some(g, 1, 3, () => match(g, /^[A-Za-z0-9_][-A-Za-z0-9_.]{0,6}$/)).join('/')}`;
    if (
      !['/tmp', '/dev', '/dev/shm', '/proc', '/sys'].includes(p) &&
      !p.startsWith('/tmp/') &&
      !p.startsWith('/dev/') &&
      !avoid.some((a) => a === p || p.startsWith(`${a}/`) || a.startsWith(`${p}/`))
    )
      return p;
  }
}
function relPath(g: G): string {
  return some(g, 1, 3, () => match(g, /^[A-Za-z0-9_][-A-Za-z0-9_.]{0,6}$/)).join('/');
}
function urlPath(g: G): string {
  // No '.' or '..' segment: servers and ingress controllers normalize them away.
  return pick(g, [() => '/healthz', () => `/${some(g, 0, 3, () => match(g, /^[-A-Za-z0-9._~]{1,8}$/).replace(/^\.\.?$/, 'x')).join('/')}`])();
}
function quantity(g: G, units: readonly string[], maxN = 512): string {
  return `${int(g, 1, maxN)}${pick(g, units)}`;
}
/** CPU in millicores, written as a user would: '500m', '2', 0.5. */
function cpu(g: G, milli: number): string | number {
  return pick(g, [() => `${milli}m`, () => (milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`), () => milli / 1000])();
}
/**
 * The namespace of an ingress controller or Prometheus: no namespace of the app's stacks (they are
 * admitted by namespace, so every pod there could connect), and no stack takes it later.
 */
function otherNamespace(g: G, d: Draw): string {
  let ns = dnsLabel(g);
  while (d.stacks.some((s) => s.namespace === ns)) ns = `${ns}-x`;
  d.outsideNamespaces.add(ns);
  return ns;
}
function cidr(g: G): string {
  return pick(g, ['10.0.0.0/8', '192.168.1.0/24', '0.0.0.0/0', '203.0.113.7/32', '2001:db8::/32']);
}

// ---------------------------------------------------------------------------------------------
// The configuration being drawn

interface StackInfo {
  readonly key: string;
  readonly stackName: string;
  readonly namespace: string;
}
interface WorkloadInfo {
  readonly key: string;
  readonly kind: ConstructKind;
  readonly stack: StackInfo;
  /** Named ports a client may be admitted on (servers). */
  readonly ports?: string[];
  /** A TrainingJob with a model claim. */
  readonly output?: { singleAttach: boolean; scheduled: boolean; readers: number };
}

/** Directories the images and models are built from, created once per test file. */
export interface Contexts {
  readonly python: string;
  readonly savedModel: string;
}
export function makeContexts(root: string): Contexts {
  const python = path.join(root, 'web');
  fs.mkdirSync(path.join(python, 'reqs'), { recursive: true });
  fs.writeFileSync(path.join(python, 'app.py'), 'print("hello")\n');
  fs.writeFileSync(path.join(python, 'requirements.txt'), 'flask\n');
  fs.writeFileSync(path.join(python, 'reqs', 'prod.txt'), 'flask\ngunicorn\n');
  const savedModel = path.join(root, 'saved-model');
  fs.mkdirSync(path.join(savedModel, 'variables'), { recursive: true });
  fs.writeFileSync(path.join(savedModel, 'saved_model.pb'), '');
  return { python, savedModel };
}

class Draw {
  readonly nodes: NodeSpec[] = [];
  readonly calls: MethodSpec[] = [];
  readonly stacks: StackInfo[] = [];
  readonly workloads: WorkloadInfo[] = [];
  /** Namespaces of ingress controllers and Prometheus: no stack's. */
  readonly outsideNamespaces = new Set<string>();
  /**
   * Uniqueness scope -> names in use: a namespace's object names (one per workload: its Deployment,
   * Service, NetworkPolicy...), '<namespace>/pvc' claim names, '<stack key>/ids' construct ids.
   */
  private readonly names = new Map<string, Set<string>>();
  /** Directory names under images/ and image references in use. */
  private readonly imageNames = new Set<string>();
  private readonly pythonImages: Call[] = [];
  private n = 0;

  constructor(
    readonly g: G,
    readonly dirs: Contexts,
  ) {}

  key(prefix: string): string {
    return `${prefix.replace(/[^A-Za-z0-9]/g, '')}${this.n++}`;
  }

  /** A name not used in the scope (suffixed when drawn twice), now reserved. */
  claimName(scope: string, wanted: string, max: number): string {
    const used = this.names.get(scope) ?? new Set<string>();
    this.names.set(scope, used);
    let name = wanted.slice(0, max).replace(/-+$/, '');
    for (let i = 2; used.has(name); i++) name = `${wanted.slice(0, max - 3).replace(/-+$/, '')}-${i}`;
    used.add(name);
    return name;
  }

  peekTaken(scope: string, name: string): boolean {
    return this.names.get(scope)?.has(name) ?? false;
  }

  imageName(wanted: string): string {
    let name = wanted;
    for (let i = 2; this.imageNames.has(name); i++) name = `${wanted}-${i}`;
    this.imageNames.add(name);
    return name;
  }

  add(node: NodeSpec): NodeSpec {
    this.nodes.push(node);
    return node;
  }

  spec(): AppSpec {
    return { nodes: this.nodes, calls: this.calls };
  }

  /** A PythonImage: a new one, or (sometimes) one another workload already runs. */
  pythonImage(forServer: boolean): Call {
    const g = this.g;
    if (this.pythonImages.length > 0 && has(g, 20)) return pick(g, this.pythonImages);
    const name = this.imageName(pick(g, ['web', 'api', 'trainer', 'app']));
    const o = props({
      repository: repository(g, name),
      tag: tag(g),
      requirements: opt(g, 20, () => pick(g, ['requirements.txt', 'reqs/prod.txt'])),
      baseImage: opt(g, 20, () => pick(g, ['python:3.11.9-slim', 'registry.example.com/python:3.12', `python@sha256:${'a'.repeat(64)}`])),
      uid: opt(g, 25, () => pick(g, [() => 10001, () => int(g, 1, 2147483647)])()),
      port: opt(g, 30, () => port(g)),
      command: opt(g, forServer ? 15 : 25, () => ['python', ...some(g, 1, 3, () => lineText(g))]),
      // Not starting with a quote: dockerfile-utils (the shared check) then reports a missing closing
      // quote however the value is quoted (it re-reads the unquoted value), a false positive.
      env: opt(g, 25, () => Object.fromEntries(some(g, 1, 3, () => [envName(g).replace(/[.-]/g, '_'), lineText(g).replace(/^["']+/, '')]))),
      ignore: opt(g, 20, () => some(g, 1, 3, () => pick(g, ['*.csv', 'data/', 'notebooks/**', '!keep.txt', '*.ipynb']))),
    });
    const image = new Call('PythonImage.fromDirectory', [this.dirs.python, o]);
    this.pythonImages.push(image);
    return image;
  }
}

// ---------------------------------------------------------------------------------------------
// Options

function drawResources(g: G, o: { gpu?: boolean } = {}): Record<string, Val> {
  // A limit comes with its request: alone it must still be at least the workload's default request.
  const cpuMilli = opt(g, 60, () => int(g, 10, 4000));
  const memMi = opt(g, 60, () => int(g, 64, 16384));
  const mem = (mi: number) => (mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`);
  return props({
    cpu: cpuMilli === undefined ? undefined : cpu(g, cpuMilli),
    cpuLimit: cpuMilli === undefined ? undefined : opt(g, 50, () => cpu(g, cpuMilli + int(g, 0, 4000))),
    memory: memMi === undefined ? undefined : mem(memMi),
    memoryLimit: memMi === undefined ? undefined : opt(g, 50, () => mem(memMi + int(g, 0, 16384))),
    gpu: o.gpu ? int(g, 1, 2) : undefined,
    gpuResource: o.gpu ? opt(g, 30, () => pick(g, ['nvidia.com/gpu', 'nvidia.com/mig-1g.5gb', 'amd.com/gpu'])) : undefined,
    ephemeralStorage: opt(g, 20, () => quantity(g, ['Gi', 'Mi'], 100)),
  });
}

function drawToleration(g: G): Call {
  const effect = opt(g, 60, () => pick(g, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
  const options = props({ effect, tolerationSeconds: effect === 'NoExecute' ? opt(g, 50, () => int(g, 0, 3600)) : undefined });
  const rest = Object.keys(options).length > 0 ? [options] : [];
  return has(g, 50)
    ? new Call('Toleration.equal', [qualifiedKey(g), labelValue(g), ...rest])
    : new Call('Toleration.exists', [qualifiedKey(g), ...rest]);
}

function drawAffinity(g: G): Record<string, Val> {
  return has(g, 50)
    ? {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: qualifiedKey(g), operator: pick(g, ['In', 'NotIn']), values: [labelValue(g) || 'x'] }] }],
          },
        },
      }
    : {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: int(g, 1, 100),
              podAffinityTerm: { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { [qualifiedKey(g)]: labelValue(g) } } },
            },
          ],
        },
      };
}

/** tolerations, affinity, priorityClassName (SchedulingProps). */
function drawScheduling(g: G): Record<string, Val> {
  return {
    tolerations: opt(g, 20, () => some(g, 1, 2, () => drawToleration(g))),
    affinity: opt(g, 10, () => drawAffinity(g)),
    priorityClassName: opt(g, 10, () => dnsSubdomain(g)),
  };
}

function drawEnv(g: G): Record<string, Val> {
  const out: Record<string, Val> = {};
  for (let i = int(g, 1, 4); i > 0; i--) {
    out[envName(g)] = pick(g, [
      () => freeText(g),
      () => new Call('EnvValue.fromValue', [freeText(g)]),
      () => new Call('EnvValue.fromSecret', [dnsSubdomain(g), dataKey(g), ...(has(g, 30) ? [{ optional: bool(g) }] : [])]),
      () => new Call('EnvValue.fromConfigMap', [dnsSubdomain(g), dataKey(g), ...(has(g, 30) ? [{ optional: bool(g) }] : [])]),
      () =>
        new Call('EnvValue.fromFieldRef', [
          pick(g, [
            'metadata.name',
            'metadata.namespace',
            'metadata.uid',
            'spec.nodeName',
            'spec.serviceAccountName',
            'status.hostIP',
            'status.podIP',
            'status.podIPs',
            "metadata.labels['app.kubernetes.io/name']",
            "metadata.annotations['example.com/x']",
          ]),
        ]),
    ])();
  }
  return out;
}

function drawEnvFrom(g: G): Call[] {
  return some(
    g,
    1,
    2,
    () =>
      new Call(pick(g, ['EnvFrom.secret', 'EnvFrom.configMap'] as const), [
        dnsSubdomain(g),
        ...(has(g, 40) ? [match(g, /^[A-Z_][A-Z0-9_]{0,6}$/)] : []),
      ]),
  );
}

function drawServiceAccount(g: G): Record<string, Val> {
  return props({
    annotations: opt(g, 60, () =>
      pick(g, [
        () => ({ 'eks.amazonaws.com/role-arn': `arn:aws:iam::123456789012:role/${dnsLabel(g)}` }),
        () => ({ 'iam.gke.io/gcp-service-account': `${dnsLabel(g)}@proj.iam.gserviceaccount.com` }),
        () => annotations(g),
      ])(),
    ),
    automountToken: opt(g, 30, () => bool(g)),
  });
}

/** Props every workload shares: env, envFrom, resources, nodeSelector, shmSize, serviceAccount, podAnnotations, isolateEgress, scheduling. */
function drawPodProps(g: G, o: { gpu?: boolean } = {}): Record<string, Val> {
  return {
    env: opt(g, 35, () => drawEnv(g)),
    envFrom: opt(g, 15, () => drawEnvFrom(g)),
    resources: o.gpu ? drawResources(g, o) : opt(g, 40, () => drawResources(g)),
    nodeSelector: opt(g, 20, () => labelMap(g)),
    shmSize: opt(g, 15, () => quantity(g, ['Mi', 'Gi'], 64)),
    serviceAccount: opt(g, 15, () => drawServiceAccount(g)),
    podAnnotations: opt(g, 20, () => annotations(g)),
    isolateEgress: opt(g, 15, () => bool(g)),
    ...drawScheduling(g),
  };
}

function drawExposure(g: G, d: Draw): Call {
  switch (int(g, 0, 2)) {
    case 0:
      return new Call('Exposure.clusterInternal', []);
    case 1: {
      const o = props({
        port: opt(g, 40, () => port(g)),
        sourceRanges: opt(g, 40, () => some(g, 1, 2, () => cidr(g))),
        annotations: opt(g, 30, () => pick(g, [() => ({ 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' }), () => annotations(g)])()),
      });
      return new Call('Exposure.loadBalancer', Object.keys(o).length > 0 || has(g, 50) ? [o] : []);
    }
    default:
      return new Call('Exposure.ingress', [
        props({
          host: pick(g, [() => `${dnsLabel(g)}.example.com`, () => `*.${dnsLabel(g)}.example.org`, () => 'a.b'])(),
          path: opt(g, 30, () => urlPath(g)),
          tlsSecretName: opt(g, 30, () => dnsSubdomain(g)),
          disableTls: opt(g, 20, () => bool(g)),
          className: opt(g, 30, () => pick(g, ['nginx', 'traefik', 'gce'])),
          annotations: opt(g, 30, () => pick(g, [() => ({ 'cert-manager.io/cluster-issuer': 'letsencrypt' }), () => annotations(g)])()),
          controllerNamespace: opt(g, 30, () => otherNamespace(g, d)),
        }),
      ]);
  }
}

/**
 * Replicas, autoscaling and rollout of a server; `singleAttach`: the model is on a claim one node
 * (or pod) attaches, so at most one replica and no surge pod.
 */
function drawScale(g: G, singleAttach: boolean): Record<string, Val> {
  const out: Record<string, Val> = {};
  if (has(g, 25)) {
    const max = singleAttach ? 1 : int(g, 1, 10);
    out.autoscaling = props({
      maxReplicas: max,
      minReplicas: opt(g, 40, () => int(g, 1, max)),
      cpuUtilization: opt(g, 40, () => int(g, 1, 100)),
      memoryUtilization: opt(g, 30, () => int(g, 1, 100)),
    });
  } else if (has(g, 50)) {
    out.replicas = singleAttach ? int(g, 0, 1) : int(g, 0, 5);
  }
  if (has(g, 20)) {
    const amount = (): number | string => pick(g, [() => int(g, 0, 3), () => `${int(g, 0, 100)}%`])();
    const maxSurge = singleAttach ? opt(g, 30, () => pick(g, [0, '0%'])) : opt(g, 50, amount);
    let maxUnavailable = opt(g, 50, amount);
    const zero = (v: unknown) => v === 0 || v === '0%';
    // Both zero is rejected by the API server. Defaults: maxSurge 1 and maxUnavailable 0, on a
    // single-attach claim maxSurge 0 and maxUnavailable 1.
    const surge = maxSurge ?? (singleAttach ? 0 : 1);
    const unavailable = maxUnavailable ?? (singleAttach ? 1 : 0);
    if (zero(surge) && zero(unavailable)) maxUnavailable = 1;
    out.rollout = props({ maxSurge, maxUnavailable, minReadySeconds: opt(g, 40, () => int(g, 0, 300)) });
  }
  return out;
}

/** What the ServedWorkload constructs share, given the server's own ports (service port numbers must differ). */
function drawServed(
  g: G,
  d: Draw,
  stack: StackInfo,
  id: string,
  extraPortNumbers: number[],
  singleAttach: boolean,
  o: { gpu?: boolean } = {},
): Record<string, Val> {
  const name = servedName(g, d, stack, id);
  let servicePort = opt(g, 20, () => port(g));
  let exposure = opt(g, 35, () => drawExposure(g, d));
  if (servicePort !== undefined && extraPortNumbers.includes(servicePort)) servicePort = undefined;
  const lbPort = exposure?.fn === 'Exposure.loadBalancer' ? ((exposure.args[0] as any)?.port ?? servicePort ?? 80) : undefined;
  if (lbPort !== undefined && extraPortNumbers.includes(lbPort)) exposure = new Call('Exposure.clusterInternal', []);
  return {
    name,
    ...drawScale(g, singleAttach),
    servicePort,
    exposure,
    ...drawPodProps(g, o),
  };
}

/** The explicit name of a workload (sometimes), else undefined; the resulting object name is reserved. */
function servedName(g: G, d: Draw, stack: StackInfo, id: string, max = 50): string | undefined {
  const derived = toDnsLabel(id);
  if (has(g, 20)) return d.claimName(stack.namespace, dnsLabel(g), max);
  d.claimName(stack.namespace, derived, max);
  return undefined;
}

/** A workload id whose derived name is new in the namespace: 'api', 'FraudApi' (-> fraud-api), 'score_v2'. */
function workloadId(g: G, d: Draw, stack: StackInfo, base: string): string {
  const variants = [base, `${base[0].toUpperCase()}${base.slice(1)}Svc`, `${base}_v${int(g, 1, 9)}`];
  let id = pick(g, variants);
  for (let i = 2; d.peekTaken(stack.namespace, toDnsLabel(id)) || d.peekTaken(`${stack.key}/ids`, id); i++) id = `${base}${i}`;
  d.claimName(`${stack.key}/ids`, id, 99);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Model sources

interface DrawnSource {
  readonly source: Call;
  /** On a claim one node or pod attaches: one reader pod at a time. */
  readonly singleAttach: boolean;
}

function uri(g: G, scheme: 's3' | 'gs' | 'http' | 'https'): string {
  const host =
    scheme === 's3' || scheme === 'gs'
      ? match(g, /^[a-z0-9][a-z0-9.-]{1,10}[a-z0-9]$/)
      : pick(g, ['models.example.com', 'files.example.org:8443', '10.0.0.5']);
  const file = scheme === 'http' || scheme === 'https' ? `/${pick(g, ['model.joblib', 'model.tar.gz', 'm.tgz', 'weights.pt'])}` : '';
  return `${scheme}://${host}/${relPath(g)}${file}`;
}

function uriOptions(g: G, scheme: string, maxReaders: number): Record<string, Val> | undefined {
  if (!has(g, 40)) return undefined;
  const cacheAccess = maxReaders > 1 ? 'ReadWriteMany' : pick(g, ['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod']);
  return props({
    credentialsSecret: opt(g, 40, () => dnsSubdomain(g)),
    downloaderImage: opt(g, 20, () => imageRef(g, 'rclone')),
    sizeLimit: opt(g, 30, () => quantity(g, ['Gi', 'Mi'])),
    cacheClaim: opt(g, 15, () => props({ claimName: dnsSubdomain(g), accessMode: maxReaders > 1 ? 'ReadWriteMany' : opt(g, 50, () => cacheAccess) })),
    s3Endpoint:
      scheme === 's3'
        ? opt(g, 40, () => pick(g, ['http://minio.storage.svc:9000', 'https://s3.eu-central-1.example.com', 'http://10.0.0.9']))
        : undefined,
  });
}

/**
 * A model for a reader in `stack` that may run `maxReaders` pods (undefined: decided by the
 * reader after the source, from singleAttach). `kinds` are the sources the reader takes.
 */
function drawModelSource(
  g: G,
  d: Draw,
  stack: StackInfo,
  kinds: readonly ('uri' | 'gs' | 'volume' | 'job' | 'image')[],
  maxReaders?: number,
  modelName?: string,
): DrawnSource {
  const jobs = d.workloads.filter(
    (w) =>
      w.output &&
      w.stack.namespace === stack.namespace &&
      (!w.output.singleAttach || (w.output.readers === 0 && !w.output.scheduled && (maxReaders ?? 1) <= 1)),
  );
  const choices = kinds.filter((k) => k !== 'job');
  // A trainer's model, when there is one to read, half the time: the hand-off is what most apps wire.
  const kind = kinds.includes('job') && jobs.length > 0 && has(g, 50) ? 'job' : pick(g, choices);
  switch (kind) {
    case 'job': {
      const job = pick(g, jobs);
      job.output!.readers++;
      const o = props({ waitTimeoutSeconds: opt(g, 30, () => int(g, 1, 86400 * 7)), waitImage: opt(g, 20, () => imageRef(g, 'busybox')) });
      return {
        source: new Call('ModelSource.fromTrainingJob', [new Ref(job.key), ...(Object.keys(o).length > 0 ? [o] : [])]),
        singleAttach: job.output!.singleAttach,
      };
    }
    case 'volume': {
      const accessMode = opt(g, 50, () =>
        pick(g, (maxReaders ?? 1) > 1 ? ['ReadWriteMany', 'ReadOnlyMany'] : ['ReadWriteMany', 'ReadOnlyMany', 'ReadWriteOnce', 'ReadWriteOncePod']),
      );
      const o = props({ subPath: opt(g, 40, () => relPath(g)), accessMode });
      return {
        source: new Call('ModelSource.fromVolume', [dnsSubdomain(g), ...(Object.keys(o).length > 0 ? [o] : [])]),
        singleAttach: accessMode === 'ReadWriteOnce' || accessMode === 'ReadWriteOncePod',
      };
    }
    case 'image': {
      const name = d.imageName(pick(g, ['model', 'bert', 'iris']));
      const o = props({
        repository: repository(g, name),
        tag: tag(g),
        modelName: modelName!,
        version: opt(g, 40, () => int(g, 0, 2000000000)),
        servingVersion: opt(g, 30, () => pick(g, ['2.20.0', '2.19.1', '2.14.1'])),
        gpu: opt(g, 20, () => false),
      });
      return { source: new Call('ModelSource.fromImage', [new Call('ModelImage.fromDirectory', [d.dirs.savedModel, o])]), singleAttach: false };
    }
    case 'gs': {
      const o = uriOptions(g, 'gs', 99);
      // TF Serving reads gs:// itself (no download, no cache claim).
      if (o) delete o.cacheClaim;
      return { source: new Call('ModelSource.fromUri', [uri(g, 'gs'), ...(o ? [o] : [])]), singleAttach: false };
    }
    default: {
      const scheme = pick(g, ['s3', 'gs', 'https', 'http'] as const);
      const o = uriOptions(g, scheme, maxReaders ?? 99);
      const cache = o?.cacheClaim as any;
      return {
        source: new Call('ModelSource.fromUri', [uri(g, scheme), ...(o ? [o] : [])]),
        singleAttach: cache !== undefined && cache.accessMode !== undefined && cache.accessMode !== 'ReadWriteMany',
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Constructs

function drawStack(g: G, d: Draw, index: number): StackInfo {
  const key = d.key('stack');
  let id = pick(g, [() => dnsLabel(g, 10), () => pick(g, ['FraudDetection', 'and_gate', 'Iris2'])])();
  while (d.stacks.some((s) => s.stackName === toDnsLabel(id)) || toDnsLabel(id) === 'argocd') id = `${id}${index}`;
  const stackName = toDnsLabel(id);
  const chosen = index > 0 && has(g, 25) ? d.stacks[0].namespace : has(g, 40) ? dnsLabel(g) + (index > 0 ? `-${index}` : '') : stackName;
  let namespace = chosen === 'argocd' ? `${chosen}-${index}` : chosen;
  while (d.outsideNamespaces.has(namespace)) namespace = `${namespace}-s`;
  // One stack of a namespace emits its Namespace object.
  const shared = d.stacks.some((s) => s.namespace === namespace);
  const info: StackInfo = { key, stackName, namespace };
  d.add({
    key,
    kind: 'MlStack',
    id,
    props: props({
      namespace: namespace !== stackName || has(g, 20) ? namespace : undefined,
      createNamespace: shared ? false : opt(g, 15, () => bool(g)),
      labels: opt(g, 20, () => labelMap(g)),
    }),
  });
  d.stacks.push(info);
  return info;
}

/**
 * command and args as drawn (both draws made, so the stream is the same), but no args without a command
 * on an image the app builds: it has no ENTRYPOINT, and args alone fail at synth (lib/workload/_pod.ts runArgv).
 */
function runArgs(python: boolean, command: string[] | undefined, args: string[] | undefined): { command?: string[]; args?: string[] } {
  return { command, args: python && command === undefined ? undefined : args };
}

function drawInferenceService(g: G, d: Draw, stack: StackInfo): void {
  const key = d.key('api');
  const id = workloadId(g, d, stack, pick(g, ['api', 'classifier', 'ranker']));
  const python = has(g, 30);
  const image: Val = python ? d.pythonImage(true) : imageRef(g, 'api');
  // The port of a PythonImage is the server's (8080 unless the image sets one).
  const imagePort = python ? ((((image as Call).args[1] as any).port as number | undefined) ?? 8080) : undefined;
  const mainPort = imagePort ?? (has(g, 40) ? port(g) : 8080);
  const extraPorts = opt(g, 25, () => {
    const used = [mainPort];
    return some(g, 1, 2, (i) => {
      let p = port(g);
      while (used.includes(p)) p = p === 65535 ? 1 : p + 1;
      used.push(p);
      return { name: ['grpc', 'metrics', 'admin-2'][i], port: p };
    });
  });
  const portNames = ['http', ...(extraPorts ?? []).map((p) => p.name)];
  const model = opt(g, 50, () => drawModelSource(g, d, stack, ['uri', 'volume', 'job']));
  const gpu = has(g, 10);
  const served = drawServed(
    g,
    d,
    stack,
    id,
    (extraPorts ?? []).map((p) => p.port),
    model?.singleAttach ?? false,
    { gpu },
  );
  const modelPath = model ? opt(g, 30, () => absPath(g)) : undefined;
  d.add({
    key,
    kind: 'InferenceService',
    scope: stack.key,
    id,
    props: props({
      image,
      port: imagePort === undefined ? (mainPort !== 8080 || has(g, 20) ? mainPort : undefined) : opt(g, 20, () => imagePort),
      extraPorts,
      ...runArgs(
        python,
        opt(g, 25, () => some(g, 1, 3, () => lineText(g))),
        opt(g, 25, () => some(g, 1, 3, () => lineText(g))),
      ),
      model: model?.source,
      modelPath,
      modelName: opt(g, 40, () => match(g, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,10}$/)),
      predictPath: opt(g, 20, () => urlPath(g)),
      healthCheck: opt(g, 30, () =>
        props({
          path: opt(g, 50, () => urlPath(g)),
          livenessPath: opt(g, 30, () => urlPath(g)),
          startupTimeoutSeconds: opt(g, 40, () => int(g, 10, 7200)),
        }),
      ),
      uid: opt(g, 15, () => int(g, 1, 2147483647)),
      gpuNodeSelector: gpu ? opt(g, 50, () => ({ 'cloud.google.com/gke-accelerator': pick(g, ['nvidia-l4', 'nvidia-tesla-t4']) })) : undefined,
      metrics: opt(g, 20, () =>
        props({ port: opt(g, 50, () => pick(g, portNames)), path: opt(g, 40, () => urlPath(g)), namespace: opt(g, 30, () => otherNamespace(g, d)) }),
      ),
      ...served,
    }),
  });
  d.workloads.push({ key, kind: 'InferenceService', stack, ports: portNames });
}

function drawTfServing(g: G, d: Draw, stack: StackInfo): void {
  const key = d.key('server');
  const id = workloadId(g, d, stack, pick(g, ['server', 'tf', 'serving']));
  const gpu = has(g, 10);
  const modelName = () => match(g, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,10}$/);
  const kinds = ['gs', 'uri', 'volume', 'job', ...(gpu ? [] : (['image'] as const))] as const;
  let baked = false;
  let singleAttach = false;
  const drawModel = (name: string): DrawnSource => {
    const s = drawModelSource(g, d, stack, baked ? kinds.filter((k) => k !== 'image') : kinds, undefined, name);
    baked ||= s.source.fn === 'ModelSource.fromImage';
    singleAttach ||= s.singleAttach;
    return s;
  };
  const modelProps: Record<string, Val> = {};
  if (has(g, 60)) {
    const name = modelName();
    modelProps.modelName = name;
    modelProps.model = drawModel(name).source;
  } else {
    const names = [...new Set(some(g, 1, 3, modelName))];
    modelProps.models = names.map((name) => {
      const source = drawModel(name).source;
      const policy = int(g, 0, 3);
      const versions = [...new Set(some(g, 1, 3, () => int(g, 0, 2000000000)))];
      return props({
        name,
        source,
        versionPolicy:
          policy === 1
            ? new Call('VersionPolicy.latest', has(g, 50) ? [int(g, 1, 5)] : [])
            : policy === 2
              ? new Call('VersionPolicy.all', [])
              : policy === 3
                ? new Call('VersionPolicy.specific', [versions])
                : undefined,
        versionLabels: policy === 3 && has(g, 50) ? Object.fromEntries(versions.map((v, i) => [['stable', 'canary', 'next'][i], v])) : undefined,
      });
    });
  }
  const version = opt(g, 20, () => pick(g, ['2.20.0', '2.19.1']));
  const sizes = [...new Set(some(g, 0, 3, () => int(g, 1, 64)))].sort((a, b) => a - b);
  d.add({
    key,
    kind: 'TfServingBackend',
    scope: stack.key,
    id,
    props: props({
      ...modelProps,
      version,
      image: baked ? undefined : opt(g, 15, () => `${repository(g, 'tensorflow-serving')}:${version ?? '2.20.0'}${gpu ? '-gpu' : ''}`),
      batching: opt(g, 20, () =>
        props({
          maxBatchSize: sizes.length > 0 ? sizes[sizes.length - 1] : opt(g, 50, () => int(g, 1, 128)),
          batchTimeoutMicros: opt(g, 40, () => int(g, 0, 100000)),
          maxEnqueuedBatches: opt(g, 30, () => int(g, 1, 1000)),
          numBatchThreads: opt(g, 30, () => int(g, 1, 64)),
          allowedBatchSizes: sizes.length > 0 ? sizes : undefined,
          padVariableLengthInputs: opt(g, 30, () => bool(g)),
        }),
      ),
      metrics: opt(g, 20, () => bool(g)),
      metricsNamespace: opt(g, 15, () => otherNamespace(g, d)),
      modelConfigPollSeconds: opt(g, 15, () => int(g, 1, 3600)),
      fileSystemPollSeconds: opt(g, 15, () => int(g, 1, 3600)),
      restApiTimeoutMs: opt(g, 15, () => int(g, 1, 600000)),
      restApiNumThreads: opt(g, 15, () => int(g, 1, 1024)),
      enableModelWarmup: opt(g, 15, () => bool(g)),
      intraOpParallelism: opt(g, 10, () => int(g, 1, 1024)),
      interOpParallelism: opt(g, 10, () => int(g, 1, 1024)),
      gpuMemoryFraction: gpu ? opt(g, 40, () => pick(g, [0.5, 1, 0.25, 0.001])) : undefined,
      extraArgs: opt(g, 15, () =>
        some(g, 1, 2, () =>
          pick(g, ['--enable_signature_method_name_check=true', '--grpc_max_threads=8', `--xla_cpu_compilation_enabled=${bool(g)}`]),
        ),
      ),
      healthCheck: opt(g, 20, () => ({ startupTimeoutSeconds: int(g, 10, 7200) })),
      gpuNodeSelector: gpu ? opt(g, 50, () => ({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' })) : undefined,
      ...drawServed(g, d, stack, id, [8500], singleAttach, { gpu }),
    }),
  });
  d.workloads.push({ key, kind: 'TfServingBackend', stack, ports: ['http', 'grpc'] });
}

function drawFlaskFrontend(g: G, d: Draw, stack: StackInfo): void {
  const key = d.key('web');
  const id = workloadId(g, d, stack, pick(g, ['web', 'frontend', 'ui']));
  const servers = d.workloads.filter((w) => w.kind === 'InferenceService' || w.kind === 'TfServingBackend');
  const sameNs = servers.filter((w) => w.stack.namespace === stack.namespace);
  const pool = has(g, 15) ? servers : sameNs;
  const backend = pool.length > 0 && has(g, 70) ? new Ref(pick(g, pool).key) : undefined;
  const backends =
    pool.length > 0 && has(g, 20)
      ? Object.fromEntries(some(g, 1, 2, (i) => [['classifier', 'fraudModel'][i], new Ref(pick(g, pool).key)]))
      : undefined;
  d.add({
    key,
    kind: 'FlaskFrontend',
    scope: stack.key,
    id,
    props: props({
      image: d.pythonImage(true),
      backend,
      backends,
      wsgiApp: opt(g, 20, () => pick(g, ['app:app', 'web.app:create_app()', 'pkg.mod:application'])),
      workers: opt(g, 20, () => int(g, 1, 64)),
      threads: opt(g, 20, () => int(g, 1, 256)),
      timeoutSeconds: opt(g, 20, () => int(g, 1, 3600)),
      healthPath: opt(g, 20, () => urlPath(g)),
      secretKey: opt(g, 15, () => props({ secretName: dnsSubdomain(g), key: opt(g, 50, () => dataKey(g)) })),
      metrics: opt(g, 15, () => props({ path: opt(g, 50, () => urlPath(g)), namespace: opt(g, 30, () => otherNamespace(g, d)) })),
      ...drawServed(g, d, stack, id, [], false),
    }),
  });
  d.workloads.push({ key, kind: 'FlaskFrontend', stack });
}

const CRONS = ['0 3 * * *', '*/15 * * * *', '@daily', '@hourly', '0 0 1 JAN *', '30 2 * * MON-FRI', '5,35 */2 1-15 * 0'];

/** Props TrainingJob and BatchInferenceJob share; `taken` are mount paths of the job's own volumes. */
function drawJobProps(g: G, d: Draw, taken: string[], o: { scheduled: boolean; gpu: boolean }): Record<string, Val> {
  const python = has(g, 30);
  const inputs = opt(g, 30, () =>
    some(g, 1, 2, () => {
      const mountPath = absPath(g, taken);
      taken.push(mountPath);
      return has(g, 50)
        ? new Call('DataInput.fromVolume', [dnsSubdomain(g), props({ mountPath, subPath: opt(g, 40, () => relPath(g)) })])
        : (() => {
            const scheme = pick(g, ['s3', 'gs', 'https'] as const);
            return new Call('DataInput.fromUri', [
              uri(g, scheme),
              props({
                mountPath,
                credentialsSecret: opt(g, 30, () => dnsSubdomain(g)),
                downloaderImage: opt(g, 20, () => imageRef(g, 'rclone')),
                sizeLimit: opt(g, 30, () => quantity(g, ['Gi', 'Mi'])),
                s3Endpoint: scheme === 's3' ? opt(g, 30, () => 'http://minio.storage.svc:9000') : undefined,
              }),
            ]);
          })();
    }),
  );
  return {
    image: python ? d.pythonImage(false) : imageRef(g, 'train'),
    ...runArgs(
      python,
      opt(g, 40, () => some(g, 1, 3, () => lineText(g))),
      opt(g, 25, () => some(g, 1, 3, () => lineText(g))),
    ),
    inputs,
    uid: opt(g, 15, () => int(g, 1, 2147483647)),
    gpuNodeSelector: o.gpu ? opt(g, 50, () => ({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' })) : undefined,
    backoffLimit: opt(g, 20, () => int(g, 0, 100)),
    activeDeadlineSeconds: opt(g, 20, () => int(g, 1, 604800)),
    ttlSecondsAfterFinished: opt(g, 15, () => int(g, 0, 604800)),
    schedule: o.scheduled
      ? props({
          cron: pick(g, CRONS),
          timeZone: opt(g, 30, () => pick(g, ['UTC', 'Europe/Berlin', 'America/New_York', 'Etc/GMT+2'])),
          concurrencyPolicy: opt(g, 30, () => pick(g, ['Forbid', 'Replace', 'Allow'])),
          successfulJobsHistoryLimit: opt(g, 20, () => int(g, 0, 100)),
          failedJobsHistoryLimit: opt(g, 20, () => int(g, 0, 100)),
          startingDeadlineSeconds: opt(g, 20, () => int(g, 10, 86400)),
          suspend: opt(g, 20, () => bool(g)),
        })
      : undefined,
    queue: opt(g, 15, () => labelValue(g) || 'team-gpu'),
    ...drawPodProps(g, { gpu: o.gpu }),
  };
}

function drawTrainingJob(g: G, d: Draw, stack: StackInfo): void {
  const key = d.key('train');
  const id = workloadId(g, d, stack, pick(g, ['train', 'trainer', 'finetune']));
  const named = has(g, 20);
  // Unnamed claims still reserve the name the library derives from the id.
  const claim = d.claimName(stack.namespace, named ? dnsLabel(g) : toDnsLabel(id), 52);
  const name = named ? claim : undefined;
  const distributed = has(g, 20)
    ? new Call(pick(g, ['Distributed.pytorch', 'Distributed.tensorflow'] as const), [
        props({ workers: int(g, 2, 6), port: opt(g, 30, () => port(g)) }),
      ])
    : undefined;
  const scheduled = !distributed && has(g, 25);
  const gpu = has(g, 10);
  const hasOutput = has(g, 70);
  const modelDir = opt(g, 30, () => absPath(g));
  const accessMode = distributed ? 'ReadWriteMany' : pick(g, ['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod']);
  const modelOutput = hasOutput
    ? has(g, 60)
      ? new Call('ModelOutput.newClaim', [
          props({
            size: quantity(g, ['Gi', 'Mi', 'Ti'], 100),
            storageClassName: opt(g, 30, () => pick(g, ['standard', 'efs-sc', 'premium-rwo'])),
            accessMode: accessMode === 'ReadWriteOnce' ? opt(g, 50, () => accessMode) : accessMode,
            name: opt(g, 20, () => d.claimName(`${stack.namespace}/pvc`, dnsLabel(g), 63)),
          }),
        ])
      : new Call('ModelOutput.existingClaim', [
          dnsSubdomain(g),
          props({ accessMode: accessMode === 'ReadWriteOnce' ? opt(g, 50, () => accessMode) : accessMode, subPath: opt(g, 40, () => relPath(g)) }),
        ])
    : undefined;
  const job = drawJobProps(g, d, [modelDir ?? '/models'], { scheduled, gpu });
  // Several GPUs per distributed PyTorch worker need torchrun.
  if (distributed?.fn === 'Distributed.pytorch' && gpu) job.command = ['torchrun', 'train.py'];
  d.add({
    key,
    kind: 'TrainingJob',
    scope: stack.key,
    id,
    props: props({
      name,
      ...job,
      modelOutput,
      modelDir,
      modelReadyFile: modelOutput ? opt(g, 25, () => pick(g, ['metadata.json', 'DONE', 'model/ready.txt'])) : undefined,
      distributed,
    }),
  });
  d.workloads.push({
    key,
    kind: 'TrainingJob',
    stack,
    ...(modelOutput ? { output: { singleAttach: accessMode !== 'ReadWriteMany', scheduled, readers: 0 } } : {}),
  });
}

function drawBatchInferenceJob(g: G, d: Draw, stack: StackInfo): void {
  const key = d.key('score');
  const id = workloadId(g, d, stack, pick(g, ['score', 'batch', 'predict']));
  const named = has(g, 20);
  // Unnamed claims still reserve the name the library derives from the id.
  const claim = d.claimName(stack.namespace, named ? dnsLabel(g) : toDnsLabel(id), 52);
  const name = named ? claim : undefined;
  const model = drawModelSource(g, d, stack, ['uri', 'volume', 'job'], 1);
  const modelPath = opt(g, 30, () => absPath(g));
  const outputDir = opt(g, 30, () => absPath(g, [modelPath ?? '/models']));
  const output = opt(g, 50, () =>
    has(g, 50)
      ? new Call('ModelOutput.newClaim', [
          props({ size: quantity(g, ['Gi', 'Mi'], 100), accessMode: opt(g, 30, () => pick(g, ['ReadWriteOnce', 'ReadWriteMany'])) }),
        ])
      : new Call('ModelOutput.existingClaim', [dnsSubdomain(g), props({ subPath: opt(g, 40, () => relPath(g)) })]),
  );
  const gpu = has(g, 10);
  d.add({
    key,
    kind: 'BatchInferenceJob',
    scope: stack.key,
    id,
    props: props({
      name,
      ...drawJobProps(g, d, [modelPath ?? '/models', outputDir ?? '/output'], { scheduled: has(g, 20), gpu }),
      model: model.source,
      modelPath,
      output,
      outputDir,
    }),
  });
  d.workloads.push({ key, kind: 'BatchInferenceJob', stack });
}

function drawArgoCd(g: G, d: Draw): void {
  const key = d.key('argo');
  d.add({ key, kind: 'MlStack', id: 'argocd', props: { namespace: 'argocd', createNamespace: false } });
  const argo: StackInfo = { key, stackName: 'argocd', namespace: 'argocd' };
  const targets = d.stacks.filter(() => has(g, 70));
  for (const target of targets.length > 0 ? targets : [d.stacks[0]]) {
    d.add({
      key: d.key('app'),
      kind: 'ArgoCdApplication',
      scope: argo.key,
      id: target.stackName,
      props: props({
        stack: new Ref(target.key),
        repoURL: pick(g, ['https://git.example.com/ml.git', 'ssh://git@git.example.com/ml.git', 'git@github.com:acme/ml.git']),
        path: opt(g, 30, () => pick(g, ['.', 'dist/manifests', relPath(g)])),
        targetRevision: opt(g, 30, () => pick(g, ['main', 'v1.2.3', 'HEAD', 'a'.repeat(40)])),
        render: opt(g, 30, () => pick(g, ['plugin', 'committed'])),
        project: opt(g, 20, () => dnsLabel(g)),
        argoNamespace: opt(g, 20, () => pick(g, ['argocd', 'ci'])),
        destinationServer: opt(g, 20, () => pick(g, ['https://kubernetes.default.svc', 'https://10.0.0.1:6443'])),
        automated: opt(g, 30, () => bool(g)),
      }),
    });
  }
  d.stacks.push(argo);
}

/** `server.allowFrom(client, { ports })`: clients admitted on named ports beyond the wiring. */
function drawAllowFrom(g: G, d: Draw): void {
  const servers = d.workloads.filter((w) => w.ports);
  if (servers.length === 0) return;
  const server = pick(g, servers);
  const clients = d.workloads.filter((w) => w !== server && w.stack.namespace === server.stack.namespace);
  if (clients.length === 0) return;
  const ports = server.ports!;
  const options = opt(g, 60, () => ({ ports: [...new Set(some(g, 1, 2, () => pick(g, ports)))] }));
  d.calls.push({ target: server.key, method: 'allowFrom', args: [new Ref(pick(g, clients).key), ...(options ? [options] : [])] });
}

const WORKLOADS = [drawInferenceService, drawTfServing, drawFlaskFrontend, drawTrainingJob, drawBatchInferenceJob];

/**
 * A whole valid configuration: one or two stacks with one to four workloads each (jobs tend to
 * come first so servers can read their models), sometimes an Argo CD stack of Applications and
 * allowFrom calls. Small on purpose: the shared check costs ~10 ms per workload.
 */
export function drawApp(g: G, dirs: Contexts): AppSpec {
  const d = new Draw(g, dirs);
  const stacks = some(g, 1, has(g, 20) ? 2 : 1, (i) => drawStack(g, d, i));
  for (const stack of stacks) {
    const kinds = some(g, 1, 4, () => pick(g, WORKLOADS));
    // Producers first: a reader can only take the model of a job drawn before it.
    kinds.sort((a, b) => Number(b === drawTrainingJob) - Number(a === drawTrainingJob));
    for (const draw of kinds) draw(g, d, stack);
  }
  if (has(g, 15)) drawArgoCd(g, d);
  for (let i = has(g, 15) ? int(g, 1, 2) : 0; i > 0; i--) drawAllowFrom(g, d);
  return d.spec();
}
