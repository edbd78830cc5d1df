import { IConstruct } from 'constructs';

/**
 * A mistake in the app's input (props, ids, wiring), as opposed to a bug in code: `MlApp.main` prints
 * these as their one-line message, and anything else with its stack trace.
 */
export class MlInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlInputError';
  }
}

/**
 * Every bad-input error of the library goes through here, so each one names the construct (kind and
 * path), the prop, the bad value and the fix, in the same order:
 *
 *   TfServingBackend 'and-gate/server': replicas must be a whole number >= 0, got -1. Fix: ...
 */
export class MlValidationError extends MlInputError {
  public readonly constructPath: string;
  public readonly prop: string;

  constructor(scope: IConstruct, prop: string, problem: string, value: unknown, fix: string) {
    const kind = scope.constructor?.name ?? 'Construct';
    const path = scope.node.path || '<app>';
    super(`${kind} '${path}': ${prop} ${problem}, got ${describe(value)}. Fix: ${fix}`);
    this.name = 'MlValidationError';
    this.constructPath = path;
    this.prop = prop;
  }
}

/** Throws an MlValidationError; returns never so it can end an expression. */
export function fail(scope: IConstruct, prop: string, problem: string, value: unknown, fix: string): never {
  throw new MlValidationError(scope, prop, problem, value, fix);
}

/** The same message as a string, for `node.addValidation` (which collects instead of throwing). */
export function problem(scope: IConstruct, prop: string, what: string, value: unknown, fix: string): string {
  const error = new MlValidationError(scope, prop, what, value, fix);
  PROBLEMS.set(error.message, error);
  return error.message;
}

/** The errors behind problem() messages, so MlApp can throw them as what they are (collectedValidationError). */
const PROBLEMS = new Map<string, MlValidationError>();

export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    // JSON.stringify gives undefined for functions and symbols.
    const s = JSON.stringify(value) ?? String(value);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    // Circular objects (a construct), BigInt; an object without a prototype has no toString either.
    try {
      return String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
}

/** The largest integer most Kubernetes fields hold (int32: replicas, seconds, ports...). */
export const INT32_MAX = 2147483647;

/** Whole number in [min, max] (by default at most INT32_MAX) or throw naming the prop. */
export function checkInt(scope: IConstruct, prop: string, value: unknown, min: number, maxValue?: number): void {
  if (value === undefined) return;
  const max = maxValue ?? INT32_MAX;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    // The implicit upper bound (an int32) is only worth a word when the value passes it.
    const range = maxValue === undefined && !(typeof value === 'number' && value > max) ? `>= ${min}` : `from ${min} to ${max}`;
    fail(scope, prop, `must be a whole number ${range}`, value, `set ${prop} to a whole number ${range}`);
  }
}

export function checkPort(scope: IConstruct, prop: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    fail(
      scope,
      prop,
      'must be a TCP port from 1 to 65535',
      value,
      `choose a port number from 1 to 65535 (8080 is the usual HTTP port for an unprivileged container)`,
    );
  }
}

/** cdk8s collects `node.addValidation` results into one Error with this first line (cdk8s App.synth/validate). */
const CDK8S_VALIDATION = /^Validation failed with the following errors:\n/;

/** True for bad input (ours, or cdk8s's collected validations); false for a bug in the user's or our code. */
export function isInputError(e: unknown): boolean {
  return e instanceof MlInputError || (e instanceof Error && e.constructor === Error && CDK8S_VALIDATION.test(e.message));
}

/**
 * cdk8s collects `node.addValidation` results into one plain Error (`[path] message` per line).
 * When every line is a problem() of ours, the first as an MlValidationError (its message lists
 * them all), so late checks (a claim's readers, names that clash across workloads) reach the user
 * like any other bad prop; undefined when a line is someone else's (a user's own validation).
 */
export function collectedValidationError(e: unknown): MlValidationError | undefined {
  if (!(e instanceof Error) || e.constructor !== Error || !CDK8S_VALIDATION.test(e.message)) return undefined;
  let rest = e.message.replace(CDK8S_VALIDATION, '');
  const ours: MlValidationError[] = [];
  for (const [message, error] of PROBLEMS) {
    if (!rest.includes(`] ${message}`)) continue;
    ours.push(error);
    rest = rest.split(`] ${message}`).join(']');
  }
  // What is left must be the `[path]` prefixes alone.
  if (ours.length === 0 || rest.replace(/\[[^\]]*\]/g, '').trim() !== '') return undefined;
  for (const error of ours) PROBLEMS.delete(error.message);
  const first = ours.sort((a, b) => e.message.indexOf(a.message) - e.message.indexOf(b.message))[0];
  if (ours.length > 1) first.message = ours.map((x) => x.message).join('\n');
  return first;
}
