/**
 * `cdk8s-ml check` reads YAML from elsewhere with limits (lib/check/_yaml.ts): an alias bomb, deep
 * nesting and oversized documents fail at once with one line naming the file, the document, the
 * limit and the fix (exit 1); escapes kubectl accepts are read as kubectl reads them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadYamlDocuments, YAML_LIMITS } from '../../lib/check/_yaml';
import { parseYamlStream } from '../../lib/check';
import { main } from '../../lib/cli/main';
import { captureIo } from '../cli/_io';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-yaml-limits-'));

function checkFile(name: string, text: string) {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, name), text);
  const io = captureIo(dir);
  const started = Date.now();
  const code = main(['check', name], io);
  return { code, lines: io.out.join('').split('\n').filter(Boolean), ms: Date.now() - started };
}

/** "Billion laughs": nine levels of nine aliases each, about 350 bytes expanding to 490 million nodes. */
function aliasBomb(): string {
  const names = 'abcdefghi';
  let text = `a: &a [${Array(9).fill('"lol"').join(',')}]\n`;
  for (let i = 1; i < names.length; i++)
    text += `${names[i]}: &${names[i]} [${Array(9)
      .fill(`*${names[i - 1]}`)
      .join(',')}]\n`;
  return text;
}

const configMap = (name: string, data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n${data}`;

describe('cdk8s-ml check: YAML read with limits', () => {
  it('refuses an alias bomb at once, as kubectl does ("excessive aliasing")', () => {
    const bomb = aliasBomb();
    expect(bomb.length).toBeLessThan(400);
    const res = checkFile('bomb.yaml', `${configMap('ok', '  a: b\n')}---\n${bomb}`);
    expect(res.code).toBe(1);
    expect(res.lines).toEqual([
      expect.stringMatching(
        /^bomb\.yaml: yaml: document 2 \(line 7\): excessive aliasing: its aliases expand it to 490,329,055 nodes: kubectl refuses it too .*write/,
      ),
    ]);
    // A guard only (the bench measures): before the limit this ran out of memory after minutes.
    expect(res.ms).toBeLessThan(10_000);
  });

  it('takes the aliases real manifests use (anchors shared by a few objects, merge keys)', () => {
    const text = [
      'x-labels: &labels {app: web, tier: front}',
      'x-env: &env [{name: A, value: "1"}, {name: B, value: "2"}]',
      'one: {labels: *labels, env: *env}',
      'two: {labels: *labels, env: *env}',
      'three: {<<: *labels, extra: yes}',
    ].join('\n');
    expect(loadYamlDocuments(text)).toEqual([
      {
        'x-labels': { app: 'web', tier: 'front' },
        'x-env': [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        one: { labels: { app: 'web', tier: 'front' }, env: expect.any(Array) },
        two: { labels: { app: 'web', tier: 'front' }, env: expect.any(Array) },
        three: { app: 'web', tier: 'front', extra: true },
      },
    ]);
  });

  it('refuses nesting deeper than the limit, naming it', () => {
    const deep = `a: ${'['.repeat(YAML_LIMITS.maxDepth + 10)}${']'.repeat(YAML_LIMITS.maxDepth + 10)}\n`;
    const res = checkFile('deep.yaml', `${configMap('ok', '  a: b\n')}---\n${deep}`);
    expect(res.code).toBe(1);
    expect(res.lines).toEqual([expect.stringMatching(/^deep\.yaml: yaml: document 2 \(line 7\): nested deeper than 1000 levels: .*flatten it$/)]);
  });

  it('refuses nesting built up through aliases as well', () => {
    const levels = Array.from({ length: 30 }, (_, i) => `l${i + 1}: &l${i + 1} ${'['.repeat(50)}${i === 0 ? '1' : `*l${i}`}${']'.repeat(50)}`);
    expect(() => loadYamlDocuments(levels.join('\n'))).toThrow(/^document 1 \(line 1\): nested deeper than 1000 levels \(through its aliases\)/);
  });

  it('refuses a document larger than the API server takes (3 MiB), naming the document', () => {
    const big = configMap('big', `  blob: "${'x'.repeat(YAML_LIMITS.maxDocumentBytes)}"\n`);
    const res = checkFile('big.yaml', `${configMap('small', '  a: b\n')}---\n${big}`);
    expect(res.code).toBe(1);
    expect(res.lines).toEqual([
      expect.stringMatching(/^big\.yaml: yaml: document 2 \(line 7\) is 3,145,8\d\d bytes, over the 3 MiB the API server takes .*split the object/),
    ]);
  });

  it('refuses a file over the file limit before reading it', () => {
    const limits = { ...YAML_LIMITS, maxFileBytes: 1000, maxDocumentBytes: 1000 };
    expect(() => loadYamlDocuments('a: b\n'.repeat(300), limits)).toThrow(
      /^the file is 1,500 bytes, over the 0 MiB the check reads: split it into several files$/,
    );
    expect(YAML_LIMITS.maxFileBytes).toBe(256 * 2 ** 20);
  });

  it("reads `\\'` in a double-quoted string as kubectl does (go-yaml scannerc.go accepts it)", () => {
    const text = configMap('quotes', "  a: \"it\\'s\"\n  b: \"say \\\"hi\\\", it\\'s \\\\ \\'x\\'\"\n  c: it\\'s plain\n  d: 'single'\n");
    expect(parseYamlStream(text)[0].data).toEqual({ a: "it's", b: "say \"hi\", it's \\ 'x'", c: "it\\'s plain", d: 'single' });
    const res = checkFile('quotes.yaml', text);
    expect(res.lines).toEqual([]);
    expect(res.code).toBe(0);
    // Other unknown escapes stay errors, with the line in the whole file.
    expect(() => loadYamlDocuments(`a: 1\n---\n${configMap('x', '  a: "\\q"\n')}`)).toThrow(
      /^YAML error at line 8, column \d+: unknown escape sequence$/,
    );
  });

  it('splits documents where kubectl does and keeps line numbers of the whole stream', () => {
    expect(loadYamlDocuments('a: 1\n--- # next\nb: 2\n---\n---\nc: "--- not a separator"\n')).toEqual([
      { a: 1 },
      { b: 2 },
      null,
      { c: '--- not a separator' },
    ]);
    expect(() => loadYamlDocuments('a: 1\n---\nb: 2\n---\nc: [\n')).toThrow(/^YAML error at line 6, column 1: /);
    expect(loadYamlDocuments('%YAML 1.1\n---\na: 1\n')).toEqual([{ a: 1 }]);
  });

  it('leaves a normal manifest as it was', () => {
    const text = configMap('normal', '  LOG_LEVEL: info\n  ENABLED: "yes"\n');
    expect(parseYamlStream(`${text}---\n${text.replace('normal', 'other')}`)).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'normal' }, data: { LOG_LEVEL: 'info', ENABLED: 'yes' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' }, data: { LOG_LEVEL: 'info', ENABLED: 'yes' } },
    ]);
    expect(checkFile('normal.yaml', text)).toMatchObject({ code: 0, lines: [] });
  });
});
