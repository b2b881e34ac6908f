/** Failures the CLI expects, each with an exit code: 2 for anything the user can fix in their input. */
export type CliErrorCode = 'E_USAGE' | 'E_SCENARIO' | 'E_IO';

const EXIT_CODES: Record<CliErrorCode, number> = {
  E_USAGE: 2,
  E_SCENARIO: 2,
  E_IO: 2,
};

export class CliError extends Error {
  readonly exitCode: number;
  constructor(
    message: string,
    readonly code: CliErrorCode,
  ) {
    super(message);
    this.name = 'CliError';
    this.exitCode = EXIT_CODES[code];
  }
}
