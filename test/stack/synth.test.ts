/**
 * MlApp.synthFiles renders each object and writes it before the next (lib/app/_synth.ts), the
 * compose file one service at a time and large files a slice at a time, so that 10,000 services fit
 * in memory (npm run bench). What it writes must stay what cdk8s's own path gives, byte for byte.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiObject, App, Chart, Lazy, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { buildReferenceApps } from '../../apps/main';
import { InferenceService, MlApp, MlStack } from '../../lib';
import { parseYamlStream } from '../_util/yaml';
import { listFiles } from '../../lib/check/files';
import { ComposeFile } from '../../lib/app/_compose';
import { appCharts, chartObjects, prepareSynth } from '../../lib/app/_synth';
import { writeTreeAtomically } from '../../lib/app/_write-tree';
import { toYaml, toYamlMapping } from '../../lib/app/_yaml';
import { StackCompose } from '../../lib/stack/_compose';
import { manifestFileOf } from '../../lib/stack/_output';
import { synth, tempDir } from '../_util/synth';

const OUT = '/nonexistent/out';

/** Each chart as cdk8s renders it, through Chart.toJson(), in an app of its own built the same way. */
function cdk8sManifests(build: (app: MlApp) => void): Map<string, string> {
  const app = new MlApp({ outdir: OUT });
  build(app);
  return new Map(app.charts.map((c) => [manifestFileOf(c), toYaml(c.toJson())] as [string, string]).filter(([, y]) => y !== ''));
}

function manifests(files: Map<string, string>): Map<string, string> {
  return new Map([...files].filter(([rel]) => rel.startsWith('manifests/')));
}

/** Two stacks, objects that depend on later ones (in a stack and across two), a nested chart. */
function withDependencies(app: MlApp): void {
  const a = new MlStack(app, 'a');
  const b = new MlStack(app, 'b');
  const first = new InferenceService(a, 'first', { image: 'registry.example.com/first:1.0.0' });
  const second = new InferenceService(a, 'second', { image: 'registry.example.com/second:1.0.0' });
  const third = new InferenceService(b, 'third', { image: 'registry.example.com/third:1.0.0' });
  first.node.addDependency(second);
  second.node.addDependency(third);
  new InferenceService(new Chart(a, 'nested', { namespace: 'a', disableResourceNameHashes: true }), 'inner', {
    image: 'registry.example.com/inner:1.0.0',
  });
}

describe('synthFiles renders as Chart.toJson() does', () => {
  test('the reference apps: every manifest file byte for byte', () => {
    const ours = manifests(buildReferenceApps(new MlApp({ outdir: OUT })).synthFiles());
    const theirs = cdk8sManifests(buildReferenceApps);
    expect([...ours.keys()]).toEqual([...theirs.keys()].sort());
    for (const [file, yaml] of theirs) expect(ours.get(file)).toBe(yaml);
  });

  test('objects that depend on objects defined after them, in their stack and in another; a nested chart', () => {
    const app = new MlApp({ outdir: OUT });
    withDependencies(app);
    const ours = manifests(app.synthFiles());
    const theirs = cdk8sManifests(withDependencies);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [file, yaml] of theirs) expect(ours.get(file)).toBe(yaml);
    // the dependency reordered the stack: `second` (and what it owns) before `first`
    const names = parseYamlStream(ours.get('manifests/a.k8s.yaml')!).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names.indexOf('Deployment/second')).toBeLessThan(names.indexOf('Deployment/first'));
  });

  test('chartObjects and appCharts give the order of cdk8s (dependency graph), with and without dependencies, ids being array indices', () => {
    const app = new App();
    const charts = ['b', '10', 'a', '2'].map((id) => new Chart(app, id));
    new Chart(charts[0], '1');
    for (const c of charts) for (const id of ['y', 'x']) new ApiObject(c, id, { apiVersion: 'v1', kind: 'ConfigMap' });
    // no dependency: the fast path
    expect(appCharts(app).map((c) => c.node.path)).toEqual(app.charts.map((c) => c.node.path));
    expect(chartObjects(charts[0]).map((o) => o.node.path)).toEqual(new DependencyOrder(charts[0]).paths());
    // a dependency: cdk8s's graph
    charts[0].node.findChild('y').node.addDependency(charts[0].node.findChild('x'));
    charts[2].addDependency(charts[0]);
    expect(appCharts(app).map((c) => c.node.path)).toEqual(app.charts.map((c) => c.node.path));
    expect(chartObjects(charts[0]).map((o) => o.node.path)).toEqual(['b/x', 'b/y']);
    prepareSynth(app);
    for (const c of charts) expect(chartObjects(c).map((o) => o.node.path)).toEqual(new DependencyOrder(c).paths());
  });

  test("a failed validation throws cdk8s's message, naming the construct", () => {
    const build = (app: App) => {
      const stack = new MlStack(app, 'v');
      new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0' });
      new Construct(stack, 'checked').node.addValidation({ validate: () => ['is not right'] });
    };
    const theirs = (() => {
      const app = new MlApp({ outdir: OUT });
      build(app);
      try {
        app.charts[0].toJson();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    })();
    expect(theirs).toBe('Validation failed with the following errors:\n  [v/checked] is not right');
    const app = new MlApp({ outdir: OUT });
    build(app);
    expect(() => app.synthFiles()).toThrow(theirs);
  });
});

