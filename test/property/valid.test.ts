/**
 * Property 1: any valid configuration of the public API (./_arbitraries) synthesizes,
 * deterministically (two synths of the same configuration are byte-identical), into output that
 * passes the shared output check and the strict network reachability check (test/_util/synth.ts
 * `checked`).
 */
import * as path from 'node:path';
import { tempDir } from '../_util/synth';
import { makeContexts } from './_arbitraries';
import { checkValid, drawValid } from './_cases';
import { openServerSample, ServerSample, serverCases } from './_server';
import { assertProperty, runs, timeoutMs } from './_settings';

const RUNS = runs(1000);
const SERVER_CASES = Math.min(serverCases(), RUNS);
const dirs = makeContexts(tempDir('cdk8s-ml-prop-'));
const outdir = path.join(tempDir('cdk8s-ml-prop-out-'), 'dist');

let server: ServerSample;
beforeAll(async () => {
  // Every k-th case, spread over the run: SERVER_CASES of RUNS.
  server = await openServerSample(SERVER_CASES, Math.max(1, Math.floor(RUNS / Math.max(1, SERVER_CASES))));
}, 60 * 60_000);
afterAll(() => server?.close(), 150_000);

test(
  'property 1: every valid configuration synthesizes, deterministically, into output that passes every check',
  () => {
    const sizes = { objects: 0, files: 0, cases: 0 };
    assertProperty({
      title: 'property 1 (valid configurations)',
      runs: RUNS,
      draw: (g) => drawValid(g, dirs),
      check: (spec) => checkValid(spec, outdir, (objects) => server.offer(objects)),
      passed: (made) => {
        sizes.objects += made.objects;
        sizes.files += made.files;
        sizes.cases++;
      },
      summary: () =>
        `${(sizes.objects / Math.max(1, sizes.cases)).toFixed(1)} objects ` +
        `and ${(sizes.files / Math.max(1, sizes.cases)).toFixed(1)} files per case on average; ${server.summary()}`,
    });
    expect(server.sent).toBe(SERVER_CASES);
  },
  timeoutMs(RUNS),
);
