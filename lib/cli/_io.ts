import * as fs from 'node:fs';

/** What a subcommand may touch of its process: streams and the working directory (tests pass their own). */
export interface CliIo {
  readonly cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of standard input (for `check -`). */
  readStdin(): string;
}

export function processIo(): CliIo {
  return {
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: () => fs.readFileSync(0, 'utf8'),
  };
}

/** Exit codes of every subcommand: 0 done/clean, 1 failed/problems found, 2 the command line is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A command-line mistake: printed as one line with the subcommand's usage hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
