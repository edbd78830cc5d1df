import { IConstruct } from 'constructs';

/**
 * The key of state held per app (`appScoped`). Keys are global names (`Symbol.for`), like the brands:
 * two copies of cdk8s-ml in one app (a dependency bringing its own) share the app's registries.
 * @internal
 */
export interface AppKey<T> {
  readonly symbol: symbol;
  /** Never set: ties the key to the type of its state. */
  readonly _type?: T;
}

/** The key of the state named `name`; one name, one state per app. @internal */
export function appKey<T>(name: string): AppKey<T> {
  return Object.freeze({ symbol: Symbol.for(`cdk8s-ml.${name}`) });
}

/** The app's state lives on its root construct under this global symbol (see AppKey). */
const STATE = Symbol.for('cdk8s-ml.AppState');
type Stateful = { [STATE]?: Map<symbol, unknown> };

function stateOf(scope: IConstruct): Map<symbol, unknown> | undefined {
  return (scope.node.root as Stateful)[STATE];
}

/**
 * The state of `key` for the app `scope` belongs to, made by `create` the first time it is asked for.
 * Every side-channel registry of the library (image builds, compose services, manifest files, ...) is
 * one of these: keyed by the app's root, so two apps in one process never share one.
 * @internal
 */
export function appScoped<T>(scope: IConstruct, key: AppKey<T>, create: () => T): T {
  const root = scope.node.root as Stateful;
  const state = (root[STATE] ??= new Map());
  if (!state.has(key.symbol)) state.set(key.symbol, create());
  return state.get(key.symbol) as T;
}

/** The state of `key` for the app of `scope` if it was made, else undefined. @internal */
export function appScopedIfAny<T>(scope: IConstruct, key: AppKey<T>): T | undefined {
  return stateOf(scope)?.get(key.symbol) as T | undefined;
}

/** Forget the state of `key` for the app of `scope`. @internal */
export function dropAppScoped<T>(scope: IConstruct, key: AppKey<T>): void {
  stateOf(scope)?.delete(key.symbol);
}

const SYNTH_MEMO = appKey<Map<string, unknown>>('perSynth');

/** Begins the memo of perSynth for one synth of `app` (after validation: the app no longer changes). @internal */
export function beginSynthMemo(app: IConstruct): void {
  dropAppScoped(app, SYNTH_MEMO);
  appScoped(app, SYNTH_MEMO, () => new Map());
}

/** Ends what beginSynthMemo began: values perSynth computed are forgotten (the app may change before the next synth). @internal */
export function endSynthMemo(app: IConstruct): void {
  dropAppScoped(app, SYNTH_MEMO);
}

/**
 * A fact about the whole app (every stack's namespace) that each of thousands of objects asks for
 * while it is rendered: computed once per MlApp synth (after validation, until endSynth), else on
 * every call (a plain cdk8s App rendering through chart.toJson()).
 * @internal
 */
export function perSynth<T>(scope: IConstruct, key: string, compute: () => T): T {
  const memo = appScopedIfAny(scope, SYNTH_MEMO);
  if (!memo) return compute();
  if (!memo.has(key)) memo.set(key, compute());
  return memo.get(key) as T;
}
