/**
 * `cdk8s-ml check` against the real API server: for every manifest of test/cluster/corpus, the check's
 * schema verdict and the API server's verdict on a strict server-side dry-run create must agree.
 *
 * - The corpus: one object per file, organised by kind, named for the intent (`valid-*`, `invalid-*`);
 *   written for this repo in the shapes of the Kubernetes documentation's examples and of other
 *   validators' fixtures (kubeconform, kube-linter). The server, not the name, decides.
 * - The server's verdict is what a user gets: the cluster's own kubectl reads the file as written (its
 *   YAML 1.1 reading included: an unquoted `yes` is a boolean to it) and sends it with
 *   `kubectl create --dry-run=server --validate=strict`; a non-zero exit is a refusal.
 *   A Service that names a nodePort is judged by a real create (deleted right after): a dry-run skips the
 *   node port allocator, which is what refuses a port outside the cluster's range.
 * - The check's verdict: what `cdk8s-ml check FILE` runs on the file's text (checkManifestFiles), kept to
 *   the rules that judge an object on its own the way the API server does: `schema`, `unknown-field`,
 *   `dns-1123`, `port-range`. The cross-object rules (selectors, env URLs, network reachability) and
 *   the hardening rules (PSS, image tags) are about intent, which the server does not judge; so is
 *   `yaml`'s refusal of a duplicate key (kubectl keeps the last one: pod/valid-duplicate-yaml-key.yaml).
 * - KNOWN_DISAGREEMENTS lists, with the reason, where the check is stricter than this server on purpose;
 *   any other disagreement (or a listed one that went away) fails the test.
 * - The bad-input catalog (test/catalog/bad-input.test.ts) adds nothing: every case fails at synth
 *   (that test asserts it), so no case has an output to send.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECK_RULES } from '../../lib/check';
import { checkManifestFiles } from '../../lib/check/files';
import { TestCluster, testCluster } from '../_util/kube';
import { installOutputCrds } from './_deploy';

const CORPUS = path.join(__dirname, 'corpus');
/** One namespace, created for real, without Pod Security labels (privileged: PSS is not what this is about). */
const NAMESPACE = 'corpus-check';
const VERDICT_RULES: ReadonlySet<string> = new Set(['schema', 'unknown-field', 'dns-1123', 'port-range']);

/** file -> why the check's verdict differs from a v1.36 server's, on purpose. */
const KNOWN_DISAGREEMENTS: Readonly<Record<string, string>> = {
  'service/invalid-name-leading-digit.yaml':
    'v1.36 accepts a Service name starting with a digit (feature gate RelaxedServiceNameValidation, beta and on ' +
    'by default since 1.36: pkg/features/kube_features.go); 1.33-1.35 refuse it (ValidateServiceName: DNS-1035). ' +
    'The check keeps DNS-1035 so that the output applies on every supported cluster.',
};
const KNOWN_RULES = [...CHECK_RULES.map((r) => r.id), 'yaml'];
const CONCURRENCY = 4;

interface Verdict {
  readonly valid: boolean;
  /** The check's problems of the verdict's rules, or kubectl's refusal. */
  readonly why: string;
}

function corpusFiles(): string[] {
  return fs
    .readdirSync(CORPUS)
    .sort()
    .flatMap((kind) =>
      fs
        .readdirSync(path.join(CORPUS, kind))
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => `${kind}/${f}`),
    );
}

/** `file: Kind/ns/name: rule: message` or `file: rule: message`: the first `: <rule id>: ` names the rule. */
function ruleOf(line: string): string | undefined {
  let best: { at: number; rule: string } | undefined;
  for (const rule of KNOWN_RULES) {
    const at = line.indexOf(`: ${rule}: `);
    if (at >= 0 && (best === undefined || at < best.at)) best = { at, rule };
  }
  return best?.rule;
}

function checkVerdict(file: string): Verdict {
  const text = fs.readFileSync(path.join(CORPUS, file), 'utf8');
  const problems = checkManifestFiles([{ file, text }]).filter((p) => VERDICT_RULES.has(ruleOf(p) ?? ''));
  return { valid: problems.length === 0, why: problems.join('\n') };
}

function runKubectl(cluster: TestCluster, args: string[]): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cluster.kubectl,
      ['--kubeconfig', cluster.kubeconfig, ...args],
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        const why = stderr
          .split('\n')
          .filter((l) => l.trim() !== '' && !l.startsWith('Warning: '))
          .join('\n');
        resolve({ ok: !err, stderr: err ? why || String(err.message) : '' });
      },
    );
  });
}

