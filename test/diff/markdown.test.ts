// The Markdown of `cdk8s-ml diff --format markdown` as GitHub renders it: parsed with markdown-it
// (CommonMark with GFM tables), the tables must come out as tables with every row and cell.
import { buildReferenceApps } from '../../apps/main';
import { diffOutputs, MARKDOWN_MARKER, renderDiffJson, renderDiffMarkdown } from '../../lib/diff';
import { joinRegExp } from '../_util/regexp';
import { synth } from '../_util/synth';
import { referenceWith } from './_apps';
import { Exposure } from '../../lib';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt = require('markdown-it');
const md = new MarkdownIt({ html: true });

interface Table {
  head: string[];
  rows: string[][];
}

/** Every table of the rendered HTML, cells as text (tags stripped, entities decoded). */
function tables(html: string): Table[] {
  const text = (s: string) =>
    s
      .replace(/<[^>]+>/g, '')
      .replace(/&gt;/g, '>')
      .replace(/&lt;/g, '<')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .trim();
  const cells = (row: string, tag: string) => [...row.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => text(m[1]));
  return [...html.matchAll(/<table>([\s\S]*?)<\/table>/g)].map((t) => {
    const rows = [...t[1].matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => r[1]);
    return { head: cells(rows[0], 'th'), rows: rows.slice(1).map((r) => cells(r, 'td')) };
  });
}

describe('the Markdown renders (GFM, as in a pull-request comment)', () => {
  const base = synth(buildReferenceApps).files;
  const head = synth(
    referenceWith({
      canary: { classifierWeight: 10, classifierReplicas: 9, scorerWeight: 50 },
      andGate: { webTag: '1.1.0', webExposure: Exposure.ingress({ host: 'and-gate.example.com', className: 'nginx' }) },
    }),
  ).files;
  const d = diffOutputs(base, head);
  const markdown = renderDiffMarkdown(d);
  const html = md.render(markdown);

  test('a summary, then a hazards table with one row per hazard', () => {
    expect(markdown.startsWith(`${MARKDOWN_MARKER}\n## cdk8s-ml diff\n\n⚠️ 2 stacks changed (and-gate, canary); 3 hazards\n`)).toBe(true);
    const [hazards] = tables(html);
    expect(hazards.head).toEqual(['hazard', 'object', 'what happens']);
    // the classifier's Service states the HTTPRoute's split too (in-cluster clients go by pods)
    expect(hazards.rows.map((r) => r.slice(0, 2))).toEqual([
      ['canary-weight', 'Service/canary/classifier'],
      ['canary-weight', 'HTTPRoute/canary/classifier'],
      ['canary-weight', 'Service/canary/scorer'],
    ]);
    // the pipe-free cells stay whole: "75% (3 pods), scorer-canary: 25% (1 pod)" is one cell
    expect(hazards.rows[2][2]).toBe(
      'Service/canary/scorer: traffic split scorer: 75% (3 pods), scorer-canary: 25% (1 pod) -> scorer: 50% (2 pods), scorer-canary: 50% (2 pods)',
    );
  });

  test('per stack: objects, workloads, requests and network tables, every row with as many cells as the header', () => {
    const all = tables(html);
    for (const t of all) for (const r of t.rows) expect(r).toHaveLength(t.head.length);
    expect(all.map((t) => t.head[0] || t.head[1])).toEqual([
      'hazard',
      'object',
      'workload',
      'requests',
      'network',
      'object',
      'workload',
      'requests',
      'file',
    ]);
    const network = all.find((t) => t.head[0] === 'network')!;
    expect(network.rows).toEqual(
      expect.arrayContaining([
        ['new way in', 'Ingress/and-gate/web: host and-gate.example.com path /'],
        ['way in removed', 'Service/and-gate/web: LoadBalancer port 80'],
        ['no longer allowed', 'outside -> Deployment/and-gate/web port 8080'],
      ]),
    );
    const workloads = all.filter((t) => t.head[0] === 'workload')[1];
    expect(workloads.rows).toEqual(expect.arrayContaining([['Deployment/canary/scorer', 'scale: 3 replicas -> 2 replicas']]));
    const requests = all.filter((t) => t.head[0] === 'requests')[1];
    // the classifier's stable track grows from 4 to 9 pods (its pod ratio follows the route's 90/10)
    expect(requests.rows).toEqual(expect.arrayContaining([['CPU at max scale', '7500m', '12500m', '+5']]));
  });

  test('the raw field diff and the diagrams sit in collapsible <details>, in fenced blocks', () => {
    expect(html).toMatch(
      joinRegExp(
        /<details><summary>Field diff<\/summary>\s*<pre><code class="language-diff">[\s\S]*@@ /,
        /Deployment\/and-gate\/web\n- spec.template.spec.containers\[web\].image: /,
        /registry.example.com\/and-gate-web:1.0.0\n\+ spec.template.spec.containers\[web\].image: registry.example.com\/and-gate-web:1.1.0/,
      ),
    );
    expect(html).toMatch(
      /<details><summary>Diagram, before and after<\/summary>\s*<p><strong>Before<\/strong><\/p>\s*<pre><code class="language-mermaid">flowchart LR/,
    );
    expect((html.match(/<details>/g) ?? []).length).toBe((html.match(/<\/details>/g) ?? []).length);
  });

  test('a cell holding a pipe or a backtick stays one cell', () => {
    const tricky = renderDiffMarkdown({
      stacks: [],
      files: { added: [], removed: [], changed: [] },
      hazards: [{ id: 'removed', object: 'ConfigMap/a|b/`x`', message: 'x | y' }],
    });
    const [t] = tables(md.render(tricky));
    expect(t.rows).toEqual([['removed', 'ConfigMap/a|b/`x`', 'x | y']]);
  });

  test('JSON carries the same diff', () => {
    expect(JSON.parse(renderDiffJson(d))).toEqual(JSON.parse(JSON.stringify(d)));
  });
});
