/**
 * The distributed PyTorch test's own image and log reading. The image is built from the GENERATED Dockerfile
 * (the one target of docker-bake.json) on the local torch base (Debian's python3-torch 1.13, CPU, gloo), which
 * satisfies the fixture's unpinned `torch` requirement without an index; none of _images.ts's python bases has
 * torch, so the build lives here. The docker-archive is cached under NODE_IMAGES_DIR, keyed by the Dockerfile,
 * its ignore file, the context's files, the build args and the base's image ID.
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImageDetailed, ensureTorchBaseImage, exec, removeImage } from '../../e2e/_harness';
import { TestNode } from '../../_util/kube';
import { podLogs } from './_stack';
import { archiveRepoTags, fullyQualified, NODE_IMAGES_DIR } from './_images';

const STORAGE = ['--storage-driver', 'vfs'];

export interface TrainImage {
  /** the tag the manifest uses, fully qualified (the archive's one RepoTag) */
  readonly reference: string;
  readonly archive: string;
  /** build and export time; 0 when the archive was cached */
  readonly buildMs: number;
}

interface BakeTarget {
  readonly context: string;
  readonly dockerfile: string;
  readonly tags: readonly string[];
  readonly args?: Record<string, string>;
}

/** sha256 over every file under dir: relative path, mode and content, in sorted order. */
function hashTree(dir: string, h: crypto.Hash, rel = ''): void {
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) hashTree(dir, h, p);
    else if (e.isFile()) h.update(`file ${p} ${fs.statSync(path.join(dir, p)).mode & 0o777}\n`).update(fs.readFileSync(path.join(dir, p)));
  }
}

function baseImageId(image: string): string {
  const res = spawnSync('buildah', [...STORAGE, 'inspect', '--type', 'image', '--format', '{{.FromImageID}}', image], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`buildah inspect ${image} failed: ${res.stderr}`);
  return res.stdout.trim();
}

/**
 * Builds (or takes from the cache) the one image of a synthesized output whose only bake target is a python
 * training image, with PYTHON_IMAGE set to the local torch base, and exports it as a docker-archive under the
 * fully qualified name the node's CRI looks up.
 */
export async function buildTrainImage(distDir: string): Promise<TrainImage> {
  const bakeFile = path.join(distDir, 'images', 'docker-bake.json');
  const targets = Object.entries(JSON.parse(fs.readFileSync(bakeFile, 'utf8')).target as Record<string, BakeTarget>);
  if (targets.length !== 1) throw new Error(`${bakeFile}: expected one target, found ${targets.map(([n]) => n).join(', ')}`);
  const [name, target] = targets[0];
  if (Object.keys(target.args ?? {}).join() !== 'PYTHON_IMAGE') throw new Error(`bake target ${name}: args ${JSON.stringify(target.args)}`);
  const contextDir = path.resolve(path.dirname(bakeFile), target.context);
  const dockerfile = path.resolve(contextDir, target.dockerfile);
  const reference = fullyQualified(target.tags[0]);
  const base = ensureTorchBaseImage();

  const h = crypto.createHash('sha256').update(`ref ${reference}\nbase ${base} ${baseImageId(base)}\n`);
  h.update(fs.readFileSync(dockerfile)).update(fs.readFileSync(`${dockerfile}.dockerignore`));
  hashTree(contextDir, h);
  const prefix = `${reference.replace(/[^A-Za-z0-9.-]+/g, '_')}-`;
  const archive = path.join(NODE_IMAGES_DIR, `${prefix}${h.digest('hex').slice(0, 16)}.tar`);
  if (fs.existsSync(archive)) return { reference, archive, buildMs: 0 };

  const t0 = Date.now();
  fs.mkdirSync(NODE_IMAGES_DIR, { recursive: true });
  const tmp = `${archive}.tmp-${process.pid}`;
  try {
    await buildImageDetailed({ contextDir, dockerfile, tag: reference, buildArgs: { PYTHON_IMAGE: base }, timeoutMs: 30 * 60_000 });
    const res = await exec('buildah', [...STORAGE, 'push', reference, `docker-archive:${tmp}:${reference}`], { timeoutMs: 15 * 60_000 });
    if (res.exitCode !== 0) throw new Error(`buildah push ${reference} docker-archive: failed (exit ${res.exitCode}):\n${res.output.slice(-4000)}`);
    const tags = archiveRepoTags(tmp);
    if (JSON.stringify(tags) !== JSON.stringify([[reference]]))
      throw new Error(`${tmp}: RepoTags ${JSON.stringify(tags)}, expected [["${reference}"]]`);
    fs.renameSync(tmp, archive);
  } catch (e) {
    throw new Error(`cannot build bake target ${name} (${dockerfile}): ${(e as Error).message}`);
  } finally {
    fs.rmSync(tmp, { force: true });
    await removeImage(reference);
  }
  for (const f of fs.readdirSync(NODE_IMAGES_DIR)) {
    if (f.startsWith(prefix) && f.endsWith('.tar') && path.join(NODE_IMAGES_DIR, f) !== archive) fs.rmSync(path.join(NODE_IMAGES_DIR, f));
  }
  return { reference, archive, buildMs: Date.now() - t0 };
}

