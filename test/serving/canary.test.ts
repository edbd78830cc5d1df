import {
  checkUpgrade,
  Exposure,
  FlaskFrontend,
  InferenceService,
  isConnectionAllowed,
  LlmServer,
  ModelSource,
  MlStack,
  PythonImage,
  TfServingBackend,
  VersionPolicy,
} from '../../lib';
import { CanaryOptions, replicasFor } from '../../lib/serving/canary';
import { pythonContext, Synthesized, synthStack } from '../_util/synth';

const GS = ModelSource.fromUri('gs://models/and-gate');
const V1 = 'registry.example.com/api:1.0.0';
const V2 = 'registry.example.com/api:2.0.0';
const GATEWAY = Exposure.gateway({ gateway: { name: 'public', namespace: 'gateway' }, hostnames: ['api.example.com'] });
const web = (stack: MlStack, backend: any) =>
  new FlaskFrontend(stack, 'web', {
    image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' }),
    backend,
  });

const names = (out: Synthesized) => out.objects.map((o) => `${o.kind}/${o.metadata.name}`);
const byId = (out: Synthesized) => new Map(out.objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));

/** Leaf paths that differ between two objects. */
function changedPaths(a: unknown, b: unknown, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return [at];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  return [...keys].flatMap((k) => changedPaths((a as any)[k], (b as any)[k], at ? `${at}.${k}` : k));
}

/** Object ids added, removed and changed (with their changed fields) from one output to the next. */
function diff(before: Synthesized, after: Synthesized) {
  const a = byId(before);
  const b = byId(after);
  const changed: Record<string, string[]> = {};
  for (const [id, o] of b) if (a.has(id) && changedPaths(a.get(id), o).length > 0) changed[id] = changedPaths(a.get(id), o);
  return { added: [...b.keys()].filter((id) => !a.has(id)), removed: [...a.keys()].filter((id) => !b.has(id)), changed };
}

const api = (canary?: CanaryOptions, extra: object = {}) =>
  synthStack((stack) => web(stack, new InferenceService(stack, 'api', { image: V1, replicas: 4, ...extra, canary })));

