/**
 * Checks for Dockerfiles and .dockerignore files: the ones PythonImage writes, or any other.
 *
 * `checkDockerfile` problems read `line <n>: <rule>: <message>` (or
 * `<rule>: <message>` for whole-file rules). Rule ids:
 *   dockerfile-utils   an Error/Warning diagnostic of dockerfile-utils' validator (syntax, unknown instruction, ...)
 *   base-image-arg     FROM must be `${ARG}` with the ARG declared before the first FROM and pinned by default
 *   user               the final stage must switch to a numeric non-root USER (uid or uid:gid)
 *   add-url            ADD of a URL (unverified download; use RUN curl + checksum or COPY)
 *   copy-secret        COPY/ADD of an obvious secret (id_rsa, *.pem, *.key, .env)
 *   reserved-stage-name  a stage named `context` or `scratch`, which BuildKit reserves
 * `checkDockerignore` problems read `dockerignore: <message>`.
 */
import type { Arg, Dockerfile, Instruction, JSONInstruction } from 'dockerfile-ast';
import { imageTagIssue } from './rules/pod-security';

/* eslint-disable @typescript-eslint/no-require-imports */
/** dockerfile-ast and dockerfile-utils load on first use: importing the library for its constructs should not pay for them. */
const parseDockerfile = (text: string): Dockerfile => (require('dockerfile-ast') as typeof import('dockerfile-ast')).DockerfileParser.parse(text);
const validate = (text: string): ReturnType<typeof import('dockerfile-utils').validate> =>
  (require('dockerfile-utils') as typeof import('dockerfile-utils')).validate(text);
/* eslint-enable @typescript-eslint/no-require-imports */

/** vscode-languageserver DiagnosticSeverity: 1 = Error, 2 = Warning, 3 = Information, 4 = Hint. */
const LSP_WARNING = 2;

export interface BaseArg {
  readonly name: string;
  /** undefined when declared without a default (`ARG PYTHON_IMAGE`). */
  readonly default: string | undefined;
}

export interface DockerfileUser {
  readonly uid: number;
  readonly gid?: number;
}

export interface DockerfileFacts {
  /** ARGs declared before the first FROM: the only ones FROM can use. */
  readonly baseArgs: BaseArg[];
  /** Image reference of every FROM, unexpanded (`${PYTHON_IMAGE}`, `builder`). */
  readonly from: string[];
  /** Last USER of the final stage, when numeric. */
  readonly user?: DockerfileUser;
  readonly exposes: number[];
  /** All ENV assignments, later ones overriding earlier ones. */
  readonly env: Record<string, string>;
  /** Every instruction in order; args is the raw text after the keyword (flags included, line continuations joined). */
  readonly instructions: { keyword: string; args: string }[];
  /** Last CMD: JSON form parsed; shell form as Docker runs it (`/bin/sh -c ...`). */
  readonly cmd?: string[];
  readonly entrypoint?: string[];
}

// ---------------------------------------------------------------------------
// Facts
// ---------------------------------------------------------------------------

/** Text after the keyword, flags included; toString() already joins line continuations. */
function argsText(i: Instruction): string {
  return i.toString().slice(i.getInstruction().length).replace(/\s+/g, ' ').trim();
}

function baseArgsOf(df: Dockerfile): BaseArg[] {
  return df.getInitialARGs().flatMap((a: Arg) => a.getProperties().map((p) => ({ name: p.getName(), default: p.getValue() ?? undefined })));
}

/** Instructions after the last FROM: what the shipped image is made of. */
function finalStage(df: Dockerfile): Instruction[] {
  const instructions = df.getInstructions();
  let start = 0;
  instructions.forEach((ins, idx) => {
    if (ins.getKeyword() === 'FROM') start = idx;
  });
  return instructions.slice(start);
}

export function parseUser(value: string): DockerfileUser | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(value.trim());
  if (!m) return undefined;
  return m[2] === undefined ? { uid: Number(m[1]) } : { uid: Number(m[1]), gid: Number(m[2]) };
}

function lastUserValue(df: Dockerfile): { value: string; line: number } | undefined {
  const users = finalStage(df).filter((i) => i.getKeyword() === 'USER');
  const last = users[users.length - 1];
  return last ? { value: argsText(last), line: last.getRange().start.line + 1 } : undefined;
}

function execForm(i: JSONInstruction | undefined): string[] | undefined {
  if (!i) return undefined;
  const json = i.getJSONStrings();
  if (json.length > 0 || argsText(i).startsWith('[')) return json.map((j) => j.getJSONValue());
  return ['/bin/sh', '-c', argsText(i)];
}

