/**
 * The shared checks of lib/_validate.ts on their edge values: what each accepts and rejects, and
 * that a rejection is an MlValidationError naming the construct, the prop, the value and a fix.
 */
import { Construct } from 'constructs';
import { MlApp, MlValidationError } from '../lib';
import {
  checkAbsolutePath,
  checkAnnotations,
  checkArgv,
  checkArray,
  checkChildId,
  checkCpu,
  checkDnsLabel,
  checkDnsSubdomain,
  checkEnvFieldPath,
  checkImageReference,
  checkIntOrPercent,
  checkLabels,
  checkMemory,
  checkObject,
  checkOptionalBoolean,
  checkQuantity,
  checkRelativePath,
  checkString,
  checkUrlPath,
  isCidr,
  isConfigKey,
  isDnsLabel,
  isDnsSubdomain,
  isEnvFieldPath,
  isEnvVarName,
  isLabelValue,
  isQualifiedName,
  parseImageReference,
  parseQuantity,
} from '../lib/_validate';
import { describe as describeValue, MlInputError } from '../lib/_errors';

const scope = new Construct(new MlApp(), 'thing');

/** The error `f` throws; fails the test when it throws nothing or something else than an MlValidationError. */
function rejection(f: () => unknown): MlValidationError {
  try {
    f();
  } catch (e) {
    if (e instanceof MlValidationError) return e;
    throw e;
  }
  throw new Error('expected an MlValidationError, nothing was thrown');
}

describe('types', () => {
  test('objects, lists, booleans and strings say what they got', () => {
    expect(rejection(() => checkObject(scope, 'props', [], '{}')).message).toBe(
      "Construct 'thing': props must be an object of options, got []. Fix: pass an object, e.g. {}",
    );
    expect(checkObject(scope, 'props', { a: 1 }, '{}')).toEqual({ a: 1 });
    expect(rejection(() => checkArray(scope, 'list', 'abc', "['a']", (x) => x)).prop).toBe('list');
    expect(checkArray(scope, 'list', undefined, "['a']", (x) => x)).toBeUndefined();
    expect(rejection(() => checkArray(scope, 'list', [1, 'x'], "['a']", (x, p) => checkString(scope, p, x, { example: "'a'" }))).prop).toBe(
      'list[0]',
    );
    expect(rejection(() => checkOptionalBoolean(scope, 'flag', 'false')).message).toContain('Fix: write flag: false');
    expect(checkOptionalBoolean(scope, 'flag', undefined)).toBeUndefined();
  });

  test('strings: one line by default, NUL and lone surrogates never', () => {
    const s = (v: unknown, o = {}) => checkString(scope, 's', v, { example: "'x'", ...o });
    expect(s('ok')).toBe('ok');
    for (const bad of ['', 'a\nb', 'tab\there', 'del\u007f', 'c1\u0085', 'x'.repeat(65537)]) expect(rejection(() => s(bad)).prop).toBe('s');
    expect(s('a\nb\tc', { multiline: true })).toBe('a\nb\tc');
    expect(rejection(() => s('a\u0000b', { multiline: true })).message).toContain('NUL');
    expect(rejection(() => s('\uD800', { multiline: true })).prop).toBe('s');
    expect(s('🙂 ÜNÏ')).toBe('🙂 ÜNÏ'); // a surrogate pair is fine
    expect(s('', { allowEmpty: true })).toBe('');
    expect(rejection(() => s(42)).message).toContain('must be a string, got 42');
  });

  test('argv: a list of strings; newlines allowed (sh -c), NUL and non-strings not', () => {
    expect(checkArgv(scope, 'command', ['sh', '-c', 'a\nb'], { example: "['x']" })).toEqual(['sh', '-c', 'a\nb']);
    expect(rejection(() => checkArgv(scope, 'command', 'python', { example: "['x']" })).prop).toBe('command');
    expect(rejection(() => checkArgv(scope, 'command', [null], { example: "['x']" })).prop).toBe('command[0]');
    expect(rejection(() => checkArgv(scope, 'command', [], { nonEmpty: true, example: "['x']" })).message).toContain('must not be empty');
  });
});

