import { FlaskFrontend, InferenceService, Metric, MlStack, ModelSource, PythonImage, TfServingBackend } from '../../lib';
import { checkManifests } from '../../lib/check';
import { pythonContext, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/api:1.0.0';
const ML_SCALE_DOWN = { stabilizationWindowSeconds: 600, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] };

/** The HPA of one InferenceService 'api', through the shared output check. */
function hpaOf(autoscaling: any, extra: any = {}): any {
  const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, autoscaling, ...extra }));
  return out.find('HorizontalPodAutoscaler', 'api');
}

describe('autoscaling metrics', () => {
  test('the cpuUtilization/memoryUtilization shorthand renders the metrics it always did, with the ML scale-down', () => {
    expect(hpaOf({ maxReplicas: 4 }).spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
    ]);
    expect(hpaOf({ maxReplicas: 4, memoryUtilization: 80 }).spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
    ]);
    const hpa = hpaOf({ minReplicas: 2, maxReplicas: 4, cpuUtilization: 60, memoryUtilization: 80 });
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
      minReplicas: 2,
      maxReplicas: 4,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
      ],
      behavior: { scaleDown: ML_SCALE_DOWN },
    });
  });

  test('Metric.cpu and Metric.memory are the shorthand as a list; Metric.resource takes an averageValue', () => {
    expect(hpaOf({ maxReplicas: 4, metrics: [Metric.cpu(60), Metric.memory(80)] }).spec.metrics).toEqual(
      hpaOf({ maxReplicas: 4, cpuUtilization: 60, memoryUtilization: 80 }).spec.metrics,
    );
    expect(
      hpaOf({ maxReplicas: 4, metrics: [Metric.resource('cpu', { averageValue: '750m' }), Metric.resource('memory', { averageValue: '6Gi' })] }).spec
        .metrics,
    ).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '750m' } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '6Gi' } } },
    ]);
    expect(hpaOf({ maxReplicas: 4, metrics: [Metric.resource('cpu', { averageUtilization: 50 })] }).spec.metrics[0].resource.target).toEqual({
      type: 'Utilization',
      averageUtilization: 50,
    });
  });

  test('Pods metric: an AverageValue target per pod, with an optional series selector', () => {
    const hpa = hpaOf({
      maxReplicas: 8,
      metrics: [
        Metric.pods('vllm:num_requests_waiting', { averageValue: 5 }),
        Metric.pods('http_requests_per_second', { averageValue: '20', selector: { route: 'predict' } }),
      ],
    });
    expect(hpa.spec.metrics).toEqual([
      { type: 'Pods', pods: { metric: { name: 'vllm:num_requests_waiting' }, target: { type: 'AverageValue', averageValue: '5' } } },
      {
        type: 'Pods',
        pods: {
          metric: { name: 'http_requests_per_second', selector: { matchLabels: { route: 'predict' } } },
          target: { type: 'AverageValue', averageValue: '20' },
        },
      },
    ]);
  });

  test('External metric: averageValue (per pod) or value (of the whole metric), with the selector of the series', () => {
    const hpa = hpaOf({
      maxReplicas: 8,
      metrics: [
        Metric.external('sqs_messages_visible', { selector: { queue: 'jobs' }, averageValue: '30' }),
        Metric.external('pubsub_undelivered', { value: '1k' }),
      ],
    });
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'External',
        external: {
          metric: { name: 'sqs_messages_visible', selector: { matchLabels: { queue: 'jobs' } } },
          target: { type: 'AverageValue', averageValue: '30' },
        },
      },
      { type: 'External', external: { metric: { name: 'pubsub_undelivered' }, target: { type: 'Value', value: '1k' } } },
    ]);
  });

  test('every metric kind and the behavior pass the shared check, which knows their fields (a typo in each is found)', () => {
    const hpa = hpaOf({
      maxReplicas: 8,
      metrics: [
        Metric.cpu(70),
        Metric.pods('vllm:num_requests_waiting', { averageValue: 5 }),
        Metric.external('queue_length', { selector: { queue: 'jobs' }, averageValue: 30 }),
      ],
      behavior: { scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 30 }], selectPolicy: 'Max' } },
    });
    expect(checkManifests([hpa])).toEqual([]);
    const typo = (mutate: (h: any) => void) => {
      const copy = JSON.parse(JSON.stringify(hpa));
      mutate(copy);
      return checkManifests([copy]);
    };
    expect(
      typo((h) => {
        h.spec.metrics[1].pods.target.averageValu = '5';
      }),
    ).toEqual([expect.stringContaining('spec.metrics[1].pods.target.averageValu is not a field')]);
    expect(
      typo((h) => {
        h.spec.metrics[2].external.metric.selectr = {};
      }),
    ).toEqual([expect.stringContaining('spec.metrics[2].external.metric.selectr is not a field')]);
    expect(
      typo((h) => {
        h.spec.behavior.scaleDown.stabilisationWindowSeconds = 600;
      }),
    ).toEqual([expect.stringContaining('spec.behavior.scaleDown.stabilisationWindowSeconds is not a field')]);
  });

  test('the HPA is the same on every server (TfServingBackend, FlaskFrontend), and the Deployment has no replicas field', () => {
    const autoscaling = { minReplicas: 2, maxReplicas: 6, metrics: [Metric.pods('requests_in_flight', { averageValue: 4 })] };
    const out = synthStack((stack) => {
      const server = new TfServingBackend(stack, 'server', { modelName: 'm', model: ModelSource.fromUri('gs://models/m'), autoscaling });
      new FlaskFrontend(stack, 'web', {
        image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' }),
        backend: server,
        autoscaling,
      });
    });
    for (const name of ['server', 'web']) {
      const hpa = out.find('HorizontalPodAutoscaler', name);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa.spec.metrics).toEqual([
        { type: 'Pods', pods: { metric: { name: 'requests_in_flight' }, target: { type: 'AverageValue', averageValue: '4' } } },
      ]);
      expect('replicas' in out.find('Deployment', name).spec).toBe(false);
    }
  });

  test('the server metrics the adapter reads are scrapable: scrape annotations, and Prometheus admitted to the metrics port', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          extraPorts: [{ name: 'metrics', port: 9090 }],
          metrics: { port: 'metrics' },
          autoscaling: { maxReplicas: 4, metrics: [Metric.pods('requests_in_flight', { averageValue: 4 })] },
        }),
    );
    const annotations = out.find('Deployment', 'api').spec.template.metadata.annotations;
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics' });
    const ingress = out.all('NetworkPolicy').flatMap((p: any) => p.spec.ingress ?? []);
    expect(ingress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ port: 9090, protocol: 'TCP' }],
    });
  });
});

