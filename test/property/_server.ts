/**
 * The property tests' cases sent to a real Kubernetes API server (test/_util/kube.ts: the local
 * v1.36 control plane, or CDK8S_ML_TEST_KUBECONFIG): a sample of the cases' output is applied with
 * server-side dry run and strict field validation. A refusal or a warning fails the case, so
 * fast-check shrinks it and the report prints the smallest configuration the server refuses.
 *
 *   CDK8S_ML_PROPERTY_SERVER_CASES=1000 npx jest test/property   # more cases to the server (default 200)
 */
import { installOutputCrds } from '../cluster/_deploy';
import { answerMessage, SyncKube, testCluster } from '../_util/kube';

/** Cases per property sent to the server: CDK8S_ML_PROPERTY_SERVER_CASES, else 200. */
export function serverCases(): number {
  const raw = process.env.CDK8S_ML_PROPERTY_SERVER_CASES;
  if (raw === undefined || raw === '') return 200;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`CDK8S_ML_PROPERTY_SERVER_CASES must be a whole number >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

const objectRef = (o: any) => `${o?.kind}/${o?.metadata?.namespace ?? '-'}/${o?.metadata?.name}`;

/**
 * Sends every `every`-th offered case to the server until `target` cases were sent. Once a case was
 * refused, every case is sent: fast-check's shrinking and the minimizer then judge smaller
 * configurations by the server too.
 */
export class ServerSample {
  sent = 0;
  objects = 0;
  private offered = 0;
  private failing = false;
  /** Namespaces applied for real (a dry run of a namespaced object needs its namespace). */
  readonly namespaces = new Set<string>();
  /** Those of them that did not exist before: close() deletes them (on another cluster, nothing of ours stays). */
  private readonly created = new Set<string>();

  constructor(
    private readonly kube: SyncKube,
    private readonly target: number,
    private readonly every: number,
    private readonly external = false,
  ) {}

  /** Throws listing what the server refused or warned about. */
  offer(objects: readonly any[]): void {
    const take = this.failing || (this.sent < this.target && this.offered++ % this.every === 0);
    if (!take) return;
    this.sent++;
    this.objects += objects.length;
    const problems: string[] = [];
    // Namespaces for real: the case's Namespace objects (their labels as the case writes them: Pod
    // Security's level and version), and bare ones for a stack that does not create its namespace
    // (createNamespace: false; applying a bare one as the same field manager drops earlier labels).
    const written = objects.filter((o) => o.kind === 'Namespace');
    const used = new Set(objects.map((o) => o?.metadata?.namespace).filter((n): n is string => typeof n === 'string'));
    const namespaces = [
      ...written,
      ...[...used]
        .filter((n) => !written.some((o) => o.metadata.name === n))
        .map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    ];
    for (const ns of namespaces) {
      if (
        !this.namespaces.has(ns.metadata.name) &&
        this.kube.request('GET', `/api/v1/namespaces/${encodeURIComponent(ns.metadata.name)}`).status === 404
      ) {
        this.created.add(ns.metadata.name);
      }
      const a = this.kube.apply(ns);
      if (a.status >= 300) problems.push(`${objectRef(ns)}: ${a.status} ${answerMessage(a)}`);
      problems.push(...a.warnings.map((w) => `${objectRef(ns)}: warning: ${w}`));
      this.namespaces.add(ns.metadata.name);
    }
    for (const o of objects) {
      if (o.kind === 'Namespace') continue;
      const a = this.kube.apply(o, { dryRun: true });
      if (a.status >= 300) problems.push(`${objectRef(o)}: refused, ${a.status} ${answerMessage(a)}`);
      problems.push(...a.warnings.map((w) => `${objectRef(o)}: warning: ${w}`));
    }
    if (problems.length > 0) {
      this.failing = true;
      throw new Error(`the Kubernetes API server (strict server-side dry run) refused the output:\n  ${problems.join('\n  ')}`);
    }
  }

  /**
   * On another cluster, deletes the namespaces this sample created and waits until they are gone (the
   * next property file may use the same names: objects cannot be made in a terminating namespace);
   * the local cluster is removed whole by the teardown. Then stops the client.
   */
  close(): Promise<number> {
    if (this.external) {
      for (const name of this.created) this.kube.request('DELETE', `/api/v1/namespaces/${encodeURIComponent(name)}`);
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const deadline = Date.now() + 120_000;
      for (const name of this.created) {
        while (this.kube.request('GET', `/api/v1/namespaces/${encodeURIComponent(name)}`).status !== 404 && Date.now() < deadline)
          Atomics.wait(pause, 0, 0, 250);
      }
    }
    return this.kube.close();
  }

  summary(): string {
    return (
      `${this.sent} cases (${this.objects} objects) sent to the API server with strict ` +
      `server-side dry run, ${this.failing ? 'NOT all accepted' : 'all accepted with no warning'}`
    );
  }
}

/**
 * The sample of one property file, for its beforeAll: the test cluster (started if need be), the
 * Gateway API CRDs installed (HTTPRoutes among the output), a synchronous client.
 */
export async function openServerSample(target: number, every: number): Promise<ServerSample> {
  const cluster = await testCluster();
  installOutputCrds(cluster);
  return new ServerSample(new SyncKube(cluster.kubeconfig), target, every, !cluster.local);
}
