/**
 * The layers of lib/ ("a roof and a ground"): every file imports only from layers below its own (or its own folder),
 * and no two files import each other, directly or around a loop. Imports are read with the TypeScript parser:
 * `import`, `import type` and `export ... from`, relative specifiers only (packages are outside the house).
 * The checker also runs on a synthetic graph with a back-up import and a cycle, so a checker that finds nothing fails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Lowest first. A file may import from the layers before its own and from its own entry (a file, or a folder with
 * everything under it). The entries of a `siblings` layer do not import each other; those of the base may.
 */
interface Layer {
  readonly entries: readonly string[];
  readonly siblings?: boolean;
}

const LAYERS: readonly Layer[] = [
  // The base: errors, names and input checks, and the rules both the constructs and the check apply.
  { entries: ['lib/_errors.ts', 'lib/_names.ts', 'lib/_validate.ts', 'lib/rules'] },
  // The output check: reads written output, knows nothing of the constructs.
  { entries: ['lib/check'] },
  // The ground: MlStack, identity and labels, output file names, the per-app registries (lib/stack/_scoped.ts).
  { entries: ['lib/stack'] },
  { entries: ['lib/image'] },
  { entries: ['lib/workload'] },
  { entries: ['lib/policy'] },
  // A model's storage needs network rules (policy).
  { entries: ['lib/model'] },
  { entries: ['lib/serving', 'lib/training'], siblings: true },
  { entries: ['lib/frontend', 'lib/delivery'], siblings: true },
  // The roof: MlApp and everything that writes the output (manifests, diagrams, compose files).
  { entries: ['lib/app'] },
  { entries: ['lib/diff'] },
  { entries: ['lib/cli', 'lib/index.ts'], siblings: true },
];

/** An import from one file of lib/ to another (paths relative to the repo, '/' separated). */
interface Edge {
  readonly from: string;
  readonly to: string;
  readonly specifier: string;
}

/** The layer entry of a file: its index in LAYERS and the entry's path. */
function entryOf(file: string, layers: readonly Layer[]): { layer: number; entry: string } | undefined {
  for (let layer = 0; layer < layers.length; layer++) {
    for (const entry of layers[layer].entries) if (file === entry || file.startsWith(`${entry}/`)) return { layer, entry };
  }
  return undefined;
}

/** Imports that run sideways or up, each as `file: import 'x' -> target: rule`; files in no layer are reported too. */
function layerViolations(edges: readonly Edge[], layers: readonly Layer[] = LAYERS): string[] {
  const found: string[] = [];
  for (const e of edges) {
    const [a, b] = [entryOf(e.from, layers), entryOf(e.to, layers)];
    if (!a || !b) {
      found.push(`${e.from}: import '${e.specifier}': ${a ? e.to : e.from} is in no layer (add it to LAYERS)`);
      continue;
    }
    if (a.entry === b.entry || b.layer < a.layer || (b.layer === a.layer && !layers[a.layer].siblings)) continue;
    const rule =
      b.layer === a.layer
        ? `${a.entry} and ${b.entry} are siblings (layer ${a.layer + 1}) and do not import each other`
        : `${a.entry} (layer ${a.layer + 1}) may not import ${b.entry} (layer ${b.layer + 1}, above it)`;
    found.push(`${e.from}: import '${e.specifier}' -> ${e.to}: ${rule}`);
  }
  return found;
}

/** Every import cycle between files (one per strongly connected component), as `a -> b -> ... -> a`. */
function importCycles(edges: readonly Edge[]): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    const selfLoop = (next.get(v) ?? []).includes(v);
    if (component.length > 1 || selfLoop) components.push(component);
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return components.map((c) => cyclePath(new Set(c), next, c.sort()[0]));
}

/** One loop through a strongly connected component, from `start` back to it. */
function cyclePath(members: Set<string>, next: Map<string, string[]>, start: string): string {
  const from = new Map<string, string>([[start, '']]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of next.get(v) ?? []) {
      if (w === start) {
        const loop = [start];
        for (let x = v; x !== start; x = from.get(x)!) loop.splice(1, 0, x);
        return [...loop, start].join(' -> ');
      }
      if (members.has(w) && !from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...members].join(', ');
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    return d.isDirectory() ? walk(full) : d.name.endsWith('.ts') ? [full] : [];
  });
}

/** The relative imports of every lib/**\/*.ts file that resolve to another file of lib/. */
function libImports(): Edge[] {
  const edges: Edge[] = [];
  for (const abs of walk(path.join(ROOT, 'lib'))) {
    const from = path.relative(ROOT, abs).split(path.sep).join('/');
    const sf = ts.createSourceFile(abs, fs.readFileSync(abs, 'utf8'), ts.ScriptTarget.ES2022, false);
    for (const statement of sf.statements) {
      const isImport = ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement);
      const spec = isImport && statement.moduleSpecifier;
      if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
      const to = resolve(path.dirname(abs), spec.text);
      if (to?.startsWith('lib/')) edges.push({ from, to, specifier: spec.text });
    }
  }
  return edges;
}

function resolve(dir: string, specifier: string): string | undefined {
  const base = path.resolve(dir, specifier);
  const found = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
  return found && path.relative(ROOT, found).split(path.sep).join('/');
}

describe('the layers of lib/', () => {
  const edges = libImports();

  test('no import cycle between files', () => {
    expect(importCycles(edges)).toEqual([]);
  });

  test('every import runs down the layers (or within a folder)', () => {
    expect(layerViolations(edges)).toEqual([]);
  });

  test('the checker reads the imports (a graph of hundreds of edges, MlApp on top of MlStack)', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual({ from: 'lib/app/ml-app.ts', to: 'lib/stack/_output.ts', specifier: '../stack/_output' });
  });
});

describe('the checker itself', () => {
  const edge = (from: string, to: string): Edge => ({ from, to, specifier: `./${path.posix.basename(to, '.ts')}` });

  test('reports a back-up import, an import between siblings and a cycle; the base imports itself', () => {
    const edges = [
      edge('lib/stack/ml-stack.ts', 'lib/app/ml-app.ts'),
      edge('lib/app/ml-app.ts', 'lib/stack/ml-stack.ts'),
      edge('lib/training/job.ts', 'lib/serving/server.ts'),
      edge('lib/serving/server.ts', 'lib/workload/pod.ts'),
      edge('lib/_names.ts', 'lib/_errors.ts'),
    ];
    expect(layerViolations(edges)).toEqual([
      "lib/stack/ml-stack.ts: import './ml-app' -> lib/app/ml-app.ts: lib/stack (layer 3) may not import lib/app (layer 10, above it)",
      "lib/training/job.ts: import './server' -> lib/serving/server.ts: " +
        'lib/training and lib/serving are siblings (layer 8) and do not import each other',
    ]);
    expect(importCycles(edges)).toEqual(['lib/app/ml-app.ts -> lib/stack/ml-stack.ts -> lib/app/ml-app.ts']);
  });

  test('a longer cycle is printed as its loop; a file in no layer is reported', () => {
    const edges = [edge('lib/a/x.ts', 'lib/b/y.ts'), edge('lib/b/y.ts', 'lib/c/z.ts'), edge('lib/c/z.ts', 'lib/a/x.ts')];
    expect(importCycles(edges)).toEqual(['lib/a/x.ts -> lib/b/y.ts -> lib/c/z.ts -> lib/a/x.ts']);
    expect(layerViolations([edge('lib/stack/a.ts', 'lib/nowhere/b.ts')])).toEqual([
      "lib/stack/a.ts: import './b': lib/nowhere/b.ts is in no layer (add it to LAYERS)",
    ]);
  });
});
