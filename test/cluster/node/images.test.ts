/**
 * The test node's images (_images.ts): the network probe, the and-gate stack's two and the canary
 * stack's stable scorer are built (or taken from the cache) and exported as docker-archive files; each archive
 * holds exactly one image, tagged with the fully qualified name CRI looks up. The archives are then loaded into
 * podman (vfs) and run as a pod runs them: the TF Serving stand-in under the and-gate model refuses to start
 * without a model config and serves the model as uid 1000 on a read-only root; netprobe is
 * non-root; the scorer states its version. The and-gate web image is built as users build it: its base is a
 * python:3.x-slim stand-in without any app package, and its `pip install -r requirements.txt` downloads flask,
 * gunicorn and requests from PyPI (the build log says so; the image holds them under /usr/local, where pip puts
 * them). Needs root, buildah and podman (scripts/e2e/install-tools.sh) and PyPI.
 * Cold about 3.5 minutes (builds: about 2 min), warm about 2 minutes (podman load and runs on vfs).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanup, ensureTools, exec, freePort, httpRequest, removeImage, runContainer, runToCompletion, waitForHttp } from '../../e2e/_harness';
import {
  NODE_SYSTEM_IMAGES,
  NodeImage,
  PYTHON_PYPI_BASE_IMAGE,
  STANDIN_DIR,
  archiveRepoTags,
  buildNodeImages,
  fullyQualified,
  imagesOf,
} from './_images';
import { referenceOutput } from './_stack';

jest.setTimeout(30 * 60_000);

const AND_GATE = ['registry.example.com/and-gate-model:1.0.0', 'registry.example.com/and-gate-web:1.0.0'];
const SCORER = 'registry.example.com/scorer:1.4.0';
const NAMES = [NODE_SYSTEM_IMAGES.netprobe, ...AND_GATE, SCORER];
const STORAGE = ['--storage-driver', 'vfs'];
const timings: Record<string, number> = {};
const loaded = new Set<string>();
let images: NodeImage[];
let workDir: string;
/** The reference apps synthesized into a temp dir by this test (CI runs no `npm run synth` before jest). */
let distDir: string;

const byName = (name: string): NodeImage => {
  const image = images.find((i) => i.name === name);
  if (!image) throw new Error(`${name} was not built`);
  return image;
};

/** `podman load` of an archive: the image then is in the vfs storage under the archive's RepoTag. */
async function load(name: string): Promise<string> {
  const image = byName(name);
  const res = await exec('podman', [...STORAGE, 'load', '-i', image.archive], { timeoutMs: 5 * 60_000 });
  if (res.exitCode !== 0) throw new Error(`podman load -i ${image.archive} failed: ${res.output}`);
  loaded.add(image.reference);
  return image.reference;
}

beforeAll(async () => {
  let t0 = Date.now();
  ensureTools();
  timings.tools = Date.now() - t0;
  distDir = referenceOutput();
  t0 = Date.now();
  images = await buildNodeImages(distDir, NAMES);
  timings.build = Date.now() - t0;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-node-images-'));
});

afterAll(async () => {
  await cleanup();
  for (const ref of loaded) await removeImage(ref);
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  console.log(`node images timings (ms): ${JSON.stringify(timings)}; built: ${JSON.stringify(images?.map((i) => [i.name, i.buildMs, i.cached]))}`);
});

describe('imagesOf', () => {
  test("lists every container and initContainer image of the reference stacks' manifests", () => {
    const dir = path.join(distDir, 'manifests');
    const all = new Set(fs.readdirSync(dir).flatMap((f) => imagesOf(fs.readFileSync(path.join(dir, f), 'utf8'))));
    expect([...all].sort()).toEqual([
      'rclone/rclone:1.68.2',
      'registry.example.com/and-gate-model:1.0.0',
      'registry.example.com/and-gate-web:1.0.0',
      'registry.example.com/canary-web:1.0.0',
      'registry.example.com/eeg-letters:1.0.0',
      'registry.example.com/image-classifier:1.0.0',
      'registry.example.com/llm-chat:1.0.0',
      'registry.example.com/ml-model:1.0.0',
      'registry.example.com/scorer:1.4.0',
      'registry.example.com/scorer:1.5.0',
      'tensorflow/serving:2.19.0',
      'tensorflow/serving:2.20.0',
      'tensorflow/serving:2.20.0-gpu',
      'vllm/vllm-openai:v0.31.0',
    ]);
    expect(imagesOf(fs.readFileSync(path.join(dir, 'and-gate.k8s.yaml'), 'utf8'))).toEqual(AND_GATE);
  });

  test('finds CronJob, init and ephemeral containers, once each, and nothing in other fields', () => {
    const stream = [
      'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: "* * * * *"\n  jobTemplate:\n    spec:\n      template:',
      '        spec:\n          initContainers: [{name: w, image: "busybox:1"}]\n          containers: [{name: m, image: "a/b:2"}]',
      '---\nkind: Pod\nmetadata: {annotations: {image: "not/this:1"}}\nspec:\n  containers: [{name: m, image: "a/b:2"}]',
      '  ephemeralContainers: [{name: d, image: "debug:3"}]\n---\n',
    ].join('\n');
    expect(imagesOf(stream)).toEqual(['a/b:2', 'busybox:1', 'debug:3']);
  });
});

