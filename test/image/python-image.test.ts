import * as fs from 'node:fs';
import * as path from 'node:path';
import { andGate } from '../../apps/and-gate/main';
import { eegLetters } from '../../apps/eeg-letters/main';
import { imageClassifier } from '../../apps/image-classifier/main';
import { mlModel } from '../../apps/ml-model/main';
import { BatchInferenceJob, FlaskFrontend, InferenceService, ModelOutput, ModelSource, PythonImage, TrainingJob } from '../../lib';
import { dockerfileFacts } from '../../lib/check/dockerfile';
import { joinRegExp } from '../_util/regexp';
import { podSpec, pythonContext, synth, synthStack } from '../_util/synth';

/** The instructions of the last stage (what the image is made of), as `KEYWORD args`. */
function finalStage(dockerfile: string): string[] {
  const all = dockerfileFacts(dockerfile).instructions.map((i) => `${i.keyword} ${i.args}`);
  const last = all.map((k) => k.startsWith('FROM ')).lastIndexOf(true);
  return all.slice(last);
}

describe('PythonImage', () => {
  const build = (options: Partial<Parameters<typeof PythonImage.fromDirectory>[1]> = {}, ctx = pythonContext()) =>
    synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: PythonImage.fromDirectory(ctx, { repository: 'registry.example.com/team/api', tag: '1.2.3', ...options }),
        }),
    );

  test('Dockerfile: base image from a pinned ARG, requirements before code, numeric USER = runAsUser, EXPOSE = containerPort', () => {
    const out = build({ port: 9090, uid: 12345, command: ['python', 'app.py'] });
    const dockerfile = out.dockerfile('api');
    const facts = dockerfileFacts(dockerfile);
    const pod = podSpec(out.find('Deployment'));
    const container = pod.containers[0];

    expect(facts.baseArgs).toEqual([{ name: 'PYTHON_IMAGE', default: 'python:3.12.8-slim-bookworm' }]);
    // Both stages start from the base ARG: the context stage and the image.
    expect(facts.from).toEqual(['${PYTHON_IMAGE}', '${PYTHON_IMAGE}']);
    const kinds = finalStage(dockerfile);
    const installAt = kinds.findIndex((k) => /^RUN .*pip install .*-r requirements.txt/.test(k));
    const copyReqAt = kinds.findIndex((k) => /^COPY requirements.txt /.test(k));
    const copyCodeAt = kinds.indexOf('COPY --from=clean-context /context/ ./');
    expect(copyReqAt).toBeGreaterThan(-1);
    expect(copyReqAt).toBeLessThan(installAt);
    expect(installAt).toBeLessThan(copyCodeAt);

    expect(facts.user).toEqual({ uid: 12345, gid: 12345 });
    expect(pod.securityContext).toMatchObject({ runAsUser: 12345, runAsGroup: 12345, runAsNonRoot: true });
    expect(facts.exposes).toEqual([9090]);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 9090, protocol: 'TCP' }]);
    expect(out.find('Service').spec.ports[0].targetPort).toBe(9090);
    expect(facts.env).toMatchObject({ PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', HOME: '/tmp' });
    expect(container.image).toBe('registry.example.com/team/api:1.2.3');
    expect(dockerfile).toMatchSnapshot();
  });

  test('EXPOSE lists every port the workload serves: the image port and each extra port', () => {
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/team/api', tag: '1.2.3' }),
          extraPorts: [{ name: 'grpc', port: 9000 }],
        }),
    );
    const served = podSpec(out.find('Deployment')).containers[0].ports.map((p: any) => p.containerPort);
    expect(served).toEqual([8080, 9000]);
    expect(dockerfileFacts(out.dockerfile('api')).exposes).toEqual(served);
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
    expect(facts.instructions.map((i) => `${i.keyword} ${i.args}`)).toContain('COPY reqs/prod.txt ./requirements.txt');
  });

  describe('bad input fails at synth naming construct, prop, value and fix', () => {
    test('missing build context', () => {
      expect(() => build({}, '/nonexistent/ctx')).toThrow(
        /InferenceService 'test\/api': image needs an existing build context directory, got "\/nonexistent\/ctx"\. Fix: create the directory/,
      );
    });
    test('missing requirements file', () => {
      const ctx = pythonContext();
      fs.rmSync(path.join(ctx, 'requirements.txt'));
      expect(() => build({}, ctx)).toThrow(
        joinRegExp(
          /InferenceService 'test\/api': image.requirements must name a file inside the build /,
          /context .*, got "requirements.txt"\. Fix: add requirements.txt/,
        ),
      );
    });
    test('requirements outside the context', () => {
      expect(() => build({ requirements: '../secrets.txt' })).toThrow(/image.requirements must name a file inside the build context/);
    });
    test("the 'latest' tag", () => {
      expect(() => build({ tag: 'latest' })).toThrow(/image.tag must be a pinned tag \(not 'latest'.*got "latest"\. Fix: use a version/);
    });
    test('a repository with a tag or capitals', () => {
      expect(() => build({ repository: 'Registry.example.com/API' })).toThrow(
        /image.repository must be a lowercase image repository without a tag, got "Registry.example.com\/API"/,
      );
    });
    test('root or non-integer uid', () => {
      expect(() => build({ uid: 0 })).toThrow(/image.uid must be a whole number from 1 to 2147483647, got 0/);
    });
    test('a port the manifest would contradict', () => {
      expect(() =>
        synthStack(
          (stack) =>
            new InferenceService(stack, 'api', {
              image: PythonImage.fromDirectory(pythonContext(), { repository: 'r.example.com/api', tag: '1', port: 8080 }),
              port: 9000,
            }),
        ),
      ).toThrow(/InferenceService 'test\/api': port differs from the port the image EXPOSEs \(8080\), got 9000\. Fix: set the port on the image/);
    });
    test('two image objects for one directory: the message names both workloads, the directory, the difference and the fix', () => {
      // Each object takes the command of the workload that runs it: two different Dockerfiles for images/api.
      const ctx = pythonContext();
      const options = { repository: 'registry.example.com/team/api', tag: '1' };
      const build2 = () =>
        synthStack((stack) => {
          new InferenceService(stack, 'a', { image: PythonImage.fromDirectory(ctx, options), command: ['python', 'a.py'] });
          new InferenceService(stack, 'b', { image: PythonImage.fromDirectory(ctx, options), command: ['python', 'b.py'] });
        });
      expect(build2).toThrow(
        joinRegExp(
          /InferenceService 'test\/b': image clashes with the PythonImage InferenceService 'test\/a' runs: two different images would be /,
          new RegExp(`written to images/api, both from the directory ${ctx}; they differ in the Dockerfile, `),
          /"CMD \[\\"python\\",\\"a.py\\"\]" vs "CMD \[\\"python\\",\\"b.py\\"\]", got "registry.example.com\/team\/api:1"\. /,
          /Fix: make the image once \(const image = PythonImage.fromDirectory\(...\)\) and pass that one object to both workloads/,
        ),
      );
    });
  });
});

