import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { CHECK_RULES } from '../../lib/check';
import {
  formatJson,
  formatSarif,
  formatText,
  parseProblem,
  problemLine,
  ReportedProblem,
  sarifLog,
  selectProblems,
  summarize,
  unknownRuleIssue,
} from '../../lib/check/report';

const FILES = ['dist/manifests/app.yaml', 'dist', 'my dir/odd: name.yaml', 'web/Dockerfile', '-'];

const LINES = [
  'dist/manifests/app.yaml: Deployment/ml/web: pss-restricted: container "web" must set securityContext.runAsNonRoot: true',
  'dist/manifests/app.yaml: ConfigMap/-/settings: dns-1123: metadata.name "Bad_Name" is not a DNS-1123 subdomain',
  'dist/manifests/app.yaml: <no kind>/-/<no name>: schema: kind is required',
  'web/Dockerfile:8: user: the image runs as root; end with USER 1000',
  'web/Dockerfile: base-image-arg: FROM python:3.12 is not a build ARG',
  'my dir/odd: name.yaml: Service/ml/web: service-selector: selects no pods: app=web matches none',
  'dist/images/docker-bake.json: layout: missing (one command must build every image)',
  'manifests/: layout: no manifests/*.yaml found',
  '-: yaml: YAML error at line 2, column 1: unexpected end of the stream',
];

describe('parseProblem: the three shapes of a problem line, taken apart and written back unchanged', () => {
  test.each(LINES)('%s', (line) => {
    expect(problemLine(parseProblem(line, FILES, CHECK_RULES))).toBe(line);
  });

  test('fields: file (the longest checked file it starts with), line, object, rule, message and the rule fix', () => {
    expect(parseProblem(LINES[0], FILES, CHECK_RULES)).toEqual({
      file: 'dist/manifests/app.yaml',
      object: 'Deployment/ml/web',
      rule: 'pss-restricted',
      message: 'container "web" must set securityContext.runAsNonRoot: true',
      fix: CHECK_RULES.find((r) => r.id === 'pss-restricted')?.fix,
    });
    expect(parseProblem(LINES[3], FILES, CHECK_RULES)).toMatchObject({ file: 'web/Dockerfile', line: 8, rule: 'user' });
    expect(parseProblem(LINES[3], FILES, CHECK_RULES).object).toBeUndefined();
    expect(parseProblem(LINES[5], FILES, CHECK_RULES)).toMatchObject({ file: 'my dir/odd: name.yaml', object: 'Service/ml/web' });
    // A file outside those checked (a layout problem of a missing one) is split at its first colon.
    expect(parseProblem(LINES[6], FILES, CHECK_RULES)).toMatchObject({ file: 'dist/images/docker-bake.json', rule: 'layout' });
    expect(parseProblem(LINES[8], FILES, CHECK_RULES)).toMatchObject({ file: '-', rule: 'yaml' });
  });
});

describe('rule selection', () => {
  const problems = LINES.map((l) => parseProblem(l, FILES, CHECK_RULES));
  const rules = (ps: readonly ReportedProblem[]) => ps.map((p) => p.rule);

  test('--skip drops its rules from every kind of problem (manifests, Dockerfiles, layout)', () => {
    expect(rules(selectProblems(problems, { skip: ['pss-restricted', 'user', 'layout'] }))).toEqual([
      'dns-1123',
      'schema',
      'base-image-arg',
      'service-selector',
      'yaml',
    ]);
  });

  test('--only keeps its rules; a rule in both is skipped; yaml (a file not read) is always reported', () => {
    expect(rules(selectProblems(problems, { only: ['user', 'schema'] }))).toEqual(['schema', 'user', 'yaml']);
    expect(rules(selectProblems(problems, { only: ['user', 'schema'], skip: ['schema'] }))).toEqual(['user', 'yaml']);
    expect(selectProblems(problems, {})).toEqual(problems);
  });

  test('an unknown rule id: what is wrong, the nearest id, every id', () => {
    expect(unknownRuleIssue('pss-restricted', CHECK_RULES)).toBeUndefined();
    const issue = unknownRuleIssue('pss-restriced', CHECK_RULES);
    expect(issue).toMatch(/^"pss-restriced" is not a rule of the check \(did you mean "pss-restricted"\?\); the rules are schema, /);
    expect(unknownRuleIssue('nonsense-rule-xyz', CHECK_RULES)).not.toMatch(/did you mean/);
    expect(unknownRuleIssue('yaml', CHECK_RULES)).toMatch(/always reported/);
  });
});