describe('canary by replica ratio behind the one Service', () => {
  const out = api({ weight: 25, image: V2 });

  test('weight 25 of 4 replicas: 3 stable pods, 1 canary pod, and the Service says so', () => {
    expect(out.find('Deployment', 'api').spec.replicas).toBe(3);
    expect(out.find('Deployment', 'api-canary').spec.replicas).toBe(1);
    expect(out.find('Deployment', 'api-canary').spec.template.spec.containers[0].image).toBe(V2);
    expect(out.find('Deployment', 'api').spec.template.spec.containers[0].image).toBe(V1);
    const svc = out.find('Service', 'api');
    expect(svc.metadata.annotations['ml.cdk8s.io/traffic-split']).toBe('api: 75% (3 pods), api-canary: 25% (1 pod)');
    expect(svc.spec.selector).toEqual({ 'app.kubernetes.io/name': 'api' });
    expect(out.all('Service').map((s: any) => s.metadata.name)).toEqual(['api', 'web']);
  });

  test('the stable selector is the one it had without a canary; the tracks select disjoint pods', () => {
    const plain = api();
    const stable = out.find('Deployment', 'api');
    expect(stable.spec.selector).toEqual(plain.find('Deployment', 'api').spec.selector);
    expect(stable.spec.template.metadata.labels).toEqual(plain.find('Deployment', 'api').spec.template.metadata.labels);
    const canary = out.find('Deployment', 'api-canary');
    expect(canary.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'api',
      'app.kubernetes.io/instance': 'test-api-canary',
      'ml.cdk8s.io/track': 'canary',
    });
    const matches = (sel: Record<string, string>, labels: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    expect(matches(stable.spec.selector.matchLabels, canary.spec.template.metadata.labels)).toBe(false);
    expect(matches(canary.spec.selector.matchLabels, stable.spec.template.metadata.labels)).toBe(false);
  });

  test('PDB and NetworkPolicy per track, each selecting its own pods', () => {
    expect(out.find('PodDisruptionBudget', 'api').spec.selector.matchLabels).toEqual(out.find('Deployment', 'api').spec.selector.matchLabels);
    expect(out.all('PodDisruptionBudget').map((p: any) => p.metadata.name)).toEqual(['api']); // one canary pod: no PDB
    expect(out.find('NetworkPolicy', 'api-canary').spec.podSelector.matchLabels).toEqual(
      out.find('Deployment', 'api-canary').spec.selector.matchLabels,
    );
    const bigger = api({ weight: 50, image: V2 });
    expect(bigger.find('PodDisruptionBudget', 'api-canary').spec.selector.matchLabels).toEqual(
      bigger.find('Deployment', 'api-canary').spec.selector.matchLabels,
    );
  });

  test('the frontend reaches both tracks, nothing else does', () => {
    for (const to of ['Deployment/test/api', 'Deployment/test/api-canary']) {
      expect(isConnectionAllowed(out.objects, 'Deployment/test/web', to, 8080)).toBe(true);
      expect(isConnectionAllowed(out.objects, 'probe:test', to, 8080)).toBe(false);
    }
  });

  test.each([
    [4, 25, 3, 1],
    [10, 10, 9, 1],
    [3, 33, 2, 1],
    [5, 40, 3, 2],
    [20, 5, 19, 1],
  ])('%i replicas at weight %i: %i stable, %i canary', (replicas, weight, stable, canary) => {
    const o = api({ weight, image: V2 }, { replicas });
    expect([o.find('Deployment', 'api').spec.replicas, o.find('Deployment', 'api-canary').spec.replicas]).toEqual([stable, canary]);
  });

  test('the fewest replicas that express a weight', () => {
    // 1 of 7 = 14.3%, within 5 points of 10
    expect([replicasFor(50), replicasFor(25), replicasFor(10), replicasFor(5), replicasFor(1)]).toEqual([2, 4, 7, 10, 17]);
  });

  test('a new model on the canary, the stable model untouched', () => {
    const o = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: V1,
          replicas: 2,
          model: GS,
          canary: { weight: 50, model: ModelSource.fromUri('gs://models/and-gate-v2') },
        }),
    );
    const init = (d: string) => JSON.stringify(o.find('Deployment', d).spec.template.spec.initContainers);
    expect(init('api')).toContain(':models/and-gate"');
    expect(init('api')).not.toContain('and-gate-v2');
    expect(init('api-canary')).toContain(':models/and-gate-v2"');
  });
});

