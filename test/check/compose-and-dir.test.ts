/* eslint-disable @typescript-eslint/no-explicit-any */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { checkCompose, checkOutput, checkOutputFiles } from '../../lib/check';
import { COMPOSE_CASES, GOOD_DOCKERFILE, GOOD_DOCKERIGNORE, goodCompose, goodSet } from './fixtures';

describe('checkCompose', () => {
  it('accepts the good compose file', () => {
    expect(checkCompose(goodCompose())).toEqual([]);
  });

  it.each(COMPOSE_CASES)('%s', (_name, mutate, expected) => {
    expect(checkCompose(mutate(goodCompose()))).toContainEqual(expect.stringMatching(expected));
  });
});

describe('checkOutput (an output directory on disk)', () => {
  let dir: string;

  function write(rel: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }

  function writeGoodLayout(): void {
    const s = goodSet();
    // Two stacks in two files; the Job in the second file calls the Service in the first.
    write('manifests/web.yaml', [s.namespace, s.configMap, s.deployment, s.service, s.networkPolicy, s.pdb].map((o) => stringify(o)).join('---\n'));
    write('manifests/smoke.yaml', `---\n${stringify(s.job)}---\n`);
    write('images/web/Dockerfile', GOOD_DOCKERFILE);
    write('images/web/Dockerfile.dockerignore', GOOD_DOCKERIGNORE);
    write('images/web/requirements.txt', 'flask==3.1.0\n');
    write(
      'images/docker-bake.json',
      JSON.stringify({
        group: { default: { targets: ['web'] } },
        target: { web: { context: '../../src/web', dockerfile: '../../dist/images/web/Dockerfile', tags: ['registry.example.com/web:1.0.0'] } },
      }),
    );
    write('images/build.sh', '#!/usr/bin/env bash\n');
    write('compose/web.yml', stringify(goodCompose()));
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-output-'));
    writeGoodLayout();
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a good layout', () => {
    expect(checkOutput(dir)).toEqual([]);
  });

  it('requires a bake file that builds exactly the image directories', () => {
    fs.rmSync(path.join(dir, 'images/docker-bake.json'));
    expect(checkOutput(dir)).toEqual(['images/docker-bake.json: layout: missing (one command must build every image)']);
  });

  it('rejects a stray yaml in images/', () => {
    write('images/web/config.yaml', 'a: 1\n');
    expect(checkOutput(dir)).toEqual([expect.stringMatching(/^images\/web\/config\.yaml: layout: \*\.yaml outside manifests\//)]);
  });

  it('rejects a non-yaml file in manifests/', () => {
    write('manifests/README.md', '# x\n');
    expect(checkOutput(dir)).toEqual([expect.stringMatching(/^manifests\/README\.md: layout: manifests\/ may only hold \*\.yaml/)]);
  });

  it('prefixes manifest problems with the file of the object, checking files together', () => {
    fs.rmSync(path.join(dir, 'manifests/web.yaml'));
    const problems = checkOutput(dir);
    expect(problems).toContainEqual(
      expect.stringMatching(/^manifests\/smoke\.yaml: Job\/ml\/smoke-test: env-url: .*names Service ml\/web, which is not among the manifests/),
    );
  });

  it('checks Dockerfiles, dockerignores and compose files with their paths', () => {
    write('images/web/Dockerfile', GOOD_DOCKERFILE.replace('USER 10001:10001', 'USER root'));
    fs.rmSync(path.join(dir, 'images/web/Dockerfile.dockerignore'));
    write('images/model/Dockerfile', GOOD_DOCKERFILE);
    write('images/model/Dockerfile.dockerignore', '.git\n');
    write('compose/web.yml', 'services: []\n');
    expect(checkOutput(dir)).toEqual([
      'images/docker-bake.json: layout: targets web differ from image directories model,web',
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude \.env/),
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude \*\.pem/),
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude id_rsa/),
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude __pycache__/),
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude a virtualenv/),
      expect.stringMatching(/^images\/web\/Dockerfile:8: user: USER root must be numeric/),
      expect.stringMatching(/^images\/web\/Dockerfile\.dockerignore: layout: missing/),
      'compose/web.yml: compose-schema: services must be object',
    ]);
  });

  it('reports YAML syntax errors per file and still checks the rest', () => {
    write('manifests/broken.yaml', 'kind: [\n');
    const problems = checkOutput(dir);
    expect(problems).toEqual([expect.stringMatching(/^manifests\/broken\.yaml: yaml: YAML error/)]);
  });

  it('reads the directory into the map checkOutputFiles takes: same problems from disk, a Map or a plain object', () => {
    write('images/web/Dockerfile', GOOD_DOCKERFILE.replace('USER 10001:10001', 'USER root'));
    const files = new Map<string, string>();
    const walk = (rel: string): void => {
      for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
        const child = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) walk(child);
        else files.set(child, fs.readFileSync(path.join(dir, child), 'utf8'));
      }
    };
    walk('');
    const problems = checkOutput(dir);
    expect(problems).toEqual([expect.stringMatching(/^images\/web\/Dockerfile:8: user: /)]);
    expect(checkOutputFiles(files)).toEqual(problems);
    expect(checkOutputFiles(Object.fromEntries(files))).toEqual(problems);
  });
});

