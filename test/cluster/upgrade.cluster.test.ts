/**
 * Upgrade safety judged by the real API server: each reference stack as the previous release wrote it
 * (the output its committed baseline was made from) is applied for real, then today's output over it;
 * the objects the server refuses must be exactly the objects `checkUpgrade` reports, for the same
 * immutable field. Two deliberate breaking changes (a Deployment selector, a Job pod template) must be
 * refused by both.
 *
 * The previous release's full output is the committed snapshot entry the baseline names, read from the
 * newest commit whose entry has the baseline's sha256. In a clone without that
 * history, the previous output is rebuilt from the baseline's immutable fields laid over today's objects.
 *
 * The stacks go to namespaces renamed `upgrade-<namespace>` so this file never meets the objects of
 * test/cluster/reference-apps.cluster.test.ts (immutability does not depend on the namespace's name).
 */
import { spawnSync } from 'node:child_process';
import { buildReferenceApps } from '../../apps/main';
import { checkUpgrade, parseYamlStream, type UpgradeProblem } from '../../lib/check';

/** The objects are parsed YAML the test reads into and edits (the library's K8sObject is unknown-valued). */
type K8sObject = any;
import { answerMessage, testCluster, TestCluster, waitUntil } from '../_util/kube';
import { synth } from '../_util/synth';
import { Baseline, readBaselines, ROOT, sha256, snapshotStacks } from '../compat/_baseline';
import { installOutputCrds } from './_deploy';

const PREFIX = 'upgrade-';

/** Every namespace reference of an object's identity, renamed. */
function renamed(o: K8sObject): K8sObject {
  const copy = JSON.parse(JSON.stringify(o));
  if (copy.kind === 'Namespace') copy.metadata.name = PREFIX + copy.metadata.name;
  else if (copy.metadata?.namespace) copy.metadata.namespace = PREFIX + copy.metadata.namespace;
  return copy;
}

const identity = (o: K8sObject) => `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? '-'}/${o.metadata?.name}`;

/** Lays the baseline's immutable fields (plain objects merged, anything else replaced) over today's object. */
function overlay(today: any, fields: any): any {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields) || typeof today !== 'object' || today === null || Array.isArray(today))
    return fields;
  const out: any = { ...today };
  for (const [k, v] of Object.entries(fields)) out[k] = k === 'matchLabels' ? v : overlay(today[k], v);
  return out;
}

