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
  return new MlValidationError(scope, prop, what, value, fix).message;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? s.slice(0, 117) + '...' : s;
  } catch {
    return String(value);
  }
}

/** Whole number in [min, max] or throw naming the prop. */
export function checkInt(scope: IConstruct, prop: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    fail(scope, prop, `must be a whole number ${range}`, value, `set ${prop} to a whole number ${range}`);
  }
}

export function checkPort(scope: IConstruct, prop: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    fail(scope, prop, 'must be a TCP port from 1 to 65535', value, `choose a port number from 1 to 65535 (8080 is the usual HTTP port for an unprivileged container)`);
  }
}

/** cdk8s collects `node.addValidation` results into one Error with this first line (cdk8s App.synth/validate). */
const CDK8S_VALIDATION = /^Validation failed with the following errors:\n/;

/** True for bad input (ours, or cdk8s's collected validations); false for a bug in the user's or our code. */
export function isInputError(e: unknown): boolean {
  return e instanceof MlInputError || (e instanceof Error && e.constructor === Error && CDK8S_VALIDATION.test(e.message));
}
