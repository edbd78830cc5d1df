/**
 * The `cdk8s-ml` command: `init` scaffolds a project, `check` runs the output check on files,
 * `render` prints a project's manifests as one stream (what the Argo CD plugin runs), `diff`
 * compares two outputs for review.
 */
import { CliIo, EXIT_FAILED, EXIT_USAGE, processIo, UsageError } from './_io';
import { runCheck, CHECK_HELP } from './check';
import { runDiff, DIFF_HELP } from './diff';
import { runInit, INIT_HELP } from './init';
import { runRender, RENDER_HELP } from './render';

const HELP = `Usage: cdk8s-ml <command> [options]

Commands:
  init [dir]        write a new cdk8s-ml project (TF Serving behind a Flask app, a test, Argo CD plugin)
  check PATH...     check synthesized output, YAML manifests, Dockerfiles or compose files
  render            synthesize the project in this directory and print its manifests as one YAML stream
  diff BASE HEAD    what changed between two outputs: objects, workloads, resources, network, hazards
                    (or diff --git REF: the base synthesized from a git ref)

Run 'cdk8s-ml <command> --help' for a command's options.
`;

interface Command {
  readonly run: (args: string[], io: CliIo) => number;
  readonly help: string;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  init: { run: runInit, help: INIT_HELP },
  check: { run: runCheck, help: CHECK_HELP },
  render: { run: runRender, help: RENDER_HELP },
  diff: { run: runDiff, help: DIFF_HELP },
};

/** Runs one command line; returns the exit code. Every failure is one clear line on stderr. */
export function main(argv: readonly string[], io: CliIo = processIo()): number {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(HELP);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${packageVersion()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr(`cdk8s-ml: unknown command "${name}"; the commands are ${Object.keys(COMMANDS).join(', ')} (cdk8s-ml --help).\n`);
    return EXIT_USAGE;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(command.help);
    return 0;
  }
  try {
    return command.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`cdk8s-ml ${name}: ${e.message} (cdk8s-ml ${name} --help)\n`);
      return EXIT_USAGE;
    }
    io.stderr(`cdk8s-ml ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_FAILED;
  }
}

function packageVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./_package').ownPackage() as { version: string }).version;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
