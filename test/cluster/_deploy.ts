/**
 * Applying synthesized manifests to the real API server the way users do, and watching the
 * controllers act on them: `kubectl apply --server-side --dry-run=server --validate=strict` (kubectl's
 * spelling of the API's fieldValidation=Strict: unknown or duplicate fields are errors, not warnings),
 * then the same for real; then every Deployment's, Job's and (triggered) CronJob's Pods must be created,
 * each one admitted by Pod Security at its namespace's level, with no FailedCreate event.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseYamlStream } from '../_util/yaml';
import { kubectl, kubectlWarnings, TestCluster, waitUntil } from '../_util/kube';

export interface StackDeployment {
  readonly stack: string;
  readonly objects: number;
  readonly refused: string[];
  readonly warnings: string[];
  /** Workload -> Pods the controllers created for it. */
  readonly pods: Record<string, number>;
  readonly failedCreate: string[];
  /** Jobs that were suspended (Kueue's `queue`) and were resumed as Kueue does on admission. */
  readonly resumed: string[];
}

const yamlDocs = (objects: readonly any[]) => objects.map((o) => `---\n${JSON.stringify(o)}\n`).join('');

export function kubectlApply(cluster: TestCluster, yaml: string, dryRun: boolean): { applied: string[]; refused: string[]; warnings: string[] } {
  const args = ['apply', '--server-side', '--field-manager=cdk8s-ml-test', '--force-conflicts', '--validate=strict', '-o', 'name', '-f', '-'];
  if (dryRun) args.splice(1, 0, '--dry-run=server');
  const res = kubectl(cluster, args, yaml);
  const refused = res.status === 0 ? [] : res.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning: '));
  return { applied: res.stdout.split('\n').filter((l) => l.trim() !== ''), refused, warnings: kubectlWarnings(res.stderr) };
}

/** Pods whose labels match a workload's selector (matchLabels only: what this library writes). */
async function podsOf(cluster: TestCluster, namespace: string, selector: Record<string, string>): Promise<any[]> {
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return cluster.kube.list('v1', 'Pod', namespace, labelSelector);
}

/**
 * Deploys one stack's manifests (its Namespace objects first, so the namespaced objects' dry run has
 * them), and waits for the Pods of every workload. `extraNamespaces` exist outside the stream (argocd).
 */
