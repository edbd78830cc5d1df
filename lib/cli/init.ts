/**
 * `cdk8s-ml init [dir]`: a new project that works at once — `npm install`, `npx cdk8s synth`,
 * `npm test` and the Argo CD plugin — with a TfServingBackend behind a FlaskFrontend to start from.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliIo } from './_io';
import { ownPackage } from './_package';

export const INIT_HELP = `Usage: cdk8s-ml init [dir] [--name NAME] [--force]

Writes a cdk8s-ml project into dir (default: the current directory), which must be empty (a .git
directory is allowed) unless --force is given; --force overwrites the files init writes and keeps
every other file. NAME (default: the directory's name) names the stack, its namespace and images.

Writes: package.json (cdk8s-ml and its peers, @swc/core, cdk8s-cli, typescript, ts-node, jest), tsconfig.json,
cdk8s.yaml (a transpile-only app command), main.ts (TfServingBackend behind a FlaskFrontend),
web/ (the Flask app and its requirements), test/main.test.ts (output check, wiring, snapshot),
jest.config.js, .gitignore, README.md, argocd/ (the Argo CD plugin and repo-server patch) and
.github/workflows/manifest-diff.yml (a pull request's 'cdk8s-ml diff' posted as a comment).

Then: npm install && npx cdk8s synth && npm test
Any failure prints one line and exits with code 1.
`;

interface InitArgs {
  readonly dir: string;
  readonly name: string;
  readonly force: boolean;
}

const NAME_RE = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;

function fail(message: string): never {
  throw new Error(`${message} (cdk8s-ml init --help)`);
}

function parseArgs(args: readonly string[], cwd: string): InitArgs {
  let dir: string | undefined;
  let name: string | undefined;
  let force = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--force' || a === '-f') force = true;
    else if (a === '--name') name = args[++i] ?? fail('--name needs a value');
    else if (a.startsWith('-')) fail(`unknown option "${a}"`);
    else if (dir === undefined) dir = a;
    else fail(`one directory only, got "${dir}" and "${a}"`);
  }
  const target = path.resolve(cwd, dir ?? '.');
  const chosen = name ?? defaultName(target);
  if (!NAME_RE.test(chosen)) {
    fail(
      `project name ${JSON.stringify(chosen)} must be 1-40 lowercase letters, digits or '-', starting with a letter (it names a ` +
        `Kubernetes namespace and Service); pass --name`,
    );
  }
  return { dir: target, name: chosen, force };
}

/** The directory's name as a DNS label: `My_Project` -> `my-project`. */
function defaultName(dir: string): string {
  return (
    path
      .basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^[^a-z]+/, '')
      .replace(/-+$/, '')
      .slice(0, 40) || 'ml-app'
  );
}

/** The project's package.json: versions are the ones this release of cdk8s-ml is tested with. */
function packageJson(name: string): string {
  const own = ownPackage();
  const tested = (dep: string): string => own.devDependencies[dep] ?? own.peerDependencies[dep] ?? fail(`internal: no tested version of ${dep}`);
  const pick = (deps: readonly string[]) => Object.fromEntries(deps.map((d) => [d, tested(d)]));
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    scripts: {
      synth: 'cdk8s synth --check-upgrade false',
      test: 'tsc -p tsconfig.json && jest',
      check: 'cdk8s-ml check dist',
    },
    // What the app needs to run (the Argo CD plugin installs only these: npm ci --omit=dev).
    dependencies: { 'cdk8s-ml': `^${own.version}`, ...pick(['cdk8s', 'cdk8s-plus-28', 'constructs', '@swc/core']) },
    // ts-node for one-off scripts (npx ts-node scripts/x.ts); the app itself runs through
    // cdk8s-ml/register, which starts in a fraction of ts-node's time.
    devDependencies: pick(['cdk8s-cli', 'typescript', 'ts-node', 'jest', '@swc/jest', '@types/jest', '@types/node']),
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** Relative path -> content of every file init writes. */
export function scaffoldFiles(name: string): Map<string, string> {
  const own = ownPackage();
  const templates = path.join(own.dir, 'templates', 'init');
  const files = new Map<string, string>([['package.json', packageJson(name)]]);
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(templates, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      // npm never packs a file named .gitignore, so the template is stored as _gitignore.
      else files.set(child === '_gitignore' ? '.gitignore' : child, fs.readFileSync(path.join(templates, child), 'utf8').replace(/__NAME__/g, name));
    }
  };
  walk('');
  // The Argo CD plugin files are the package's own, not copies kept in the template.
  for (const f of ['plugin.yaml', 'repo-server-patch.yaml'])
    files.set(`argocd/${f}`, fs.readFileSync(path.join(own.dir, 'deploy', 'argocd', f), 'utf8'));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function checkTarget(dir: string, force: boolean): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) fail(`${dir} is a file, not a directory`);
  const present = fs.readdirSync(dir).filter((f) => f !== '.git');
  if (present.length > 0 && !force) {
    fail(
      `${dir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''}); choose an empty directory, or pass ` +
        `--force to write the project's files over it`,
    );
  }
}

export function runInit(args: string[], io: CliIo): number {
  const { dir, name, force } = parseArgs(args, io.cwd);
  checkTarget(dir, force);
  const files = scaffoldFiles(name);
  try {
    for (const [rel, content] of files) {
      const file = path.join(dir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
  } catch (e) {
    fail(`cannot write into ${dir}: ${(e as Error).message}`);
  }
  const shown = path.relative(io.cwd, dir) || '.';
  io.stdout(
    `Created ${name} in ${shown}: ${[...files.keys()].join(', ')}\n\nNext:\n${shown === '.' ? '' : `  cd ${shown}\n`}  npm install\n  ` +
      `npx cdk8s synth\n  npm test\n`,
  );
  return 0;
}