/** The previous release's output of one stack, and where it came from. */
function previousOutput(b: Baseline, today: K8sObject[]): { objects: K8sObject[]; source: string } {
  // The newest committed version of the snapshot whose entry is the one the baseline was written from.
  const log = spawnSync('git', ['log', '--format=%H', '--', b.snapshot.file], { cwd: ROOT, encoding: 'utf8' });
  for (const commit of log.status === 0 ? log.stdout.split('\n').filter(Boolean) : []) {
    const text = spawnSync('git', ['show', `${commit}:${b.snapshot.file}`], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const entry = text.status === 0 ? snapshotStacks(text.stdout).find((s) => s.entry === b.snapshot.entry) : undefined;
    if (entry && sha256(entry.yaml) === b.snapshot.sha256)
      return { objects: parseYamlStream(entry.yaml), source: `the snapshot at ${commit.slice(0, 7)}` };
  }
  const byId = new Map(today.map((o) => [identity(o), o]));
  return {
    objects: b.objects.map((f) => (byId.has(identity(f)) ? overlay(byId.get(identity(f)), f) : f)),
    source: "the baseline over today's objects (no git history)",
  };
}

interface Refusal {
  readonly object: string;
  readonly message: string;
}

/** `Kind/namespace/name` as checkUpgrade names objects. */
const problemRef = (o: K8sObject) => `${o.kind}/${o.metadata?.namespace ?? '-'}/${o.metadata?.name}`;

async function applyAll(cluster: TestCluster, objects: K8sObject[], dryRun: boolean): Promise<Refusal[]> {
  const refusals: Refusal[] = [];
  for (const o of [...objects.filter((x) => x.kind === 'Namespace'), ...objects.filter((x) => x.kind !== 'Namespace')]) {
    const a = await cluster.kube.apply(o, { dryRun: dryRun && o.kind !== 'Namespace' });
    if (a.status >= 300) refusals.push({ object: problemRef(o), message: `${a.status} ${answerMessage(a)}` });
  }
  return refusals;
}

/** The field paths a refusal names (`spec.template: Invalid value: ...`, `spec: Forbidden: ...`). */
const refusedFields = (message: string) => [...message.matchAll(/([A-Za-z][\w.[\]"/-]*): (?:Invalid value|Forbidden)/g)].map((m) => m[1]);

/** The server's refusals and checkUpgrade's problems the server can see (a removed object is not refused: apply does not prune). */
function compare(refusals: Refusal[], problems: UpgradeProblem[]) {
  const immutable = problems.filter((p) => p.reason === 'immutable');
  return {
    server: [...new Set(refusals.map((r) => r.object))].sort(),
    checkUpgrade: [...new Set(immutable.map((p) => p.object))].sort(),
    // A refusal is explained by a checkUpgrade problem of the same object whose field is the refused one or below it.
    unexplained: refusals.filter(
      (r) =>
        !immutable.some(
          (p) =>
            p.object === r.object &&
            refusedFields(r.message).some((f) => p.field === f || p.field.startsWith(`${f}.`) || p.field.startsWith(`${f}[`)),
        ),
    ),
  };
}

describe('upgrade safety on the real API server', () => {
  let cluster: TestCluster;
  const baselines = readBaselines();
  const out = synth((app) => buildReferenceApps(app));
  const today = (stack: string): K8sObject[] => parseYamlStream(out.files.get(`manifests/${stack}.k8s.yaml`) ?? '');

  beforeAll(async () => {
    cluster = await testCluster();
    installOutputCrds(cluster);
    const namespaces = baselines
      .flatMap((b) => today(b.stack))
      .filter((o) => o.kind === 'Namespace')
      .map((o) => PREFIX + o.metadata.name);
    await Promise.all(namespaces.map((ns) => cluster.kube.deleteNamespace(ns)));
  }, 60 * 60_000);

  afterAll(async () => {
    if (!cluster || cluster.local) return;
    const namespaces = baselines
      .flatMap((b) => today(b.stack))
      .filter((o) => o.kind === 'Namespace')
      .map((o) => PREFIX + o.metadata.name);
    await Promise.all(namespaces.map((ns) => cluster.kube.delete('v1', 'Namespace', ns)));
  }, 120_000);

  test.each(baselines.map((b) => [b.stack, b] as const))(
    "%s: the previous release applied, then today's output: the server refuses exactly what checkUpgrade reports",
    async (stack, b) => {
      const now = today(stack);
      const previous = previousOutput(b, now);
      const before = await applyAll(cluster, previous.objects.map(renamed), false);
      expect(before).toEqual([]);
      const ns = previous.objects.find((o) => o.kind === 'Namespace');
      if (ns)
        await waitUntil(
          `ServiceAccount default in ${PREFIX}${ns.metadata.name}`,
          60_000,
          async () => (await cluster.kube.get('v1', 'ServiceAccount', 'default', PREFIX + ns.metadata.name)) !== undefined,
        );
      const refusals = await applyAll(cluster, now.map(renamed), true);
      const verdict = compare(refusals, checkUpgrade(previous.objects.map(renamed), now.map(renamed)));
      // eslint-disable-next-line no-console
      console.log(
        `${stack}: previous output from ${previous.source}; ${previous.objects.length} objects ` +
          `applied, then ${now.length}: server refused ${verdict.server.length}, checkUpgrade ` +
          `reports ${verdict.checkUpgrade.length}`,
      );
      expect(verdict.server).toEqual(verdict.checkUpgrade);
      expect(verdict.unexplained).toEqual([]);
    },
    5 * 60_000,
  );

  const deliberate: Array<[string, string, (o: K8sObject) => K8sObject | undefined, RegExp]> = [
    [
      'a Deployment selector change',
      'and-gate',
      (o) =>
        o.kind === 'Deployment' && o.metadata.name === 'server'
          ? {
              ...o,
              spec: {
                ...o.spec,
                selector: { matchLabels: { ...o.spec.selector.matchLabels, 'app.kubernetes.io/version': '2' } },
                template: {
                  ...o.spec.template,
                  metadata: { ...o.spec.template.metadata, labels: { ...o.spec.template.metadata.labels, 'app.kubernetes.io/version': '2' } },
                },
              },
            }
          : undefined,
      /spec\.selector.*field is immutable/,
    ],
    [
      'a Job pod template change',
      'eeg-letters',
      (o) =>
        o.kind === 'Job' && o.metadata.name === 'train'
          ? {
              ...o,
              spec: {
                ...o.spec,
                template: {
                  ...o.spec.template,
                  spec: {
                    ...o.spec.template.spec,
                    containers: o.spec.template.spec.containers.map((c: any) => ({ ...c, image: `${c.image}-next` })),
                  },
                },
              },
            }
          : undefined,
      /spec\.template.*field is immutable/,
    ],
  ];

  test.each(deliberate)(
    '%s is refused by the server and reported by checkUpgrade, for the same object',
    async (_what, stack, change, serverMessage) => {
      const now = today(stack).map(renamed);
      // The stack as today writes it is there (the test above applied the previous release; apply today's for real).
      expect(await applyAll(cluster, now, false)).toEqual([]);
      const changed = now.map((o) => change(o) ?? o);
      const target = now.find((o) => change(o) !== undefined)!;
      expect(target).toBeDefined();
      const refusals = await applyAll(cluster, changed, true);
      const problems = checkUpgrade(now, changed);
      expect(refusals.map((r) => r.object)).toEqual([problemRef(target)]);
      expect(refusals[0].message).toMatch(serverMessage);
      const verdict = compare(refusals, problems);
      expect(verdict.checkUpgrade).toEqual([problemRef(target)]);
      expect(verdict.unexplained).toEqual([]);
    },
    5 * 60_000,
  );
});
