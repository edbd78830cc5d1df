import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dump } from 'js-yaml';
import { buildReferenceApps } from '../../apps/main';
import { CHECK_RULES, MlApp } from '../../lib';
import { main } from '../../lib/cli/main';
import {
  all,
  caseObjects,
  COMPOSE_CASES,
  DOCKERFILE_CASES,
  DOCKERIGNORE_CASES,
  GOOD_DOCKERFILE,
  GOOD_DOCKERIGNORE,
  goodCompose,
  goodSet,
  K8S_CASES,
} from '../check/fixtures';
import { captureIo } from './_io';

const ROOT = path.resolve(__dirname, '../..');
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-check-test-'));
const yamlStream = (objects: readonly unknown[]) => objects.map((o) => dump(o, { noRefs: true })).join('---\n');

function write(dir: string, rel: string, text: string): string {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
  return rel;
}

/** `cdk8s-ml check ARGS` in this process. */
function check(cwd: string, args: string[], stdin = '') {
  const io = captureIo(cwd, stdin);
  const code = main(['check', ...args], io);
  return {
    code,
    out: io.out.join(''),
    err: io.err.join(''),
    lines: io.out
      .join('')
      .split('\n')
      .filter((l) => l !== ''),
  };
}

/** The same through a real process: the TypeScript sources under the repo's require hook. */
function checkProcess(cwd: string, args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['-r', path.join(ROOT, 'scripts/register.js'), path.join(ROOT, 'lib/cli/main.ts'), 'check', ...args], {
    cwd,
    input,
    encoding: 'utf8',
  });
}

/** `file: Kind/ns/name: rule: message`, `file:8: rule: message` or `file: rule: message` -> file and rule. */
function parseLine(line: string): { file: string; rule: string } {
  const m = /^(.+?)(?::\d+)?: (?:(?:<no kind>|[^\s:/]+)\/[^\s:/]+\/(?:<no name>|[^\s:]+): )?([a-z0-9-]+): /.exec(line);
  if (!m) throw new Error(`not a problem line: ${line}`);
  return { file: m[1], rule: m[2] };
}

/** The good inputs, each in its own file: all of them together check clean. */
function writeGoodInputs(dir: string): string[] {
  return [
    write(dir, 'k8s/good.yaml', yamlStream(all(goodSet('good')))),
    write(dir, 'web/Dockerfile', GOOD_DOCKERFILE),
    write(dir, 'web/Dockerfile.dockerignore', GOOD_DOCKERIGNORE),
    write(dir, 'compose.yaml', JSON.stringify(goodCompose())),
  ];
}

/**
 * Every bad case of test/check/fixtures.ts as its own file, with the rule it must trip. Kubernetes
 * cases each get their own namespace, so one command can check them all as one set.
 */
function writeBadCases(dir: string): Array<{ file: string; rule: string }> {
  const out: Array<{ file: string; rule: string }> = [];
  let n = 0;
  for (const [rule, cases] of Object.entries(K8S_CASES)) {
    for (const [, mutate] of cases) out.push({ rule, file: write(dir, `k8s/${rule}-${n}.yaml`, yamlStream(caseObjects(mutate, `case-${n++}`))) });
  }
  for (const [rule, cases] of Object.entries(DOCKERFILE_CASES)) {
    cases.forEach(([, text], i) => out.push({ rule, file: write(dir, `images/${rule}-${i}.Dockerfile`, text) }));
  }
  DOCKERIGNORE_CASES.forEach(([, line], i) =>
    out.push({ rule: 'dockerignore', file: write(dir, `images/missing-${i}.dockerignore`, GOOD_DOCKERIGNORE.replace(line, '')) }),
  );
  COMPOSE_CASES.forEach(([, mutate], i) =>
    out.push({ rule: 'compose-schema', file: write(dir, `compose/${i}.compose.yml`, JSON.stringify(mutate(goodCompose()))) }),
  );
  out.push({ rule: 'yaml', file: write(dir, 'k8s/broken.yaml', 'kind: [\n') });
  out.push({ rule: 'yaml', file: write(dir, 'k8s/duplicate-key.yaml', 'apiVersion: v1\nkind: ConfigMap\nkind: Secret\n') });
  // An output directory with a YAML file where cdk8s synth --stdout would take it for a manifest.
  write(dir, 'out/manifests/app.k8s.yaml', yamlStream(all(goodSet('out'))));
  out.push({ rule: 'layout', file: write(dir, 'out/compose/app.compose.yaml', JSON.stringify(goodCompose())) });
  return out;
}

