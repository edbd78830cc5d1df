/**
 * Upgrade safety: the same user code must keep producing the same immutable fields across library
 * versions, or `kubectl apply` (and Argo CD) fails for every existing user: Deployment and Job selectors,
 * Job pod templates, PersistentVolumeClaim specs, Service clusterIPs; and no object may disappear (a
 * rename is a delete plus a create: for a PersistentVolumeClaim it loses the data). lib/check/upgrade.ts
 * says which fields, with the Kubernetes validation code behind each rule.
 *
 * The baseline, test/compat/baseline/<stack>.json, holds those fields of every reference stack as the
 * previous release wrote them. It is plain JSON, not a jest snapshot: `jest -u` cannot rewrite it. It is
 * written only by `node scripts/compat-baseline.mjs`, at a release, from the committed snapshot
 * test/apps/__snapshots__/reference-apps.test.ts.snap, and that script refuses to write a baseline the
 * previous one cannot be upgraded to unless given `--allow-breaking`. This test holds today's output
 * (and the committed snapshot, in case `jest -u` blessed a breaking change) against it; a failure names
 * the object and the field.
 */
import { buildReferenceApps } from '../../apps/main';
import { checkUpgrade, immutableFields, parseYamlStream, type K8sObject, type UpgradeProblem } from '../../lib/check';
import { joinRegExp } from '../_util/regexp';
import { synth } from '../_util/synth';
import { readBaselines, readSnapshotStacks, sha256 } from './_baseline';

// ---------------------------------------------------------------------------
// Hand-made objects
// ---------------------------------------------------------------------------

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'shop', ...extra });

function deployment(
  changes: {
    name?: string;
    namespace?: string;
    selector?: Record<string, string>;
    image?: string;
    replicas?: number;
    labels?: Record<string, string>;
  } = {},
): K8sObject {
  const selector = changes.selector ?? { 'app.kubernetes.io/name': 'api' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...meta(changes.name ?? 'api'),
      ...(changes.namespace ? { namespace: changes.namespace } : {}),
      labels: changes.labels ?? { team: 'ml' },
    },
    spec: {
      replicas: changes.replicas ?? 2,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, ...changes.labels } },
        spec: { containers: [{ name: 'api', image: changes.image ?? 'registry.example.com/api:1.0.0' }] },
      },
    },
  };
}

function job(
  changes: { image?: string; parallelism?: number; completions?: number; completionMode?: string; annotations?: Record<string, string> } = {},
): K8sObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta('train', changes.annotations ? { annotations: changes.annotations } : {}),
    spec: {
      ...(changes.completionMode ? { completionMode: changes.completionMode } : {}),
      completions: changes.completions ?? 4,
      parallelism: changes.parallelism ?? 4,
      backoffLimit: 0,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'trainer', image: changes.image ?? 'registry.example.com/train:1.0.0' }] } },
    },
  };
}

function pvc(changes: { name?: string; storage?: string; storageClassName?: string; accessModes?: string[]; volumeName?: string } = {}): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(changes.name ?? 'model'),
    spec: {
      accessModes: changes.accessModes ?? ['ReadWriteOnce'],
      ...(changes.storageClassName ? { storageClassName: changes.storageClassName } : {}),
      ...(changes.volumeName ? { volumeName: changes.volumeName } : {}),
      resources: { requests: { storage: changes.storage ?? '1Gi' } },
    },
  };
}

function service(spec: Record<string, unknown> = {}): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('api'),
    spec: { selector: { 'app.kubernetes.io/name': 'api' }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
  };
}

const one = (problems: UpgradeProblem[]): UpgradeProblem => {
  expect(problems).toHaveLength(1);
  return problems[0];
};

/** Every case below, for the property that a committed view (`immutableFields`) judges like the full output. */
const CASES: Array<[string, K8sObject[], K8sObject[]]> = [];
function upgrade(name: string, previous: K8sObject[], next: K8sObject[]): UpgradeProblem[] {
  CASES.push([name, previous, next]);
  return checkUpgrade(previous, next);
}

