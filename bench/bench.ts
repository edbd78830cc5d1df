// `npm run bench`: medians over repeated runs, with ratios against baselines measured in the same
// run (these machines are noisy; absolute numbers alone mean little).
//   (a) synthesizing every reference app through the README's command and through `cdk8s synth`,
//       against the floor of starting node and loading cdk8s-plus-28;
//   (b) N = 100 and 1000 inference services (Deployment, Service, PDB, NetworkPolicy each) with
//       cdk8s-ml against the same objects written directly with cdk8s-plus-28: wall time, peak RSS;
//   (c) the growth ratio t(1000)/t(100);
//   (d) a new user's project (cdk8s-ml init, installed from this checkout's tarball): its `cdk8s
//       synth` against cdk8s-cli's own start-up (`cdk8s --version`), and its runtime install size;
//   (e) `cdk8s-ml check` on the reference apps' output against the command's start-up;
//   (f) N = 1,000 and 10,000 inference services, each with a FlaskFrontend wired to it, with cdk8s-ml
//       (MlApp.synth, writing its output as `npm run synth` does) against the same objects written
//       directly with cdk8s-plus-28 (in memory): synth time, peak RSS, t(10,000)/t(1,000);
//   (g) `cdk8s-ml check` (and the strict unintended-ingress analysis) over (f)'s outputs: linear?
//   (h) `cdk8s-ml diff` of two 10,000-service outputs of (f)'s kind with one image changed between them,
//       against `diff -r` of the same directories: wall time and peak RSS.
// BENCH_WEB_RUNS (default 3) sets the repeats of (f) and (g) at 10,000 (0 skips them); at 1,000 they
// run BENCH_SCALE_RUNS times. BENCH_ONLY=web runs (f) and (g) alone. BENCH_DIFF_RUNS (default 3)
// sets the repeats of (h) (0 skips it), BENCH_DIFF_N its size (default 10000); BENCH_ONLY=diff runs
// (h) alone.
//   (i) `cdk8s-ml check` (the command, in a process of its own) on 10,000 and 100,000 objects of YAML
//       from elsewhere (bench/_scale.ts objects: Deployments, Services, ConfigMaps in 4 files): wall time,
//       peak RSS, t(100,000)/t(10,000) against 10 for linear. BENCH_CHECK_RUNS (default 3) sets its
//       repeats; BENCH_ONLY=check runs (i) alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initProject, installProject, packCheckout, run, userEnv } from '../test/_util/consumer';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SCALE_RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 3);
const WEB_RUNS = Number(process.env.BENCH_WEB_RUNS ?? 3);
const DIFF_RUNS = Number(process.env.BENCH_DIFF_RUNS ?? 3);
const DIFF_N = Number(process.env.BENCH_DIFF_N ?? 10000);
const TS_NODE = ['-r', path.join(ROOT, 'scripts/register.js')];

function wall(cmd: string, args: string[], cwd = ROOT): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...userEnv(), CI: 'true' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (s: number) => `${s.toFixed(2)} s`;