function exposedPorts(df: Dockerfile): number[] {
  return df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'EXPOSE')
    .flatMap((i) => i.getArguments().map((a) => Number(a.getValue().split('/')[0])));
}

function envOf(df: Dockerfile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of df.getENVs()) for (const p of e.getProperties()) env[p.getName()] = p.getValue() ?? '';
  return env;
}

export function dockerfileFacts(text: string): DockerfileFacts {
  const df = parseDockerfile(text);
  const user = lastUserValue(df);
  const cmds = df.getCMDs();
  const entrypoints = df.getENTRYPOINTs();
  return {
    baseArgs: baseArgsOf(df),
    from: df.getFROMs().map((f) => f.getImage() ?? ''),
    ...(user && parseUser(user.value) ? { user: parseUser(user.value) } : {}),
    exposes: exposedPorts(df),
    env: envOf(df),
    instructions: df.getInstructions().map((i) => ({ keyword: i.getKeyword(), args: argsText(i) })),
    cmd: execForm(cmds[cmds.length - 1]),
    entrypoint: execForm(entrypoints[entrypoints.length - 1]),
  };
}

// ---------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------

function utilsProblems(text: string): string[] {
  return validate(text)
    .filter((d) => d.severity !== undefined && d.severity <= LSP_WARNING)
    .map((d) => `line ${d.range.start.line + 1}: dockerfile-utils: ${d.message}`);
}

