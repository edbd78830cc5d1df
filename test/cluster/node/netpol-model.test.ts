/**
 * The network probes of the reference stacks (test/cluster/node/_netpol.ts), without a cluster: the
 * edges the output implies are there with the model's verdict, every stack has a connection it must
 * refuse, the verdicts follow the NetworkPolicies, the probe Pods pass the shared output check, and
 * the probe program answers as the cluster test reads it (run here against 127.0.0.1).
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { buildReferenceApps } from '../../../apps/main';
import { checkManifests } from '../../../lib/check';
import { synth, tempDir } from '../../_util/synth';
import { parseYamlStream } from '../../_util/yaml';
import { elsewhereNamespace, formatMatrix, networkProbes, OTHER_LABELS, Probe, probeCommand, probeNamespaces, probePod } from './_netpol';

const STACKS = ['and-gate', 'canary', 'eeg-letters', 'image-classifier', 'llm-chat', 'ml-model'];
const out = synth((app) => buildReferenceApps(app), path.join(tempDir(), 'dist'));
const objectsOf = (stack: string): any[] => parseYamlStream(out.files.get(`manifests/${stack}.k8s.yaml`)!);
const probes = new Map(STACKS.map((s) => [s, networkProbes(s, objectsOf(s))]));

const templateLabels = (stack: string, kind: string, name: string) =>
  objectsOf(stack).find((o) => o.kind === kind && o.metadata.name === name).spec.template.metadata.labels;

function find(stack: string, name: string): Probe {
  const found = probes.get(stack)!.filter((p) => p.name === name);
  if (found.length !== 1)
    throw new Error(
      `expected one probe "${name}" of ${stack}, got: ${probes
        .get(stack)!
        .map((p) => p.name)
        .join(', ')}`,
    );
  return found[0];
}

describe.each(STACKS)('the probes of %s', (stack) => {
  test('at least one edge, at least one refused, each through a port of a Service of the stack', () => {
    const list = probes.get(stack)!;
    expect(list.length).toBeGreaterThan(0);
    expect(list.filter((p) => p.expect === 'deny').length).toBeGreaterThanOrEqual(1);
    for (const p of list) {
      const svc = objectsOf(stack).find((o) => o.kind === 'Service' && o.metadata.name === p.to.service && o.metadata.namespace === p.to.namespace);
      expect(svc?.spec.ports).toContainEqual(expect.objectContaining({ port: p.to.port, targetPort: p.to.targetPort }));
    }
  });

  test('every probe Pod passes the shared output check in its namespace, the extra namespaces included', () => {
    const list = probes.get(stack)!;
    const own = objectsOf(stack).filter((o) => o.kind === 'Namespace');
    const pods = list.map((p, i) => probePod(p, 'localhost/python:3.12-netprobe', `netprobe-${i}`));
    expect(checkManifests([...own, ...probeNamespaces(list, objectsOf(stack)), ...pods])).toEqual([]);
  });
});

describe('the obvious wiring is among the allowed edges', () => {
  test('and-gate: a pod with the labels of web, in and-gate, reaches server:8501', () => {
    const p = find('and-gate', 'web -> server:8501');
    expect(p).toMatchObject({
      expect: 'allow',
      dns: 'allow',
      from: { namespace: 'and-gate', labels: templateLabels('and-gate', 'Deployment', 'web') },
      to: { service: 'server', namespace: 'and-gate', port: 8501, targetPort: 8501 },
    });
    expect(p.why).toContain('env BACKEND_URL');
  });

  test('eeg-letters: the ingress controller reaches api, no other pod does', () => {
    expect(find('eeg-letters', 'ingress-nginx/* -> api:8080')).toMatchObject({ expect: 'allow', from: { namespace: 'ingress-nginx' } });
    expect(find('eeg-letters', 'other-labels -> api:8080').expect).toBe('deny');
    expect(find('eeg-letters', 'eeg-letters-netprobe/* -> api:8080').expect).toBe('deny');
  });

  test('canary: web reaches the classifier and the scorer, both tracks behind each Service', () => {
    const labels = templateLabels('canary', 'Deployment', 'web');
    expect(find('canary', 'web -> classifier:8501')).toMatchObject({ expect: 'allow', from: { namespace: 'canary', labels } });
    expect(find('canary', 'web -> scorer:8080')).toMatchObject({ expect: 'allow', from: { namespace: 'canary', labels } });
  });

  test('Prometheus, the Gateway and a LoadBalancer client are probed from where they run', () => {
    expect(find('canary', 'monitoring/* -> classifier-canary:8501').expect).toBe('allow');
    expect(find('canary', 'gateway/* -> classifier-stable:8501').expect).toBe('allow');
    expect(find('and-gate', 'outside -> web:80')).toMatchObject({ expect: 'allow', from: { namespace: elsewhereNamespace('and-gate') } });
  });
});

describe('the deny cases', () => {
  test('and-gate: other labels, the client twin in another namespace, the client on the gRPC port', () => {
    const web = templateLabels('and-gate', 'Deployment', 'web');
    expect(find('and-gate', 'other-labels -> server:8501')).toMatchObject({ expect: 'deny', from: { namespace: 'and-gate', labels: OTHER_LABELS } });
    expect(find('and-gate', 'and-gate-netprobe/web -> server:8501')).toMatchObject({
      expect: 'deny',
      from: { namespace: 'and-gate-netprobe', labels: web },
    });
    expect(find('and-gate', 'web -> server:8500')).toMatchObject({ expect: 'deny', from: { namespace: 'and-gate', labels: web } });
  });

  test("the verdicts are the NetworkPolicies': without the server's policy, the same probes are allowed", () => {
    // GIVEN and-gate without the NetworkPolicy of server (web's egress rules still name server on 8501 only)
    const objects = objectsOf('and-gate').filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === 'server'));
    const list = networkProbes('and-gate', objects);
    const verdict = (name: string) => list.find((p) => p.name === name)?.expect;
    // THEN any pod but web (still egress-isolated) gets in
    expect(verdict('other-labels -> server:8501')).toBe('allow');
    expect(verdict('and-gate-netprobe/web -> server:8501')).toBe('allow');
    expect(verdict('web -> server:8500')).toBe('deny');
  });

  test('a stack without wired clients (ml-model) is probed from other labels and from another namespace', () => {
    expect(probes.get('ml-model')!.map((p) => `${p.name}: ${p.expect}`)).toEqual([
      'other-labels -> ml-model:8080: deny',
      'ml-model-netprobe/* -> ml-model:8080: deny',
    ]);
  });
});

describe('probePod and probeNamespaces', () => {
  const p = find('and-gate', 'web -> server:8501');

  test("a restricted, never-restarted, never-Ready Pod with the probe's namespace and labels, dialing the Service by name or by IP", () => {
    const pod: any = probePod(p, 'img', 'probe-1');
    expect(pod.metadata).toMatchObject({ name: 'probe-1', namespace: 'and-gate', labels: p.from.labels });
    expect(pod.spec).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false });
    expect(pod.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    const c = pod.spec.containers[0];
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
      runAsUser: 10001,
    });
    expect(pod.spec.readinessGates).toHaveLength(1);
    expect(c.command.slice(0, 2)).toEqual(['python3', '-c']);
    expect(c.command.slice(3)).toEqual(['server.and-gate.svc.cluster.local', '8501', '5', '1', '/dev/termination-log']);
    expect((probePod(p, 'img', 'probe-1', '10.96.0.42') as any).spec.containers[0].command[3]).toBe('10.96.0.42');
  });

  test("the namespaces to create: the other ones, with the stack namespace's Pod Security labels", () => {
    const list = probes.get('and-gate')!;
    expect(probeNamespaces(list, objectsOf('and-gate'))).toEqual(
      ['and-gate-netprobe', 'monitoring'].map((name) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name,
          labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.28' },
        },
      })),
    );
  });
});

describe('the probe program', () => {
  const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  const dir = tempDir('netprobe-');

  function run(expect: 'allow' | 'deny', port: number): Promise<{ code: number; message: string; ms: number }> {
    const probe: Probe = { ...find('and-gate', 'web -> server:8501'), expect, to: { service: 'x', namespace: 'y', port, targetPort: port } };
    const result = path.join(dir, `${expect}-${port}`);
    const [cmd, ...args] = probeCommand(probe, '127.0.0.1', result);
    const start = Date.now();
    return new Promise((resolve) => {
      execFile(cmd, args, (err) => resolve({ code: err ? Number(err.code) : 0, message: fs.readFileSync(result, 'utf8'), ms: Date.now() - start }));
    });
  }
  const listen = (port = 0) =>
    new Promise<net.Server>((resolve) => {
      const s = net.createServer((sock) => sock.end());
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;
  const close = (s: net.Server) => new Promise((resolve) => s.close(resolve));

  beforeAll(() => {
    if (python.status !== 0)
      throw new Error(`python3 is needed to run the probe program (the probe image's interpreter): ${python.error ?? python.stderr}`);
  });

  test('an open port: "open", exit 0', async () => {
    const server = await listen();
    try {
      expect(await run('deny', portOf(server))).toMatchObject({ code: 0, message: 'open' });
    } finally {
      await close(server);
    }
  });

  test('a closed port, expected refused: one try, "refused/timeout: <error>", exit 1', async () => {
    const server = await listen();
    const port = portOf(server);
    await close(server);
    const r = await run('deny', port);
    expect(r).toMatchObject({ code: 1, message: expect.stringMatching(/^refused\/timeout: 127\.0\.0\.1:\d+: ConnectionRefusedError/) });
    expect(r.ms).toBeLessThan(3000);
  });

  test('a port expected open that opens late is retried until it answers', async () => {
    const server = await listen();
    const port = portOf(server);
    await close(server);
    const pending = run('allow', port);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const late = await listen(port);
    try {
      const r = await pending;
      expect(r).toMatchObject({ code: 0, message: 'open' });
      expect(r.ms).toBeGreaterThan(1500);
    } finally {
      await close(late);
    }
  });
});

describe('formatMatrix', () => {
  test('one aligned row per probe, a mismatch marked NO', () => {
    const [a, b] = probes.get('and-gate')!;
    const text = formatMatrix([
      { probe: a, actual: a.expect },
      { probe: b, actual: b.expect === 'allow' ? 'deny' : 'allow' },
    ]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0].split(/\s+/)).toEqual(['stack', 'from', 'to', 'model', 'real', 'equal']);
    expect(lines[1]).toMatch(/ yes$/);
    expect(lines[2]).toMatch(/ NO$/);
    for (const column of ['from', 'to', 'model', 'real', 'equal']) {
      const at = lines[0].indexOf(column);
      for (const line of lines.slice(1)) expect(line[at - 1]).toBe(' ');
      for (const line of lines.slice(1)) expect(line[at]).not.toBe(' ');
    }
  });
});
