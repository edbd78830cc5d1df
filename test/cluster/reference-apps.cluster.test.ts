/**
 * Every reference stack, the project `cdk8s-ml init` writes, and a stack of the job kinds the reference
 * apps lack (a scheduled retraining CronJob, a distributed Indexed Job, a queued Job), applied to a real
 * Kubernetes API server (v1.36, built from upstream: scripts/cluster/) as users apply them:
 *   1. `kubectl apply --server-side --dry-run=server --field-validation=Strict`: every object accepted,
 *      no warning (a Pod Security warning on a Deployment or Job counts: enforcement hits only their Pods);
 *   2. the same for real;
 *   3. the controllers create the Pods of every Deployment, Job and (triggered) CronJob with no
 *      FailedCreate event: each Pod was admitted by Pod Security at its namespace's level.
 * Run against any cluster with `KUBECONFIG=... npm run test:cluster`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildReferenceApps } from '../../apps/main';
import { Distributed, MlApp, MlStack, ModelOutput, ModelSource, TrainingJob, BatchInferenceJob } from '../../lib';
import { scaffoldFiles } from '../../lib/cli/init';
import { checkOutput } from '../../lib/check';
import { parseYamlStream } from '../_util/yaml';
import { answerMessage, testCluster, TestCluster } from '../_util/kube';
import { synth, tempDir } from '../_util/synth';
import { deployStack, installOutputCrds, kubectlApply, StackDeployment } from './_deploy';

const ROOT = path.resolve(__dirname, '../..');
const REGISTER = path.join(ROOT, 'scripts/register.js');

/** The job kinds no reference app has: a CronJob, a distributed (Indexed) Job, a queued (suspended) Job. */
function jobsStack(app: MlApp): void {
  const stack = new MlStack(app, 'cluster-jobs', { namespace: 'cluster-jobs' });
  const train = new TrainingJob(stack, 'retrain', {
    image: 'registry.example.com/train:1.0.0',
    command: ['python', 'train.py'],
    schedule: { cron: '0 3 * * *', timeZone: 'Europe/Berlin' },
    modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
  });
  new TrainingJob(stack, 'finetune', {
    image: 'registry.example.com/finetune:2.3.0',
    command: ['torchrun', 'train.py'],
    distributed: Distributed.pytorch({ workers: 3 }),
    queue: 'team-a',
  });
  new BatchInferenceJob(stack, 'score', {
    image: 'registry.example.com/score:1.0.0',
    command: ['python', 'score.py'],
    model: ModelSource.fromTrainingJob(train),
    output: ModelOutput.newClaim({ size: '1Gi' }),
  });
}

/** The project `cdk8s-ml init` writes, synthesized as its `cdk8s synth` runs it (against this checkout). */
function scaffoldManifests(): string {
  const dir = tempDir('cdk8s-ml-cluster-scaffold-');
  for (const [rel, content] of scaffoldFiles('scaffold-app')) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content.replace(/from 'cdk8s-ml'/g, `from '${path.join(ROOT, 'lib')}'`));
  }
  const res = spawnSync(process.execPath, ['-r', REGISTER, 'main.ts'], { cwd: dir, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`the scaffold's synth failed: ${res.stderr}`);
  const problems = checkOutput(path.join(dir, 'dist'));
  if (problems.length > 0) throw new Error(`the scaffold's output fails the shared check:\n${problems.join('\n')}`);
  const manifests = path.join(dir, 'dist', 'manifests');
  return fs
    .readdirSync(manifests)
    .sort()
    .map((f) => fs.readFileSync(path.join(manifests, f), 'utf8'))
    .join('---\n');
}

