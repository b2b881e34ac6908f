/**
 * Who may do what through the admin API: one explicit table of actions by roles, the fields each
 * role may write, and the rule that no key mints (or edits into being) a key with more rights
 * than its own. Pure functions over the principal: the routes ask, this answers with the message
 * the client sees.
 *
 * Roles rank admin > team_admin > user; the master key is an admin without a key record.
 */
import type { Principal } from '../auth/keys.js';
import {
  type DataClass,
  type KeyRole,
  LIMIT_FIELDS,
  type Limits,
  type TeamRecord,
} from '../store/governance-types.js';

export type AdminAction =
  | 'teams.create'
  | 'teams.list'
  | 'teams.read'
  | 'teams.update'
  | 'keys.create'
  | 'keys.list'
  | 'keys.update'
  | 'keys.revoke'
  | 'usage.read';

/** What a role reaches with an action: everything, its own team, its own key, or nothing. */
export type Reach = 'any' | 'own_team' | 'self' | 'none';

export const ADMIN_ACTIONS: readonly AdminAction[] = [
  'teams.create',
  'teams.list',
  'teams.read',
  'teams.update',
  'keys.create',
  'keys.list',
  'keys.update',
  'keys.revoke',
  'usage.read',
];

// biome-ignore format: the matrix, read as a table
export const MATRIX: Readonly<Record<AdminAction, Readonly<Record<KeyRole, Reach>>>> = {
  'teams.create': { admin: 'any', team_admin: 'none',     user: 'none' },
  'teams.list':   { admin: 'any', team_admin: 'own_team', user: 'none' },
  'teams.read':   { admin: 'any', team_admin: 'own_team', user: 'none' },
  'teams.update': { admin: 'any', team_admin: 'none',     user: 'none' },
  'keys.create':  { admin: 'any', team_admin: 'own_team', user: 'none' },
  'keys.list':    { admin: 'any', team_admin: 'own_team', user: 'self' },
  'keys.update':  { admin: 'any', team_admin: 'own_team', user: 'none' },
  'keys.revoke':  { admin: 'any', team_admin: 'own_team', user: 'self' },
  'usage.read':   { admin: 'any', team_admin: 'own_team', user: 'self' },
};

export const RANK: Readonly<Record<KeyRole, number>> = { user: 1, team_admin: 2, admin: 3 };

/** Fields of a key a body may carry (API names). */
export type KeyField =
  | 'name'
  | 'team_id'
  | 'role'
  | 'allowed_models'
  | 'expires_at'
  | 'metadata'
  | 'limits'
  | 'data_class';

/** What each role may write when creating or updating a key. Anything else is refused (403). */
// biome-ignore format: read as a table
export const WRITABLE: Readonly<Record<'keys.create' | 'keys.update', Readonly<Record<KeyRole, readonly KeyField[]>>>> = {
  'keys.create': {
    admin:      ['name', 'team_id', 'role', 'allowed_models', 'expires_at', 'metadata', 'limits', 'data_class'],
    team_admin: ['name', 'team_id', 'role', 'allowed_models', 'expires_at', 'metadata', 'limits', 'data_class'],
    user:       [],
  },
  'keys.update': {
    admin:      ['name', 'team_id', 'role', 'allowed_models', 'expires_at', 'metadata', 'limits', 'data_class'],
    team_admin: ['name', 'role', 'allowed_models', 'expires_at', 'metadata', 'limits', 'data_class'],
    user:       [],
  },
};

/** Fields nobody may change on their own key: the key that holds a right cannot widen it. */
const SELF_LOCKED: Readonly<Record<KeyRole, readonly KeyField[]>> = {
  admin: ['role', 'team_id'],
  team_admin: ['role', 'team_id', 'limits', 'allowed_models', 'expires_at', 'data_class'],
  user: ['role', 'team_id', 'limits', 'allowed_models', 'expires_at', 'data_class'],
};

export type Decision = { readonly ok: true } | { readonly ok: false; readonly message: string };

const ALLOWED: Decision = { ok: true };
const refuse = (message: string): Decision => ({ ok: false, message });

/** The thing acted on: a team, or a key (with its team and role). */
export interface Target {
  readonly teamId: string | null;
  readonly keyId?: string;
  readonly role?: KeyRole;
}

function describeActor(actor: Principal): string {
  return actor.isMaster ? 'the master key' : `key ${actor.keyId} (${actor.role})`;
}

/** May `actor` do `action` at all (before any target is known)? */
export function mayAttempt(actor: Principal, action: AdminAction): Decision {
  if (MATRIX[action][actor.role] === 'none') {
    return refuse(`${describeActor(actor)} may not ${action.replace('.', ' ')}: its role does not allow it.`);
  }
  return ALLOWED;
}

/** May `actor` do `action` on `target`? */
export function authorize(actor: Principal, action: AdminAction, target: Target): Decision {
  const reach = MATRIX[action][actor.role];
  const denied = refuse(
    `${describeActor(actor)} may not ${action.replace('.', ' ')} here: ${REACH_TEXT[reach]}.`,
  );
  if (reach === 'none') return denied;
  if (reach === 'own_team' && (actor.team === null || target.teamId !== actor.team.id)) return denied;
  if (reach === 'self' && target.keyId !== actor.keyId) return denied;
  if (
    (action === 'keys.update' || action === 'keys.revoke') &&
    target.role &&
    RANK[target.role] > RANK[actor.role]
  ) {
    return refuse(
      `${describeActor(actor)} may not ${action.replace('.', ' ')} a key of role ${target.role}, which outranks it.`,
    );
  }
  return ALLOWED;
}

