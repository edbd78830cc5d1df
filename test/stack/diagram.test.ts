import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiObject } from 'cdk8s';
import {
  Exposure,
  FlaskFrontend,
  InferenceService,
  MlApp,
  MlStack,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  TrainingJob,
} from '../../lib';
import { buildReferenceApps } from '../../apps/main';
import { allowedIngress, checkOutputFiles, intendedConnections, isConnectionAllowed } from '../../lib/check';
import { synth, synthStack, Synthesized } from '../_util/synth';

// ---------------------------------------------------------------------------
// A small Mermaid flowchart parser: every line must be one of the forms the library writes, ids
// plain, labels quoted. What it accepts, Mermaid's flowchart grammar accepts.
// ---------------------------------------------------------------------------

interface Diagram {
  /** id -> label lines, entities decoded. */
  readonly nodes: Map<string, string[]>;
  readonly edges: Array<{ from: string; to: string; style: 'net' | 'rel'; label: string }>;
}

const ID = '[A-Z][A-Za-z0-9_]*';
const LABEL = '"([^"]*)"';
const SHAPES = [
  ['\\[', '\\]'],
  ['\\(\\[', '\\]\\)'],
  ['\\[\\(', '\\)\\]'],
  ['\\[/', '/\\]'],
  ['\\{\\{', '\\}\\}'],
];
const NODE_RE = new RegExp(`^(${ID})(?:${SHAPES.map(([o, c]) => `${o}${LABEL}${c}`).join('|')})$`);
const EDGE_RE = new RegExp(`^(${ID}) (-->|-\\.->)\\|${LABEL}\\| (${ID})$`);
const SUBGRAPH_RE = new RegExp(`^subgraph (${ID}) \\[${LABEL}\\]$`);
const RESERVED = new Set(['end', 'subgraph', 'graph', 'flowchart', 'style', 'class', 'classDef', 'click', 'linkStyle']);

