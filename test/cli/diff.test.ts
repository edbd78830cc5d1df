import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { buildReferenceApps } from '../../apps/main';
import { main } from '../../lib/cli/main';
import { synth } from '../_util/synth';
import { referenceWith } from '../diff/_apps';
import { captureIo } from './_io';

const ROOT = path.resolve(__dirname, '../..');
const tempDir = (prefix = 'cdk8s-ml-diff-test-') => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

function writeOutput(files: Map<string, string>): string {
  const dir = tempDir();
  for (const [rel, content] of files) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

function run(argv: string[], cwd = ROOT): { code: number; out: string; err: string } {
  const io = captureIo(cwd);
  const code = main(argv, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

describe('cdk8s-ml diff BASE HEAD', () => {
  const base = writeOutput(synth(buildReferenceApps).files);
  const bump = writeOutput(synth(referenceWith({ andGate: { webTag: '1.1.0' } })).files);
  const retrain = writeOutput(synth(referenceWith({ eegLetters: { trainCommand: ['python', 'train.py', '--epochs', '20'] } })).files);

  test('no hazard: exit 0, the text on stdout', () => {
    const r = run(['diff', base, bump]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('image web: registry.example.com/and-gate-web:1.0.0 -> registry.example.com/and-gate-web:1.1.0');
  });

  test('a hazard: exit 1, in every format', () => {
    expect(run(['diff', base, retrain]).out).toContain('! [job-rerun] Job/eeg-letters/train');
    const md = run(['diff', base, retrain, '--format', 'markdown']);
    expect(md.code).toBe(1);
    expect(md.out).toMatch(/^<!-- cdk8s-ml diff -->\n## cdk8s-ml diff\n/);
    const json = run(['diff', '--format', 'json', base, retrain]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).hazards.map((h: any) => h.id)).toEqual(['job-rerun']);
  });

  test('the same directory twice: no changes, exit 0', () => {
    expect(run(['diff', base, base])).toEqual({ code: 0, out: 'cdk8s-ml diff: no changes\n', err: '' });
  });

  test('--help', () => {
    const r = run(['diff', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: cdk8s-ml diff BASE HEAD[\s\S]*--git REF[\s\S]*Exit code: 0 no hazard, 1 hazards, 2/);
    expect(run(['--help']).out).toContain('diff BASE HEAD');
  });

  const file = path.join(tempDir(), 'not-a-dir.txt');
  fs.writeFileSync(file, 'x');
  const noManifests = tempDir();
  test.each([
    [[], 'needs two output directories, BASE and HEAD, got none (or --git REF to synthesize the base from git)'],
    [['only-one'], 'needs two output directories, BASE and HEAD, got "only-one" (or --git REF to synthesize the base from git)'],
    [['a', 'b', 'c'], 'needs two output directories, BASE and HEAD, got "a" "b" "c" (or --git REF to synthesize the base from git)'],
    [['--bogus'], 'unknown option "--bogus"'],
    [['a', 'b', '--format'], '--format needs a value'],
    [['a', 'b', '--format', 'html'], '--format html: the formats are text, markdown, json'],
    [['/nonexistent/base', '/nonexistent/head'], 'BASE /nonexistent/base: no such directory'],
    [[file, file], `BASE ${file}: not a directory (give an output directory, e.g. dist)`],
    [[noManifests, noManifests], `BASE ${noManifests}: no manifests/ in it; is it an output directory as MlApp writes it (e.g. dist)?`],
    [['--git'], '--git needs a REF (e.g. --git origin/main)'],
    [['--git', 'a', 'b', 'c'], '--git takes REF and at most one HEAD_REF, got 3 arguments'],
    [['--git', 'main', '--dir'], '--dir needs a value'],
  ])('usage error %j: one line naming the problem, exit 2', (args, message) => {
    const r = run(['diff', ...args]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(`cdk8s-ml diff: ${message} (cdk8s-ml diff --help)\n`);
  });

  test('HEAD missing is named as HEAD', () => {
    expect(run(['diff', base, '/nonexistent/head']).err).toContain('HEAD /nonexistent/head: no such directory');
  });
});

describe('cdk8s-ml diff --git', () => {
  // A minimal project: its "app" writes manifests/demo.k8s.yaml from config.json, as MlApp would.
  const app = `const fs = require('fs'), path = require('path');
const c = JSON.parse(fs.readFileSync('config.json', 'utf8'));
if (c.fail) { console.error('app failed on purpose'); process.exit(3); }
const out = process.env.CDK8S_OUTDIR;
fs.mkdirSync(path.join(out, 'manifests'), { recursive: true });
fs.writeFileSync(path.join(out, 'manifests/demo.k8s.yaml'), [
  'apiVersion: v1\\nkind: Namespace\\nmetadata:\\n  name: demo\\n',
  'apiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: api\\n  namespace: demo\\nspec:\\n  replicas: ' + c.replicas +
  '\\n  selector:\\n    matchLabels:\\n      app: api\\n  template:\\n    metadata:\\n      labels:\\n        app: api\\n' +
  '    spec:\\n      containers:\\n        - name: api\\n          image: ' + c.image + '\\n',
].join('---\\n'));
`;
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  function project(): string {
    const dir = tempDir('cdk8s-ml-diff-git-');
    fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'app: node app.js\n');
    fs.writeFileSync(path.join(dir, 'app.js'), app);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ replicas: 2, image: 'registry.example.com/api:1.0.0' }));
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'one');
    return dir;
  }
  const worktrees = (dir: string) => git(dir, 'worktree', 'list').split('\n').length;

  test('REF against the working tree; REF against HEAD_REF; the worktrees and outputs are removed', () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ replicas: 3, image: 'registry.example.com/api:1.1.0' }));
    const r = run(['diff', '--git', 'HEAD'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      '  Deployment/demo/api\n    image api: registry.example.com/api:1.0.0 -> registry.example.com/api:1.1.0\n    scale: 2 replicas -> 3 replicas\n',
    );
    git(dir, 'commit', '-q', '-am', 'two');
    expect(run(['diff', '--git', 'HEAD~1', 'HEAD'], dir).out).toContain('scale: 2 replicas -> 3 replicas');
    expect(run(['diff', '--git', 'HEAD~1', '--dir', dir], ROOT).out).toContain('scale: 2 replicas -> 3 replicas');
    expect(worktrees(dir)).toBe(1);
    expect(fs.readdirSync(dir).sort()).toEqual(['.git', 'app.js', 'cdk8s.yaml', 'config.json']);
  });

  test('the app failing at the ref: exit 2 with what failed, the worktree removed', () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ fail: true }));
    git(dir, 'commit', '-q', '-am', 'broken');
    const r = run(['diff', '--git', 'HEAD', 'HEAD~1'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/app failed on purpose\n[\s\S]*cdk8s-ml diff: the app "node app.js" failed for HEAD \([0-9a-f]{12}\) \(exit code 3\)\n$/);
    expect(worktrees(dir)).toBe(1);
    expect(fs.readdirSync(dir).sort()).toEqual(['.git', 'app.js', 'cdk8s.yaml', 'config.json']);
  });

  test('a ref that does not exist, or no git repository: usage errors', () => {
    const dir = project();
    expect(run(['diff', '--git', 'no-such-branch'], dir)).toMatchObject({
      code: 2,
      err: `cdk8s-ml diff: --git no-such-branch: no such commit in ${fs.realpathSync(dir)} (cdk8s-ml diff --help)\n`,
    });
    const plain = tempDir();
    expect(run(['diff', '--git', 'main'], plain)).toMatchObject({
      code: 2,
      err: `cdk8s-ml diff: --git: ${plain} is not in a git repository (cdk8s-ml diff --help)\n`,
    });
  });
});