describe('checkUpgrade: changes Kubernetes rejects', () => {
  test('a changed Deployment selector names the selector key, both values and why', () => {
    const p = one(upgrade('deployment selector', [deployment()], [deployment({ selector: { 'app.kubernetes.io/name': 'api-server' } })]));
    expect(p).toMatchObject({
      object: 'Deployment/shop/api',
      field: 'spec.selector.matchLabels["app.kubernetes.io/name"]',
      previous: 'api',
      next: 'api-server',
      reason: 'immutable',
    });
    expect(p.message).toBe(`Deployment/shop/api: spec.selector.matchLabels["app.kubernetes.io/name"]: "api" -> "api-server": ${p.why}`);
    expect(p.why).toMatch(/field is immutable.*kubectl apply/);
  });

  test('a selector key added to a Deployment is a change from unset', () => {
    const p = one(
      upgrade(
        'deployment selector key',
        [deployment()],
        [deployment({ selector: { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'shop-api' } })],
      ),
    );
    expect(p).toMatchObject({ field: 'spec.selector.matchLabels["app.kubernetes.io/instance"]', previous: undefined, next: 'shop-api' });
    expect(p.message).toContain('(unset) -> "shop-api"');
  });

  test('a changed Job pod template names the leaf that changed', () => {
    const p = one(upgrade('job image', [job()], [job({ image: 'registry.example.com/train:1.1.0' })]));
    expect(p).toMatchObject({
      object: 'Job/shop/train',
      field: 'spec.template.spec.containers[0].image',
      previous: 'registry.example.com/train:1.0.0',
      next: 'registry.example.com/train:1.1.0',
      reason: 'immutable',
    });
  });

  test('a Job Argo CD replaces is still reported, and the message says it would run again', () => {
    const replace = { 'argocd.argoproj.io/sync-options': 'Force=true,Replace=true' };
    const p = one(
      upgrade('job replaced', [job({ annotations: replace })], [job({ annotations: replace, image: 'registry.example.com/train:2.0.0' })]),
    );
    expect(p.why).toMatch(/Replace=true deletes and recreates the Job.*runs again/);
  });

  test('Job completions are immutable, except for an Indexed Job changed together with parallelism', () => {
    expect(one(upgrade('job completions', [job()], [job({ completions: 8 })])).field).toBe('spec.completions');
    expect(
      upgrade('elastic indexed job', [job({ completionMode: 'Indexed' })], [job({ completionMode: 'Indexed', completions: 8, parallelism: 8 })]),
    ).toEqual([]);
    expect(one(upgrade('completion mode', [job()], [job({ completionMode: 'Indexed' })])).field).toBe('spec.completionMode');
  });

  test('PersistentVolumeClaim: storageClassName, accessModes and a smaller storage request are rejected', () => {
    expect(one(upgrade('pvc class', [pvc()], [pvc({ storageClassName: 'fast' })]))).toMatchObject({
      field: 'spec.storageClassName',
      previous: undefined,
      next: 'fast',
      reason: 'immutable',
    });
    expect(one(upgrade('pvc access', [pvc()], [pvc({ accessModes: ['ReadWriteMany'] })]))).toMatchObject({
      field: 'spec.accessModes[0]',
      previous: 'ReadWriteOnce',
      next: 'ReadWriteMany',
    });
    const shrink = one(upgrade('pvc shrink', [pvc({ storage: '2Gi' })], [pvc({ storage: '1500Mi' })]));
    expect(shrink).toMatchObject({ field: 'spec.resources.requests.storage', previous: '2Gi', next: '1500Mi', reason: 'immutable' });
    expect(shrink.why).toMatch(/may only grow/);
  });

  test('Service: a clusterIP written differently (headless <-> allocated) is rejected, a loadBalancerClass too', () => {
    expect(one(upgrade('headless to allocated', [service({ clusterIP: 'None' })], [service()]))).toMatchObject({
      object: 'Service/shop/api',
      field: 'spec.clusterIP',
      previous: 'None',
      next: undefined,
    });
    expect(one(upgrade('allocated to headless', [service()], [service({ clusterIP: 'None' })]))).toMatchObject({
      field: 'spec.clusterIP',
      previous: undefined,
      next: 'None',
    });
    expect(
      one(
        upgrade(
          'lb class',
          [service({ type: 'LoadBalancer', loadBalancerClass: 'a.example.com/lb' })],
          [service({ type: 'LoadBalancer', loadBalancerClass: 'b.example.com/lb' })],
        ),
      ).field,
    ).toBe('spec.loadBalancerClass');
  });

  test('StatefulSet: volumeClaimTemplates and serviceName are frozen', () => {
    const sts = (storage: string, serviceName = 'db') => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta('db'),
      spec: {
        serviceName,
        replicas: 1,
        selector: { matchLabels: { app: 'db' } },
        template: {},
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage } } } }],
      },
    });
    expect(one(upgrade('sts claim', [sts('1Gi')], [sts('2Gi')])).field).toBe('spec.volumeClaimTemplates[0].spec.resources.requests.storage');
    expect(one(upgrade('sts service', [sts('1Gi')], [sts('1Gi', 'database')])).field).toBe('spec.serviceName');
  });

  test('an immutable ConfigMap keeps its data; a Secret keeps its type', () => {
    const cm = (value: string, immutable?: boolean) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('config'),
      ...(immutable ? { immutable } : {}),
      data: { 'models.config': value },
    });
    expect(one(upgrade('immutable configmap', [cm('a', true)], [cm('b', true)]))).toMatchObject({
      field: 'data["models.config"]',
      previous: 'a',
      next: 'b',
    });
    const secret = (type: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: meta('tls'), type });
    expect(one(upgrade('secret type', [secret('Opaque')], [secret('kubernetes.io/tls')])).field).toBe('type');
  });
});

