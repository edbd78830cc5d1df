/**
 * The indexes that keep the check linear at 10,000 workloads (k8s-common.ts LabelIndex and
 * SelectorIndex; network.ts asks a destination only the sources its ingress rules can admit) must
 * not change a single answer: each is held here against the question asked of every pair.
 */
import { allowedIngress, isConnectionAllowed, OUTSIDE, unintendedIngress } from '../../lib/check';
import {
  effectiveNamespace,
  LabelIndex,
  labelSelectorMatches,
  podsSelectedBy,
  SelectorIndex,
  serviceSelector,
  templateIndex,
  workloadPodTemplates,
} from '../../lib/check/k8s';

/** mulberry32: the same cases on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = ['a', 'b', 'c'];
const KEYS = ['app', 'tier', 'team'];
const VALUES = ['x', 'y', 'z'];

/** Small random networks: overlapping labels, every kind of selector and peer, named ports, both directions. */
function network(rnd: () => number): any[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const labels = () => Object.fromEntries(KEYS.filter(() => rnd() < 0.6).map((k) => [k, pick(VALUES)]));
  const selector = (): any => {
    const r = rnd();
    if (r < 0.15) return {};
    return {
      ...(r < 0.8 ? { matchLabels: labels() } : {}),
      ...(rnd() < 0.3
        ? { matchExpressions: [{ key: pick(KEYS), operator: pick(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: [pick(VALUES)] }] }
        : {}),
    };
  };
  const peer = (): any => {
    const r = rnd();
    if (r < 0.15) return { ipBlock: { cidr: pick(['0.0.0.0/0', '203.0.113.0/24', '10.0.0.0/8']) } };
    if (r < 0.45) {
      const ns =
        rnd() < 0.5
          ? { matchLabels: { 'kubernetes.io/metadata.name': pick([...NAMESPACES, 'monitoring']) } }
          : { matchLabels: { env: pick(['prod', 'dev']) } };
      return { namespaceSelector: ns, ...(rnd() < 0.5 ? { podSelector: selector() } : {}) };
    }
    return r < 0.95 ? { podSelector: selector() } : {};
  };
  const rule = (peers: 'from' | 'to') => ({
    ...(rnd() < 0.85 ? { [peers]: Array.from({ length: 1 + Math.floor(rnd() * 2) }, peer) } : {}),
    ...(rnd() < 0.8
      ? { ports: [{ port: pick([80, 8080, 'http', 9000]), ...(rnd() < 0.1 ? { endPort: 9100 } : {}), ...(rnd() < 0.1 ? { protocol: 'UDP' } : {}) }] }
      : {}),
  });
  const objects: any[] = NAMESPACES.map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { env: pick(['prod', 'dev']) } },
  }));
  const workloads = 3 + Math.floor(rnd() * 6);
  for (let i = 0; i < workloads; i++) {
    const l = labels();
    const ports = [{ containerPort: pick([80, 8080, 9000]), name: 'http' }, ...(rnd() < 0.3 ? [{ containerPort: 9090 }] : [])];
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `w${i}`, namespace: pick(NAMESPACES) },
      spec: {
        selector: { matchLabels: l },
        template: { metadata: { labels: l }, spec: { containers: [{ name: 'c', image: 'registry.example.com/c:1', ports }] } },
      },
    });
  }
  for (let i = Math.floor(rnd() * 7); i > 0; i--) {
    const types = pick([undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `p${i}`, namespace: pick(NAMESPACES) },
      spec: {
        podSelector: selector(),
        ...(types ? { policyTypes: types } : {}),
        ...(rnd() < 0.8 ? { ingress: Array.from({ length: Math.floor(rnd() * 3) }, () => rule('from')) } : {}),
        ...(rnd() < 0.6 ? { egress: Array.from({ length: Math.floor(rnd() * 3) }, () => rule('to')) } : {}),
      },
    });
  }
  return objects;
}

/**
 * allowedIngress's sources, in its order: the workloads, outside, then a probe pod per namespace
 * (network.ts probeRefs): the usual three, the workloads', and those the rules of a direction a
 * policy isolates name.
 */
