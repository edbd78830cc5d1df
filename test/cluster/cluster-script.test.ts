/**
 * scripts/cluster/cluster.mjs: a failure names the binary and the step, and leaves nothing running.
 * Run in a home of its own (CDK8S_ML_CLUSTER_HOME) with stand-in binaries, so no build or real
 * cluster is involved.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../_util/synth';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/cluster/cluster.mjs');

function script(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
}

function env(home: string): Record<string, string> {
  const lines = script(['env'], { CDK8S_ML_CLUSTER_HOME: home }).stdout.trim().split('\n');
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('cluster.mjs failures', () => {
  test('an unknown command is a usage error', () => {
    const res = script(['start'], { CDK8S_ML_CLUSTER_HOME: tempDir() });
    expect(res.status).toBe(2);
    expect(res.stderr).toBe('usage: node scripts/cluster/cluster.mjs build|up [--node]|node-up|down|status|env|crds\n');
  });

  test('no go on PATH: the build step says so', () => {
    const home = tempDir();
    const res = script(['build'], { CDK8S_ML_CLUSTER_HOME: home, PATH: path.dirname(process.execPath) });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(
      /^cluster build: go is not on PATH: the cluster is built from upstream Go modules \(Go >= 1\.26 needed for kubernetes\)/,
    );
  });

  test('a binary that exits at start: the step and the binary are named with its last log lines, and nothing is left', () => {
    const home = tempDir();
    const paths = env(home);
    fs.mkdirSync(paths.CDK8S_ML_CLUSTER_BIN, { recursive: true });
    for (const b of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'])
      fs.writeFileSync(path.join(paths.CDK8S_ML_CLUSTER_BIN, b), '#!/bin/sh\nsleep 600\n', { mode: 0o755 });
    fs.writeFileSync(path.join(paths.CDK8S_ML_CLUSTER_BIN, 'etcd'), '#!/bin/sh\necho "etcdmain: listen tcp: address already in use" >&2\nexit 1\n', {
      mode: 0o755,
    });
    fs.mkdirSync(paths.CDK8S_ML_CLUSTER_CRDS, { recursive: true });
    fs.writeFileSync(path.join(paths.CDK8S_ML_CLUSTER_CRDS, 'done'), 'stand-in\n');
    const res = script(['up'], { CDK8S_ML_CLUSTER_HOME: home });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(
      /^cluster start etcd: etcd exited; last lines of .*\/state\/logs\/etcd\.log:\netcdmain: listen tcp: address already in use/,
    );
    expect(fs.existsSync(path.join(home, 'state'))).toBe(false); // the failed start cleaned up
    expect(script(['status'], { CDK8S_ML_CLUSTER_HOME: home }).status).toBe(1);
  }, 120_000);
});