describe('autoscaling behavior', () => {
  test('default: scale down slowly (600 s window, one pod a minute), scale up as fast as Kubernetes does (no scaleUp written)', () => {
    expect(hpaOf({ maxReplicas: 4 }).spec.behavior).toEqual({ scaleDown: ML_SCALE_DOWN });
  });

  test('each field given replaces its default, the others stay', () => {
    expect(hpaOf({ maxReplicas: 4, behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } }).spec.behavior).toEqual({
      scaleDown: { stabilizationWindowSeconds: 300, policies: ML_SCALE_DOWN.policies },
    });
    expect(
      hpaOf({ maxReplicas: 4, behavior: { scaleDown: { policies: [{ type: 'Percent', value: 50, periodSeconds: 120 }] } } }).spec.behavior,
    ).toEqual({ scaleDown: { stabilizationWindowSeconds: 600, policies: [{ type: 'Percent', value: 50, periodSeconds: 120 }] } });
    expect(hpaOf({ maxReplicas: 4, behavior: { scaleDown: { selectPolicy: 'Disabled' } } }).spec.behavior.scaleDown).toEqual({
      stabilizationWindowSeconds: 600,
      selectPolicy: 'Disabled',
      policies: ML_SCALE_DOWN.policies,
    });
  });

  test('scaleUp is written as given (Kubernetes fills the fields left out)', () => {
    const scaleUp = {
      stabilizationWindowSeconds: 60,
      selectPolicy: 'Min',
      policies: [
        { type: 'Pods', value: 2, periodSeconds: 60 },
        { type: 'Percent', value: 50, periodSeconds: 60 },
      ],
    };
    expect(hpaOf({ maxReplicas: 4, behavior: { scaleUp } }).spec.behavior).toEqual({ scaleUp, scaleDown: ML_SCALE_DOWN });
    expect(hpaOf({ maxReplicas: 4, behavior: { scaleUp: { stabilizationWindowSeconds: 30 } } }).spec.behavior.scaleUp).toEqual({
      stabilizationWindowSeconds: 30,
    });
    expect(hpaOf({ maxReplicas: 4, behavior: { scaleUp: {} } }).spec.behavior).toEqual({ scaleDown: ML_SCALE_DOWN });
  });

  test('the limits of the API are accepted: 0 and 3600 s windows, 1800 s periods', () => {
    const b = hpaOf({
      maxReplicas: 4,
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0 },
        scaleDown: { stabilizationWindowSeconds: 3600, policies: [{ type: 'Pods', value: 1, periodSeconds: 1800 }] },
      },
    }).spec.behavior;
    expect(b.scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(b.scaleDown).toEqual({ stabilizationWindowSeconds: 3600, policies: [{ type: 'Pods', value: 1, periodSeconds: 1800 }] });
  });
});