describe('checkUpgrade: objects that disappear', () => {
  test('a removed PersistentVolumeClaim is data loss', () => {
    const p = one(upgrade('removed pvc', [pvc(), deployment()], [deployment()]));
    expect(p).toMatchObject({
      object: 'PersistentVolumeClaim/shop/model',
      field: 'metadata.name',
      previous: 'model',
      next: undefined,
      reason: 'data-loss',
    });
    expect(p.message).toMatch(/^PersistentVolumeClaim\/shop\/model: metadata\.name: removed: .*prune.*data is gone/);
  });

  test('a renamed object is a removal, and the message suggests the rename', () => {
    const p = one(upgrade('renamed pvc', [pvc()], [pvc({ name: 'model-store' })]));
    expect(p).toMatchObject({ object: 'PersistentVolumeClaim/shop/model', reason: 'data-loss' });
    expect(p.why).toContain('renamed to "model-store"? a rename is a delete and a create');
    expect(one(upgrade('renamed deployment', [deployment()], [deployment({ name: 'api-v2' })]))).toMatchObject({
      object: 'Deployment/shop/api',
      reason: 'removed',
    });
  });

  test('an object moved to another namespace is gone from the old one', () => {
    expect(one(upgrade('namespace move', [deployment()], [deployment({ namespace: 'serving' })]))).toMatchObject({
      object: 'Deployment/shop/api',
      reason: 'removed',
    });
  });

  test('an object moved to another API group is reported on apiVersion', () => {
    const ingress = (apiVersion: string) => ({ apiVersion, kind: 'Ingress', metadata: meta('web'), spec: {} });
    expect(one(upgrade('group move', [ingress('extensions/v1beta1')], [ingress('networking.k8s.io/v1')]))).toMatchObject({
      field: 'apiVersion',
      previous: 'extensions/v1beta1',
      next: 'networking.k8s.io/v1',
      reason: 'removed',
    });
  });

  test('a removed Namespace is data loss (everything in it goes)', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
    expect(one(upgrade('removed namespace', [ns], []))).toMatchObject({ object: 'Namespace/-/shop', reason: 'data-loss' });
  });
});

describe('checkUpgrade: changes Kubernetes accepts', () => {
  test('a Deployment may change image, replicas and labels outside its selector', () => {
    expect(
      upgrade(
        'deployment mutable',
        [deployment()],
        [deployment({ image: 'registry.example.com/api:2.0.0', replicas: 5, labels: { team: 'platform', tier: 'web' } })],
      ),
    ).toEqual([]);
  });

  test('a Job may change parallelism; a claim may grow, or be written in other units', () => {
    expect(upgrade('job parallelism', [job()], [job({ parallelism: 2 })])).toEqual([]);
    expect(upgrade('pvc growth', [pvc({ storage: '1Gi' })], [pvc({ storage: '10Gi' })])).toEqual([]);
    expect(upgrade('pvc same size', [pvc({ storage: '1Gi' })], [pvc({ storage: '1024Mi' })])).toEqual([]);
    expect(upgrade('pvc bound', [pvc()], [pvc({ volumeName: 'pv-123' })])).toEqual([]);
  });

  test('a Service may change type and ports; a mutable ConfigMap its data', () => {
    expect(upgrade('service type', [service()], [service({ type: 'LoadBalancer', ports: [{ port: 443, targetPort: 8443 }] })])).toEqual([]);
    const cm = (value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('config'), data: { k: value } });
    expect(upgrade('mutable configmap', [cm('a')], [cm('b')])).toEqual([]);
  });

  test('CronJob, PodDisruptionBudget and NetworkPolicy are mutable; new objects are fine', () => {
    const cron = (image: string) => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: meta('nightly'),
      spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image }] } } } } },
    });
    const pdb = (name: string) => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta('api'),
      spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': name } } },
    });
    const policy = (port: number) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('api'),
      spec: { podSelector: {}, ingress: [{ ports: [{ port }] }] },
    });
    expect(
      upgrade('mutable kinds', [cron('a:1'), pdb('api'), policy(80)], [cron('a:2'), pdb('api-server'), policy(8080), pvc({ name: 'cache' })]),
    ).toEqual([]);
  });
});

