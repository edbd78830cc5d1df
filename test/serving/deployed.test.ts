/**
 * Serving behaviours that only show once deployed (issue 11): what TF Serving, the CNI and the API
 * server will do with the output. Each test failed on the output before its fix.
 */
import {
  BatchInferenceJob,
  DataInput,
  Exposure,
  FlaskFrontend,
  InferenceService,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  TrainingJob,
  VersionPolicy,
} from '../../lib';
import { podSpec, pythonContext, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/api:1.0.0';
const GS = ModelSource.fromUri('gs://models/and-gate');

/** Ports of the ingress rules of `policy` that admit pods with `labels`. */
function ingressPortsFrom(policy: any, labels: Record<string, string>): number[] {
  return (policy.spec.ingress ?? [])
    .filter((r: any) =>
      (r.from ?? []).some((f: any) => f.podSelector && Object.entries(f.podSelector.matchLabels).every(([k, v]) => labels[k] === v)),
    )
    .flatMap((r: any) => r.ports.map((p: any) => p.port))
    .sort();
}
function egressPortsTo(policy: any, labels: Record<string, string>): number[] {
  return (policy.spec.egress ?? [])
    .filter((r: any) => (r.to ?? []).some((t: any) => t.podSelector && Object.entries(t.podSelector.matchLabels).every(([k, v]) => labels[k] === v)))
    .flatMap((r: any) => r.ports.map((p: any) => p.port))
    .sort();
}
function ingressPortsFromNamespace(policy: any, namespace: string): number[] {
  return (policy.spec.ingress ?? [])
    .filter((r: any) =>
      (r.from ?? []).some((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === namespace && !f.podSelector),
    )
    .flatMap((r: any) => r.ports.map((p: any) => p.port))
    .sort();
}

describe('TF Serving version labels', () => {
  test('labels in the start-up config come with --allow_version_labels_for_unavailable_models (else TF Serving refuses to start)', () => {
    const out = synthStack(
      (stack) =>
        new TfServingBackend(stack, 'server', {
          models: [{ name: 'm', source: GS, versionPolicy: VersionPolicy.specific([1, 2]), versionLabels: { stable: 1, canary: 2 } }],
        }),
    );
    expect(podSpec(out.find('Deployment', 'server')).containers[0].args).toContain('--allow_version_labels_for_unavailable_models=true');
  });

  test('without labels the flag is left out', () => {
    const out = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS }));
    expect(podSpec(out.find('Deployment', 'server')).containers[0].args.join(' ')).not.toContain('allow_version_labels');
  });
});

describe('allowFrom admits the named ports', () => {
  test("TF Serving's gRPC port: the client's egress and the server's ingress, on 8500 only", () => {
    const out = synthStack(
      (stack) => {
        const server = new TfServingBackend(stack, 'server', { modelName: 'm', model: GS, metrics: false });
        const client = new InferenceService(stack, 'client', { image: IMAGE });
        server.allowFrom(client, { ports: ['grpc'] });
      },
      {},
      { intended: [{ from: 'Deployment/test/client', to: 'Deployment/test/server', port: 8500 }] },
    );
    const clientLabels = out.find('Deployment', 'client').spec.template.metadata.labels;
    const serverLabels = out.find('Deployment', 'server').spec.template.metadata.labels;
    expect(ingressPortsFrom(out.find('NetworkPolicy', 'server'), clientLabels)).toEqual([8500]);
    expect(egressPortsTo(out.find('NetworkPolicy', 'client'), serverLabels)).toEqual([8500]);
  });

  test("an InferenceService's extra port by name, together with the HTTP port", () => {
    const out = synthStack(
      (stack) => {
        const server = new InferenceService(stack, 'server', { image: IMAGE, extraPorts: [{ name: 'grpc', port: 9000 }] });
        const client = new InferenceService(stack, 'client', { image: IMAGE });
        server.allowFrom(client, { ports: ['http', 'grpc'] });
      },
      {},
      { intended: [8080, 9000].map((port) => ({ from: 'Deployment/test/client', to: 'Deployment/test/server', port })) },
    );
    expect(ingressPortsFrom(out.find('NetworkPolicy', 'server'), out.find('Deployment', 'client').spec.template.metadata.labels)).toEqual([
      8080, 9000,
    ]);
  });

  test('a port the server does not have is an error naming the ports it has', () => {
    expect(() =>
      synthStack((stack) => {
        const server = new TfServingBackend(stack, 'server', { modelName: 'm', model: GS });
        server.allowFrom(new InferenceService(stack, 'client', { image: IMAGE }), { ports: ['metrics'] });
      }),
    ).toThrow(
      /TfServingBackend 'test\/server': allowFrom.ports names a port this server does not have, got "metrics"\. Fix: use one of 'http', 'grpc'/,
    );
  });
});

