/**
 * bin/cdk8s-ml.js as npm runs it: in a fresh clone (sources, no build/) through the package's require
 * hook; in the published package (build/, no sources) from build/. Each layout is a copy in a temp
 * directory, so the repo's own build/ is neither used nor touched.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-bin-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A package root holding the given entries of this checkout (copied), node_modules linked. */
function layout(entries: readonly string[]): string {
  const dir = fs.mkdtempSync(path.join(work, 'root-'));
  for (const e of entries) fs.cpSync(path.join(ROOT, e), path.join(dir, e), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Runs `<root>/bin/cdk8s-ml.js` from an unrelated directory, as `npx cdk8s-ml` would. */
function cdk8sMl(root: string, args: string[], cwd = work) {
  return spawnSync(process.execPath, [path.join(root, 'bin/cdk8s-ml.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
}

/** A directory with one ConfigMap in the given namespace (`yes` is a boolean to kubectl: a problem). */
function manifestDir(namespace: string): string {
  const dir = fs.mkdtempSync(path.join(work, 'yaml-'));
  const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${namespace}\ndata:\n  mode: fast\n`;
  fs.writeFileSync(path.join(dir, 'settings.yaml'), cm);
  return dir;
}

describe('bin/cdk8s-ml.js', () => {
  test('in a fresh clone (no build/) --version and check run from the TypeScript sources', () => {
    const clone = layout(['bin', 'lib', 'imports', 'package.json', 'register.js', 'templates', 'deploy']);
    expect(fs.existsSync(path.join(clone, 'build'))).toBe(false);
    const version = cdk8sMl(clone, ['--version']);
    expect(version.stderr).toBe('');
    expect(version).toMatchObject({ status: 0, stdout: `${own.version}\n` });
    const clean = cdk8sMl(clone, ['check', manifestDir('demo')]);
    expect(clean).toMatchObject({ status: 0, stdout: '' });
    expect(clean.stderr).not.toMatch(/Cannot find module|Error/);
    const bad = cdk8sMl(clone, ['check', manifestDir('yes')]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('metadata.namespace');
    expect(fs.existsSync(path.join(clone, 'build'))).toBe(false); // nothing was compiled to disk
  });

  test('the published layout (build/, no sources) runs build/lib/cli/main.js', () => {
    const pkg = layout(['bin', 'package.json', 'register.js']);
    const compiled = path.join(pkg, 'build/lib/cli/main.js');
    fs.mkdirSync(path.dirname(compiled), { recursive: true });
    // stands in for the compiled CLI: says which file ran and with what
    fs.writeFileSync(compiled, "exports.main = (argv) => { process.stdout.write('build/ ' + argv.join(' ') + '\\n'); return 3; };\n");
    expect(cdk8sMl(pkg, ['check', 'dist'])).toMatchObject({ status: 3, stdout: 'build/ check dist\n' });
  });

  test('neither sources nor build/: one line naming the fix, exit 2', () => {
    const pkg = layout(['bin', 'package.json']);
    const res = cdk8sMl(pkg, ['--version'], pkg);
    expect(res.status).toBe(2);
    expect(res.stderr).toBe('cdk8s-ml: neither build/lib/cli/main.js nor the sources are here: run `npm run build`\n');
  });

  test("the repo's own bin runs the sources it sits beside", () => {
    expect(cdk8sMl(ROOT, ['--version'])).toMatchObject({ status: 0, stdout: `${own.version}\n` });
  });
});
