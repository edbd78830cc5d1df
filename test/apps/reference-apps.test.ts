import * as path from 'node:path';
import { MlApp } from '../../lib';
import { buildReferenceApps } from '../../apps/main';
import { checkOutput, isConnectionAllowed } from '../../lib/check';
import { parseYamlStream } from '../_util/yaml';
import { synth, tempDir } from '../_util/synth';

describe('reference apps', () => {
  const out = synth((app) => buildReferenceApps(app));

  test('every stack writes one manifest file, and each passes the shared check (done by synth)', () => {
    const manifests = [...out.files.keys()].filter((f) => f.startsWith('manifests/'));
    expect(manifests).toEqual(
      expect.arrayContaining([
        'manifests/and-gate.k8s.yaml',
        'manifests/eeg-letters.k8s.yaml',
        'manifests/image-classifier.k8s.yaml',
        'manifests/ml-model.k8s.yaml',
        'manifests/llm-chat.k8s.yaml',
      ]),
    );
  });

  test('every workload object carries the recommended labels: part-of, managed-by, name, instance, component', () => {
    const missing = out.objects
      .filter((o) => !['Namespace', 'Application'].includes(o.kind))
      .filter((o) => ['part-of', 'managed-by', 'name', 'instance', 'component'].some((k) => !o.metadata.labels?.[`app.kubernetes.io/${k}`]))
      .map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
    expect(missing).toEqual([]);
  });

  test('the written output directory passes the output-directory check', () => {
    const outdir = path.join(tempDir(), 'dist');
    buildReferenceApps(new MlApp({ outdir })).synth();
    expect(checkOutput(outdir)).toEqual([]);
  });

  test('every image a manifest runs and the app builds is in the bake file, with the same tag, and nothing else', () => {
    const bake = JSON.parse(out.files.get('images/docker-bake.json')!);
    const built = Object.values<any>(bake.target).flatMap((t) => t.tags);
    const used = new Set(
      out.objects.flatMap((o) => {
        const spec = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec?.template?.spec;
        return spec ? [...(spec.initContainers ?? []), ...spec.containers].map((c: any) => c.image) : [];
      }),
    );
    for (const tag of built) expect(used).toContain(tag);
    const dockerfiles = [...out.files.keys()]
      .filter((f) => f.endsWith('/Dockerfile'))
      .map((f) => f.split('/')[1])
      .sort();
    expect(Object.keys(bake.target).sort()).toEqual(dockerfiles);
  });

  const inStack = (ns: string) => out.objects.filter((o) => o.metadata?.namespace === ns);
  const get = (ns: string, kind: string, name: string) => {
    const found = inStack(ns).filter((o) => o.kind === kind && o.metadata.name === name);
    expect(found).toHaveLength(1);
    return found[0];
  };

  test('and-gate fixes the classic defects', () => {
    const server = get('and-gate', 'Deployment', 'server');
    const web = get('and-gate', 'Deployment', 'web');
    expect(server.spec.replicas).toBe(3);
    expect(web.spec.replicas).toBe(3);
    expect(get('and-gate', 'Service', 'web').spec.type).toBe('LoadBalancer');
    expect(get('and-gate', 'Service', 'server').spec.type).toBeUndefined(); // ClusterIP
    // the backend URL comes from the wiring and names the server's Service and REST port
    const env = Object.fromEntries(web.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env.BACKEND_PREDICT_URL).toBe('http://server.and-gate.svc:8501/v1/models/and-gate:predict');
    expect(web.spec.template.spec.containers[0].command[0]).toBe('gunicorn'); // not the Flask dev server
    for (const d of [server, web]) {
      const c = d.spec.template.spec.containers[0];
      expect(c.readinessProbe).toBeDefined();
      expect(c.resources.limits).toBeDefined();
      expect(c.image).not.toMatch(/:latest$/);
      expect(d.spec.template.spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(get('and-gate', 'PodDisruptionBudget', d.metadata.name).spec.maxUnavailable).toBe(1);
    }
    expect(server.spec.template.spec.containers[0].image).toBe('registry.example.com/and-gate-model:1.0.0');
    // only the web pods reach TF Serving
    const fromPods = get('and-gate', 'NetworkPolicy', 'server').spec.ingress.filter(
      (r: any) => r.from?.[0]?.podSelector && !r.from[0].namespaceSelector,
    );
    expect(fromPods).toEqual([{ from: [{ podSelector: { matchLabels: web.spec.selector.matchLabels } }], ports: [{ port: 8501, protocol: 'TCP' }] }]);
    expect(out.files.get('manifests/and-gate.k8s.yaml')).not.toContain('localhost');
  });

  test('image-classifier: resources, Service 80 -> 8080, TLS Ingress, autoscaling, GPU model server with both ports', () => {
    const web = get('image-classifier', 'Deployment', 'image-classifier');
    const c = web.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '2Gi' } });
    expect(get('image-classifier', 'Service', 'image-classifier').spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
    ]);
    const ingress = get('image-classifier', 'Ingress', 'image-classifier');
    expect(ingress.spec.tls).toEqual([{ hosts: ['image-classifier.example.com'], secretName: 'image-classifier-tls' }]);
    expect(ingress.spec.rules[0].http.paths[0]).toEqual({
      path: '/',
      pathType: 'Prefix',
      backend: { service: { name: 'image-classifier', port: { number: 80 } } },
    });
    expect(get('image-classifier', 'HorizontalPodAutoscaler', 'image-classifier').spec).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
    expect('replicas' in web.spec).toBe(false);
    const server = get('image-classifier', 'Deployment', 'model-server').spec.template.spec;
    expect(server.containers[0].ports.map((p: any) => p.containerPort)).toEqual([8501, 8500]);
    expect(get('image-classifier', 'Service', 'model-server').spec.ports.map((p: any) => p.port)).toEqual([8501, 8500]);
    expect(server.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(server.containers[0].image).toBe('tensorflow/serving:2.20.0-gpu');
    const models = get('image-classifier', 'ConfigMap', 'model-server-config').data['models.config'];
    expect(models).toContain('base_path: "gs://example-ml-models/image-classifier"');
  });

  test('the compose files run the same images as the manifests', () => {
    for (const stack of ['and-gate', 'image-classifier', 'ml-model', 'llm-chat']) {
      const compose = parseYamlStream(out.files.get(`compose/${stack}.compose.yml`)!)[0];
      const images = new Set(
        inStack(stack)
          .filter((o) => o.kind === 'Deployment')
          .map((d) => d.spec.template.spec.containers[0].image),
      );
      expect(new Set(Object.values<any>(compose.services).map((s) => s.image))).toEqual(images);
    }
  });

  test('llm-chat: vLLM behind the chat page, weights pinned and cached in a claim, the OpenAI URL from the wiring', () => {
    const llm = get('llm-chat', 'Deployment', 'llm');
    const chat = get('llm-chat', 'Deployment', 'chat');
    const pod = llm.spec.template.spec;
    expect(pod.containers[0].image).toMatch(/^vllm\/vllm-openai:v\d+\.\d+\.\d+$/);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['model-download']);
    expect(get('llm-chat', 'PersistentVolumeClaim', 'llm-model-cache').spec.resources.requests.storage).toBe('20Gi');
    const env = Object.fromEntries(chat.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env.OPENAI_BASE_URL).toBe('http://llm.llm-chat.svc:8000/v1');
    expect(env.OPENAI_MODEL).toBe('qwen2.5-0.5b-instruct');
    // only the chat pods (and Prometheus, by namespace) reach vLLM
    const fromPods = get('llm-chat', 'NetworkPolicy', 'llm').spec.ingress.filter((r: any) => r.from?.[0]?.podSelector);
    expect(fromPods).toEqual([
      { from: [{ podSelector: { matchLabels: chat.spec.selector.matchLabels } }], ports: [{ port: 8000, protocol: 'TCP' }] },
    ]);
  });

  test('canary: TF Serving pair split 80/20 by a Gateway route (and 4:1 by pods), server pair 3:1 by pods, the frontend reaching all four', () => {
    expect(get('canary', 'HTTPRoute', 'classifier').spec.rules[0].backendRefs).toEqual([
      { name: 'classifier-stable', port: 8501, weight: 80 },
      { name: 'classifier-canary', port: 8501, weight: 20 },
    ]);
    // The frontend calls the Service: its pod ratio is the route's weight (synth refuses one more than 5 points off).
    expect([get('canary', 'Deployment', 'classifier').spec.replicas, get('canary', 'Deployment', 'classifier-canary').spec.replicas]).toEqual([4, 1]);
    expect(get('canary', 'Deployment', 'classifier-canary').spec.template.spec.containers[0].image).toBe('tensorflow/serving:2.20.0');
    expect(get('canary', 'Service', 'scorer').metadata.annotations['ml.cdk8s.io/traffic-split']).toBe(
      'scorer: 75% (3 pods), scorer-canary: 25% (1 pod)',
    );
    const objects = inStack('canary');
    for (const [to, port] of [
      ['classifier', 8501],
      ['classifier-canary', 8501],
      ['scorer', 8080],
      ['scorer-canary', 8080],
    ] as const) {
      expect(isConnectionAllowed(objects, 'Deployment/canary/web', `Deployment/canary/${to}`, port)).toBe(true);
    }
  });

  test.each(['and-gate', 'eeg-letters', 'image-classifier', 'ml-model', 'llm-chat', 'canary'])('%s manifests snapshot', (stack) => {
    expect(out.files.get(`manifests/${stack}.k8s.yaml`)).toMatchSnapshot();
  });
});
