/**
 * The TF Serving config files cdk8s-ml writes (models.config, batching.config, monitoring.config, as
 * ConfigMap data and as compose bind-mounted files) parsed by TF Serving's compiled protos with the
 * protobuf library's own text-format parser (scripts/tfserving/parse.py), not by our parser: what
 * tensorflow_model_server would read. The venv is made by scripts/tfserving/setup.sh on first use.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { buildReferenceApps } from '../../apps/main';
import { ModelSource, TfServingBackend, VersionPolicy } from '../../lib';
import { podSpec, Synthesized, synth, synthStack, tempDir } from '../_util/synth';

const ROOT = path.resolve(__dirname, '../..');
const SETUP = path.join(ROOT, 'scripts/tfserving/setup.sh');
const PARSE = path.join(ROOT, 'scripts/tfserving/parse.py');

/** The flag tensorflow_model_server reads each file with decides its message type. */
const FLAG_MESSAGE: Record<string, string> = {
  model_config_file: 'ModelServerConfig',
  batching_parameters_file: 'BatchingParameters',
  monitoring_config_file: 'MonitoringConfig',
};

let python = '';
const work = tempDir('cdk8s-ml-tfserving-');

type ParseResult = { ok: true; json: any } | { ok: false; status: number | null; error: string };

/** parse.py MESSAGE FILE with the venv's python. */
function parseWithTfServing(message: string, text: string): ParseResult {
  const file = path.join(fs.mkdtempSync(path.join(work, 'cfg-')), 'config');
  fs.writeFileSync(file, text);
  const r = spawnSync(python, [PARSE, message, file], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`${python} ${PARSE} did not run: ${r.error.message}`);
  if (r.status === 0) return { ok: true, json: JSON.parse(r.stdout) };
  return { ok: false, status: r.status, error: r.stderr.trim() };
}

/** Parsed, or the test fails with the proto parser's message and the text it rejected. */
function mustParse(message: string, text: string, where: string): any {
  const r = parseWithTfServing(message, text);
  if (!r.ok) throw new Error(`TF Serving's ${message} rejects ${where}:\n${r.error}\n--- text ---\n${text}`);
  return r.json;
}

