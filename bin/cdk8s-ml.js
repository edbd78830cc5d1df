#!/usr/bin/env node
// The `cdk8s-ml` command. The published package ships the compiled build/ (`npm pack` runs the build) and no
// TypeScript sources; a checkout of the repo has the sources, so it runs them through the package's require hook
// (register.js: @swc/core, a devDependency) and works before any build, never from a stale build/.

const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const sources = path.join(root, 'lib', 'cli', 'main.ts');
const compiled = path.join(root, 'build', 'lib', 'cli', 'main.js');

function cli() {
  if (fs.existsSync(sources)) {
    require(path.join(root, 'register.js'));
    return require(sources);
  }
  if (fs.existsSync(compiled)) return require(compiled);
  process.stderr.write(`cdk8s-ml: neither ${path.relative(process.cwd(), compiled)} nor the sources are here: run \`npm run build\`\n`);
  process.exit(2);
}

process.exitCode = cli().main(process.argv.slice(2));
