/**
 * apps/eeg-letters end to end, without a cluster: synthesize the stack, build its image from the
 * generated Dockerfile with buildah on the local Debian base (scikit-learn, pandas, joblib from
 * Debian), then run what the manifests run, the way they run it: the training Job's container with
 * a host directory where the Job mounts the model claim, then the batch Job's container on the same
 * directory (read-only) with an output directory, then the API Deployment's container answering a
 * prediction. Command, env, uid/gid and mount paths are read from the synthesized manifests.
 * The readers start first, as they do in a cluster (both Jobs and the Deployment are applied
 * together): their pods' model-wait init containers run before the trainer, wait, and end once the
 * trainer has written its modelReadyFile; only then do their main containers run. The init
 * container's image (rclone's busybox) cannot be pulled here, so its script runs in the local Debian
 * base, which has the sh, ls, grep, date and sleep it needs.
 * Needs root (installs buildah/podman and builds the base images on first run); it fails with the
 * reason when it cannot build or run, it does not skip.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eegLetters } from '../../apps/eeg-letters/main';
import { MlApp } from '../../lib';
import { parseYamlStream } from '../_util/yaml';
import { podSpec } from '../_util/synth';
import {
  PYTHON_SKLEARN_BASE_IMAGE,
  buildImage,
  chownForContainer,
  cleanup,
  ensureBaseImages,
  ensureTools,
  freePort,
  httpRequest,
  removeImage,
  runContainer,
  runToCompletion,
  timed,
  waitForExit,
  waitForHttp,
} from './_harness';

jest.setTimeout(30 * 60_000);

const timings: Record<string, number> = {};
const tag = `localhost/cdk8s-ml-e2e/eeg-letters:${process.pid}`;
let workDir: string;

afterAll(async () => {
  await cleanup();
  await removeImage(tag).catch(() => undefined);
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log(`eeg-letters e2e timings (ms): ${JSON.stringify(timings)}`);
});

/** What a pod's main container runs, as the manifest says. */
interface PodRun {
  readonly command: string[];
  readonly env: Record<string, string>;
  readonly user: string;
  readonly mounts: Record<string, { mountPath: string; readOnly: boolean }>;
  readonly container: any;
}

function podRun(obj: any): PodRun {
  const pod = podSpec(obj);
  const c = pod.containers[0];
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value === undefined) throw new Error(`${obj.kind}/${obj.metadata.name}: env ${e.name} is not a literal; this test only passes literal env`);
    env[e.name] = e.value;
  }
  const mounts = Object.fromEntries((c.volumeMounts ?? []).map((m: any) => [m.name, { mountPath: m.mountPath, readOnly: !!m.readOnly }]));
  expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
  expect(mounts.tmp?.mountPath).toBe('/tmp');
  return {
    command: [...(c.command ?? []), ...(c.args ?? [])],
    env,
    user: `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`,
    mounts,
    container: c,
  };
}

/** The pod's model-wait init container as podman options: its command, user, mounts, read-only root. */
function waitRun(obj: any, models: string) {
  const pod = podSpec(obj);
  const c = (pod.initContainers ?? []).find((x: any) => x.name === 'model-wait');
  if (!c) throw new Error(`${obj.kind}/${obj.metadata.name} has no model-wait init container`);
  expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
  const model = c.volumeMounts.find((m: any) => m.name === 'model');
  expect(model.readOnly).toBe(true);
  const env: Record<string, string> = Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));
  return {
    env,
    image: PYTHON_SKLEARN_BASE_IMAGE,
    entrypoint: c.command[0],
    command: c.command.slice(1),
    user: `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`,
    readOnly: true,
    tmpfs: ['/tmp'],
    mounts: [{ hostPath: models, containerPath: model.mountPath, readOnly: true }],
  };
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** podman equivalents of the pod: command replaces the entrypoint, read-only root, /tmp tmpfs. */
function runOptions(run: PodRun, volumes: Record<string, string>) {
  return {
    image: tag,
    entrypoint: run.command[0],
    command: run.command.slice(1),
    env: run.env,
    user: run.user,
    readOnly: true,
    tmpfs: ['/tmp'],
    mounts: Object.entries(volumes).map(([volume, hostPath]) => {
      const m = run.mounts[volume];
      if (!m) throw new Error(`the manifest mounts no volume '${volume}' (mounts: ${Object.keys(run.mounts).join(', ')})`);
      return { hostPath, containerPath: m.mountPath, readOnly: m.readOnly };
    }),
  };
}

