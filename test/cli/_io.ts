import { CliIo } from '../../lib/cli/_io';

/** A CliIo that records what a command prints. */
export interface CapturedIo extends CliIo {
  readonly out: string[];
  readonly err: string[];
}

export function captureIo(cwd: string, stdin = ''): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return { cwd, out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), readStdin: () => stdin };
}