/** What cdk8s renders a chart in, read off its own toJson. */
class DependencyOrder {
  constructor(private readonly chart: Chart) {}
  paths(): string[] {
    const byName = new Map(
      this.chart.node
        .findAll()
        .filter(ApiObject.isApiObject)
        .map((o) => [o.name, o.node.path]),
    );
    return this.chart.toJson().map((o: any) => byName.get(o.metadata.name)!);
  }
}

describe('compose, one service at a time', () => {
  test('the reference apps: each compose file is toYaml of its whole document', () => {
    const app = buildReferenceApps(new MlApp({ outdir: OUT }));
    const files = app.synthFiles();
    const stacks = app.node.findAll().filter(MlStack.isMlStack);
    let compared = 0;
    for (const stack of stacks) {
      const compose = new ComposeFile(StackCompose.of(stack)!);
      const file = `compose/${stack.stackName}.compose.yml`;
      if (!files.has(file)) continue;
      expect(files.get(file)).toBe(toYaml([compose.toDocument(path.resolve(OUT))]));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  test('toYamlMapping is toYaml of the mapping: block scalars with empty lines, indentation indicators, quoted keys, empty values', () => {
    const entries: Array<[string, unknown]> = [
      [
        'a',
        {
          text: 'line 1\n\nline 3\n',
          lead: '  indented\nsecond',
          list: [1, { z: ['p', 'q'] }, []],
          empty: {},
          none: null,
          number: '1_000',
          yes: 'yes',
        },
      ],
      ['needs: quotes', { 'k: v': 'v', nested: [[1, 2], { multi: 'x\n  y\n' }] }],
      ['scalar', 'one\ntwo'],
      ['list', []],
    ];
    expect(toYamlMapping('services', entries)).toBe(toYaml([{ services: Object.fromEntries(entries) }]));
    expect(toYamlMapping('services', [])).toBe(toYaml([{ services: {} }]));
  });

  test('host ports: each service gets the lowest free port from its container port on, in order', () => {
    const out = synth((app) => {
      const stack = new MlStack(app, 'ports');
      for (const [i, port] of [8080, 8080, 8081, 8080, 9000, 8081, 8082, 8080].entries()) {
        new InferenceService(stack, `s${i}`, { image: `registry.example.com/s${i}:1.0.0`, port });
      }
    });
    const services = parseYamlStream(out.files.get('compose/ports.compose.yml')!)[0].services;
    const taken = new Set<number>();
    const got: number[] = [];
    const expected: number[] = [];
    for (const svc of Object.values<any>(services)) {
      for (const spec of svc.ports as string[]) {
        const [, host, container] = /^127\.0\.0\.1:\$\{[A-Z0-9_]+:-(\d+)\}:(\d+)$/.exec(spec)!.map(Number);
        let want = container;
        while (taken.has(want)) want++;
        taken.add(want);
        got.push(host);
        expected.push(want);
      }
    }
    expect(got).toEqual(expected);
    expect(got.slice(0, 4)).toEqual([8080, 8081, 8082, 8083]);
  });
});

describe('perSynth: the app-wide namespaces, once per synth', () => {
  const api = (stack: MlStack) =>
    new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', env: { PEER: 'http://peer.other:8080/v1' } });
  // to any address on 8080 (the wiring to `peer` is a rule of its own, with a podSelector)
  const egressOn8080 = (policy: any) =>
    (policy.spec.egress ?? []).filter((r: any) => r.ports?.some((p: any) => p.port === 8080) && r.to?.some((t: any) => t.ipBlock));

  test('a `svc.ns` host is in the cluster when a stack deploys to ns, else any address on its port', () => {
    const inCluster = synth((app) => {
      const client = api(new MlStack(app, 'a'));
      new InferenceService(new MlStack(app, 'other'), 'peer', { image: 'registry.example.com/peer:1.0.0' }).allowFrom(client);
    }).find('NetworkPolicy', 'api');
    expect(egressOn8080(inCluster)).toEqual([]);
    const outside = synth((app) => api(new MlStack(app, 'a'))).find('NetworkPolicy', 'api');
    expect(egressOn8080(outside)).toEqual([{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 8080, protocol: 'TCP' }] }]);
  });

  test('outside an MlApp synth (a plain cdk8s App, Chart.toJson) the same policy', () => {
    const app = Testing.app();
    const stack = new MlStack(app, 'a');
    new InferenceService(new MlStack(app, 'other'), 'peer', { image: 'registry.example.com/peer:1.0.0' }).allowFrom(api(stack));
    const policy = stack.toJson().find((o: any) => o.kind === 'NetworkPolicy' && o.metadata.name === 'api');
    expect(egressOn8080(policy)).toEqual([]);
  });
});

describe('writing', () => {
  test('MlApp.synth writes, manifests piece by piece, exactly what synthFiles returns', () => {
    const dir = path.join(tempDir(), 'dist');
    const app = buildReferenceApps(new MlApp({ outdir: dir }));
    app.synth();
    const expected = buildReferenceApps(new MlApp({ outdir: dir })).synthFiles();
    const written = new Map(listFiles(dir).map((rel) => [rel, fs.readFileSync(path.join(dir, rel), 'utf8')] as [string, string]));
    expect([...written.keys()]).toEqual([...expected.keys()]);
    for (const [rel, content] of expected) expect(written.get(rel)).toBe(content);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  test('an object that fails to render while its manifest is being written leaves the output directory as it was, and no staging directory', () => {
    const parent = tempDir();
    const dir = path.join(parent, 'dist');
    fs.mkdirSync(path.join(dir, 'manifests'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'manifests', 'previous.k8s.yaml'), 'kept: true\n');
    const app = new MlApp({ outdir: dir });
    const stack = new MlStack(app, 'broken');
    for (let i = 0; i < 200; i++) new InferenceService(stack, `s${i}`, { image: `registry.example.com/s${i}:1.0.0` });
    new ApiObject(stack, 'last', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      data: Lazy.any({
        produce: () => {
          throw new Error('cannot render');
        },
      }),
    });
    expect(() => app.synth()).toThrow(/cannot render/);
    expect(listFiles(parent)).toEqual(['dist/manifests/previous.k8s.yaml']);
    fs.rmSync(parent, { recursive: true, force: true });
  });

  test('a file larger than the write slice, with surrogate pairs across slice boundaries, is written exactly', () => {
    const dir = path.join(tempDir(), 'out');
    const unit = 'x'.repeat((1 << 20) - 1);
    const content = `${unit}😀${unit}é😀${'y'.repeat(1000)}\n`;
    writeTreeAtomically(
      dir,
      new Map([
        ['manifests/big.k8s.yaml', content],
        ['images/build.sh', '#!/bin/sh\n'],
      ]),
    );
    expect(fs.readFileSync(path.join(dir, 'manifests/big.k8s.yaml'), 'utf8')).toBe(content);
    expect(fs.statSync(path.join(dir, 'manifests/big.k8s.yaml')).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(dir, 'images/build.sh')).mode & 0o777).toBe(0o755);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });
});