describe('recipes', () => {
  test('names are qualified as CRI normalizes them', () => {
    expect(fullyQualified('tensorflow/serving:2.20.0')).toBe('docker.io/tensorflow/serving:2.20.0');
    expect(fullyQualified('busybox:1')).toBe('docker.io/library/busybox:1');
    expect(fullyQualified('registry.k8s.io/pause:3.10')).toBe('registry.k8s.io/pause:3.10');
    expect(fullyQualified('localhost/cdk8s-ml/netprobe:1')).toBe('localhost/cdk8s-ml/netprobe:1');
    expect(fullyQualified('127.0.0.1:5000/x:1')).toBe('127.0.0.1:5000/x:1');
  });

  test('an unbuildable image is left out; an image without a recipe is refused with the reason', async () => {
    await expect(buildNodeImages(distDir, ['vllm/vllm-openai:v0.31.0'])).resolves.toEqual([]);
    await expect(buildNodeImages(distDir, ['registry.example.com/nope:1'])).rejects.toThrow(/no recipe for image registry.example.com\/nope:1/);
  });
});

describe('archives', () => {
  test('each archive holds one image tagged with the fully qualified name', () => {
    expect(images.map((i) => i.name)).toEqual(NAMES);
    for (const image of images) {
      expect({ name: image.name, tags: archiveRepoTags(image.archive) }).toEqual({ name: image.name, tags: [[fullyQualified(image.name)]] });
      expect(image.reference).toBe(fullyQualified(image.name));
    }
  });

  test('a second call takes every archive from the cache', async () => {
    const t0 = Date.now();
    const again = await buildNodeImages(distDir, NAMES);
    timings.cached = Date.now() - t0;
    expect(again.map((i) => [i.name, i.archive, i.cached])).toEqual(images.map((i) => [i.name, i.archive, true]));
  });
});

describe('the app images install their requirements from PyPI', () => {
  /** `sh -c script` in an image, as root. */
  const shell = (image: string, script: string) =>
    runToCompletion({ image, user: '0:0', entrypoint: 'sh', command: ['-c', script], timeoutMs: 120_000 });

  test('the base stands in for python:3.x-slim: python and pip, no app package, no PEP 668 marker', async () => {
    const res = await shell(
      PYTHON_PYPI_BASE_IMAGE,
      'command -v python; python --version; python -m pip --version; ' +
        `python -c "import os, sysconfig; print('marker', os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"; ` +
        'python -m pip list --format=freeze; python -c "import flask" 2>&1',
    );
    expect(res.output).toMatch(/^\/usr\/local\/bin\/python\nPython 3\.\d+\.\d+\npip \d+/);
    expect(res.output).toMatch(/^marker False$/m);
    const installed = res.output.match(/^[A-Za-z0-9_.-]+==/gm)?.map((p) => p.slice(0, -2).toLowerCase());
    expect(installed?.sort()).toEqual(['pip', 'setuptools', 'wheel']);
    expect(res.output).toMatch(/ModuleNotFoundError: No module named 'flask'/);
  });

  test("and-gate web's build downloaded its requirements from PyPI, on that base", () => {
    const log = fs.readFileSync(byName(AND_GATE[1]).buildLog, 'utf8');
    expect(log).toContain(`FROM ${PYTHON_PYPI_BASE_IMAGE}`);
    expect(log).toMatch(/RUN python -m pip install --no-cache-dir -r requirements\.txt/);
    for (const pkg of ['flask', 'gunicorn', 'requests', 'werkzeug']) expect(log).toMatch(new RegExp(`^\\s*Downloading ${pkg}-[0-9][^ ]*\\.whl`, 'm'));
    expect(log).not.toMatch(/Processing \/|Looking in links|Requirement already satisfied/);
    expect(log).toMatch(/^Successfully installed .*\bflask-\d/m);
  });

  test('the and-gate web image holds what pip installed: under /usr/local, the versions the log names', async () => {
    const ref = await load(AND_GATE[1]);
    const res = await shell(ref, 'python -m pip show flask gunicorn requests; python -c "import flask, gunicorn, requests; print(flask.__file__)"');
    expect(res.exitCode).toBe(0);
    const installed =
      fs
        .readFileSync(byName(AND_GATE[1]).buildLog, 'utf8')
        .match(/^Successfully installed (.*)$/m)?.[1]
        .split(' ') ?? [];
    for (const pkg of ['flask', 'gunicorn', 'requests']) {
      const version = new RegExp(`^Name: ${pkg}\\nVersion: (\\S+)`, 'im').exec(res.output)?.[1];
      expect({ pkg, installed: installed.includes(`${pkg}-${version}`) }).toEqual({ pkg, installed: true });
    }
    expect(res.output.match(/^Location: .*$/gm)).toEqual(
      Array(3).fill(expect.stringMatching(/^Location: \/usr\/local\/lib\/python3\.\d+\/dist-packages$/)),
    );
    expect(res.output).toMatch(/^\/usr\/local\/lib\/python3\.\d+\/dist-packages\/flask\/__init__\.py$/m);
  });
});

