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

  describe('options', () => {
    /** One bad input of each kind: a manifest (image-tag), a Dockerfile (user), a compose file (compose-schema), a layout. */
    function writeOneOfEach(dir: string): string[] {
      write(dir, 'k8s/app.yaml', yamlStream(caseObjects(K8S_CASES['image-tag'][0][1])));
      write(dir, 'web/Dockerfile', DOCKERFILE_CASES.user[0][1]);
      write(dir, 'compose.yaml', dump(COMPOSE_CASES[0][1](goodCompose())));
      write(dir, 'out/manifests/app.k8s.yaml', yamlStream(all(goodSet('out'))));
      write(dir, 'out/compose/app.compose.yaml', JSON.stringify(goodCompose()));
      return ['k8s', 'web/Dockerfile', 'compose.yaml', 'out'];
    }
    const rules = (lines: string[]) => [...new Set(lines.map((l) => parseLine(l).rule))].sort();

    test('--skip and --only choose rules of every kind of problem (manifests, Dockerfiles, compose, layout)', () => {
      const dir = tempDir();
      const paths = writeOneOfEach(dir);
      expect(rules(check(dir, paths).lines)).toEqual(['compose-schema', 'image-tag', 'layout', 'user']);
      expect(check(dir, ['--skip', 'image-tag,user', '--skip=compose-schema', ...paths])).toMatchObject({ code: 1 });
      expect(rules(check(dir, ['--skip', 'image-tag,user', '--skip=compose-schema', ...paths]).lines)).toEqual(['layout']);
      expect(check(dir, ['--skip', 'image-tag,user,compose-schema,layout', ...paths])).toMatchObject({ code: 0, out: '' });
      expect(rules(check(dir, ['--only', 'user,layout', ...paths]).lines)).toEqual(['layout', 'user']);
      // Skip wins over only, as kube-linter's --exclude over --include.
      expect(rules(check(dir, ['--only', 'user,layout', '--skip', 'layout', ...paths]).lines)).toEqual(['user']);
      expect(check(dir, ['--only', 'env-url', ...paths])).toMatchObject({ code: 0, out: '', err: 'no problems in 5 files\n' });
    });

    test.each<[string, string[], RegExp]>([
      ['a misspelt rule', ['--skip', 'pss-restriced'], /--skip: "pss-restriced" is not a rule of the check \(did you mean "pss-restricted"\?\)/],
      ['a rule among others', ['--only', 'user,imagetag'], /--only: "imagetag" is not a rule of the check \(did you mean "image-tag"\?\)/],
      ['yaml, which is always reported', ['--skip', 'yaml'], /--skip: "yaml" problems are always reported/],
      ['no value', ['--skip='], /--skip needs a value/],
      ['a misspelt option', ['--skp', 'user'], /unknown option "--skp" \(did you mean "--skip"\?\)/],
      ['an unknown format', ['-o', 'junit'], /--output junit: the formats are text, json, sarif/],
      [
        'a Pod Security version the check does not model',
        ['--pod-security-version', 'v1.27'],
        /check option podSecurityVersion must be "latest" or "v1.<minor>"/,
      ],
      ['a Kubernetes version without a field table', ['--kubernetes-version', '1.20'], /check option kubernetesVersion must be one of 1\.33, /],
      ['a --crd file that does not exist', ['--crd', 'crds.yaml'], /--crd crds\.yaml: no such file/],
      ['a --crd file without a CRD', ['--crd', 'x.yaml'], /--crd x\.yaml: holds no CustomResourceDefinition/],
      ['a --crd file that is not YAML', ['--crd', 'broken.yaml'], /--crd broken\.yaml: yaml: /],
    ])('exit 2, one line on stderr, nothing on stdout: %s', (_name, options, message) => {
      const dir = tempDir();
      write(dir, 'x.yaml', yamlStream(all(goodSet())));
      write(dir, 'broken.yaml', 'kind: [\n');
      const res = check(dir, [...options, 'x.yaml']);
      expect(res).toMatchObject({ code: 2, out: '' });
      expect(res.err).toMatch(new RegExp(`^cdk8s-ml check: ${message.source}.* \\(cdk8s-ml check --help\\)\\n$`));
    });

    test('--pod-security-version and --kubernetes-version reach the check: a good set is clean at latest and at 1.33', () => {
      const dir = tempDir();
      write(dir, 'x.yaml', yamlStream(all(goodSet())));
      expect(check(dir, ['--pod-security-version', 'latest', 'x.yaml'])).toMatchObject({ code: 0, out: '' });
      expect(check(dir, ['--kubernetes-version=1.33', 'x.yaml'])).toMatchObject({ code: 0, out: '' });
    });

    test('--crd: a custom kind is unknown without its CRD, known with it (a v1 List of CRDs read too)', () => {
      const dir = tempDir();
      const crd = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
          scope: 'Namespaced',
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } },
            },
          ],
        },
      };
      write(dir, 'crds.yaml', yamlStream([{ apiVersion: 'v1', kind: 'List', items: [crd] }]));
      write(
        dir,
        'w.yaml',
        yamlStream([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ml' }, spec: { size: 3 } }]),
      );
      expect(check(dir, ['w.yaml']).lines).toEqual([expect.stringMatching(/^w\.yaml: Widget\/ml\/w: schema: no Kubernetes model .*--crd/)]);
      expect(check(dir, ['--crd', 'crds.yaml', 'w.yaml'])).toMatchObject({ code: 0, out: '' });
    });

    test('-o json: one document of the problems (file, line, object, rule, message, fix) and a summary; exit codes as text', () => {
      const dir = tempDir();
      const paths = writeOneOfEach(dir);
      const res = check(dir, ['-o', 'json', ...paths]);
      expect(res.code).toBe(1);
      const doc = JSON.parse(res.out);
      expect(doc.summary).toEqual({ problems: doc.problems.length, filesWithProblems: 4, filesChecked: 5 });
      expect(doc.problems).toContainEqual({
        file: 'web/Dockerfile',
        line: 8,
        rule: 'user',
        message: 'USER 0:0 runs as root (uid 0)',
        fix: CHECK_RULES.find((r) => r.id === 'user')?.fix,
      });
      expect(doc.problems.find((p: any) => p.rule === 'image-tag')).toMatchObject({ file: 'k8s/app.yaml', object: expect.stringMatching(/\//) });
      // The text lines are the same problems.
      expect(doc.problems.length).toBe(check(dir, paths).lines.length);
      const clean = check(dir, ['--output=json', 'web/Dockerfile', '--skip', 'user']);
      expect(clean.code).toBe(0);
      expect(JSON.parse(clean.out)).toEqual({ problems: [], summary: { problems: 0, filesWithProblems: 0, filesChecked: 1 } });
    });

    test('-o sarif: SARIF 2.1.0 with the rules and a result per problem, files relative to the working directory', () => {
      const dir = tempDir();
      const paths = writeOneOfEach(dir);
      const res = check(dir, ['--output', 'sarif', ...paths.map((p) => path.join(dir, p))]);
      expect(res.code).toBe(1);
      const run = JSON.parse(res.out).runs[0];
      expect(run.tool.driver).toMatchObject({ name: 'cdk8s-ml', version: expect.any(String) });
      expect(run.tool.driver.rules.map((r: any) => r.id)).toEqual(CHECK_RULES.map((r) => r.id));
      expect(run.results.length).toBe(check(dir, paths).lines.length);
      expect(run.results.find((r: any) => r.ruleId === 'user').locations[0].physicalLocation).toEqual({
        artifactLocation: { uri: 'web/Dockerfile' },
        region: { startLine: 8 },
      });
      expect(run.results.every((r: any) => !r.locations[0].physicalLocation.artifactLocation.uri.startsWith('/'))).toBe(true);
    });

    test('--help documents every option', () => {
      const out = check(ROOT, ['--help']).out;
      for (const option of [
        '--skip RULE',
        '--only RULE',
        '--pod-security-version v1.N|latest',
        '--kubernetes-version 1.N',
        '--crd FILE',
        '-o, --output',
      ])
        expect(out).toContain(option);
      expect(out).toMatch(/text \(default\)/);
      expect(out).toMatch(/json: /);
      expect(out).toMatch(/sarif: SARIF 2\.1\.0/);
    });
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
