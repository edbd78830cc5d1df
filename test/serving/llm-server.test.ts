import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  FlaskFrontend,
  InferenceService,
  LlmServer,
  LlmServerProps,
  MlApp,
  MlStack,
  ModelImage,
  ModelSource,
  PythonImage,
  TrainingJob,
  ModelOutput,
} from '../../lib';
import { parseYamlStream } from '../_util/yaml';
import { podSpec, pythonContext, synthStack, tempDir } from '../_util/synth';

const REPO = 'Qwen/Qwen2.5-0.5B-Instruct';
const REV = '7ae557604adf67be50417f59c2c2f167def9a775';
const hf = (o: Record<string, unknown> = {}) => ModelSource.fromHuggingFace(REPO, { revision: REV, ...o } as any);
const llm =
  (props: Partial<LlmServerProps> = {}) =>
  (stack: MlStack) =>
    new LlmServer(stack, 'llm', { model: hf(), ...props });
const webImage = () => PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/chat', tag: '1.0.0' });
const envOf = (c: any) => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));

/** The message of what `build` throws at synth (empty when it does not throw). */
function failure(build: (stack: MlStack) => void): string {
  try {
    const app = new MlApp({ outdir: tempDir() });
    build(new MlStack(app, 'test'));
    app.synthFiles();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

describe('LlmServer', () => {
  test('defaults: pinned vLLM image, `vllm serve` of the local weights, one GPU, shm, long startup window, /health probes, metrics', () => {
    const out = synthStack(llm());
    const deploy = out.find('Deployment', 'llm');
    const pod = podSpec(deploy);
    const c = pod.containers[0];
    expect(c.image).toBe('vllm/vllm-openai:v0.31.0');
    expect(c.command).toEqual(['vllm', 'serve']);
    expect(c.args).toEqual(['/models', '--host', '0.0.0.0', '--port', '8000', '--served-model-name', REPO, '--tensor-parallel-size', '1']);
    expect(c.resources.limits['nvidia.com/gpu']).toBe(1);
    expect(pod.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    // /dev/shm: memory-backed (NCCL and torch workers share tensors through it)
    expect(pod.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '2Gi' } });
    expect(c.volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
    // readiness and liveness on vLLM's health path; the startup probe waits 30 minutes for the weights to load
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 8000 });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 8000 });
    expect(c.startupProbe.httpGet).toEqual({ path: '/health', port: 8000 });
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(1800);
    // metrics: scrape annotations and Prometheus' namespace admitted on the port
    expect(deploy.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8000',
      'prometheus.io/path': '/metrics',
    });
    expect(out.find('NetworkPolicy', 'llm').spec.ingress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ port: 8000, protocol: 'TCP' }],
    });
    expect(out.find('Service', 'llm').spec.ports).toEqual([{ name: 'http', port: 8000, targetPort: 8000, protocol: 'TCP' }]);
  });

  test('writable HOME and caches under a read-only root; runs as a non-root uid (the image has no USER)', () => {
    const out = synthStack(llm());
    const pod = podSpec(out.find('Deployment', 'llm'));
    const c = pod.containers[0];
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 });
    const env = envOf(c);
    expect(env.HOME).toBe('/tmp');
    // every cache directory is on a writable volume: /tmp, or the llm-cache emptyDir mounted at /tmp/.cache
    const cacheVars = [
      'HF_HOME',
      'XDG_CACHE_HOME',
      'VLLM_CACHE_ROOT',
      'TRITON_CACHE_DIR',
      'TORCHINDUCTOR_CACHE_DIR',
      'CUDA_CACHE_PATH',
      'NUMBA_CACHE_DIR',
    ];
    for (const v of cacheVars) expect({ v, dir: env[v] }).toEqual({ v, dir: expect.stringMatching(/^\/tmp\/\.cache(\/|$)/) });
    expect(env.VLLM_CONFIG_ROOT).toMatch(/^\/tmp\//);
    expect(c.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'llm-cache', mountPath: '/tmp/.cache' },
        { name: 'tmp', mountPath: '/tmp' },
      ]),
    );
    expect(pod.volumes).toContainEqual({ name: 'llm-cache', emptyDir: { sizeLimit: '10Gi' } });
    // the server never calls the hub, and sends no usage stats
    expect(env.HF_HUB_OFFLINE).toBe('1');
    expect(env.VLLM_NO_USAGE_STATS).toBe('1');
  });

  test('HuggingFace source: downloaded by an init container into a cache claim, the token in that container only', () => {
    const out = synthStack(llm({ model: hf({ tokenSecret: { secretName: 'hf-token' }, cache: { size: '100Gi', storageClassName: 'fast-ssd' } }) }));
    const pod = podSpec(out.find('Deployment', 'llm'));
    const pvc = out.find('PersistentVolumeClaim', 'llm-model-cache');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '100Gi' } } });
    expect(pod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'llm-model-cache' } });

    const init = pod.initContainers.find((c: any) => c.name === 'model-download');
    const server = pod.containers[0];
    // the token: only in the init container, from the Secret, never a literal
    expect(envOf(init).HF_TOKEN).toEqual({ secretKeyRef: { name: 'hf-token', key: 'token' } });
    const secretRefs = (c: any) => JSON.stringify([c.env ?? [], c.envFrom ?? []]).match(/secretKeyRef|secretRef/g) ?? [];
    expect(secretRefs(server)).toEqual([]);
    expect(JSON.stringify(out.objects)).not.toMatch(/HF_TOKEN["']?\s*[:=]\s*["']?hf_/);
    // one image for both: the node pulls it once, and it has python3 and huggingface_hub
    expect(init.image).toBe(server.image);
    // the init container writes the revision's directory; the server mounts exactly that directory, read-only
    const [, , , repo, revision, dest] = init.command;
    expect([repo, revision]).toEqual([REPO, REV]);
    expect(init.volumeMounts).toContainEqual({ name: 'model', mountPath: '/model-cache' });
    expect(dest).toBe(`/model-cache/${REPO}/${REV}`);
    expect(server.volumeMounts).toContainEqual({ name: 'model', mountPath: '/models', readOnly: true, subPath: `${REPO}/${REV}` });
    // only the init container may reach the hub: HTTPS egress (a NetworkPolicy is per pod)
    expect(envOf(init).HF_ENDPOINT).toBe('https://huggingface.co');
    expect(out.find('NetworkPolicy', 'llm').spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: '0.0.0.0/0' } }],
      ports: [{ port: 443, protocol: 'TCP' }],
    });
  });

  test('the download script downloads a revision once: a second start finds it in the cache and downloads nothing', () => {
    // GIVEN the init container's command, run with a stand-in huggingface_hub that records its calls
    const out = synthStack(llm());
    const init = podSpec(out.find('Deployment', 'llm')).initContainers[0];
    const [python, flag, script, repo, revision, dest] = init.command;
    expect([python, flag]).toEqual(['python3', '-c']);
    const root = tempDir('cdk8s-ml-hf-');
    fs.mkdirSync(path.join(root, 'stub', 'huggingface_hub'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'stub', 'huggingface_hub', '__init__.py'),
      [
        'import os',
        'from fnmatch import fnmatch',
        // a Llama-style repository: safetensors, and the original checkpoint again as .pth under original/
        "FILES = ['config.json', 'model-00001-of-00002.safetensors', " +
          "'original/consolidated.00.pth', 'original/params.json', 'original/sub/x.pth', 'extra.pth']",
        'def snapshot_download(repo_id, revision, local_dir, ignore_patterns=None):',
        "    with open(os.environ['CALLS'], 'a') as f: f.write(f'{repo_id}@{revision}\\n')",
        // the filter of huggingface_hub utils/_paths.py filter_repo_objects: fnmatch on the repo path
        '    for name in FILES:',
        '        if any(fnmatch(name, p) for p in (ignore_patterns or [])): continue',
        '        os.makedirs(os.path.dirname(os.path.join(local_dir, name)), exist_ok=True)',
        "        open(os.path.join(local_dir, name), 'w').write('{}')",
      ].join('\n'),
    );
    const calls = path.join(root, 'calls.txt');
    const localDest = path.join(root, dest.replace(/^\/model-cache\//, 'cache/'));
    const run = () =>
      execFileSync('python3', ['-c', script, repo, revision, localDest], {
        env: { ...process.env, PYTHONPATH: path.join(root, 'stub'), CALLS: calls },
        encoding: 'utf8',
      });
    // WHEN it runs twice (a restarted pod)
    const first = run();
    const second = run();
    // THEN the hub was called once, and the second run says why it skipped
    expect(fs.readFileSync(calls, 'utf8')).toBe(`${REPO}@${REV}\n`);
    expect(fs.existsSync(path.join(localDest, 'config.json'))).toBe(true);
    // only one copy of the weights: the original checkpoint (original/, *.pth) is not downloaded
    expect(fs.readdirSync(localDest).sort()).toEqual(['.cdk8s-ml-complete', 'config.json', 'model-00001-of-00002.safetensors']);
    expect(first).toContain('downloaded to');
    expect(second).toContain('already in the cache');
  });

  test('no service-link variables in the pods: a Service named vllm would set VLLM_PORT=tcp://..., which vLLM refuses', () => {
    // GIVEN a server whose own Service is named vllm, with a canary (a second Deployment)
    const out = synthStack(
      (stack) =>
        new LlmServer(stack, 'vllm', {
          model: hf({ cache: { size: '60Gi', accessMode: 'ReadWriteMany' } }),
          canary: { version: '0.30.0', weight: 50 },
          replicas: 2,
        }),
    );
    expect(out.find('Service', 'vllm')).toBeDefined();
    for (const name of ['vllm', 'vllm-canary']) expect(podSpec(out.find('Deployment', name)).enableServiceLinks).toBe(false);
  });

  test("the documented gpuMemoryUtilization default is vLLM's: 0.92 (vllm/config/cache.py)", () => {
    const source = fs.readFileSync(path.join(__dirname, '../../lib/serving/llm-server.ts'), 'utf8');
    const doc = source.slice(
      source.lastIndexOf('/**', source.indexOf('readonly gpuMemoryUtilization')),
      source.indexOf('readonly gpuMemoryUtilization'),
    );
    expect(doc).toMatch(/@default - vLLM's \(0\.92\b/);
    expect(doc).not.toMatch(/0\.9\)/);
    // no flag is written for the default: vLLM's own value applies
    expect(podSpec(synthStack(llm()).find('Deployment', 'llm')).containers[0].args).not.toContain('--gpu-memory-utilization');
  });

  test('Multi-Attach: several replicas on the default ReadWriteOnce cache claim fail; a ReadWriteMany claim serves them', () => {
    const message = failure(llm({ replicas: 2 }));
    expect(message).toContain("LlmServer 'test/llm': model ");
    expect(message).toContain("'llm-model-cache' (ReadWriteOnce) from up to 2 replicas");
    expect(message).toContain('got "ReadWriteOnce". Fix: use a ReadWriteMany');
    expect(failure(llm({ autoscaling: { maxReplicas: 3 } }))).toContain('from up to 3 replicas');

    const out = synthStack(llm({ replicas: 2, model: hf({ cache: { existingClaim: 'shared-models', accessMode: 'ReadWriteMany' } }) }));
    expect(out.all('PersistentVolumeClaim')).toEqual([]); // an existing claim is not created
    const deploy = out.find('Deployment', 'llm');
    expect(podSpec(deploy).volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'shared-models' } });
    expect(deploy.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(out.find('PodDisruptionBudget', 'llm').spec.maxUnavailable).toBe(1);
  });

  test('a single-attach cache claim replaces the pod on rollout (the surge pod could not attach it)', () => {
    const deploy = synthStack(llm()).find('Deployment', 'llm');
    expect(deploy.spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  test('tensor parallelism follows the GPU count; /dev/shm grows with it', () => {
    const out = synthStack(llm({ resources: { gpu: 4, memory: '64Gi', memoryLimit: '96Gi' } }));
    const pod = podSpec(out.find('Deployment', 'llm'));
    const args = pod.containers[0].args;
    expect(args[args.indexOf('--tensor-parallel-size') + 1]).toBe('4');
    expect(pod.containers[0].resources.limits['nvidia.com/gpu']).toBe(4);
    expect(pod.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '8Gi' } });
    // an explicit value that agrees is accepted
    const agreed = synthStack(llm({ tensorParallel: 2, resources: { gpu: 2 }, shmSize: '16Gi' }));
    const pod2 = podSpec(agreed.find('Deployment', 'llm'));
    expect(pod2.containers[0].args).toEqual(expect.arrayContaining(['--tensor-parallel-size', '2']));
    expect(pod2.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } });
  });

  test('a tensorParallel that disagrees with the GPUs fails with path, prop, value and fix', () => {
    const message = failure(llm({ tensorParallel: 2, resources: { gpu: 4 } }));
    expect(message).toContain("LlmServer 'test/llm': tensorParallel must equal resources.gpu (4)");
    expect(message).toContain('got 2. Fix: drop tensorParallel (it follows resources.gpu), or set resources.gpu: 2');
  });

  test('serving options become vllm serve flags; flags the construct owns are refused', () => {
    const out = synthStack(
      llm({
        servedModelName: 'qwen-small',
        maxModelLen: 8192,
        gpuMemoryUtilization: 0.85,
        extraArgs: ['--enable-prefix-caching', '--max-num-seqs', '64'],
      }),
    );
    expect(podSpec(out.find('Deployment', 'llm')).containers[0].args).toEqual([
      '/models',
      '--host',
      '0.0.0.0',
      '--port',
      '8000',
      '--served-model-name',
      'qwen-small',
      '--tensor-parallel-size',
      '1',
      '--max-model-len',
      '8192',
      '--gpu-memory-utilization',
      '0.85',
      '--enable-prefix-caching',
      '--max-num-seqs',
      '64',
    ]);
    expect(failure(llm({ extraArgs: ['--port=9000'] }))).toContain("LlmServer 'test/llm': extraArgs[0] sets a flag the construct owns");
  });

  test('other sources: weights a TrainingJob wrote (a fine-tune) need a served name', () => {
    const out = synthStack((stack) => {
      const train = new TrainingJob(stack, 'finetune', {
        image: 'registry.example.com/finetune:1.0.0',
        modelOutput: ModelOutput.newClaim({ size: '40Gi' }),
      });
      new LlmServer(stack, 'llm', { model: ModelSource.fromTrainingJob(train), servedModelName: 'support-bot' });
    });
    const c = podSpec(out.find('Deployment', 'llm')).containers[0];
    expect(c.args).toEqual(expect.arrayContaining(['--served-model-name', 'support-bot']));
    expect(
      failure((stack) => {
        new LlmServer(stack, 'llm', { model: ModelSource.fromVolume('weights') });
      }),
    ).toContain("LlmServer 'test/llm': servedModelName is required when the model is not a Hugging Face repository");
  });

  test('a FlaskFrontend wired to it gets OPENAI_BASE_URL (a Service that exists, on the port that targets vLLM) and OPENAI_MODEL', () => {
    const out = synthStack(
      (stack) => {
        const server = new LlmServer(stack, 'llm', { model: hf() });
        new FlaskFrontend(stack, 'chat', { image: webImage(), backend: server });
      },
      { namespace: 'assistant' },
    );
    const web = podSpec(out.find('Deployment', 'chat'));
    const env = envOf(web.containers[0]);
    expect(env.OPENAI_MODEL).toBe(REPO);
    const m = /^http:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc:(\d+)\/v1$/.exec(env.OPENAI_BASE_URL)!;
    expect(m).not.toBeNull();
    const svc = out.find('Service', m[1]);
    expect(svc.metadata.namespace).toBe(m[2]);
    const port = svc.spec.ports.find((p: any) => p.port === Number(m[3]));
    const llmPod = podSpec(out.find('Deployment', 'llm'));
    expect(llmPod.containers[0].ports.map((p: any) => p.containerPort)).toContain(port.targetPort);
    expect(svc.spec.selector).toEqual(out.find('Deployment', 'llm').spec.selector.matchLabels);
    expect(env.BACKEND_PREDICT_URL).toBe(`${env.OPENAI_BASE_URL}/chat/completions`);
    // the NetworkPolicies allow exactly that call: the chat pods to the vLLM port, both sides
    const chatSelector = out.find('Deployment', 'chat').spec.selector.matchLabels;
    const llmIngress = out.find('NetworkPolicy', 'llm').spec.ingress.filter((r: any) => r.from?.[0]?.podSelector);
    expect(llmIngress).toEqual([{ from: [{ podSelector: { matchLabels: chatSelector } }], ports: [{ port: 8000, protocol: 'TCP' }] }]);
    expect(out.find('NetworkPolicy', 'chat').spec.egress).toContainEqual({
      to: [{ podSelector: { matchLabels: svc.spec.selector } }],
      ports: [{ port: 8000, protocol: 'TCP' }],
    });
    // locally, compose points the same variable at the compose service
    const compose = parseYamlStream(out.files.get('compose/test.compose.yml')!)[0];
    expect(compose.services.chat.environment.OPENAI_BASE_URL).toBe('http://llm:8000/v1');
  });

  test('named backends get prefixed variables', () => {
    const out = synthStack((stack) => {
      const server = new LlmServer(stack, 'llm', { model: hf(), servedModelName: 'qwen' });
      new FlaskFrontend(stack, 'chat', { image: webImage(), backends: { assistant: server } });
    });
    const env = envOf(podSpec(out.find('Deployment', 'chat')).containers[0]);
    expect(env.ASSISTANT_OPENAI_BASE_URL).toBe('http://llm.test.svc:8000/v1');
    expect(env.ASSISTANT_OPENAI_MODEL).toBe('qwen');
    expect(env.OPENAI_BASE_URL).toBeUndefined();
  });

  test('manifest snapshot of the default server', () => {
    expect(synthStack(llm({ model: hf({ tokenSecret: { secretName: 'hf-token' } }) })).files.get('manifests/test.k8s.yaml')).toMatchSnapshot();
  });
});