describe('the reference stacks on a real API server and controllers', () => {
  let cluster: TestCluster;
  const stacks = new Map<string, string>();
  const results: StackDeployment[] = [];
  /** Whether the argocd namespace (Argo CD's, outside the stream) was there before: only then is it left. */
  let argocdExisted = true;

  beforeAll(async () => {
    cluster = await testCluster();
    argocdExisted = (await cluster.kube.get('v1', 'Namespace', 'argocd')) !== undefined;
    installOutputCrds(cluster);
    const out = synth((app) => {
      buildReferenceApps(app);
      jobsStack(app);
    });
    for (const [rel, content] of out.files) {
      const m = /^manifests\/(.+)\.k8s\.yaml$/.exec(rel);
      if (m) stacks.set(m[1], content);
    }
    stacks.set('scaffold', scaffoldManifests());
    // A clean start on a reused or external cluster: the stacks' namespaces go first.
    const namespaces = [...stacks.values()]
      .flatMap((y) => parseYamlStream(y))
      .filter((o) => o.kind === 'Namespace')
      .map((o) => o.metadata.name);
    await Promise.all(namespaces.map((ns) => cluster.kube.deleteNamespace(ns)));
  }, 60 * 60_000);

  afterAll(() => {
    if (results.length === 0) return;
    const rows = results.map((r) =>
      [
        r.stack.padEnd(18),
        String(r.objects).padStart(7),
        String(r.refused.length).padStart(7),
        String(r.warnings.length).padStart(8),
        String(Object.values(r.pods).reduce((a, b) => a + b, 0)).padStart(4),
        String(Object.keys(r.pods).length).padStart(9),
      ].join(' '),
    );
    // eslint-disable-next-line no-console
    console.log(
      `stacks on the API server (${cluster?.local ? 'local v1.36 control plane' : cluster?.kubeconfig}):\n` +
        `stack              objects refused warnings pods workloads\n${rows.join('\n')}`,
    );
  });

  const names = ['and-gate', 'eeg-letters', 'image-classifier', 'ml-model', 'llm-chat', 'canary', 'argocd', 'cluster-jobs', 'scaffold'];
  test.each(names)(
    '%s: accepted by strict server-side dry run and apply with no warning; the controllers create every Pod',
    async (name) => {
      const yaml = stacks.get(name);
      if (yaml === undefined) throw new Error(`no stack ${name} among ${[...stacks.keys()].join(', ')}`);
      const r = await deployStack(cluster, name, yaml, name === 'argocd' ? ['argocd'] : []);
      results.push(r);
      expect(r.refused).toEqual([]);
      expect(r.warnings).toEqual([]);
      expect(r.failedCreate).toEqual([]);
      const objects = parseYamlStream(yaml);
      const workloads = objects.filter((o) => ['Deployment', 'Job', 'CronJob'].includes(o.kind)).length;
      expect(Object.keys(r.pods)).toHaveLength(workloads);
      if (workloads > 0) expect(Object.values(r.pods).every((n) => n > 0)).toBe(true);
    },
    5 * 60_000,
  );

  test("the control: Pod Security enforcement is on, so the Pods above were admitted at their namespace's level", async () => {
    // A root, privileged Pod in a reference namespace (restricted, v1.28): refused with 403 on a real create.
    const a = await cluster.kube.create(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'privileged-control', namespace: 'and-gate' },
        spec: { containers: [{ name: 'c', image: 'registry.example.com/x:1', securityContext: { privileged: true } }] },
      },
      { dryRun: true },
    );
    expect(a.status).toBe(403);
    expect(answerMessage(a)).toMatch(/violates PodSecurity "restricted:v1\.28"/);
    const ns = await cluster.kube.get('v1', 'Namespace', 'and-gate');
    expect(ns.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'v1.28',
    });
    // The same pod as a Deployment's template: accepted, with the warning the tests above count as a failure.
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'privileged-control', namespace: 'and-gate' },
      spec: {
        selector: { matchLabels: { app: 'control' } },
        template: {
          metadata: { labels: { app: 'control' } },
          spec: { containers: [{ name: 'c', image: 'registry.example.com/x:1', securityContext: { privileged: true } }] },
        },
      },
    };
    const dry = kubectlApply(cluster, JSON.stringify(deployment), true);
    expect(dry.refused).toEqual([]);
    expect(dry.warnings.join('\n')).toMatch(/^Warning: would violate PodSecurity "restricted:v1\.28": privileged/);
  }, 60_000);

  // biome-ignore lint/suspicious/noDuplicateTestHooks: the report above and this cleanup run independently
  afterAll(async () => {
    if (!cluster || cluster.local) return; // the local cluster is removed whole by the teardown
    const namespaces = [...stacks.values()]
      .flatMap((y) => parseYamlStream(y))
      .filter((o) => o.kind === 'Namespace')
      .map((o) => o.metadata.name);
    if (!argocdExisted) namespaces.push('argocd');
    // The Applications too, where Argo CD's namespace stays: Argo CD would try to sync them.
    const applications = parseYamlStream(stacks.get('argocd') ?? '').filter((o) => o.kind === 'Application');
    await Promise.all(applications.map((o) => cluster.kube.delete(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace)));
    await Promise.all(namespaces.map((ns) => cluster.kube.delete('v1', 'Namespace', ns)));
  }, 120_000);
});
