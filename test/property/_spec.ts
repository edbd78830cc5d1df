/**
 * A configuration of the public API as data, so that a property test can generate it, corrupt one
 * value of it, build it, and print it as the TypeScript a user would have written.
 *
 * A configuration is a list of constructs (stacks, workloads, Argo CD applications) built in order,
 * and method calls on them (`server.allowFrom(client)`). Props are plain data in which `Call`
 * stands for a static factory (`ModelSource.fromUri(...)`) and `Ref` for a construct built earlier
 * (wiring by object reference). One Call object used twice is one object in the built app (one
 * PythonImage run by two workloads), and stays so when a value inside it is corrupted.
 */
import * as fc from 'fast-check';
import {
  ArgoCdApplication,
  BatchInferenceJob,
  DataInput,
  Distributed,
  EnvFrom,
  EnvValue,
  Exposure,
  FlaskFrontend,
  InferenceService,
  MlApp,
  MlStack,
  ModelImage,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  Toleration,
  TrainingJob,
  VersionPolicy,
} from '../../lib';
import { NetworkConnection } from '../../lib/check';

export const FACTORIES = {
  'ModelSource.fromUri': ModelSource.fromUri,
  'ModelSource.fromVolume': ModelSource.fromVolume,
  'ModelSource.fromImage': ModelSource.fromImage,
  'ModelSource.fromTrainingJob': ModelSource.fromTrainingJob,
  'ModelImage.fromDirectory': ModelImage.fromDirectory,
  'PythonImage.fromDirectory': PythonImage.fromDirectory,
  'Exposure.clusterInternal': Exposure.clusterInternal,
  'Exposure.loadBalancer': Exposure.loadBalancer,
  'Exposure.ingress': Exposure.ingress,
  'EnvValue.fromValue': EnvValue.fromValue,
  'EnvValue.fromSecret': EnvValue.fromSecret,
  'EnvValue.fromConfigMap': EnvValue.fromConfigMap,
  'EnvValue.fromFieldRef': EnvValue.fromFieldRef,
  'EnvFrom.secret': EnvFrom.secret,
  'EnvFrom.configMap': EnvFrom.configMap,
  'Toleration.equal': Toleration.equal,
  'Toleration.exists': Toleration.exists,
  'Distributed.pytorch': Distributed.pytorch,
  'Distributed.tensorflow': Distributed.tensorflow,
  'ModelOutput.newClaim': ModelOutput.newClaim,
  'ModelOutput.existingClaim': ModelOutput.existingClaim,
  'DataInput.fromVolume': DataInput.fromVolume,
  'DataInput.fromUri': DataInput.fromUri,
  'VersionPolicy.latest': VersionPolicy.latest,
  'VersionPolicy.all': VersionPolicy.all,
  'VersionPolicy.specific': VersionPolicy.specific,
} as const;
export type FactoryName = keyof typeof FACTORIES;

/** A static factory call; its args are values too. */
export class Call {
  constructor(
    public readonly fn: FactoryName,
    public args: Val[],
  ) {}
}
/** A construct built earlier in the configuration, by its key. */
export class Ref {
  constructor(public readonly key: string) {}
}

export type Val =
  | undefined
  | null
  | boolean
  | number
  | string
  | bigint
  | symbol
  | ((...a: unknown[]) => unknown)
  | Call
  | Ref
  | Val[]
  | { [k: string]: Val };

export const CONSTRUCTS = {
  MlStack,
  InferenceService,
  TfServingBackend,
  FlaskFrontend,
  TrainingJob,
  BatchInferenceJob,
  ArgoCdApplication,
} as const;
export type ConstructKind = keyof typeof CONSTRUCTS;

export interface NodeSpec {
  /** The variable name in the rendered code and the target of Refs. */
  readonly key: string;
  readonly kind: ConstructKind;
  /** Key of the scope (a stack), or undefined for the app. */
  readonly scope?: string;
  id: Val;
  props: Val;
}

export interface MethodSpec {
  readonly target: string;
  readonly method: 'allowFrom';
  args: Val[];
}

export interface AppSpec {
  readonly nodes: NodeSpec[];
  readonly calls: MethodSpec[];
}

/** What building a configuration produced. */
export interface Built {
  readonly app: MlApp;
  readonly constructs: Map<string, any>;
  /** Connections allowFrom opens that the output alone does not imply (declared to the strict network check). */
  readonly intended: NetworkConnection[];
}

