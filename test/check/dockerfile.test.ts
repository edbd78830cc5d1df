import { checkDockerfile, checkDockerignore, dockerfileFacts, isDockerignored } from '../_check/dockerfile';
import { GOOD_DOCKERFILE, GOOD_DOCKERIGNORE } from './fixtures';

/** The good Dockerfile with one line replaced (or removed when `to` is empty). */
function withLine(from: string, to: string): string {
  expect(GOOD_DOCKERFILE).toContain(from);
  return GOOD_DOCKERFILE.replace(`${from}\n`, to === '' ? '' : `${to}\n`);
}

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

  it.each<[string, string, RegExp]>([
    ['FROM not from an ARG', withLine('FROM ${PYTHON_IMAGE}', 'FROM python:3.12.8-slim-bookworm'), /^line 2: base-image-arg: FROM python:3\.12\.8-slim-bookworm must reference a build ARG declared before the first FROM/],
    ['ARG declared after FROM', withLine('ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm', '').replace('FROM ${PYTHON_IMAGE}\n', 'FROM ${PYTHON_IMAGE}\nARG PYTHON_IMAGE=python:3.12\n'), /base-image-arg: FROM \$\{PYTHON_IMAGE\} uses ARG PYTHON_IMAGE, which is not declared before the first FROM/],
    ['ARG without default', withLine('ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm', 'ARG PYTHON_IMAGE'), /base-image-arg: ARG PYTHON_IMAGE used by FROM has no default image/],
    ['ARG default latest', withLine('ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm', 'ARG PYTHON_IMAGE=python:latest'), /base-image-arg: ARG PYTHON_IMAGE default: image python:latest uses tag "latest"/],
    ['ARG default untagged', withLine('ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm', 'ARG PYTHON_IMAGE=python'), /base-image-arg: ARG PYTHON_IMAGE default: image python has no tag/],
    ['root USER', withLine('USER 10001:10001', 'USER 0:0'), /^line 8: user: USER 0:0 runs as root \(uid 0\)$/],
    ['no USER', withLine('USER 10001:10001', ''), /^user: the final stage has no USER instruction/],
    ['USER only in the build stage', GOOD_DOCKERFILE.replace('WORKDIR /app\n', 'USER 10001\nWORKDIR /app\n').replace('USER 10001:10001\n', 'FROM ${PYTHON_IMAGE}\n'), /^user: the final stage has no USER instruction/],
    ['non-numeric USER', withLine('USER 10001:10001', 'USER app'), /^line 8: user: USER app must be numeric \(uid or uid:gid\)/],
    ['unknown instruction', withLine('WORKDIR /app', 'WORKDIRR /app'), /^line 4: dockerfile-utils: Unknown instruction: WORKDIRR$/],
    ['missing argument', withLine('WORKDIR /app', 'WORKDIR'), /^line 4: dockerfile-utils: /],
    ['invalid EXPOSE port', withLine('EXPOSE 8080', 'EXPOSE http'), /^line 9: dockerfile-utils: .*/],
    ['ADD of a URL', withLine('COPY requirements.txt ./', 'ADD https://example.com/requirements.txt ./'), /^line 5: add-url: ADD https:\/\/example\.com\/requirements\.txt downloads without checksum verification/],
    ['COPY id_rsa', withLine('COPY requirements.txt ./', 'COPY id_rsa /root/.ssh/id_rsa'), /^line 5: copy-secret: COPY id_rsa copies a secret into the image$/],
    ['COPY a .pem among several sources', withLine('COPY requirements.txt ./', 'COPY requirements.txt certs/server.pem ./'), /^line 5: copy-secret: COPY certs\/server\.pem copies a secret/],
    ['COPY .env in JSON form', withLine('COPY requirements.txt ./', 'COPY [".env", "./"]'), /^line 5: copy-secret: COPY \.env copies a secret/],
  ])('%s', (_name, text, expected) => {
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
    const facts = dockerfileFacts([
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
    ].join('\n'));
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

  it.each<[string, string, RegExp]>([
    ['.git', '.git\n', /must exclude \.git; not excluded: \.git, \.git\/config/],
    ['.env', '.env\n', /must exclude \.env;/],
    ['*.pem', '**/*.pem\n', /must exclude \*\.pem \(also nested\); not excluded: server\.pem, certs\/server\.pem/],
    ['id_rsa', '**/id_rsa*\n', /must exclude id_rsa \(also nested\)/],
    ['__pycache__', '**/__pycache__\n', /must exclude __pycache__;/],
    ['venv', '.venv\n', /must exclude a virtualenv \(\.venv or venv\)/],
  ])('reports a missing %s', (_name, line, expected) => {
    const text = GOOD_DOCKERIGNORE.replace(line, '');
    expect(text).not.toEqual(GOOD_DOCKERIGNORE);
    expect(checkDockerignore(text)).toEqual([expect.stringMatching(new RegExp(`^dockerignore: ${expected.source}`))]);
  });

  it('only root-level *.pem is not enough', () => {
    expect(checkDockerignore(GOOD_DOCKERIGNORE.replace('**/*.pem', '*.pem'))).toEqual(['dockerignore: must exclude *.pem (also nested); not excluded: certs/server.pem']);
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
