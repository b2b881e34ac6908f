/**
 * The authorization matrix, exhaustively: every action for every role against every kind of
 * target, every writable field for every role on others' keys and on its own, and the rule that
 * no key grants more than it has. Expectations are written out here, not derived from the table.
 */
import { describe, expect, it } from 'vitest';
import { MASTER_PRINCIPAL, type Principal } from '../auth/keys.js';
import { type KeyRole, NO_LIMITS, type TeamRecord } from '../store/governance-types.js';
import {
  ADMIN_ACTIONS,
  type AdminAction,
  authorize,
  checkRights,
  forbiddenFields,
  inheritedRights,
  type KeyField,
  mayAttempt,
  type Target,
} from './authorization.js';

const team: TeamRecord = {
  id: 'team_t',
  name: 'research',
  createdAtMs: 0,
  limits: { ...NO_LIMITS, budgetDailyUsd: 50, rpm: 600 },
  dataClass: null,
};

function principal(role: KeyRole, overrides: Partial<Principal> = {}): Principal {
  return {
    keyId: `key_${role}`,
    isMaster: false,
    allowedModels: null,
    role,
    name: role,
    expiresAtMs: null,
    limits: NO_LIMITS,
    team: role === 'admin' ? null : team,
    ...overrides,
  };
}

type Relation = 'self' | 'own team' | 'other team' | 'no team';
const RELATIONS: readonly Relation[] = ['self', 'own team', 'other team', 'no team'];

function targetFor(actor: Principal, relation: Relation): Target {
  switch (relation) {
    case 'self':
      return { teamId: actor.team?.id ?? null, keyId: actor.keyId, role: actor.role };
    case 'own team':
      return { teamId: 'team_t', keyId: 'key_peer', role: 'user' };
    case 'other team':
      return { teamId: 'team_u', keyId: 'key_stranger', role: 'user' };
    case 'no team':
      return { teamId: null, keyId: 'key_loner', role: 'user' };
  }
}

// What each role may reach, written out: Y allowed, . refused (self, own team, other team, no team).
// biome-ignore format: read as a table
const EXPECTED: Readonly<Record<AdminAction, Readonly<Record<KeyRole, string>>>> = {
  'teams.create': { admin: 'YYYY', team_admin: '....', user: '....' },
  'teams.list':   { admin: 'YYYY', team_admin: 'YY..', user: '....' },
  'teams.read':   { admin: 'YYYY', team_admin: 'YY..', user: '....' },
  'teams.update': { admin: 'YYYY', team_admin: '....', user: '....' },
  'keys.create':  { admin: 'YYYY', team_admin: 'YY..', user: '....' },
  'keys.list':    { admin: 'YYYY', team_admin: 'YY..', user: 'Y...' },
  'keys.update':  { admin: 'YYYY', team_admin: 'YY..', user: '....' },
  'keys.revoke':  { admin: 'YYYY', team_admin: 'YY..', user: 'Y...' },
  'usage.read':   { admin: 'YYYY', team_admin: 'YY..', user: 'Y...' },
};

describe('authorization matrix', () => {
  for (const action of ADMIN_ACTIONS) {
    for (const role of ['admin', 'team_admin', 'user'] as const) {
      it(`${role}: ${action}`, () => {
        const actor = principal(role);
        const got = RELATIONS.map((relation) =>
          authorize(actor, action, targetFor(actor, relation)).ok ? 'Y' : '.',
        );
        expect(got.join('')).toBe(EXPECTED[action][role]);
        expect(mayAttempt(actor, action).ok).toBe(EXPECTED[action][role] !== '....');
      });
    }
    it(`master: ${action}`, () => {
      for (const relation of RELATIONS) {
        expect(authorize(MASTER_PRINCIPAL, action, targetFor(MASTER_PRINCIPAL, relation)).ok).toBe(true);
      }
    });
  }

  it('refuses a team admin acting on a key that outranks it, even in its team', () => {
    const actor = principal('team_admin');
    for (const action of ['keys.update', 'keys.revoke'] as const) {
      expect(authorize(actor, action, { teamId: 'team_t', keyId: 'key_boss', role: 'admin' })).toMatchObject({
        ok: false,
        message: expect.stringMatching(/role admin, which outranks it/),
      });
      expect(authorize(actor, action, { teamId: 'team_t', keyId: 'key_peer', role: 'team_admin' }).ok).toBe(
        true,
      );
    }
  });

  it('refuses a team admin without a team everything team-scoped', () => {
    const actor = principal('team_admin', { team: null });
    for (const relation of RELATIONS) {
      expect(authorize(actor, 'keys.create', targetFor(actor, relation)).ok).toBe(false);
    }
  });
});

const FIELDS: readonly KeyField[] = [
  'name',
  'team_id',
  'role',
  'allowed_models',
  'expires_at',
  'metadata',
  'limits',
  'data_class',
];

