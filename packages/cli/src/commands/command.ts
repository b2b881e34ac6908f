import type { Io } from '../io.js';

export interface CommandArgs {
  readonly positionals: readonly string[];
  readonly json: boolean;
  readonly set: readonly string[];
  /** `--out file`: where a command that writes a file (report) puts it. */
  readonly out?: string | undefined;
  /** `autocap simulate`: number of draws, seed and the tornado metric. */
  readonly draws?: string | undefined;
  readonly seed?: string | undefined;
  readonly metric?: string | undefined;
  /** Gateway commands' string flags: config, host, port, name, models, expires-in-days, format. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** `autocap serve --demo`: add the built-in demo model. */
  readonly demo?: boolean;
}

export interface Command {
  readonly name: string;
  /** One line for `autocap --help`. */
  readonly summary: string;
  /** Full help for `autocap <name> --help`. */
  help(): string;
  run(args: CommandArgs, io: Io): number | Promise<number>;
}

/** Writes exactly one JSON document, the `--json` contract. */
export function printJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