async function serverVerdict(cluster: TestCluster, file: string): Promise<Verdict> {
  const full = path.join(CORPUS, file);
  const real = /^\s*nodePort:/m.test(fs.readFileSync(full, 'utf8'));
  const created = await runKubectl(cluster, ['create', ...(real ? [] : ['--dry-run=server']), '--validate=strict', '-n', NAMESPACE, '-f', full]);
  if (real && created.ok) await runKubectl(cluster, ['delete', '-n', NAMESPACE, '-f', full, '--wait=false']);
  return { valid: created.ok, why: created.stderr };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

describe('cdk8s-ml check agrees with the API server on the corpus', () => {
  test(
    'every file: check verdict (schema, unknown-field, dns-1123, port-range, yaml) = strict server dry-run verdict',
    async () => {
      const cluster = await testCluster();
      await cluster.kube.ensureNamespace(NAMESPACE);
      installOutputCrds(cluster);
      const files = corpusFiles();
      expect(files.length).toBeGreaterThanOrEqual(150);

      const t0 = Date.now();
      const server = await mapLimited(files, CONCURRENCY, (f) => serverVerdict(cluster, f));
      const serverMs = Date.now() - t0;
      const t1 = Date.now();
      const check = files.map(checkVerdict);
      const checkMs = Date.now() - t1;

      const rows = files.map((file, i) => ({ file, kind: file.split('/')[0], server: server[i], check: check[i] }));
      const disagreements = rows.filter((r) => r.server.valid !== r.check.valid);
      const unexpected = disagreements.filter((r) => !(r.file in KNOWN_DISAGREEMENTS));
      const byKind = new Map<string, { valid: number; invalid: number }>();
      for (const r of rows) {
        const k = byKind.get(r.kind) ?? { valid: 0, invalid: 0 };
        if (r.server.valid) k.valid++;
        else k.invalid++;
        byKind.set(r.kind, k);
      }
      const intentDiffers = rows.filter((r) => path.basename(r.file).startsWith('valid') !== r.server.valid && !(r.file in KNOWN_DISAGREEMENTS));
      const serverValid = rows.filter((r) => r.server.valid).length;
      const report = [
        `check/server agreement: ${rows.length - disagreements.length}/${rows.length}` +
          ` (server: ${serverValid} valid, ${rows.length - serverValid} invalid; ` +
          `kubectl ${(serverMs / 1000).toFixed(1)} s at ${CONCURRENCY} at a time, ` +
          `check ${(checkMs / 1000).toFixed(1)} s)`,
        `per kind (server valid/invalid): ${[...byKind].map(([k, v]) => `${k} ${v.valid}/${v.invalid}`).join(', ')}`,
        ...disagreements.map(
          (r) =>
            `${r.file in KNOWN_DISAGREEMENTS ? 'KNOWN ' : ''}DISAGREE ${r.file}: server ` +
            `says ${r.server.valid ? 'valid' : 'invalid'}, check says ${r.check.valid ? 'valid' : 'invalid'}\n` +
            (r.file in KNOWN_DISAGREEMENTS ? `  why:    ${KNOWN_DISAGREEMENTS[r.file]}\n` : '') +
            `  server: ${r.server.why.replace(/\n/g, '\n          ') || '(accepted)'}\n  ` +
            `check:  ${r.check.why.replace(/\n/g, '\n          ') || '(no problem)'}`,
        ),
        ...intentDiffers.map((r) => `note: ${r.file} is named for the other verdict than the server's (${r.server.valid ? 'valid' : r.server.why})`),
      ].join('\n');
      // eslint-disable-next-line no-console
      console.log(report);
      expect(unexpected.map((r) => r.file)).toEqual([]);
      // A listed disagreement that went away (the server or the check changed) is stale: remove it from the list.
      expect(disagreements.map((r) => r.file).sort()).toEqual(Object.keys(KNOWN_DISAGREEMENTS).sort());
    },
    15 * 60_000,
  );

  afterAll(async () => {
    // On another cluster, leave nothing of ours (the local one is removed whole by the teardown).
    const cluster = await testCluster();
    if (!cluster.local) await cluster.kube.delete('v1', 'Namespace', NAMESPACE);
  }, 60_000);
});