describe('canary by weight behind a Gateway route', () => {
  const out = synthStack((stack) =>
    web(
      stack,
      new TfServingBackend(stack, 'server', {
        modelName: 'and-gate',
        model: GS,
        // 9 + 1 pods: the wired frontend, which calls the Service, gets the route's 90/10 too.
        replicas: 9,
        exposure: GATEWAY,
        canary: { weight: 10, version: '2.19.0' },
      }),
    ),
  );

  test('an HTTPRoute to one Service per track with the weights', () => {
    const route = out.find('HTTPRoute', 'server');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ name: 'public', namespace: 'gateway' }],
      hostnames: ['api.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { name: 'server-stable', port: 8501, weight: 90 },
            { name: 'server-canary', port: 8501, weight: 10 },
          ],
        },
      ],
    });
    expect(out.find('Service', 'server-stable').spec.selector).toEqual(out.find('Deployment', 'server').spec.selector.matchLabels);
    expect(out.find('Service', 'server-canary').spec.selector).toEqual(out.find('Deployment', 'server-canary').spec.selector.matchLabels);
    expect(out.find('Deployment', 'server-canary').spec.template.spec.containers[0].image).toBe('tensorflow/serving:2.19.0');
    // the weight splits requests, the replicas are capacity: stable keeps its 9, the canary gets its share (at least 1)
    expect([out.find('Deployment', 'server').spec.replicas, out.find('Deployment', 'server-canary').spec.replicas]).toEqual([9, 1]);
  });

  test("the gateway's pods reach both tracks; the frontend too", () => {
    for (const to of ['Deployment/test/server', 'Deployment/test/server-canary']) {
      expect(isConnectionAllowed(out.objects, 'probe:gateway', to, 8501)).toBe(true);
      expect(isConnectionAllowed(out.objects, 'Deployment/test/web', to, 8501)).toBe(true);
      expect(isConnectionAllowed(out.objects, 'probe:elsewhere', to, 8501)).toBe(false);
    }
  });

  test('a gateway whose proxies run in another namespace (controllerNamespace)', () => {
    const o = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: V1,
          exposure: Exposure.gateway({ gateway: { name: 'eg', namespace: 'gateway' }, controllerNamespace: 'envoy-gateway-system' }),
          canary: { weight: 20, image: V2 },
        }),
    );
    expect(isConnectionAllowed(o.objects, 'probe:envoy-gateway-system', 'Deployment/test/api-canary', 8080)).toBe(true);
    expect(isConnectionAllowed(o.objects, 'probe:gateway', 'Deployment/test/api-canary', 8080)).toBe(false);
  });

  test('HPA per track: the canary scales within its share', () => {
    const o = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: V1,
          exposure: GATEWAY,
          autoscaling: { minReplicas: 2, maxReplicas: 10 },
          canary: { weight: 20, image: V2 },
        }),
    );
    const hpa = (n: string) => o.find('HorizontalPodAutoscaler', n).spec;
    expect([hpa('api').minReplicas, hpa('api').maxReplicas]).toEqual([2, 10]);
    expect([hpa('api-canary').minReplicas, hpa('api-canary').maxReplicas, hpa('api-canary').scaleTargetRef.name]).toEqual([1, 2, 'api-canary']);
    expect(o.find('Deployment', 'api-canary').spec.replicas).toBeUndefined();
    expect(hpa('api-canary').metrics).toEqual(hpa('api').metrics);
  });

  describe('wired in-cluster clients call the Service and get the pod ratio, not the route weight', () => {
    const tf = (stack: MlStack, extra: Record<string, unknown>) =>
      new TfServingBackend(stack, 'server', { modelName: 'and-gate', model: GS, exposure: GATEWAY, ...extra } as any);
    test('refused when the ratio is more than 5 points off (3 + 1 pods = 25% where the route says 10%), with both fixes', () => {
      expect(() => synthStack((stack) => web(stack, tf(stack, { replicas: 3, canary: { weight: 10, version: '2.19.0' } })))).toThrow(
        "TfServingBackend 'test/server': canary.weight is the HTTPRoute's split, but test/web calls the Service in the cluster and gets " +
          'the pod ratio (server: 75% (3 pods), server-canary: 25% (1 pod)), more than 5 points off, got 10. ' +
          'Fix: set replicas to 9 with 1 canary pod(s) (canary.replicas), so the pods split 90/10, or set canary.weight to 25 (the pod ratio)',
      );
    });
    test('allowFrom clients count; HPAs are checked at their minimum and maximum', () => {
      const api = (stack: MlStack, extra: Record<string, unknown>) =>
        new InferenceService(stack, 'api', { image: V1, exposure: GATEWAY, canary: { weight: 10, image: V2 }, ...extra });
      expect(() =>
        synthStack((stack) => {
          const server = api(stack, { replicas: 2 });
          server.allowFrom(new InferenceService(stack, 'client', { image: 'registry.example.com/client:1.0.0' }));
        }),
      ).toThrow('but test/client calls the Service in the cluster and gets the pod ratio (api: 66.7% (2 pods), api-canary: 33.3% (1 pod))');
      expect(() => synthStack((stack) => web(stack, api(stack, { autoscaling: { minReplicas: 2, maxReplicas: 10 } })))).toThrow(
        'set canary.replicas so the canary',
      );
    });
    test('fine when the pods split as the route does, or when no in-cluster client is wired', () => {
      expect(() => synthStack((stack) => web(stack, tf(stack, { replicas: 4, canary: { weight: 20, version: '2.19.0' } })))).not.toThrow();
      expect(() => synthStack((stack) => tf(stack, { replicas: 3, canary: { weight: 10, version: '2.19.0' } }))).not.toThrow();
    });
  });

  test('without a canary the route goes to the one Service', () => {
    const o = synthStack((stack) => new InferenceService(stack, 'api', { image: V1, exposure: GATEWAY }));
    expect(o.find('HTTPRoute', 'api').spec.rules[0].backendRefs).toEqual([{ name: 'api', port: 8080 }]);
    expect(names(o).filter((n) => /canary|stable/.test(n))).toEqual([]);
  });
});

