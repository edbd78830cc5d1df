import { Chart } from 'cdk8s';
import * as jsyaml from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import { MlApp } from '../../lib';
import { toYaml } from '../../lib/app/_yaml';
import { loadYamlDocuments } from '../../lib/check/_yaml';
import { buildReferenceApps } from '../../apps/main';
import { tempDir } from '../_util/synth';

/** Read a stream as a YAML 1.1 reader (kubectl, Argo CD) or a YAML 1.2 reader would. */
function read(text: string, version: '1.1' | '1.2'): unknown[] {
  return parseAllDocuments(text, { version }).map((d) => {
    if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('\n'));
    return d.toJS();
  });
}

const TRICKY = [
  '.',
  '..',
  '1.2.3',
  '2.20.0',
  'yes',
  'No',
  'on',
  'OFF',
  'y',
  'n',
  'true',
  'False',
  'null',
  'Null',
  '~',
  '',
  ' ',
  '-',
  '--',
  '---',
  '...',
  '1',
  '01',
  '0777',
  '0o17',
  '0x1F',
  '0x_1F',
  '0b101',
  '1_000',
  '+1_000',
  '1_0.5',
  '1e3',
  '1E+3',
  '.5',
  '1.',
  '-.inf',
  '.NaN',
  '190:20:30',
  '190:20:30.15',
  '2001-12-14',
  '2001-12-14t21:59:43.10-05:00',
  '=',
  '<<',
  'a: b',
  'a:b',
  'key:',
  '#comment',
  'a #b',
  '@at',
  '`tick',
  '*alias',
  '&anchor',
  '!tag',
  '%percent',
  '|pipe',
  '>fold',
  "'single'",
  '"double"',
  '[list]',
  '{map}',
  'a, b',
  '? q',
  'tab\there',
  'trailing ',
  ' leading',
  'multi\nline\n',
  'multi\nline',
  'multi\n\n',
  '  indented\nfirst line',
  'unicode ✓ é',
  'line\r\nwindows',
  'http://server.ns.svc:8501/v1/models/and-gate:predict',
  '${MODELS_DIR:?set it}/m',
  '0.5,-0.25',
  // YAML 1.2 core numbers (yaml.org/spec/1.2.2 10.3.2), and what the `yaml` package's 1.1 schema reads as one.
  '2e928',
  '-2E-928',
  '1e3',
  '+12',
  '-0',
  '0o17',
  '0x1F',
  '.inf',
  '+.Inf',
  '-.INF',
  '.nan',
  '5.',
  '+.5',
  'e3',
  '.5_',
  '0:30',
  'TRUE',
  'NULL',
];

/** Every string of up to `n` characters of `alphabet`. */
function allStrings(alphabet: string, n: number): string[] {
  let level = [''];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    level = level.flatMap((p) => [...alphabet].map((c) => p + c));
    out.push(...level);
  }
  return out;
}

describe('YAML emitter', () => {
  test('every synthesized object reads back identically with YAML 1.1 and 1.2 readers', () => {
    const app = buildReferenceApps(new MlApp({ outdir: tempDir() }));
    const objects = app.charts.flatMap((c: Chart) => c.toJson());
    const text = toYaml(objects);
    expect(read(text, '1.1')).toEqual(objects);
    expect(read(text, '1.2')).toEqual(objects);
  });

  test.each(TRICKY.map((s) => [JSON.stringify(s), s]))('the string %s stays a string in YAML 1.1 and 1.2', (_label, s) => {
    const doc = { data: { [s]: s }, list: [s, { k: s }] };
    const text = toYaml([doc]);
    expect(read(text, '1.1')).toEqual([doc]);
    expect(read(text, '1.2')).toEqual([doc]);
  });

  test('every short number-like string stays a string for YAML 1.1 (yaml, kubectl) and YAML 1.2 core (yaml, js-yaml) readers', () => {
    // The characters of numbers, booleans and nulls in YAML 1.1 and 1.2: 22,620 strings as values and as keys.
    const strings = allStrings('018.eE+-_xo:', 4);
    // Keys in maps of one entry: the `yaml` package checks a map's keys for duplicates in quadratic time.
    const doc = { values: strings, keys: strings.map((s) => ({ [s]: 0 })) };
    const text = toYaml([doc]);
    const readers: Record<string, () => any> = {
      'yaml 1.1': () => read(text, '1.1')[0],
      'yaml 1.2': () => read(text, '1.2')[0],
      'js-yaml': () => jsyaml.load(text),
      kubectl: () => loadYamlDocuments(text)[0],
    };
    for (const [name, load] of Object.entries(readers)) {
      const back = load();
      const misread = strings.filter((s, i) => back.values[i] !== s || Object.keys(back.keys[i])[0] !== s);
      expect({ reader: name, misread: misread.slice(0, 20) }).toEqual({ reader: name, misread: [] });
    }
  });

  test('numbers, booleans and null keep their types; multi-line config stays a readable block', () => {
    const doc = { a: 1, b: 1.5, c: true, d: null, e: 'model_config_list {\n  config {\n  }\n}\n' };
    const text = toYaml([doc]);
    expect(read(text, '1.1')).toEqual([doc]);
    expect(text).toContain('e: |\n  model_config_list {\n    config {\n');
  });

  test('documents are separated by ---', () => {
    expect(toYaml([{ a: 1 }, { b: 2 }])).toBe('a: 1\n---\nb: 2\n');
  });
});
