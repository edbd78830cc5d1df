/**
 * A Docker engine of the test's own: Debian's dockerd 20.10 (BuildKit inside, its own containerd)
 * started with everything under one temporary directory, on a bridge of its own, and stopped with
 * all of it removed (also after a failed test: call `stop()` in afterAll; a process 'exit' hook
 * kills it as a last resort).
 *
 * - Flags, tried on these cgroup-v1 VMs: `--data-root`, `--exec-root` (containerd's state too),
 *   `--pidfile`, `-H unix://<dir>/docker.sock`, `--config-file` (an empty one: /etc/docker is not
 *   read), `--bridge <ours>` (created here, deleted at the end: docker0 would be shared with any other
 *   engine on the machine and outlives dockerd), `--iptables=false --ip-forward=false` (no rules or
 *   sysctls left on the host). Published ports then go through docker-proxy, bound to 127.0.0.1
 *   only (`-p 127.0.0.1:H:C`); containers have no way out, which builds do not need: the local bases
 *   hold the packages (see _harness.ts). The storage driver is dockerd's choice (overlay2 here).
 * - The CLI is docker.io's /usr/bin/docker (API 1.41 like the daemon), put first on PATH through a
 *   bin directory of ours, so images/build.sh's `docker` is that one too; the buildx plugin
 *   (scripts/e2e/buildx/build.sh) is installed through a DOCKER_CONFIG of ours.
 * - Base images: no registry. `loadImage` copies a local buildah image in (`buildah push
 *   docker-archive:` + `docker load`) under the same name, which a Dockerfile's FROM ${BASE} then
 *   finds in the daemon's image store: a localhost/ name cannot be pulled (nothing listens there),
 *   so a build that succeeds did not pull.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerHandle, ExecResult, RunOptions, SCRIPTS_DIR, exec } from './_harness';

/** Debian docker.io's CLI; another docker on PATH (/usr/local/bin) may speak a newer API than dockerd 20.10. */
export const DOCKER_CLI = '/usr/bin/docker';

