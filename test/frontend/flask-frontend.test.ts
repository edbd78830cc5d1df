import { EnvValue, Exposure, FlaskFrontend, InferenceService, ModelSource, PythonImage, TfServingBackend } from '../../lib';
import { parseYamlStream } from '../_util/yaml';
import { podSpec, pythonContext, synthStack } from '../_util/synth';

const GS = ModelSource.fromUri('gs://models/and-gate');
const webImage = () => PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' });

describe('FlaskFrontend', () => {
  test('gunicorn (never the dev server), probes on the health path, image uid and port', () => {
    const out = synthStack(
      (stack) => new FlaskFrontend(stack, 'web', { image: webImage(), workers: 3, threads: 2, wsgiApp: 'web.app:create_app()' }),
    );
    const pod = podSpec(out.find('Deployment', 'web'));
    const c = pod.containers[0];
    expect(c.command).toEqual([
      'gunicorn',
      '--bind',
      '0.0.0.0:8080',
      '--workers',
      '3',
      '--threads',
      '2',
      '--timeout',
      '60',
      '--worker-tmp-dir',
      '/tmp',
      '--access-logfile',
      '-',
      'web.app:create_app()',
    ]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 8080 });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 8080 });
    expect(pod.securityContext.runAsUser).toBe(10001);
    expect(out.find('Deployment').metadata.labels['app.kubernetes.io/component']).toBe('frontend');
  });

  test("the predict URL names the backend Service, its namespace and the port that targets TF Serving's REST containerPort", () => {
    const out = synthStack(
      (stack) => {
        const server = new TfServingBackend(stack, 'server', { modelName: 'and-gate', model: GS, replicas: 3 });
        new FlaskFrontend(stack, 'web', { image: webImage(), backend: server, replicas: 3, exposure: Exposure.loadBalancer() });
      },
      { namespace: 'gates' },
    );
    const env = Object.fromEntries(podSpec(out.find('Deployment', 'web')).containers[0].env.map((e: any) => [e.name, e.value]));
    const m = /^http:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc:(\d+)\/v1\/models\/and-gate:predict$/.exec(env.BACKEND_PREDICT_URL)!;
    expect(m).not.toBeNull();
    const svc = out.find('Service', m[1]);
    expect(svc.metadata.namespace).toBe(m[2]);
    const svcPort = svc.spec.ports.find((p: any) => p.port === Number(m[3]));
    const serverPod = podSpec(out.find('Deployment', 'server'));
    // the Service selects the TF Serving pods and that port targets the REST containerPort
    expect(Object.entries(svc.spec.selector).every(([k, v]) => out.find('Deployment', 'server').spec.template.metadata.labels[k] === v)).toBe(true);
    expect(serverPod.containers[0].ports).toContainEqual({ name: 'http', containerPort: svcPort.targetPort, protocol: 'TCP' });
    expect(svcPort.targetPort).toBe(8501);
    expect(env.BACKEND_URL).toBe('http://server.gates.svc:8501');
    expect(env.BACKEND_MODEL_NAME).toBe('and-gate');
  });

  test('NetworkPolicies admit exactly that pair on the REST port', () => {
    const out = synthStack((stack) => {
      const server = new TfServingBackend(stack, 'server', { modelName: 'and-gate', model: GS, metrics: false });
      new FlaskFrontend(stack, 'web', { image: webImage(), backend: server });
      new InferenceService(stack, 'other', { image: 'registry.example.com/other:1.0.0' });
    });
    const webPods = out.find('Deployment', 'web').spec.selector.matchLabels;
    const serverPods = out.find('Deployment', 'server').spec.selector.matchLabels;
    expect(out.find('NetworkPolicy', 'server').spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: webPods } }], ports: [{ port: 8501, protocol: 'TCP' }] },
    ]);
    const webEgress = out.find('NetworkPolicy', 'web').spec.egress;
    expect(webEgress.filter((r: any) => r.to)).toEqual([
      { to: [{ podSelector: { matchLabels: serverPods } }], ports: [{ port: 8501, protocol: 'TCP' }] },
    ]);
    // gRPC is not opened, and the other workload is neither admitted nor reachable
    expect(JSON.stringify(out.find('NetworkPolicy', 'server'))).not.toContain('8500');
    expect(out.find('NetworkPolicy', 'other').spec.ingress).toBeUndefined();
  });

  test('several named backends; the Flask secret key comes from a Secret', () => {
    const out = synthStack((stack) => {
      const a = new TfServingBackend(stack, 'classifier', { modelName: 'cls', model: GS });
      const b = new InferenceService(stack, 'ranker', { image: 'registry.example.com/ranker:2.0.0', modelName: 'ranker', predictPath: '/v1/rank' });
      new FlaskFrontend(stack, 'web', { image: webImage(), backends: { classifier: a, textRanker: b }, secretKey: { secretName: 'web-secrets' } });
    });
    const env = podSpec(out.find('Deployment', 'web')).containers[0].env;
    expect(env).toEqual(
      expect.arrayContaining([
        { name: 'CLASSIFIER_PREDICT_URL', value: 'http://classifier.test.svc:8501/v1/models/cls:predict' },
        { name: 'TEXT_RANKER_URL', value: 'http://ranker.test.svc:8080' },
        { name: 'TEXT_RANKER_PREDICT_URL', value: 'http://ranker.test.svc:8080/v1/rank' },
        { name: 'FLASK_SECRET_KEY', valueFrom: { secretKeyRef: { name: 'web-secrets', key: 'secret-key' } } },
      ]),
    );
    expect(JSON.stringify(out.find('NetworkPolicy', 'ranker').spec.ingress)).toContain('"app.kubernetes.io/name":"web"');
  });

  test('compose wiring matches the manifests: same images, ports, env; backend URLs at compose service names', () => {
    const out = synthStack((stack) => {
      const server = new TfServingBackend(stack, 'server', { modelName: 'and-gate', model: GS });
      new FlaskFrontend(stack, 'web', { image: webImage(), backend: server, env: { GREETING: 'hi' } });
    });
    const compose = parseYamlStream(out.files.get('compose/test.compose.yml')!)[0];
    for (const name of ['server', 'web']) {
      const c = podSpec(out.find('Deployment', name)).containers[0];
      const svc = compose.services[name];
      expect(svc.image).toBe(c.image);
      expect(svc.ports.map((p: string) => Number(p.split(':').pop()))).toEqual(c.ports.map((p: any) => p.containerPort));
      expect(svc.user).toBe(
        `${podSpec(out.find('Deployment', name)).securityContext.runAsUser}:${podSpec(out.find('Deployment', name)).securityContext.runAsGroup}`,
      );
      expect(svc.command ?? []).toEqual(c.args ?? []);
      expect(svc.entrypoint).toEqual(c.command);
    }
    const webEnv = Object.fromEntries(podSpec(out.find('Deployment', 'web')).containers[0].env.map((e: any) => [e.name, e.value]));
    expect(compose.services.web.environment).toEqual({
      HOME: '/tmp',
      GREETING: 'hi',
      BACKEND_URL: 'http://server:8501',
      BACKEND_PREDICT_URL: 'http://server:8501/v1/models/and-gate:predict',
      BACKEND_MODEL_NAME: 'and-gate',
    });
    expect(Object.keys(compose.services.web.environment).sort()).toEqual(Object.keys(webEnv).sort());
    expect(compose.services.web.depends_on).toEqual({ server: { condition: 'service_healthy' } });
    expect(compose.services.web.build.context).toMatch(/cdk8s-ml-ctx-/);
    // TF Serving locally: the model from MODELS_DIR, the same config paths as in the cluster
    expect(compose.services.server.volumes).toEqual([
      {
        type: 'bind',
        source: '${MODELS_DIR:?set MODELS_DIR to the local directory holding your models}/and-gate',
        target: '/models/and-gate',
        read_only: true,
      },
      { type: 'bind', source: './test/server/models.config', target: '/etc/tfserving/models.config', read_only: true },
      { type: 'bind', source: './test/server/monitoring.config', target: '/etc/tfserving/monitoring.config', read_only: true },
    ]);
    expect(out.files.get('compose/test/server/models.config')).toContain('base_path: "/models/and-gate"');
  });

  test('a Secret-backed env variable comes from the shell in compose, never a value', () => {
    const out = synthStack((stack) => new FlaskFrontend(stack, 'web', { image: webImage(), env: { TOKEN: EnvValue.fromSecret('s', 'k') } }));
    expect(parseYamlStream(out.files.get('compose/test.compose.yml')!)[0].services.web.environment).toEqual({
      HOME: '/tmp',
      TOKEN: '${TOKEN:?set TOKEN in your shell}',
    });
  });

  describe('bad input', () => {
    test.each([
      [
        'not a PythonImage',
        { image: 'registry.example.com/web:1' },
        /FlaskFrontend 'test\/web': image must be a PythonImage.*got "registry.example.com\/web:1"\. Fix: use PythonImage.fromDirectory/,
      ],
      ['bad wsgi app', { wsgiApp: 'app' }, /wsgiApp must be module:variable, got "app"/],
      ['zero workers', { workers: 0 }, /workers must be a whole number from 1 to 64, got 0/],
      ['bad health path', { healthPath: 'healthz' }, /healthPath must start with '\/', got "healthz"\. Fix: use '\/healthz'/],
      ['bad servicePort', { servicePort: 0 }, /servicePort must be a TCP port from 1 to 65535, got 0/],
    ])('%s', (_what, props, message) => {
      expect(() => synthStack((stack) => new FlaskFrontend(stack, 'web', { image: webImage(), ...(props as any) }))).toThrow(message);
    });
  });
});
