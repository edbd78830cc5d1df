/**
 * An OutputDiff as text (a terminal), GitHub-flavoured Markdown (a pull-request comment: summary,
 * tables, `<details>` with the raw field diff and the diagrams) or JSON.
 */
import { showValue } from './_fields';
import type { OutputDiff, StackDiff } from './diff';
import type { ConnectionChange } from './network';
import type { ResourceAmounts, ScaleTotals } from './workloads';

/** The first line of the Markdown: a workflow finds its earlier comment by it and edits it. */
export const MARKDOWN_MARKER = '<!-- cdk8s-ml diff -->';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function cpu(n: number): string {
  return Number.isInteger(n) ? String(n) : `${Math.round(n * 1000)}m`;
}
function memory(n: number): string {
  const gi = n / 2 ** 30;
  if (n === 0) return '0';
  return Math.abs(gi) >= 1 ? `${+gi.toFixed(2)}Gi` : `${+(n / 2 ** 20).toFixed(1)}Mi`;
}
const signed = (n: number, f: (x: number) => string) => (n === 0 ? '0' : n > 0 ? `+${f(n)}` : `-${f(-n)}`);

/** Rows of (label, before, after, change) for each resource at min and max scale. */
function totalsRows(t: { before: ScaleTotals; after: ScaleTotals }): string[][] {
  const rows: string[][] = [];
  const res: [string, keyof ResourceAmounts, (n: number) => string][] = [
    ['CPU', 'cpu', cpu],
    ['memory', 'memory', memory],
    ['GPUs', 'gpu', String],
  ];
  for (const scale of ['min', 'max'] as const) {
    for (const [label, key, f] of res) {
      const [b, a] = [t.before[scale][key], t.after[scale][key]];
      rows.push([`${label} at ${scale} scale`, f(b), f(a), signed(a - b, f)]);
    }
  }
  return rows;
}

const connection = (c: ConnectionChange) => `${c.from} -> ${c.to} port ${c.port}${c.protocol === 'TCP' ? '' : `/${c.protocol}`}`;

/** The lines of a workload change, without its name. */
function workloadLines(s: StackDiff): { ref: string; status: string; lines: string[] }[] {
  return s.workloads.map((w) => ({
    ref: w.ref,
    status: w.status,
    lines: [
      ...w.images.map((i) => `image ${i.container}: ${i.before ?? '(none)'} -> ${i.after ?? '(none)'}`),
      ...(w.scale ? [`scale: ${w.scale.before ?? '(none)'} -> ${w.scale.after ?? '(none)'}`] : []),
      ...w.resources.map((r) => `${r.container} ${r.field}: ${r.before ?? '(unset)'} -> ${r.after ?? '(unset)'}`),
    ],
  }));
}

