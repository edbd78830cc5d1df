// jest globalTeardown: stops the local cluster (scripts/cluster/cluster.mjs down) when a test file of
// this jest run started it; leaves a cluster started by `npm run cluster:up` or by another run running.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

module.exports = async () => {
  const home = path.resolve(process.env.CDK8S_ML_CLUSTER_HOME || '/var/tmp/cdk8s-ml-cluster');
  let info;
  try {
    info = JSON.parse(fs.readFileSync(path.join(home, 'state', 'cluster.json'), 'utf8'));
  } catch {
    return;
  }
  if (info.owner !== `jest-${process.env.CDK8S_ML_JEST_RUN}`) return;
  const res = spawnSync(process.execPath, [path.join(__dirname, '../../scripts/cluster/cluster.mjs'), 'down'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`cluster down failed: ${res.stderr}`);
};