describe('promotion and rollback are one-line changes with small diffs', () => {
  const base = api();
  const withCanary = api({ weight: 25, image: V2 });

  test('adding a canary: new canary objects; stable changes only its replica count and the Service its selector and split', () => {
    expect(diff(base, withCanary)).toEqual({
      added: ['Deployment/api-canary', 'NetworkPolicy/api-canary'],
      removed: [],
      changed: {
        'Deployment/api': ['spec.replicas'],
        'Service/api': ['metadata.annotations', 'spec.selector.app.kubernetes.io/instance'],
        'NetworkPolicy/web': [
          'spec.egress.1.to.0.podSelector.matchLabels.app.kubernetes.io/instance',
          'spec.egress.1.to.0.podSelector.matchLabels.ml.cdk8s.io/track',
          'spec.egress.2',
        ],
      },
    });
    expect(checkUpgrade(base.objects, withCanary.objects)).toEqual([]);
  });

  test('promotion (weight: 100): the stable Deployment takes the new image; the canary objects go', () => {
    const promoted = api({ weight: 100, image: V2 });
    const d = diff(withCanary, promoted);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual(['Deployment/api-canary', 'NetworkPolicy/api-canary']);
    expect(d.changed['Deployment/api']).toEqual(['spec.replicas', 'spec.template.spec.containers.0.image']);
    expect(promoted.find('Deployment', 'api').spec.template.spec.containers[0].image).toBe(V2);
    expect(checkUpgrade(withCanary.objects, promoted.objects).filter((p) => p.reason === 'immutable')).toEqual([]);
    // and the clean-up afterwards (image: V2, no canary) writes the same YAML
    expect(api(undefined, { image: V2 }).objects).toEqual(promoted.objects);
  });

  test('rollback (weight: 0): exactly the output without a canary', () => {
    expect(api({ weight: 0, image: V2 }).objects).toEqual(base.objects);
    expect(checkUpgrade(withCanary.objects, base.objects).map((p) => `${p.object} ${p.reason}`)).toEqual([
      'Deployment/test/api-canary removed',
      'NetworkPolicy/test/api-canary removed',
    ]);
  });

  test('a weight change touches replicas and the stated split only', () => {
    const more = api({ weight: 50, image: V2 });
    expect(diff(withCanary, more)).toEqual({
      added: ['PodDisruptionBudget/api-canary'],
      removed: [],
      changed: {
        'Deployment/api': ['spec.replicas'],
        'Deployment/api-canary': ['spec.replicas', 'spec.template.spec.topologySpreadConstraints', 'spec.template.spec.affinity'].filter((p) =>
          changedPaths(withCanary.find('Deployment', 'api-canary'), more.find('Deployment', 'api-canary')).includes(p),
        ),
        'Service/api': ['metadata.annotations.ml.cdk8s.io/traffic-split'],
      },
    });
  });
});

describe('TF Serving version labels', () => {
  test('predictUrl(model, { label })', () => {
    synthStack((stack) => {
      const s = new TfServingBackend(stack, 'server', {
        models: [{ name: 'and-gate', source: GS, versionPolicy: VersionPolicy.specific([1, 2]), versionLabels: { stable: 1, canary: 2 } }],
      });
      expect(s.predictUrl('and-gate', { label: 'canary' })).toBe('http://server.test.svc:8501/v1/models/and-gate/labels/canary:predict');
      expect(s.predictUrl('and-gate')).toBe('http://server.test.svc:8501/v1/models/and-gate:predict');
      expect(() => s.predictUrl('and-gate', { label: 'next' })).toThrow(
        "TfServingBackend 'test/server': predictUrl.label is not a version label of model " +
          "'and-gate', got \"next\". Fix: use one of 'stable', 'canary'",
      );
    });
  });
});