const REACH_TEXT: Readonly<Record<Reach, string>> = {
  any: 'allowed',
  own_team: 'it reaches only keys and usage of its own team',
  self: 'it reaches only itself',
  none: 'its role does not allow it',
};

/** Fields a body may not carry for this actor and action (on its own key, when `self`). */
export function forbiddenFields(
  actor: Principal,
  action: 'keys.create' | 'keys.update',
  fields: readonly KeyField[],
  self: boolean,
): Decision {
  const writable = WRITABLE[action][actor.role];
  const locked = self ? SELF_LOCKED[actor.role] : [];
  const bad = fields.filter((field) => !writable.includes(field) || locked.includes(field));
  if (bad.length === 0) return ALLOWED;
  const where = self ? ' on its own key' : '';
  return refuse(`${describeActor(actor)} may not set ${bad.join(', ')}${where}.`);
}

/** The rights a created or updated key would have, field by field (absent: unchanged). */
export interface KeyRights {
  readonly role?: KeyRole;
  readonly teamId?: string | null;
  readonly allowedModels?: readonly string[] | null;
  readonly limits?: Partial<Limits>;
  readonly dataClass?: DataClass | null;
  readonly expiresAtMs?: number | null;
}

/**
 * A key may not give any key more rights than its own: a role that outranks it, another team
 * (team admins), models it may not call, a budget or limit above its own (or its team's, for team
 * admins) or none where it has one, no data class where it is private, or a later expiry.
 * The master key has no such bound.
 */
export function checkRights(actor: Principal, rights: KeyRights): Decision {
  if (actor.isMaster) return ALLOWED;
  const who = describeActor(actor);
  if (rights.role !== undefined && RANK[rights.role] > RANK[actor.role]) {
    return refuse(`${who} may not grant role ${rights.role}, which outranks its own.`);
  }
  if (rights.teamId !== undefined && actor.role === 'team_admin' && rights.teamId !== actor.team?.id) {
    return refuse(`${who} may only place keys in its own team (${actor.team?.id ?? 'none'}).`);
  }
  if (rights.allowedModels !== undefined && actor.allowedModels !== null) {
    const outside =
      rights.allowedModels === null
        ? ['every model']
        : rights.allowedModels.filter((model) => !actor.allowedModels?.includes(model));
    if (outside.length > 0)
      return refuse(
        `${who} may not grant ${outside.join(', ')}: it may call only ${actor.allowedModels.join(', ')}.`,
      );
  }
  for (const field of LIMIT_FIELDS) {
    const value = rights.limits?.[field];
    if (value === undefined) continue;
    for (const [bound, whose] of boundsFor(actor, field)) {
      if (value === null || value > bound) {
        return refuse(
          `${who} may not set ${LIMIT_NAMES[field]} to ${value === null ? 'none' : value}: ${whose} is ${bound}.`,
        );
      }
    }
  }
  if (rights.dataClass !== undefined && actor.dataClass === 'private' && rights.dataClass !== 'private') {
    return refuse(`${who} is private and may only make private keys (data_class: private).`);
  }
  if (rights.expiresAtMs !== undefined && actor.expiresAtMs !== null) {
    if (rights.expiresAtMs === null || rights.expiresAtMs > actor.expiresAtMs) {
      return refuse(
        `${who} expires at ${new Date(actor.expiresAtMs).toISOString()}; a key it makes may not outlive it.`,
      );
    }
  }
  return ALLOWED;
}

/** The caps on one limit field: the actor's own, and its team's for team admins. */
function boundsFor(actor: Principal, field: keyof Limits): [number, string][] {
  const bounds: [number, string][] = [];
  const own = actor.limits[field];
  if (own !== null) bounds.push([own, 'its own']);
  const team: TeamRecord | null = actor.role === 'team_admin' ? actor.team : null;
  const teams = team?.limits[field] ?? null;
  if (teams !== null) bounds.push([teams, `team ${team?.name}'s`]);
  return bounds;
}

export const LIMIT_NAMES: Readonly<Record<keyof Limits, string>> = {
  budgetDailyUsd: 'budget_daily_usd',
  budgetMonthlyUsd: 'budget_monthly_usd',
  budgetTotalUsd: 'budget_total_usd',
  rpm: 'rpm',
  tpm: 'tpm',
  maxConcurrent: 'max_concurrent',
};

/**
 * Defaults for a key an actor creates: its own bounds, so the new key stays inside them. (A team
 * admin's keys join its team, whose budgets then apply to them anyway.)
 */
export function inheritedRights(actor: Principal): KeyRights {
  if (actor.isMaster) return {};
  const limits: { -readonly [Field in keyof Limits]?: number } = {};
  for (const field of LIMIT_FIELDS) {
    const own = actor.limits[field];
    if (own !== null) limits[field] = own;
  }
  return {
    allowedModels: actor.allowedModels,
    limits,
    ...(actor.dataClass === 'private' ? { dataClass: 'private' as const } : {}),
    ...(actor.expiresAtMs !== null ? { expiresAtMs: actor.expiresAtMs } : {}),
    ...(actor.role === 'team_admin' && actor.team ? { teamId: actor.team.id } : {}),
  };
}
