import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load, loadAll } from 'js-yaml';
import { MlApp } from '../../lib';
import { buildReferenceApps } from '../../apps/main';
import { main } from '../../lib/cli/main';
import { captureIo } from './_io';

const ROOT = path.resolve(__dirname, '../..');
const REGISTER = path.join(ROOT, 'scripts/register.js');
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-render-test-'));

/** A project whose cdk8s.yaml app is the given main.ts body (run through this checkout's hook). */
function project(body: string): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'main.ts'), `import { InferenceService, MlApp, MlStack } from '${path.join(ROOT, 'lib')}';\n${body}`);
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), `language: typescript\napp: node -r ${REGISTER} main.ts\noutput: dist\n`);
  return dir;
}

const TWO_STACKS = `MlApp.main(app => {
  console.log('the app may print to stdout');
  new InferenceService(new MlStack(app, 'shop'), 'api', { image: 'registry.example.com/api:1.0.0' });
  new InferenceService(new MlStack(app, 'ads'), 'api', { image: 'registry.example.com/ads:1.0.0' });
});
`;

describe('cdk8s-ml render (the Argo CD plugin generate command)', () => {
  test("prints the reference apps' manifests as one stream: the same objects, in order, as the output directory", () => {
    const io = captureIo(ROOT);
    expect(main(['render'], io)).toBe(0);
    const stream = io.out.join('');
    const expected = buildReferenceApps(new MlApp({ outdir: tempDir() })).manifestStream();
    expect(loadAll(stream)).toEqual(loadAll(expected));
    expect(stream.split(/^---$/m)).toHaveLength(loadAll(stream).length); // every boundary explicit
  }, 30_000);

  test("stdout holds only manifests: the app's own output goes to stderr; --stack picks one stack; nothing is written to the project", () => {
    const dir = project(TWO_STACKS);
    const io = captureIo(dir);
    expect(main(['render', '--stack', 'shop'], io)).toBe(0);
    const objects = loadAll(io.out.join('')) as any[];
    expect(objects.length).toBeGreaterThan(2);
    expect(new Set(objects.map((o) => o.metadata.namespace ?? o.metadata.name))).toEqual(new Set(['shop']));
    expect(io.err.join('')).toContain('the app may print to stdout');
    expect(fs.readdirSync(dir).sort()).toEqual(['cdk8s.yaml', 'main.ts']);
  }, 30_000);

  test('an unknown stack is an error naming the stacks', () => {
    const io = captureIo(project(TWO_STACKS));
    expect(main(['render', '--stack', 'nope'], io)).toBe(1);
    expect(io.out).toEqual([]);
    expect(io.err.join('')).toContain('cdk8s-ml render: --stack nope: no such stack; the stacks are ads, shop\n');
  }, 30_000);

  test('a failing app: its message on stderr, nothing on stdout, exit 1', () => {
    const io = captureIo(project(`MlApp.main(app => new InferenceService(new MlStack(app, 'shop'), 'api', { image: 'x:latest' }));\n`));
    expect(main(['render'], io)).toBe(1);
    expect(io.out).toEqual([]);
    const err = io.err.join('');
    expect(err).toContain("InferenceService 'shop/api': image must be an image reference pinned");
    expect(err).toMatch(/cdk8s-ml render: the app "node -r .* main\.ts" failed \(exit code 1\); nothing was printed\n$/);
  }, 30_000);

  test('without cdk8s.yaml, or without an app command, it says what is missing', () => {
    const bare = tempDir();
    let io = captureIo(bare);
    expect(main(['render'], io)).toBe(1);
    expect(io.err.join('')).toContain(`no cdk8s.yaml in ${bare}`);
    fs.writeFileSync(path.join(bare, 'cdk8s.yaml'), 'language: typescript\n');
    io = captureIo(bare);
    expect(main(['render'], io)).toBe(1);
    expect(io.err.join('')).toContain('has no "app:" command');
  });

  test('bad arguments are usage errors (exit 2)', () => {
    const io = captureIo(ROOT);
    expect(main(['render', '--stack'], io)).toBe(2);
    expect(io.err.join('')).toBe('cdk8s-ml render: --stack needs a value (cdk8s-ml render --help)\n');
    expect(main(['render', 'extra'], captureIo(ROOT))).toBe(2);
  });

  test('the plugin file is a ConfigManagementPlugin whose generate command runs render', () => {
    const plugin = load(fs.readFileSync(path.join(ROOT, 'deploy/argocd/plugin.yaml'), 'utf8')) as any;
    expect(plugin.spec.generate.command.join(' ')).toContain('exec cdk8s-ml render');
    expect(plugin.spec.init.command.join(' ')).toContain('npm ci --omit=dev --ignore-scripts');
  });
});
