import {
  BatchInferenceJob,
  DataInput,
  Distributed,
  EnvValue,
  InferenceService,
  ModelOutput,
  ModelSource,
  TrainingJob,
  TrainingJobProps,
} from '../../lib';
import { joinRegExp } from '../_util/regexp';
import { podSpec, synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/train:1.0.0';
const claim = (o: Partial<Parameters<typeof ModelOutput.newClaim>[0]> = {}) => ModelOutput.newClaim({ size: '10Gi', ...o });
const envOf = (container: any): Record<string, any> => Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('TrainingJob', () => {
  test('defaults: a Job with ML defaults, a hardened pod, the model claim it creates mounted at MODEL_DIR', () => {
    const out = synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, command: ['python', 'train.py'], modelOutput: claim() }));
    const job = out.find('Job', 'train');
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 86400,
      podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
    });
    expect(job.spec.completionMode).toBeUndefined();
    // A Job that deletes itself is re-created (and re-run) by Argo CD's auto-sync: no TTL by default.
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
    const pod = podSpec(job);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 });
    const c = pod.containers[0];
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.resources).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '2', memory: '4Gi' } });
    expect(c.command).toEqual(['python', 'train.py']);
    expect(envOf(c)).toEqual({ HOME: '/tmp', MODEL_DIR: '/models' });
    expect(c.volumeMounts).toEqual([
      { name: 'model', mountPath: '/models' },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    const pvc = out.find('PersistentVolumeClaim', 'train-model');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } });
    expect(pod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'train-model' } });
    expect(out.all('Service')).toEqual([]);
    const np = out.find('NetworkPolicy', 'train');
    expect(np.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'train', 'app.kubernetes.io/instance': 'test-train' } },
      policyTypes: ['Ingress', 'Egress'],
      egress: [
        {
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        },
      ],
    });
    expect(job.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('training');
    expect(out.files.get('manifests/test.k8s.yaml')).toMatchSnapshot();
  });

  test('GPU, env from Secrets, existing claim with subPath, storage class, custom modelDir', () => {
    const out = synthStack((stack) => {
      new TrainingJob(stack, 'train', {
        image: IMAGE,
        resources: { gpu: 2, memory: '32Gi', memoryLimit: '64Gi' },
        gpuNodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
        env: { EPOCHS: '10', WANDB_API_KEY: EnvValue.fromSecret('wandb', 'key') },
        shmSize: '8Gi',
        modelOutput: ModelOutput.existingClaim('models', { accessMode: 'ReadWriteMany', subPath: 'eeg/v1' }),
        modelDir: '/mnt/model',
        backoffLimit: 2,
        activeDeadlineSeconds: 3600,
        ttlSecondsAfterFinished: 600,
      });
      new TrainingJob(stack, 'other', {
        image: IMAGE,
        modelOutput: claim({ storageClassName: 'fast-ssd', accessMode: 'ReadWriteMany', name: 'other-models' }),
      });
    });
    const job = out.find('Job', 'train');
    const pod = podSpec(job);
    const c = pod.containers[0];
    expect(c.resources.limits['nvidia.com/gpu']).toBe(2);
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(envOf(c)).toEqual({ HOME: '/tmp', MODEL_DIR: '/mnt/model', EPOCHS: '10', WANDB_API_KEY: { secretKeyRef: { name: 'wandb', key: 'key' } } });
    expect(c.volumeMounts).toContainEqual({ name: 'model', mountPath: '/mnt/model', subPath: 'eeg/v1' });
    expect(c.volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
    expect(pod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'models' } });
    expect(job.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 600 });
    expect(out.find('PersistentVolumeClaim').spec).toEqual({
      accessModes: ['ReadWriteMany'],
      storageClassName: 'fast-ssd',
      resources: { requests: { storage: '10Gi' } },
    });
    expect(out.find('PersistentVolumeClaim').metadata.name).toBe('other-models');
  });

  test('inputs: a claim mounted read-only and a URI downloaded by an init container; DATA_DIR is the first', () => {
    const out = synthStack(
      (stack) =>
        new TrainingJob(stack, 'train', {
          image: IMAGE,
          inputs: [
            DataInput.fromVolume('datasets', { mountPath: '/data', subPath: 'eeg' }),
            DataInput.fromUri('s3://bucket/eeg/extra', { mountPath: '/extra', credentialsSecret: 's3-creds' }),
          ],
        }),
    );
    const job = out.find('Job');
    const pod = podSpec(job);
    const c = pod.containers[0];
    expect(envOf(c)).toEqual({ HOME: '/tmp', DATA_DIR: '/data' });
    expect(c.volumeMounts).toEqual([
      { name: 'data-0', mountPath: '/data', readOnly: true, subPath: 'eeg' },
      { name: 'data-1', mountPath: '/extra', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(pod.volumes).toContainEqual({ name: 'data-0', persistentVolumeClaim: { claimName: 'datasets', readOnly: true } });
    expect(pod.volumes).toContainEqual({ name: 'data-1', emptyDir: { sizeLimit: '20Gi' } });
    const init = pod.initContainers[0];
    expect(init).toMatchObject({
      name: 'data-1-download',
      image: 'rclone/rclone:1.68.2',
      command: ['rclone', 'copy', '--fast-list', ':s3,provider=AWS,env_auth=true:bucket/eeg/extra', '/extra'],
      envFrom: [{ secretRef: { name: 's3-creds' } }],
    });
    expect(init.securityContext.readOnlyRootFilesystem).toBe(true);
    // HTTPS and the metadata server for the download
    expect(out.find('NetworkPolicy').spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: '0.0.0.0/0' } }],
      ports: [{ port: 443, protocol: 'TCP' }],
    });
  });

  describe('distributed', () => {
    test('PyTorch: an Indexed Job, a headless Service, and per-worker env resolving to worker 0 through that Service', () => {
      const out = synthStack(
        (stack) =>
          new TrainingJob(stack, 'train', {
            image: IMAGE,
            distributed: Distributed.pytorch({ workers: 3 }),
            modelOutput: claim({ accessMode: 'ReadWriteMany' }),
          }),
        { namespace: 'ml' },
      );
      const job = out.find('Job', 'train');
      expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 3 });
      const svc = out.find('Service');
      expect(svc.spec).toEqual({
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: { 'app.kubernetes.io/name': 'train', 'app.kubernetes.io/instance': 'test-train' },
        ports: [{ name: 'rendezvous', port: 29500, targetPort: 29500, protocol: 'TCP' }],
      });
      const pod = podSpec(job);
      // Pod i of an Indexed Job gets hostname <job>-<i>; with subdomain = the headless Service it is
      // <job>-<i>.<service>.<namespace>.svc.
      expect(pod.subdomain).toBe(svc.metadata.name);
      const c = pod.containers[0];
      expect(c.ports).toEqual([{ name: 'rendezvous', containerPort: 29500, protocol: 'TCP' }]);
      const env = envOf(c);
      expect(env.MASTER_ADDR).toBe(`${job.metadata.name}-0.${svc.metadata.name}.ml.svc`);
      expect(env.MASTER_PORT).toBe(String(svc.spec.ports[0].port));
      expect(env.WORLD_SIZE).toBe('3');
      const indexRef = { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } };
      expect(env.RANK).toEqual(indexRef);
      expect(env.JOB_COMPLETION_INDEX).toEqual(indexRef);
      expect(env.LOCAL_RANK).toBe('0');
      expect(env.MODEL_DIR).toBe('/models');
      // workers talk to each other on every port (NCCL/gloo open their own)
      const np = out.find('NetworkPolicy').spec;
      const self = { podSelector: { matchLabels: svc.spec.selector } };
      expect(np.ingress).toEqual([{ from: [self] }]);
      expect(np.egress).toContainEqual({ to: [self] });
      expect(out.files.get('manifests/test.k8s.yaml')).toMatchSnapshot();
    });

    test('TensorFlow: TF_CONFIG lists every worker and takes the task index from the completion index', () => {
      const out = synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, distributed: Distributed.tensorflow({ workers: 3 }) }));
      const job = out.find('Job');
      expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 3 });
      const svc = out.find('Service');
      expect(svc.spec.ports).toEqual([{ name: 'tf-worker', port: 2222, targetPort: 2222, protocol: 'TCP' }]);
      const c = podSpec(job).containers[0];
      const names = c.env.map((e: any) => e.name);
      // Kubernetes expands $(VAR) only for variables defined earlier in the list.
      expect(names.indexOf('JOB_COMPLETION_INDEX')).toBeLessThan(names.indexOf('TF_CONFIG'));
      const tfConfig = envOf(c).TF_CONFIG;
      expect(tfConfig).toBe(
        '{"cluster":{"worker":["train-0.train.test.svc:2222","train-1.train.test.svc:2222","train-2.train.test.svc:2222"]},' +
          '"task":{"type":"worker","index":$(JOB_COMPLETION_INDEX)}}',
      );
      // What worker 2 sees after the kubelet's expansion:
      expect(JSON.parse(tfConfig.replace('$(JOB_COMPLETION_INDEX)', '2'))).toEqual({
        cluster: { worker: ['train-0.train.test.svc:2222', 'train-1.train.test.svc:2222', 'train-2.train.test.svc:2222'] },
        task: { type: 'worker', index: 2 },
      });
      expect(envOf(c).JOB_COMPLETION_INDEX).toEqual({ fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } });
    });

    test('custom port; bad workers, a ReadWriteOnce output shared by workers, and schedule are rejected', () => {
      const out = synthStack(
        (stack) => new TrainingJob(stack, 'train', { image: IMAGE, distributed: Distributed.pytorch({ workers: 2, port: 23456 }) }),
      );
      expect(envOf(podSpec(out.find('Job')).containers[0]).MASTER_PORT).toBe('23456');
      expect(() =>
        synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, distributed: Distributed.pytorch({ workers: 0 }) })),
      ).toThrow(/TrainingJob 'test\/train': distributed.workers must be a whole number from 2 to 10000 .*got 0/);
      expect(() =>
        synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, distributed: Distributed.tensorflow({ workers: 2, port: 70000 }) })),
      ).toThrow(/distributed.port must be a TCP port/);
      expect(() =>
        synthStack(
          (stack) => new TrainingJob(stack, 'train', { image: IMAGE, distributed: Distributed.pytorch({ workers: 4 }), modelOutput: claim() }),
        ),
      ).toThrow(
        /modelOutput.accessMode must be ReadWriteMany when 4 distributed workers mount the claim .*got "ReadWriteOnce". Fix: .*ReadWriteMany/,
      );
      expect(() =>
        synthStack(
          (stack) =>
            new TrainingJob(stack, 'train', { image: IMAGE, distributed: Distributed.pytorch({ workers: 2 }), schedule: { cron: '0 3 * * *' } }),
        ),
      ).toThrow(/schedule cannot be combined with distributed/);
    });
  });

  describe('schedule', () => {
    test('a CronJob for retraining: Forbid, time zone, history limits, starting deadline', () => {
      const out = synthStack(
        (stack) =>
          new TrainingJob(stack, 'retrain', {
            image: IMAGE,
            modelOutput: claim({ accessMode: 'ReadWriteMany' }),
            schedule: { cron: '0 3 * * 1-5', timeZone: 'Europe/Berlin' },
          }),
      );
      expect(out.all('Job')).toEqual([]);
      const cj = out.find('CronJob', 'retrain');
      expect(cj.spec).toMatchObject({
        schedule: '0 3 * * 1-5',
        timeZone: 'Europe/Berlin',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
      });
      expect(cj.spec.suspend).toBeUndefined();
      const jobSpec = cj.spec.jobTemplate.spec;
      expect(jobSpec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 86400 });
      expect(jobSpec.ttlSecondsAfterFinished).toBeUndefined();
      expect(podSpec(cj).restartPolicy).toBe('Never');
      expect(cj.spec.jobTemplate.metadata.labels).toEqual(jobSpec.template.metadata.labels);
      expect(out.files.get('manifests/test.k8s.yaml')).toMatchSnapshot();
    });

    test('options and macros', () => {
      const out = synthStack(
        (stack) =>
          new TrainingJob(stack, 'retrain', {
            image: IMAGE,
            schedule: {
              cron: '@weekly',
              concurrencyPolicy: 'Replace',
              successfulJobsHistoryLimit: 1,
              failedJobsHistoryLimit: 5,
              startingDeadlineSeconds: 600,
              suspend: true,
            },
            ttlSecondsAfterFinished: 3600,
          }),
      );
      const cj = out.find('CronJob');
      expect(cj.spec).toMatchObject({
        schedule: '@weekly',
        concurrencyPolicy: 'Replace',
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 5,
        startingDeadlineSeconds: 600,
        suspend: true,
      });
      expect(cj.spec.jobTemplate.spec.ttlSecondsAfterFinished).toBe(3600);
    });

    test.each([
      [
        '0 3 * *',
        /schedule.cron must be a cron expression: it has 4 field\(s\); a Kubernetes schedule has 5 .*got "0 3 \* \*". Fix: write five fields/,
      ],
      ['0 25 * * *', /hour field '25': '25' is outside 0-23/],
      ['*/0 * * * *', /minute field '\*\/0' has a step of 0/],
      ['0 3 * FOO *', /month field 'FOO'/],
      ['CRON_TZ=UTC 0 3 * * *', /carries a time zone/],
      ['@sometimes', /unknown macro/],
    ])('cron %s is rejected', (cron, message) => {
      expect(() => synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, schedule: { cron } }))).toThrow(message);
    });

    test('bad time zone and limits are rejected', () => {
      const bad = (schedule: TrainingJobProps['schedule']) => () =>
        synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, schedule }));
      expect(bad({ cron: '0 3 * * MON-FRI', timeZone: 'berlin' })).toThrow(
        /schedule.timeZone must be an IANA time zone name, got "berlin". Fix: use a name such as 'UTC'/,
      );
      expect(bad({ cron: '0 3 * * *', successfulJobsHistoryLimit: -1 })).toThrow(
        /schedule.successfulJobsHistoryLimit must be a whole number from 0 to 100/,
      );
      expect(bad({ cron: '0 3 * * *', concurrencyPolicy: 'Sometimes' as any })).toThrow(
        /schedule.concurrencyPolicy must be 'Forbid', 'Replace' or 'Allow'/,
      );
    });
  });

  test('validation errors name the construct, the prop, the value and the fix', () => {
    const bad = (props: Partial<TrainingJobProps>) => () => synthStack((stack) => new TrainingJob(stack, 'train', { image: IMAGE, ...props }));
    expect(bad({ image: 'registry.example.com/train:latest' })).toThrow(/TrainingJob 'test\/train': image must be an image reference pinned/);
    expect(bad({ name: 'Train_Job' })).toThrow(/name must be a DNS-1123 label .*got "Train_Job"/);
    expect(bad({ backoffLimit: -1 })).toThrow(/backoffLimit must be a whole number from 0 to 100, got -1/);
    expect(bad({ activeDeadlineSeconds: 0 })).toThrow(/activeDeadlineSeconds must be a whole number >= 1/);
    expect(bad({ modelDir: 'models' })).toThrow(/modelDir must be an absolute path other than \/ and \/tmp, got "models"/);
    expect(bad({ command: [] })).toThrow(/command must not be empty/);
    expect(bad({ env: { MODEL_DIR: '/x' }, modelOutput: claim() })).toThrow(/env.MODEL_DIR is set by the library from the props/);
    expect(bad({ modelOutput: claim({ size: 'ten' }) })).toThrow(/modelOutput.size must be a storage quantity such as '10Gi', got "ten"/);
    expect(bad({ modelOutput: claim({ accessMode: 'ReadOnlyMany' }) })).toThrow(/modelOutput.accessMode must be writable/);
    expect(bad({ modelOutput: ModelOutput.existingClaim('models', { subPath: '../x' }) })).toThrow(
      /modelOutput.subPath must be a relative path inside the claim/,
    );
    expect(bad({ inputs: [DataInput.fromUri('ftp://x/y', { mountPath: '/data' })] })).toThrow(
      /inputs\[0\].uri must be an s3:\/\/, gs:\/\/, http:\/\/ or https:\/\/ URI/,
    );
    expect(bad({ inputs: [DataInput.fromVolume('d', { mountPath: 'data' })] })).toThrow(/inputs\[0\].mountPath must be an absolute path/);
    expect(bad({ inputs: [DataInput.fromVolume('d', { mountPath: '/models' })], modelOutput: claim() })).toThrow(
      /inputs mount two volumes at the same path, got "\/models"/,
    );
    expect(bad({ distributed: { workers: 2 } as any })).toThrow(/distributed must be made with Distributed.pytorch\(\)/);
  });
});

