// Require hook that runs a cdk8s app's TypeScript without type-checking (type-checking belongs to
// `npm test`): `node -r cdk8s-ml/register main.ts`, which is what `cdk8s-ml init` writes into
// cdk8s.yaml. A project's app then starts in ~0.3 s, where `npx ts-node main.ts` takes 2-3 s.
// It transpiles with @swc/core when the project has it (a native binary: ~10 ms per file), else with
// TypeScript's transpileModule (loads the compiler: ~0.4 s more). Stack traces point at the .ts lines.

const fs = require('node:fs');

function load(name) {
  try {
    // The project's copy first (cwd), then one beside this package.
    return require(require.resolve(name, { paths: [process.cwd(), __dirname] }));
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

function swcCompiler(swc) {
  return (source, filename) =>
    swc.transformSync(source, {
      filename,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    }).code;
}

function typescriptCompiler(ts) {
  return (source, filename) =>
    ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
    }).outputText;
}

let compile;
function compiler() {
  if (compile) return compile;
  const swc = load('@swc/core');
  const ts = swc ? undefined : load('typescript');
  if (!swc && !ts) {
    throw new Error('cdk8s-ml/register needs @swc/core or typescript in the project to run .ts files: npm install --save-dev @swc/core');
  }
  compile = swc ? swcCompiler(swc) : typescriptCompiler(ts);
  return compile;
}

// Another hook (ts-node, jest) keeps precedence.
if (!require.extensions['.ts']) {
  if (typeof process.setSourceMapsEnabled === 'function') process.setSourceMapsEnabled(true);
  require.extensions['.ts'] = function compileTs(module, filename) {
    module._compile(compiler()(fs.readFileSync(filename, 'utf8'), filename), filename);
  };
}
