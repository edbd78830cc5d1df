/**
 * The public API is reviewed: etc/cdk8s-ml.api.md is API Extractor's report of what lib/index.ts exports (the built
 * .d.ts, internals stripped). A change to the public API shows up as a change to that file in the pull request.
 */
import * as fs from 'node:fs';
import { REPORT, runApiReport } from './_api-report';

test('the committed API report matches the public API', () => {
  const { result, report, messages } = runApiReport(false);
  // warnings (a public signature using a type the entry point does not export...) would stand in the report too
  expect(messages).toEqual([]);
  const committed = fs.existsSync(REPORT) ? fs.readFileSync(REPORT, 'utf8') : '';
  if (committed !== report || !result.succeeded) {
    const a = committed.split('\n');
    const b = report.split('\n');
    const i = a.findIndex((line, n) => line !== b[n]);
    const at = i < 0 ? a.length : i;
    throw new Error(
      'the public API changed: run `npm run api` and commit etc/cdk8s-ml.api.md\n' +
        `first difference at line ${at + 1}:\n  committed: ${a[at] ?? '(end of file)'}\n  now:       ${b[at] ?? '(end of file)'}`,
    );
  }
}, 60_000);
