/**
 * Flags shared by `autocap teams` and `autocap keys`: budgets in USD, limits per minute, the data
 * class, the role. Each bad value is refused with the flag's name and what it expects.
 */
import type { GatewayStore, KeyRole, Limits, TeamRecord } from '@autocap/gateway';
import { CliError } from '../../cli-error.js';
import type { CommandArgs } from '../command.js';

const LIMIT_FLAGS = [
  ['budget-daily-usd', 'budgetDailyUsd', 'USD'],
  ['budget-monthly-usd', 'budgetMonthlyUsd', 'USD'],
  ['budget-total-usd', 'budgetTotalUsd', 'USD'],
  ['rpm', 'rpm', 'count'],
  ['tpm', 'tpm', 'count'],
  ['max-concurrent', 'maxConcurrent', 'count'],
] as const satisfies readonly (readonly [string, keyof Limits, 'USD' | 'count'])[];

export const GOVERNANCE_USAGE =
  '[--budget-daily-usd N] [--budget-monthly-usd N] [--budget-total-usd N] [--rpm N] [--tpm N] [--max-concurrent N] [--data-class private]';

/** The budgets and limits the flags set (absent flags are absent). */
export function limitFlags(args: CommandArgs): Partial<Limits> {
  const limits: { -readonly [Field in keyof Limits]?: number } = {};
  for (const [flag, field, kind] of LIMIT_FLAGS) {
    const text = args.flags?.[flag];
    if (text === undefined) continue;
    const value = Number(text);
    const valid =
      kind === 'USD' ? Number.isFinite(value) && value >= 0 : Number.isSafeInteger(value) && value >= 1;
    if (text.trim() === '' || !valid) {
      throw new CliError(
        `--${flag} is "${text}": expected ${kind === 'USD' ? 'an amount in US dollars, 0 or more (example: 50)' : 'a whole number, 1 or more (example: 600)'}`,
        'E_USAGE',
      );
    }
    limits[field] = value;
  }
  return limits;
}

export function dataClassFlag(args: CommandArgs): 'private' | undefined {
  const text = args.flags?.['data-class'];
  if (text === undefined) return undefined;
  if (text !== 'private')
    throw new CliError(`--data-class is "${text}": the only class is private`, 'E_USAGE');
  return 'private';
}

export function roleFlag(args: CommandArgs, roles: readonly KeyRole[]): KeyRole | undefined {
  const text = args.flags?.['role'];
  if (text === undefined) return undefined;
  const role = roles.find((candidate) => candidate === text);
  if (!role) throw new CliError(`--role is "${text}": expected one of ${roles.join(', ')}`, 'E_USAGE');
  return role;
}

/** `--team` by id or by name. */
export async function teamFlag(args: CommandArgs, store: GatewayStore): Promise<TeamRecord | undefined> {
  const text = args.flags?.['team'];
  if (text === undefined) return undefined;
  const teams = await store.governance.listTeams();
  const team = teams.find((candidate) => candidate.id === text || candidate.name === text);
  if (!team) {
    throw new CliError(
      `--team is "${text}": no team has that id or name (autocap teams list shows ${teams.length === 0 ? 'none yet: autocap teams create --name <name>' : 'them'})`,
      'E_USAGE',
    );
  }
  return team;
}

/** `$50.00`, `-` for none. */
export function money(value: number | null): string {
  return value === null ? '-' : `$${value.toFixed(2)}`;
}

/** A short summary of budgets and limits: `day $50.00, rpm 600`. */
export function limitsSummary(limits: Limits | undefined): string {
  if (!limits) return '-';
  const parts = [
    limits.budgetDailyUsd !== null ? `day ${money(limits.budgetDailyUsd)}` : '',
    limits.budgetMonthlyUsd !== null ? `month ${money(limits.budgetMonthlyUsd)}` : '',
    limits.budgetTotalUsd !== null ? `total ${money(limits.budgetTotalUsd)}` : '',
    limits.rpm !== null ? `rpm ${limits.rpm}` : '',
    limits.tpm !== null ? `tpm ${limits.tpm}` : '',
    limits.maxConcurrent !== null ? `concurrent ${limits.maxConcurrent}` : '',
  ].filter(Boolean);
  return parts.length === 0 ? '-' : parts.join(', ');
}
