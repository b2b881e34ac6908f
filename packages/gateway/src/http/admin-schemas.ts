/**
 * Bodies and answers of the admin API (`/admin/teams`, `/admin/keys`, `/admin/usage`), in the
 * API's snake_case. Bodies are strict: an unknown field (`is_master`, `created_by`, a typo) is a
 * 400 naming it, never ignored. Which known fields a caller may send is decided by
 * governance/authorization.ts.
 */
import { z } from 'zod';
import type { KeyField } from '../governance/authorization.js';
import { type Limits, NO_LIMITS, type TeamRecord, type UsageRow } from '../store/governance-types.js';
import type { VirtualKeyRecord } from '../store/store.js';
import { GatewayError } from './gateway-error.js';

const usd = z.number().finite().min(0).max(1e9);
const perMinute = z.number().int().min(1).max(1e12);
const name = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

const limitFields = {
  budget_daily_usd: usd.nullable(),
  budget_monthly_usd: usd.nullable(),
  budget_total_usd: usd.nullable(),
  rpm: perMinute.nullable(),
  tpm: perMinute.nullable(),
  max_concurrent: z.number().int().min(1).max(1e6).nullable(),
};
const LIMIT_API_FIELDS = [
  ['budget_daily_usd', 'budgetDailyUsd'],
  ['budget_monthly_usd', 'budgetMonthlyUsd'],
  ['budget_total_usd', 'budgetTotalUsd'],
  ['rpm', 'rpm'],
  ['tpm', 'tpm'],
  ['max_concurrent', 'maxConcurrent'],
] as const;

const dataClass = z.literal('private').nullable();

export const TeamBody = z.strictObject({ name, ...limitFields, data_class: dataClass }).partial();
export type TeamBody = z.infer<typeof TeamBody>;

export const KeyBody = z
  .strictObject({
    name,
    team_id: z.string().max(100).nullable(),
    role: z.enum(['admin', 'team_admin', 'user']),
    allowed_models: z.array(z.string().min(1).max(256)).max(1000).nullable(),
    /** ISO 8601 instant, or null for never. */
    expires_at: z.iso.datetime({ offset: true }).nullable(),
    expires_in_days: z.number().positive().max(36_500),
    metadata: z.record(z.string().max(256), z.string().max(4096)).nullable(),
    ...limitFields,
    data_class: dataClass,
  })
  .partial();
export type KeyBody = z.infer<typeof KeyBody>;

/** Parses a body, or throws a 400 naming the first bad or unknown field. */
export function parseBody<Schema extends z.ZodType>(
  schema: Schema,
  body: unknown,
  what: string,
): z.infer<Schema> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => `\`${key}\``).join(', ');
    throw new GatewayError(
      'invalid_request',
      `Unknown field ${keys} in the ${what}: it cannot be set here.`,
      {
        param: issue.keys[0],
      },
    );
  }
  const param = issue?.path.map(String).join('.') ?? '';
  throw new GatewayError(
    'invalid_request',
    param === ''
      ? `The ${what} must be a JSON object: ${issue?.message ?? 'it is invalid'}.`
      : `\`${param}\` in the ${what}: ${issue?.message ?? 'is invalid'}.`,
    param === '' ? {} : { param },
  );
}

/** The limits a body sets (absent fields stay absent; null clears). */
export function limitsOf(body: TeamBody | KeyBody): Partial<Limits> {
  const limits: { -readonly [Field in keyof Limits]?: number | null } = {};
  for (const [apiField, field] of LIMIT_API_FIELDS) {
    const value = body[apiField];
    if (value !== undefined) limits[field] = value;
  }
  return limits;
}

/** Each body field under the name authorization knows it by. */
const KEY_FIELD_OF: Readonly<Record<keyof KeyBody, KeyField>> = {
  name: 'name',
  team_id: 'team_id',
  role: 'role',
  allowed_models: 'allowed_models',
  expires_at: 'expires_at',
  expires_in_days: 'expires_at',
  metadata: 'metadata',
  budget_daily_usd: 'limits',
  budget_monthly_usd: 'limits',
  budget_total_usd: 'limits',
  rpm: 'limits',
  tpm: 'limits',
  max_concurrent: 'limits',
  data_class: 'data_class',
};

/** The key fields (authorization names) a body carries. */
export function keyFieldsOf(body: KeyBody): KeyField[] {
  const fields = new Set<KeyField>();
  for (const [field, mapped] of Object.entries(KEY_FIELD_OF)) {
    if (Object.hasOwn(body, field)) fields.add(mapped);
  }
  return [...fields];
}

/** `expires_at` or `expires_in_days` as epoch ms; undefined when the body sets neither. */
export function expiryOf(body: KeyBody, nowMs: number): number | null | undefined {
  if (body.expires_in_days !== undefined) {
    if (body.expires_at !== undefined) {
      throw new GatewayError('invalid_request', 'Send `expires_at` or `expires_in_days`, not both.', {
        param: 'expires_in_days',
      });
    }
    return nowMs + Math.round(body.expires_in_days * 86_400_000);
  }
  if (body.expires_at === undefined) return undefined;
  return body.expires_at === null ? null : Date.parse(body.expires_at);
}

const instant = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function limitsJson(limits: Limits): Record<string, number | null> {
  return Object.fromEntries(LIMIT_API_FIELDS.map(([apiField, field]) => [apiField, limits[field]]));
}

export function teamJson(team: TeamRecord): Record<string, unknown> {
  return {
    id: team.id,
    object: 'team',
    name: team.name,
    created_at: instant(team.createdAtMs),
    ...limitsJson(team.limits),
    data_class: team.dataClass,
  };
}

/** A key as the API shows it: never its hash. */
export function keyJson(key: VirtualKeyRecord): Record<string, unknown> {
  return {
    id: key.id,
    object: 'key',
    name: key.name,
    team_id: key.teamId ?? null,
    role: key.role ?? 'user',
    allowed_models: key.allowedModels,
    created_at: instant(key.createdAtMs),
    expires_at: instant(key.expiresAtMs),
    revoked: key.revoked,
    metadata: key.metadata ?? {},
    ...limitsJson(key.limits ?? NO_LIMITS),
    data_class: key.dataClass ?? null,
    created_by: key.createdBy ?? null,
  };
}

export function usageJson(row: UsageRow): Record<string, unknown> {
  return {
    group: row.group,
    requests: row.requests,
    attempts: row.attempts,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cost_usd: row.costUsd,
  };
}