describe('bad input', () => {
  const run = (props: any, tfProps?: any) => () =>
    synthStack((stack) =>
      tfProps
        ? new TfServingBackend(stack, 'server', { modelName: 'm', model: GS, ...tfProps })
        : new InferenceService(stack, 'api', { image: V1, replicas: 4, ...props }),
    );
  test.each([
    [
      'weight above 100',
      { canary: { weight: 120, image: V2 } },
      'canary.weight must be a whole percentage from 0 to 100 (0 rolls back, 100 promotes), got 120. Fix: set canary.weight',
    ],
    [
      'weight below 0',
      { canary: { weight: -5, image: V2 } },
      'canary.weight must be a whole percentage from 0 to 100 (0 rolls back, 100 promotes), got -5. Fix:',
    ],
    [
      'fractional weight',
      { canary: { weight: 12.5, image: V2 } },
      'canary.weight must be a whole percentage from 0 to 100 (0 rolls back, 100 promotes), got 12.5. Fix:',
    ],
    [
      'weight as a string',
      { canary: { weight: '10', image: V2 } },
      'canary.weight must be a whole percentage from 0 to 100 (0 rolls back, 100 promotes), got "10". Fix:',
    ],
    ['canary not an object', { canary: 10 }, 'canary must be an object'],
    [
      'canary without change',
      { canary: { weight: 10 } },
      'canary changes nothing: the canary would run exactly what stable runs, got ' +
        '{"weight":10}. Fix: give it its own image or model or env, or remove the canary',
    ],
    [
      'unknown change',
      { canary: { weight: 10, version: '2.0.0' } },
      'canary.version is not something this server\'s canary can change, got "version". Fix: use image, model, env',
    ],
    [
      'ratio not expressible',
      { replicas: 4, canary: { weight: 10, image: V2 } },
      'canary.weight cannot be expressed by 4 replicas within 5 points (the split is by pod ' +
        'count behind one Service: 1 of 4 pods = 25%), got 10. Fix: raise replicas to 7 (1 canary ' +
        'of 7), or use exposure: Exposure.gateway({ gateway }) to split by weight',
    ],
    [
      'one replica',
      { replicas: 1, canary: { weight: 50, image: V2 } },
      'canary.weight cannot be expressed by 1 replicas within 5 points (the split is by pod ' +
        'count behind one Service: 1 pod(s) cannot hold two tracks), got 50. Fix: raise replicas to 2',
    ],
    [
      'autoscaling without a gateway',
      { replicas: undefined, autoscaling: { maxReplicas: 4 }, canary: { weight: 25, image: V2 } },
      'canary is split by replica ratio behind one Service',
    ],
    [
      'canary.replicas without a gateway',
      { canary: { weight: 25, image: V2, replicas: 2 } },
      'canary.replicas only applies behind Exposure.gateway()',
    ],
    [
      'canary.replicas 0',
      { exposure: GATEWAY, canary: { weight: 25, image: V2, replicas: 0 } },
      'canary.replicas must be a whole number from 1 to 1000, got 0',
    ],
    ['canary.model not a source', { canary: { weight: 25, model: 'gs://x' } }, 'canary.model must be a ModelSource, got "gs://x"'],
  ])('%s', (_n, props, message) => {
    expect(run(props)).toThrow(`InferenceService 'test/api': ${message}`);
  });

  test.each([
    [
      'TF canary same release',
      { canary: { weight: 10, version: '2.20.0' } },
      'canary runs the same image as stable: the canary would change nothing, got "tensorflow/serving:2.20.0"',
    ],
    ['TF canary release', { canary: { weight: 10, version: 'latest' } }, 'canary.version must be a TF Serving release such as 2.20.0, got "latest"'],
    ['TF canary model', { canary: { weight: 10, model: GS } }, "canary.model is not something this server's canary can change"],
    [
      'TF canary CPU image with GPUs',
      { resources: { gpu: 1 }, canary: { weight: 10, image: 'tensorflow/serving:2.19.0' } },
      'canary.image runs a CPU-only TF Serving image while resources.gpu is 1',
    ],
  ])('%s', (_n, props, message) => {
    expect(run(undefined, props)).toThrow(`TfServingBackend 'test/server': ${message}`);
  });

  test.each([
    ['gateway name', { gateway: { name: 'Public' } }, 'exposure.gateway.name must be'],
    ['gateway missing', {}, 'exposure.gateway must be an object'],
    [
      'hostname',
      { gateway: { name: 'public' }, hostnames: ['10.0.0.1'] },
      'exposure.hostnames[0] must be a DNS host name (a leading *. allowed, no IP address), got "10.0.0.1"',
    ],
    ['gateway in the own namespace', { gateway: { name: 'public' } }, "exposure.gateway.namespace is the workload's own namespace"],
  ])('Exposure.gateway: %s', (_n, o, message) => {
    expect(run({ replicas: 1, exposure: Exposure.gateway(o as any) })).toThrow(`InferenceService 'test/api': ${message}`);
  });

  test('a single-attach claim read by both tracks', () => {
    expect(
      run({
        replicas: 1,
        model: ModelSource.fromVolume('models', { accessMode: 'ReadWriteOnce' }),
        exposure: GATEWAY,
        canary: { weight: 50, image: V2 },
      }),
    ).toThrow("InferenceService 'test/api': canary reads PersistentVolumeClaim 'models' (ReadWriteOnce) beside the stable pods");
  });
});

