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
import { openServerSample, ServerSample, serverCases } from './_server';
import { assertProperty, runs, timeoutMs } from './_settings';

const RUNS = runs(3000);
const SERVER_CASES = serverCases();
const dirs = makeContexts(tempDir('cdk8s-ml-prop-'));
const cases = tempDir('cdk8s-ml-prop-cases-');

let server: ServerSample;
beforeAll(async () => {
  // Only accepted corruptions have output (about one case in seven): each of them, up to SERVER_CASES.
  server = await openServerSample(SERVER_CASES, 1);
}, 60 * 60_000);
afterAll(() => server?.close(), 150_000);

test(
  'property 2: a valid configuration with one value corrupted fails with a validation error ' +
    'naming construct and prop, or its output passes every check',
  () => {
    const outcome = { rejected: 0, accepted: 0 };
    assertProperty({
      title: 'property 2 (one value corrupted)',
      runs: RUNS,
      draw: (g) => drawCorrupted(g, dirs),
      check: (spec) => checkCorrupted(spec, cases, (objects) => server.offer(objects)),
      passed: (result) => outcome[result]++,
      summary: () =>
        `${outcome.rejected} rejected with an MlValidationError, ${outcome.accepted} accepted ` +
        `with output that passed every check; ${server.summary()}`,
    });
    expect(server.sent).toBe(Math.min(SERVER_CASES, outcome.accepted));
  },
  timeoutMs(RUNS),
);