const ARG_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$|^\$([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Every FROM is `${ARG}` (or a previous stage): the base image is then
 * overridable with --build-arg for mirrors/air-gapped registries, and the
 * default pins the exact version we tested with.
 */
function baseImageProblems(df: Dockerfile): string[] {
  const problems: string[] = [];
  const args = new Map(baseArgsOf(df).map((a) => [a.name, a.default]));
  const stages = new Set<string>();
  for (const from of df.getFROMs()) {
    const line = from.getRange().start.line + 1;
    const image = from.getImage() ?? '';
    const stage = from.getBuildStage();
    if (!stages.has(image.toLowerCase())) problems.push(...fromArgProblems(image, args).map((m) => `line ${line}: base-image-arg: ${m}`));
    if (stage) stages.add(stage.toLowerCase());
  }
  if (df.getFROMs().length === 0) problems.push('base-image-arg: no FROM instruction');
  return problems;
}

function fromArgProblems(image: string, args: ReadonlyMap<string, string | undefined>): string[] {
  const m = ARG_REF.exec(image);
  if (!m) return [`FROM ${image} must reference a build ARG declared before the first FROM (ARG BASE_IMAGE=${image} then FROM \${BASE_IMAGE})`];
  const name = m[1] ?? m[2];
  if (!args.has(name)) return [`FROM ${image} uses ARG ${name}, which is not declared before the first FROM`];
  const def = args.get(name);
  if (def === undefined || def === '') return [`ARG ${name} used by FROM has no default image`];
  const issue = imageTagIssue(def);
  return issue ? [`ARG ${name} default: ${issue}`] : [];
}

function userProblems(df: Dockerfile): string[] {
  const user = lastUserValue(df);
  if (!user) return ['user: the final stage has no USER instruction, so the image runs as root'];
  const parsed = parseUser(user.value);
  if (!parsed) return [`line ${user.line}: user: USER ${user.value} must be numeric (uid or uid:gid) so Kubernetes runAsNonRoot can verify it`];
  if (parsed.uid === 0) return [`line ${user.line}: user: USER ${user.value} runs as root (uid 0)`];
  return [];
}

const SECRET_BASENAME = /^(id_rsa|id_dsa|id_ecdsa|id_ed25519)(\.pub)?$|\.(pem|key|p12|pfx)$|^\.env(\..+)?$/i;

/** Source arguments of COPY/ADD (everything but the destination); JSON form included. */
function copySources(i: Instruction): string[] {
  const json = (i as JSONInstruction).getJSONStrings?.() ?? [];
  const values = json.length > 0 ? json.map((j) => j.getJSONValue()) : i.getArguments().map((a) => a.getValue());
  return values.slice(0, -1);
}

function copyProblems(df: Dockerfile): string[] {
  const problems: string[] = [];
  for (const i of df.getInstructions()) {
    const keyword = i.getKeyword();
    if (keyword !== 'COPY' && keyword !== 'ADD') continue;
    const line = i.getRange().start.line + 1;
    for (const src of copySources(i)) {
      if (keyword === 'ADD' && /^(https?|git|ssh):\/\/|^git@/.test(src)) {
        problems.push(`line ${line}: add-url: ADD ${src} downloads without checksum verification; use RUN with a checksum, or COPY`);
      }
      const base = src.replace(/\/+$/, '').split('/').pop() ?? src;
      if (SECRET_BASENAME.test(base)) problems.push(`line ${line}: copy-secret: ${keyword} ${src} copies a secret into the image`);
    }
  }
  return problems;
}

/**
 * Stage names BuildKit reserves: build check ReservedStageName (Docker 27+, moby/buildkit
 * frontend/dockerfile/docs/rules/reserved-stage-name.md, docs.docker.com/reference/build-checks/
 * reserved-stage-name/). `scratch` is the empty image and `context` the build context in
 * `--build-context`/`FROM`/`COPY --from`; a stage of that name is a warning by default and fails the
 * build under `# check=error=true`. Stage names are case-insensitive (BuildKit lower-cases them).
 */
const RESERVED_STAGE_NAMES: ReadonlySet<string> = new Set(['context', 'scratch']);

function reservedStageProblems(df: Dockerfile): string[] {
  return df.getFROMs().flatMap((from) => {
    const stage = from.getBuildStage();
    if (!stage || !RESERVED_STAGE_NAMES.has(stage.toLowerCase())) return [];
    const line = from.getRange().start.line + 1;
    return [
      `line ${line}: reserved-stage-name: '${stage}' is reserved by BuildKit and should not be used as a stage name` +
        ' (ReservedStageName); rename the stage',
    ];
  });
}

/** All problems of one Dockerfile; empty = OK. */
export function checkDockerfile(text: string): string[] {
  const df = parseDockerfile(text);
  return [...utilsProblems(text), ...baseImageProblems(df), ...userProblems(df), ...copyProblems(df), ...reservedStageProblems(df)];
}

// ---------------------------------------------------------------------------
// .dockerignore
// ---------------------------------------------------------------------------

/** Paths that must never reach the build context, with what they stand for. */
const MUST_EXCLUDE: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['.git', ['.git', '.git/config']],
  ['.env', ['.env']],
  ['*.pem (also nested)', ['server.pem', 'certs/server.pem']],
  ['id_rsa (also nested)', ['id_rsa', '.ssh/id_rsa']],
  ['__pycache__', ['__pycache__', '__pycache__/app.cpython-312.pyc']],
];
/** Either name of a Python virtualenv is enough. */
const VENV_PATHS: readonly string[] = ['.venv', 'venv'];

interface IgnoreRule {
  readonly negate: boolean;
  readonly re: RegExp;
}

/**
 * One .dockerignore pattern -> RegExp, following moby/patternmatcher: the
 * pattern is cleaned (leading '/' and './' dropped), `**` spans directories,
 * `*` and `?` stay within one path segment.
 */
export function dockerignorePatternToRegExp(pattern: string): RegExp {
  const p = pattern.replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === '*' && p[i + 1] === '*') {
      const slash = p[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\' && i + 1 < p.length) re += `\\${p[++i]}`;
    else if (ch === '[') {
      const end = p.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${p
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) =>
      l.startsWith('!')
        ? { negate: true, re: dockerignorePatternToRegExp(l.slice(1).trim()) }
        : { negate: false, re: dockerignorePatternToRegExp(l) },
    );
}

/** A path is excluded when the last rule matching it, or one of its parent directories, is not a negation. */
export function isDockerignored(text: string, filePath: string): boolean {
  const rules = parseDockerignore(text);
  const parts = filePath.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const rule of rules) {
    if (candidates.some((c) => rule.re.test(c))) excluded = !rule.negate;
  }
  return excluded;
}

/**
 * Problems of one .dockerignore, as `dockerignore: <message>`; empty = OK. Without these
 * exclusions `COPY . .` bakes the git history, keys and local virtualenvs into the image.
 */
export function checkDockerignore(text: string): string[] {
  const problems: string[] = [];
  for (const [what, paths] of MUST_EXCLUDE) {
    const missed = paths.filter((p) => !isDockerignored(text, p));
    if (missed.length > 0) problems.push(`dockerignore: must exclude ${what}; not excluded: ${missed.join(', ')}`);
  }
  if (!VENV_PATHS.some((p) => isDockerignored(text, p))) problems.push(`dockerignore: must exclude a virtualenv (${VENV_PATHS.join(' or ')})`);
  return problems;
}
