/**
 * `/admin/keys`: create (the key is in the answer once, stored hashed), list, update, revoke. Each
 * handler asks governance/authorization.ts in the same order: may this role attempt the action,
 * may it reach this key, may it write these fields (on its own key: never role or team), and are
 * the resulting rights within its own.
 */
import { newVirtualKey, type Principal } from '../auth/keys.js';
import {
  authorize,
  checkRights,
  forbiddenFields,
  inheritedRights,
  type KeyRights,
  mayAttempt,
} from '../governance/authorization.js';
import { hasAnyLimit, type KeyPatch, type Limits, NO_LIMITS } from '../store/governance-types.js';
import type { VirtualKeyRecord } from '../store/store.js';
import { type AdminContext, ensure, readBody, respond } from './admin-context.js';
import { expiryOf, KeyBody, keyFieldsOf, keyJson, limitsOf, parseBody } from './admin-schemas.js';
import { GatewayError } from './gateway-error.js';

/** The rights a body asks for, as authorization compares them. */
function rightsOf(body: KeyBody, nowMs: number): KeyRights {
  const expiresAtMs = expiryOf(body, nowMs);
  const limits = limitsOf(body);
  return {
    ...(body.role !== undefined ? { role: body.role } : {}),
    ...(body.team_id !== undefined ? { teamId: body.team_id } : {}),
    ...(body.allowed_models !== undefined ? { allowedModels: body.allowed_models } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(body.data_class !== undefined ? { dataClass: body.data_class } : {}),
    ...(expiresAtMs !== undefined ? { expiresAtMs } : {}),
  };
}

async function checkTeam(context: AdminContext, teamId: string | null | undefined): Promise<void> {
  if (teamId === undefined || teamId === null) return;
  if (!(await context.runtime.store.governance.getTeam(teamId))) {
    throw new GatewayError(
      'invalid_request',
      `team_id "${teamId}" names no team (GET /admin/teams lists them).`,
      {
        param: 'team_id',
      },
    );
  }
}

function checkModels(context: AdminContext, models: readonly string[] | null | undefined): void {
  const unknown = (models ?? []).filter((model) => !context.runtime.upstreams.has(model));
  if (unknown.length > 0) {
    throw new GatewayError(
      'invalid_request',
      `allowed_models names ${unknown.join(', ')}, not configured here (configured: ${[...context.runtime.upstreams.keys()].join(', ')}).`,
      { param: 'allowed_models' },
    );
  }
}

export async function createKey(context: AdminContext): Promise<void> {
  const actor = context.principal;
  ensure(mayAttempt(actor, 'keys.create'));
  const body = parseBody(KeyBody, await readBody(context), 'key');
  if (body.name === undefined)
    throw new GatewayError('invalid_request', '`name` is required: a label for the key.', { param: 'name' });
  ensure(forbiddenFields(actor, 'keys.create', keyFieldsOf(body), false));
  const nowMs = context.runtime.now();
  const inherited = inheritedRights(actor);
  const asked = rightsOf(body, nowMs);
  const rights: KeyRights = { ...inherited, ...asked, limits: { ...inherited.limits, ...asked.limits } };
  ensure(checkRights(actor, rights));
  const teamId = rights.teamId ?? null;
  ensure(authorize(actor, 'keys.create', { teamId }));
  await checkTeam(context, teamId);
  checkModels(context, rights.allowedModels);
  const created = newVirtualKey();
  const limits: Limits = { ...NO_LIMITS, ...withoutNulls(rights.limits) };
  const record: VirtualKeyRecord = {
    id: created.id,
    hash: created.hash,
    name: body.name,
    createdAtMs: nowMs,
    expiresAtMs: rights.expiresAtMs ?? null,
    allowedModels: rights.allowedModels ?? null,
    revoked: false,
    ...(teamId !== null ? { teamId } : {}),
    ...(rights.role !== undefined && rights.role !== 'user' ? { role: rights.role } : {}),
    ...(body.metadata ? { metadata: body.metadata } : {}),
    ...(hasAnyLimit(limits) ? { limits } : {}),
    ...(rights.dataClass ? { dataClass: rights.dataClass } : {}),
    createdBy: actor.keyId,
  };
  await context.runtime.store.insertKey(record);
  // The key itself is in this answer and nowhere else: only its hash is stored.
  respond(context.response, 201, { ...keyJson(record), key: created.key });
}

function withoutNulls(limits: Partial<Limits> | undefined): Partial<Limits> {
  return Object.fromEntries(Object.entries(limits ?? {}).filter(([, value]) => value !== null));
}

export async function listKeys(context: AdminContext): Promise<void> {
  const actor = context.principal;
  ensure(mayAttempt(actor, 'keys.list'));
  const governance = context.runtime.store.governance;
  const asked = context.url.searchParams.get('team_id') ?? undefined;
  let keys: readonly VirtualKeyRecord[];
  if (actor.role === 'user') {
    const own = await governance.getKey(actor.keyId);
    keys = own ? [own] : [];
  } else if (actor.role === 'team_admin') {
    const teamId = asked ?? actor.team?.id ?? '';
    ensure(authorize(actor, 'keys.list', { teamId }));
    keys = await governance.listKeys({ teamId });
  } else {
    keys = await governance.listKeys({ teamId: asked });
  }
  respond(context.response, 200, { object: 'list', data: keys.map(keyJson) });
}

async function target(context: AdminContext, id: string): Promise<VirtualKeyRecord> {
  const key = await context.runtime.store.governance.getKey(id);
  if (!key) throw new GatewayError('not_found', `No key ${id} (GET /admin/keys lists them).`);
  return key;
}

export async function updateKey(context: AdminContext, id: string): Promise<void> {
  const actor = context.principal;
  ensure(mayAttempt(actor, 'keys.update'));
  const body = parseBody(KeyBody, await readBody(context), 'key update');
  const key = await target(context, id);
  ensure(
    authorize(actor, 'keys.update', { teamId: key.teamId ?? null, keyId: key.id, role: key.role ?? 'user' }),
  );
  ensure(forbiddenFields(actor, 'keys.update', keyFieldsOf(body), key.id === actor.keyId));
  const rights = rightsOf(body, context.runtime.now());
  ensure(checkRights(actor, rights));
  await checkTeam(context, rights.teamId);
  if (rights.allowedModels !== undefined) checkModels(context, rights.allowedModels);
  const patch: KeyPatch = {
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(rights.expiresAtMs !== undefined ? { expiresAtMs: rights.expiresAtMs } : {}),
    ...(rights.allowedModels !== undefined ? { allowedModels: rights.allowedModels } : {}),
    ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
    ...(rights.limits !== undefined ? { limits: rights.limits } : {}),
    ...(rights.dataClass !== undefined ? { dataClass: rights.dataClass } : {}),
    ...(rights.role !== undefined ? { role: rights.role } : {}),
    ...(rights.teamId !== undefined ? { teamId: rights.teamId } : {}),
  };
  const updated = await context.runtime.store.governance.updateKey(id, patch);
  if (!updated) throw new GatewayError('not_found', `No key ${id}.`);
  context.runtime.auth.invalidate();
  respond(context.response, 200, keyJson(updated));
}

export async function revokeKey(context: AdminContext, id: string): Promise<void> {
  const actor: Principal = context.principal;
  ensure(mayAttempt(actor, 'keys.revoke'));
  const key = await target(context, id);
  ensure(
    authorize(actor, 'keys.revoke', { teamId: key.teamId ?? null, keyId: key.id, role: key.role ?? 'user' }),
  );
  await context.runtime.store.revokeKey(id);
  context.runtime.auth.invalidate();
  respond(context.response, 200, { ...keyJson({ ...key, revoked: true }) });
}
