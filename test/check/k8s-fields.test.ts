import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const TABLE = path.join(ROOT, 'lib/check/k8s-fields.json');

describe('lib/check/k8s-fields.json (the unknown-field table)', () => {
  test('is what scripts/gen-k8s-fields.mjs generates from the installed @kubernetes/client-node (regenerate: run that script)', () => {
    const res = spawnSync(process.execPath, ['scripts/gen-k8s-fields.mjs', '--stdout'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    // As text, not parsed: key order and layout must not drift either (one class per line keeps the diff short).
    expect(res.stdout).toBe(fs.readFileSync(TABLE, 'utf8'));
  });

  test('holds the root types and what they reach, and nothing the walk cannot get to', () => {
    const { classes } = JSON.parse(fs.readFileSync(TABLE, 'utf8')) as { classes: Record<string, Record<string, string>> };
    expect(classes.V1Deployment).toEqual({
      apiVersion: 'string',
      kind: 'string',
      metadata: 'V1ObjectMeta',
      spec: 'V1DeploymentSpec',
      status: 'V1DeploymentStatus',
    });
    expect(classes.V1Container.securityContext).toBe('V1SecurityContext');
    const referenced = new Set(
      Object.values(classes)
        .flatMap((fields) => Object.values(fields))
        .map((t) => t.replace(/^Array<(.+)>$/, '$1').replace(/^\{ \[key: string\]: (.+); \}$/, '$1')),
    );
    const unreachable = Object.entries(classes)
      .filter(([name, fields]) => !('apiVersion' in fields && 'kind' in fields) && !referenced.has(name))
      .map(([name]) => name);
    expect(unreachable).toEqual([]);
  });
});