beforeAll(() => {
  const r = spawnSync('bash', [SETUP], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0)
    throw new Error(`scripts/tfserving/setup.sh failed (${r.error?.message ?? `exit ${r.status}`}); it needs python3 and PyPI:\n${r.stderr}`);
  python = r.stdout.trim();
}, 600_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** One TF Serving server of the output: its config files by the flag that names them. */
interface Server {
  readonly where: string;
  readonly image: string;
  /** flag -> [file name, content] */
  readonly files: Map<string, [string, string]>;
  readonly modelDirs: string[];
}

const flagsOf = (args: string[] = []) =>
  args.flatMap((a) => {
    const m = /^--([a-z_]+)=(.*)$/.exec(a);
    return m && FLAG_MESSAGE[m[1]] ? [[m[1], m[2]] as [string, string]] : [];
  });

/** Every tensorflow_model_server container of the manifests, its config files read from the ConfigMap it mounts. */
function k8sServers(out: Synthesized): Array<Server & { workload: any; container: any }> {
  return out.objects.flatMap((o) => {
    if (!['Deployment', 'StatefulSet'].includes(o.kind)) return [];
    const pod = podSpec(o);
    return pod.containers
      .filter((c: any) => flagsOf(c.args).some(([f]) => f === 'model_config_file'))
      .map((c: any) => {
        const where = `${o.kind} ${o.metadata.namespace}/${o.metadata.name} container ${c.name}`;
        const files = new Map<string, [string, string]>();
        for (const [flag, file] of flagsOf(c.args)) {
          const mount = (c.volumeMounts ?? []).find((m: any) => file.startsWith(`${m.mountPath}/`));
          const cmName = pod.volumes?.find((v: any) => v.name === mount?.name)?.configMap?.name;
          if (!mount || !cmName) throw new Error(`${where}: --${flag}=${file} is on no ConfigMap volume`);
          const key = file.slice(mount.mountPath.length + 1);
          const cm = out.all('ConfigMap').find((x) => x.metadata.name === cmName && x.metadata.namespace === o.metadata.namespace);
          if (cm?.data?.[key] === undefined) throw new Error(`${where}: --${flag}=${file}: ConfigMap ${cmName} has no key ${key}`);
          files.set(flag, [`ConfigMap ${o.metadata.namespace}/${cmName} ${key}`, cm.data[key]]);
        }
        const modelDirs = (c.volumeMounts ?? []).map((m: any) => m.mountPath);
        return { where, image: c.image, files, modelDirs, workload: o, container: c };
      });
  });
}

/** Every compose service that runs tensorflow_model_server, its config files read from the bind-mounted files. */
function composeServers(out: Synthesized): Array<Server & { stack: string }> {
  return [...out.files].flatMap(([rel, content]) => {
    const m = /^compose\/([^/]+)\.compose\.yml$/.exec(rel);
    if (!m) return [];
    const doc = parseYaml(content);
    return Object.entries<any>(doc.services ?? {})
      .filter(([, s]) => flagsOf(s.command).some(([f]) => f === 'model_config_file'))
      .map(([name, s]) => {
        const where = `${rel} service ${name}`;
        const binds = (s.volumes ?? []).filter((v: any) => v.type === 'bind');
        const files = new Map<string, [string, string]>();
        for (const [flag, file] of flagsOf(s.command)) {
          const bind = binds.find((v: any) => v.target === file);
          const source = bind && path.posix.join('compose', bind.source);
          if (!source || !out.files.has(source)) throw new Error(`${where}: --${flag}=${file} is bound from no file of the output`);
          files.set(flag, [source, out.files.get(source)!]);
        }
        return { where, stack: m[1], image: s.image, files, modelDirs: binds.map((v: any) => v.target) };
      });
  });
}

/** The destinations of COPY/ADD in the Dockerfile that builds `image` (docker-bake.json names it). */
function copiedInto(out: Synthesized, image: string): string[] {
  const bakeFile = out.files.get('images/docker-bake.json');
  if (bakeFile === undefined) return [];
  const bake = JSON.parse(bakeFile);
  const target = Object.entries<any>(bake.target).find(([, t]) => t.tags.includes(image))?.[0];
  if (!target) return [];
  return [...out.dockerfile(target).matchAll(/^(?:COPY|ADD)\s.*\s(\/\S*)\s*$/gm)].map((m) => m[1]);
}

/** A local base_path must be a mounted directory (or under one) or copied into the server's image. */
function localModelProblems(out: Synthesized, server: Server, basePath: string): string[] {
  const mounted = server.modelDirs.some((d) => basePath === d || basePath.startsWith(`${d}/`));
  const baked = copiedInto(out, server.image).some((d) => d === `${basePath}/` || d.startsWith(`${basePath}/`));
  return mounted || baked ? [] : [`${server.where}: base_path ${basePath} is neither mounted nor copied into ${server.image}`];
}

/** The models a TfServingBackend was given, by the models.config it wrote. */
function declaredModels(out: Synthesized, modelsConfig: string): Array<{ name: string; uri?: string }> {
  const backend = out.app.node
    .findAll()
    .find((c): c is TfServingBackend => c instanceof TfServingBackend && c.configFiles['models.config'] === modelsConfig);
  if (!backend) throw new Error('no TfServingBackend wrote this models.config');
  return backend._models.map((m) => ({ name: m.name, uri: m.source.uri }));
}

describe('reference apps: every TF Serving config file parses with TF Serving protos', () => {
  const out = synth((app) => buildReferenceApps(app));
  const k8s = k8sServers(out);
  const compose = composeServers(out);

  test('every *.config file of the output is read by a tensorflow_model_server flag', () => {
    const written = [
      ...out.all('ConfigMap').flatMap((cm) =>
        Object.keys(cm.data ?? {})
          .filter((k) => k.endsWith('.config'))
          .map((k) => `ConfigMap ${cm.metadata.namespace}/${cm.metadata.name} ${k}`),
      ),
      ...[...out.files.keys()].filter((f) => f.startsWith('compose/') && f.endsWith('.config')),
    ].sort();
    const read = [...new Set([...k8s, ...compose].flatMap((s) => [...s.files.values()].map(([where]) => where)))].sort();
    expect(read).toEqual(written);
    // The three stacks that serve with TF Serving, each in both outputs; the canary stack runs two tracks.
    expect(k8s.map((s) => s.workload.metadata.namespace).sort()).toEqual(['and-gate', 'canary', 'canary', 'image-classifier']);
    expect(compose.map((s) => s.stack).sort()).toEqual(['and-gate', 'canary', 'image-classifier']);
    expect(written.length).toBe(14);
  });

  test('models.config (ModelServerConfig): names and base_path match each server model source, platform tensorflow', () => {
    const problems: string[] = [];
    for (const s of k8s) {
      const [where, text] = s.files.get('model_config_file')!;
      const configs = mustParse('ModelServerConfig', text, where).model_config_list.config;
      const declared = declaredModels(out, text);
      expect(configs.map((c: any) => c.name)).toEqual(declared.map((m) => m.name));
      for (const [i, c] of configs.entries()) {
        expect(c.model_platform).toBe('tensorflow');
        const uri = declared[i].uri;
        if (uri?.startsWith('gs://')) expect(c.base_path).toBe(uri.replace(/\/+$/, ''));
        else problems.push(...localModelProblems(out, s, c.base_path));
      }
      // The readiness probe asks TF Serving for the first model by its configured name.
      expect(s.container.readinessProbe.httpGet.path).toBe(`/v1/models/${configs[0].name}`);
    }
    for (const s of compose) {
      const [where, text] = s.files.get('model_config_file')!;
      for (const c of mustParse('ModelServerConfig', text, where).model_config_list.config) {
        expect(c.model_platform).toBe('tensorflow');
        expect(c.base_path).toBe(`/models/${c.name}`); // locally every model is a directory, never gs://
        problems.push(...localModelProblems(out, s, c.base_path));
      }
    }
    expect(problems).toEqual([]);
  });

  test('batching.config (BatchingParameters): the numbers image-classifier gives, in k8s and compose alike', () => {
    const withBatching = [...k8s, ...compose].filter((s) => s.files.has('batching_parameters_file'));
    expect(withBatching.map((s) => s.where)).toEqual([
      'Deployment image-classifier/model-server container tensorflow-serving',
      'compose/image-classifier.compose.yml service model-server',
    ]);
    for (const s of withBatching) {
      const [where, text] = s.files.get('batching_parameters_file')!;
      // apps/image-classifier: { maxBatchSize: 32, batchTimeoutMicros: 2000, allowedBatchSizes: [8, 16, 32] }, the rest defaults.
      // proto3 JSON writes int64 (and Int64Value) as decimal strings.
      expect(mustParse('BatchingParameters', text, where)).toEqual({
        max_batch_size: '32',
        batch_timeout_micros: '2000',
        max_enqueued_batches: '100',
        num_batch_threads: '4',
        allowed_batch_sizes: ['8', '16', '32'],
      });
    }
  });

  test('monitoring.config (MonitoringConfig): Prometheus enabled on the path and port the scrape annotations name', () => {
    for (const s of k8s) {
      const [where, text] = s.files.get('monitoring_config_file')!;
      const prometheus = mustParse('MonitoringConfig', text, where).prometheus_config;
      const annotations = s.workload.spec.template.metadata.annotations;
      expect(prometheus.enable).toBe(true);
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(prometheus.path).toBe(annotations['prometheus.io/path']);
      // TF Serving serves /monitoring/... on its REST port.
      const rest = s.container.ports.find((p: any) => p.name === 'http');
      expect(annotations['prometheus.io/port']).toBe(String(rest.containerPort));
    }
    for (const s of compose) {
      const [where, text] = s.files.get('monitoring_config_file')!;
      const stackServer = k8s.find((k) => k.workload.metadata.namespace === s.stack)!;
      const prometheus = mustParse('MonitoringConfig', text, where).prometheus_config;
      expect(prometheus).toEqual({ enable: true, path: stackServer.workload.spec.template.metadata.annotations['prometheus.io/path'] });
    }
  });
});

describe('constructs: every option TF Serving reads parses with its protos', () => {
  test('several models with version policies and labels, and every batching option given', () => {
    const out = synthStack(
      (stack) =>
        new TfServingBackend(stack, 'server', {
          models: [
            {
              name: 'and-gate',
              source: ModelSource.fromUri('gs://models/and-gate/'),
              versionPolicy: VersionPolicy.specific([1, 2]),
              versionLabels: { stable: 1, canary: 2 },
            },
            { name: 'or-gate', source: ModelSource.fromVolume('models', { subPath: 'or-gate' }), versionPolicy: VersionPolicy.latest(2) },
            { name: 'xor', source: ModelSource.fromUri('https://models.example.com/xor.tar.gz'), versionPolicy: VersionPolicy.all() },
          ],
          batching: {
            maxBatchSize: 64,
            batchTimeoutMicros: 5000,
            maxEnqueuedBatches: 20,
            numBatchThreads: 3,
            allowedBatchSizes: [16, 32, 64],
            padVariableLengthInputs: true,
          },
        }),
    );
    const [server] = k8sServers(out);
    const models = mustParse('ModelServerConfig', server.files.get('model_config_file')![1], 'models.config');
    expect(models.model_config_list.config).toEqual([
      {
        name: 'and-gate',
        base_path: 'gs://models/and-gate',
        model_platform: 'tensorflow',
        model_version_policy: { specific: { versions: ['1', '2'] } },
        version_labels: { canary: '2', stable: '1' },
      },
      { name: 'or-gate', base_path: '/models/or-gate', model_platform: 'tensorflow', model_version_policy: { latest: { num_versions: 2 } } },
      { name: 'xor', base_path: '/models/xor', model_platform: 'tensorflow', model_version_policy: { all: {} } },
    ]);
    expect(localModelProblems(out, server, '/models/or-gate')).toEqual([]);
    expect(localModelProblems(out, server, '/models/xor')).toEqual([]);
    expect(localModelProblems(out, server, '/srv/or-gate')).toEqual([
      `${server.where}: base_path /srv/or-gate is neither mounted nor copied into ${server.image}`,
    ]);
    expect(mustParse('BatchingParameters', server.files.get('batching_parameters_file')![1], 'batching.config')).toEqual({
      max_batch_size: '64',
      batch_timeout_micros: '5000',
      max_enqueued_batches: '20',
      num_batch_threads: '3',
      allowed_batch_sizes: ['16', '32', '64'],
      pad_variable_length_inputs: true,
    });
  });
});

describe('the proto parser is strict: what TF Serving would refuse at start-up fails here', () => {
  test.each([
    [
      'ModelServerConfig',
      'model_config_list {\n  config {\n    name: "a"\n    base_pth: "/models/a"\n  }\n}\n',
      '4:5 : Message type "tensorflow.serving.ModelConfig" has no field named "base_pth".',
    ],
    ['BatchingParameters', 'max_batch_size: 32\n', `1:17 : 'max_batch_size: 32': Expected "{".`],
    [
      'BatchingParameters',
      'max_batch_sise { value: 32 }\n',
      '1:1 : Message type "tensorflow.serving.BatchingParameters" has no field named "max_batch_sise".',
    ],
    [
      'MonitoringConfig',
      'prometheus_config {\n  enabled: true\n}\n',
      '2:3 : Message type "tensorflow.serving.PrometheusConfig" has no field named "enabled".',
    ],
  ])('%s rejects %j', (message, text, error) => {
    const r = parseWithTfServing(message, text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(1);
      expect(r.error).toContain(`tensorflow.serving.${message}: ${error}`);
    }
  });

  test('an unknown message type is a usage error, not a parse', () => {
    const r = parseWithTfServing('ModelConfig', 'name: "a"\n');
    expect(r).toEqual({ ok: false, status: 2, error: expect.stringContaining('unknown message ModelConfig') });
  });
});
