import { EnvFrom, EnvValue, Exposure, InferenceService, ModelSource, PythonImage, TrainingJob } from '../../lib';
import { podSpec, pythonContext, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/api:1.0.0';

describe('InferenceService', () => {
  test('defaults: one replica, hardened pod that still starts, probes with a generous startup window, no PDB', () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, healthCheck: { path: '/healthz' } }));
    const deploy = out.find('Deployment', 'api');
    const pod = podSpec(deploy);
    const c = pod.containers[0];
    expect(deploy.spec.replicas).toBe(1);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 8080 });
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(600);
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    expect(c.imagePullPolicy).toBeUndefined();
    expect(out.all('PodDisruptionBudget')).toEqual([]);
    expect(out.all('HorizontalPodAutoscaler')).toEqual([]);
    expect(pod.topologySpreadConstraints).toBeUndefined();
  });

  test('replicas > 1: a PDB and topology spread over the same pods', () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, replicas: 3 }));
    const deploy = out.find('Deployment');
    const pdb = out.find('PodDisruptionBudget');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: deploy.spec.selector.matchLabels } });
    expect(podSpec(deploy).topologySpreadConstraints[0]).toMatchObject({
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchLabels: deploy.spec.selector.matchLabels },
    });
  });

  test('autoscaling: an HPA, no replicas field (Argo CD does not fight the HPA), and a PDB', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          autoscaling: { minReplicas: 2, maxReplicas: 10, cpuUtilization: 60, memoryUtilization: 80 },
        }),
    );
    const deploy = out.find('Deployment');
    expect('replicas' in deploy.spec).toBe(false);
    const hpa = out.find('HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploy.metadata.name },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
      ],
      // Scale down slowly by default: a model server takes minutes to load (test/serving/autoscaling.test.ts).
      behavior: { scaleDown: { stabilizationWindowSeconds: 600, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
    });
    expect(out.all('PodDisruptionBudget')).toHaveLength(1);
  });

  test('GPU: nvidia.com/gpu is a real quantity (1, not null), with the toleration and node selector', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          resources: { gpu: 1, memory: '8Gi', memoryLimit: '16Gi' },
          gpuNodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
        }),
    );
    const pod = podSpec(out.find('Deployment'));
    expect(pod.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(out.files.get('manifests/test.k8s.yaml')).toContain('nvidia.com/gpu: 1\n');
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
  });

  test('ports, env from Secrets and ConfigMaps, command/args, rollout, shm, service account', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          port: 8000,
          extraPorts: [{ name: 'grpc', port: 9000 }],
          command: ['python', '-m', 'server'],
          args: ['--workers', '4'],
          env: { LOG_LEVEL: 'info', API_KEY: EnvValue.fromSecret('api-secrets', 'key') },
          envFrom: [EnvFrom.configMap('api-settings')],
          rollout: { maxSurge: '50%', maxUnavailable: 1, minReadySeconds: 30 },
          shmSize: '1Gi',
          serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/api' } },
        }),
    );
    const deploy = out.find('Deployment');
    const pod = podSpec(deploy);
    const c = pod.containers[0];
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 8000, protocol: 'TCP' },
      { name: 'grpc', containerPort: 9000, protocol: 'TCP' },
    ]);
    expect(out.find('Service').spec.ports).toEqual([
      { name: 'http', port: 8000, targetPort: 8000, protocol: 'TCP' },
      { name: 'grpc', port: 9000, targetPort: 9000, protocol: 'TCP' },
    ]);
    expect(c.command).toEqual(['python', '-m', 'server']);
    expect(c.args).toEqual(['--workers', '4']);
    expect(c.env).toEqual([
      { name: 'HOME', value: '/tmp' },
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'api-secrets', key: 'key' } } },
    ]);
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'api-settings' } }]);
    expect(deploy.spec.strategy.rollingUpdate).toEqual({ maxSurge: '50%', maxUnavailable: 1 });
    expect(deploy.spec.minReadySeconds).toBe(30);
    expect(pod.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } });
    expect(c.volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
    const sa = out.find('ServiceAccount');
    expect(sa.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/api' });
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe(sa.metadata.name);
  });

  test('a model from a volume is mounted read-only at modelPath and named in MODEL_DIR', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          model: ModelSource.fromVolume('models', { subPath: 'fraud/v3' }),
          modelPath: '/srv/model',
        }),
    );
    const pod = podSpec(out.find('Deployment'));
    expect(pod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'models', readOnly: true } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'model', mountPath: '/srv/model', readOnly: true, subPath: 'fraud/v3' });
    expect(pod.containers[0].env).toContainEqual({ name: 'MODEL_DIR', value: '/srv/model' });
  });

  test('exposure: load balancer and TLS ingress, each admitted by the NetworkPolicy', () => {
    const lb = synthStack(
      (stack) => new InferenceService(stack, 'api', { image: IMAGE, exposure: Exposure.loadBalancer({ sourceRanges: ['203.0.113.0/24'] }) }),
    );
    expect(lb.find('Service').spec).toMatchObject({
      type: 'LoadBalancer',
      loadBalancerSourceRanges: ['203.0.113.0/24'],
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    });
    expect(lb.find('NetworkPolicy').spec.ingress).toEqual([{ ports: [{ port: 8080, protocol: 'TCP' }] }]);

    const ing = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          exposure: Exposure.ingress({ host: 'api.example.com', path: '/v1', className: 'nginx' }),
        }),
    );
    expect(ing.find('Ingress').spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['api.example.com'], secretName: 'api-tls' }],
      rules: [
        {
          host: 'api.example.com',
          http: { paths: [{ path: '/v1', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 8080 } } } }] },
        },
      ],
    });
    expect(ing.find('NetworkPolicy').spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  test('NetworkPolicies: a pair only for wired clients; unwired pods get nothing', () => {
    const out = synthStack(
      (stack) => {
        const server = new InferenceService(stack, 'server', { image: IMAGE });
        const client = new InferenceService(stack, 'client', { image: 'registry.example.com/client:1.0.0' });
        new InferenceService(stack, 'bystander', { image: 'registry.example.com/other:1.0.0' });
        server.allowFrom(client);
        // The client's image calls the server on its own: no env URL shows it, so the test declares it.
      },
      {},
      { intended: [{ from: 'Deployment/test/client', to: 'Deployment/test/server', port: 8080 }] },
    );
    const server = out.find('NetworkPolicy', 'server');
    const client = out.find('NetworkPolicy', 'client');
    const bystander = out.find('NetworkPolicy', 'bystander');
    const clientPods = out.find('Deployment', 'client').spec.selector.matchLabels;
    const serverPods = out.find('Deployment', 'server').spec.selector.matchLabels;
    expect(server.spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: clientPods } }], ports: [{ port: 8080, protocol: 'TCP' }] }]);
    expect(client.spec.egress).toContainEqual({ to: [{ podSelector: { matchLabels: serverPods } }], ports: [{ port: 8080, protocol: 'TCP' }] });
    expect(bystander.spec.ingress).toBeUndefined(); // isolated: admits nothing
    expect(bystander.spec.egress).toEqual([
      {
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
    ]);
    expect(server.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  test('accessors for wiring: the Service, the URL of its HTTP port', () => {
    let api!: InferenceService;
    const out = synthStack((stack) => {
      api = new InferenceService(stack, 'api', { image: IMAGE, port: 9000 });
      api.service.metadata.addAnnotation('example.com/owner', 'ml-team');
    });
    expect(out.find('Service').metadata.annotations).toEqual({ 'example.com/owner': 'ml-team' });
    expect(api.serviceName).toBe('api');
    expect(api.url).toBe('http://api.test.svc:9000');
    expect(api.deployment.name).toBe('api');
  });

  test('a PythonImage sets image, port and uid from one value', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/api', tag: '3.0.0', port: 5000, uid: 4242 }),
        }),
    );
    const pod = podSpec(out.find('Deployment'));
    expect(pod.containers[0].image).toBe('registry.example.com/api:3.0.0');
    expect(pod.containers[0].ports[0].containerPort).toBe(5000);
    expect(pod.securityContext.runAsUser).toBe(4242);
    expect(out.files.has('images/api/Dockerfile')).toBe(true);
  });

  describe('readiness: HTTP where the server has a health path (a TCP check passes before the model is loaded)', () => {
    const probes = (props: Record<string, unknown>) => {
      const c = podSpec(synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, ...props })).find('Deployment')).containers[0];
      return { readiness: c.readinessProbe, liveness: c.livenessProbe, startup: c.startupProbe };
    };
    test.each([
      ['nvcr.io/nvidia/tritonserver:24.05-py3', {}, '/v2/health/ready', '/v2/health/live'],
      ['docker.io/seldonio/mlserver:1.6.1', {}, '/v2/health/ready', '/v2/health/live'],
      ['pytorch/torchserve:0.12.0-cpu', {}, '/ping', '/ping'],
      ['ghcr.io/huggingface/text-generation-inference:3.0.1', {}, '/health', '/health'],
      [`vllm/vllm-openai:v0.6.4@sha256:${'a'.repeat(64)}`, {}, '/health', '/health'],
      ['tensorflow/serving:2.19.0', { port: 8501, modelName: 'fraud' }, '/v1/models/fraud', '/v1/models/fraud'],
    ])('%s: the documented readiness path', (image, extra, ready, live) => {
      const p = probes({ image, ...extra });
      const port = (extra as { port?: number }).port ?? 8080;
      expect(p.readiness.httpGet).toEqual({ path: ready, port });
      expect(p.startup.httpGet).toEqual({ path: ready, port });
      expect(p.liveness.httpGet).toEqual({ path: live, port });
      expect(p.readiness.tcpSocket).toBeUndefined();
    });
    test("the user's path wins over the known one; liveness alone keeps the known readiness", () => {
      expect(probes({ image: 'pytorch/torchserve:0.12.0-cpu', healthCheck: { path: '/ready' } }).readiness.httpGet.path).toBe('/ready');
      const p = probes({ image: 'pytorch/torchserve:0.12.0-cpu', healthCheck: { livenessPath: '/alive' } });
      expect([p.readiness.httpGet.path, p.liveness.httpGet.path]).toEqual(['/ping', '/alive']);
    });
    test('an image whose health path cannot be known keeps a TCP check (tensorflow/serving without modelName too)', () => {
      expect(probes({}).readiness).toEqual({ tcpSocket: { port: 8080 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
      expect(probes({ image: 'tensorflow/serving:2.19.0' }).readiness.tcpSocket).toEqual({ port: 8080 });
      expect(probes({ image: 'registry.example.com/pytorch/torchserve-fork:1.0' }).readiness.tcpSocket).toEqual({ port: 8080 });
    });
  });

  describe('args without command on an image the app builds (no ENTRYPOINT: args would be the whole command)', () => {
    const image = (o: Record<string, unknown> = {}) =>
      PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/api', tag: '1.0.0', ...o });
    test('refused with the fix: the program in command', () => {
      expect(() =>
        synthStack((stack) => new InferenceService(stack, 'api', { image: image({ command: ['gunicorn', 'app:app'] }), args: ['--workers', '2'] })),
      ).toThrow(
        "InferenceService 'test/api': args are given without command, and image registry.example.com/api:1.0.0 (built by the app) " +
          'has no ENTRYPOINT: Kubernetes would run ["--workers","2"] as the whole command, in place of the image\'s CMD, ' +
          'got ["--workers","2"]. Fix: give the program too: command: ["gunicorn","app:app"], args: ["--workers","2"]',
      );
    });
    test('a TrainingJob too; command with args, and args on a pulled image (its ENTRYPOINT stays), are fine', () => {
      expect(() => synthStack((stack) => new TrainingJob(stack, 'train', { image: image(), args: ['--epochs', '3'] }))).toThrow(
        "TrainingJob 'test/train': args are given without command",
      );
      const out = synthStack((stack) => {
        new InferenceService(stack, 'api', { image: image(), command: ['python', 'serve.py'], args: ['--workers', '2'] });
        new InferenceService(stack, 'tf', { image: 'tensorflow/serving:2.19.0', args: ['--rest_api_port=8080'] });
      });
      expect(podSpec(out.find('Deployment', 'api')).containers[0]).toMatchObject({ command: ['python', 'serve.py'], args: ['--workers', '2'] });
      expect(out.files.get('images/api/Dockerfile')).toContain('CMD ["python","serve.py","--workers","2"]');
      expect(podSpec(out.find('Deployment', 'tf')).containers[0].args).toEqual(['--rest_api_port=8080']);
    });
  });

  test('snapshot of a production configuration', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          autoscaling: { minReplicas: 2, maxReplicas: 6 },
          healthCheck: { path: '/healthz' },
          exposure: Exposure.ingress({ host: 'api.example.com' }),
          model: ModelSource.fromUri('s3://models/fraud/v3', { credentialsSecret: 's3-creds' }),
        }),
    );
    expect(out.files.get('manifests/test.k8s.yaml')).toMatchSnapshot();
  });

  describe('bad input', () => {
    const bad = (props: any) => () => synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, ...props }));
    test.each([
      [
        'min > max replicas',
        { autoscaling: { minReplicas: 5, maxReplicas: 2 } },
        /InferenceService 'test\/api': autoscaling.minReplicas must not exceed maxReplicas \(2\), got 5\. Fix: lower minReplicas/,
      ],
      ['replicas with autoscaling', { replicas: 3, autoscaling: { maxReplicas: 4 } }, /replicas cannot be set together with autoscaling.*got 3/],
      ['negative replicas', { replicas: -1 }, /replicas must be a whole number >= 0, got -1/],
      ['port out of range', { port: 70000 }, /port must be a TCP port from 1 to 65535, got 70000\. Fix: choose a port/],
      [
        'port used twice',
        { port: 8080, extraPorts: [{ name: 'grpc', port: 8080 }] },
        /extraPorts\[0\].port is used twice \(also by 'http'\), got 8080/,
      ],
      ['bad port name', { extraPorts: [{ name: 'GRPC_PORT', port: 9000 }] }, /extraPorts\[0\].name must be an IANA port name.*got "GRPC_PORT"/],
      ['fractional GPU', { resources: { gpu: 0.5 } }, /resources.gpu must be a whole number of GPUs >= 0.*got 0.5\. Fix: request 1 GPU/],
      ['bad memory', { resources: { memory: '2GB' } }, /resources.memory must be a memory quantity.*got "2GB"/],
      ['limit below request', { resources: { cpu: '4', cpuLimit: '1' } }, /resources.cpuLimit must be at least the CPU request 4, got "1"/],
      ['unpinned image', { image: 'registry.example.com/api' }, /image must be an image reference pinned.*got "registry.example.com\/api"/],
      [
        'unsupported URI scheme',
        { model: ModelSource.fromUri('ftp://models/x') },
        /model must be an s3:\/\/, gs:\/\/, http:\/\/ or https:\/\/ URI.*got "ftp:\/\/models\/x"\. Fix: use ModelSource.fromUri/,
      ],
      [
        'RWO claim with replicas',
        { replicas: 2, model: ModelSource.fromVolume('m', { accessMode: 'ReadWriteOnce' }) },
        /model reads PersistentVolumeClaim 'm' \(ReadWriteOnce\) from up to 2 replicas.*Multi-Attach.*Fix: use a ReadWriteMany/,
      ],
      ['bad name', { name: 'API_Server' }, /name must be a DNS-1123 label.*got "API_Server"/],
      [
        'bad ingress host',
        { exposure: Exposure.ingress({ host: 'not a host' }) },
        /exposure.host must be a fully qualified DNS name, got "not a host"/,
      ],
    ])('%s', (_what, props, message) => {
      expect(bad(props)).toThrow(message);
    });
  });
});
