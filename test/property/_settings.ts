/**
 * How many cases the property tests run and with which seed. `npm test` runs at least 1,000 cases
 * per property with a fresh seed, printed with the case count and time; a failure is shrunk by
 * fast-check and reported with its seed, so it can be replayed:
 *
 *   CDK8S_ML_PROPERTY_RUNS=20000 npx jest test/property      # a longer run
 *   CDK8S_ML_PROPERTY_SEED=1234567 npx jest test/property    # replay a seed (and its shrinking)
 *
 * A failure's message holds the configuration as the TypeScript a user would write, and (property
 * 2) which value was corrupted how.
 */
import * as fc from 'fast-check';
import type { Drawn } from './_cases';
import { minimize, signature } from './_minimize';
import { AppSpec, renderCode } from './_spec';

/**
 * Cases per property: CDK8S_ML_PROPERTY_RUNS for both, else each property's default (1,000 valid
 * configurations, ~45 s here; 3,000 corrupted ones, most of which fail fast, ~40 s).
 */
export function runs(fallback: number): number {
  return positiveInt('CDK8S_ML_PROPERTY_RUNS', fallback);
}
/**
 * CDK8S_ML_PROPERTY_SEED (replay), else in CI (CI set, as .ci/run's runner sets it) a fixed seed, else
 * a fresh one each run; always printed. CI is fixed so a merge is never decided by the draw: a fresh
 * seed once found a rare failure that was not reproduced in time (see the issue 14 note); local runs
 * keep exploring new cases.
 */
/** The seed CI runs with; both properties pass with it. */
const CI_SEED = 490165909;
export const SEED = seed();

function seed(): number {
  const raw = process.env.CDK8S_ML_PROPERTY_SEED;
  if ((raw === undefined || raw === '') && process.env.CI) return CI_SEED;
  if (raw === undefined || raw === '') return (Date.now() ^ Math.floor(Math.random() * 0x100000000)) | 0;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`CDK8S_ML_PROPERTY_SEED must be a whole number (the seed a run printed), got ${JSON.stringify(raw)}`);
  return n | 0;
}
/**
 * The configurations' source: fast-check's `gen` (a configuration is drawn step by step), its
 * shrinking capped so a failure is reported in seconds, not minutes (each shrink step synthesizes).
 */
export const MAX_SHRINKS = positiveInt('CDK8S_ML_PROPERTY_MAX_SHRINKS', 300);
export const configurations = (): fc.Arbitrary<fc.GeneratorValue> => fc.limitShrink(fc.gen(), MAX_SHRINKS);

/** Jest's timeout for a property of `n` cases: generous, so a long run or a slow shrink is not cut off. */
export function timeoutMs(n: number): number {
  return Math.max(600_000, n * 600);
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1, got ${JSON.stringify(raw)}`);
  return n;
}

/** What one property is: how a case is drawn, how it is checked (throws on failure), what a pass adds to the summary. */
export interface PropertyDefinition<T> {
  readonly title: string;
  readonly runs: number;
  draw(g: fc.GeneratorValue): Drawn;
  check(spec: AppSpec): T;
  passed?(result: T): void;
  summary?(): string;
}

/**
 * fc.assert with the run count and seed above; prints what ran (also when it fails). A failure is
 * shrunk by fast-check, then minimized (./_minimize), and reported as the smallest configuration
 * as TypeScript, its error, and how the case fast-check found was made.
 */
export function assertProperty<T>(p: PropertyDefinition<T>): void {
  const start = Date.now();
  let last: { drawn: Drawn; error: unknown } | undefined;
  const property = fc.property(configurations(), (g) => {
    const drawn = p.draw(g);
    let result: T;
    try {
      result = p.check(drawn.spec);
    } catch (e) {
      last = { drawn, error: e };
      throw e;
    }
    p.passed?.(result);
  });
  let failed = true;
  try {
    fc.assert(property, { numRuns: p.runs, seed: SEED });
    failed = false;
  } catch (e) {
    if (!last) throw e;
    throw new Error(failureReport(p, last.drawn, last.error, e as Error));
  } finally {
    const seconds = ((Date.now() - start) / 1000).toFixed(1);
    const extra = p.summary?.() ?? '';
    console.log(
      `${p.title}: ${failed ? 'FAILED' : 'passed'}, ${p.runs} cases, seed ${SEED}, ${seconds} s${extra ? `; ${extra}` : ''}` +
        ` (replay: CDK8S_ML_PROPERTY_SEED=${SEED}; more cases: CDK8S_ML_PROPERTY_RUNS=20000)`,
    );
  }
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // A crash is found by its stack; a report of ours (a check, a validation message) reads by its message.
  const stack = (e.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l) && !/node_modules|test\/property\//.test(l))
    .slice(0, 6);
  return [e.message, ...stack].join('\n');
}

function failureReport<T>(p: PropertyDefinition<T>, drawn: Drawn, error: unknown, fcError: Error): string {
  const failure = (s: AppSpec): string | undefined => {
    try {
      p.check(s);
      return undefined;
    } catch (e) {
      return signature(e);
    }
  };
  const small = minimize(drawn.spec, failure, signature(error));
  let smallError: unknown = error;
  try {
    p.check(small);
  } catch (e) {
    smallError = e;
  }
  const fcSummary = fcError.message
    .split('\n')
    .filter((l) => /Property failed|seed|Shrunk/.test(l))
    .join('\n');
  return [
    `${p.title} failed. Replay: CDK8S_ML_PROPERTY_SEED=${SEED}.`,
    '',
    "The smallest configuration found with the same failure (fast-check's shrinking, then constructs, calls and props removed one at a time):",
    renderCode(small),
    '',
    describeError(smallError),
    '',
    `The case fast-check found${drawn.note ? ` (${drawn.note})` : ''}:`,
    renderCode(drawn.spec),
    '',
    fcSummary,
  ].join('\n');
}