/** Build the configuration into `app`: constructors, then method calls, in order. */
export function build(spec: AppSpec, app: MlApp): Built {
  const constructs = new Map<string, any>();
  const made = new Map<Call, unknown>();
  const value = (v: Val): unknown => {
    if (v instanceof Ref) return constructs.get(v.key);
    if (v instanceof Call) {
      if (!made.has(v)) made.set(v, (FACTORIES[v.fn] as (...a: unknown[]) => unknown)(...v.args.map(value)));
      return made.get(v);
    }
    if (Array.isArray(v)) return v.map(value);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]));
    return v;
  };
  for (const n of spec.nodes) {
    const scope = n.scope === undefined ? app : constructs.get(n.scope);
    const Kind = CONSTRUCTS[n.kind] as unknown as new (...a: unknown[]) => unknown;
    constructs.set(n.key, new Kind(scope, value(n.id), value(n.props)));
  }
  const intended: NetworkConnection[] = spec.nodes.flatMap((n) => outsideNamespaces(n, constructs.get(n.key)));
  for (const c of spec.calls) {
    const target = constructs.get(c.target);
    const args = c.args.map(value) as [any, any];
    target[c.method](...args);
    intended.push(...allowFromConnections(target, args[0], args[1]));
  }
  return { app, constructs, intended };
}

/**
 * Where the ingress controller and Prometheus run is in the props, not in the output (the check
 * assumes ingress-nginx and monitoring): the connections from those namespaces the props ask for.
 */
function outsideNamespaces(n: NodeSpec, built: any): NetworkConnection[] {
  if (!['InferenceService', 'TfServingBackend', 'FlaskFrontend'].includes(n.kind) || !isPlainObject(n.props)) return [];
  const p = n.props as Record<string, any>;
  const to = `Deployment/${built.namespaceName}/${built.workloadName}`;
  const portNamed = (name: unknown) => built._core.servicePorts.find((sp: any) => sp.name === name)?.targetPort;
  const out: NetworkConnection[] = [];
  // An accepted configuration holds a namespace name there, or nothing (the default); a corruption
  // accepted as the default (a reference to a construct not built yet is undefined) counts as that.
  const ns = (v: unknown, fallback: string) => `probe:${typeof v === 'string' ? v : fallback}`;
  const exposure = p.exposure;
  if (exposure instanceof Call && exposure.fn === 'Exposure.ingress')
    out.push({ from: ns((exposure.args[0] as any)?.controllerNamespace, 'ingress-nginx'), to, port: portNamed('http') });
  if (n.kind === 'TfServingBackend' && p.metrics !== false) out.push({ from: ns(p.metricsNamespace, 'monitoring'), to, port: portNamed('http') });
  if (n.kind !== 'TfServingBackend' && isPlainObject(p.metrics))
    out.push({ from: ns(p.metrics.namespace, 'monitoring'), to, port: portNamed(typeof p.metrics.port === 'string' ? p.metrics.port : 'http') });
  return out;
}

/** The connections `server.allowFrom(client, { ports })` means: client pods to each named port. */
function allowFromConnections(server: any, client: any, options: { ports?: string[] } | undefined): NetworkConnection[] {
  const ports: string[] = options?.ports ?? ['http'];
  const kindOf = (w: any) => (w.deployment ? 'Deployment' : w._core?.cronJob ? 'CronJob' : 'Job');
  const ref = (w: any) => `${kindOf(w)}/${w.namespaceName}/${w.workloadName}`;
  return ports.map((name) => ({ from: ref(client), to: ref(server), port: server._core.servicePorts.find((p: any) => p.name === name).targetPort }));
}

export function isPlainObject(v: unknown): v is Record<string, Val> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Call) && !(v instanceof Ref);
}

// ---------------------------------------------------------------------------------------------
// Paths: every value of a configuration that a user writes, for corrupting one of them.

export type Step = string | number;
export type Path = readonly Step[];

/**
 * Every path to a value a user chooses: construct ids, props and everything below them, factory
 * arguments and method arguments. A Call used twice is listed once (it is one value in user code).
 */
