/**
 * MlApp.main, the entry point every main.ts calls: what it prints and what it does to the output, in
 * each way an app is run (directly, as `npm run synth` does, and under cdk8s-cli).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { userEnv } from '../_util/consumer';

const ROOT = path.resolve(__dirname, '../..');
const REGISTER = path.join(ROOT, 'scripts/register.js');
const LIB = path.join(ROOT, 'lib');
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-main-'));

/** A project directory holding main.ts (the given body after the import line) and a previous dist/. */
function project(body: string): { dir: string; main: string; dist: string } {
  const dir = tempDir();
  const main = path.join(dir, 'main.ts');
  fs.writeFileSync(main, `import { InferenceService, MlApp, MlStack } from '${LIB}';\n${body}`);
  const dist = path.join(dir, 'dist');
  fs.mkdirSync(path.join(dist, 'manifests'), { recursive: true });
  fs.writeFileSync(path.join(dist, 'manifests', 'previous.k8s.yaml'), 'kept: true\n');
  return { dir, main, dist };
}

/** Runs main.ts as `npm run synth` does (no cdk8s-cli). */
function runApp(dir: string, main: string, args: string[] = []) {
  return spawnSync('node', ['-r', REGISTER, main, ...args], { cwd: dir, encoding: 'utf8', env: userEnv() });
}

describe('MlApp.main', () => {
  test('bad input: the one-line message, no stack trace, exit 1, and the output says it was left unchanged (it was)', () => {
    const { dir, main, dist } = project(
      `MlApp.main(app => new InferenceService(new MlStack(app, 'shop'), 'api', { image: 'registry.example.com/api:1.0.0', replicas: 1.5 }));\n`,
    );
    const res = runApp(dir, main);
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(
      "cdk8s-ml: synth failed: dist was left unchanged.\nInferenceService 'shop/api': replicas " +
        'must be a whole number >= 0, got 1.5. Fix: set replicas to a whole number >= 0\n',
    );
    expect(fs.readdirSync(path.join(dist, 'manifests'))).toEqual(['previous.k8s.yaml']);
  });

  test('a validation collected by cdk8s (node.addValidation) is bad input too: its lines, no stack trace', () => {
    const { dir, main } = project(`MlApp.main(app => { new MlStack(app, 'shop').node.addValidation({ validate: () => ['wrong on purpose'] }); });\n`);
    const res = runApp(dir, main);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(
      /^cdk8s-ml: synth failed: dist was left unchanged\.\nValidation failed with the following errors:\n {2}\[shop\] wrong on purpose\n$/,
    );
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  test("a bug in the user's own code prints its stack, pointing at the user's file and line", () => {
    const { dir, main, dist } = project(
      ['const cfg: any = undefined;', '', 'MlApp.main(app => {', "  new MlStack(app, 'shop');", '  console.log(cfg.replicas);', '});', ''].join('\n'),
    );
    const res = runApp(dir, main);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(
      /^cdk8s-ml: synth failed: dist was left unchanged\.\nTypeError: Cannot read properties of undefined \(reading 'replicas'\)\n/,
    );
    // line 6 of main.ts (the import line comes first): the .ts line, through the hook's source maps
    expect(res.stderr).toContain(`${main}:6:`);
    expect(fs.readdirSync(path.join(dist, 'manifests'))).toEqual(['previous.k8s.yaml']);
  });

  test('under cdk8s synth (which deletes the output directory first) it says nothing was written, not "unchanged"', () => {
    const { dir, dist } = project(
      `MlApp.main(app => new InferenceService(new MlStack(app, 'shop'), 'api', { image: 'registry.example.com/api:latest' }));\n`,
    );
    fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), `language: typescript\napp: node -r ${REGISTER} main.ts\noutput: dist\n`);
    const res = spawnSync(path.join(ROOT, 'node_modules/.bin/cdk8s'), ['synth', '--check-upgrade', 'false'], {
      cwd: dir,
      encoding: 'utf8',
      env: userEnv(),
    });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('cdk8s-ml: synth failed: nothing was written to ');
    expect(res.stderr).toContain('cdk8s synth had removed the previous output before it ran the app');
    // the app command of this project's cdk8s.yaml, not `npm run synth` (which is `cdk8s synth` in a scaffold)
    expect(res.stderr).toContain(`run the app without cdk8s-cli: \`node -r ${REGISTER} main.ts\`)`);
    expect(res.stderr).not.toContain('npm run synth');
    expect(res.stderr).toContain("InferenceService 'shop/api': image must be an image reference pinned to a version tag");
    expect(res.stderr).not.toContain('left unchanged');
    expect(fs.existsSync(dist)).toBe(false); // what cdk8s-cli did, and why "unchanged" would be false
  });

  test('--stdout: says nothing was printed or written', () => {
    const { dir, main } = project(`MlApp.main(app => new InferenceService(new MlStack(app, 'shop'), 'api', { image: 'x:latest' }));\n`);
    const res = runApp(dir, main, ['--stdout']);
    expect(res.status).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^cdk8s-ml: synth failed: nothing was printed or written\.\n/);
  });
});