describe('the image runs what the manifest runs (one command)', () => {
  const image = (options: Partial<Parameters<typeof PythonImage.fromDirectory>[1]> = {}, ctx = pythonContext()) =>
    PythonImage.fromDirectory(ctx, { repository: 'registry.example.com/team/app', tag: '1.0.0', ...options });
  const cmdOf = (out: ReturnType<typeof synthStack>) => dockerfileFacts(out.dockerfile('app')).cmd;
  const runOf = (obj: any) => {
    const c = podSpec(obj).containers[0];
    return [...(c.command ?? []), ...(c.args ?? [])];
  };

  test("FlaskFrontend: the image's CMD is the Deployment's gunicorn command", () => {
    const out = synthStack((s) => new FlaskFrontend(s, 'web', { image: image(), workers: 3 }));
    const command = podSpec(out.find('Deployment', 'web')).containers[0].command;
    expect(command[0]).toBe('gunicorn');
    expect(cmdOf(out)).toEqual(command);
    expect(out.dockerfile('app')).toContain(
      "# CMD: the command of FlaskFrontend 'test/web' (the first server that runs this image; its manifest states it too).",
    );
  });

  test('InferenceService: command and args are the CMD', () => {
    const out = synthStack(
      (s) => new InferenceService(s, 'api', { image: image(), command: ['gunicorn', 'api:app'], args: ['--bind', '0.0.0.0:8080'] }),
    );
    expect(cmdOf(out)).toEqual(['gunicorn', 'api:app', '--bind', '0.0.0.0:8080']);
    expect(runOf(out.find('Deployment', 'api'))).toEqual(cmdOf(out));
  });

  test("TrainingJob and BatchInferenceJob alone: the first job's command is the CMD", () => {
    const out = synthStack((s) => {
      const img = image();
      const train = new TrainingJob(s, 'train', { image: img, command: ['python', 'train.py'], modelOutput: ModelOutput.newClaim({ size: '1Gi' }) });
      new BatchInferenceJob(s, 'score', { image: img, command: ['python', 'score.py'], model: ModelSource.fromTrainingJob(train) });
    });
    expect(cmdOf(out)).toEqual(['python', 'train.py']);
    expect(runOf(out.find('Job', 'score'))).toEqual(['python', 'score.py']);
  });

  test('one image, several workloads: the server gives the CMD even when jobs come first; every manifest states its own command', () => {
    const out = synthStack((s) => {
      const img = image();
      const train = new TrainingJob(s, 'train', {
        image: img,
        command: ['python', 'train.py'],
        modelOutput: ModelOutput.newClaim({ size: '1Gi', accessMode: 'ReadWriteMany' }),
      });
      new InferenceService(s, 'api', {
        image: img,
        command: ['gunicorn', '--bind', '0.0.0.0:8080', 'api:app'],
        model: ModelSource.fromTrainingJob(train),
      });
      new InferenceService(s, 'api2', { image: img, command: ['gunicorn', 'other:app'], model: ModelSource.fromTrainingJob(train) });
    });
    expect(cmdOf(out)).toEqual(['gunicorn', '--bind', '0.0.0.0:8080', 'api:app']);
    expect(runOf(out.find('Job', 'train'))).toEqual(['python', 'train.py']);
    expect(runOf(out.find('Deployment', 'api'))).toEqual(cmdOf(out));
    expect(runOf(out.find('Deployment', 'api2'))).toEqual(['gunicorn', 'other:app']);
  });

  test('an explicit command option stays the CMD; a workload with another command states it in its manifest', () => {
    const out = synthStack((s) => new FlaskFrontend(s, 'web', { image: image({ command: ['python', 'app.py'] }) }));
    expect(cmdOf(out)).toEqual(['python', 'app.py']);
    expect(podSpec(out.find('Deployment', 'web')).containers[0].command[0]).toBe('gunicorn');
    expect(out.dockerfile('app')).not.toContain('# CMD:');
  });

  test('a command with $(VAR) is not made the CMD (only Kubernetes expands it)', () => {
    const out = synthStack((s) => {
      const img = image();
      new TrainingJob(s, 'train', {
        image: img,
        command: ['python', 'train.py', '--out', '$(MODEL_DIR)'],
        modelOutput: ModelOutput.newClaim({ size: '1Gi' }),
      });
    });
    expect(cmdOf(out)).toEqual(['python', 'app.py']);
    expect(out.dockerfile('app')).toContain('# CMD: no workload runs this image with a command of its own.');
  });

  test("the apps: every generated image runs its server's command; eeg-letters carries the API's, its Jobs state theirs", () => {
    const out = synth((app) => {
      andGate(app);
      imageClassifier(app);
      mlModel(app);
      eegLetters(app);
    });
    const deployments = out.all('Deployment');
    const byImage = (ref: string) => deployments.filter((d) => podSpec(d).containers[0].image === ref);
    for (const [name, imageRef] of [
      ['and-gate-web', 'registry.example.com/and-gate-web:1.0.0'],
      ['image-classifier', 'registry.example.com/image-classifier:1.0.0'],
      ['ml-model', 'registry.example.com/ml-model:1.0.0'],
      ['eeg-letters', 'registry.example.com/eeg-letters:1.0.0'],
    ]) {
      const [server] = byImage(imageRef);
      const cmd = dockerfileFacts(out.dockerfile(name)).cmd!;
      const runs = runOf(server);
      // ml-model's InferenceService runs the image's CMD (the image's command option).
      expect(runs.length === 0 ? cmd : runs).toEqual(cmd);
      expect(cmd[0]).toBe('gunicorn');
    }
    expect(out.dockerfile('eeg-letters')).toContain("# CMD: the command of InferenceService 'eeg-letters/api'");
    expect(runOf(out.find('Job', 'train'))).toEqual(['python', 'train.py']);
    expect(runOf(out.find('Job', 'batch-inference'))).toEqual(['python', 'inference.py']);
  });

  test('nothing names a command and the context has no app.py: synth fails naming the fix', () => {
    const ctx = pythonContext({ 'train.py': 'print(1)\n' });
    fs.rmSync(path.join(ctx, 'app.py'));
    expect(() => synthStack((s) => new TrainingJob(s, 'train', { image: image({}, ctx) }))).toThrow(
      joinRegExp(
        /TrainingJob 'test\/train': image.command is not set and no workload runs the image with /,
        /a command, so its CMD would be \["python","app.py"\], but the build context .* has no /,
        /app.py, got undefined\. Fix: pass command: \['python', '<your script>.py'\]/,
      ),
    );
    // A workload's command, or the option, is enough.
    expect(() => synthStack((s) => new TrainingJob(s, 'train', { image: image({}, ctx), command: ['python', 'train.py'] }))).not.toThrow();
    expect(() => synthStack((s) => new TrainingJob(s, 'train', { image: image({ command: ['python', 'train.py'] }, ctx) }))).not.toThrow();
  });
});