describe('names and keys', () => {
  test('DNS-1123 labels and subdomains', () => {
    for (const ok of ['a', 'a-b', '0', 'x'.repeat(63)]) expect(isDnsLabel(ok)).toBe(true);
    for (const bad of ['', 'A', '-a', 'a-', 'a.b', 'x'.repeat(64), 42]) expect(isDnsLabel(bad)).toBe(false);
    for (const ok of ['a.b', 'a-b.c-d', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`])
      expect(isDnsSubdomain(ok)).toBe(true);
    for (const bad of ['a..b', '.a', 'a.', 'has space', 'UPPER', `${'a'.repeat(250)}.com`]) expect(isDnsSubdomain(bad)).toBe(false);
    expect(rejection(() => checkDnsSubdomain(scope, 'secretName', 'Has Space', 'the name of a Secret', 'creds')).message).toContain(
      "use the object's name as kubectl shows it, e.g. 'has-space'",
    );
    expect(rejection(() => checkDnsLabel(scope, 'namespace', 'ingress\nnginx', 'a namespace name', 'ingress-nginx')).message).toContain(
      'got "ingress\\nnginx"',
    );
  });

  test('Secret and ConfigMap keys', () => {
    for (const ok of ['password', 'config.json', 'a_b-c', '.hidden', 'x'.repeat(253)]) expect(isConfigKey(ok)).toBe(true);
    for (const bad of ['', '.', '..', '..x', 'a b', 'a/b', 'x'.repeat(254), 7]) expect(isConfigKey(bad)).toBe(false);
  });

  test('env variable names: the v1.28 rule', () => {
    for (const ok of ['A', 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1', '_x', '-x', '.x']) expect(isEnvVarName(ok)).toBe(true);
    for (const bad of ['', '1A', 'ÜNÏ', 'A\tB', 'A B', 'A=B', '.', '..', '..x']) expect(isEnvVarName(bad)).toBe(false);
  });

  test('qualified names (label and annotation keys) and label values', () => {
    for (const ok of ['app', 'app.kubernetes.io/name', 'example.com/Bad_Key.1', 'a'.repeat(63)]) expect(isQualifiedName(ok)).toBe(true);
    for (const bad of ['', 'Bad Key', 'a/b/c', '/name', 'Example.com/x', 'x/', '-a', 'a'.repeat(64), 'a/'.repeat(1) + 'b'.repeat(64)])
      expect(isQualifiedName(bad)).toBe(false);
    for (const ok of ['', 'v1', 'a.b_c-d', 'x'.repeat(63)]) expect(isLabelValue(ok)).toBe(true);
    for (const bad of ['-a', 'a-', 'a b', 'x'.repeat(64), 1]) expect(isLabelValue(bad)).toBe(false);
  });

  test('labels and annotations name the bad key or value', () => {
    expect(rejection(() => checkLabels(scope, 'nodeSelector', { 'bad key': 'x' })).message).toContain(
      'nodeSelector has a key that is not a valid Kubernetes label key',
    );
    expect(rejection(() => checkLabels(scope, 'nodeSelector', { pool: 'has space' })).prop).toBe('nodeSelector.pool');
    expect(rejection(() => checkLabels(scope, 'nodeSelector', 'str')).prop).toBe('nodeSelector');
    // Annotation keys compare lowercased (a capital in the prefix is fine); values are any string.
    expect(checkAnnotations(scope, 'a', { 'Example.com/Key': 'multi\nline' })).toEqual({ 'Example.com/Key': 'multi\nline' });
    expect(rejection(() => checkAnnotations(scope, 'a', { 'a/b/c': 'x' })).message).toContain('got "a/b/c"');
    expect(rejection(() => checkAnnotations(scope, 'a', { k: 42 })).prop).toBe('a.k');
    expect(rejection(() => checkAnnotations(scope, 'a', { k: 'x'.repeat(200000), l: 'y'.repeat(100000) })).message).toContain('256 KiB');
  });
});

describe('quantities', () => {
  test('the apimachinery grammar', () => {
    expect(parseQuantity('1')).toBe(1);
    expect(parseQuantity('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(parseQuantity('.5')).toBe(0.5);
    expect(parseQuantity('1.')).toBe(1);
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('1E3')).toBe(1000);
    expect(parseQuantity('2E')).toBe(2e18);
    expect(parseQuantity('-1Gi')).toBe(-(2 ** 30));
    expect(parseQuantity('+1k')).toBe(1000);
    for (const bad of ['', '8 GB', '4GB', '#comment', 'Gi', '1.2.3', '1Gib', ' 1', '1 ', 'ten', 5]) expect(parseQuantity(bad)).toBeUndefined();
  });

  test('memory and sizes are positive, with no milli suffix', () => {
    expect(checkMemory(scope, 'memory', '512Mi')).toBe('512Mi');
    expect(checkMemory(scope, 'memory', '1e9')).toBe('1e9');
    for (const bad of ['-1Gi', '0', '500m', '2GB', '8 GB', 2048, null])
      expect(rejection(() => checkMemory(scope, 'memory', bad)).prop).toBe('memory');
    expect(rejection(() => checkQuantity(scope, 'size', 'ten', 'a storage quantity', '10Gi')).message).toBe(
      "Construct 'thing': size must be a storage quantity such as '10Gi', got \"ten\". Fix: use " +
        "a binary suffix: '512Mi', '10Gi' (Kubernetes rejects 'GB' and spaces; 'm' is milli)",
    );
  });

  test('CPU is cores or millicores, positive, a string or a number', () => {
    expect(checkCpu(scope, 'cpu', '500m')).toBe('500m');
    expect(checkCpu(scope, 'cpu', 0.5)).toBe('0.5');
    expect(checkCpu(scope, 'cpu', '2')).toBe('2');
    for (const bad of ['half', '0', '-1', '1e3', '1Ki', NaN, Infinity, null, ''])
      expect(rejection(() => checkCpu(scope, 'cpu', bad)).prop).toBe('cpu');
  });
});

describe('paths', () => {
  test('absolute paths: not /, no .., no reserved path, safe characters', () => {
    expect(checkAbsolutePath(scope, 'p', '/models', { example: '/models' })).toBe('/models');
    expect(checkAbsolutePath(scope, 'p', '/models/', { example: '/models' })).toBe('/models/');
    for (const bad of ['/', 'models', '/a/../b', '/a//b', '/a/./b', '/has space', '/$HOME', '/a\nb', 42, '']) {
      expect(rejection(() => checkAbsolutePath(scope, 'p', bad, { example: '/models' })).prop).toBe('p');
    }
    expect(rejection(() => checkAbsolutePath(scope, 'p', '/tmp/', { example: '/models', reserved: ['/tmp'] })).message).toContain(
      'must be an absolute path other than / and /tmp, got "/tmp/"',
    );
  });

  test('relative paths', () => {
    expect(checkRelativePath(scope, 'p', 'models/m', 'x')).toBe('models/m');
    for (const bad of ['', '/abs', '../up', 'a/../b', 'a b', 'a\nb']) expect(rejection(() => checkRelativePath(scope, 'p', bad, 'x')).prop).toBe('p');
  });

  test('URL paths: a leading /, RFC 3986 characters; Ingress paths stricter', () => {
    expect(checkUrlPath(scope, 'p', '/v1/models/m:predict')).toBe('/v1/models/m:predict');
    expect(checkUrlPath(scope, 'p', '/healthz?full=1', { query: true })).toBe('/healthz?full=1');
    expect(rejection(() => checkUrlPath(scope, 'p', 'livez')).message).toBe(
      "Construct 'thing': p must start with '/', got \"livez\". Fix: use '/livez' (start the path with '/')",
    );
    for (const bad of ['/a b', '/a\nb', '/ü', '/a?b', '', 42]) expect(rejection(() => checkUrlPath(scope, 'p', bad)).prop).toBe('p');
    for (const bad of ['/a//b', '/a/../b', '/a/.', '/a:b', '/a%20b'])
      expect(rejection(() => checkUrlPath(scope, 'p', bad, { ingress: true })).prop).toBe('p');
    expect(checkUrlPath(scope, 'p', '/api/v1', { ingress: true })).toBe('/api/v1');
  });
});

describe('image references', () => {
  test('the distribution grammar', () => {
    expect(parseImageReference('python:3.12.8-slim-bookworm')).toEqual({ path: 'python', tag: '3.12.8-slim-bookworm' });
    expect(parseImageReference('tensorflow/serving:2.20.0-gpu')).toEqual({ path: 'tensorflow/serving', tag: '2.20.0-gpu' });
    expect(parseImageReference('localhost:5000/a/b:1')).toEqual({ domain: 'localhost:5000', path: 'a/b', tag: '1' });
    expect(parseImageReference('Registry.example.com/app:1')).toEqual({ domain: 'Registry.example.com', path: 'app', tag: '1' });
    expect(parseImageReference(`r.io/a@sha256:${'a'.repeat(64)}`)).toEqual({ domain: 'r.io', path: 'a', digest: `sha256:${'a'.repeat(64)}` });
    for (const bad of ['', 'line\nbreak', 'a b', 'UPPER/app:1', 'app:', 'app:-x', 'a//b', `r.io/${'a'.repeat(260)}`, 'app@sha256:abc', 42])
      expect(parseImageReference(bad)).toBeUndefined();
  });

  test('pinned: a tag other than latest, or a digest', () => {
    expect(checkImageReference(scope, 'image', 'r.io/a:1', { pinned: true })).toBe('r.io/a:1');
    for (const bad of ['r.io/a', 'r.io/a:latest'])
      expect(rejection(() => checkImageReference(scope, 'image', bad, { pinned: true })).message).toContain('pinned');
    expect(checkImageReference(scope, 'base', 'python', { pinned: false })).toBe('python');
  });
});

describe('downward API, int-or-percent, CIDRs, ids', () => {
  test('env field paths', () => {
    for (const ok of [
      'metadata.name',
      'status.podIP',
      'status.podIPs',
      "metadata.labels['app.kubernetes.io/name']",
      "metadata.annotations['Example.com/x']",
    ])
      expect(isEnvFieldPath(ok)).toBe(true);
    for (const bad of ['metadata.bogus', 'metadata.labels', "metadata.labels['bad key']", 'spec.containers[0].image', ''])
      expect(isEnvFieldPath(bad)).toBe(false);
    expect(rejection(() => checkEnvFieldPath(scope, 'env.X.fieldPath', 'status.hostIPs')).prop).toBe('env.X.fieldPath');
  });

  test('int or percent', () => {
    expect(checkIntOrPercent(scope, 'r', 0)).toEqual({ value: 0, zero: true });
    expect(checkIntOrPercent(scope, 'r', '0%')).toEqual({ value: '0%', zero: true });
    expect(checkIntOrPercent(scope, 'r', '150%')).toEqual({ value: '150%', zero: false });
    for (const bad of [-1, 1.5, 1e21, '25', '-5%', '1.5%', '%', null, {}]) expect(rejection(() => checkIntOrPercent(scope, 'r', bad)).prop).toBe('r');
    expect(rejection(() => checkIntOrPercent(scope, 'r', '101%', { maxPercent: 100 })).message).toContain('at most 100%');
  });

  test('CIDRs', () => {
    for (const ok of ['10.0.0.0/8', '203.0.113.7/32', '0.0.0.0/0', '2001:db8::/32', '::/0']) expect(isCidr(ok)).toBe(true);
    for (const bad of ['trailing-', '10.0.0.0', '10.0.0.0/33', '010.0.0.0/8', '2001:db8::/129', '10.0.0.0/8 ', '']) expect(isCidr(bad)).toBe(false);
  });

  test('ids of new constructs name the parent', () => {
    expect(checkChildId(scope, 'api', 'InferenceService')).toBe('api');
    const e = rejection(() => checkChildId(scope, null, 'InferenceService'));
    expect(e.message).toMatch(
      /^Construct 'thing': id of a new InferenceService must be a non-empty string .*, got null\. Fix: pass an id such as 'api'/,
    );
    expect(rejection(() => checkChildId(scope, 42, 'X')).prop).toBe('id');
    expect(() => checkChildId(42 as any, 'api', 'InferenceService')).toThrow(MlInputError);
  });
});

test('describe shows every value, even those JSON cannot', () => {
  expect(describeValue(Symbol('s'))).toBe('Symbol(s)');
  expect(describeValue(() => 1)).toMatch(/=>\s*1/);
  expect(describeValue(10n)).toBe('10');
  const noProto = Object.create(null);
  noProto.self = noProto;
  expect(describeValue(noProto)).toBe('[object Object]');
  expect(describeValue('x'.repeat(5))).toBe('"xxxxx"');
});
