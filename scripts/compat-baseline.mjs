#!/usr/bin/env node
// Writes the upgrade-safety baseline, test/compat/baseline/<stack>.json: the immutable fields
// (Deployment selectors, Job templates, PVC specs, Service clusterIPs, ...) of every reference stack as
// the committed snapshot test/apps/__snapshots__/reference-apps.test.ts.snap holds it. Run it when
// cutting a release, after the snapshot is final:
//
//   node scripts/compat-baseline.mjs                   # refuses if the release would break the previous one
//   node scripts/compat-baseline.mjs --allow-breaking  # bless an incompatible release (say so in the notes)
//
// Nothing else writes the baseline: `jest -u` rewrites snapshots, not these files, so a change to an
// immutable field cannot slip through test/compat/upgrade-safety.test.ts by updating snapshots.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('./register.js'); // runs the TypeScript helpers (the repo's require hook)
const { writeBaselines } = require('../test/compat/_baseline.ts');

const allowBreaking = process.argv.includes('--allow-breaking');
const { written, breaking } = writeBaselines({ allowBreaking });
for (const p of breaking) console.error(`${allowBreaking ? 'accepted' : 'breaking'}: ${p.message}`);
if (written.length === 0) {
  console.error(
    `compat-baseline: nothing written: ${breaking.length} change(s) break upgrades from the previous baseline; ` +
      'fix them, or pass --allow-breaking to bless an incompatible release',
  );
  process.exit(1);
}
for (const f of written) console.log(`wrote ${f}`);
