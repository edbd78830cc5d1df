/**
 * Every container image the reference stacks' manifests name, built on this machine (no registry can be
 * pulled from) and exported as docker-archive files that `ctr -n k8s.io images import` loads under the
 * exact, fully qualified name CRI looks up (`tensorflow/serving:2.20.0` -> docker.io/tensorflow/serving:2.20.0).
 *
 * - The app images are built as users build them: from dist/images/<name>/Dockerfile with the context
 *   docker-bake.json gives, through the e2e harness (buildah bud --isolation chroot, vfs storage), their
 *   `pip install -r requirements.txt` downloading from PyPI. PYTHON_IMAGE is PYTHON_PYPI_BASE_IMAGE, made here
 *   from scripts/cluster/images/python-pypi.Dockerfile as the official python:3.x-slim image is made: Debian's
 *   python3 (3.11) and pip, no application package, no PEP 668 marker, plus this machine's CA bundle (its TLS
 *   to PyPI goes through its own CA). The build sees none of the host's PIP_* settings (buildah passes no host
 *   environment to RUN): no /opt/wheels, no PIP_DEFAULT_TIMEOUT; no proxy is configured here (if one were,
 *   buildah passes the host's *_proxy variables to RUN steps only, never into the image). An *_IMAGE arg
 *   naming another image built here (and-gate-model's TF_SERVING_IMAGE) is built first and passed fully qualified.
 * - Images nobody can build here are stand-ins from scripts/cluster/images/: tensorflow/serving:<v> (a
 *   python base + tf-serving-standin.py), registry.example.com/scorer:<v> (scorer-standin.py), rclone/rclone:<v>
 *   (the Debian base: the manifests use it as a shell only) and the network-test probe NODE_SYSTEM_IMAGES.netprobe;
 *   the python ones on the e2e python base (Debian's python3 and flask: they need no index).
 *   (The node's own pause and CoreDNS images are written by scripts/cluster/node.mjs.)
 * - Archives are cached under $CDK8S_ML_NODE_IMAGES (default /var/tmp/cdk8s-ml-node-images), keyed by a hash
 *   of the Dockerfile, its ignore file, the context's files, the build args and the IDs of the local bases;
 *   after export the image is removed from the vfs storage again (the archive is what the node imports).
 *   The build's output is kept next to its archive (NodeImage.buildLog): it shows what pip downloaded.
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import {
  DEBIAN_BASE_IMAGE,
  PYTHON_BASE_IMAGE,
  REPO_ROOT,
  buildImageDetailed,
  ensureBaseImages,
  exec,
  imageExists,
  removeImage,
} from '../../e2e/_harness';

export interface NodeImage {
  /** the name as asked for (as the manifest spells it) */
  readonly name: string;
  /** the archive's one RepoTag: the name fully qualified, as CRI normalizes it */
  readonly reference: string;
  readonly archive: string;
  /** buildah's output of the build that made the archive (kept next to it; also for a cached archive) */
  readonly buildLog: string;
  /** build and export time; 0 when taken from the cache */
  readonly buildMs: number;
  readonly cached: boolean;
}

/** The node's own images: the pod sandbox image and a non-root probe (client and target) for network tests. */
export const NODE_SYSTEM_IMAGES = { netprobe: 'localhost/cdk8s-ml/netprobe:1' } as const;

/** Images the manifests name that cannot be built here; buildNodeImages skips them (the caller decides what to do). */
export const unbuildable: Readonly<Record<string, string>> = {
  'vllm/vllm-openai:v0.31.0':
    "no registry is reachable to pull it, and vLLM's PyPI wheels (0.31.0 to 0.34.0) are CUDA builds: on CPU `vllm serve` " +
    "stops with 'RuntimeError: Failed to infer device type' (with VLLM_TARGET_DEVICE=cpu: no module vllm._C, so no CPU " +
    'kernels); CPU wheels come from GitHub releases, wheels.vllm.ai and download.pytorch.org, none reachable here; ' +
    'a stand-in would test nothing of the chat stack but the stand-in',
};

