/**
 * House limits on size: no function in lib/ longer than 60 lines, no line in the repo's own text longer than 150
 * characters. Each checker is also run on a synthetic violation, so a checker that silently finds nothing fails here.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const MAX_FUNCTION_LINES = 60;
const MAX_LINE_LENGTH = 150;

/** Generated or vendored files, left as their generator writes them. */
const GENERATED: { pattern: RegExp; reason: string }[] = [
  { pattern: /^imports\//, reason: 'written by `cdk8s import`' },
  { pattern: /^test\/cluster\/corpus\//, reason: 'validation corpus: names at the length limits on purpose' },
  { pattern: /(^|\/)__snapshots__\//, reason: 'jest snapshots' },
  { pattern: /^test\/compat\/baseline\//, reason: 'upgrade baseline written by scripts/compat-baseline.mjs' },
  { pattern: /(^|\/)package-lock\.json$/, reason: 'written by npm' },
  { pattern: /^lib\/check\/k8s-fields(-[0-9.]+)?\.json$/, reason: 'written by scripts/gen-k8s-fields.mjs' },
  { pattern: /^lib\/check\/gateway-api-crds\.json$/, reason: 'written by scripts/gen-gateway-api-crds.mjs' },
  { pattern: /(^|\/)go\.sum$/, reason: 'written by the go tool' },
  { pattern: /^apps\/eeg-letters\/src\/data\//, reason: 'data set written by apps/eeg-letters/generate-data.ts' },
  { pattern: /^LICENSE$/, reason: 'license text as published' },
  { pattern: /^etc\/[^/]*\.api\.md$/, reason: 'API report written by api-extractor (test/house/api-report.test.ts)' },
];

/** The repo's own text: source, scripts, docs, configuration. */
const TEXT = /\.(ts|js|mjs|cjs|md|py|sh|ya?ml|json|jsonc|go|mod|html|txt)$|(^|\/)(Dockerfile|[^/]*\.Dockerfile|\.gitignore|_gitignore)$|^\.ci\/run$/;

/** Markdown lets a long URL stand alone on its line: it cannot be wrapped. */
const LONE_URL = /^\s*(<https?:\/\/\S+>|\[[^\]]*\]:\s*https?:\/\/\S+|https?:\/\/\S+)\s*$/;

/** Every function-like node with a body longer than `max` lines, as `file:line name (n lines)`. */
function longFunctions(file: string, source: string, max = MAX_FUNCTION_LINES): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const lines = sf.getLineAndCharacterOfPosition(node.end).line - start + 1;
      if (lines > max) found.push(`${file}:${start + 1} ${functionName(node, sf)} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The declared name, the variable or property an anonymous function is assigned to, or its kind. */
function functionName(node: ts.SignatureDeclaration, sf: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name) return node.name.getText(sf);
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name) {
    return parent.name.getText(sf);
  }
  return ts.SyntaxKind[node.kind];
}

/** Every line longer than `max` characters, as `file:line (n characters)`. */
function longLines(file: string, text: string, max = MAX_LINE_LENGTH): string[] {
  const markdown = file.endsWith('.md');
  return text
    .split('\n')
    .flatMap((line, i) => (line.length > max && !(markdown && LONE_URL.test(line)) ? [`${file}:${i + 1} (${line.length} characters)`] : []));
}

/** Tracked files that are the repo's own text, not generated. */
function ownTextFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  return tracked.filter((f) => TEXT.test(f) && !GENERATED.some((g) => g.pattern.test(f)) && fs.existsSync(path.join(ROOT, f)));
}

function libFiles(dir = path.join(ROOT, 'lib')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return libFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

describe('function length', () => {
  test(`no function in lib/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const found = libFiles().flatMap((f) => longFunctions(path.relative(ROOT, f), fs.readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  test('the checker reports a long function of every kind', () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  x${i}();`).join('\n');
    const source = [
      `function declared() {\n${body(59)}\n}`,
      `const arrow = () => {\n${body(59)}\n};`,
      `const expr = function () {\n${body(59)}\n};`,
      `class C {\n  constructor() {\n${body(59)}\n  }\n  method() {\n${body(59)}\n  }\n  get value() {\n${body(59)}\n  }\n}`,
      `function fits() {\n${body(58)}\n}`,
    ].join('\n');
    expect(longFunctions('x.ts', source)).toEqual([
      'x.ts:1 declared (61 lines)',
      'x.ts:62 arrow (61 lines)',
      'x.ts:123 expr (61 lines)',
      'x.ts:185 constructor (61 lines)',
      'x.ts:246 method (61 lines)',
      'x.ts:307 value (61 lines)',
    ]);
  });
});

describe('line length', () => {
  test(`no line in the repo's own text files is longer than ${MAX_LINE_LENGTH} characters`, () => {
    const files = ownTextFiles();
    expect(files).toContain('README.md');
    const found = files.flatMap((f) => longLines(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(found).toEqual([]);
  });

  test('the checker reports a long line, except a lone URL in markdown', () => {
    const long = 'x'.repeat(151);
    const url = `https://example.com/${'a'.repeat(140)}`;
    expect(longLines('a.ts', `ok\n${long}\n${'y'.repeat(150)}`)).toEqual(['a.ts:2 (151 characters)']);
    expect(longLines('a.md', `${url}\n[ref]: ${url}\n${long}`)).toEqual(['a.md:3 (151 characters)']);
    expect(longLines('a.ts', url)).toEqual(['a.ts:1 (160 characters)']);
  });

  test('generated files are skipped, hand-written ones are not', () => {
    const skipped = (f: string) => GENERATED.some((g) => g.pattern.test(f));
    const generated = ['imports/k8s.ts', 'test/apps/__snapshots__/a.snap', 'package-lock.json', 'lib/check/k8s-fields.json'];
    generated.push('lib/check/k8s-fields-1.36.json', 'lib/check/gateway-api-crds.json');
    expect(generated.filter(skipped)).toHaveLength(6);
    expect(['lib/index.ts', 'README.md', 'test/cluster/_deploy.ts', 'package.json'].filter(skipped)).toEqual([]);
  });
});
