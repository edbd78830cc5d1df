import * as fs from 'fs';
import * as path from 'path';
import { InferenceService, PythonImage } from '../../lib';
import { dockerfileFacts } from '../../lib/check/dockerfile';
import { podSpec, pythonContext, synthStack } from '../_util/synth';

describe('PythonImage', () => {
  const build = (options: Partial<Parameters<typeof PythonImage.fromDirectory>[1]> = {}, ctx = pythonContext()) =>
    synthStack(stack => new InferenceService(stack, 'api', {
      image: PythonImage.fromDirectory(ctx, { repository: 'registry.example.com/team/api', tag: '1.2.3', ...options }),
    }));

  test('Dockerfile: base image from a pinned ARG, requirements before code, numeric USER = runAsUser, EXPOSE = containerPort', () => {
    const out = build({ port: 9090, uid: 12345 });
    const dockerfile = out.dockerfile('api');
    const facts = dockerfileFacts(dockerfile);
    const pod = podSpec(out.find('Deployment'));
    const container = pod.containers[0];

    expect(facts.baseArgs).toEqual([{ name: 'PYTHON_IMAGE', default: 'python:3.12.8-slim-bookworm' }]);
    expect(facts.from).toEqual(['${PYTHON_IMAGE}']);
    const kinds = facts.instructions.map(i => `${i.keyword} ${i.args}`);
    const installAt = kinds.findIndex(k => /^RUN .*pip install .*-r requirements.txt/.test(k));
    const copyReqAt = kinds.findIndex(k => /^COPY requirements.txt /.test(k));
    const copyCodeAt = kinds.findIndex(k => k === 'COPY . .');
    expect(copyReqAt).toBeGreaterThan(-1);
    expect(copyReqAt).toBeLessThan(installAt);
    expect(installAt).toBeLessThan(copyCodeAt);

    expect(facts.user).toEqual({ uid: 12345, gid: 12345 });
    expect(pod.securityContext).toMatchObject({ runAsUser: 12345, runAsGroup: 12345, runAsNonRoot: true });
    expect(facts.exposes).toEqual([9090]);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 9090, protocol: 'TCP' }]);
    expect(out.find('Service').spec.ports[0].targetPort).toBe(9090);
    expect(facts.env).toMatchObject({ PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' });
    expect(container.image).toBe('registry.example.com/team/api:1.2.3');
    expect(dockerfile).toMatchSnapshot();
  });

  test('the bake file and build script build exactly the image the manifest runs', () => {
    const ctx = pythonContext();
    const out = build({}, ctx);
    const bake = JSON.parse(out.files.get('images/docker-bake.json')!);
    expect(bake.group.default.targets).toEqual(['api']);
    const target = bake.target.api;
    expect(target.tags).toEqual([out.find('Deployment').spec.template.spec.containers[0].image]);
    const imagesDir = path.join(out.app.outdir, 'images');
    expect(path.resolve(imagesDir, target.context)).toBe(ctx);
    expect(path.resolve(ctx, target.dockerfile)).toBe(path.join(path.resolve(out.app.outdir), 'images/api/Dockerfile'));
    expect(target.args).toEqual({ PYTHON_IMAGE: 'python:3.12.8-slim-bookworm' });
    expect(out.files.get('images/build.sh')).toContain(`build ${target.context} api/Dockerfile registry.example.com/team/api:1.2.3 "$@"`);
  });

  test('.dockerignore keeps keys, .env, .git, caches and virtualenvs out', () => {
    const ignore = build({ ignore: ['data/raw'] }).files.get('images/api/Dockerfile.dockerignore')!;
    for (const pattern of ['.git', '**/.env', '**/*.pem', '**/id_rsa*', '**/__pycache__', '.venv', 'venv', 'data/raw']) {
      expect(ignore.split('\n')).toContain(pattern);
    }
  });

  test('a requirements file elsewhere in the context is copied as requirements.txt', () => {
    const ctx = pythonContext({ 'reqs/prod.txt': 'flask\n' });
    fs.rmSync(path.join(ctx, 'requirements.txt'));
    const facts = dockerfileFacts(build({ requirements: 'reqs/prod.txt' }, ctx).dockerfile('api'));
    expect(facts.instructions.map(i => `${i.keyword} ${i.args}`)).toContain('COPY reqs/prod.txt ./requirements.txt');
  });

  describe('bad input fails at synth naming construct, prop, value and fix', () => {
    test('missing build context', () => {
      expect(() => build({}, '/nonexistent/ctx')).toThrow(/InferenceService 'test\/api': image needs an existing build context directory, got "\/nonexistent\/ctx"\. Fix: create the directory/);
    });
    test('missing requirements file', () => {
      const ctx = pythonContext();
      fs.rmSync(path.join(ctx, 'requirements.txt'));
      expect(() => build({}, ctx)).toThrow(/InferenceService 'test\/api': image.requirements must name a file inside the build context .*, got "requirements.txt"\. Fix: add requirements.txt/);
    });
    test('requirements outside the context', () => {
      expect(() => build({ requirements: '../secrets.txt' })).toThrow(/image.requirements must name a file inside the build context/);
    });
    test("the 'latest' tag", () => {
      expect(() => build({ tag: 'latest' })).toThrow(/image.tag must be a pinned tag \(not 'latest'.*got "latest"\. Fix: use a version/);
    });
    test('a repository with a tag or capitals', () => {
      expect(() => build({ repository: 'Registry.example.com/API' })).toThrow(/image.repository must be a lowercase image repository without a tag, got "Registry.example.com\/API"/);
    });
    test('root or non-integer uid', () => {
      expect(() => build({ uid: 0 })).toThrow(/image.uid must be a whole number from 1 to 2147483647, got 0/);
    });
    test('a port the manifest would contradict', () => {
      expect(() => synthStack(stack => new InferenceService(stack, 'api', {
        image: PythonImage.fromDirectory(pythonContext(), { repository: 'r.example.com/api', tag: '1', port: 8080 }),
        port: 9000,
      }))).toThrow(/InferenceService 'test\/api': port differs from the port the image EXPOSEs \(8080\), got 9000\. Fix: set the port on the image/);
    });
  });
});