describe('cdk8s-ml check', () => {
  test("a real process catches every bad case of the checker's fixtures, each in its file, in one run over all of them", () => {
    const dir = tempDir();
    const cases = writeBadCases(dir);
    const res = checkProcess(dir, ['k8s', ...cases.filter((c) => c.file.startsWith('images/')).map((c) => c.file), 'compose', 'out']);
    expect(res.status).toBe(1);
    const found = new Set(
      res.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map(parseLine)
        .map((p) => `${p.file} ${p.rule}`),
    );
    expect(cases.filter((c) => !found.has(`${c.file} ${c.rule}`))).toEqual([]);
    // Every rule the check has is among them.
    expect(CHECK_RULES.map((r) => r.id).filter((id) => !cases.some((c) => c.rule === id))).toEqual([]);
    expect(res.stderr).toMatch(/^\d+ problems in \d+ files\n$/);
    const files = new Set(
      res.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => parseLine(l).file),
    );
    expect(res.stderr).toBe(`${res.stdout.split('\n').filter((l) => l !== '').length} problems in ${files.size} files\n`);
  }, 60_000);

  describe("each bad case on its own, in process: the line is the checker's problem, prefixed with the file", () => {
    const dir = tempDir();

    test.each(Object.values(K8S_CASES).flat())('manifests: %s', (_name, mutate, expected) => {
      write(dir, 'case.yaml', yamlStream(caseObjects(mutate)));
      const res = check(dir, ['case.yaml']);
      expect(res.code).toBe(1);
      expect(res.lines.every((l) => l.startsWith('case.yaml: '))).toBe(true);
      expect(res.lines.map((l) => l.slice('case.yaml: '.length))).toContainEqual(expect.stringMatching(expected));
    });

    test.each(Object.values(DOCKERFILE_CASES).flat())('Dockerfile: %s', (_name, text, expected) => {
      write(dir, 'Dockerfile', text);
      const res = check(dir, ['Dockerfile']);
      expect(res.code).toBe(1);
      // Dockerfile:8: is what checkDockerfile reports as line 8:
      expect(res.lines.map((l) => l.replace(/^Dockerfile:(\d+): /, 'line $1: ').replace(/^Dockerfile: /, ''))).toContainEqual(
        expect.stringMatching(expected),
      );
    });

    test.each(DOCKERIGNORE_CASES)('.dockerignore without %s', (_name, line, expected) => {
      write(dir, 'web.dockerignore', GOOD_DOCKERIGNORE.replace(line, ''));
      const res = check(dir, ['web.dockerignore']);
      expect(res.code).toBe(1);
      expect(res.lines).toEqual([expect.stringMatching(new RegExp(`^web\\.dockerignore: dockerignore: ${expected.source}`))]);
    });

    test.each(COMPOSE_CASES)('compose file: %s', (_name, mutate, expected) => {
      write(dir, 'docker-compose.yml', dump(mutate(goodCompose())));
      const res = check(dir, ['docker-compose.yml']);
      expect(res.code).toBe(1);
      expect(res.lines.map((l) => l.replace(/^docker-compose\.yml: /, ''))).toContainEqual(expect.stringMatching(expected));
    });
  });

  test('exit 0, nothing on stdout when every PATH is clean: a Dockerfile, a .dockerignore, a compose file given directly, and manifests', () => {
    const dir = tempDir();
    const files = writeGoodInputs(dir);
    expect(check(dir, files)).toMatchObject({ code: 0, out: '', err: 'no problems in 4 files\n' });
    expect(check(path.join(dir, 'web'), ['Dockerfile'])).toMatchObject({ code: 0, out: '', err: 'no problems in 1 file\n' });
  });

  test('a directory of YAML from another tool: every *.yaml under it, checked together, problems mapped back to their file', () => {
    const dir = tempDir();
    const s = goodSet();
    write(dir, 'rendered/base/web.yaml', yamlStream([s.namespace, s.configMap, s.deployment, s.networkPolicy, s.pdb]));
    write(dir, 'rendered/base/web-service.yml', yamlStream([s.service]));
    write(dir, 'rendered/jobs/smoke.yaml', yamlStream([s.job]));
    write(dir, 'rendered/README.md', '# not YAML: not read\n');
    write(dir, 'rendered/.cache/stale.yaml', 'kind: [\n');
    expect(check(dir, ['rendered'])).toMatchObject({ code: 0, out: '', err: 'no problems in 3 files\n' });
    // The Job calls the Service of another file: without that file, the Job's file has the problem.
    fs.rmSync(path.join(dir, 'rendered/base/web-service.yml'));
    const res = check(dir, ['rendered/']);
    expect(res.code).toBe(1);
    // Both of its env URLs (TARGET_URL, SHORT_URL) name it.
    expect(res.lines).toEqual([
      expect.stringMatching(
        /^rendered\/jobs\/smoke\.yaml: Job\/ml\/smoke-test: env-url: .*env TARGET_URL .*names Service ml\/web, which is not among the manifests$/,
      ),
      expect.stringMatching(
        /^rendered\/jobs\/smoke\.yaml: Job\/ml\/smoke-test: env-url: .*env SHORT_URL .*names Service ml\/web, which is not among the manifests$/,
      ),
    ]);
    expect(res.err).toBe('2 problems in 1 file\n');
    // ...and given back as a second PATH, the objects of both are one set again.
    write(dir, 'service.json', JSON.stringify(s.service));
    expect(check(dir, ['rendered', 'service.json']).code).toBe(0);
  });

  test('- reads Kubernetes YAML from standard input, shown as "-", checked with the other PATHs', () => {
    const dir = tempDir();
    const s = goodSet();
    write(dir, 'service.yaml', yamlStream([s.service]));
    expect(check(dir, ['-', 'service.yaml'], yamlStream([s.namespace, s.configMap, s.deployment, s.networkPolicy, s.pdb, s.job]))).toMatchObject({
      code: 0,
      out: '',
    });
    const res = check(dir, ['-'], yamlStream([s.job]));
    expect(res.code).toBe(1);
    expect(res.lines).toEqual([
      expect.stringMatching(/^-: Job\/ml\/smoke-test: env-url: .*TARGET_URL/),
      expect.stringMatching(/^-: Job\/ml\/smoke-test: env-url: .*SHORT_URL/),
    ]);
    expect(check(dir, ['-'], 'a: [\n').lines).toEqual([expect.stringMatching(/^-: yaml: YAML error at line 2, column 1: /)]);
  });

  test.each<[string, string[], RegExp]>([
    ['no PATH', [], /no PATH given/],
    ['a PATH that does not exist', ['nope.yaml'], /nope\.yaml: no such file or directory/],
    ['an unknown option', ['--fix', 'x.yaml'], /unknown option "--fix"/],
    ['a file of no kind check knows', ['notes.txt'], /notes\.txt: not a file check knows/],
    ['a directory without YAML', ['empty'], /empty: no \*\.yaml or \*\.yml files/],
    ['stdin twice', ['-', '-'], /- \(standard input\) given more than once/],
  ])('exit 2, one line on stderr and nothing checked: %s', (_name, args, message) => {
    const dir = tempDir();
    write(dir, 'x.yaml', yamlStream(all(goodSet())));
    write(dir, 'notes.txt', 'hello\n');
    fs.mkdirSync(path.join(dir, 'empty'));
    const res = check(dir, args);
    expect(res).toMatchObject({ code: 2, out: '' });
    expect(res.err).toMatch(new RegExp(`^cdk8s-ml check: ${message.source}.* \\(cdk8s-ml check --help\\)\\n$`));
  });

  test('--help lists every rule id', () => {
    const res = check(ROOT, ['--help']);
    expect(res.code).toBe(0);
    for (const { id } of CHECK_RULES) expect(res.out).toMatch(new RegExp(`^  ${id} `, 'm'));
  });

  test("the reference apps' output directory is clean, in process and through a real process (stdin, exit codes 0, 1, 2 too)", () => {
    const outdir = path.join(tempDir(), 'dist');
    buildReferenceApps(new MlApp({ outdir })).synth();
    expect(check(ROOT, [outdir])).toMatchObject({ code: 0, out: '' });
    const res = checkProcess(path.dirname(outdir), ['dist']);
    expect({ status: res.status, stdout: res.stdout }).toEqual({ status: 0, stdout: '' });
    expect(res.stderr).toMatch(/^no problems in \d+ files\n$/);

    const s = goodSet();
    const piped = checkProcess(path.dirname(outdir), ['-'], yamlStream([s.job]));
    expect(piped.status).toBe(1);
    expect(piped.stdout).toMatch(/^-: Job\/ml\/smoke-test: env-url: .*TARGET_URL.*\n-: Job\/ml\/smoke-test: env-url: .*SHORT_URL.*\n$/);
    expect(piped.stderr).toBe('2 problems in 1 file\n');

    const usage = checkProcess(path.dirname(outdir), ['missing-dir']);
    expect({ status: usage.status, stdout: usage.stdout }).toEqual({ status: 2, stdout: '' });
    expect(usage.stderr.split('\n')).toEqual(['cdk8s-ml check: missing-dir: no such file or directory (cdk8s-ml check --help)', '']);
  }, 60_000);
});