/** Whether a name (as written, or fully qualified) is one of `unbuildable`. */
export function isUnbuildable(name: string): boolean {
  return Object.keys(unbuildable).some((u) => u === name || fullyQualified(u) === fullyQualified(name));
}

export const NODE_IMAGES_DIR = path.resolve(process.env.CDK8S_ML_NODE_IMAGES || '/var/tmp/cdk8s-ml-node-images');
export const STANDIN_DIR = path.join(REPO_ROOT, 'scripts', 'cluster', 'images');
/** Bump when the way images are built here changes, so no archive of an older recipe is reused. */
const RECIPE_VERSION = '2';
/** The app images' PYTHON_IMAGE: a stand-in for the official python:3.x-slim image, without any app package. */
export const PYTHON_PYPI_BASE_IMAGE = 'localhost/cdk8s-ml/python-pypi:bookworm';
/** The CA bundle this machine reaches PyPI with; it replaces Debian's in PYTHON_PYPI_BASE_IMAGE. */
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Label of PYTHON_PYPI_BASE_IMAGE: a hash of its Dockerfile, the CA bundle and the Debian base (rebuilt when it changes). */
const BASE_RECIPE_LABEL = 'cdk8s-ml.recipe';
const STORAGE = ['--storage-driver', 'vfs'];

// ---------------------------------------------------------------------------------------------
// names and manifests

/** The name CRI looks an image up by: docker.io/library/x:t, docker.io/org/x:t, or the name when it has a registry. */
export function fullyQualified(name: string): string {
  const first = name.split('/')[0];
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return name;
  return name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
}

/** Every container, initContainer and ephemeralContainer image in a manifest stream, unique and sorted. */
export function imagesOf(manifestYaml: string): string[] {
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (['containers', 'initContainers', 'ephemeralContainers'].includes(key) && Array.isArray(value)) {
        for (const c of value) if (c && typeof c.image === 'string') found.add(c.image);
      }
      walk(value);
    }
  };
  for (const doc of yaml.loadAll(manifestYaml)) walk(doc);
  return [...found].sort();
}

/** The RepoTags of a docker-archive file (its manifest.json), one list per image in it. */
export function archiveRepoTags(archive: string): string[][] {
  return archiveManifest(archive).map((m) => m.RepoTags ?? []);
}

function archiveManifest(archive: string): { RepoTags?: string[] }[] {
  return JSON.parse(tarFile(archive, 'manifest.json'));
}

function tarFile(archive: string, member: string): string {
  const res = spawnSync('tar', ['-xOf', archive, member], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`tar -xOf ${archive} ${member} failed: ${res.stderr}`);
  return res.stdout;
}

// ---------------------------------------------------------------------------------------------
// recipes

type LocalBase = 'debian' | 'python' | 'python-pypi';

interface Recipe {
  readonly dockerfile: string;
  readonly contextDir: string;
  /** build args; values that are images are final (fully qualified, or a local base's name) */
  readonly args: Record<string, string>;
  /** local bases this build starts from */
  readonly bases: readonly LocalBase[];
  /** other images built here that must be in the storage first (fully qualified names) */
  readonly needs: readonly string[];
}

const BASE_IMAGES: Record<LocalBase, string> = {
  debian: DEBIAN_BASE_IMAGE,
  python: PYTHON_BASE_IMAGE,
  'python-pypi': PYTHON_PYPI_BASE_IMAGE,
};

const standin = (file: string, args: Record<string, string>, base: LocalBase): Recipe => ({
  dockerfile: path.join(STANDIN_DIR, file),
  contextDir: STANDIN_DIR,
  args: { BASE: BASE_IMAGES[base], ...args },
  bases: [base],
  needs: [],
});