describe('immutableFields', () => {
  test('a committed view judges every upgrade above as the full output does', () => {
    expect(CASES.length).toBeGreaterThan(20);
    for (const [name, previous, next] of CASES) {
      expect([name, checkUpgrade(immutableFields(previous), next)]).toEqual([name, checkUpgrade(previous, next)]);
    }
  });

  test('keeps identity and the immutable fields only, and is stable', () => {
    const view = immutableFields([deployment(), job(), pvc(), service({ type: 'LoadBalancer' })]);
    expect(view[0]).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: 'shop' },
      spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'api' } } },
    });
    expect(view[3]).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'shop' }, spec: { type: 'LoadBalancer' } });
    expect(immutableFields(view)).toEqual(view);
  });

  test('checkUpgrade does not modify its inputs', () => {
    const previous = [deployment(), pvc({ storage: '2Gi' }), job()];
    const next = [deployment({ selector: { a: 'b' } }), pvc({ storage: '1Gi' })];
    const [before, after] = [JSON.stringify(previous), JSON.stringify(next)];
    expect(checkUpgrade(previous, next).map((p) => p.field)).toEqual([
      'spec.selector.matchLabels.a',
      'spec.selector.matchLabels["app.kubernetes.io/name"]',
      'spec.resources.requests.storage',
      'metadata.name',
    ]);
    expect([JSON.stringify(previous), JSON.stringify(next)]).toEqual([before, after]);
  });
});

// ---------------------------------------------------------------------------
// The reference apps against the committed baseline of the previous release
// ---------------------------------------------------------------------------

describe('reference apps: upgrading from the previous release', () => {
  const baselines = readBaselines();
  const snapshot = new Map(readSnapshotStacks().map((s) => [s.stack, s]));
  const out = synth((app) => buildReferenceApps(app));
  const today = (stack: string): K8sObject[] => {
    const text = out.files.get(`manifests/${stack}.k8s.yaml`);
    return text === undefined ? [] : parseYamlStream(text); // a stack that is gone: every object removed
  };
  const messages = (problems: UpgradeProblem[]) => problems.map((p) => p.message);

  test('the committed baseline covers every reference stack', () => {
    expect(baselines.map((b) => b.stack)).toEqual(['and-gate', 'eeg-letters', 'image-classifier', 'ml-model']);
    for (const b of baselines) expect(b.objects.length).toBeGreaterThan(0);
  });

  test.each(baselines.map((b) => [b.stack, b] as const))("%s: today's output keeps every immutable field and object of the baseline", (_stack, b) => {
    expect(messages(checkUpgrade(b.objects, today(b.stack)))).toEqual([]);
  });

  test.each(baselines.map((b) => [b.stack, b] as const))(
    '%s: the committed snapshot agrees with the baseline (a `jest -u` cannot bless a breaking change)',
    (stack, b) => {
      const s = snapshot.get(stack);
      expect(s).toBeDefined();
      expect(messages(checkUpgrade(b.objects, parseYamlStream(s!.yaml)))).toEqual([]);
    },
  );

  test.each(baselines.map((b) => [b.stack, b] as const))(
    '%s: the baseline is what the script writes (exactly, while the snapshot is the one it was written from)',
    (stack, b) => {
      expect(b.snapshot.entry).toBe(`reference apps ${stack} manifests snapshot 1`);
      expect(immutableFields(b.objects)).toEqual(b.objects); // nothing but the compared fields
      const s = snapshot.get(stack)!;
      // After the snapshot moves on (allowed changes, new objects), the test above is what holds.
      if (sha256(s.yaml) === b.snapshot.sha256) expect(b.objects).toEqual(immutableFields(parseYamlStream(s.yaml)));
    },
  );

  test('a library change to an immutable field fails this test with a message naming the object and field', () => {
    // GIVEN today's output with the kind of change a refactor of the naming could make
    const b = baselines.find((x) => x.stack === 'and-gate')!;
    const changed = today('and-gate')
      .map((o: any) =>
        o.kind === 'Deployment' && o.metadata.name === 'server'
          ? { ...o, spec: { ...o.spec, selector: { matchLabels: { ...o.spec.selector.matchLabels, 'app.kubernetes.io/instance': 'server' } } } }
          : o,
      )
      .filter((o: any) => !(o.kind === 'ConfigMap' && o.metadata.name === 'server-config'));
    // THEN both the selector and the removal are named
    expect(messages(checkUpgrade(b.objects, changed))).toEqual([
      expect.stringMatching(/^ConfigMap\/and-gate\/server-config: metadata\.name: removed: /),
      expect.stringMatching(
        joinRegExp(
          /^Deployment\/and-gate\/server: spec\.selector\.matchLabels\["app\.kubernetes\.io\/instance"\]: "and-gate-server" -> /,
          /"server": field is immutable/,
        ),
      ),
    ]);
  });
});
