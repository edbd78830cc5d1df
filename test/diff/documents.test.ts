import * as yaml from 'js-yaml';
import { reduceForScale, splitDocuments } from '../../lib/diff/_documents';
import { podRequest, summarizeWorkloads } from '../../lib/diff/workloads';

describe('reading documents cheaply', () => {
  test('a stream splits at "---" lines only; a stream with subtler markers stays whole', () => {
    expect(splitDocuments('a: 1\n---\nb: |\n  ---x\n---\n# only a comment\n')).toEqual(['a: 1\n', '\nb: |\n  ---x\n']);
    expect(splitDocuments('a: 1\n--- !tag\nb: 2\n')).toEqual(['a: 1\n--- !tag\nb: 2\n']);
    expect(splitDocuments('a: 1\n...\n')).toEqual(['a: 1\n...\n']);
  });

  test("reduceForScale drops blocks scale never depends on, sequences at the key's own indentation included", () => {
    const kubectlStyle = [
      'kind: Deployment',
      'metadata:',
      '  name: api',
      '  labels:',
      '    app: api',
      'spec:',
      '  replicas: 3',
      '  template:',
      '    spec:',
      '      containers:',
      '      - name: api',
      '        env:',
      '        - name: A',
      '          value: "1"',
      '        resources:',
      '          requests:',
      '            cpu: 500m',
      '        image: api:1',
      '',
    ].join('\n');
    const reduced: any = yaml.load(reduceForScale(kubectlStyle));
    expect(reduced).toEqual({
      kind: 'Deployment',
      metadata: { name: 'api' },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'api', resources: { requests: { cpu: '500m' } }, image: 'api:1' }] } } },
    });
  });
});

describe('what a workload requests', () => {
  test('a limit without a request is the request; GPUs from limits; init containers by their peak, sidecars added', () => {
    expect(
      podRequest({
        initContainers: [
          { name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
          { name: 'download', resources: { requests: { cpu: '2', memory: '1Gi' } } },
        ],
        containers: [{ name: 'app', resources: { limits: { cpu: '1', memory: '2Gi', 'nvidia.com/gpu': 1 } } }],
      }),
    ).toEqual({ cpu: 2.1, memory: 2 * 2 ** 30 + 64 * 2 ** 20, gpu: 1 });
  });

  test("scale: replicas (default 1), the HPA bounds, a Job's parallelism up to its completions", () => {
    const pod = { template: { spec: { containers: [{ name: 'c' }] } } };
    const s = summarizeWorkloads([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a', namespace: 'n' }, spec: { ...pod } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'b', namespace: 'n' }, spec: { replicas: 3, ...pod } },
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'b', namespace: 'n' },
        spec: { scaleTargetRef: { kind: 'Deployment', name: 'b' }, maxReplicas: 5 },
      },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'n' }, spec: { parallelism: 4, completions: 2, ...pod } },
    ]);
    expect([...s.values()].map((w) => [w.ref, w.minPods, w.maxPods, w.scale])).toEqual([
      ['Deployment/n/a', 1, 1, '1 replica'],
      ['Deployment/n/b', 1, 5, 'autoscaled 1..5 (HPA b)'],
      ['Job/n/j', 2, 2, 'parallelism 2'],
    ]);
  });
});