/** The stand-in recipes, by fully qualified name. */
function standinRecipe(ref: string): Recipe | undefined {
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  const repo = ref.slice(0, ref.lastIndexOf(':'));
  switch (repo) {
    case 'docker.io/tensorflow/serving':
      return standin('tf-serving-standin.Dockerfile', { VERSION: tag }, 'python');
    case 'registry.example.com/scorer':
      return standin('scorer-standin.Dockerfile', { VERSION: tag }, 'python');
    case 'docker.io/rclone/rclone':
      return standin('rclone-shell.Dockerfile', {}, 'debian');
    case 'localhost/cdk8s-ml/netprobe':
      return standin('netprobe.Dockerfile', {}, 'python');
    default:
      return undefined;
  }
}

interface BakeTarget {
  readonly context: string;
  readonly dockerfile: string;
  readonly tags: readonly string[];
  readonly args?: Record<string, string>;
}

/** The recipe docker-bake.json gives for a tag, with the args replaced by local images. */
function bakeRecipe(distDir: string, ref: string): Recipe | undefined {
  const bakeFile = path.join(distDir, 'images', 'docker-bake.json');
  if (!fs.existsSync(bakeFile)) throw new Error(`no ${bakeFile}: run the synth (npm run synth) first`);
  const bake = JSON.parse(fs.readFileSync(bakeFile, 'utf8')) as { target: Record<string, BakeTarget> };
  const target = Object.values(bake.target).find((t) => t.tags.some((tag) => fullyQualified(tag) === ref));
  if (!target) return undefined;
  const contextDir = path.resolve(path.dirname(bakeFile), target.context);
  const args: Record<string, string> = {};
  const bases: LocalBase[] = [];
  const needs: string[] = [];
  for (const [key, value] of Object.entries(target.args ?? {})) {
    if (key === 'PYTHON_IMAGE') {
      bases.push('python-pypi');
      args[key] = PYTHON_PYPI_BASE_IMAGE;
    } else if (key.endsWith('_IMAGE')) {
      const dep = fullyQualified(value);
      if (!standinRecipe(dep)) throw new Error(`${ref}: build arg ${key}=${value} names an image that is not built here`);
      needs.push(dep);
      args[key] = dep;
    } else args[key] = value;
  }
  return { dockerfile: path.resolve(contextDir, target.dockerfile), contextDir, args, bases, needs };
}

// ---------------------------------------------------------------------------------------------
// the cache key

/** sha256 over every file under dir: relative path, mode and content, in sorted order. */
function hashTree(dir: string): string {
  const h = crypto.createHash('sha256');
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(rel, e.name);
      const full = path.join(dir, p);
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) h.update(`link ${p} ${fs.readlinkSync(full)}\n`);
      else if (e.isFile()) h.update(`file ${p} ${fs.statSync(full).mode & 0o777}\n`).update(fs.readFileSync(full));
    }
  };
  walk('');
  return h.digest('hex');
}

function imageId(image: string): string {
  const res = spawnSync('buildah', [...STORAGE, 'inspect', '--type', 'image', '--format', '{{.FromImageID}}', image], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`buildah inspect ${image} failed: ${res.stderr}`);
  return res.stdout.trim();
}