describe('model hand-off: ModelSource.fromTrainingJob', () => {
  test("servers and batch jobs mount the same claim read-only at their model path, with the trainer's group", () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'train', { image: IMAGE, uid: 20000, modelOutput: claim({ accessMode: 'ReadWriteMany' }) });
      new InferenceService(stack, 'api', {
        image: 'registry.example.com/api:1.0.0',
        model: ModelSource.fromTrainingJob(train),
        modelPath: '/srv/models',
        replicas: 3,
      });
      new BatchInferenceJob(stack, 'score', {
        image: IMAGE,
        model: ModelSource.fromTrainingJob(train),
        output: ModelOutput.newClaim({ size: '1Gi' }),
      });
    });
    const trainPod = podSpec(out.find('Job', 'train'));
    const claimName = trainPod.volumes.find((v: any) => v.name === 'model').persistentVolumeClaim.claimName;
    expect(claimName).toBe('train-model');
    const apiPod = podSpec(out.find('Deployment', 'api'));
    expect(apiPod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName, readOnly: true } });
    expect(apiPod.containers[0].volumeMounts).toContainEqual({ name: 'model', mountPath: '/srv/models', readOnly: true });
    expect(envOf(apiPod.containers[0]).MODEL_DIR).toBe('/srv/models');
    expect(apiPod.securityContext.fsGroup).toBe(trainPod.securityContext.fsGroup);
    expect(apiPod.securityContext.fsGroup).toBe(20000);

    const score = out.find('Job', 'score');
    const scorePod = podSpec(score);
    expect(scorePod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName, readOnly: true } });
    expect(scorePod.volumes).toContainEqual({ name: 'output', persistentVolumeClaim: { claimName: 'score-output' } });
    expect(scorePod.containers[0].volumeMounts).toEqual([
      { name: 'model', mountPath: '/models', readOnly: true },
      { name: 'output', mountPath: '/output' },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(envOf(scorePod.containers[0])).toEqual({ HOME: '/tmp', MODEL_DIR: '/models', OUTPUT_DIR: '/output' });
    expect(scorePod.securityContext.fsGroup).toBe(20000);
    expect(score.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('batch-inference');
    expect(out.find('PersistentVolumeClaim', 'score-output').spec.accessModes).toEqual(['ReadWriteOnce']);
  });

  test("an existing claim's subPath reaches the readers", () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: ModelOutput.existingClaim('models', { subPath: 'eeg' }) });
      new BatchInferenceJob(stack, 'score', { image: IMAGE, model: ModelSource.fromTrainingJob(train) });
    });
    expect(podSpec(out.find('Job', 'score')).containers[0].volumeMounts[0]).toEqual({
      name: 'model',
      mountPath: '/models',
      readOnly: true,
      subPath: 'eeg',
    });
  });

  describe('Multi-Attach check of a ReadWriteOnce output', () => {
    const api = (stack: any, train: TrainingJob, replicas = 1) =>
      new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', model: ModelSource.fromTrainingJob(train), replicas });

    test('fine: a Job that runs once and one reader pod (the finished trainer releases the volume)', () => {
      const out = synthStack((stack) => api(stack, new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim() })));
      expect(out.find('Deployment', 'api').spec.replicas).toBe(1);
    });

    test('fine: ReadWriteMany with several replicas and a batch job', () => {
      expect(() =>
        synthStack((stack) => {
          const train = new TrainingJob(stack, 'train', {
            image: IMAGE,
            modelOutput: claim({ accessMode: 'ReadWriteMany' }),
            schedule: { cron: '@daily' },
          });
          api(stack, train, 3);
          new BatchInferenceJob(stack, 'score', { image: IMAGE, model: ModelSource.fromTrainingJob(train) });
        }),
      ).not.toThrow();
    });

    test('error: a server and a batch job read it at the same time', () => {
      expect(() =>
        synthStack((stack) => {
          const train = new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim() });
          api(stack, train);
          new BatchInferenceJob(stack, 'score', { image: IMAGE, model: ModelSource.fromTrainingJob(train) });
        }),
      ).toThrow(
        joinRegExp(
          /TrainingJob 'test\/train': modelOutput is a ReadWriteOnce claim read by up to 2 pods at /,
          /once \('test\/api' \(1 pod\), 'test\/score' \(1 pod\)\): pods on other nodes fail with /,
          /Multi-Attach errors, got "ReadWriteOnce". Fix: make the claim ReadWriteMany .*run a /,
          /single reader pod, or write the model to object storage/,
        ),
      );
    });

    test('error: a scheduled trainer writes while a server reads', () => {
      expect(() =>
        synthStack((stack) => api(stack, new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim(), schedule: { cron: '0 3 * * *' } }))),
      ).toThrow(/modelOutput is a ReadWriteOnce claim written by every scheduled run while 'test\/api' \(1 pod\) read it/);
    });

    test("error: one server with several replicas (the server's own check)", () => {
      expect(() => synthStack((stack) => api(stack, new TrainingJob(stack, 'train', { image: IMAGE, modelOutput: claim() }), 2))).toThrow(
        /InferenceService 'test\/api': model reads PersistentVolumeClaim 'train-model' \(ReadWriteOnce\) from up to 2 replicas/,
      );
    });
  });

  test('a trainer without modelOutput has nothing to hand over', () => {
    expect(() =>
      synthStack((stack) => {
        const train = new TrainingJob(stack, 'train', { image: IMAGE });
        new BatchInferenceJob(stack, 'score', { image: IMAGE, model: ModelSource.fromTrainingJob(train) });
      }),
    ).toThrow(
      joinRegExp(
        /TrainingJob 'test\/train': modelOutput is not set, so there is no model for /,
        /ModelSource.fromTrainingJob to mount, got undefined. Fix: give the job modelOutput/,
      ),
    );
  });
});

