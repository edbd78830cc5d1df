#!/usr/bin/env node
// The `cdk8s-ml` command of the published package (compiled by `npm run build`, which `npm pack` runs).

process.exitCode = require('../build/lib/cli/main.js').main(process.argv.slice(2));