export class DockerEngine {
  /** Starts dockerd; throws with the reason (and dockerd's log) when a tool is missing or it does not come up. */
  static async start(opts: { buildx?: boolean } = {}): Promise<DockerEngine> {
    for (const tool of ['dockerd', 'containerd', DOCKER_CLI]) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status !== 0) {
        throw new Error(`${tool} not found: scripts/e2e/install-tools.sh installs Debian's docker.io`);
      }
    }
    const buildx = opts.buildx ? buildBuildx() : undefined;
    // short: a unix socket path has at most 107 bytes
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-dockerd-'));
    const engine = new DockerEngine(dir);
    try {
      engine.setUp(buildx);
      await engine.waitUntilUp();
    } catch (e) {
      await engine.stop();
      throw e;
    }
    return engine;
  }

  /** DOCKER_HOST, DOCKER_CONFIG, DOCKER_BUILDKIT=1 and our docker first on PATH: for docker and images/build.sh. */
  readonly env: NodeJS.ProcessEnv;
  private readonly bridge: string;
  private daemon?: ChildProcess;
  private readonly exitHook = () => this.killNow();

  private constructor(readonly dir: string) {
    this.bridge = `cdkml${process.pid % 1_000_000}`;
    this.env = {
      ...process.env,
      DOCKER_HOST: `unix://${dir}/docker.sock`,
      DOCKER_CONFIG: path.join(dir, 'config'),
      DOCKER_BUILDKIT: '1',
      PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
    };
  }

  private setUp(buildx: string | undefined): void {
    fs.mkdirSync(path.join(this.dir, 'bin'));
    fs.symlinkSync(DOCKER_CLI, path.join(this.dir, 'bin', 'docker'));
    fs.mkdirSync(path.join(this.dir, 'config', 'cli-plugins'), { recursive: true });
    if (buildx) fs.symlinkSync(buildx, path.join(this.dir, 'config', 'cli-plugins', 'docker-buildx'));
    fs.writeFileSync(path.join(this.dir, 'daemon.json'), '{}\n');
    ip(['link', 'add', 'name', this.bridge, 'type', 'bridge']);
    ip(['addr', 'add', `${freeSubnet()}.1/24`, 'dev', this.bridge]);
    ip(['link', 'set', this.bridge, 'up']);
    const log = fs.openSync(path.join(this.dir, 'dockerd.log'), 'a');
    this.daemon = spawn(
      'dockerd',
      [
        '--data-root',
        path.join(this.dir, 'data'),
        '--exec-root',
        path.join(this.dir, 'exec'),
        '--pidfile',
        path.join(this.dir, 'docker.pid'),
        '-H',
        `unix://${this.dir}/docker.sock`,
        '--config-file',
        path.join(this.dir, 'daemon.json'),
        '--bridge',
        this.bridge,
        '--iptables=false',
        '--ip-forward=false',
      ],
      { stdio: ['ignore', log, log], env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } },
    );
    fs.closeSync(log);
    process.once('exit', this.exitHook);
  }

  private async waitUntilUp(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.daemon?.exitCode !== null) throw new Error(`dockerd exited (${this.daemon?.exitCode}):\n${this.log()}`);
      if ((await exec(DOCKER_CLI, ['-H', this.env.DOCKER_HOST!, 'version'], { timeoutMs: 10_000 }).catch(() => undefined))?.exitCode === 0) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`dockerd did not answer within 60 s:\n${this.log()}`);
  }

  log(lines = 40): string {
    const f = path.join(this.dir, 'dockerd.log');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
  }

  /** `docker ARGS` against this engine; throws with the output's tail on a non-zero exit. */
  async docker(args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const res = await runWithEnv(DOCKER_CLI, args, this.env, opts.cwd, opts.timeoutMs ?? 20 * 60_000);
    if (res.exitCode !== 0)
      throw new Error(`docker ${args.join(' ')} failed (exit ${res.exitCode}):\n${res.output.trimEnd().split('\n').slice(-60).join('\n')}`);
    return res;
  }

  /** Copies a local buildah (vfs) image into the daemon under the same name. */
  async loadImage(image: string): Promise<void> {
    const archive = path.join(this.dir, 'load.tar');
    const push = await exec('buildah', ['--storage-driver', 'vfs', 'push', image, `docker-archive:${archive}:${image}`], { timeoutMs: 10 * 60_000 });
    if (push.exitCode !== 0) throw new Error(`buildah push ${image} docker-archive: failed:\n${push.output}`);
    try {
      await this.docker(['load', '-i', archive]);
    } finally {
      fs.rmSync(archive, { force: true });
    }
  }

  /**
   * Every path of an image's filesystem ('/'-separated, relative to its root), read from `docker
   * export` of a container created (not started) from it.
   */
  async fileList(image: string): Promise<string[]> {
    const id = (await this.docker(['create', image])).stdout.trim();
    try {
      const tar = path.join(this.dir, 'export.tar');
      await this.docker(['export', '-o', tar, id]);
      try {
        return execFileSync('tar', ['-tf', tar], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
          .split('\n')
          .map((l) => l.replace(/\/$/, ''))
          .filter((l) => l !== '' && l !== '.')
          .sort();
      } finally {
        fs.rmSync(tar, { force: true });
      }
    } finally {
      await this.docker(['rm', '-f', id]);
    }
  }

  /** `docker run -d` as the harness's podman runContainer takes it (ports on 127.0.0.1 only). */
  async run(opts: RunOptions): Promise<ContainerHandle> {
    const args = ['run', '-d'];
    for (const p of opts.ports ?? []) args.push('-p', `127.0.0.1:${p.host}:${p.container}`);
    if (opts.readOnly) args.push('--read-only');
    for (const t of opts.tmpfs ?? []) args.push('--tmpfs', t);
    for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
    if (opts.user) args.push('--user', opts.user);
    if (opts.entrypoint !== undefined) args.push('--entrypoint', opts.entrypoint);
    args.push(...(opts.extraArgs ?? []), opts.image, ...(opts.command ?? []));
    const id = (await this.docker(args)).stdout.trim().split('\n').pop()!;
    const sync = (a: string[]) => spawnSync(DOCKER_CLI, a, { env: this.env, encoding: 'utf8', timeout: 60_000 });
    return {
      id,
      name: id,
      logs: () => {
        const r = sync(['logs', id]);
        return `${r.stdout}${r.stderr}`;
      },
      isRunning: () => sync(['inspect', '--format', '{{.State.Running}}', id]).stdout.trim() === 'true',
      remove: () => {
        sync(['rm', '-f', id]);
      },
    };
  }

  /** `docker exec` in a running container (as its user). */
  execIn(c: ContainerHandle, argv: readonly string[]): Promise<ExecResult> {
    return runWithEnv(DOCKER_CLI, ['exec', c.id, ...argv], this.env, undefined, 60_000);
  }

  /** Removes every container, stops dockerd (TERM, then KILL), unmounts what is left, deletes the bridge and the directory. */
  async stop(): Promise<void> {
    if (this.daemon && this.daemon.exitCode === null) {
      const ids =
        spawnSync(DOCKER_CLI, ['ps', '-aq'], { env: this.env, encoding: 'utf8', timeout: 60_000 }).stdout?.split('\n').filter(Boolean) ?? [];
      if (ids.length) spawnSync(DOCKER_CLI, ['rm', '-f', ...ids], { env: this.env, timeout: 120_000 });
      const exited = new Promise((r) => this.daemon!.once('exit', r));
      this.daemon.kill('SIGTERM');
      const timer = setTimeout(() => this.daemon?.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    this.removeLeftovers();
    process.removeListener('exit', this.exitHook);
  }

  private killNow(): void {
    if (this.daemon && this.daemon.exitCode === null) this.daemon.kill('SIGKILL');
    this.removeLeftovers();
  }

  private removeLeftovers(): void {
    const mounts = fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1])
      .filter((m) => m?.startsWith(`${this.dir}/`));
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    spawnSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** scripts/e2e/buildx/build.sh: the pinned buildx plugin, built once into the e2e cache; its path. */
function buildBuildx(): string {
  const res = spawnSync('bash', [path.join(SCRIPTS_DIR, 'buildx', 'build.sh')], { encoding: 'utf8', timeout: 20 * 60_000 });
  if (res.status !== 0) throw new Error(`scripts/e2e/buildx/build.sh failed (exit ${res.status ?? res.signal}):\n${res.stderr}`);
  return res.stdout.trim().split('\n').pop()!;
}

function ip(args: string[]): void {
  const res = spawnSync('ip', args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${res.stderr || res.error?.message} (root and iproute2 needed)`);
}

/** A 10.213.x.0/24 no route of the host uses yet. */
function freeSubnet(): string {
  const routes = execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' });
  for (let i = 0; i < 250; i++) {
    const x = (process.pid + i) % 250;
    if (!routes.includes(`10.213.${x}.`)) return `10.213.${x}`;
  }
  throw new Error('no free 10.213.x.0/24 subnet for the test bridge');
}

function runWithEnv(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string | undefined, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      output += d;
      if (process.env.E2E_VERBOSE) process.stderr.write(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      output += d;
      if (process.env.E2E_VERBOSE) process.stderr.write(d);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} could not run (${e.message}): scripts/e2e/install-tools.sh installs it`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr, output });
    });
  });
}