function sources(objects: readonly any[]): string[] {
  const templates = workloadPodTemplates(objects);
  const isolates = (spec: any, dir: string) =>
    spec.policyTypes ? spec.policyTypes.includes(dir === 'ingress' ? 'Ingress' : 'Egress') : dir === 'ingress' || (spec.egress ?? []).length > 0;
  const named = objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .flatMap((p) =>
      ['ingress', 'egress']
        .filter((dir) => isolates(p.spec, dir))
        .flatMap((dir) =>
          (p.spec[dir] ?? []).flatMap((r: any) =>
            (r.from ?? r.to ?? [])
              .map((peer: any) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'])
              .filter((ns: unknown) => typeof ns === 'string'),
          ),
        ),
    );
  const probes = new Set(['elsewhere', 'monitoring', 'ingress-nginx', ...templates.map((t) => t.namespace), ...named]);
  return [...templates.map((t) => t.ref), OUTSIDE, ...[...probes].map((ns) => `probe:${ns}`)];
}

describe('the network check asks only the sources a destination can admit, and answers as if it asked all', () => {
  test('allowedIngress equals isConnectionAllowed asked for every source, destination and port, in the same order (100 random networks)', () => {
    const rnd = random(14);
    let allowed = 0;
    let denied = 0;
    for (let n = 0; n < 100; n++) {
      const objects = network(rnd);
      const expected: string[] = [];
      for (const t of workloadPodTemplates(objects)) {
        for (const p of t.podSpec.containers![0].ports!) {
          for (const from of sources(objects)) {
            if (isConnectionAllowed(objects, from, t.ref, p.containerPort)) expected.push(`${from} -> ${t.ref}:${p.containerPort}`);
            else denied++;
          }
        }
      }
      const got = allowedIngress(objects).map((c) => `${c.from} -> ${c.to}:${c.port}`);
      expect(got).toEqual(expected);
      allowed += got.length;
      // the strict check's answer is a part of it
      for (const c of unintendedIngress(objects)) expect(got).toContain(`${c.from} -> ${c.to}:${c.port}`);
    }
    // the cases exercise both answers
    expect(allowed).toBeGreaterThan(1000);
    expect(denied).toBeGreaterThan(1000);
  });

  test('podsSelectedBy with a template index selects what a scan of every template does', () => {
    const rnd = random(7);
    for (let n = 0; n < 100; n++) {
      const objects = network(rnd);
      const templates = workloadPodTemplates(objects);
      const index = templateIndex(templates);
      for (const t of templates) {
        for (const selector of [t.labels, {}, { app: 'x' }, { app: 'x', tier: 'y' }]) {
          for (const namespace of NAMESPACES) {
            const svc = { kind: 'Service', metadata: { name: 's', namespace }, spec: { selector } };
            expect(podsSelectedBy(svc, index)).toEqual(podsSelectedBy(svc, templates));
          }
        }
      }
    }
  });

  test('LabelIndex and SelectorIndex candidates hold every match, in order', () => {
    const rnd = random(3);
    for (let n = 0; n < 100; n++) {
      const objects = network(rnd);
      const templates = workloadPodTemplates(objects);
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
      const byLabels = new LabelIndex(
        templates,
        (t) => t.namespace,
        (t) => t.labels,
      );
      const bySelector = new SelectorIndex(policies, effectiveNamespace, (p: any) => p.spec.podSelector?.matchLabels ?? {});
      for (const t of templates) {
        const matching = policies
          .map((p, i) => [p, i] as const)
          .filter(([p]) => effectiveNamespace(p) === t.namespace && labelSelectorMatches(p.spec.podSelector, t.labels))
          .map(([, i]) => i);
        const candidates = bySelector.candidates(t.namespace, t.labels);
        expect(candidates).toEqual([...candidates].sort((x, y) => x - y));
        expect(candidates).toEqual(expect.arrayContaining(matching));
        for (const namespace of NAMESPACES) {
          const want = templates
            .map((u, i) => [u, i] as const)
            .filter(([u]) => u.namespace === namespace && Object.entries(t.labels).every(([k, v]) => u.labels[k] === v))
            .map(([, i]) => i);
          expect(byLabels.candidates(namespace, t.labels)).toEqual(expect.arrayContaining(want));
        }
      }
      // a Service without a selector selects nothing and is never a candidate
      const none = new SelectorIndex([{ kind: 'Service', spec: {} }], effectiveNamespace, serviceSelector);
      expect(none.candidates('default', { app: 'x' })).toEqual([]);
    }
  });
});