function synthBench(): Record<string, number> {
  const cases: Record<string, [string, string[]]> = {
    'floor: node + require(cdk8s-plus-28)': ['node', ['-e', "require('cdk8s-plus-28')"]],
    'README: npm run synth': ['npm', ['run', '-s', 'synth']],
    'node -r scripts/register.js apps/main.ts (what npm run synth runs)': ['node', [...TS_NODE, 'apps/main.ts']],
    'npx cdk8s synth': ['npx', ['cdk8s', 'synth', '--check-upgrade', 'false']],
    'node_modules/.bin/cdk8s synth (no npx)': [path.join(ROOT, 'node_modules/.bin/cdk8s'), ['synth', '--check-upgrade', 'false']],
    'floor: node_modules/.bin/cdk8s --version (cdk8s-cli start-up)': [path.join(ROOT, 'node_modules/.bin/cdk8s'), ['--version']],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  wall('npm', ['run', '-s', 'synth']); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    for (const [name, [cmd, args]] of Object.entries(cases)) times[name].push(wall(cmd, args)); // interleaved
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

interface Scale {
  ms: number;
  wall: number;
  peakRssMb: number;
}
function scaleRun(mode: string, n: number | string, ...more: string[]): Scale & Record<string, number> {
  const t = process.hrtime.bigint();
  const r = spawnSync('node', [...TS_NODE, 'bench/_scale.ts', mode, String(n), ...more], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`scale ${mode} ${n} failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { ...out, wall: Number(process.hrtime.bigint() - t) / 1e9 };
}

function scaleBench(): Record<string, Scale> {
  const res: Record<string, Scale[]> = {};
  for (let i = 0; i < SCALE_RUNS; i++) {
    for (const n of [100, 1000]) {
      for (const mode of ['cdk8s-ml', 'cdk8s-plus']) (res[`${mode} N=${n}`] ??= []).push(scaleRun(mode, n));
    }
  }
  return Object.fromEntries(
    Object.entries(res).map(([k, v]) => [
      k,
      {
        ms: median(v.map((x) => x.ms)),
        wall: median(v.map((x) => x.wall)),
        peakRssMb: Math.max(...v.map((x) => x.peakRssMb)),
      },
    ]),
  );
}

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(
  `machine: ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} ` +
    `GiB, node ${process.version}; ${RUNS} runs per synth case, ${SCALE_RUNS} per scale case, medians\n`,
);

// BENCH_ONLY=web: parts (f) and (g) alone; BENCH_ONLY=diff: part (h) alone.
if (process.env.BENCH_ONLY === 'web') {
  webBench();
  process.exit(0);
}
if (process.env.BENCH_ONLY === 'diff') {
  diffBench();
  process.exit(0);
}
if (process.env.BENCH_ONLY === 'check') {
  checkBench();
  process.exit(0);
}

const s = synthBench();
const floor = s['floor: node + require(cdk8s-plus-28)'];
console.log('(a) synthesize every reference app (wall time, median)');
for (const [k, v] of Object.entries(s)) console.log(`  ${k.padEnd(66)} ${fmt(v)}  ${(v / floor).toFixed(2)}x floor`);
const readme = s['README: npm run synth'];
const cli = s['npx cdk8s synth'];
const bin = s['node_modules/.bin/cdk8s synth (no npx)'];
console.log(
  `  targets: README synth <= 1.0 s: ${readme <= 1.0 ? 'met' : 'MISSED'} (${fmt(readme)}); ` +
    `cdk8s synth <= 2.0 s: npx ${cli <= 2.0 ? 'met' : 'MISSED'} (${fmt(cli)}), without ` +
    `npx ${bin <= 2.0 ? 'met' : 'MISSED'} (${fmt(bin)})\n`,
);

const sc = scaleBench();
console.log(
  '(b) N inference services, each with Service, PDB and NetworkPolicy: build + synth in memory (in-process time), process wall time, peak RSS',
);
for (const [k, v] of Object.entries(sc))
  console.log(`  ${k.padEnd(22)} synth ${v.ms.toFixed(0).padStart(5)} ms   wall ${fmt(v.wall)}   peak ${v.peakRssMb.toFixed(0)} MB`);
const ratio = sc['cdk8s-ml N=1000'].ms / sc['cdk8s-plus N=1000'].ms;
const wallRatio = sc['cdk8s-ml N=1000'].wall / sc['cdk8s-plus N=1000'].wall;
const peak = sc['cdk8s-ml N=1000'].peakRssMb;
console.log(
  `  N=1000 cdk8s-ml / cdk8s-plus: ${ratio.toFixed(2)}x synth, ${wallRatio.toFixed(2)}x ` +
    `wall (target <= 1.2x: ${ratio <= 1.2 && wallRatio <= 1.2 ? 'met' : 'MISSED'}); ` +
    `peak ${peak.toFixed(0)} MB (target <= 250 MB: ${peak <= 250 ? 'met' : 'MISSED'})\n`,
);
const growth = sc['cdk8s-ml N=1000'].ms / sc['cdk8s-ml N=100'].ms;
console.log(
  `(c) growth t(1000)/t(100) for cdk8s-ml: ${growth.toFixed(1)} (target <= ` +
    `12: ${growth <= 12 ? 'met' : 'MISSED'}); ` +
    `cdk8s-plus: ${(sc['cdk8s-plus N=1000'].ms / sc['cdk8s-plus N=100'].ms).toFixed(1)}`,
);

/**
 * (f) and (g): N inference services with a frontend each. cdk8s-ml and cdk8s-plus-28 interleaved per
 * round; each cdk8s-ml run writes its output, which `cdk8s-ml check` then reads in a process of its own.
 */
function webBench(): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-bench-web-'));
  const runs: Record<string, Array<Scale & Record<string, number>>> = {};
  const add = (key: string, r: Scale & Record<string, number>) => (runs[key] ??= []).push(r);
  try {
    const warm = path.join(work, 'warm');
    scaleRun('cdk8s-ml-web', 10, warm);
    const sizes = [1000, ...(WEB_RUNS > 0 ? [10000] : [])];
    const rounds = Math.max(SCALE_RUNS, WEB_RUNS);
    for (let i = 0; i < rounds; i++) {
      for (const n of sizes) {
        if (i >= (n === 1000 ? SCALE_RUNS : WEB_RUNS)) continue;
        const out = path.join(work, `out-${n}`);
        add(`cdk8s-ml N=${n}`, scaleRun('cdk8s-ml-web', n, out));
        add(`cdk8s-plus N=${n}`, scaleRun('cdk8s-plus-web', n));
        add(`check N=${n}`, scaleRun('check', out, warm));
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const med = (key: string, field: string) => median(runs[key].map((r) => r[field]));
  const peak = (key: string) => Math.max(...runs[key].map((r) => r.peakRssMb));
  console.log(
    `\n(f) N inference services, each with a FlaskFrontend wired to it (8 objects per pair): build + synth\n` +
      `    (in-process, median; cdk8s-ml with MlApp.synth, writing its output as \`npm run synth\` does,\n` +
      `    cdk8s-plus-28 in memory); peak RSS (max); ${SCALE_RUNS} runs at 1,000, ${WEB_RUNS} at 10,000`,
  );
  const ns = Object.keys(runs)
    .filter((k) => k.startsWith('cdk8s-ml '))
    .map((k) => Number(k.split('=')[1]));
  for (const n of ns) {
    const [ml, plus] = [`cdk8s-ml N=${n}`, `cdk8s-plus N=${n}`];
    const line = (name: string, key: string) =>
      `  ${name.padEnd(10)} N=${String(n).padEnd(6)} ` +
      `synth ${(med(key, 'ms') / 1000).toFixed(2).padStart(6)} s   ` +
      `wall ${fmt(med(key, 'wall'))}   peak ${peak(key).toFixed(0).padStart(5)} ` +
      `MB   ${(runs[key][0].bytes / 2 ** 20).toFixed(0)} MB of output`;
    console.log(line('cdk8s-ml', ml));
    console.log(line('cdk8s-plus', plus));
    console.log(
      `  N=${n} cdk8s-ml / cdk8s-plus: ${(med(ml, 'ms') / med(plus, 'ms')).toFixed(2)}x ` +
        `synth, ${(med(ml, 'wall') / med(plus, 'wall')).toFixed(2)}x wall`,
    );
  }
  if (ns.includes(10000)) {
    const growth = med('cdk8s-ml N=10000', 'ms') / med('cdk8s-ml N=1000', 'ms');
    const plusGrowth = med('cdk8s-plus N=10000', 'ms') / med('cdk8s-plus N=1000', 'ms');
    const peak10k = peak('cdk8s-ml N=10000');
    console.log(
      `  t(10,000)/t(1,000) for cdk8s-ml: ${growth.toFixed(1)} (target <= ` +
        `11: ${growth <= 11 ? 'met' : 'MISSED'}); cdk8s-plus: ${plusGrowth.toFixed(1)}; peak RSS ` +
        `at 10,000: ${peak10k.toFixed(0)} MB (target <= 1024 MB: ${peak10k <= 1024 ? 'met' : 'MISSED'})`,
    );
  }
  console.log(
    `\n(g) cdk8s-ml check over (f)'s output (the command in process, after a warm-up check; median)\n` +
      `    and the strict unintended-ingress analysis of the same manifests`,
  );
  for (const n of ns) {
    const c = `check N=${n}`;
    console.log(
      `  N=${String(n).padEnd(6)} ${String(runs[c][0].objects).padStart(6)} objects   cdk8s-ml ` +
        `check ${(med(c, 'checkMs') / 1000).toFixed(2).padStart(6)} s   unintended ` +
        `ingress ${(med(c, 'unintendedMs') / 1000).toFixed(2).padStart(6)} s   peak ${peak(c).toFixed(0)} MB`,
    );
  }
  if (ns.includes(10000)) {
    const g = (f: string) => med('check N=10000', f) / med('check N=1000', f);
    console.log(
      `  t(10,000)/t(1,000): check ${g('checkMs').toFixed(1)}, unintended ` +
        `ingress ${g('unintendedMs').toFixed(1)} (linear: ~10; target <= ` +
        `11: ${g('checkMs') <= 11 && g('unintendedMs') <= 11 ? 'met' : 'MISSED'})`,
    );
  }
}

/** One command under GNU time: wall seconds and peak RSS (MB); exit codes 0 and 1 (differences) are fine. */
function timed(cmd: string, args: string[]): { wall: number; peakRssMb: number } {
  const report = path.join(os.tmpdir(), `cdk8s-ml-bench-time-${process.pid}`);
  const r = spawnSync('/usr/bin/time', ['-o', report, '-f', '%e %M', cmd, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const [wall, kb] = fs.readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  fs.rmSync(report, { force: true });
  return { wall, peakRssMb: kb / 1024 };
}

/**
 * (h): `cdk8s-ml diff` (the command, run as `npm run synth` runs TypeScript: node with the @swc/core
 * hook) of two outputs of N services and frontends that differ in one image, against `diff -r` of the
 * same directories and the command's own start-up, interleaved; medians of wall time, max of peak RSS.
 */
function diffBench(): void {
  if (DIFF_RUNS <= 0) return;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-bench-diff-'));
  try {
    const [a, b] = [path.join(work, 'base'), path.join(work, 'head')];
    scaleRun('cdk8s-ml-web', DIFF_N, a);
    fs.cpSync(a, b, { recursive: true });
    const manifest = path.join(b, 'manifests', 'bench.k8s.yaml');
    const text = fs.readFileSync(manifest, 'utf8');
    const image = `registry.example.com/model-${Math.floor(DIFF_N / 2)}:1.0.0`;
    if (!text.includes(image)) throw new Error(`${image} not in ${manifest}`);
    fs.writeFileSync(manifest, text.replace(image, image.replace(/1\.0\.0$/, '1.0.1')));
    const cli = [...TS_NODE, path.join(ROOT, 'lib/cli/main.ts')];
    const cases: Record<string, [string, string[]]> = {
      "baseline: cdk8s-ml --version (the command's start-up)": ['node', [...cli, '--version']],
      'diff -r base head': ['diff', ['-r', a, b]],
      'cdk8s-ml diff base head': ['node', [...cli, 'diff', a, b]],
      'cdk8s-ml diff base head --format markdown': ['node', [...cli, 'diff', a, b, '--format', 'markdown']],
    };
    const runs: Record<string, { wall: number; peakRssMb: number }[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (const [cmd, args] of Object.values(cases)) timed(cmd, args); // warm the file cache
    for (let i = 0; i < DIFF_RUNS; i++) {
      for (const [name, [cmd, args]] of Object.entries(cases)) runs[name].push(timed(cmd, args));
    }
    const objects = text.split(/^---$/m).length;
    console.log(
      `\n(h) cdk8s-ml diff of two outputs of N=${DIFF_N} services with frontends ` +
        `(${objects} objects, ${(text.length / 2 ** 20).toFixed(0)} MB of manifests) differing in one image,\n` +
        `    against diff -r of the same directories (wall time, median of ${DIFF_RUNS}; peak RSS, max)`,
    );
    for (const [name, r] of Object.entries(runs)) {
      console.log(
        `  ${name.padEnd(50)} ${fmt(median(r.map((x) => x.wall))).padStart(8)}   peak ${Math.max(...r.map((x) => x.peakRssMb))
          .toFixed(0)
          .padStart(5)} MB`,
      );
    }
    const ratio = median(runs['cdk8s-ml diff base head'].map((x) => x.wall)) / median(runs['diff -r base head'].map((x) => x.wall));
    console.log(`  cdk8s-ml diff / diff -r: ${ratio.toFixed(1)}x`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * (i): `cdk8s-ml check DIR` on generated objects, against the command's start-up; medians of wall time,
 * max of peak RSS (GNU time). Targets (issue 22): linear time, at most 1 GB at 100,000 objects.
 */
function checkBench(): void {
  const runs = Number(process.env.BENCH_CHECK_RUNS ?? 3);
  if (runs <= 0) return;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-bench-check-'));
  try {
    const cli = [...TS_NODE, path.join(ROOT, 'lib/cli/main.ts')];
    const cases: Record<string, [string, string[]]> = { "baseline: cdk8s-ml --version (the command's start-up)": ['node', [...cli, '--version']] };
    for (const n of [10000, 100000]) {
      const dir = path.join(work, `objects-${n}`);
      scaleRun('objects', n, dir);
      cases[`cdk8s-ml check: ${n.toLocaleString('en-US')} objects`] = ['node', [...cli, 'check', dir]];
    }
    const res: Record<string, { wall: number; peakRssMb: number }[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (let i = 0; i < runs; i++) {
      for (const [name, [cmd, args]] of Object.entries(cases)) res[name].push(timed(cmd, args));
    }
    console.log(`\n(i) cdk8s-ml check on N objects of YAML from elsewhere (wall time, median of ${runs}; peak RSS, max)`);
    const wallOf = (k: string) => median(res[k].map((x) => x.wall));
    const peakOf = (k: string) => Math.max(...res[k].map((x) => x.peakRssMb));
    for (const k of Object.keys(cases)) console.log(`  ${k.padEnd(56)} ${fmt(wallOf(k)).padStart(8)}   peak ${peakOf(k).toFixed(0).padStart(5)} MB`);
    const base = wallOf("baseline: cdk8s-ml --version (the command's start-up)");
    const [t10k, t100k] = ['cdk8s-ml check: 10,000 objects', 'cdk8s-ml check: 100,000 objects'].map(wallOf);
    const ratio = (t100k - base) / (t10k - base);
    const peak = peakOf('cdk8s-ml check: 100,000 objects');
    console.log(
      `  t(100,000)/t(10,000), start-up taken off: ${ratio.toFixed(1)} (linear: 10; target <= 11: ${ratio <= 11 ? 'met' : 'MISSED'}); ` +
        `peak at 100,000: ${peak.toFixed(0)} MB (target <= 1024 MB: ${peak <= 1024 ? 'met' : 'MISSED'})`,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Interleaved runs of each case; medians. */
function interleaved(cases: Record<string, [string, string[], string]>): Record<string, number> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const [cmd, args, cwd] of Object.values(cases)) wall(cmd, args, cwd); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    for (const [name, [cmd, args, cwd]] of Object.entries(cases)) times[name].push(wall(cmd, args, cwd));
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

function duKb(dir: string): number {
  return Number(run('du', ['-sk', dir], ROOT).stdout.split('\t')[0]);
}

console.log("\n(d) a new project from cdk8s-ml init, installed from this checkout's tarball (wall time, median)");
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-bench-'));
try {
  const { tarball } = packCheckout(work);
  const project = path.join(work, 'bench-app');
  initProject(tarball, project);
  installProject(project, tarball);
  const bin = (name: string) => path.join(project, 'node_modules/.bin', name);
  const d = interleaved({
    'baseline: npx cdk8s --version (cdk8s-cli start-up)': ['npx', ['cdk8s', '--version'], project],
    'npx cdk8s synth (cdk8s.yaml: node -r cdk8s-ml/register main.ts)': ['npx', ['cdk8s', 'synth', '--check-upgrade', 'false'], project],
    'baseline: node_modules/.bin/cdk8s --version': [bin('cdk8s'), ['--version'], project],
    'node_modules/.bin/cdk8s synth': [bin('cdk8s'), ['synth', '--check-upgrade', 'false'], project],
    'the app alone: node -r cdk8s-ml/register main.ts': ['node', ['-r', 'cdk8s-ml/register', 'main.ts'], project],
  });
  for (const [k, v] of Object.entries(d)) console.log(`  ${k.padEnd(66)} ${fmt(v)}`);
  const npxRatio = d['npx cdk8s synth (cdk8s.yaml: node -r cdk8s-ml/register main.ts)'] / d['baseline: npx cdk8s --version (cdk8s-cli start-up)'];
  const binRatio = d['node_modules/.bin/cdk8s synth'] / d['baseline: node_modules/.bin/cdk8s --version'];
  console.log(
    `  cdk8s synth / cdk8s --version: npx ${npxRatio.toFixed(2)}x, without ` +
      `npx ${binRatio.toFixed(2)}x (target <= 1.2x: ${npxRatio <= 1.2 ? 'met' : 'MISSED'} with ` +
      `npx, ${binRatio <= 1.2 ? 'met' : 'MISSED'} without)`,
  );

  // Runtime install size: what `npm ci --omit=dev` (the Argo CD plugin's install) puts in node_modules.
  const runtime = path.join(work, 'runtime');
  fs.mkdirSync(runtime);
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(project, f), path.join(runtime, f));
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], runtime);
  const nm = path.join(runtime, 'node_modules');
  const own = ['cdk8s', 'cdk8s-plus-28', 'constructs', '@swc'].reduce(
    (kb, p) => kb + (fs.existsSync(path.join(nm, p)) ? duKb(path.join(nm, p)) : 0),
    0,
  );
  const all = duKb(nm);
  console.log(
    `  runtime install (npm ci --omit=dev): ${(all / 1024).toFixed(0)} MB in all; cdk8s-ml ` +
      `and its own dependencies ${((all - own) / 1024).toFixed(0)} MB, the peers and ` +
      `@swc/core ${(own / 1024).toFixed(0)} MB`,
  );

  console.log("\n(e) cdk8s-ml check (the installed command) on the reference apps' output (wall time, median)");
  const dist = path.join(work, 'reference-dist');
  run('node', [...TS_NODE, 'apps/main.ts'], ROOT, { ...userEnv(), CDK8S_OUTDIR: dist });
  const e = interleaved({
    "baseline: cdk8s-ml --version (the command's start-up)": [bin('cdk8s-ml'), ['--version'], project],
    [`cdk8s-ml check <reference output: ${fs.readdirSync(path.join(dist, 'manifests')).length} manifest files>`]: [
      bin('cdk8s-ml'),
      ['check', dist],
      project,
    ],
  });
  for (const [k, v] of Object.entries(e)) console.log(`  ${k.padEnd(66)} ${fmt(v)}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

webBench();
diffBench();
checkBench();