test('eeg-letters: train, batch inference and the online API run from the synthesized manifests and Dockerfile', async () => {
  timings.tools = (await timed(() => ensureTools())).ms;
  timings.sklearnBase = (await timed(() => ensureBaseImages('python-sklearn'))).ms;

  // GIVEN the synthesized stack
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-e2e-eeg-'));
  const outdir = path.join(workDir, 'dist');
  const app = new MlApp({ outdir });
  eegLetters(app);
  app.synth();
  const objects = parseYamlStream(fs.readFileSync(path.join(outdir, 'manifests', 'eeg-letters.k8s.yaml'), 'utf8'));
  const find = (kind: string, name: string) => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`no ${kind}/${name} in the manifests`);
    return o;
  };
  const bake = JSON.parse(fs.readFileSync(path.join(outdir, 'images', 'docker-bake.json'), 'utf8'));
  const target = bake.target['eeg-letters'];
  const contextDir = path.resolve(outdir, 'images', target.context);

  // WHEN the image is built from the generated Dockerfile (and its .dockerignore) on the local base
  timings.build = await buildImage({
    contextDir,
    dockerfile: path.join(outdir, 'images', 'eeg-letters', 'Dockerfile'),
    tag,
    buildArgs: { PYTHON_IMAGE: PYTHON_SKLEARN_BASE_IMAGE },
  });

  // THEN the readers, started before the trainer, wait in their model-wait init containers
  const train = podRun(find('Job', 'train'));
  expect(train.env.MODEL_DIR).toBe(train.mounts.model.mountPath);
  const models = path.join(workDir, 'models');
  fs.mkdirSync(models);
  // In the cluster fsGroup makes the claim writable; here the host directory is chowned.
  const [uid, gid] = train.user.split(':').map(Number);
  chownForContainer(models, uid, gid);
  let t0 = Date.now();
  const waiting = [find('Job', 'batch-inference'), find('Deployment', 'api')].map((o) => ({
    who: `${o.kind}/${o.metadata.name}`,
    run: waitRun(o, models),
  }));
  const waits = await Promise.all(waiting.map((w) => runContainer(w.run)));
  for (const [i, w] of waits.entries()) {
    await until(
      `${waiting[i].who}'s model-wait to report that it waits`,
      () => /waiting for model from TrainingJob eeg-letters\/train at train-model \(until metadata\.json exists\)/.test(w.logs()),
      60_000,
    );
    expect(w.isRunning()).toBe(true);
  }
  timings.readersWaiting = Date.now() - t0;

  // AND the training Job's container writes the models where the Job mounts the claim
  t0 = Date.now();
  const trained = await runToCompletion(runOptions(train, { model: models }));
  timings.train = Date.now() - t0;
  if (trained.exitCode !== 0) throw new Error(`training container failed (exit ${trained.exitCode}):\n${trained.output}`);
  expect(fs.readdirSync(models).sort()).toEqual(['clf_lda.joblib', 'clf_nn.joblib', 'metadata.json']);
  const meta = JSON.parse(fs.readFileSync(path.join(models, 'metadata.json'), 'utf8'));
  expect(meta.features).toEqual(['fp1', 'fp2', 'c3', 'c4', 'p3', 'p4', 'o1', 'o2']);
  expect(meta.classes).toEqual(['A', 'B', 'C', 'D', 'E']);
  expect(meta.models.lda.cv_accuracy).toBeGreaterThan(0.6);
  expect(meta.models.nn.cv_accuracy).toBeGreaterThan(0.6);
  expect(trained.output).toMatch(/lda: cross-validation accuracy/);

  // AND the readers' waits end on their own (they poll every 5 s), each saying what it found
  t0 = Date.now();
  for (const [i, w] of waits.entries()) {
    const code = await waitForExit(w, 60_000);
    if (code !== 0) throw new Error(`${waiting[i].who}'s model-wait exited ${code}:\n${w.logs()}`);
    expect(w.logs()).toContain('model from TrainingJob eeg-letters/train found at train-model');
    w.remove();
  }
  timings.waitsEndedAfterTraining = Date.now() - t0;

  // AND the batch Job's container reads them (read-only) and writes predictions to its output claim
  const batch = podRun(find('Job', 'batch-inference'));
  expect(batch.mounts.model.readOnly).toBe(true);
  const output = path.join(workDir, 'output');
  fs.mkdirSync(output);
  chownForContainer(output, ...(batch.user.split(':').map(Number) as [number, number]));
  t0 = Date.now();
  const scored = await runToCompletion(runOptions(batch, { model: models, output }));
  timings.batchInference = Date.now() - t0;
  if (scored.exitCode !== 0) throw new Error(`batch inference container failed (exit ${scored.exitCode}):\n${scored.output}`);
  const predictions = fs.readFileSync(path.join(output, 'predictions.csv'), 'utf8').trim().split('\n');
  expect(predictions[0]).toBe('letter,lda,nn');
  expect(predictions).toHaveLength(301);
  const scores = JSON.parse(fs.readFileSync(path.join(output, 'scores.json'), 'utf8'));
  expect(scores).toMatchObject({ rows: 300, model_trained_at: meta.trained_at });
  expect(scores.lda_accuracy).toBeGreaterThan(0.6);
  expect(scored.output).toContain('"lda_accuracy"');

  // AND the API Deployment's container serves predictions from the same (read-only) model directory
  const api = podRun(find('Deployment', 'api'));
  expect(api.mounts.model.readOnly).toBe(true);
  const containerPort = api.container.ports[0].containerPort;
  const hostPort = await freePort();
  t0 = Date.now();
  const server = await runContainer({ ...runOptions(api, { model: models }), ports: [{ host: hostPort, container: containerPort }] });
  const base = `http://127.0.0.1:${hostPort}`;
  await waitForHttp(`${base}${api.container.readinessProbe.httpGet.path}`, { timeoutMs: 120_000, container: server });
  timings.apiUntilReady = Date.now() - t0;
  expect((await httpRequest(`${base}${api.container.livenessProbe.httpGet.path}`)).status).toBe(200);
  const row = fs
    .readFileSync(path.join(contextDir, 'data', 'eeg-letters.csv'), 'utf8')
    .split('\n')[1]
    .split(',');
  const answer = await httpRequest(`${base}/predict`, { json: { instances: [row.slice(0, 8).map(Number)] } });
  expect(answer.status).toBe(200);
  const body = answer.json<any>();
  expect(body.predictions.lda).toHaveLength(1);
  expect(body.predictions.nn).toHaveLength(1);
  expect(['A', 'B', 'C', 'D', 'E']).toContain(body.predictions.lda[0]);
  expect(body.model.trained_at).toBe(meta.trained_at);
  expect((await httpRequest(`${base}/predict`, { json: { instances: [[1, 2]] } })).status).toBe(400);
  server.remove();
});
