import { Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { MlApp } from '../../lib';
import { toYaml } from '../../lib/app/_yaml';
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
];

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
