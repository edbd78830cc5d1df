/**
 * Every TypeScript example in README.md, and the project `cdk8s-ml init` writes, type-checks against
 * the library: examples cannot drift from the code again. README blocks are fragments; each is
 * compiled as its own module inside a block that may use the names the README's prose introduces
 * (app, stack, server, web, andGateStack) and every export of the library.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import * as lib from '../../lib';

const ROOT = path.resolve(__dirname, '../..');
const LIB_INDEX = path.join(ROOT, 'lib/index.ts');

/** The ```ts blocks of a Markdown file with the line each starts on. */
export function tsBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const re = /^```ts\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    blocks.push({ line: markdown.slice(0, m.index).split('\n').length + 1, code: m[1] });
  }
  return blocks;
}

/** One module per block: its imports hoisted, the rest inside a block scope with the README's context names. */
function exampleModule(code: string): string {
  const lines = code.split('\n');
  const imports = lines.filter((l) => /^import /.test(l));
  const body = lines.filter((l) => !/^import /.test(l));
  const names = Object.keys(lib).filter((n) => !imports.some((i) => new RegExp(`\\b${n}\\b`).test(i)));
  return [
    `import { ${names.join(', ')} } from 'cdk8s-ml';`,
    ...imports,
    'export function example(app: MlApp, stack: MlStack, server: TfServingBackend, web: FlaskFrontend, andGateStack: MlStack): void {',
    '{',
    ...body,
    '}',
    '}',
    '',
  ].join('\n');
}

function typeCheck(files: Record<string, string>): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node', 'jest'],
    typeRoots: [path.join(ROOT, 'node_modules/@types')],
    baseUrl: ROOT,
    paths: { 'cdk8s-ml': [LIB_INDEX] },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (f) => files[f] ?? readFile(f);
  host.fileExists = (f) => f in files || fileExists(f);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, v, ...rest) => (f in files ? ts.createSourceFile(f, files[f], v) : getSourceFile(f, v, ...rest));
  const program = ts.createProgram(Object.keys(files), options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && d.file.fileName in files)
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${d.file!.fileName}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

describe('documentation examples type-check against the library', () => {
  test('every ```ts block of README.md', () => {
    const blocks = tsBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    const files = Object.fromEntries(blocks.map((b) => [path.join(ROOT, `.readme-example-line-${b.line}.ts`), exampleModule(b.code)]));
    // a problem names the README line its block starts on
    expect(typeCheck(files)).toEqual([]);
  }, 60_000);

  test('a README example with a wrong prop fails this check (the check can fail)', () => {
    const file = path.join(ROOT, '.readme-example-bad.ts');
    const problems = typeCheck({ [file]: exampleModule("new InferenceService(stack, 'api', { image: 'x:1', replica: 2 });") });
    expect(problems.join('\n')).toMatch(/'replica' does not exist/);
  }, 60_000);

  test('the project cdk8s-ml init writes (main.ts and its test)', () => {
    const dir = path.join(ROOT, 'templates/init');
    const files = Object.fromEntries(['main.ts', 'test/main.test.ts'].map((f) => [path.join(dir, f), fs.readFileSync(path.join(dir, f), 'utf8')]));
    expect(typeCheck(files)).toEqual([]);
  }, 60_000);
});