test('the reference check knows HTTPRoute: a typo in a field or a bad weight is reported', () => {
  const { checkManifests } = jest.requireActual('../../lib/check');
  const route = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'n' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      rules: [
        {
          backendRefs: [
            { name: 's', weigth: 5 },
            { name: 't', port: 80, weight: -1 },
          ],
        },
      ],
    },
  };
  expect(checkManifests([route])).toEqual([
    'HTTPRoute/n/r: schema: spec.rules[0].backendRefs[1].weight must be >= 0',
    'HTTPRoute/n/r: schema: spec.rules[0].backendRefs[0].port is required for a Service backend',
    'HTTPRoute/n/r: unknown-field: spec.rules[0].backendRefs[0].weigth is not a field of gateway.networking.k8s.io/v1 HTTPRoute ' +
      '(CRD httproutes.gateway.networking.k8s.io)',
  ]);
});

describe('LlmServer canary', () => {
  const REV = '7ae557604adf67be50417f59c2c2f167def9a775';
  const hf = (accessMode: 'ReadWriteOnce' | 'ReadWriteMany') =>
    ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', { revision: REV, cache: { accessMode } } as any);

  test('another vLLM release on the canary, both tracks reading the ReadWriteMany cache, the chat page reaching both', () => {
    const out = synthStack((stack) => {
      const llm = new LlmServer(stack, 'llm', { model: hf('ReadWriteMany'), replicas: 2, canary: { weight: 50, version: '0.30.0' } });
      web(stack, llm);
    });
    expect(out.find('Deployment', 'llm-canary').spec.template.spec.containers[0].image).toBe('vllm/vllm-openai:v0.30.0');
    expect(out.find('Deployment', 'llm').spec.template.spec.containers[0].image).toMatch(/^vllm\/vllm-openai:v\d/);
    expect([out.find('Deployment', 'llm').spec.replicas, out.find('Deployment', 'llm-canary').spec.replicas]).toEqual([1, 1]);
    expect(isConnectionAllowed(out.objects, 'Deployment/test/web', 'Deployment/test/llm-canary', 8000)).toBe(true);
  });

  test('a ReadWriteOnce cache cannot be read by both tracks', () => {
    expect(() =>
      synthStack(
        (stack) => new LlmServer(stack, 'llm', { model: hf('ReadWriteOnce'), exposure: GATEWAY, canary: { weight: 50, version: '0.30.0' } }),
      ),
    ).toThrow(
      "LlmServer 'test/llm': canary reads PersistentVolumeClaim 'llm-model-cache' " +
        '(ReadWriteOnce) beside the stable pods: pods on other nodes fail with Multi-Attach ' +
        'errors, got "ReadWriteOnce". Fix: give the canary its own model',
    );
  });
});

test('the output check accepts a Service over two tracks only when its traffic-split annotation names both', () => {
  const { checkManifests } = jest.requireActual('../../lib/check');
  const out = synthStack((stack) => new InferenceService(stack, 'api', { image: V1, replicas: 4, canary: { weight: 25, image: V2 } }));
  expect(checkManifests(out.objects)).toEqual([]);
  const unannotated = out.objects.map((o) => (o.kind === 'Service' ? { ...o, metadata: { ...o.metadata, annotations: {} } } : o));
  expect(checkManifests(unannotated)).toEqual([
    'Service/test/api: service-selector: spec.selector app.kubernetes.io/name=api selects the ' +
      'pods of Deployment/test/api but also selects the pods of Deployment/test/api-canary',
  ]);
  const namesOne = out.objects.map((o) =>
    o.kind === 'Service' ? { ...o, metadata: { ...o.metadata, annotations: { 'ml.cdk8s.io/traffic-split': 'api: 100%' } } } : o,
  );
  expect(checkManifests(namesOne)).toHaveLength(1);
});
