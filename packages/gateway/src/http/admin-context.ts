/** What the admin handlers share: their context, body reading, JSON answers, refusals. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/keys.js';
import type { Decision } from '../governance/authorization.js';
import { GatewayError } from './gateway-error.js';
import type { GatewayRuntime } from './gateway-runtime.js';
import { readJsonBody } from './read-body.js';

export interface AdminContext {
  readonly runtime: GatewayRuntime;
  readonly incoming: IncomingMessage;
  readonly response: ServerResponse;
  /** Authenticated: admin routes are `client` routes. */
  readonly principal: Principal;
  readonly url: URL;
}

export function readBody(context: AdminContext): Promise<unknown> {
  return readJsonBody(context.incoming, context.runtime.config.server.maxBodyBytes);
}

/** Throws the 403 of a refused decision. */
export function ensure(decision: Decision): void {
  if (!decision.ok) throw new GatewayError('permission_denied', decision.message);
}

export function respond(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