describe('ModelSource.fromHuggingFace outside LlmServer', () => {
  test('an InferenceService reads it from an existing claim, with an image that can download', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'embed', {
          image: 'registry.example.com/embed:1.0.0',
          model: hf({ cache: { existingClaim: 'models' }, downloaderImage: 'vllm/vllm-openai:v0.31.0' }),
        }),
    );
    const pod = podSpec(out.find('Deployment', 'embed'));
    expect(pod.initContainers[0].image).toBe('vllm/vllm-openai:v0.31.0');
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'model', mountPath: '/models', readOnly: true, subPath: `${REPO}/${REV}` });
  });

  test('without an existing claim it says so', () => {
    const message = failure((stack) => new InferenceService(stack, 'embed', { image: 'registry.example.com/embed:1.0.0', model: hf() }));
    expect(message).toContain("InferenceService 'test/embed': model.cache.existingClaim is required here");
    expect(message).toContain("Fix: pass cache: { existingClaim: 'model-cache' }");
  });
});

describe('LlmServer bad input', () => {
  test.each<[string, (s: MlStack) => void, string, string]>([
    ['bad repo id', llm({ model: ModelSource.fromHuggingFace('Qwen2.5-0.5B', { revision: REV }) }), 'model', '"Qwen2.5-0.5B"'],
    ['repo id with --', llm({ model: ModelSource.fromHuggingFace('org/a--b', { revision: REV }) }), 'model', '"org/a--b"'],
    ['missing revision', llm({ model: ModelSource.fromHuggingFace(REPO, {} as any) }), 'model.revision', 'undefined'],
    ['bad revision', llm({ model: hf({ revision: '../main' }) }), 'model.revision', '"../main"'],
    ['revision with a space', llm({ model: hf({ revision: 'v1 final' }) }), 'model.revision', '"v1 final"'],
    ['missing options', llm({ model: ModelSource.fromHuggingFace(REPO, undefined as any) }), 'model', 'undefined'],
    ['missing token secret name', llm({ model: hf({ tokenSecret: {} }) }), 'model.tokenSecret.secretName', 'undefined'],
    ['bad token secret name', llm({ model: hf({ tokenSecret: { secretName: 'HF Token' } }) }), 'model.tokenSecret.secretName', '"HF Token"'],
    ['bad token key', llm({ model: hf({ tokenSecret: { secretName: 'hf', key: 'a/b' } }) }), 'model.tokenSecret.key', '"a/b"'],
    ['read-only cache claim', llm({ model: hf({ cache: { accessMode: 'ReadOnlyMany' } }) }), 'model.cache.accessMode', '"ReadOnlyMany"'],
    ['size with an existing claim', llm({ model: hf({ cache: { existingClaim: 'models', size: '10Gi' } }) }), 'model.cache.size', '"10Gi"'],
    ['cache size', llm({ model: hf({ cache: { size: '10GB' } }) }), 'model.cache.size', '"10GB"'],
    ['endpoint', llm({ model: hf({ endpoint: 'huggingface.co' }) }), 'model.endpoint', '"huggingface.co"'],
    ['downloader not pinned', llm({ model: hf({ downloaderImage: 'python' }) }), 'model.downloaderImage', '"python"'],
    [
      'tensorParallel without GPUs',
      llm({ tensorParallel: 2, resources: { gpu: 0 }, image: 'registry.example.com/vllm-cpu:0.31.0' }),
      'tensorParallel',
      '2',
    ],
    ['tensorParallel not whole', llm({ tensorParallel: 1.5 }), 'tensorParallel', '1.5'],
    ['no GPU with the CUDA image', llm({ resources: { gpu: 0 } }), 'resources.gpu', '0'],
    ['gpuMemoryUtilization', llm({ gpuMemoryUtilization: 90 }), 'gpuMemoryUtilization', '90'],
    ['maxModelLen', llm({ maxModelLen: 0 }), 'maxModelLen', '0'],
    ['version', llm({ version: 'latest' }), 'version', '"latest"'],
    ['image not pinned', llm({ image: 'vllm/vllm-openai' }), 'image', '"vllm/vllm-openai"'],
    ['servedModelName', llm({ servedModelName: 'my model' }), 'servedModelName', '"my model"'],
    [
      'a TF Serving model image',
      llm({ model: ModelSource.fromImage(ModelImage.fromDirectory(tempDir(), { repository: 'registry.example.com/m', tag: '1', modelName: 'm' })) }),
      'model',
      '"registry.example.com/m:1"',
    ],
    ['not a ModelSource', llm({ model: 'Qwen/Qwen2.5-0.5B-Instruct' as any }), 'model', '"Qwen/Qwen2.5-0.5B-Instruct"'],
    ['extraArgs not strings', llm({ extraArgs: [42 as any] }), 'extraArgs[0]', '42'],
    ['cacheSize', llm({ cacheSize: '10 GB' }), 'cacheSize', '"10 GB"'],
  ])('%s', (_name, build, prop, got) => {
    const message = failure(build);
    expect(message).toContain(`LlmServer 'test/llm': ${prop} `);
    expect(message).toContain(`, got ${got}. Fix: `);
    expect(message.split('Fix: ')[1].length).toBeGreaterThan(10);
  });
});
