/**
 * The governance admin API, for any authenticated key; governance/authorization.ts decides what
 * each role may do (the master key and `admin` keys everything, `team_admin` keys their own team,
 * `user` keys their own key and usage).
 *
 *   POST /admin/teams            GET /admin/teams            GET|PATCH /admin/teams/{id}
 *   POST /admin/keys             GET /admin/keys[?team_id=]  PATCH /admin/keys/{id}
 *   POST /admin/keys/{id}/revoke
 *   GET  /admin/usage?group_by=key|team|model|task|day[&from=&to=&team_id=&key_id=]
 *
 * Paths arrive canonical (handle-request.ts lowercases them): ids are lowercase by construction.
 * Changes made here reach other gateway instances' key caches within 5 seconds.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/keys.js';
import { authorize, mayAttempt } from '../governance/authorization.js';
import { NO_LIMITS, type TeamRecord, USAGE_GROUPS, type UsageGroup } from '../store/governance-types.js';
import { type AdminContext, ensure, readBody, respond } from './admin-context.js';
import { createKey, listKeys, revokeKey, updateKey } from './admin-keys.js';
import { limitsOf, parseBody, TeamBody, teamJson, usageJson } from './admin-schemas.js';
import { GatewayError } from './gateway-error.js';
import type { GatewayRuntime } from './gateway-runtime.js';

type Method = 'GET' | 'POST' | 'PATCH';
const METHODS: readonly Method[] = ['GET', 'POST', 'PATCH'];

/** The shape handle-request.ts routes by. */
export interface AdminRoute {
  readonly method: Method;
  readonly access: 'client';
  handle(context: {
    readonly runtime: GatewayRuntime;
    readonly incoming: IncomingMessage;
    readonly response: ServerResponse;
    readonly principal: Principal | null;
    readonly url: URL;
  }): Promise<void>;
}

type Handler = (context: AdminContext, id: string) => Promise<void>;

/** Patterns over path segments; `:id` matches one segment. */
const TABLE: readonly {
  readonly pattern: readonly string[];
  readonly methods: Partial<Record<Method, Handler>>;
}[] = [
  { pattern: ['admin', 'teams'], methods: { GET: listTeams, POST: createTeam } },
  { pattern: ['admin', 'teams', ':id'], methods: { GET: readTeam, PATCH: updateTeam } },
  { pattern: ['admin', 'keys'], methods: { GET: listKeys, POST: createKey } },
  { pattern: ['admin', 'keys', ':id'], methods: { PATCH: updateKey } },
  { pattern: ['admin', 'keys', ':id', 'revoke'], methods: { POST: revokeKey } },
  { pattern: ['admin', 'usage'], methods: { GET: usage } },
];

/**
 * The admin route for a canonical path and method. A known path with another method gets a
 * route of an allowed method, so the router answers 405 with `Allow`.
 */
export function adminRoute(path: string, method: string | undefined): AdminRoute | undefined {
  const segments = path.split('/').filter((segment) => segment !== '');
  for (const entry of TABLE) {
    if (entry.pattern.length !== segments.length) continue;
    let id = '';
    const matches = entry.pattern.every((part, index) => {
      const segment = segments[index] ?? '';
      if (part === ':id') {
        id = segment;
        return /^[a-z0-9_-]{1,100}$/.test(segment);
      }
      return part === segment;
    });
    if (!matches) continue;
    const methods = METHODS.filter((candidate) => entry.methods[candidate] !== undefined);
    const chosen = methods.find((candidate) => candidate === method) ?? methods[0] ?? 'GET';
    const handler = entry.methods[chosen];
    return {
      method: chosen,
      access: 'client',
      async handle(context) {
        const { principal } = context;
        if (!principal || !handler)
          throw new GatewayError('internal_error', 'admin route without a principal');
        await handler({ ...context, principal }, id);
      },
    };
  }
  return undefined;
}