// Writable fields (Y) per role, in FIELDS order; on others' keys, then on its own key.
// biome-ignore format: read as a table
const WRITABLE_EXPECTED = {
  'keys.create': { admin: 'YYYYYYYY', team_admin: 'YYYYYYYY', user: '........' },
  'keys.update': { admin: 'YYYYYYYY', team_admin: 'Y.YYYYYY', user: '........' },
  'keys.update on itself': { admin: 'Y..YYYYY', team_admin: 'Y....Y..', user: '........' },
} as const;

describe('writable fields', () => {
  for (const role of ['admin', 'team_admin', 'user'] as const) {
    it(`${role}: which fields it may send`, () => {
      const actor = principal(role);
      const row = (action: 'keys.create' | 'keys.update', self: boolean) =>
        FIELDS.map((field) => (forbiddenFields(actor, action, [field], self).ok ? 'Y' : '.')).join('');
      expect(row('keys.create', false)).toBe(WRITABLE_EXPECTED['keys.create'][role]);
      expect(row('keys.update', false)).toBe(WRITABLE_EXPECTED['keys.update'][role]);
      expect(row('keys.update', true)).toBe(WRITABLE_EXPECTED['keys.update on itself'][role]);
    });
  }

  it('names every refused field', () => {
    expect(forbiddenFields(principal('team_admin'), 'keys.update', ['name', 'role', 'limits'], true)).toEqual(
      {
        ok: false,
        message: 'key key_team_admin (team_admin) may not set role, limits on its own key.',
      },
    );
  });
});

describe('no key grants more than it has', () => {
  it('caps the role at its own rank', () => {
    expect(checkRights(principal('team_admin'), { role: 'admin' }).ok).toBe(false);
    expect(checkRights(principal('team_admin'), { role: 'team_admin' }).ok).toBe(true);
    expect(checkRights(principal('user'), { role: 'team_admin' }).ok).toBe(false);
    expect(checkRights(principal('admin'), { role: 'admin' }).ok).toBe(true);
    expect(checkRights(MASTER_PRINCIPAL, { role: 'admin', limits: { budgetDailyUsd: null } }).ok).toBe(true);
  });

  it('keeps a team admin inside its team and its team budgets', () => {
    const actor = principal('team_admin');
    expect(checkRights(actor, { teamId: 'team_u' }).ok).toBe(false);
    expect(checkRights(actor, { teamId: null }).ok).toBe(false);
    expect(checkRights(actor, { teamId: 'team_t' }).ok).toBe(true);
    expect(checkRights(actor, { limits: { budgetDailyUsd: 50 } }).ok).toBe(true);
    expect(checkRights(actor, { limits: { budgetDailyUsd: 50.01 } })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/budget_daily_usd to 50.01: team research's is 50/),
    });
    expect(checkRights(actor, { limits: { rpm: 601 } }).ok).toBe(false);
    // Unlimited where the team has a limit is more than the team allows.
    expect(checkRights(actor, { limits: { rpm: null } }).ok).toBe(false);
    expect(checkRights(actor, { limits: { tpm: null, budgetTotalUsd: 1e6 } }).ok).toBe(true);
  });

  it("bounds budgets, models, data class and expiry by the key's own", () => {
    const actor = principal('admin', {
      allowedModels: ['local', 'main'],
      limits: { ...NO_LIMITS, budgetMonthlyUsd: 100 },
      dataClass: 'private',
      expiresAtMs: 1_000_000,
    });
    expect(checkRights(actor, { limits: { budgetMonthlyUsd: 100 } }).ok).toBe(true);
    expect(checkRights(actor, { limits: { budgetMonthlyUsd: 101 } }).ok).toBe(false);
    expect(checkRights(actor, { limits: { budgetMonthlyUsd: null } }).ok).toBe(false);
    expect(checkRights(actor, { allowedModels: ['local'] }).ok).toBe(true);
    expect(checkRights(actor, { allowedModels: ['local', 'gpt-5'] }).ok).toBe(false);
    expect(checkRights(actor, { allowedModels: null }).ok).toBe(false);
    expect(checkRights(actor, { dataClass: null }).ok).toBe(false);
    expect(checkRights(actor, { dataClass: 'private' }).ok).toBe(true);
    expect(checkRights(actor, { expiresAtMs: 999_999 }).ok).toBe(true);
    expect(checkRights(actor, { expiresAtMs: 1_000_001 }).ok).toBe(false);
    expect(checkRights(actor, { expiresAtMs: null }).ok).toBe(false);
    // What it inherits by default passes its own check.
    const inherited = inheritedRights(actor);
    expect(inherited).toEqual({
      allowedModels: ['local', 'main'],
      limits: { budgetMonthlyUsd: 100 },
      dataClass: 'private',
      expiresAtMs: 1_000_000,
    });
    expect(checkRights(actor, inherited).ok).toBe(true);
  });

  it("gives a team admin's keys its team by default", () => {
    expect(inheritedRights(principal('team_admin'))).toMatchObject({ teamId: 'team_t' });
    expect(inheritedRights(MASTER_PRINCIPAL)).toEqual({});
  });
});
