/**
 * Expected failures are values, not throws (zod's SafeParseResult shape).
 * econ throws only on bugs.
 */

/** Why a scenario was refused. Closed union: the CLI maps every code to a message style. */
export type IssueCode =
  | 'missing'
  | 'wrong_type'
  | 'out_of_range'
  | 'unknown_field'
  | 'unknown_reference'
  | 'invalid_value';

export interface Issue {
  readonly code: IssueCode;
  /** Dotted path of the offending field, e.g. `fleet.count` or `points.2.date`. */
  readonly path: string;
  /** One sentence naming the field, what was expected (type and unit) and an example. */
  readonly message: string;
}

export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly Issue[] };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(issues: readonly Issue[]): Result<T> {
  return { ok: false, issues };
}
