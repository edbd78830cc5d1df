/**
 * Property 1: any valid configuration of the public API (./_arbitraries) synthesizes,
 * deterministically (two synths of the same configuration are byte-identical), into output that
 * passes the shared output check and the strict network reachability check (test/_util/synth.ts
 * `checked`).
 */
import * as path from 'path';
import { tempDir } from '../_util/synth';
import { makeContexts } from './_arbitraries';
import { checkValid, drawValid } from './_cases';
import { assertProperty, runs, timeoutMs } from './_settings';

const RUNS = runs(1000);
const dirs = makeContexts(tempDir('cdk8s-ml-prop-'));
const outdir = path.join(tempDir('cdk8s-ml-prop-out-'), 'dist');

test('property 1: every valid configuration synthesizes, deterministically, into output that passes every check', () => {
  const sizes = { objects: 0, files: 0, cases: 0 };
  assertProperty({
    title: 'property 1 (valid configurations)',
    runs: RUNS,
    draw: g => drawValid(g, dirs),
    check: spec => checkValid(spec, outdir),
    passed: made => {
      sizes.objects += made.objects;
      sizes.files += made.files;
      sizes.cases++;
    },
    summary: () => `${(sizes.objects / Math.max(1, sizes.cases)).toFixed(1)} objects and ${(sizes.files / Math.max(1, sizes.cases)).toFixed(1)} files per case on average`,
  });
}, timeoutMs(RUNS));