describe('the images run as a pod runs them', () => {
  const standIn = path.join(STANDIN_DIR, 'tf-serving-standin.py');
  const python = (args: string[]) => spawnSync('python3', [standIn, ...args], { encoding: 'utf8', timeout: 30_000 });

  test('the TF Serving stand-in refuses to start without a readable model config naming existing base paths', () => {
    const config = path.join(workDir, 'models.config');
    fs.writeFileSync(config, `model_config_list {\n  config {\n    name: "m"\n    base_path: "${workDir}/nowhere"\n  }\n}\n`);
    const cases: [string[], RegExp][] = [
      [[], /no --model_config_file flag/],
      [[`--model_config_file=${workDir}/missing.config`], /cannot read the model config/],
      [[`--model_config_file=${config}`], /model m: base_path .*nowhere does not exist/],
    ];
    for (const [args, reason] of cases) {
      const res = python(args);
      if (res.error) throw new Error(`python3 could not run: ${res.error.message}`);
      expect({ args, status: res.status, stderr: res.stderr }).toEqual({ args, status: 1, stderr: expect.stringMatching(reason) });
    }
  });

  test('the and-gate model image: no config, no start; with the manifest config, it serves the model as uid 1000', async () => {
    const ref = await load(AND_GATE[0]);
    const bare = await runToCompletion({ image: ref, user: '1000:1000', readOnly: true, tmpfs: ['/tmp'], timeoutMs: 120_000 });
    expect({ exitCode: bare.exitCode, output: bare.output }).toEqual({ exitCode: 1, output: expect.stringMatching(/no --model_config_file/) });

    const configDir = path.join(workDir, 'tfserving');
    fs.mkdirSync(configDir);
    const manifest = fs.readFileSync(path.join(distDir, 'manifests', 'and-gate.k8s.yaml'), 'utf8');
    const configMap = /models\.config: \|\n((?: {4}.*\n)+)/.exec(manifest);
    if (!configMap) throw new Error('and-gate.k8s.yaml has no models.config');
    fs.writeFileSync(path.join(configDir, 'models.config'), configMap[1].replace(/^ {4}/gm, ''));
    fs.chmodSync(configDir, 0o755);
    const port = await freePort();
    const server = await runContainer({
      image: ref,
      user: '1000:1000',
      readOnly: true,
      tmpfs: ['/tmp'],
      mounts: [{ hostPath: configDir, containerPath: '/etc/tfserving', readOnly: true }],
      ports: [{ host: port, container: 8501 }],
      command: ['--model_config_file=/etc/tfserving/models.config', '--model_config_file_poll_wait_seconds=60'],
    });
    const status = await waitForHttp(`http://127.0.0.1:${port}/v1/models/and-gate`, { container: server, timeoutMs: 60_000 });
    expect(status.json()).toEqual({ model_version_status: [expect.objectContaining({ state: 'AVAILABLE' })] });
    expect(status.headers['x-standin-version']).toBe('2.20.0');
    const predicted = await httpRequest(`http://127.0.0.1:${port}/v1/models/and-gate:predict`, {
      json: {
        instances: [
          [1, 1],
          [1, 0],
        ],
      },
    });
    expect(predicted.json()).toEqual({ predictions: [[1], [0]] });
    expect((await httpRequest(`http://127.0.0.1:${port}/v1/models/other`)).status).toBe(404);
  });

  test('netprobe runs as a non-root user and probes TCP', async () => {
    const ref = await load(NODE_SYSTEM_IMAGES.netprobe);
    const id = await runToCompletion({ image: ref, entrypoint: 'id', command: ['-u'], timeoutMs: 120_000 });
    expect({ exitCode: id.exitCode, uid: id.stdout.trim() }).toEqual({ exitCode: 0, uid: '65532' });
    const closed = await runToCompletion({ image: ref, command: ['tcp', '127.0.0.1', '9', '2'], timeoutMs: 120_000 });
    expect({ exitCode: closed.exitCode, output: closed.output }).toEqual({
      exitCode: 1,
      output: expect.stringMatching(/tcp 127.0.0.1:9: .*refused/i),
    });
  });

  test('the scorer stand-in answers its probe and predictions with its own version', async () => {
    const ref = await load(SCORER);
    const port = await freePort();
    const scorer = await runContainer({
      image: ref,
      user: '10001:10001',
      readOnly: true,
      tmpfs: ['/tmp'],
      env: { MODEL_NAME: 'scorer', HOME: '/tmp' },
      ports: [{ host: port, container: 8080 }],
    });
    const health = await waitForHttp(`http://127.0.0.1:${port}/healthz`, { container: scorer, timeoutMs: 60_000 });
    expect(health.json()).toMatchObject({ status: 'ok', version: '1.4.0' });
    const predicted = await httpRequest(`http://127.0.0.1:${port}/predict`, { json: { instances: [[1, 2], [3]] } });
    expect(predicted.json()).toMatchObject({ version: '1.4.0', model: 'scorer', predictions: [expect.any(Number), expect.any(Number)] });
  });
});
