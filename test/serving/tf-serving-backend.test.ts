import * as fs from 'node:fs';
import * as path from 'node:path';
import { InferenceService, ModelImage, ModelSource, TfServingBackend, VersionPolicy } from '../../lib';
import { dockerfileFacts } from '../../lib/check/dockerfile';
import { joinRegExp } from '../_util/regexp';
import { podSpec, synthStack, tempDir } from '../_util/synth';
import { parseTextProto } from '../_util/textproto';

const GS = ModelSource.fromUri('gs://models/and-gate');

describe('TfServingBackend', () => {
  test('pinned image, REST and gRPC, args keep the entrypoint, uid 1000, readiness names the model', () => {
    const out = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'and-gate', model: GS }));
    const pod = podSpec(out.find('Deployment', 'server'));
    const c = pod.containers[0];
    expect(c.image).toBe('tensorflow/serving:2.20.0');
    expect(c.command).toBeUndefined(); // tf_serving_entrypoint.sh stays
    expect(c.args).toEqual([
      '--model_config_file=/etc/tfserving/models.config',
      '--model_config_file_poll_wait_seconds=60',
      '--monitoring_config_file=/etc/tfserving/monitoring.config',
    ]);
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 8501, protocol: 'TCP' },
      { name: 'grpc', containerPort: 8500, protocol: 'TCP' },
    ]);
    expect(pod.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/v1/models/and-gate', port: 8501 });
    expect(c.startupProbe.httpGet).toEqual({ path: '/v1/models/and-gate', port: 8501 });
    expect(c.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/tfserving', readOnly: true });
    expect(c.volumeMounts.find((m: any) => m.mountPath === '/etc/tfserving').subPath).toBeUndefined();
  });

  test('gs:// goes straight to TF Serving (no download) and opens storage egress', () => {
    const out = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'and-gate', model: GS }));
    const config = parseTextProto(out.find('ConfigMap', 'server-config').data['models.config'], 'ModelServerConfig');
    const cfg = (config.model_config_list[0] as any).config[0];
    expect(cfg).toEqual({ name: ['and-gate'], base_path: ['gs://models/and-gate'], model_platform: ['tensorflow'] });
    expect(podSpec(out.find('Deployment')).initContainers).toBeUndefined();
    const egress = out.find('NetworkPolicy', 'server').spec.egress;
    expect(egress).toContainEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] });
    expect(egress).toContainEqual({ to: [{ ipBlock: { cidr: '169.254.169.254/32' } }], ports: [{ port: 80, protocol: 'TCP' }] });
  });

  test('s3:// gives an init container, a shared volume and credentials from a Secret (never in the server)', () => {
    const out = synthStack(
      (stack) =>
        new TfServingBackend(stack, 'server', {
          modelName: 'fraud',
          model: ModelSource.fromUri('s3://ml-models/fraud', { credentialsSecret: 'aws-model-reader' }),
        }),
    );
    const pod = podSpec(out.find('Deployment'));
    const init = pod.initContainers[0];
    expect(init.image).toBe('rclone/rclone:1.68.2');
    expect(init.command).toEqual(['rclone', 'copy', '--fast-list', ':s3,provider=AWS,env_auth=true:ml-models/fraud', '/models/fraud']);
    expect(init.envFrom).toEqual([{ secretRef: { name: 'aws-model-reader' } }]);
    expect(init.volumeMounts).toContainEqual({ name: 'model', mountPath: '/models/fraud' });
    expect(pod.volumes).toContainEqual({ name: 'model', emptyDir: { sizeLimit: '10Gi' } });
    const server = pod.containers[0];
    expect(server.volumeMounts).toContainEqual({ name: 'model', mountPath: '/models/fraud', readOnly: true });
    expect(JSON.stringify(server)).not.toContain('aws-model-reader');
    const cfg = parseTextProto(out.find('ConfigMap').data['models.config'], 'ModelServerConfig');
    expect((cfg.model_config_list[0] as any).config[0].base_path).toEqual(['/models/fraud']);
  });

  test('s3:// into a PersistentVolumeClaim: the init container fills the claim, the server reads it; RWO with replicas is refused', () => {
    const out = synthStack(
      (stack) =>
        new TfServingBackend(stack, 'server', {
          modelName: 'fraud',
          replicas: 2,
          model: ModelSource.fromUri('s3://ml-models/fraud', { cacheClaim: { claimName: 'model-cache' } }),
        }),
    );
    const pod = podSpec(out.find('Deployment'));
    expect(pod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'model-cache' } });
    expect(pod.initContainers[0].volumeMounts).toContainEqual({ name: 'model', mountPath: '/models/fraud' });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'model', mountPath: '/models/fraud', readOnly: true });
    expect(() =>
      synthStack(
        (stack) =>
          new TfServingBackend(stack, 'server', {
            modelName: 'fraud',
            replicas: 2,
            model: ModelSource.fromUri('s3://ml-models/fraud', { cacheClaim: { claimName: 'model-cache', accessMode: 'ReadWriteOnce' } }),
          }),
      ),
    ).toThrow(/model reads PersistentVolumeClaim 'model-cache' \(ReadWriteOnce\) from up to 2 replicas/);
  });

  test('several models with version policies and labels: a valid model_config_list', () => {
    const out = synthStack(
      (stack) =>
        new TfServingBackend(stack, 'server', {
          models: [
            { name: 'and-gate', source: GS, versionPolicy: VersionPolicy.specific([1, 2]), versionLabels: { stable: 1, canary: 2 } },
            { name: 'or-gate', source: ModelSource.fromVolume('models', { subPath: 'or-gate' }), versionPolicy: VersionPolicy.latest(2) },
            { name: 'xor', source: ModelSource.fromUri('https://models.example.com/xor.tar.gz'), versionPolicy: VersionPolicy.all() },
          ],
        }),
    );
    const text = out.find('ConfigMap').data['models.config'];
    const configs = (parseTextProto(text, 'ModelServerConfig').model_config_list[0] as any).config;
    expect(configs.map((c: any) => c.name[0])).toEqual(['and-gate', 'or-gate', 'xor']);
    expect(configs[0].model_version_policy).toEqual([{ specific: [{ versions: [1, 2] }] }]);
    expect(configs[0].version_labels).toEqual([
      { key: ['canary'], value: [2] },
      { key: ['stable'], value: [1] },
    ]);
    expect(configs[1]).toMatchObject({ base_path: ['/models/or-gate'], model_version_policy: [{ latest: [{ num_versions: [2] }] }] });
    expect(configs[2]).toMatchObject({ base_path: ['/models/xor'], model_version_policy: [{ all: [{}] }] });
    const pod = podSpec(out.find('Deployment'));
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['model-2-download']);
    expect(pod.initContainers[0].command.slice(0, 3)).toEqual([
      'sh',
      '-ec',
      'mkdir -p "$2" && rclone cat --http-url "$1" :http: | tar -xzf - -C "$2"',
    ]);
    expect(text).toMatchSnapshot();
  });

  test('batching: a valid batching_parameters_file and the flags that read it', () => {
    const out = synthStack(
      (stack) =>
        new TfServingBackend(stack, 'server', {
          modelName: 'm',
          model: GS,
          batching: { maxBatchSize: 64, batchTimeoutMicros: 2000, allowedBatchSizes: [16, 32, 64], numBatchThreads: 8 },
        }),
    );
    const cm = out.find('ConfigMap');
    const b = parseTextProto(cm.data['batching.config'], 'BatchingParameters');
    expect(b).toEqual({
      max_batch_size: [{ value: [64] }],
      batch_timeout_micros: [{ value: [2000] }],
      max_enqueued_batches: [{ value: [100] }],
      num_batch_threads: [{ value: [8] }],
      allowed_batch_sizes: [16, 32, 64],
    });
    expect(podSpec(out.find('Deployment')).containers[0].args).toEqual(
      expect.arrayContaining(['--enable_batching=true', '--batching_parameters_file=/etc/tfserving/batching.config']),
    );
  });

  test('warm-up: TF Serving runs it by default (server.h); enableModelWarmup: false turns it off with the flag', () => {
    const argsOf = (enableModelWarmup?: boolean) =>
      podSpec(synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS, enableModelWarmup })).find('Deployment'))
        .containers[0].args as string[];
    expect(argsOf(false)).toContain('--enable_model_warmup=false');
    expect(argsOf(true)).toContain('--enable_model_warmup=true');
    expect(argsOf().filter((a) => a.startsWith('--enable_model_warmup'))).toEqual([]);
    const source = fs.readFileSync(path.join(__dirname, '../../lib/serving/tf-serving-backend.ts'), 'utf8');
    const doc = source.slice(source.lastIndexOf('/**', source.indexOf('readonly enableModelWarmup')), source.indexOf('readonly enableModelWarmup'));
    expect(doc).toMatch(/@default true\b/);
  });

  test('Prometheus monitoring on by default: config, scrape annotations, Prometheus admitted', () => {
    const out = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS }));
    const mon = parseTextProto(out.find('ConfigMap').data['monitoring.config'], 'MonitoringConfig');
    expect(mon).toEqual({ prometheus_config: [{ enable: [true], path: ['/monitoring/prometheus/metrics'] }] });
    expect(out.find('Deployment').spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8501',
      'prometheus.io/path': '/monitoring/prometheus/metrics',
    });
    expect(out.find('NetworkPolicy').spec.ingress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ port: 8501, protocol: 'TCP' }],
    });
    const off = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS, metrics: false }));
    expect(off.find('ConfigMap').data['monitoring.config']).toBeUndefined();
    expect(off.find('Deployment').spec.template.metadata.annotations).toBeUndefined();
  });

  test('GPU: -gpu image, nvidia.com/gpu: 1, toleration, CUDA cache on /tmp', () => {
    const out = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS, resources: { gpu: 1 } }));
    const pod = podSpec(out.find('Deployment'));
    expect(pod.containers[0].image).toBe('tensorflow/serving:2.20.0-gpu');
    expect(pod.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'CUDA_CACHE_PATH', value: '/tmp/cuda-cache' },
        { name: 'HOME', value: '/tmp' },
      ]),
    );
  });

  test('predictUrl names the Service, its namespace and the port that targets the REST containerPort', () => {
    let url = '';
    const out = synthStack(
      (stack) => {
        const s = new TfServingBackend(stack, 'server', { modelName: 'and-gate', model: GS, replicas: 3 });
        url = s.predictUrl();
        expect(() => s.predictUrl('nope')).toThrow(/names a model it does not serve \(and-gate\)/);
      },
      { namespace: 'gates' },
    );
    const m = /^http:\/\/([^.]+)\.([^.]+)\.svc:(\d+)\/v1\/models\/and-gate:predict$/.exec(url)!;
    expect(m).not.toBeNull();
    const svc = out.find('Service', m[1]);
    expect(svc.metadata.namespace).toBe(m[2]);
    const port = svc.spec.ports.find((p: any) => p.port === Number(m[3]));
    const rest = podSpec(out.find('Deployment', 'server')).containers[0].ports.find((p: any) => p.name === 'http');
    expect(port.targetPort).toBe(rest.containerPort);
    expect(rest.containerPort).toBe(8501);
  });

  test('a ModelImage bakes the SavedModel at /models/<name>/<version> and becomes the server image', () => {
    const dir = tempDir();
    const out = synthStack(
      (stack) =>
        new TfServingBackend(stack, 'server', {
          modelName: 'and-gate',
          model: ModelSource.fromImage(
            ModelImage.fromDirectory(dir, {
              repository: 'registry.example.com/and-gate-model',
              tag: '1',
              modelName: 'and-gate',
              version: 1602624873,
            }),
          ),
        }),
    );
    expect(podSpec(out.find('Deployment')).containers[0].image).toBe('registry.example.com/and-gate-model:1');
    const facts = dockerfileFacts(out.dockerfile('and-gate-model'));
    expect(facts.baseArgs).toEqual([{ name: 'TF_SERVING_IMAGE', default: 'tensorflow/serving:2.20.0' }]);
    expect(facts.instructions.map((i) => `${i.keyword} ${i.args}`)).toContain('COPY . /models/and-gate/1602624873/');
    expect(facts.user).toEqual({ uid: 1000, gid: 1000 });
    const cfg = parseTextProto(out.find('ConfigMap').data['models.config'], 'ModelServerConfig');
    expect((cfg.model_config_list[0] as any).config[0].base_path).toEqual(['/models/and-gate']);
    const bake = JSON.parse(out.files.get('images/docker-bake.json')!);
    expect(path.resolve(out.app.outdir, 'images', bake.target['and-gate-model'].context)).toBe(dir);
  });

  test('wiring an InferenceService client opens exactly the REST port, not gRPC', () => {
    const out = synthStack(
      (stack) => {
        const s = new TfServingBackend(stack, 'server', { modelName: 'm', model: GS });
        s.allowFrom(new InferenceService(stack, 'client', { image: 'registry.example.com/c:1' }));
        // The client's image calls TF Serving on its own: no env URL shows it, so the test declares it.
      },
      {},
      { intended: [{ from: 'Deployment/test/client', to: 'Deployment/test/server', port: 8501 }] },
    );
    const ingress = out.find('NetworkPolicy', 'server').spec.ingress;
    const fromClient = ingress.filter((r: any) => r.from?.[0]?.podSelector);
    expect(fromClient).toEqual([
      {
        from: [{ podSelector: { matchLabels: out.find('Deployment', 'client').spec.selector.matchLabels } }],
        ports: [{ port: 8501, protocol: 'TCP' }],
      },
    ]);
  });

  test('snapshot', () => {
    const out = synthStack((stack) => new TfServingBackend(stack, 'server', { modelName: 'and-gate', model: GS, replicas: 3 }));
    expect(out.files.get('manifests/test.k8s.yaml')).toMatchSnapshot();
  });

  describe('bad input', () => {
    const bad = (props: any) => () => synthStack((stack) => new TfServingBackend(stack, 'server', props));
    test.each([
      [
        'bad model name',
        { modelName: 'and gate!', model: GS },
        joinRegExp(
          /TfServingBackend 'test\/server': modelName must be a model name of letters, digits, _ \. /,
          /- .*got "and gate!"\. Fix: use a name such as 'and-gate'/,
        ),
      ],
      ['no model', {}, /models must name at least one model/],
      [
        'two models with one name',
        {
          models: [
            { name: 'a', source: GS },
            { name: 'a', source: GS },
          ],
        },
        /models\[1\].name is used by two models, got "a"/,
      ],
      [
        'non-integer version',
        { models: [{ name: 'a', source: GS, versionPolicy: VersionPolicy.specific([1.5]) }] },
        /models\[0\].versionPolicy versions must be integers.*got 1.5/,
      ],
      [
        'label on an unloaded version',
        { models: [{ name: 'a', source: GS, versionPolicy: VersionPolicy.specific([1]), versionLabels: { canary: 2 } }] },
        /versionLabels.canary points at version 2, which the version policy does not load/,
      ],
      [
        'non-integer ModelImage version',
        {
          modelName: 'a',
          model: ModelSource.fromImage(
            ModelImage.fromDirectory(tempDir(), { repository: 'r.example.com/m', tag: '1', modelName: 'a', version: 1.5 }),
          ),
        },
        /model.image.version must be a whole number: TF Serving only loads integer version directories, got 1.5/,
      ],
      [
        'unsupported URI scheme',
        { modelName: 'a', model: ModelSource.fromUri('hdfs://nn/models/a') },
        /model must be an s3:\/\/, gs:\/\/, http:\/\/ or https:\/\/ URI.*got "hdfs:\/\/nn\/models\/a"/,
      ],
      ['fractional GPU', { modelName: 'a', model: GS, resources: { gpu: 1.5 } }, /resources.gpu must be a whole number of GPUs/],
      [
        'GPU on a non-GPU image override',
        { modelName: 'a', model: GS, image: 'mirror.example.com/tensorflow/serving:2.20.0', resources: { gpu: 1 } },
        joinRegExp(
          /image runs a CPU-only TF Serving image while resources.gpu is 1, got /,
          /"mirror.example.com\/tensorflow\/serving:2.20.0"\. Fix: use the matching -gpu tag/,
        ),
      ],
      [
        'min > max',
        { modelName: 'a', model: GS, autoscaling: { minReplicas: 4, maxReplicas: 3 } },
        /autoscaling.minReplicas must not exceed maxReplicas \(3\), got 4/,
      ],
      [
        'batch sizes not ending at max',
        { modelName: 'a', model: GS, batching: { maxBatchSize: 32, allowedBatchSizes: [8, 16] } },
        /batching.allowedBatchSizes must end with maxBatchSize \(32\)/,
      ],
      [
        'flag the construct owns',
        { modelName: 'a', model: GS, extraArgs: ['--rest_api_port=9000'] },
        /extraArgs sets a flag the construct owns.*got "--rest_api_port=9000"/,
      ],
      ['bad version', { modelName: 'a', model: GS, version: 'latest' }, /version must be a TF Serving release such as 2.20.0, got "latest"/],
    ])('%s', (_what, props, message) => {
      expect(bad(props)).toThrow(message);
    });
  });
});
