/**
 * Distributed PyTorch end to end, without a cluster: synthesize a TrainingJob with
 * `Distributed.pytorch({ workers: 3 })`, build its image from the generated Dockerfile on a local
 * base with Debian's python3-torch (1.13, CPU, gloo), and start one podman container per pod of the
 * Indexed Job with exactly that pod's command, args and env. The only thing the test supplies is
 * what Kubernetes would: the completion index behind the downward-API annotation
 * `batch.kubernetes.io/job-completion-index`, the pod hostname `<job>-<i>`, and the headless
 * Service's DNS names `<job>-<i>.<job>.<ns>.svc` (`--add-host`, on a podman network with a fixed IP
 * per container, so MASTER_ADDR/MASTER_PORT stay as generated). Proven for `torchrun train.py`
 * and for `python train.py` (init_method='env://'): one group of N, an all-reduce equal on every
 * rank, the same trained weights everywhere, and only rank 0 writing the model to the shared
 * directory mounted where the manifest mounts the claim. Needs root; fails (does not skip) when
 * it cannot build or run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Distributed, MlApp, MlStack, ModelOutput, PythonImage, TrainingJob } from '../../lib';
import { COMPLETION_INDEX_ANNOTATION } from '../../lib/training/distributed';
import { parseYamlStream } from '../_util/yaml';
import { podSpec } from '../_util/synth';
import {
  ContainerHandle,
  PodmanNetwork,
  buildImage,
  chownForContainer,
  cleanup,
  createNetwork,
  ensureTools,
  ensureTorchBaseImage,
  removeImage,
  runOnNetwork,
  timed,
  waitForExit,
} from './_harness';

jest.setTimeout(30 * 60_000);

const WORKERS = 3;
const NAMESPACE = 'ml';
const FIXTURE = path.join(__dirname, 'fixtures', 'distributed');
const tag = `localhost/cdk8s-ml-e2e/distributed:${process.pid}`;
const timings: Record<string, number> = {};
let workDir: string;
let network: PodmanNetwork | undefined;

afterAll(async () => {
  await cleanup();
  network?.remove();
  await removeImage(tag).catch(() => undefined);
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log(`distributed e2e timings (ms): ${JSON.stringify(timings)}`);
});

interface Synthesized {
  readonly job: any;
  readonly service: any;
  readonly outdir: string;
}

function synthesize(command: string[]): Synthesized {
  const outdir = fs.mkdtempSync(path.join(workDir, 'dist-'));
  const app = new MlApp({ outdir });
  const stack = new MlStack(app, 'dist', { namespace: NAMESPACE });
  new TrainingJob(stack, 'train', {
    image: PythonImage.fromDirectory(FIXTURE, { repository: 'registry.example.com/dist-train', tag: '1.0.0' }),
    command,
    distributed: Distributed.pytorch({ workers: WORKERS }),
    modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
  });
  app.synth();
  const objects = parseYamlStream(fs.readFileSync(path.join(outdir, 'manifests', 'dist.k8s.yaml'), 'utf8'));
  const find = (kind: string) => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === 'train');
    if (!o) throw new Error(`no ${kind}/train in the manifests`);
    return o;
  };
  return { job: find('Job'), service: find('Service'), outdir };
}

/** The env of pod `index` as the kubelet builds it: literals, and the completion index for the annotation's fieldRef. */
function podEnv(container: any, index: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      if (/\$\(/.test(e.value)) throw new Error(`env ${e.name} uses $(VAR) expansion, which this test does not do`);
      env[e.name] = e.value;
    } else if (e.valueFrom?.fieldRef?.fieldPath === `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']`) {
      env[e.name] = String(index);
    } else {
      throw new Error(`env ${e.name}: only literals and the completion index are supported here, got ${JSON.stringify(e)}`);
    }
  }
  return env;
}

/** Runs every pod of the Indexed Job as a container; resolves each one's exit code and logs. */
async function runWorkers(
  label: string,
  s: Synthesized,
  modelDir: string,
  harnessEnv: Record<string, string> = {},
): Promise<{ code: number; logs: string }[]> {
  const pod = podSpec(s.job);
  expect(s.job.spec).toMatchObject({ completionMode: 'Indexed', completions: WORKERS, parallelism: WORKERS });
  expect(pod.subdomain).toBe(s.service.metadata.name);
  const c = pod.containers[0];
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const mounts = Object.fromEntries((c.volumeMounts ?? []).map((m: any) => [m.name, m.mountPath]));
  expect(mounts.tmp).toBe('/tmp');
  expect(Object.keys(mounts).sort()).toEqual(['model', 'tmp']);
  const user = `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`;
  // DNS of the headless Service: <job>-<i>.<service>.<namespace>.svc -> the container of pod i.
  const net = network!;
  const ipOf = (i: number) => net.ip(10 + i);
  const hosts = Object.fromEntries(
    Array.from({ length: WORKERS }, (_, i) => [`${s.job.metadata.name}-${i}.${s.service.metadata.name}.${NAMESPACE}.svc`, ipOf(i)]),
  );
  // All pods at once, as the Job controller starts them (parallelism = completions).
  const t0 = Date.now();
  const workers: ContainerHandle[] = await Promise.all(
    Array.from({ length: WORKERS }, (_, i) =>
      runOnNetwork(net, ipOf(i), `${s.job.metadata.name}-${i}`, {
        image: tag,
        entrypoint: argv[0],
        command: argv.slice(1),
        env: { ...podEnv(c, i), ...harnessEnv },
        user,
        readOnly: c.securityContext.readOnlyRootFilesystem,
        tmpfs: ['/tmp'],
        mounts: [{ hostPath: modelDir, containerPath: mounts.model }],
        addHosts: hosts,
        extraArgs: ['--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'],
      }),
    ),
  );
  timings[`${label}Start`] = Date.now() - t0;
  const codes = await Promise.all(workers.map((w) => waitForExit(w, 180_000)));
  timings[`${label}StartToExit`] = Date.now() - t0;
  const results = workers.map((w, i) => ({ code: codes[i], logs: w.logs() }));
  for (const w of workers) w.remove();
  return results;
}