async function createTeam(context: AdminContext): Promise<void> {
  ensure(mayAttempt(context.principal, 'teams.create'));
  const body = parseBody(TeamBody, await readBody(context), 'team');
  if (body.name === undefined) {
    throw new GatewayError('invalid_request', '`name` is required: a unique team name.', { param: 'name' });
  }
  const team: TeamRecord = {
    id: `team_${randomBytes(8).toString('hex')}`,
    name: body.name,
    createdAtMs: context.runtime.now(),
    limits: { ...NO_LIMITS, ...limitsOf(body) },
    dataClass: body.data_class ?? null,
  };
  try {
    await context.runtime.store.governance.createTeam(team);
  } catch (error) {
    throw conflict(error);
  }
  respond(context.response, 201, teamJson(team));
}

async function listTeams(context: AdminContext): Promise<void> {
  const actor = context.principal;
  ensure(mayAttempt(actor, 'teams.list'));
  const governance = context.runtime.store.governance;
  const teams =
    actor.role === 'admin'
      ? await governance.listTeams()
      : actor.team
        ? [await governance.getTeam(actor.team.id)]
        : [];
  respond(context.response, 200, {
    object: 'list',
    data: teams.filter((team): team is TeamRecord => team !== null).map(teamJson),
  });
}

async function readTeam(context: AdminContext, id: string): Promise<void> {
  ensure(authorize(context.principal, 'teams.read', { teamId: id }));
  const team = await context.runtime.store.governance.getTeam(id);
  if (!team) throw new GatewayError('not_found', `No team ${id} (GET /admin/teams lists them).`);
  respond(context.response, 200, teamJson(team));
}

async function updateTeam(context: AdminContext, id: string): Promise<void> {
  ensure(authorize(context.principal, 'teams.update', { teamId: id }));
  const body = parseBody(TeamBody, await readBody(context), 'team update');
  let team: TeamRecord | null;
  try {
    team = await context.runtime.store.governance.updateTeam(id, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      limits: limitsOf(body),
      ...(body.data_class !== undefined ? { dataClass: body.data_class } : {}),
    });
  } catch (error) {
    throw conflict(error);
  }
  if (!team) throw new GatewayError('not_found', `No team ${id} (GET /admin/teams lists them).`);
  context.runtime.auth.invalidate();
  respond(context.response, 200, teamJson(team));
}

function conflict(error: unknown): unknown {
  if (error instanceof Error && /already exists/.test(error.message)) {
    return new GatewayError('conflict', `${error.message}: choose another name.`, { param: 'name' });
  }
  return error;
}

/** `2026-03-15` or an ISO 8601 instant, as epoch ms. */
function timeParam(url: URL, name: 'from' | 'to'): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return undefined;
  const ms = /^\d{4}-\d\d-\d\d$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new GatewayError(
      'invalid_request',
      `${name} is "${text.slice(0, 40)}": expected a date (2026-03-15) or an ISO 8601 instant.`,
      {
        param: name,
      },
    );
  }
  return ms;
}

async function usage(context: AdminContext): Promise<void> {
  const actor = context.principal;
  ensure(mayAttempt(actor, 'usage.read'));
  const { searchParams } = context.url;
  const groupText = searchParams.get('group_by') ?? 'key';
  const groupBy = USAGE_GROUPS.find((group) => group === groupText);
  if (groupBy === undefined) {
    throw new GatewayError(
      'invalid_request',
      `group_by is "${groupText.slice(0, 40)}": expected one of ${USAGE_GROUPS.join(', ')}.`,
      {
        param: 'group_by',
      },
    );
  }
  let teamId = searchParams.get('team_id') ?? undefined;
  let keyId = searchParams.get('key_id') ?? undefined;
  // Narrow the query to what the caller may see, refusing what it asked beyond that.
  if (actor.role === 'team_admin') {
    teamId ??= actor.team?.id ?? '';
    ensure(authorize(actor, 'usage.read', { teamId }));
  } else if (actor.role === 'user') {
    if (teamId !== undefined) ensure(authorize(actor, 'usage.read', { teamId, keyId: '' }));
    keyId ??= actor.keyId;
    ensure(authorize(actor, 'usage.read', { teamId: null, keyId }));
  }
  await context.runtime.ledger.caughtUp();
  const rows = await context.runtime.store.governance.usage({
    groupBy: groupBy satisfies UsageGroup,
    fromMs: timeParam(context.url, 'from'),
    toMs: timeParam(context.url, 'to'),
    teamId,
    keyId,
  });
  respond(context.response, 200, { object: 'list', group_by: groupBy, data: rows.map(usageJson) });
}
