import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../lib/cli/main';
import { scaffoldFiles } from '../../lib/cli/init';
import { captureIo } from './_io';

const ROOT = path.resolve(__dirname, '../..');
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-init-'));
const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('cdk8s-ml init', () => {
  test('writes a complete project into an empty directory, named after it', () => {
    const parent = tempDir();
    const io = captureIo(parent);
    expect(main(['init', 'fraud-detect'], io)).toBe(0);
    const dir = path.join(parent, 'fraud-detect');
    const written = fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
      .sort();
    expect(written).toEqual([
      '.github/workflows/manifest-diff.yml',
      '.gitignore',
      'README.md',
      'argocd/plugin.yaml',
      'argocd/repo-server-patch.yaml',
      'cdk8s.yaml',
      'jest.config.js',
      'main.ts',
      'package.json',
      'test/main.test.ts',
      'tsconfig.json',
      'web/app.py',
      'web/requirements.txt',
    ]);
    expect(io.out.join('')).toContain('npm install');
    expect(fs.readFileSync(path.join(dir, 'main.ts'), 'utf8')).toContain("new MlStack(app, 'fraud-detect', { namespace: 'fraud-detect' })");
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['node_modules/', 'dist/']));
  });

  test('package.json pins what this release is tested with; cdk8s.yaml runs the app transpile-only, without npx', () => {
    const files = scaffoldFiles('demo');
    const pkg = JSON.parse(files.get('package.json')!);
    expect(pkg.dependencies).toEqual({
      'cdk8s-ml': `^${own.version}`,
      cdk8s: own.devDependencies.cdk8s,
      'cdk8s-plus-28': own.devDependencies['cdk8s-plus-28'],
      constructs: own.devDependencies.constructs,
      '@swc/core': own.devDependencies['@swc/core'],
    });
    expect(pkg.devDependencies.typescript).toMatch(/^~5\.9\./);
    expect(Object.keys(pkg.devDependencies).sort()).toEqual([
      '@swc/jest',
      '@types/jest',
      '@types/node',
      'cdk8s-cli',
      'jest',
      'ts-node',
      'typescript',
    ]);
    expect(pkg.scripts.test).toBe('tsc -p tsconfig.json && jest');
    const app = /^app: (.*)$/m.exec(files.get('cdk8s.yaml')!)![1];
    expect(app).toBe('node -r cdk8s-ml/register main.ts');
    // the Argo CD files are the package's own, byte for byte
    expect(files.get('argocd/plugin.yaml')).toBe(fs.readFileSync(path.join(ROOT, 'deploy/argocd/plugin.yaml'), 'utf8'));
    expect([...files.values()].some((c) => c.includes('__NAME__'))).toBe(false);
  });

  test('the READMEs run the generated build.sh with bash, never sh (dash: "set: Illegal option -o pipefail")', () => {
    const scaffold = scaffoldFiles('demo').get('README.md')!;
    const repo = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const readme of [scaffold, repo]) expect(readme).not.toMatch(/(^|[\s`(])sh\s+\S*build\.sh/m);
    expect(scaffold).toContain('`bash dist/images/build.sh`');
  });

  test('refuses a non-empty directory (one line, exit 1) unless --force, which keeps other files', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const io = captureIo(dir);
    expect(main(['init', '--name', 'demo'], io)).toBe(1);
    expect(io.err.join('')).toBe(
      `cdk8s-ml init: ${dir} is not empty (notes.txt); choose an empty directory, or pass ` +
        `--force to write the project's files over it (cdk8s-ml init --help)\n`,
    );
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    expect(main(['init', '--name', 'demo', '--force'], captureIo(dir))).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(fs.existsSync(path.join(dir, 'main.ts'))).toBe(true);
  });

  test('a directory holding only .git counts as empty (git init first is the usual start)', () => {
    const dir = path.join(tempDir(), 'svc');
    fs.mkdirSync(path.join(dir, '.git'), { recursive: true });
    expect(main(['init', dir], captureIo(ROOT))).toBe(0);
  });

  test.each([
    [['init', '--bogus'], 'unknown option "--bogus"'],
    [['init', 'a', 'b'], 'one directory only, got "a" and "b"'],
    [['init', '--name'], '--name needs a value'],
    [['init', '--name', '9lives'], 'project name "9lives" must be 1-40 lowercase letters'],
  ])('%j fails with one clear line and exit code 1', (argv, message) => {
    const io = captureIo(tempDir());
    expect(main(argv, io)).toBe(1);
    const err = io.err.join('');
    expect(err).toContain(message);
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  test('a file where the directory should be is refused', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'x'), '');
    const io = captureIo(dir);
    expect(main(['init', 'x'], io)).toBe(1);
    expect(io.err.join('')).toMatch(/x is a file, not a directory/);
  });

  test('--help describes the command and what it writes', () => {
    const io = captureIo(ROOT);
    expect(main(['init', '--help'], io)).toBe(0);
    expect(io.out.join('')).toMatch(/Usage: cdk8s-ml init \[dir\][\s\S]*--force[\s\S]*cdk8s\.yaml[\s\S]*argocd\//);
  });
});
