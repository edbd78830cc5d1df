import { k8s } from 'cdk8s-plus-28';
import { Distributed, FlaskFrontend, InferenceService, ModelOutput, PythonImage, TaintEffect, Toleration, TrainingJob } from '../../lib';
import { podSpec, pythonContext, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/api:1.0.0';
const TRAIN = 'registry.example.com/train:1.0.0';
const GPU_TOLERATION = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
const ZONE_AFFINITY: k8s.Affinity = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['europe-west4-a'] }] }],
    },
  },
};

describe('scheduling props', () => {
  test('a server renders tolerations, affinity and priorityClassName in its pod spec', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          tolerations: [Toleration.equal('sku', 'gpu', { effect: TaintEffect.NO_SCHEDULE }), Toleration.exists('dedicated')],
          affinity: ZONE_AFFINITY,
          priorityClassName: 'serving-high',
        }),
    );
    const pod = podSpec(out.find('Deployment', 'api'));
    expect(pod.tolerations).toEqual([
      { key: 'sku', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' },
      { key: 'dedicated', operator: 'Exists' },
    ]);
    expect(pod.affinity).toEqual(ZONE_AFFINITY);
    expect(pod.priorityClassName).toBe('serving-high');
  });

  test('a frontend takes them too (every ServedWorkloadProps)', () => {
    const image = PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' });
    const out = synthStack((stack) => new FlaskFrontend(stack, 'web', { image, priorityClassName: 'web' }));
    expect(podSpec(out.find('Deployment', 'web')).priorityClassName).toBe('web');
  });

  test('a training job, distributed, renders them in the Indexed Job pod spec', () => {
    const out = synthStack(
      (stack) =>
        new TrainingJob(stack, 'train', {
          image: TRAIN,
          distributed: Distributed.pytorch({ workers: 2 }),
          tolerations: [Toleration.exists('spot', { effect: TaintEffect.NO_EXECUTE, tolerationSeconds: 120 })],
          affinity: ZONE_AFFINITY,
          priorityClassName: 'batch-low',
        }),
    );
    const pod = podSpec(out.find('Job', 'train'));
    expect(pod.tolerations).toEqual([{ key: 'spot', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 120 }]);
    expect(pod.affinity).toEqual(ZONE_AFFINITY);
    expect(pod.priorityClassName).toBe('batch-low');
  });

  test('a scheduled job (CronJob) renders them in the job template', () => {
    const out = synthStack(
      (stack) =>
        new TrainingJob(stack, 'train', {
          image: TRAIN,
          modelOutput: ModelOutput.newClaim({ size: '1Gi' }),
          schedule: { cron: '0 3 * * *' },
          priorityClassName: 'batch-low',
        }),
    );
    expect(podSpec(out.find('CronJob', 'train')).priorityClassName).toBe('batch-low');
  });

  test('nothing set: no tolerations, affinity or priorityClassName keys (no empty fields)', () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, affinity: {}, tolerations: [] }));
    const pod = podSpec(out.find('Deployment', 'api'));
    expect(pod.tolerations).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
    expect(pod.priorityClassName).toBeUndefined();
  });
});

describe('GPU toleration', () => {
  test('a MIG slice tolerates the nvidia.com/gpu taint, not a key named after the slice', () => {
    const out = synthStack(
      (stack) => new InferenceService(stack, 'api', { image: IMAGE, resources: { gpu: 1, gpuResource: 'nvidia.com/mig-1g.10gb' } }),
    );
    const pod = podSpec(out.find('Deployment', 'api'));
    expect(pod.containers[0].resources.limits['nvidia.com/mig-1g.10gb']).toBe(1);
    expect(pod.tolerations).toEqual([GPU_TOLERATION]);
  });

  test('a training job with a MIG slice too', () => {
    const out = synthStack(
      (stack) => new TrainingJob(stack, 'train', { image: TRAIN, resources: { gpu: 1, gpuResource: 'nvidia.com/mig-3g.40gb' } }),
    );
    expect(podSpec(out.find('Job', 'train')).tolerations).toEqual([GPU_TOLERATION]);
  });

  test("another vendor's resource keeps a toleration keyed on its name", () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, resources: { gpu: 1, gpuResource: 'amd.com/gpu' } }));
    expect(podSpec(out.find('Deployment', 'api')).tolerations).toEqual([{ key: 'amd.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  test('a user toleration equal to the GPU one is listed once, the GPU one first', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          resources: { gpu: 1 },
          tolerations: [Toleration.exists('sku'), Toleration.exists('nvidia.com/gpu', { effect: TaintEffect.NO_SCHEDULE }), Toleration.exists('sku')],
        }),
    );
    expect(podSpec(out.find('Deployment', 'api')).tolerations).toEqual([GPU_TOLERATION, { key: 'sku', operator: 'Exists' }]);
  });
});