describe("the scaffold's workflow (templates/init/.github/workflows/manifest-diff.yml)", () => {
  const text = fs.readFileSync(path.join(ROOT, 'templates/init/.github/workflows/manifest-diff.yml'), 'utf8');
  const workflow = yaml.load(text) as any;
  const steps: any[] = workflow.jobs.diff.steps;

  test('parses: runs on pull requests, may comment, synthesizes head and base, diffs them, comments', () => {
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
    expect(workflow.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(steps.map((s) => s.name ?? s.uses)).toEqual([
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'Synthesize the head',
      'Synthesize the base',
      'Diff',
      'Comment on the pull request',
    ]);
    expect(steps[0].with['fetch-depth']).toBe(0); // the base commit must be there for git worktree
    expect(steps[3].run).toContain('git worktree add --detach "$RUNNER_TEMP/base-src" "$BASE_SHA"');
    expect(steps[5].with.script).toContain("body.split('\\n')[0]");
  });

  test('the diff command it runs works on two synthesized outputs and prints the Markdown the comment step looks for', () => {
    const line = (steps[4].run as string).split('\n').find((l) => l.includes('cdk8s-ml diff'))!;
    const tmp = tempDir();
    fs.renameSync(writeOutput(synth(buildReferenceApps).files), path.join(tmp, 'base'));
    fs.renameSync(writeOutput(synth(referenceWith({ canary: { scorerWeight: 50 } })).files), path.join(tmp, 'head'));
    const cmd = line
      .replace(/^npx cdk8s-ml /, '')
      .replace(/\s*>.*$/, '')
      .replace(/\$RUNNER_TEMP/g, tmp);
    const argv = cmd.split(/\s+/).map((a) => a.replace(/^"(.*)"$/, '$1'));
    expect(argv).toEqual(['diff', `${tmp}/base`, `${tmp}/head`, '--format', 'markdown']);
    const r = run(argv);
    expect(r.code).toBe(1); // the weight change is a hazard: the step warns, does not fail
    expect(r.out.split('\n')[0]).toBe('<!-- cdk8s-ml diff -->');
    expect(r.out).toContain('Service/canary/scorer: traffic split');
  });
});