describe('formats', () => {
  const problems = LINES.map((l) => parseProblem(l, FILES, CHECK_RULES));

  test('text: the lines as the check wrote them', () => {
    expect(formatText(problems)).toBe(LINES.map((l) => `${l}\n`).join(''));
    expect(formatText([])).toBe('');
  });

  test('json: one document, {problems, summary}', () => {
    const doc = JSON.parse(formatJson(problems, summarize(problems, 12)));
    expect(doc.summary).toEqual({ problems: 9, filesWithProblems: 6, filesChecked: 12 });
    expect(doc.problems[3]).toEqual({
      file: 'web/Dockerfile',
      line: 8,
      rule: 'user',
      message: 'the image runs as root; end with USER 1000',
      fix: CHECK_RULES.find((r) => r.id === 'user')?.fix,
    });
  });

  test('sarif: rules from CHECK_RULES, one error result per problem at its file and line, the object as logical location', () => {
    const log = sarifLog(problems, { name: 'cdk8s-ml', version: '1.2.3' }, CHECK_RULES) as any;
    const run = log.runs[0];
    expect(log.version).toBe('2.1.0');
    expect(run.tool.driver.rules.map((r: any) => r.id)).toEqual(CHECK_RULES.map((r) => r.id));
    expect(run.tool.driver.rules[0]).toEqual({
      id: CHECK_RULES[0].id,
      shortDescription: { text: CHECK_RULES[0].summary },
      help: { text: CHECK_RULES[0].fix },
    });
    expect(run.results).toHaveLength(problems.length);
    expect(run.results[3]).toEqual({
      ruleId: 'user',
      ruleIndex: CHECK_RULES.findIndex((r) => r.id === 'user'),
      level: 'error',
      message: { text: 'the image runs as root; end with USER 1000' },
      locations: [{ physicalLocation: { artifactLocation: { uri: 'web/Dockerfile' }, region: { startLine: 8 } } }],
    });
    expect(run.results[0].locations[0].logicalLocations).toEqual([{ fullyQualifiedName: 'Deployment/ml/web', kind: 'object' }]);
    // A file name is a URI reference: a space and a colon percent-encoded.
    expect(run.results[5].locations[0].physicalLocation.artifactLocation.uri).toBe('my%20dir/odd%3A%20name.yaml');
  });
});

/**
 * The SARIF 2.1.0 JSON schema as @microsoft/sarif-matcher-utils ships it (lib/schemas/sarif-2.1.0-rtm.5.json,
 * the schema SchemaStore serves for 2.1.0; draft-04, so ajv-draft-04 reads it). A devDependency: see package.json.
 */
function sarifValidator() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const schema = require('@microsoft/sarif-matcher-utils/lib/schemas/sarif-2.1.0-rtm.5.json');
  // unicodeRegExp off: the schema's `language` pattern ends in a stray `]?`, which only a non-unicode RegExp accepts.
  const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

test('a SARIF file the SARIF 2.1.0 schema validates: with problems of every shape, and with none', () => {
  const validate = sarifValidator();
  const problems = LINES.map((l) => parseProblem(l, FILES, CHECK_RULES));
  for (const ps of [problems, []]) {
    const doc = JSON.parse(formatSarif(ps, { name: 'cdk8s-ml', version: '0.1.0', informationUri: 'https://example.com/cdk8s-ml' }, CHECK_RULES));
    expect({ valid: validate(doc), errors: validate.errors ?? null }).toEqual({ valid: true, errors: null });
  }
  // The validator is not vacuous: a result without a message fails it.
  const bad = sarifLog(problems, { name: 'cdk8s-ml', version: '0.1.0' }, CHECK_RULES) as any;
  delete bad.runs[0].results[0].message;
  expect(validate(bad)).toBe(false);
});