describe('model storage egress', () => {
  test('an S3-compatible endpoint in the cluster: egress to its namespace on its port (not 443), no metadata server', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: IMAGE,
          model: ModelSource.fromUri('s3://models/fraud', { s3Endpoint: 'http://minio.storage.svc:9000', credentialsSecret: 'minio' }),
        }),
    );
    const egress = out.find('NetworkPolicy', 'api').spec.egress;
    expect(egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storage' } } }],
      ports: [{ port: 9000, protocol: 'TCP' }],
    });
    expect(egress.flatMap((r: any) => r.ports.map((p: any) => p.port))).not.toContain(443);
    expect(JSON.stringify(egress)).not.toContain('169.254.169.254');
  });

  test('an external S3-compatible endpoint on its own port, and a plain http:// model URI on its port', () => {
    const out = synthStack((stack) => {
      new InferenceService(stack, 'a', {
        image: IMAGE,
        model: ModelSource.fromUri('s3://models/x', { s3Endpoint: 'https://objects.example.com:8443' }),
      });
      new InferenceService(stack, 'b', { image: IMAGE, model: ModelSource.fromUri('http://models.example.com:8080/model.tar.gz') });
      new InferenceService(stack, 'c', { image: IMAGE, model: ModelSource.fromUri('http://models.example.com/model.tar.gz') });
    });
    const ports = (name: string) =>
      out
        .find('NetworkPolicy', name)
        .spec.egress.filter((r: any) => r.to?.[0]?.ipBlock?.cidr === '0.0.0.0/0')
        .flatMap((r: any) => r.ports.map((p: any) => p.port));
    expect(ports('a')).toEqual([8443]);
    expect(ports('b')).toEqual([8080]);
    expect(ports('c')).toEqual([80]);
  });

  test('cloud object storage keeps HTTPS and the metadata server', () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, model: ModelSource.fromUri('s3://models/fraud') }));
    const egress = JSON.stringify(out.find('NetworkPolicy', 'api').spec.egress);
    expect(egress).toContain('"port":443');
    expect(egress).toContain('169.254.169.254/32');
  });

  test.each([
    ['not a URL', 'minio:9000', /s3Endpoint must be an http:\/\/ or https:\/\/ URL of a host and optional port, got "minio:9000"/],
    ['a path', 'http://minio.storage.svc:9000/bucket', /s3Endpoint must be an http/],
    ['on a gs:// URI', 'http://minio:9000', /s3Endpoint only applies to s3:\/\/ URIs/],
  ])('a bad s3Endpoint (%s) is an error', (_what, endpoint, message) => {
    const uri = _what === 'on a gs:// URI' ? 'gs://models/x' : 's3://models/x';
    expect(() =>
      synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, model: ModelSource.fromUri(uri, { s3Endpoint: endpoint }) })),
    ).toThrow(message);
  });
});

describe('metrics on every server', () => {
  test('InferenceService: scrape annotations and ingress from the monitoring namespace on the metrics port', () => {
    const out = synthStack(
      (stack) => new InferenceService(stack, 'api', { image: IMAGE, extraPorts: [{ name: 'metrics', port: 9090 }], metrics: { port: 'metrics' } }),
    );
    expect(out.find('Deployment', 'api').spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9090',
      'prometheus.io/path': '/metrics',
    });
    expect(ingressPortsFromNamespace(out.find('NetworkPolicy', 'api'), 'monitoring')).toEqual([9090]);
  });

  test('FlaskFrontend: on its HTTP port, Prometheus in its own namespace', () => {
    const out = synthStack(
      (stack) =>
        new FlaskFrontend(stack, 'web', {
          image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' }),
          metrics: { path: '/prom', namespace: 'observability' },
        }),
    );
    expect(out.find('Deployment', 'web').spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/port': '8080',
      'prometheus.io/path': '/prom',
    });
    expect(ingressPortsFromNamespace(out.find('NetworkPolicy', 'web'), 'observability')).toEqual([8080]);
    expect(ingressPortsFromNamespace(out.find('NetworkPolicy', 'web'), 'monitoring')).toEqual([]);
  });

  test('off by default: no annotations, no ingress from monitoring', () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE }));
    expect(out.find('Deployment', 'api').spec.template.metadata.annotations).toBeUndefined();
    expect(out.find('NetworkPolicy', 'api').spec.ingress).toBeUndefined();
  });

  test.each([
    [{ port: 'nope' }, /metrics.port names a port this server does not have, got "nope"\. Fix: use one of 'http'/],
    [{ path: 'metrics' }, /metrics.path must start with '\/', got "metrics"/],
    [{ namespace: 'Monitoring' }, /metrics.namespace must be a namespace name/],
  ])('bad metrics %j is an error', (metrics, message) => {
    expect(() => synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, metrics }))).toThrow(message);
  });
});

