/**
 * The release: the package as `npm pack` makes it (the build included) passes `npm publish --dry-run`,
 * and .github/workflows/release.yml publishes from a v* tag only after the repo's tests, with provenance.
 * npm 11's dry-run still GETs the package's registry record (to warn of a published version; with its
 * retries, a minute against a closed port): --offline stops that, and the registry is a closed local port.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { packCheckout, ROOT, userEnv } from '../_util/consumer';

jest.setTimeout(5 * 60_000);

const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-publish-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}
const workflow = load(fs.readFileSync(path.join(ROOT, '.github/workflows/release.yml'), 'utf8')) as any;
const steps: Step[] = workflow.jobs.publish.steps;
const publishAt = steps.findIndex((s) => /^npm publish\b/.test(s.run ?? ''));

test('npm publish --dry-run of the packed package succeeds, with the CLI compiled and no TypeScript sources', () => {
  const { tarball } = packCheckout(work);
  const res = spawnSync('npm', ['publish', '--dry-run', '--json', '--offline', '--registry', 'http://127.0.0.1:9/', tarball], {
    cwd: work,
    encoding: 'utf8',
    env: userEnv(),
    timeout: 60_000,
  });
  expect(res.status).toBe(0);
  const json = JSON.parse(res.stdout.slice(res.stdout.indexOf('{')));
  const published = json['cdk8s-ml'] ?? json; // npm 11 keys the report by package name, npm 10 does not
  expect(published).toMatchObject({ id: `cdk8s-ml@${own.version}`, name: 'cdk8s-ml', version: own.version });
  const files: string[] = published.files.map((f: { path: string }) => f.path);
  expect(files).toEqual(expect.arrayContaining(['bin/cdk8s-ml.js', 'build/lib/cli/main.js', 'register.js', 'templates/init/README.md']));
  // bin/cdk8s-ml.js runs lib/cli/main.ts when it exists (a checkout): the package must not ship it
  expect(files.filter((f) => f.startsWith('lib/'))).toEqual([]);
});

test('the release workflow runs on v* tags, tests before it publishes, with provenance and the NPM_TOKEN secret', () => {
  expect(workflow.on).toEqual({ push: { tags: ['v*'] } });
  expect(workflow.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  expect(workflow.jobs.publish.defaults).toEqual({ run: { shell: 'bash' } }); // the guard below is run by bash here too
  expect(publishAt).toBeGreaterThan(0);
  expect(steps[publishAt].run!.trim()).toBe('npm publish --provenance --access public');
  expect(steps[publishAt].env).toEqual({ NODE_AUTH_TOKEN: '${{ secrets.NPM_TOKEN }}' });
  expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with).toMatchObject({ 'registry-url': 'https://registry.npmjs.org' });
  // the tests run before the publish step, through the repo's CI script, which installs from the lockfile and runs npm test
  const testAt = steps.findIndex((s) => s.run?.trim() === 'bash .ci/run');
  expect(testAt).toBeGreaterThan(-1);
  expect(testAt).toBeLessThan(publishAt);
  const ci = fs
    .readFileSync(path.join(ROOT, '.ci/run'), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'));
  expect(ci.findIndex((l) => l.startsWith('npm ci'))).toBeLessThan(ci.indexOf('npm test'));
});

describe('the release workflow refuses before testing', () => {
  const guard = steps.find((s) => /GITHUB_REF_NAME/.test(s.run ?? ''))!;
  /** Runs the workflow's guard step with bash in a directory holding the given package.json. */
  function runGuard(tag: string, pkg: object) {
    const dir = fs.mkdtempSync(path.join(work, 'guard-'));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    const env = userEnv({ GITHUB_REF_NAME: tag, GITHUB_REPOSITORY: 'acme/cdk8s-ml' });
    return spawnSync('bash', ['-e', '-c', guard.run!], { cwd: dir, env, encoding: 'utf8' });
  }
  const repository = { type: 'git', url: 'git+https://github.com/acme/cdk8s-ml.git' };

  test('it comes before the tests', () => {
    expect(steps.indexOf(guard)).toBeLessThan(steps.findIndex((s) => s.run?.trim() === 'bash .ci/run'));
  });

  test('a tag that is v + the version, in a package naming this repository, passes', () => {
    expect(runGuard(`v${own.version}`, { ...own, repository })).toMatchObject({ status: 0, stdout: '' });
  });

  test('a tag that is not v + package.json version', () => {
    const res = runGuard('v9.9.9', { ...own, repository });
    expect(res.status).toBe(1);
    expect(res.stdout).toContain(`tag v9.9.9 does not match package.json's version ${own.version}`);
  });

  test('a package.json whose repository.url is missing or another repository (npm would refuse the provenance: E422)', () => {
    for (const pkg of [
      { ...own, repository: undefined },
      { ...own, repository: { url: 'https://github.com/other/cdk8s-ml' } },
    ]) {
      const res = runGuard(`v${own.version}`, pkg);
      expect(res.status).toBe(1);
      expect(res.stdout).toContain('npm publish --provenance needs https://github.com/acme/cdk8s-ml');
    }
  });
});