describe('BatchInferenceJob', () => {
  test('a model from object storage, inputs, a schedule', () => {
    const out = synthStack(
      (stack) =>
        new BatchInferenceJob(stack, 'score', {
          image: IMAGE,
          command: ['python', 'inference.py'],
          model: ModelSource.fromUri('s3://models/eeg'),
          inputs: [DataInput.fromVolume('incoming', { mountPath: '/data' })],
          output: ModelOutput.existingClaim('predictions', { accessMode: 'ReadWriteMany' }),
          schedule: { cron: '30 * * * *' },
        }),
    );
    const cj = out.find('CronJob', 'score');
    const pod = podSpec(cj);
    expect(pod.initContainers[0].name).toBe('model-download');
    expect(envOf(pod.containers[0])).toEqual({ HOME: '/tmp', MODEL_DIR: '/models', OUTPUT_DIR: '/output', DATA_DIR: '/data' });
    expect(pod.volumes).toContainEqual({ name: 'output', persistentVolumeClaim: { claimName: 'predictions' } });
    expect(out.all('PersistentVolumeClaim')).toEqual([]);
    expect(out.find('NetworkPolicy').spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: '0.0.0.0/0' } }],
      ports: [{ port: 443, protocol: 'TCP' }],
    });
  });

  test('bad props are rejected', () => {
    expect(() => synthStack((stack) => new BatchInferenceJob(stack, 'score', { image: IMAGE, model: 's3://x' as any }))).toThrow(
      /BatchInferenceJob 'test\/score': model must be a ModelSource/,
    );
    expect(() =>
      synthStack(
        (stack) =>
          new BatchInferenceJob(stack, 'score', {
            image: IMAGE,
            model: ModelSource.fromUri('s3://m/x'),
            output: ModelOutput.newClaim({ size: '1Gi' }),
            outputDir: '/models/out',
          }),
      ),
    ).toThrow(/outputDir must not overlap modelPath/);
  });
});