function cacheKey(ref: string, recipe: Recipe, depKeys: readonly string[]): string {
  const h = crypto.createHash('sha256');
  h.update(`recipe ${RECIPE_VERSION}\nref ${ref}\n`);
  h.update(fs.readFileSync(recipe.dockerfile));
  const ignore = `${recipe.dockerfile}.dockerignore`;
  h.update(fs.existsSync(ignore) ? fs.readFileSync(ignore) : 'no ignore file');
  h.update(`\ncontext ${hashTree(recipe.contextDir)}\n`);
  for (const k of Object.keys(recipe.args).sort()) h.update(`arg ${k}=${recipe.args[k]}\n`);
  for (const b of recipe.bases) h.update(`base ${b} ${imageId(BASE_IMAGES[b])}\n`);
  for (const d of depKeys) h.update(`needs ${d}\n`);
  return h.digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// building

function ensureLocalBase(base: LocalBase): void {
  if (base === 'python-pypi') ensurePypiBase();
  else ensureBaseImages(base);
}

function labelOf(image: string, label: string): string {
  const format = `{{index .OCIv1.Config.Labels "${label}"}}`;
  const res = spawnSync('buildah', [...STORAGE, 'inspect', '--type', 'image', '--format', format, image], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`buildah inspect ${image} failed: ${res.stderr}`);
  return res.stdout.trim();
}

/** Builds PYTHON_PYPI_BASE_IMAGE unless the one in the storage has this recipe (Dockerfile, CA bundle, Debian base). */
function ensurePypiBase(): void {
  ensureBaseImages('debian');
  const dockerfile = path.join(STANDIN_DIR, 'python-pypi.Dockerfile');
  if (!fs.existsSync(CA_BUNDLE)) throw new Error(`no ${CA_BUNDLE}: ${PYTHON_PYPI_BASE_IMAGE} takes this machine's CA bundle to reach PyPI`);
  const recipe = crypto
    .createHash('sha256')
    .update(fs.readFileSync(dockerfile))
    .update(fs.readFileSync(CA_BUNDLE))
    .update(imageId(DEBIAN_BASE_IMAGE))
    .digest('hex')
    .slice(0, 16);
  const previous = imageExists(PYTHON_PYPI_BASE_IMAGE) ? imageId(PYTHON_PYPI_BASE_IMAGE) : undefined;
  if (previous && labelOf(PYTHON_PYPI_BASE_IMAGE, BASE_RECIPE_LABEL) === recipe) return;
  const context = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-python-pypi-'));
  try {
    fs.copyFileSync(dockerfile, path.join(context, 'Dockerfile'));
    fs.copyFileSync(CA_BUNDLE, path.join(context, 'ca-certificates.crt'));
    fs.chmodSync(path.join(context, 'ca-certificates.crt'), 0o644);
    const args = ['bud', '--isolation', 'chroot', '--layers=false', '--build-arg', `BASE=${DEBIAN_BASE_IMAGE}`];
    args.push('--label', `${BASE_RECIPE_LABEL}=${recipe}`, '-t', PYTHON_PYPI_BASE_IMAGE, context);
    const res = spawnSync('buildah', [...STORAGE, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 20 * 60_000 });
    if (res.status !== 0) throw new Error(`building ${PYTHON_PYPI_BASE_IMAGE} failed:\n${tailOf(`${res.stdout}${res.stderr}`)}`);
  } finally {
    fs.rmSync(context, { recursive: true, force: true });
  }
  // The image of the older recipe lost its tag: drop it (vfs keeps a full copy of every image).
  if (previous) spawnSync('buildah', [...STORAGE, 'rmi', previous], { stdio: 'ignore' });
}

function tailOf(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function slug(ref: string): string {
  return ref.replace(/[^A-Za-z0-9.-]+/g, '_');
}

async function exportArchive(ref: string, archive: string): Promise<void> {
  const tmp = `${archive}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  const res = await exec('buildah', [...STORAGE, 'push', ref, `docker-archive:${tmp}:${ref}`], { timeoutMs: 10 * 60_000 });
  if (res.exitCode !== 0) throw new Error(`buildah push ${ref} docker-archive: failed (exit ${res.exitCode}):\n${tailOf(res.output)}`);
  const tags = archiveRepoTags(tmp);
  if (JSON.stringify(tags) !== JSON.stringify([[ref]])) throw new Error(`${tmp}: RepoTags ${JSON.stringify(tags)}, expected [["${ref}"]]`);
  fs.renameSync(tmp, archive);
  // Archives (and logs) of this image's older keys; the exact pattern, so that x:2.20.0 leaves x:2.20.0-gpu alone.
  const older = new RegExp(`^${slug(ref).replace(/\./g, '\\.')}-[0-9a-f]{16}\\.(tar|build\\.log)$`);
  for (const f of fs.readdirSync(NODE_IMAGES_DIR)) {
    const file = path.join(NODE_IMAGES_DIR, f);
    if (older.test(f) && file !== archive && file !== buildLogOf(archive)) fs.rmSync(file);
  }
}

/** Where the build output of an archive is kept. */
function buildLogOf(archive: string): string {
  return archive.replace(/\.tar$/, '.build.log');
}

/** Puts an image built earlier back into the vfs storage from its archive (a base of another build). */
async function loadIntoStorage(ref: string, archive: string): Promise<void> {
  if (imageExists(ref)) return;
  const res = await exec('buildah', [...STORAGE, 'pull', `docker-archive:${archive}`], { timeoutMs: 10 * 60_000 });
  if (res.exitCode !== 0 || !imageExists(ref)) throw new Error(`buildah pull docker-archive:${archive} failed:\n${tailOf(res.output)}`);
}

interface Built extends NodeImage {
  readonly key: string;
}

async function buildOne(distDir: string, name: string, done: Map<string, Built>): Promise<Built> {
  const ref = fullyQualified(name);
  const known = done.get(ref);
  if (known) return { ...known, name };
  const recipe = standinRecipe(ref) ?? bakeRecipe(distDir, ref);
  if (!recipe) {
    throw new Error(`no recipe for image ${name}: not a tag of ${distDir}/images/docker-bake.json and not a stand-in of ${STANDIN_DIR}`);
  }
  const deps = [];
  for (const need of recipe.needs) deps.push(await buildOne(distDir, need, done));
  for (const b of recipe.bases) ensureLocalBase(b);
  const key = cacheKey(
    ref,
    recipe,
    deps.map((d) => d.key),
  );
  const archive = path.join(NODE_IMAGES_DIR, `${slug(ref)}-${key}.tar`);
  let result: Built;
  const buildLog = buildLogOf(archive);
  if (fs.existsSync(archive) && fs.existsSync(buildLog)) {
    result = { name, reference: ref, archive, buildLog, buildMs: 0, cached: true, key };
  } else {
    const t0 = Date.now();
    for (const d of deps) await loadIntoStorage(d.reference, d.archive);
    try {
      const built = await buildImageDetailed({ contextDir: recipe.contextDir, dockerfile: recipe.dockerfile, tag: ref, buildArgs: recipe.args });
      fs.writeFileSync(buildLog, built.output);
      await exportArchive(ref, archive);
    } catch (e) {
      throw new Error(`cannot build ${name} (${path.relative(REPO_ROOT, recipe.dockerfile)}): ${(e as Error).message}`);
    } finally {
      await removeImage(ref);
      for (const d of deps) await removeImage(d.reference);
    }
    result = { name, reference: ref, archive, buildLog, buildMs: Date.now() - t0, cached: false, key };
  }
  done.set(ref, result);
  return result;
}

/**
 * Builds (or takes from the cache) each named image and returns its archive, in the order asked. Names listed
 * in `unbuildable` are left out of the result; any other name without a recipe, or whose build fails, throws
 * with the reason (and the build log's tail).
 */
export async function buildNodeImages(distDir: string, names: readonly string[]): Promise<NodeImage[]> {
  fs.mkdirSync(NODE_IMAGES_DIR, { recursive: true });
  return withCacheLock(async () => {
    const done = new Map<string, Built>();
    const out: NodeImage[] = [];
    for (const name of names) {
      if (isUnbuildable(name)) continue;
      const { key: _key, ...image } = await buildOne(path.resolve(REPO_ROOT, distDir), name, done);
      out.push(image);
    }
    return out;
  });
}

/**
 * One builder at a time per cache (jest runs test files in parallel processes): a build removes its image
 * from the shared vfs storage after export, which would pull it from under another process's build.
 * The lock is a directory holding the owner's pid; a lock whose owner is gone is taken over.
 */
async function withCacheLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(NODE_IMAGES_DIR, '.lock');
  const deadline = Date.now() + 60 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!lockOwnerAlive(lock)) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is still held by another process after 60 min`);
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function lockOwnerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    // Just created, pid not yet written: alive unless the directory is old.
    try {
      return Date.now() - fs.statSync(lock).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