describe('checkOutputFiles: reading YAML', () => {
  const s = goodSet();
  const good = (): Record<string, string> => ({
    'manifests/web.yaml': [s.namespace, s.configMap, s.deployment, s.service, s.networkPolicy, s.pdb, s.job].map((o) => stringify(o)).join('---\n'),
  });

  it('a duplicate key is an error naming the file, the line and the column', () => {
    const files = { ...good(), 'manifests/dup.yaml': 'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata:\n  name: x\n' };
    expect(checkOutputFiles(files)).toEqual(['manifests/dup.yaml: yaml: YAML error at line 3, column 1: duplicated mapping key']);
  });

  it('a YAML error in a compose file names the file too', () => {
    expect(checkOutputFiles({ ...good(), 'compose/web.yml': 'services:\n  web: {image: a\n' })).toEqual([
      expect.stringMatching(/^compose\/web\.yml: yaml: YAML error at line \d+, column \d+: /),
    ]);
  });

  it('maps each problem to the file of its object, also when two files hold the same object', () => {
    const bad = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'ml' }, dta: {} };
    expect(checkOutputFiles({ ...good(), 'manifests/a.yaml': stringify(bad), 'manifests/b.yaml': stringify(bad) })).toEqual([
      'manifests/a.yaml: ConfigMap/ml/x: unknown-field: dta is not a field of v1 ConfigMap',
      'manifests/b.yaml: ConfigMap/ml/x: unknown-field: dta is not a field of v1 ConfigMap',
    ]);
  });

  it('reads values as kubectl does: date-like stays a string, 1_000 is a number (YAML 1.1); merge keys are merged', () => {
    const cm =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: ml\n  labels: &l ' +
      '{tier: web}\n  annotations:\n    <<: *l\n    released: 2024-01-01\n    count: "1_000"\n';
    expect(checkOutputFiles({ ...good(), 'manifests/cm.yaml': cm })).toEqual([]);
    expect(checkOutputFiles({ ...good(), 'manifests/cm.yaml': cm.replace('"1_000"', '1_000') })).toEqual([
      expect.stringMatching(/^manifests\/cm.yaml: ConfigMap\/ml\/x: schema: metadata.annotations.count must be string \(got 1000: kubectl reads/),
    ]);
  });

  it('checks the items of a v1 List (kubectl get -o yaml)', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace: 'ml' } }],
    };
    expect(checkOutputFiles({ ...good(), 'manifests/list.yaml': stringify(list) })).toEqual([
      expect.stringMatching(/^manifests\/list\.yaml: ConfigMap\/ml\/Bad_Name: dns-1123: /),
    ]);
  });

  it('a bake file that is not JSON is a layout problem, not a crash', () => {
    const files = {
      ...good(),
      'images/web/Dockerfile': GOOD_DOCKERFILE,
      'images/web/Dockerfile.dockerignore': GOOD_DOCKERIGNORE,
      'images/docker-bake.json': '{',
    };
    expect(checkOutputFiles(files)).toEqual([expect.stringMatching(/^images\/docker-bake\.json: layout: not valid JSON: /)]);
  });
});
