/**
 * `autocap keys create|list|revoke`: virtual keys, stored hashed; a new key is shown once. A key
 * may belong to a team, carry a role for the admin API, and have budgets and limits of its own.
 */
import type { VirtualKeyRecord } from '@autocap/gateway';
import { CliError } from '../../cli-error.js';
import { table } from '../../format/table.js';
import type { Command } from '../command.js';
import { printJson } from '../command.js';
import {
  dataClassFlag,
  GOVERNANCE_USAGE,
  limitFlags,
  limitsSummary,
  roleFlag,
  teamFlag,
} from './governance-flags.js';
import { loadGatewayConfig } from './load-gateway-config.js';

const USAGE = [
  'Usage: autocap keys create --name <name> [--models a,b] [--expires-in-days N] [--team <id|name>]',
  `         [--role user|team_admin|admin] ${GOVERNANCE_USAGE}`,
  '       | keys list [--team <id|name>] | keys revoke <key-id>',
].join('\n');

export const keysCommand: Command = {
  name: 'keys',
  summary: 'create, list and revoke virtual API keys for the gateway',
  help: () =>
    [
      'autocap keys: virtual API keys (stored as SHA-256 hashes; the key is printed once, at creation)',
      '',
      USAGE,
      '  [--config autocap.yaml] [--json]',
    ].join('\n'),
  async run(args, io) {
    const [action, ...rest] = args.positionals;
    const config = await loadGatewayConfig(args, io, { discover: false, readOnly: true });
    const gateway = await import('@autocap/gateway');
    const store = gateway.openStore(config.store);
    try {
      await store.migrate();
      if (action === 'create' && rest.length === 0) {
        const name = args.flags?.['name'];
        if (!name)
          throw new CliError(
            `keys create needs --name (example: --name billing-service)\n${USAGE}`,
            'E_USAGE',
          );
        const days = args.flags?.['expires-in-days'];
        if (days !== undefined && !(Number(days) > 0)) {
          throw new CliError(`--expires-in-days is "${days}": expected a positive number of days`, 'E_USAGE');
        }
        const models =
          args.flags?.['models']
            ?.split(',')
            .map((model) => model.trim())
            .filter(Boolean) ?? null;
        const unknown = models?.filter((model) => !config.models.some((entry) => entry.name === model)) ?? [];
        if (unknown.length > 0) {
          throw new CliError(
            `--models names ${unknown.join(', ')}, not configured here (configured: ${config.models.map((entry) => entry.name).join(', ')})`,
            'E_USAGE',
          );
        }
        const team = await teamFlag(args, store);
        const role = roleFlag(args, gateway.KEY_ROLES);
        const limits = { ...gateway.NO_LIMITS, ...limitFlags(args) };
        const dataClass = dataClassFlag(args);
        const created = gateway.newVirtualKey();
        const now = Date.now();
        const record: VirtualKeyRecord = {
          id: created.id,
          hash: created.hash,
          name,
          createdAtMs: now,
          expiresAtMs: days === undefined ? null : now + Number(days) * 86_400_000,
          allowedModels: models,
          revoked: false,
          ...(team ? { teamId: team.id } : {}),
          ...(role && role !== 'user' ? { role } : {}),
          ...(Object.values(limits).some((value) => value !== null) ? { limits } : {}),
          ...(dataClass ? { dataClass } : {}),
        };
        await store.insertKey(record);
        if (args.json)
          printJson(io, {
            command: 'keys',
            action: 'create',
            key: created.key,
            id: created.id,
            name,
            team_id: team?.id ?? null,
            role: role ?? 'user',
            limits,
            data_class: dataClass ?? null,
          });
        else
          io.stdout(
            `${created.key}\n\nKey ${created.id} (${name}) created. This is the only time it is shown: store it now.\n`,
          );
        return 0;
      }
      if (action === 'list' && rest.length === 0) {
        const team = await teamFlag(args, store);
        const keys = await store.governance.listKeys({ teamId: team?.id });
        if (args.json) {
          printJson(io, {
            command: 'keys',
            action: 'list',
            keys: keys.map(({ hash: _hash, ...key }) => key),
          });
          return 0;
        }
        io.stdout(
          `${table(
            [
              { header: 'Id' },
              { header: 'Name' },
              { header: 'Models' },
              { header: 'Expires' },
              { header: 'Team' },
              { header: 'Role' },
              { header: 'Budgets and limits' },
              { header: 'State' },
            ],
            keys.map((key) => [
              key.id,
              key.name,
              key.allowedModels?.join(', ') ?? 'all',
              key.expiresAtMs === null ? 'never' : new Date(key.expiresAtMs).toISOString().slice(0, 10),
              key.teamId ?? '-',
              key.role ?? 'user',
              `${limitsSummary(key.limits)}${key.dataClass ? ' (private)' : ''}`,
              key.revoked ? 'revoked' : 'active',
            ]),
          )}\n`,
        );
        return 0;
      }
      if (action === 'revoke' && rest.length === 1) {
        const revoked = await store.revokeKey(rest[0] as string);
        if (!revoked)
          throw new CliError(`no key with id ${rest[0]} (autocap keys list shows them)`, 'E_USAGE');
        if (args.json) printJson(io, { command: 'keys', action: 'revoke', id: rest[0] });
        else io.stdout(`Key ${rest[0]} revoked; running gateways refuse it within 5 seconds.\n`);
        return 0;
      }
      throw new CliError(USAGE, 'E_USAGE');
    } finally {
      await store.close();
    }
  },
};
