/**
 * The committed upgrade baseline: for each reference stack, the immutable fields (lib/check/upgrade.ts
 * `immutableFields`) of the manifests the previous release wrote, in test/compat/baseline/<stack>.json.
 * Written only by `node scripts/compat-baseline.mjs` from the committed jest snapshot of the reference
 * apps; read by test/compat/upgrade-safety.test.ts. Not a jest snapshot, so `jest -u` cannot rewrite it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { checkUpgrade, immutableFields, parseYamlStream, type K8sObject, type UpgradeProblem } from '../../lib/check';

export const ROOT = path.resolve(__dirname, '../..');
/** Relative to ROOT. */
export const SNAPSHOT_FILE = 'test/apps/__snapshots__/reference-apps.test.ts.snap';
export const BASELINE_DIR = 'test/compat/baseline';

/** One stack's manifests as the committed snapshot holds them. */
export interface SnapshotStack {
  readonly stack: string;
  /** The jest snapshot name, e.g. `reference apps and-gate manifests snapshot 1`. */
  readonly entry: string;
  /** The YAML stream (what MlApp wrote to manifests/<stack>.k8s.yaml). */
  readonly yaml: string;
}

export interface Baseline {
  readonly about: string;
  readonly stack: string;
  /** package.json version when the baseline was written: the release it describes. */
  readonly version: string;
  readonly snapshot: { readonly file: string; readonly entry: string; readonly sha256: string };
  readonly objects: K8sObject[];
}

const ENTRY = /^reference apps (.+) manifests snapshot \d+$/;

/**
 * Every stack's YAML in a jest snapshot file. Snapshot files are CommonJS (`exports[\`name\`] = \`...\``);
 * with `escapeString: false` a string is stored as `\n"<text>"\n`.
 */
export function snapshotStacks(snapshotText: string): SnapshotStack[] {
  const entries: Record<string, unknown> = {};
  vm.runInNewContext(snapshotText, { exports: entries });
  return Object.entries(entries).flatMap(([entry, value]) => {
    const m = ENTRY.exec(entry);
    if (!m) return [];
    if (typeof value !== 'string' || !value.startsWith('\n"') || !value.endsWith('"\n')) {
      throw new Error(`${SNAPSHOT_FILE}: entry ${JSON.stringify(entry)} is not a string snapshot of the form \\n"..."\\n`);
    }
    return [{ stack: m[1], entry, yaml: value.slice(2, -2) }];
  });
}

export function readSnapshotStacks(): SnapshotStack[] {
  return snapshotStacks(fs.readFileSync(path.join(ROOT, SNAPSHOT_FILE), 'utf8'));
}

export const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex');

export function baselineOf(s: SnapshotStack, version: string): Baseline {
  return {
    about:
      'Immutable fields of the manifests this release writes for the reference stack. Written by `node scripts/compat-baseline.mjs` ' +
      `from ${SNAPSHOT_FILE}, at a release only; test/compat/upgrade-safety.test.ts holds today's output against it.`,
    stack: s.stack,
    version,
    snapshot: { file: SNAPSHOT_FILE, entry: s.entry, sha256: sha256(s.yaml) },
    objects: immutableFields(parseYamlStream(s.yaml)),
  };
}

export const baselinePath = (stack: string): string => path.join(ROOT, BASELINE_DIR, `${stack}.json`);

export function readBaselines(): Baseline[] {
  const dir = path.join(ROOT, BASELINE_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Baseline);
}

export interface WriteResult {
  readonly written: readonly string[];
  /** What applying each stack's new baseline over its old one breaks: written only when empty or allowed. */
  readonly breaking: readonly UpgradeProblem[];
}

/**
 * Rewrites every stack's baseline from the committed snapshot. Refuses (writes nothing) when the new
 * baselines break the old ones, unless `allowBreaking`: blessing an incompatible release is explicit.
 */
export function writeBaselines(options: { readonly allowBreaking?: boolean } = {}): WriteResult {
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  const old = new Map(readBaselines().map((b) => [b.stack, b]));
  const fresh = readSnapshotStacks().map((s) => baselineOf(s, version));
  const breaking = [
    ...fresh.flatMap((b) => checkUpgrade(old.get(b.stack)?.objects ?? [], b.objects)),
    ...[...old.values()].filter((b) => !fresh.some((f) => f.stack === b.stack)).flatMap((b) => checkUpgrade(b.objects, [])),
  ];
  if (breaking.length > 0 && !options.allowBreaking) return { written: [], breaking };
  fs.mkdirSync(path.join(ROOT, BASELINE_DIR), { recursive: true });
  for (const b of fresh) fs.writeFileSync(baselinePath(b.stack), `${JSON.stringify(b, null, 2)}\n`);
  for (const stack of old.keys()) if (!fresh.some((f) => f.stack === stack)) fs.rmSync(baselinePath(stack));
  return { written: fresh.map((b) => path.relative(ROOT, baselinePath(b.stack))), breaking };
}
