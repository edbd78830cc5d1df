/**
 * The API report of the public API (etc/cdk8s-ml.api.md): what lib/index.ts exports, as the built .d.ts
 * (stripInternal) shows it to users. Shared by test/house/api-report.test.ts (compares) and `npm run api` (rewrites):
 * `node -r ./scripts/register.js test/house/_api-report.ts`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Extractor, ExtractorConfig, ExtractorMessageCategory, type ExtractorResult } from '@microsoft/api-extractor';

const ROOT = path.resolve(__dirname, '../..');
export const REPORT = path.join(ROOT, 'etc/cdk8s-ml.api.md');

export interface ApiReportRun {
  readonly result: ExtractorResult;
  /** The report this run wrote (in the temporary directory): what etc/cdk8s-ml.api.md should hold. */
  readonly report: string;
  /** Compiler and API Extractor errors and warnings not written into the report. */
  readonly messages: string[];
}

/**
 * Builds the .d.ts into a temporary directory under build/ (so the packages resolve from node_modules) and runs
 * API Extractor on it. localBuild: true rewrites etc/cdk8s-ml.api.md; false only compares.
 */
export function runApiReport(localBuild: boolean): ApiReportRun {
  fs.mkdirSync(path.join(ROOT, 'build'), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(ROOT, 'build', 'api-'));
  try {
    buildDts(tmp);
    const configObject = ExtractorConfig.loadFile(path.join(ROOT, 'api-extractor.json'));
    configObject.mainEntryPointFilePath = path.join(tmp, 'lib/index.d.ts');
    configObject.apiReport = { ...configObject.apiReport!, enabled: true, reportTempFolder: path.join(tmp, 'report') };
    const config = ExtractorConfig.prepare({
      configObject,
      configObjectFullPath: path.join(ROOT, 'api-extractor.json'),
      packageJsonFullPath: path.join(ROOT, 'package.json'),
    });
    const messages: string[] = [];
    const result = Extractor.invoke(config, {
      localBuild,
      messageCallback: (m) => {
        // the console messages (report changed, created...) are what the caller reports itself
        const problem = m.category !== ExtractorMessageCategory.Console && (m.logLevel === 'error' || m.logLevel === 'warning');
        if (problem) messages.push(m.formatMessageWithLocation(ROOT));
        m.handled = true;
      },
    });
    return { result, report: fs.readFileSync(path.join(tmp, 'report', 'cdk8s-ml.api.md'), 'utf8'), messages };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** tsc -p tsconfig.build.json, declarations only; a type error fails with tsc's output (the report needs a clean build). */
function buildDts(outDir: string): void {
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir, '--emitDeclarationOnly'], { cwd: ROOT, stdio: 'pipe' });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`building the .d.ts failed (tsc -p tsconfig.build.json):\n${out || (e as Error).message}`);
  }
}

if (require.main === module) {
  const { result, messages } = runApiReport(true);
  for (const m of messages) console.error(m);
  console.log(result.succeeded ? `wrote ${path.relative(ROOT, REPORT)}` : 'API Extractor failed');
  process.exitCode = result.succeeded ? 0 : 1;
}