function summaryLine(d: OutputDiff): string {
  if (d.stacks.length === 0 && d.files.added.length + d.files.removed.length + d.files.changed.length === 0) return 'no changes';
  const stacks =
    d.stacks.length === 0 ? 'no stack changed' : `${plural(d.stacks.length, 'stack')} changed (${d.stacks.map((s) => s.stack).join(', ')})`;
  return `${stacks}; ${d.hazards.length === 0 ? 'no hazards' : plural(d.hazards.length, 'hazard')}`;
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

function textStack(s: StackDiff): string[] {
  const out = [`== stack ${s.stack}${s.status === 'changed' ? '' : ` (${s.status})`}`];
  const o = s.objects;
  out.push(`objects: ${o.added.length} added, ${o.removed.length} removed, ${o.changed.length} changed`);
  out.push(
    ...o.added.map((r) => `  + ${r}`),
    ...o.removed.map((r) => `  - ${r}`),
    ...o.changed.map((c) => `  ~ ${c.ref} (${plural(c.fields.length, 'field')})`),
  );
  const wl = workloadLines(s);
  if (wl.length > 0) {
    out.push('workloads:');
    for (const w of wl) out.push(`  ${w.ref}${w.status === 'changed' ? '' : ` (${w.status})`}`, ...w.lines.map((l) => `    ${l}`));
  }
  if (s.totals) {
    out.push('requests (before -> after, change):');
    for (const [label, b, a, c] of totalsRows(s.totals)) if (b !== '0' || a !== '0') out.push(`  ${label.padEnd(22)} ${b} -> ${a} (${c})`);
  }
  const n = s.network;
  if (n.allowed.length + n.denied.length + n.exposed.length + n.unexposed.length > 0) {
    out.push('network:');
    out.push(...n.allowed.map((c) => `  + allowed: ${connection(c)}`), ...n.denied.map((c) => `  - no longer allowed: ${connection(c)}`));
    out.push(...n.exposed.map((e) => `  + way in: ${e}`), ...n.unexposed.map((e) => `  - way in: ${e}`));
  }
  if (s.hazards.length > 0) out.push('hazards:', ...s.hazards.map((h) => `  ! [${h.id}] ${h.message}`));
  if (s.diagram && s.diagram.before !== s.diagram.after) {
    const [b, a] = [(s.diagram.before ?? '').split('\n'), (s.diagram.after ?? '').split('\n')];
    out.push(
      `diagram ${s.diagram.file}:`,
      ...b.filter((l) => !a.includes(l)).map((l) => `  - ${l}`),
      ...a.filter((l) => !b.includes(l)).map((l) => `  + ${l}`),
    );
  }
  return out;
}

export function renderDiffText(d: OutputDiff): string {
  const out = [`cdk8s-ml diff: ${summaryLine(d)}`];
  for (const s of d.stacks) out.push('', ...textStack(s));
  const f = d.files;
  if (f.added.length + f.removed.length + f.changed.length > 0) {
    out.push('', '== other files', ...f.added.map((x) => `  + ${x}`), ...f.removed.map((x) => `  - ${x}`), ...f.changed.map((x) => `  ~ ${x}`));
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------

/** A table cell: pipes escaped (GFM tables), no line breaks, inline code where asked. */
function cell(text: string, code = false): string {
  const t = text.replace(/\r?\n/g, ' ');
  if (!code) return t.replace(/\|/g, '\\|');
  // A code span is delimited by more backticks than it holds (CommonMark 6.1); a pipe is still escaped in a GFM table.
  const ticks = '`'.repeat(Math.max(0, ...(t.match(/`+/g) ?? []).map((m) => m.length)) + 1);
  return `${ticks}${t.includes('`') ? ` ${t} ` : t}${ticks}`.replace(/\|/g, '\\|');
}

function table(head: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [];
  return ['', `| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`), ''];
}

/** A fenced block that no line of the content can close (CommonMark 4.5: a longer fence). */
function fenced(info: string, content: string): string[] {
  const fence = '`'.repeat(Math.max(3, ...(content.match(/^`{3,}/gm) ?? []).map((m) => m.length + 1)));
  return [`${fence}${info}`, content.replace(/\n$/, ''), fence];
}

/** One stack's section: a count line, then tables of objects, workloads, requests and network, then the raw diffs. */
function markdownStack(s: StackDiff): string[] {
  const o = s.objects;
  const hazards = s.hazards.length > 0 ? `, **${plural(s.hazards.length, 'hazard')}**` : '';
  return [
    `### Stack \`${s.stack}\`${s.status === 'changed' ? '' : ` (${s.status})`}`,
    '',
    `${o.added.length} added, ${o.removed.length} removed, ${o.changed.length} changed${hazards}`,
    ...table(
      ['', 'object', 'fields changed'],
      [
        ...o.added.map((r) => ['added', cell(r, true), '']),
        ...o.removed.map((r) => ['removed', cell(r, true), '']),
        ...o.changed.map((c) => ['changed', cell(c.ref, true), String(c.fields.length)]),
      ],
    ),
    ...markdownWorkloads(s),
    ...(s.totals
      ? table(
          ['requests', 'before', 'after', 'change'],
          totalsRows(s.totals)
            .filter(([, b, a]) => b !== '0' || a !== '0')
            .map((r) => r.map((c) => cell(c))),
        )
      : []),
    ...markdownNetwork(s.network),
    ...markdownFieldDiff(o),
    ...markdownDiagram(s.diagram),
  ];
}

function markdownWorkloads(s: StackDiff): string[] {
  return table(
    ['workload', 'change'],
    workloadLines(s).flatMap((w) =>
      (w.lines.length > 0 ? w.lines : ['']).map((l, i) => [
        i === 0 ? cell(`${w.ref}${w.status === 'changed' ? '' : ` (${w.status})`}`, true) : '',
        cell(l),
      ]),
    ),
  );
}

function markdownNetwork(n: StackDiff['network']): string[] {
  return table(
    ['network', 'connection or way in'],
    [
      ...n.allowed.map((c) => ['newly allowed', cell(connection(c), true)]),
      ...n.denied.map((c) => ['no longer allowed', cell(connection(c), true)]),
      ...n.exposed.map((e) => ['new way in', cell(e, true)]),
      ...n.unexposed.map((e) => ['way in removed', cell(e, true)]),
    ],
  );
}

/** Every changed field as a diff line, folded away. */
function markdownFieldDiff(o: StackDiff['objects']): string[] {
  const raw = [
    ...o.added.map((r) => `+ ${r}`),
    ...o.removed.map((r) => `- ${r}`),
    ...o.changed.flatMap((c) => [
      `@@ ${c.ref}`,
      ...c.fields.flatMap((f) => [
        ...(f.before === undefined ? [] : [`- ${f.path}: ${showValue(f.before, 300)}`]),
        ...(f.after === undefined ? [] : [`+ ${f.path}: ${showValue(f.after, 300)}`]),
      ]),
    ]),
  ];
  if (raw.length === 0) return [];
  return ['<details><summary>Field diff</summary>', '', ...fenced('diff', raw.join('\n')), '', '</details>', ''];
}

/** The stack's diagram before and after, when it changed, folded away. */
function markdownDiagram(diagram: StackDiff['diagram']): string[] {
  if (!diagram || diagram.before === diagram.after) return [];
  const block = (title: string, md?: string) => [`**${title}**`, '', ...(md === undefined ? ['(none)'] : fenced('mermaid', mermaidOf(md))), ''];
  return [
    '<details><summary>Diagram, before and after</summary>',
    '',
    ...block('Before', diagram.before),
    ...block('After', diagram.after),
    '</details>',
    '',
  ];
}

/** The mermaid source inside a diagram file (what MlApp writes: one ```mermaid block). */
function mermaidOf(md: string): string {
  const m = /^```mermaid\n([\s\S]*?)^```$/m.exec(md);
  return m ? m[1] : md;
}

export function renderDiffMarkdown(d: OutputDiff): string {
  const out = [MARKDOWN_MARKER, '## cdk8s-ml diff', '', `${d.hazards.length > 0 ? '⚠️ ' : ''}${summaryLine(d)}`];
  if (d.hazards.length > 0) {
    out.push(
      '',
      '### Hazards',
      ...table(
        ['hazard', 'object', 'what happens'],
        d.hazards.map((h) => [cell(h.id, true), cell(h.object, true), cell(h.message)]),
      ),
    );
  }
  for (const s of d.stacks) out.push('', ...markdownStack(s));
  const f = d.files;
  const files = [...f.added.map((x) => ['added', x]), ...f.removed.map((x) => ['removed', x]), ...f.changed.map((x) => ['changed', x])];
  if (files.length > 0)
    out.push(
      '',
      '### Other files',
      ...table(
        ['', 'file'],
        files.map(([k, x]) => [k, cell(x, true)]),
      ),
    );
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

export function renderDiffJson(d: OutputDiff): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