function expectOneGroup(results: { code: number; logs: string }[], modelDir: string, modelPath: string): void {
  const all = results.map((r, i) => `--- worker ${i} (exit ${r.code}) ---\n${r.logs}`).join('\n');
  expect({ codes: results.map((r) => r.code), all }).toEqual({ codes: results.map(() => 0), all });
  const expectedSum = (WORKERS * (WORKERS + 1)) / 2;
  const ranks = new Set<number>();
  const weights = new Set<string>();
  for (const r of results) {
    // torchrun prefixes the lines it tees with `[<role><local rank>]:`
    const line = /(?:^|\]:)rank (\d+) world_size (\d+) local_rank (\d+)$/m;
    expect(r.logs).toMatch(line);
    const m = line.exec(r.logs);
    const rank = Number(m![1]);
    ranks.add(rank);
    expect(Number(m![2])).toBe(WORKERS);
    expect(m![3]).toBe('0');
    expect(r.logs).toMatch(new RegExp(`rank ${rank} allreduce ${expectedSum}$`, 'm'));
    const weightsLine = new RegExp(`(?:^|\\]:)rank ${rank} loss ([0-9.]+) weights (.+)$`, 'm');
    expect(r.logs).toMatch(weightsLine);
    const w = weightsLine.exec(r.logs);
    expect(Number(w![1])).toBeLessThan(0.01);
    weights.add(w![2]);
    expect(r.logs.includes('wrote ')).toBe(rank === 0);
  }
  expect([...ranks].sort()).toEqual(Array.from({ length: WORKERS }, (_, i) => i));
  // Gradients were all-reduced: every rank holds the same model, close to y = 3*x0 - 2*x1 + 1.
  expect(weights.size).toBe(1);
  const [w0, w1, b] = [...weights][0].split(' ').map(Number);
  expect([Math.round(w0), Math.round(w1), Math.round(b)]).toEqual([3, -2, 1]);
  expect(fs.readdirSync(modelDir)).toEqual(['model.pt']);
  expect(path.join(modelDir, 'model.pt')).toBe(modelPath);
}

function freshModelDir(name: string, user: { runAsUser: number; runAsGroup: number }): string {
  const dir = path.join(workDir, name);
  fs.mkdirSync(dir);
  // In the cluster fsGroup makes the claim writable; here the host directory is chowned.
  chownForContainer(dir, user.runAsUser, user.runAsGroup);
  return dir;
}

test(`torchrun train.py and python train.py (env://) form one group of ${WORKERS} from the generated Job's env`, async () => {
  timings.tools = (await timed(() => ensureTools())).ms;
  timings.torchBase = (await timed(() => ensureTorchBaseImage())).ms;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-e2e-dist-'));
  network = createNetwork();

  // GIVEN the synthesized Job of each entry point, and the image built from the generated Dockerfile
  const torchrun = synthesize(['torchrun', 'train.py']);
  const plain = synthesize(['python', 'train.py']);
  const bake = JSON.parse(fs.readFileSync(path.join(torchrun.outdir, 'images', 'docker-bake.json'), 'utf8'));
  const [targetName, target] = Object.entries<any>(bake.target)[0];
  timings.build = await buildImage({
    contextDir: path.resolve(torchrun.outdir, 'images', target.context),
    dockerfile: path.resolve(torchrun.outdir, 'images', target.context, target.dockerfile),
    tag,
    buildArgs: { PYTHON_IMAGE: ensureTorchBaseImage() },
  }).catch((e: Error) => {
    throw new Error(`building bake target ${targetName}: ${e.message}`);
  });

  // WHEN the pods of the torchrun Job run; Debian's torch 1.13 torchrun crashes parsing its
  // default --redirects/--tee "0" under Python 3.11 (enum iteration), so the harness, and only the
  // harness, gives it the single-stream value 1. The library emits no such flag for users' torch.
  const sec = podSpec(torchrun.job).securityContext;
  const torchrunModels = freshModelDir('models-torchrun', sec);
  let t0 = Date.now();
  const viaTorchrun = await runWorkers('torchrun', torchrun, torchrunModels, { PET_REDIRECTS: '1', PET_TEE: '1' });
  timings.torchrunGroup = Date.now() - t0;

  // THEN they form one group: world size N on every rank, one all-reduce result, one model file
  expectOneGroup(viaTorchrun, torchrunModels, path.join(torchrunModels, 'model.pt'));

  // AND the same for a plain `python train.py` reading MASTER_ADDR/MASTER_PORT/RANK/WORLD_SIZE
  const plainModels = freshModelDir('models-env', podSpec(plain.job).securityContext);
  t0 = Date.now();
  const viaEnv = await runWorkers('env', plain, plainModels);
  timings.envGroup = Date.now() - t0;
  expectOneGroup(viaEnv, plainModels, path.join(plainModels, 'model.pt'));
});