describe('single-attach claims', () => {
  const rwoModel = () => ModelSource.fromVolume('models', { accessMode: 'ReadWriteOnce' });

  test('one replica on a ReadWriteOnce claim replaces its pod (maxSurge 0): a surge pod could never attach the volume', () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, model: rwoModel() }));
    expect(out.find('Deployment', 'api').spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  test('a ReadWriteMany claim keeps the surge rollout', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', { image: IMAGE, model: ModelSource.fromVolume('models', { accessMode: 'ReadWriteMany' }), replicas: 2 }),
    );
    expect(out.find('Deployment', 'api').spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  test('an explicit maxSurge on a single-attach claim is an error', () => {
    expect(() => synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, model: rwoModel(), rollout: { maxSurge: 1 } }))).toThrow(
      /rollout.maxSurge must be 0 while the model is on PersistentVolumeClaim 'models' \(ReadWriteOnce\)/,
    );
  });

  test('ReadWriteOncePod is single-attach too: 3 replicas are refused, one replica rolls out with maxSurge 0', () => {
    const rwop = () => ModelSource.fromVolume('models', { accessMode: 'ReadWriteOncePod' });
    expect(() => synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, model: rwop(), replicas: 3 }))).toThrow(
      /reads PersistentVolumeClaim 'models' \(ReadWriteOncePod\) from up to 3 replicas/,
    );
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, model: rwop() }));
    expect(out.find('Deployment', 'api').spec.strategy.rollingUpdate.maxSurge).toBe(0);
  });

  test('a model from a training job on a ReadWriteOnce claim: the reader rolls out with maxSurge 0', () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'train', {
        image: IMAGE,
        command: ['python', 'train.py'],
        modelOutput: ModelOutput.newClaim({ size: '1Gi' }),
      });
      new InferenceService(stack, 'api', { image: IMAGE, model: ModelSource.fromTrainingJob(train) });
    });
    expect(out.find('Deployment', 'api').spec.strategy.rollingUpdate.maxSurge).toBe(0);
  });
});

describe('objects the API server would reject', () => {
  test('a LoadBalancer port equal to an extra port is an error (Service port numbers must be unique)', () => {
    expect(() =>
      synthStack(
        (stack) =>
          new InferenceService(stack, 'api', {
            image: IMAGE,
            extraPorts: [{ name: 'admin', port: 9000 }],
            exposure: Exposure.loadBalancer({ port: 9000 }),
          }),
      ),
    ).toThrow(/InferenceService 'test\/api': exposure.port clashes with the extra port 'admin' on the Service, got 9000/);
  });

  test.each([['/tmp'], ['/tmp/'], ['/dev/shm']])('modelPath %s is an error (a volume is already mounted there)', (modelPath) => {
    expect(() => synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, model: GS, modelPath, shmSize: '1Gi' }))).toThrow(
      /InferenceService 'test\/api': modelPath is where the pod's (scratch \/tmp|shared memory) volume is mounted/,
    );
  });

  test('a model below /tmp is fine (nested mounts are allowed)', () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, model: GS, modelPath: '/tmp/model' }));
    expect(podSpec(out.find('Deployment', 'api')).containers[0].volumeMounts.map((m: any) => m.mountPath)).toEqual(['/tmp/model', '/tmp']);
  });
});

describe('storage egress of jobs', () => {
  test('a data input and a batch model on an in-cluster S3 endpoint: egress to its namespace and port', () => {
    const out = synthStack((stack) => {
      const minio = { s3Endpoint: 'http://minio.storage.svc:9000' };
      new TrainingJob(stack, 'train', {
        image: IMAGE,
        command: ['python', 'train.py'],
        inputs: [DataInput.fromUri('s3://data/eeg', { mountPath: '/data', ...minio })],
      });
      new BatchInferenceJob(stack, 'batch', {
        image: IMAGE,
        command: ['python', 'predict.py'],
        model: ModelSource.fromUri('s3://models/eeg', minio),
      });
    });
    for (const name of ['train', 'batch']) {
      const egress = out.find('NetworkPolicy', name).spec.egress;
      expect(egress).toContainEqual({
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storage' } } }],
        ports: [{ port: 9000, protocol: 'TCP' }],
      });
      expect(egress.flatMap((r: any) => r.ports.map((p: any) => p.port))).not.toContain(443);
    }
  });

  test('a bad s3Endpoint of a data input is an error', () => {
    expect(() =>
      synthStack(
        (stack) =>
          new TrainingJob(stack, 'train', {
            image: IMAGE,
            command: ['python', 'train.py'],
            inputs: [DataInput.fromUri('s3://data/eeg', { mountPath: '/data', s3Endpoint: 'minio:9000' })],
          }),
      ),
    ).toThrow(/TrainingJob 'test\/train': inputs\[0\]\.s3Endpoint must be an http:\/\/ or https:\/\/ URL/);
  });
});