function decode(label: string): string[] {
  // only <br/> is markup; anything else that could end or break a label is an entity
  expect(label.replace(/<br\/>/g, '')).not.toMatch(/[<>"]/);
  return label.split('<br/>').map((l) =>
    l
      .replace(/#quot;/g, '"')
      .replace(/#lt;/g, '<')
      .replace(/#gt;/g, '>')
      .replace(/#35;/g, '#'),
  );
}

function parseDiagram(markdown: string): Diagram {
  const m = /^```mermaid\n([\s\S]*?)\n```$/m.exec(markdown);
  if (!m) throw new Error(`no mermaid block in:\n${markdown}`);
  const [head, ...lines] = m[1].split('\n');
  expect(head).toBe('flowchart LR');
  const nodes = new Map<string, string[]>();
  const edges: Diagram['edges'] = [];
  const ids = new Set<string>();
  let depth = 0;
  for (const raw of lines) {
    const line = raw.trim();
    let g: RegExpExecArray | null;
    if (line.startsWith('%%')) continue;
    if (line === 'end') {
      depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    } else if ((g = SUBGRAPH_RE.exec(line))) {
      expect(ids.has(g[1])).toBe(false);
      ids.add(g[1]);
      depth++;
    } else if ((g = NODE_RE.exec(line))) {
      if (ids.has(g[1])) throw new Error(`node id ${g[1]} declared twice`);
      expect(RESERVED.has(g[1])).toBe(false);
      ids.add(g[1]);
      nodes.set(g[1], decode(g.slice(2).find((x) => x !== undefined)!));
    } else if ((g = EDGE_RE.exec(line))) {
      edges.push({ from: g[1], to: g[4], style: g[2] === '-->' ? 'net' : 'rel', label: decode(g[3]).join('\n') });
    } else {
      throw new Error(`not a line of the diagram's grammar: ${JSON.stringify(raw)}`);
    }
  }
  expect(depth).toBe(0);
  for (const e of edges) {
    if (!nodes.has(e.from) || !nodes.has(e.to)) throw new Error(`edge ${e.from} -> ${e.to} names an undeclared node`);
  }
  return { nodes, edges };
}

// ---------------------------------------------------------------------------
// Endpoints of the output check (lib/check/network.ts) <-> nodes of a diagram
// ---------------------------------------------------------------------------

const POD_OWNERS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];
const templateOf = (o: any) => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template : o.spec.template);
const refOf = (o: any) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
const ports = (label: string) => (label === 'all ports' ? 'all' : label.split(', ').map(Number));

/** The endpoint a node stands for: `Kind/ns/name`, `outside` or `probe:<ns>` (any pod of a namespace). */
function endpointOf(lines: string[], namespace: string): string | undefined {
  if (lines[0] === 'outside') return 'outside';
  const ns = /^in namespace (.+)$/.exec(lines[1] ?? '');
  if (lines[0] === 'any pod' && ns) return `probe:${ns[1]}`;
  const w = /^(\w+) (?:([a-z0-9-]+)\/)?([a-z0-9.-]+)$/.exec(lines[0]);
  if (w && POD_OWNERS.includes(w[1])) return `${w[1]}/${w[2] ?? namespace}/${w[3]}`;
  return undefined;
}

interface StackView {
  readonly file: string;
  readonly namespace: string;
  readonly objects: any[];
  readonly diagram: Diagram;
  /** Network edges as `from|to|port` over endpoints (port 'all' for an edge without ports). */
  readonly net: Set<string>;
}

function stackViews(out: Synthesized): StackView[] {
  const manifests = [...out.files].filter(([f]) => f.startsWith('manifests/'));
  return manifests.map(([file]) => {
    const stack = file.slice('manifests/'.length, -'.k8s.yaml'.length);
    const mine = out.objects.filter((o) => objectsOfFile(out, file).includes(o));
    const md = out.files.get(`diagrams/${stack}.md`);
    if (md === undefined) throw new Error(`no diagrams/${stack}.md`);
    const namespace = /\(namespace ([a-z0-9-]+)\)/.exec(md)![1];
    const diagram = parseDiagram(md);
    const net = new Set<string>();
    for (const e of diagram.edges.filter((x) => x.style === 'net')) {
      const from = endpointOf(diagram.nodes.get(e.from)!, namespace);
      const to = endpointOf(diagram.nodes.get(e.to)!, namespace);
      if (!from || !to) throw new Error(`a network edge between nodes that are no endpoints: ${e.from} -> ${e.to}`);
      const p = ports(e.label);
      for (const port of p === 'all' ? ['all'] : p) net.add(`${from}|${to}|${port}`);
    }
    return { file, namespace, objects: mine, diagram, net };
  });
}

const FILE_OBJECTS = new WeakMap<Synthesized, Map<string, any[]>>();
/** The parsed objects of one manifest file (out.objects is every file's, in file order). */
function objectsOfFile(out: Synthesized, file: string): any[] {
  let byFile = FILE_OBJECTS.get(out);
  if (!byFile) {
    byFile = new Map();
    let i = 0;
    for (const [f, yaml] of [...out.files].filter(([x]) => x.startsWith('manifests/'))) {
      const n = yaml.split(/^---$/m).filter((d) => d.trim() !== '').length;
      byFile.set(f, out.objects.slice(i, i + n));
      i += n;
    }
    FILE_OBJECTS.set(out, byFile);
  }
  return byFile.get(file)!;
}

const labelsMatch = (sel: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(sel).every(([k, v]) => labels[k] === v);

/** Workloads a NetworkPolicy selects: the connections into them are the policies' to draw. */
function isolated(objects: any[]): Set<string> {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  return new Set(
    objects
      .filter((o) => POD_OWNERS.includes(o.kind))
      .filter((w) =>
        policies.some(
          (p) => p.metadata.namespace === w.metadata.namespace && labelsMatch(p.spec.podSelector.matchLabels ?? {}, templateOf(w).metadata.labels),
        ),
      )
      .map(refOf),
  );
}

/** Whether the diagram draws a connection: the exact pair, or a rule that admits a whole namespace or any address. */
function drawn(view: StackView, from: string, to: string, port: number, fromNamespace?: string): boolean {
  const has = (f: string) => view.net.has(`${f}|${to}|${port}`) || view.net.has(`${f}|${to}|all`);
  return has(from) || has('outside') || (fromNamespace !== undefined && has(`probe:${fromNamespace}`));
}

// ---------------------------------------------------------------------------

describe('the diagram of every reference stack', () => {
  const out = synth((app) => buildReferenceApps(app));
  const views = stackViews(out);
  const probeNamespaces = [
    ...new Set(
      views.flatMap((v) =>
        [...v.net]
          .flatMap((k) => k.split('|').slice(0, 2))
          .filter((e) => e.startsWith('probe:'))
          .map((e) => e.slice('probe:'.length)),
      ),
    ),
  ];
  const namespaceOf = (ref: string) => (ref.startsWith('probe:') ? ref.slice('probe:'.length) : ref.split('/')[1]);

  test('every stack has diagrams/<stack>.md, outside manifests/, and the output check accepts it', () => {
    const stacks = [...out.files.keys()]
      .filter((f) => f.startsWith('manifests/'))
      .map((f) => f.slice(10, -9))
      .sort();
    expect([...out.files.keys()].filter((f) => f.startsWith('diagrams/')).sort()).toEqual(stacks.map((s) => `diagrams/${s}.md`));
    expect(checkOutputFiles(out.files)).toEqual([]);
    // every reference app of apps/ is among them (each app's stack is named after its directory)
    const apps = fs
      .readdirSync(path.join(__dirname, '../../apps'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(apps.length).toBeGreaterThanOrEqual(6);
    for (const a of apps) expect(stacks).toContain(a);
  });

  test('every workload appears, with its kind, and every Service with its ports and the pods it selects', () => {
    for (const v of views) {
      const labels = [...v.diagram.nodes.values()];
      const idOf = (first: string) => [...v.diagram.nodes].find(([, l]) => l[0] === first)?.[0];
      for (const w of v.objects.filter((o) => POD_OWNERS.includes(o.kind))) {
        expect(labels.map((l) => l[0])).toContain(`${w.kind} ${w.metadata.name}`);
      }
      for (const s of v.objects.filter((o) => o.kind === 'Service')) {
        const node = labels.find((l) => l[0].startsWith(`Service ${s.metadata.name}`));
        expect(node).toBeDefined();
        for (const p of s.spec.ports) expect(node).toContain(`${p.name ? `${p.name} ` : ''}${p.port} → ${p.targetPort}`);
        const selected = v.objects.filter((w) => POD_OWNERS.includes(w.kind) && labelsMatch(s.spec.selector, templateOf(w).metadata.labels));
        const sid = [...v.diagram.nodes].find(([, l]) => l === node)![0];
        expect(
          v.diagram.edges
            .filter((e) => e.from === sid && e.label === 'selects')
            .map((e) => e.to)
            .sort(),
        ).toEqual(selected.map((w) => idOf(`${w.kind} ${w.metadata.name}`)).sort());
      }
    }
    // the reference apps have the kinds a review needs to see
    expect(views.flatMap((v) => [...v.diagram.nodes.values()].map((l) => l[0].split(' ')[0]))).toEqual(
      expect.arrayContaining(['Deployment', 'Job', 'Service', 'PersistentVolumeClaim', 'Ingress']),
    );
  });

  test('every connection the NetworkPolicies allow into a workload is drawn, with its port', () => {
    const refs = isolated(out.objects);
    let checkedCount = 0;
    for (const c of allowedIngress(out.objects, { probeNamespaces })) {
      if (!refs.has(c.to) || c.port === 53) continue;
      const view = views.find((v) => v.objects.some((o) => refOf(o) === c.to))!;
      const fromNamespace = c.from === 'outside' ? undefined : namespaceOf(c.from);
      if (!drawn(view, c.from, c.to, c.port, fromNamespace))
        throw new Error(`${view.file}: the policies allow ${c.from} -> ${c.to}:${c.port}, the diagram does not draw it`);
      checkedCount++;
    }
    expect(checkedCount).toBeGreaterThan(5);
  });

  test('every network edge drawn is a connection the NetworkPolicies allow, and nothing else', () => {
    let edges = 0;
    for (const v of views) {
      for (const key of v.net) {
        const [from, to, port] = key.split('|');
        // a rule without ports (distributed peers) admits every port: NCCL/gloo pick one at run time
        const p = port === 'all' ? 40000 : Number(port);
        if (!isConnectionAllowed(out.objects, from, to, p)) throw new Error(`${v.file}: draws ${from} -> ${to}:${port}, which the policies deny`);
        edges++;
      }
    }
    expect(edges).toBeGreaterThan(5);
  });

  test('every connection the manifests intend (env URLs, scrapes, Ingress, LoadBalancer, storage) is drawn', () => {
    for (const c of intendedConnections(out.objects)) {
      if (c.to.startsWith('ip:')) continue;
      const view = views.find((v) => v.objects.some((o) => refOf(o) === c.to || refOf(o) === c.from));
      if (!view) continue;
      const fromNamespace = c.from === 'outside' ? undefined : namespaceOf(c.from);
      if (!drawn(view, c.from, c.to, c.port, fromNamespace))
        throw new Error(`${view.file}: intended ${c.reason} (${c.from} -> ${c.to}:${c.port}) is not drawn`);
    }
  });

  test('the wiring of and-gate: web -> server on REST 8501, the load balancer -> web on 8080, Prometheus -> server', () => {
    const v = views.find((x) => x.file === 'manifests/and-gate.k8s.yaml')!;
    expect([...v.net].sort()).toEqual([
      'Deployment/and-gate/web|Deployment/and-gate/server|8501',
      'outside|Deployment/and-gate/web|8080',
      'probe:monitoring|Deployment/and-gate/server|8501',
    ]);
  });

  test('claims: the workloads that write each one and those that read it (training -> model -> readers)', () => {
    for (const v of views) {
      const idOf = (first: string) => [...v.diagram.nodes].find(([, l]) => l[0] === first)?.[0];
      for (const w of v.objects.filter((o) => POD_OWNERS.includes(o.kind))) {
        const spec = templateOf(w).spec;
        for (const vol of (spec.volumes ?? []).filter((x: any) => x.persistentVolumeClaim)) {
          const mounts = [...(spec.initContainers ?? []), ...spec.containers]
            .flatMap((c: any) => c.volumeMounts ?? [])
            .filter((m: any) => m.name === vol.name);
          const wid = idOf(`${w.kind} ${w.metadata.name}`)!;
          const cid = idOf(`PersistentVolumeClaim ${vol.persistentVolumeClaim.claimName}`)!;
          expect(cid).toBeDefined();
          const paths = (ms: any[]) => [...new Set(ms.map((m: any) => String(m.mountPath)))].sort();
          const writes = paths(mounts.filter((m: any) => !m.readOnly && !vol.persistentVolumeClaim.readOnly));
          const reads = paths(mounts.filter((m: any) => m.readOnly || vol.persistentVolumeClaim.readOnly));
          const edge = (from: string, to: string, verb: string) =>
            v.diagram.edges.find((e) => e.from === from && e.to === to && e.label.startsWith(verb));
          if (writes.length > 0) expect(edge(wid, cid, 'writes')?.label).toBe(`writes ${writes.join(', ')}`);
          else expect(edge(wid, cid, 'writes')).toBeUndefined();
          if (reads.length > 0) expect(edge(cid, wid, 'reads')?.label).toBe(`reads ${reads.join(', ')}`);
          else expect(edge(cid, wid, 'reads')).toBeUndefined();
        }
      }
    }
    // eeg-letters: train writes its model claim, the API and the batch job read it, the batch job writes its output
    const eeg = views.find((x) => x.file === 'manifests/eeg-letters.k8s.yaml')!;
    const text = (e: Diagram['edges'][number]) => `${eeg.diagram.nodes.get(e.from)![0]} ${e.label} ${eeg.diagram.nodes.get(e.to)![0]}`;
    expect(
      eeg.diagram.edges
        .filter((e) => /^(writes|reads)/.test(e.label))
        .map(text)
        .sort(),
    ).toEqual([
      'Job batch-inference writes /output PersistentVolumeClaim batch-inference-output',
      'Job train writes /models PersistentVolumeClaim train-model',
      'PersistentVolumeClaim train-model reads /models Deployment api',
      'PersistentVolumeClaim train-model reads /models Job batch-inference',
    ]);
  });

  test('exposures: a LoadBalancer Service reached from outside, an Ingress routing its host to its Service', () => {
    const andGate = views.find((x) => x.file === 'manifests/and-gate.k8s.yaml')!.diagram;
    const first = (d: Diagram, id: string) => d.nodes.get(id)![0];
    expect(
      andGate.edges.filter((e) => e.style === 'rel' && first(andGate, e.from) === 'outside').map((e) => `${e.label} ${first(andGate, e.to)}`),
    ).toEqual(['LoadBalancer 80 Service web (LoadBalancer)']);
    const ic = views.find((x) => x.file === 'manifests/image-classifier.k8s.yaml')!.diagram;
    const ingress = [...ic.nodes].find(([, l]) => l[0].startsWith('Ingress '))!;
    expect(ingress[1]).toEqual(['Ingress image-classifier', 'image-classifier.example.com']);
    expect(ic.edges.filter((e) => e.from === ingress[0]).map((e) => `${e.label} ${first(ic, e.to)}`)).toEqual(['/ → 80 Service image-classifier']);
  });

  test('deterministic: two synths write byte-identical diagrams', () => {
    const again = new MlApp({ outdir: 'unused' });
    buildReferenceApps(again);
    const diagrams = (files: Map<string, string>) => [...files].filter(([f]) => f.startsWith('diagrams/'));
    expect(diagrams(again.synthFiles())).toEqual(diagrams(out.files));
  });
});

describe('diagrams of other shapes', () => {
  test('a canary pair behind a Gateway route: both tracks, the route with its weights, the gateway', () => {
    const out = synthStack((stack) => {
      new InferenceService(stack, 'api', {
        image: 'registry.example.com/api:1.0.0',
        port: 8080,
        replicas: 4,
        canary: { weight: 10, image: 'registry.example.com/api:1.1.0' },
        exposure: Exposure.gateway({ gateway: { name: 'public', namespace: 'gateways' } }),
      });
    });
    const d = parseDiagram(out.files.get('diagrams/test.md')!);
    const firsts = [...d.nodes.values()].map((l) => l[0]);
    const route = out.objects.find((o) => o.kind === 'HTTPRoute');
    expect(firsts).toEqual(
      expect.arrayContaining(['Deployment api', 'Deployment api-canary', `HTTPRoute ${route.metadata.name}`, 'Gateway gateways/public']),
    );
    const first = (id: string) => d.nodes.get(id)![0];
    const fromRoute = d.edges
      .filter((e) => first(e.from).startsWith('HTTPRoute'))
      .map((e) => `${e.label.split(' → ')[0]} ${first(e.to).split(' (')[0]}`)
      .sort();
    const backends = route.spec.rules
      .flatMap((r: any) => r.backendRefs)
      .map((b: any) => `weight ${b.weight ?? 1} Service ${b.name}`)
      .sort();
    expect(fromRoute).toEqual(backends);
    expect(fromRoute.join('\n')).toMatch(/weight 10 /);
  });

  test('a canary pair behind the one Service: the Service selects both tracks and says which ratio results', () => {
    const out = synthStack((stack) => {
      new InferenceService(stack, 'api', {
        image: 'registry.example.com/api:1.0.0',
        port: 8080,
        replicas: 4,
        canary: { weight: 25, image: 'registry.example.com/api:1.1.0' },
      });
    });
    const d = parseDiagram(out.files.get('diagrams/test.md')!);
    const service = [...d.nodes].find(([, l]) => l[0] === 'Service api')!;
    const split = out.find('Service', 'api').metadata.annotations['ml.cdk8s.io/traffic-split'];
    expect(split).toMatch(/75%.*25%/);
    expect(service[1]).toContain(`split ${split}`);
    expect(
      d.edges
        .filter((e) => e.from === service[0] && e.label === 'selects')
        .map((e) => d.nodes.get(e.to)![0])
        .sort(),
    ).toEqual(['Deployment api', 'Deployment api-canary']);
  });

  test('a frontend in one stack wired to a server in another: the edge is drawn in both diagrams, the peer marked with its stack', () => {
    const out = synth((app) => {
      const back = new MlStack(app, 'back', { namespace: 'back' });
      const server = new TfServingBackend(back, 'server', { modelName: 'm', model: ModelSource.fromUri('gs://models/m') });
      const front = new MlStack(app, 'front', { namespace: 'front' });
      new FlaskFrontend(front, 'web', {
        image: PythonImage.fromDirectory(path.join(__dirname, '../../apps/and-gate/web'), { repository: 'registry.example.com/web', tag: '1.0.0' }),
        backend: server,
      });
    });
    const [back, front] = ['back', 'front'].map((s) => parseDiagram(out.files.get(`diagrams/${s}.md`)!));
    const text = (d: Diagram) =>
      d.edges.filter((e) => e.style === 'net').map((e) => `${d.nodes.get(e.from)!.join(' / ')} -> ${d.nodes.get(e.to)!.join(' / ')} : ${e.label}`);
    expect(text(back)).toContain('Deployment front/web / stack front -> Deployment server : 8501');
    expect(text(front)).toContain('Deployment web -> Deployment back/server / stack back : 8501');
  });

  test('a distributed training job: its workers reach each other on every port (a self edge), it writes its claim', () => {
    const out = synthStack((stack) => {
      new TrainingJob(stack, 'train', {
        image: 'registry.example.com/train:1.0.0',
        command: ['python', 'train.py'],
        distributed: (require('../../lib') as typeof import('../../lib')).Distributed.pytorch({ workers: 2 }),
        modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
      });
    });
    const d = parseDiagram(out.files.get('diagrams/test.md')!);
    const id = [...d.nodes].find(([, l]) => l[0] === 'Job train')![0];
    expect(d.edges).toContainEqual({ from: id, to: id, style: 'net', label: 'all ports' });
    expect(d.edges.filter((e) => e.from === id && e.label.startsWith('writes')).map((e) => d.nodes.get(e.to)![0])).toEqual([
      'PersistentVolumeClaim train-model',
    ]);
  });

  test('ids are escaped and labels quoted: a dotted name, a quote or angle bracket in a path cannot break the diagram', () => {
    const out = synthStack((stack) => {
      // an escape hatch object of the user's: the diagram draws it by its kind
      new ApiObject(stack, 'odd', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'odd.v2', namespace: 'test' },
        spec: {
          rules: [
            {
              host: 'odd.example.com',
              http: { paths: [{ path: '/a"b<c>#d', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 8080 } } } }] },
            },
          ],
        },
      });
      new InferenceService(stack, 'api', {
        image: 'registry.example.com/api:1.0.0',
        port: 8080,
        exposure: Exposure.ingress({ host: 'api.example.com' }),
      });
    });
    const md = out.files.get('diagrams/test.md')!;
    const d = parseDiagram(md);
    const odd = [...d.nodes].find(([, l]) => l[0] === 'Ingress odd.v2')!;
    expect(odd[0]).toMatch(/^[A-Za-z0-9_]+$/);
    expect(d.edges.filter((e) => e.from === odd[0]).map((e) => e.label)).toEqual(['/a"b<c>#d → 8080']);
    expect(md).not.toContain('/a"b');
  });

  test('the output check flags a diagram that would not render, and a file in a subdirectory of diagrams/', () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', port: 8080 }));
    const files = new Map(out.files);
    files.set('diagrams/test.md', '# no diagram here\n');
    files.set('diagrams/old/test.md', out.files.get('diagrams/test.md')!);
    expect(checkOutputFiles(files)).toEqual([
      'diagrams/old/test.md: layout: diagrams/ may only hold <stack>.md files',
      'diagrams/test.md: layout: a diagram must hold a closed ```mermaid block starting with "flowchart <direction>"',
    ]);
  });
});

describe('README', () => {
  test('its "Diagrams" section shows the diagram and-gate synthesizes, as generated', () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const section = /^## Diagrams\n([\s\S]*?)(?=^## )/m.exec(readme);
    expect(section).not.toBeNull();
    const shown = /```mermaid\n[\s\S]*?\n```/.exec(section![1])![0];
    const out = synth((app) => buildReferenceApps(app));
    const generated = /```mermaid\n[\s\S]*?\n```/.exec(out.files.get('diagrams/and-gate.md')!)![0];
    expect(shown).toBe(generated);
  });
});