export async function deployStack(cluster: TestCluster, stack: string, yaml: string, extraNamespaces: string[] = []): Promise<StackDeployment> {
  const objects = parseYamlStream(yaml);
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  for (const ns of extraNamespaces) await cluster.kube.ensureNamespace(ns);
  const refused: string[] = [];
  const warnings: string[] = [];
  if (namespaces.length > 0) {
    const dry = kubectlApply(cluster, yamlDocs(namespaces), true);
    const real = dry.refused.length === 0 ? kubectlApply(cluster, yamlDocs(namespaces), false) : { applied: [], refused: [], warnings: [] };
    refused.push(...dry.refused, ...real.refused);
    warnings.push(...dry.warnings, ...real.warnings);
    for (const ns of namespaces)
      await waitUntil(
        `ServiceAccount default in ${ns.metadata.name}`,
        60_000,
        async () => (await cluster.kube.get('v1', 'ServiceAccount', 'default', ns.metadata.name)) !== undefined,
      );
  }
  const dry = kubectlApply(cluster, yaml, true);
  refused.push(...dry.refused);
  warnings.push(...dry.warnings);
  const pods: Record<string, number> = {};
  const resumed: string[] = [];
  if (refused.length > 0) return { stack, objects: objects.length, refused, warnings, pods, failedCreate: [], resumed };
  const real = kubectlApply(cluster, yaml, false);
  refused.push(...real.refused);
  warnings.push(...real.warnings);
  if (real.applied.length !== objects.length) refused.push(`kubectl applied ${real.applied.length} of ${objects.length} objects`);

  for (const o of objects) {
    const ns = o.metadata?.namespace;
    const ref = `${o.kind}/${ns}/${o.metadata?.name}`;
    if (o.kind === 'Deployment') {
      await waitUntil(`the Pods of ${ref}`, 90_000, async () => {
        const d = await cluster.kube.get('apps/v1', 'Deployment', o.metadata.name, ns);
        const want = d?.spec?.replicas ?? 1;
        const got = (await podsOf(cluster, ns, d.spec.selector.matchLabels)).length;
        pods[ref] = got;
        return want > 0 && got === want && d.status?.replicas === want;
      });
    } else if (o.kind === 'Job' || o.kind === 'CronJob') {
      let name = o.metadata.name;
      if (o.kind === 'CronJob') {
        // What the CronJob controller makes at its schedule, now: a Job from its jobTemplate.
        name = `${o.metadata.name.slice(0, 40)}-now`;
        const res = kubectl(cluster, ['create', 'job', name, `--from=cronjob/${o.metadata.name}`, '-n', ns]);
        if (res.status !== 0) refused.push(`kubectl create job --from=cronjob/${o.metadata.name}: ${res.stderr.trim()}`);
        warnings.push(...kubectlWarnings(res.stderr));
      }
      let job = await cluster.kube.get('batch/v1', 'Job', name, ns);
      if (!job) continue;
      if (job.spec.suspend) {
        // Kueue admits a queued Job by setting suspend: false; without Kueue here, the test does it.
        const a = await cluster.kube.request(
          'PATCH',
          `/apis/batch/v1/namespaces/${ns}/jobs/${name}`,
          { spec: { suspend: false } },
          'application/merge-patch+json',
        );
        if (a.status !== 200) refused.push(`resuming Job ${ns}/${name}: ${a.status}`);
        resumed.push(`Job/${ns}/${name}`);
        job = a.body;
      }
      const want = Math.min(job.spec.parallelism ?? 1, job.spec.completions ?? Number.MAX_SAFE_INTEGER);
      await waitUntil(`the Pods of Job ${ns}/${name}`, 90_000, async () => {
        const got = (await podsOf(cluster, ns, job.spec.selector.matchLabels)).length;
        pods[`Job/${ns}/${name}`] = got;
        return got === want;
      });
    }
  }
  const failedCreate: string[] = [];
  for (const ns of new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => typeof n === 'string'))) {
    for (const e of await cluster.kube.list('v1', 'Event', ns)) {
      if (e.reason === 'FailedCreate' || /forbidden|violates PodSecurity/i.test(e.message ?? ''))
        failedCreate.push(`${e.involvedObject?.kind}/${ns}/${e.involvedObject?.name}: ${e.reason}: ${e.message}`);
    }
  }
  return { stack, objects: objects.length, refused, warnings, pods, failedCreate, resumed };
}

/** Installs CRDs (server-side: big CRDs exceed client-side apply's annotation limit) and waits until Established. */
export function installCrds(cluster: TestCluster, files: string[]): string[] {
  const installed: string[] = [];
  for (const file of files) {
    const res = kubectl(cluster, ['apply', '--server-side', '--field-manager=cdk8s-ml-test', '--force-conflicts', '-o', 'name', '-f', file]);
    if (res.status !== 0) throw new Error(`installing the CRDs of ${file}: ${res.stderr}`);
    installed.push(...res.stdout.split('\n').filter((l) => l.startsWith('customresourcedefinition')));
  }
  const wait = kubectl(cluster, ['wait', '--for=condition=Established', '--timeout=60s', ...installed]);
  if (wait.status !== 0) throw new Error(`CRDs not Established: ${wait.stderr}`);
  return installed;
}

/**
 * The CRDs of the kinds this library writes, from their upstream definitions: the Gateway API's
 * standard channel (from the sigs.k8s.io/gateway-api module) and the Argo CD Application CRD the repo
 * imports (imports/crds/), so their schemas and validation rules judge our objects too.
 */
export function installOutputCrds(cluster: TestCluster): string[] {
  const gateway = fs
    .readdirSync(cluster.gatewayCrds)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(cluster.gatewayCrds, f));
  return installCrds(cluster, [...gateway, path.join(__dirname, '../../imports/crds/argocd-application.yaml')]);
}