/** What one worker pod of the Indexed Job reported. */
export interface WorkerReport {
  readonly pod: string;
  /** the completion index the Job controller gave the pod */
  readonly index: number;
  readonly hostname: string;
  readonly phase: string;
  readonly logs: string;
  /** where the logs came from */
  readonly logsVia: string;
  readonly rank?: number;
  readonly worldSize?: number;
  readonly localRank?: string;
  readonly allreduce?: number;
  readonly loss?: number;
  readonly weights?: string;
  readonly wrote: boolean;
}

// torchrun (PET_TEE) prefixes the lines it tees with `[<role><local rank>]:`
const LINE = (body: string) => new RegExp(`(?:^|\\]:)${body}$`, 'm');

function parseReport(logs: string): Omit<WorkerReport, 'pod' | 'index' | 'hostname' | 'phase' | 'logsVia'> {
  const group = LINE('rank (\\d+) world_size (\\d+) local_rank (\\S+)').exec(logs);
  const rank = group ? Number(group[1]) : undefined;
  const sum = rank === undefined ? null : LINE(`rank ${rank} allreduce ([0-9.]+)`).exec(logs);
  const fit = rank === undefined ? null : LINE(`rank ${rank} loss ([0-9.]+) weights (.+)`).exec(logs);
  return {
    logs,
    rank,
    worldSize: group ? Number(group[2]) : undefined,
    localRank: group?.[3],
    allreduce: sum ? Number(sum[1]) : undefined,
    loss: fit ? Number(fit[1]) : undefined,
    weights: fit?.[2],
    wrote: /(?:^|\]:)rank 0 wrote /m.test(logs),
  };
}

/** The kubelet's default podLogsDir (the node's kubelet.yaml sets none). */
const POD_LOGS_DIR = '/var/log/pods';

/**
 * A pod's container logs as the kubelet stores them (CRI format: `<time> <stream> <P|F> <text>`, P a partial
 * line): what `kubectl logs` would serve, read on this host, for when the API server cannot reach the kubelet.
 */
function kubeletLogFiles(pod: any): string {
  const dir = path.join(POD_LOGS_DIR, `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
  let out = '';
  for (const c of pod.spec.containers) {
    const cdir = path.join(dir, c.name);
    const files = fs.existsSync(cdir) ? fs.readdirSync(cdir).filter((f) => /^\d+\.log$/.test(f)) : [];
    if (files.length === 0) throw new Error(`no logs of ${pod.metadata.name}/${c.name} under ${cdir}`);
    for (const f of files.sort((a, b) => parseInt(a, 10) - parseInt(b, 10))) {
      for (const line of fs.readFileSync(path.join(cdir, f), 'utf8').split('\n')) {
        const m = /^\S+ (?:stdout|stderr) ([PF]) (.*)$/.exec(line);
        if (m) out += m[1] === 'F' ? `${m[2]}\n` : m[2];
      }
    }
  }
  return out;
}

/**
 * The logs of a pod through the API server (podLogs). When the API server cannot reach the kubelet (the node's
 * name does not resolve on this host: see the report of issue 20), the kubelet's own files are read instead
 * and `via` says so.
 */
function workerLogs(node: TestNode, pod: any): { logs: string; via: string } {
  const viaApi = podLogs(node, pod.metadata.namespace, pod.metadata.name);
  if (!/^Error from server.*containerLogs/m.test(viaApi)) return { logs: viaApi, via: 'kubectl logs' };
  return { logs: kubeletLogFiles(pod), via: `${POD_LOGS_DIR} (kubectl logs failed: ${viaApi.trim().split('\n')[0]})` };
}

/** Every pod of a Job (by the Job controller's job-name label), sorted by completion index, with its logs read. */
export async function workerReports(node: TestNode, namespace: string, job: string): Promise<WorkerReport[]> {
  const pods = await node.cluster.kube.list('v1', 'Pod', namespace, `batch.kubernetes.io/job-name=${job}`);
  return pods
    .map((p) => {
      const { logs, via } = workerLogs(node, p);
      return {
        pod: p.metadata.name as string,
        index: Number(p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']),
        hostname: (p.spec.hostname ?? '') as string,
        phase: (p.status?.phase ?? '') as string,
        logsVia: via,
        ...parseReport(logs),
      };
    })
    .sort((a, b) => a.index - b.index);
}
