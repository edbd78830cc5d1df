/* eslint-disable @typescript-eslint/no-explicit-any */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { checkCompose, checkOutputDir, expectValidOutputDir } from '../_check';
import { GOOD_DOCKERFILE, GOOD_DOCKERIGNORE, goodCompose, goodSet } from './fixtures';

describe('checkCompose', () => {
  it('accepts the good compose file', () => {
    expect(checkCompose(goodCompose())).toEqual([]);
  });

  it.each<[string, (doc: Record<string, any>) => unknown, RegExp]>([
    ['missing services', (doc) => ({ volumes: doc.volumes ?? {} }), /^compose-schema: services is required/],
    ['services of the wrong type', (doc) => ({ ...doc, services: ['web'] }), /^compose-schema: services must be object$/],
    ['image not a string', (doc) => { doc.services.web.image = 42; return doc; }, /^compose-schema: services\.web\.image must be string$/],
    ['unknown service key', (doc) => { doc.services.web.envirnoment = {}; return doc; }, /^compose-schema: services\.web must NOT have additional properties \(envirnoment\)$/],
    ['bad duration', (doc) => { doc.services.web.healthcheck.interval = '10 seconds'; return doc; }, /^compose-schema: services\.web\.healthcheck\.interval must match format "duration"$/],
    ['wrong restart type', (doc) => { doc.services.model.read_only = 'yes'; return doc; }, /^compose-schema: services\.model\.read_only must be boolean$/],
  ])('%s', (_name, mutate, expected) => {
    expect(checkCompose(mutate(goodCompose()))).toContainEqual(expect.stringMatching(expected));
  });
});

describe('checkOutputDir', () => {
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
    write('images/docker-bake.json', JSON.stringify({ group: { default: { targets: ['web'] } }, target: { web: { context: '../../src/web', dockerfile: '../../dist/images/web/Dockerfile', tags: ['registry.example.com/web:1.0.0'] } } }));
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
    expect(checkOutputDir(dir)).toEqual([]);
    expect(() => expectValidOutputDir(dir)).not.toThrow();
  });

  it('requires a bake file that builds exactly the image directories', () => {
    fs.rmSync(path.join(dir, 'images/docker-bake.json'));
    expect(checkOutputDir(dir)).toEqual(['images/docker-bake.json: layout: missing (one command must build every image)']);
  });

  it('rejects a stray yaml in images/', () => {
    write('images/web/config.yaml', 'a: 1\n');
    expect(checkOutputDir(dir)).toEqual([expect.stringMatching(/^images\/web\/config\.yaml: layout: \*\.yaml outside manifests\//)]);
  });

  it('rejects a non-yaml file in manifests/', () => {
    write('manifests/README.md', '# x\n');
    expect(checkOutputDir(dir)).toEqual([expect.stringMatching(/^manifests\/README\.md: layout: manifests\/ may only hold \*\.yaml/)]);
  });

  it('prefixes manifest problems with the file of the object, checking files together', () => {
    fs.rmSync(path.join(dir, 'manifests/web.yaml'));
    const problems = checkOutputDir(dir);
    expect(problems).toContainEqual(expect.stringMatching(/^manifests\/smoke\.yaml: Job\/ml\/smoke-test: env-url: .*names Service ml\/web, which is not among the manifests/));
  });

  it('checks Dockerfiles, dockerignores and compose files with their paths', () => {
    write('images/web/Dockerfile', GOOD_DOCKERFILE.replace('USER 10001:10001', 'USER root'));
    fs.rmSync(path.join(dir, 'images/web/Dockerfile.dockerignore'));
    write('images/model/Dockerfile', GOOD_DOCKERFILE);
    write('images/model/Dockerfile.dockerignore', '.git\n');
    write('compose/web.yml', 'services: []\n');
    expect(checkOutputDir(dir)).toEqual([
      'images/docker-bake.json: layout: targets web differ from image directories model,web',
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude \.env/),
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude \*\.pem/),
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude id_rsa/),
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude __pycache__/),
      expect.stringMatching(/^images\/model\/Dockerfile\.dockerignore: dockerignore: must exclude a virtualenv/),
      expect.stringMatching(/^images\/web\/Dockerfile: line 8: user: USER root must be numeric/),
      expect.stringMatching(/^images\/web\/Dockerfile\.dockerignore: layout: missing/),
      'compose/web.yml: compose-schema: services must be object',
    ]);
  });

  it('reports YAML syntax errors per file and still checks the rest', () => {
    write('manifests/broken.yaml', 'kind: [\n');
    const problems = checkOutputDir(dir);
    expect(problems).toEqual([expect.stringMatching(/^manifests\/broken\.yaml: yaml: YAML error/)]);
  });

});
