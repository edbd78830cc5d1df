import { checkManifests, CHECK_RULES, K8sObject } from '../../lib/check';

const container = (extra: Record<string, unknown> = {}) => ({
  name: 'api',
  image: 'example.com/api:1.0.0',
  ports: [{ containerPort: 8080 }],
  readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
  ...extra,
});

const deployment = (spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): K8sObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace: 'ml' },
  spec: {
    selector: { matchLabels: { app: 'api' } },
    template: { metadata: { labels: { app: 'api' } }, spec: { containers: [container()], ...podSpec } },
    ...spec,
  },
});

const claim = (accessModes: string[]): K8sObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'models', namespace: 'ml' },
  spec: { accessModes, resources: { requests: { storage: '1Gi' } } },
});

const hpa = (maxReplicas: number): K8sObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'api', namespace: 'ml' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, minReplicas: 1, maxReplicas },
});

const mountingModels = { volumes: [{ name: 'models', persistentVolumeClaim: { claimName: 'models' } }] };

/** The problems of the ML rules only (the fixtures leave out what the hardening rules want). */
function mlProblems(objects: K8sObject[]): string[] {
  return checkManifests(objects).filter((p) => /: (rwo-claim-replicas|hpa-fixed-replicas|gpu-toleration|readiness-probe): /.test(p));
}

test('the ML rules are rules of the check, with a summary and a fix', () => {
  const ids = CHECK_RULES.map((r) => r.id);
  expect(ids).toEqual(expect.arrayContaining(['rwo-claim-replicas', 'hpa-fixed-replicas', 'gpu-toleration', 'readiness-probe']));
});

describe('rwo-claim-replicas', () => {
  test('a ReadWriteOnce claim mounted by 3 replicas is reported, with what goes wrong and the fix', () => {
    expect(mlProblems([claim(['ReadWriteOnce']), deployment({ replicas: 3 }, mountingModels)])).toEqual([
      'Deployment/ml/api: rwo-claim-replicas: mounts PersistentVolumeClaim "models" (ReadWriteOnce) with 3 replicas: a ReadWriteOnce ' +
        'volume attaches to one node, so pods scheduled on other nodes stay ContainerCreating (Multi-Attach error). Fix: use a ' +
        'ReadWriteMany claim, or one replica (a StatefulSet with volumeClaimTemplates gives each replica its own claim)',
    ]);
  });

  test('so is one replica that its HorizontalPodAutoscaler scales out', () => {
    expect(mlProblems([claim(['ReadWriteOnce']), deployment({}, mountingModels), hpa(4)])).toEqual([
      expect.stringContaining("with up to 4 pods (its HorizontalPodAutoscaler's maxReplicas)"),
    ]);
  });

  test('one replica, or a ReadWriteMany claim, is fine', () => {
    expect(mlProblems([claim(['ReadWriteOnce']), deployment({ replicas: 1 }, mountingModels)])).toEqual([]);
    expect(mlProblems([claim(['ReadWriteMany']), deployment({ replicas: 3 }, mountingModels)])).toEqual([]);
  });
});

describe('hpa-fixed-replicas', () => {
  test('an HPA beside a fixed spec.replicas is reported', () => {
    expect(mlProblems([deployment({ replicas: 2 }), hpa(2)])).toEqual([
      'Deployment/ml/api: hpa-fixed-replicas: sets spec.replicas (2) and HorizontalPodAutoscaler "api" scales it: every apply ' +
        '(kubectl, Argo CD) resets the replicas the autoscaler chose, and Argo CD shows the Deployment out of sync. Fix: remove ' +
        'spec.replicas from the Deployment: the HorizontalPodAutoscaler owns it (its minReplicas is the floor)',
    ]);
  });

  test('without spec.replicas, or without an HPA, it is fine', () => {
    expect(mlProblems([deployment(), hpa(2)])).toEqual([]);
    expect(mlProblems([deployment({ replicas: 2 })])).toEqual([]);
  });
});

describe('gpu-toleration', () => {
  const gpu = (resource: string) => ({ containers: [container({ resources: { limits: { [resource]: 1 } } })] });

  test('a GPU request without a toleration for the GPU taint is reported', () => {
    expect(mlProblems([deployment({}, gpu('nvidia.com/gpu'))])).toEqual([
      'Deployment/ml/api: gpu-toleration: spec.template.spec requests NVIDIA GPUs but does not tolerate the taint nvidia.com/gpu:NoSchedule ' +
        'that GPU node pools carry (GKE adds it): the pod stays Pending. Fix: add the toleration { key: nvidia.com/gpu, operator: Exists, ' +
        'effect: NoSchedule } to the pod template',
    ]);
    expect(mlProblems([deployment({}, gpu('amd.com/gpu'))])).toEqual([expect.stringContaining('the taint amd.com/gpu:NoSchedule')]);
  });

  test('the toleration, or one that tolerates every taint, is fine; so is a CPU pod', () => {
    const tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
    expect(mlProblems([deployment({}, { ...gpu('nvidia.com/gpu'), tolerations })])).toEqual([]);
    expect(mlProblems([deployment({}, { ...gpu('nvidia.com/gpu'), tolerations: [{ operator: 'Exists' }] })])).toEqual([]);
    expect(mlProblems([deployment()])).toEqual([]);
  });
});

describe('readiness-probe', () => {
  test('a Deployment container serving a port without a readiness probe is reported', () => {
    const noProbe = deployment({}, { containers: [container({ readinessProbe: undefined })] });
    expect(mlProblems([noProbe])).toEqual([
      'Deployment/ml/api: readiness-probe: container "api" (spec.template.spec.containers[0]) serves a port and has no readinessProbe: ' +
        'the pod is Ready as soon as the container starts, so its Service sends requests before the server (and its model) has loaded, ' +
        "and they fail at every rollout and scale-up. Fix: add a readinessProbe (an HTTP GET of the server's health path)",
    ]);
  });

  test('a worker without ports needs none', () => {
    expect(mlProblems([deployment({}, { containers: [container({ readinessProbe: undefined, ports: undefined })] })])).toEqual([]);
  });
});
