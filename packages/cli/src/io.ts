import { readFileSync } from 'node:fs';

/** What commands may touch of the outside world; tests pass their own. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => string;
  /** Whether stdout is a terminal (progress bars, colour). */
  readonly isTty: boolean;
  /** Whether stderr is a terminal (the simulation progress bar). */
  readonly stderrIsTty?: boolean;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: (path) => readFileSync(path, 'utf8'),
  isTty: process.stdout.isTTY === true,
  stderrIsTty: process.stderr.isTTY === true,
};
