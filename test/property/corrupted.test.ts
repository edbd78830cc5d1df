/**
 * Property 2: a valid configuration with ONE value corrupted (./_corrupt: wrong types, values out
 * of range, empty or huge, special characters, newlines, YAML and Dockerfile metacharacters,
 * unicode, null, arrays and objects where scalars are due, wrong wiring, values valid elsewhere)
 * either fails with an MlValidationError whose message names the construct (a path in the app),
 * the prop, the value and the fix, never another error, and leaves an existing output directory
 * as it was; or it is accepted, and its output still passes every check (test/_util/synth.ts
 * `checked`).
 */
import { tempDir } from '../_util/synth';
import { makeContexts } from './_arbitraries';
import { checkCorrupted, drawCorrupted } from './_cases';
import { assertProperty, runs, timeoutMs } from './_settings';

const RUNS = runs(3000);
const dirs = makeContexts(tempDir('cdk8s-ml-prop-'));
const cases = tempDir('cdk8s-ml-prop-cases-');

test('property 2: a valid configuration with one value corrupted fails with a validation error naming construct and prop, or its output passes every check', () => {
  const outcome = { rejected: 0, accepted: 0 };
  assertProperty({
    title: 'property 2 (one value corrupted)',
    runs: RUNS,
    draw: g => drawCorrupted(g, dirs),
    check: spec => checkCorrupted(spec, cases),
    passed: result => outcome[result]++,
    summary: () => `${outcome.rejected} rejected with an MlValidationError, ${outcome.accepted} accepted with output that passed every check`,
  });
}, timeoutMs(RUNS));