describe('scheduling validation', () => {
  const server = (props: any) => () => synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, ...props }));
  const job = (props: any) => () => synthStack((stack) => new TrainingJob(stack, 'train', { image: TRAIN, ...props }));

  test.each([
    [
      'taint key',
      { tolerations: [Toleration.exists('sku gpu')] },
      /InferenceService 'test\/api': tolerations\[0\]\.key must be a taint key.*got "sku gpu"\. Fix: use the key the nodes are tainted with/,
    ],
    [
      'taint key prefix',
      { tolerations: [Toleration.exists('Example.com/gpu')] },
      /tolerations\[0\]\.key must be a taint key.*got "Example.com\/gpu"/,
    ],
    ['empty key', { tolerations: [Toleration.exists('')] }, /tolerations\[0\]\.key must be a taint key.*got ""/],
    [
      'taint value',
      { tolerations: [Toleration.exists('a'), Toleration.equal('sku', 'gpu/a100')] },
      /tolerations\[1\]\.value must be a taint value.*got "gpu\/a100"\. Fix: use the taint's value, or Toleration\.exists\('sku'\)/,
    ],
    [
      'effect',
      { tolerations: [Toleration.exists('sku', { effect: 'NoRun' as TaintEffect })] },
      /tolerations\[0\]\.effect must be NoSchedule, PreferNoSchedule or NoExecute, got "NoRun"/,
    ],
    [
      'tolerationSeconds without NoExecute',
      { tolerations: [Toleration.exists('spot', { effect: TaintEffect.NO_SCHEDULE, tolerationSeconds: 60 })] },
      /tolerations\[0\]\.tolerationSeconds only applies to effect NoExecute.*got 60\. Fix: add effect: TaintEffect\.NO_EXECUTE/,
    ],
    [
      'tolerationSeconds negative',
      { tolerations: [Toleration.exists('spot', { effect: TaintEffect.NO_EXECUTE, tolerationSeconds: -1 })] },
      /tolerations\[0\]\.tolerationSeconds must be a whole number >= 0, got -1/,
    ],
    [
      'plain object toleration',
      { tolerations: [{ key: 'sku', operator: 'Exists' }] },
      /tolerations\[0\] must be made with Toleration\.equal\(\) or Toleration\.exists\(\)/,
    ],
    ['tolerations not a list', { tolerations: Toleration.exists('sku') }, /tolerations must be a list of Toleration/],
    [
      'priorityClassName',
      { priorityClassName: 'High_Priority' },
      /InferenceService 'test\/api': priorityClassName must be a DNS-1123 subdomain.*got "High_Priority"\. Fix: use the name of a PriorityClass/,
    ],
    ['priorityClassName too long', { priorityClassName: 'a'.repeat(254) }, /priorityClassName must be a DNS-1123 subdomain/],
  ])('server: %s', (_name, props, expected) => {
    expect(server(props)).toThrow(expected);
  });

  test.each([
    [
      'taint value',
      { tolerations: [Toleration.equal('sku', '-gpu')] },
      /TrainingJob 'test\/train': tolerations\[0\]\.value must be a taint value.*got "-gpu"/,
    ],
    [
      'priorityClassName',
      { priorityClassName: '.batch' },
      /TrainingJob 'test\/train': priorityClassName must be a DNS-1123 subdomain.*got "\.batch"/,
    ],
  ])('job: %s', (_name, props, expected) => {
    expect(job(props)).toThrow(expected);
  });

  test('valid edge cases pass: prefixed keys, an empty Equal value, dotted class names', () => {
    expect(
      server({ tolerations: [Toleration.exists('node.example.com/dedicated'), Toleration.equal('sku', '')], priorityClassName: 'team.serving-high' }),
    ).not.toThrow();
  });
});
