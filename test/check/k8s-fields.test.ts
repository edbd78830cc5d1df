import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkManifests, K8sObject, KUBERNETES_VERSIONS } from '../../lib/check';

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

describe('a field table per Kubernetes minor (CheckOptions.kubernetesVersion)', () => {
  test.each(KUBERNETES_VERSIONS.filter((v) => v !== '1.33'))(
    'lib/check/k8s-fields-%s.json is what the generator makes of that release in the Go module cache',
    (version) => {
      const res = spawnSync(process.execPath, ['scripts/gen-k8s-fields.mjs', '--stdout', version], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      if (res.status === 3) {
        // The release comes into the cache by `go mod download` (the local cluster build fetches the newest); without it, nothing to compare.
        console.log(`skipped ${version}: ${res.stderr.trim()}`);
        return;
      }
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      expect(res.stdout).toBe(fs.readFileSync(path.join(ROOT, `lib/check/k8s-fields-${version}.json`), 'utf8'));
    },
  );

  // PodSpec.hostnameOverride: new in 1.34 (KEP-4762, k8s.io/api core/v1 types.go).
  const pod: K8sObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ml' },
    spec: { hostnameOverride: 'worker-0', containers: [{ name: 'c', image: 'example.com/c:1.0.0' }] },
  };
  const fieldProblems = (version?: string) => checkManifests([pod], { kubernetesVersion: version }).filter((p) => p.includes('unknown-field'));

  test('a field added after 1.33 is known at 1.34 and 1.36 (the default) and a typo at 1.33', () => {
    expect(fieldProblems()).toEqual([]);
    expect(fieldProblems('1.36')).toEqual([]);
    expect(fieldProblems('v1.34')).toEqual([]);
    expect(fieldProblems('1.33')).toEqual(['Pod/ml/p: unknown-field: spec.hostnameOverride is not a field of v1 Pod']);
  });

  test('a kind served since 1.34 that kubernetes-models does not model is judged by the field table of 1.36, and unknown at 1.33', () => {
    // resource.k8s.io/v1 (Dynamic Resource Allocation) is GA since 1.34.
    const cls = { apiVersion: 'resource.k8s.io/v1', kind: 'DeviceClass', metadata: { name: 'gpu' }, spec: { selectors: [] } };
    expect(checkManifests([cls])).toEqual([]);
    expect(checkManifests([{ ...cls, spec: { selector: [] } }])).toEqual([
      'DeviceClass/-/gpu: unknown-field: spec.selector is not a field of resource.k8s.io/v1 DeviceClass',
    ]);
    expect(checkManifests([cls], { kubernetesVersion: '1.33' })).toEqual([expect.stringContaining('schema: no Kubernetes model for apiVersion')]);
  });

  test('an unknown version is refused, naming the known ones', () => {
    expect(() => checkManifests([pod], { kubernetesVersion: '1.29' })).toThrow(
      'check option kubernetesVersion must be one of 1.33, 1.34, 1.35, 1.36, got "1.29"',
    );
  });
});