describe('no secret in any image, whichever builder reads or ignores the .dockerignore', () => {
  test('the final stage copies the code from a stage deleting exactly the .dockerignore patterns; only requirements come from the context', () => {
    const out = synthStack(
      (s) =>
        new InferenceService(s, 'api', {
          image: PythonImage.fromDirectory(pythonContext(), {
            repository: 'registry.example.com/team/api',
            tag: '1.2.3',
            ignore: ['data/raw', '!data/raw/README.md'],
          }),
        }),
    );
    const dockerfile = out.dockerfile('api');
    const facts = dockerfileFacts(dockerfile);
    // GIVEN the two stages
    const froms = facts.instructions.map((i, n) => (i.keyword === 'FROM' ? n : -1)).filter((n) => n >= 0);
    expect(froms).toHaveLength(2);
    const context = facts.instructions.slice(froms[0], froms[1]);
    const final = finalStage(dockerfile);
    expect(context[0]).toEqual({ keyword: 'FROM', args: '${PYTHON_IMAGE} AS clean-context' });
    // THEN the context stage deletes what the .dockerignore lists, in its order (one list for both)
    const patterns = out.files
      .get('images/api/Dockerfile.dockerignore')!
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(patterns).toEqual(expect.arrayContaining(['**/.env', '**/*.pem', '**/id_rsa*', 'data/raw', '!data/raw/README.md']));
    const del = dockerfileFacts(`FROM x\n${dockerfile.slice(dockerfile.indexOf('RUN ["python", "-c"'))}`).instructions[1];
    const argv = JSON.parse(del.args) as string[];
    expect(argv.slice(0, 2)).toEqual(['python', '-c']);
    expect(argv.slice(3)).toEqual(patterns);
    // AND the final stage takes from the build context only the requirements file, the rest from the cleaned stage
    const copies = final.filter((k) => /^(COPY|ADD) /.test(k));
    expect(copies).toEqual(['COPY requirements.txt ./requirements.txt', 'COPY --from=clean-context /context/ ./']);
  });

  test('no stage has a name BuildKit reserves (context, scratch: build check ReservedStageName)', () => {
    const out = synthStack(
      (s) =>
        new InferenceService(s, 'api', {
          image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/team/api', tag: '1.2.3' }),
        }),
    );
    const stages = dockerfileFacts(out.dockerfile('api'))
      .instructions.filter((i) => i.keyword === 'FROM')
      .map((i) => / AS (\S+)$/i.exec(i.args)?.[1])
      .filter((s): s is string => s !== undefined);
    expect(stages).toEqual(['clean-context']);
    for (const stage of stages) expect(['context', 'scratch']).not.toContain(stage.toLowerCase());
  });
});