export function valuePaths(spec: AppSpec): Path[] {
  const out: Path[] = [];
  const seen = new Set<Call>();
  const walk = (v: Val, path: Path): void => {
    out.push(path);
    if (v instanceof Call) {
      if (seen.has(v)) return;
      seen.add(v);
      v.args.forEach((a, i) => walk(a, [...path, 'args', i]));
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
    } else if (isPlainObject(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    }
  };
  spec.nodes.forEach((n, i) => {
    walk(n.id, ['nodes', i, 'id']);
    walk(n.props, ['nodes', i, 'props']);
  });
  spec.calls.forEach((c, i) => c.args.forEach((a, j) => walk(a, ['calls', i, 'args', j])));
  return out;
}

export function getAt(spec: AppSpec, path: Path): Val {
  let v: any = spec;
  for (const s of path) v = v?.[s];
  return v;
}

/**
 * A copy of the configuration with the value at `path` replaced (`undefined` deletes an object key).
 * Sharing is kept: a Call referenced twice is copied once, so the change shows in both places.
 */
export function replaceAt(spec: AppSpec, path: Path, replacement: Val): AppSpec {
  return editAt(spec, path, (parent, last) => {
    if (replacement === undefined && isPlainObject(parent) && typeof last === 'string') delete parent[last];
    else parent[last] = replacement;
  });
}

/** A copy without the value at `path`: an object key deleted, an array element or a factory argument spliced out. */
export function removeAt(spec: AppSpec, path: Path): AppSpec {
  return editAt(spec, path, (parent, last) => {
    if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
    else delete parent[last];
  });
}

/** A copy of the configuration, keeping its sharing, with `edit` applied to the parent of `path`. */
function editAt(spec: AppSpec, path: Path, edit: (parent: any, last: Step) => void): AppSpec {
  const copies = new Map<Call, Call>();
  const copy = (v: Val): Val => {
    if (v instanceof Call) {
      let c = copies.get(v);
      if (!c) {
        c = new Call(v.fn, []);
        copies.set(v, c);
        c.args = v.args.map(copy);
      }
      return c;
    }
    if (Array.isArray(v)) return v.map(copy);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
    return v;
  };
  const next: AppSpec = {
    nodes: spec.nodes.map((n) => ({ ...n, id: copy(n.id), props: copy(n.props) })),
    calls: spec.calls.map((c) => ({ ...c, args: c.args.map(copy) })),
  };
  let parent: any = next;
  for (const s of path.slice(0, -1)) parent = parent[s];
  edit(parent, path[path.length - 1]);
  return next;
}

/** `api.props.resources.cpu`, `web.props.image<PythonImage.fromDirectory>.args[1].port`. */
export function describePath(spec: AppSpec, path: Path): string {
  const parts: string[] = [];
  let v: any = spec;
  for (let i = 0; i < path.length; i++) {
    const s = path[i];
    if (i === 0 && s === 'nodes') {
      v = spec.nodes[path[1] as number];
      parts.push(v.key);
      i++;
      continue;
    }
    if (i === 0 && s === 'calls') {
      const c = spec.calls[path[1] as number];
      v = c;
      parts.push(`${c.target}.${c.method}()`);
      i++;
      continue;
    }
    if (v instanceof Call && s === 'args') {
      parts[parts.length - 1] += `<${v.fn}>`;
      v = v.args;
      continue;
    }
    parts.push(typeof s === 'number' ? `[${s}]` : `.${s}`);
    v = v?.[s];
  }
  return parts.join('').replace(/\.\[/g, '[');
}

// ---------------------------------------------------------------------------------------------
// Rendering: the configuration as the TypeScript a user would write (for failure reports).

export function renderCode(spec: AppSpec): string {
  const lines = ['const app = new MlApp();'];
  for (const n of spec.nodes) {
    lines.push(`const ${n.key} = new ${n.kind}(${n.scope ?? 'app'}, ${render(n.id)}, ${render(n.props)});`);
  }
  for (const c of spec.calls) lines.push(`${c.target}.${c.method}(${c.args.map(render).join(', ')});`);
  lines.push('app.synth();');
  return lines.join('\n');
}

export function render(v: Val): string {
  if (v instanceof Ref) return v.key;
  if (v instanceof Call) return `${v.fn}(${v.args.map(render).join(', ')})`;
  if (Array.isArray(v)) return `[${v.map(render).join(', ')}]`;
  if (isPlainObject(v)) {
    // A '__proto__' key written plainly would set the prototype: as a computed key it is a property.
    const key = (k: string) => (k === '__proto__' ? `["__proto__"]` : /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));
    const entries = Object.entries(v).map(([k, x]) => `${key(k)}: ${render(x)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol' || typeof v === 'function') return fc.stringify(v);
  return String(v);
}