describe('autoscaling bad input', () => {
  const build =
    (autoscaling: any, extra: any = {}) =>
    () =>
      synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, autoscaling, ...extra }));
  const W = "InferenceService 'test/api': ";
  test.each<[string, any, string, string]>([
    [
      'a metric that is no Metric (an object literal)',
      { maxReplicas: 3, metrics: [{ type: 'Object', object: {} }] },
      'autoscaling.metrics[0] must be made with Metric.cpu()',
      '{"type":"Object","object":{}}',
    ],
    [
      'metrics not a list',
      { maxReplicas: 3, metrics: Metric.cpu(70) },
      'autoscaling.metrics must be a list',
      '{"_spec":{"source":"Resource","name":"cpu","target":{"averageUtilization":70}}}',
    ],
    ['an empty metrics list', { maxReplicas: 3, metrics: [] }, 'autoscaling.metrics must name at least one metric', '[]'],
    [
      'metrics and cpuUtilization',
      { maxReplicas: 3, cpuUtilization: 60, metrics: [Metric.memory(80)] },
      'autoscaling.cpuUtilization cannot be set together with autoscaling.metrics',
      '60',
    ],
    [
      'a metric twice',
      { maxReplicas: 3, metrics: [Metric.cpu(60), Metric.cpu(80)] },
      'autoscaling.metrics[1] is the same metric as metrics[0]',
      '"cpu"',
    ],
    [
      'unknown resource',
      { maxReplicas: 3, metrics: [Metric.resource('gpu' as any, { averageUtilization: 50 })] },
      "autoscaling.metrics[0].name must be one of 'cpu', 'memory'",
      '"gpu"',
    ],
    [
      'cpu utilization 0',
      { maxReplicas: 3, metrics: [Metric.cpu(0)] },
      'autoscaling.metrics[0].averageUtilization must be a whole number from 1 to 1000',
      '0',
    ],
    [
      'cpu utilization as a string',
      { maxReplicas: 3, metrics: [Metric.cpu('70' as any)] },
      'autoscaling.metrics[0].averageUtilization must be a whole number from 1 to 1000',
      '"70"',
    ],
    [
      'resource with both targets',
      { maxReplicas: 3, metrics: [Metric.resource('cpu', { averageUtilization: 50, averageValue: '1' })] },
      'autoscaling.metrics[0] must set exactly one of averageUtilization and averageValue',
      '{"averageUtilization":50,"averageValue":"1"}',
    ],
    [
      'memory averageValue in milli',
      { maxReplicas: 3, metrics: [Metric.resource('memory', { averageValue: '500m' })] },
      'autoscaling.metrics[0].averageValue must be a memory quantity',
      '"500m"',
    ],
    [
      'Pods metric with a Utilization target',
      { maxReplicas: 3, metrics: [Metric.pods('rps', { averageUtilization: 50 } as any)] },
      'autoscaling.metrics[0].averageUtilization is not an option here: a Pods metric is averaged over the pods',
      '50',
    ],
    [
      'Pods metric with a Value target',
      { maxReplicas: 3, metrics: [Metric.pods('rps', { value: '5' } as any)] },
      'autoscaling.metrics[0].value is not an option here',
      '"5"',
    ],
    [
      'Pods metric without a target',
      { maxReplicas: 3, metrics: [Metric.pods('rps', {} as any)] },
      'autoscaling.metrics[0].averageValue is required for a Pods metric',
      'undefined',
    ],
    [
      'metric name with a slash',
      { maxReplicas: 3, metrics: [Metric.pods('vllm/num_requests_waiting', { averageValue: 5 })] },
      'autoscaling.metrics[0].name must be a metric name',
      '"vllm/num_requests_waiting"',
    ],
    [
      'metric name ..',
      { maxReplicas: 3, metrics: [Metric.external('..', { averageValue: 5 })] },
      'autoscaling.metrics[0].name must be a metric name',
      '".."',
    ],
    [
      'metric name with a space',
      { maxReplicas: 3, metrics: [Metric.pods('requests waiting', { averageValue: 5 })] },
      'autoscaling.metrics[0].name must be a metric name',
      '"requests waiting"',
    ],
    [
      'metric name empty',
      { maxReplicas: 3, metrics: [Metric.pods('', { averageValue: 5 })] },
      'autoscaling.metrics[0].name must be a metric name',
      '""',
    ],
    [
      'metric name a number',
      { maxReplicas: 3, metrics: [Metric.pods(42 as any, { averageValue: 5 })] },
      'autoscaling.metrics[0].name must be a metric name',
      '42',
    ],
    [
      'zero target',
      { maxReplicas: 3, metrics: [Metric.pods('rps', { averageValue: 0 })] },
      'autoscaling.metrics[0].averageValue must be a positive quantity',
      '0',
    ],
    [
      'negative target',
      { maxReplicas: 3, metrics: [Metric.external('q', { value: '-5' })] },
      'autoscaling.metrics[0].value must be a positive quantity',
      '"-5"',
    ],
    [
      'target not a quantity',
      { maxReplicas: 3, metrics: [Metric.pods('rps', { averageValue: '5 rps' })] },
      'autoscaling.metrics[0].averageValue must be a positive quantity',
      '"5 rps"',
    ],
    [
      'target Infinity',
      { maxReplicas: 3, metrics: [Metric.pods('rps', { averageValue: Infinity })] },
      'autoscaling.metrics[0].averageValue must be a positive quantity',
      'Infinity',
    ],
    [
      'External with value and averageValue',
      { maxReplicas: 3, metrics: [Metric.external('q', { value: 100, averageValue: 30 })] },
      'autoscaling.metrics[0].value cannot be set together with averageValue',
      '100',
    ],
    [
      'External without a target',
      { maxReplicas: 3, metrics: [Metric.external('q', { selector: { queue: 'jobs' } })] },
      'autoscaling.metrics[0].averageValue or value is required',
      'undefined',
    ],
    [
      'External with a Utilization target',
      { maxReplicas: 3, metrics: [Metric.external('q', { averageUtilization: 50 } as any)] },
      'autoscaling.metrics[0].averageUtilization is not an option here',
      '50',
    ],
    [
      'selector key not a label key',
      { maxReplicas: 3, metrics: [Metric.external('q', { selector: { 'queue name': 'jobs' }, averageValue: 30 })] },
      'autoscaling.metrics[0].selector has a key that is not a valid Kubernetes label key',
      '"queue name"',
    ],
    [
      'selector value not a label value',
      { maxReplicas: 3, metrics: [Metric.external('q', { selector: { queue: 'jobs/high' }, averageValue: 30 })] },
      'autoscaling.metrics[0].selector.queue must be a valid Kubernetes label value',
      '"jobs/high"',
    ],
    [
      'selector not an object',
      { maxReplicas: 3, metrics: [Metric.pods('rps', { averageValue: 5, selector: 'queue=jobs' as any })] },
      'autoscaling.metrics[0].selector must be an object of key: value entries',
      '"queue=jobs"',
    ],
    [
      'Pods options not an object',
      { maxReplicas: 3, metrics: [Metric.pods('rps', 5 as any)] },
      'autoscaling.metrics[0] must be an object of options',
      '5',
    ],
    ['min > max', { minReplicas: 5, maxReplicas: 2 }, 'autoscaling.minReplicas must not exceed maxReplicas (2)', '5'],
    ['maxReplicas a string', { maxReplicas: '4' }, 'autoscaling.maxReplicas must be a whole number >= 1', '"4"'],
    ['behavior not an object', { maxReplicas: 3, behavior: 'slow' }, 'autoscaling.behavior must be an object of options', '"slow"'],
    ['behavior with an unknown direction', { maxReplicas: 3, behavior: { scaleIn: {} } }, 'autoscaling.behavior.scaleIn is not an option here', '{}'],
    [
      'stabilization window > 3600',
      { maxReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 7200 } } },
      'autoscaling.behavior.scaleDown.stabilizationWindowSeconds must be a whole number from 0 to 3600',
      '7200',
    ],
    [
      'stabilization window < 0',
      { maxReplicas: 3, behavior: { scaleUp: { stabilizationWindowSeconds: -1 } } },
      'autoscaling.behavior.scaleUp.stabilizationWindowSeconds must be a whole number from 0 to 3600',
      '-1',
    ],
    [
      'selectPolicy unknown',
      { maxReplicas: 3, behavior: { scaleDown: { selectPolicy: 'max' } } },
      "autoscaling.behavior.scaleDown.selectPolicy must be one of 'Max', 'Min', 'Disabled'",
      '"max"',
    ],
    [
      'empty policies',
      { maxReplicas: 3, behavior: { scaleDown: { policies: [] } } },
      'autoscaling.behavior.scaleDown.policies must hold at least one policy',
      '[]',
    ],
    [
      'policy period 0',
      { maxReplicas: 3, behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 0 }] } } },
      'autoscaling.behavior.scaleDown.policies[0].periodSeconds must be a whole number from 1 to 1800',
      '0',
    ],
    [
      'policy period > 1800',
      { maxReplicas: 3, behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 3600 }] } } },
      'autoscaling.behavior.scaleUp.policies[0].periodSeconds must be a whole number from 1 to 1800',
      '3600',
    ],
    [
      'policy value 0',
      { maxReplicas: 3, behavior: { scaleDown: { policies: [{ type: 'Percent', value: 0, periodSeconds: 60 }] } } },
      'autoscaling.behavior.scaleDown.policies[0].value must be a whole number >= 1',
      '0',
    ],
    [
      'policy type unknown',
      { maxReplicas: 3, behavior: { scaleDown: { policies: [{ type: 'Replicas', value: 1, periodSeconds: 60 }] } } },
      "autoscaling.behavior.scaleDown.policies[0].type must be one of 'Pods', 'Percent'",
      '"Replicas"',
    ],
    [
      'policy without type',
      { maxReplicas: 3, behavior: { scaleDown: { policies: [{ value: 1, periodSeconds: 60 }] } } },
      'autoscaling.behavior.scaleDown.policies[0].type is required',
      'undefined',
    ],
    [
      'policy without period',
      { maxReplicas: 3, behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1 }] } } },
      'autoscaling.behavior.scaleDown.policies[0].periodSeconds is required',
      'undefined',
    ],
    [
      'policy field typo',
      { maxReplicas: 3, behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSecond: 60 }] } } },
      'autoscaling.behavior.scaleDown.policies[0].periodSecond is not an option here',
      '60',
    ],
  ])('%s', (_what, autoscaling, message, got) => {
    let error: Error | undefined;
    try {
      build(autoscaling)();
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toContain(`${W}${message}`);
    expect(error?.message).toContain(`, got ${got}. Fix: `);
    expect(error!.message.split('Fix: ')[1].length).toBeGreaterThan(10);
  });

  test('replicas and autoscaling together still fail as before', () => {
    expect(build({ maxReplicas: 3, metrics: [Metric.cpu(70)] }, { replicas: 2 })).toThrow(/replicas cannot be set together with autoscaling.*got 2/);
  });

  test('the stack is not half-built: a bad metric fails the construct, no HPA is created', () => {
    const app = { stack: undefined as MlStack | undefined };
    expect(() =>
      synthStack((stack) => {
        app.stack = stack;
        new InferenceService(stack, 'api', { image: IMAGE, autoscaling: { maxReplicas: 3, metrics: [Metric.pods('rps', { averageValue: -1 })] } });
      }),
    ).toThrow(/averageValue must be a positive quantity/);
    expect(app.stack!.node.findAll().some((c) => c.node.id === 'HorizontalPodAutoscaler')).toBe(false);
  });
});
