import { checkDockerfile, checkDockerignore, dockerfileFacts, isDockerignored } from '../../lib/check/dockerfile';
import { DOCKERFILE_CASES, DOCKERIGNORE_CASES, GOOD_DOCKERFILE, GOOD_DOCKERIGNORE } from './fixtures';

describe('checkDockerfile', () => {
  it('accepts the good Dockerfile', () => {
    expect(checkDockerfile(GOOD_DOCKERFILE)).toEqual([]);
  });

  it('accepts a multi-stage build whose later FROM names an earlier stage', () => {
    const text = [
      'ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm',
      'FROM ${PYTHON_IMAGE} AS build',
      'RUN python -m venv /venv',
      'FROM build AS test',
      'RUN true',
      'FROM ${PYTHON_IMAGE}',
      'COPY --from=build /venv /venv',
      'USER 10001',
      'CMD ["python"]',
      '',
    ].join('\n');
    expect(checkDockerfile(text)).toEqual([]);
  });

  it.each(Object.values(DOCKERFILE_CASES).flat())('%s', (_name, text, expected) => {
    expect(checkDockerfile(text)).toContainEqual(expect.stringMatching(expected));
  });
});

describe('dockerfileFacts', () => {
  it('summarizes the good Dockerfile', () => {
    expect(dockerfileFacts(GOOD_DOCKERFILE)).toEqual({
      baseArgs: [{ name: 'PYTHON_IMAGE', default: 'python:3.12.8-slim-bookworm' }],
      from: ['${PYTHON_IMAGE}'],
      user: { uid: 10001, gid: 10001 },
      exposes: [8080],
      env: { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      instructions: [
        { keyword: 'ARG', args: 'PYTHON_IMAGE=python:3.12.8-slim-bookworm' },
        { keyword: 'FROM', args: '${PYTHON_IMAGE}' },
        { keyword: 'ENV', args: 'PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1' },
        { keyword: 'WORKDIR', args: '/app' },
        { keyword: 'COPY', args: 'requirements.txt ./' },
        { keyword: 'RUN', args: 'python -m pip install --no-cache-dir -r requirements.txt' },
        { keyword: 'COPY', args: '. .' },
        { keyword: 'USER', args: '10001:10001' },
        { keyword: 'EXPOSE', args: '8080' },
        { keyword: 'CMD', args: '["gunicorn", "--bind", "0.0.0.0:8080", "app:app"]' },
      ],
      cmd: ['gunicorn', '--bind', '0.0.0.0:8080', 'app:app'],
      entrypoint: undefined,
    });
  });

  it('handles flags, continuations, shell-form CMD, ENTRYPOINT and a uid-only USER', () => {
    const facts = dockerfileFacts(
      [
        'ARG BASE=debian:12.8-slim',
        'FROM ${BASE}',
        'COPY --chown=10001:10001 app /app',
        'RUN apt-get update \\',
        '    && apt-get install -y curl',
        'EXPOSE 8501/tcp 8500',
        'USER 10001',
        'ENTRYPOINT ["/usr/bin/tini", "--"]',
        'CMD serve --port 8501',
        '',
      ].join('\n'),
    );
    expect(facts.user).toEqual({ uid: 10001 });
    expect(facts.exposes).toEqual([8501, 8500]);
    expect(facts.instructions[2]).toEqual({ keyword: 'COPY', args: '--chown=10001:10001 app /app' });
    expect(facts.instructions[3]).toEqual({ keyword: 'RUN', args: 'apt-get update && apt-get install -y curl' });
    expect(facts.entrypoint).toEqual(['/usr/bin/tini', '--']);
    expect(facts.cmd).toEqual(['/bin/sh', '-c', 'serve --port 8501']);
  });

  it('has no user for a non-numeric USER', () => {
    expect(dockerfileFacts(GOOD_DOCKERFILE.replace('USER 10001:10001', 'USER app')).user).toBeUndefined();
  });
});

describe('checkDockerignore', () => {
  it('accepts the good .dockerignore', () => {
    expect(checkDockerignore(GOOD_DOCKERIGNORE)).toEqual([]);
  });

  it.each(DOCKERIGNORE_CASES)('reports a missing %s', (_name, line, expected) => {
    const text = GOOD_DOCKERIGNORE.replace(line, '');
    expect(text).not.toEqual(GOOD_DOCKERIGNORE);
    expect(checkDockerignore(text)).toEqual([expect.stringMatching(new RegExp(`^dockerignore: ${expected.source}`))]);
  });

  it('only root-level *.pem is not enough', () => {
    expect(checkDockerignore(GOOD_DOCKERIGNORE.replace('**/*.pem', '*.pem'))).toEqual([
      'dockerignore: must exclude *.pem (also nested); not excluded: certs/server.pem',
    ]);
  });

  it('a later negation re-includes', () => {
    expect(checkDockerignore(`${GOOD_DOCKERIGNORE}!.env\n`)).toEqual([expect.stringMatching(/must exclude \.env/)]);
  });

  it('accepts venv instead of .venv, and excluding everything', () => {
    expect(checkDockerignore(GOOD_DOCKERIGNORE.replace('.venv', 'venv/'))).toEqual([]);
    expect(checkDockerignore('*\n!app\n!requirements.txt\n')).toEqual([]);
  });

  it('isDockerignored follows Docker pattern semantics', () => {
    expect(isDockerignored('*.pem', 'a.pem')).toBe(true);
    expect(isDockerignored('*.pem', 'x/a.pem')).toBe(false);
    expect(isDockerignored('**/*.pem', 'x/y/a.pem')).toBe(true);
    expect(isDockerignored('/build/', 'build/out.txt')).toBe(true);
    expect(isDockerignored('data?', 'data1')).toBe(true);
    expect(isDockerignored('data?', 'data12')).toBe(false);
    expect(isDockerignored('[ab].txt', 'b.txt')).toBe(true);
  });
});
