/** `autocap teams create|list`: teams whose budgets and limits every key of the team shares. */
import { randomBytes } from 'node:crypto';
import { CliError } from '../../cli-error.js';
import { table } from '../../format/table.js';
import type { Command } from '../command.js';
import { printJson } from '../command.js';
import { dataClassFlag, GOVERNANCE_USAGE, limitFlags, limitsSummary } from './governance-flags.js';
import { loadGatewayConfig } from './load-gateway-config.js';

const USAGE = `Usage: autocap teams create --name <name> ${GOVERNANCE_USAGE} | teams list`;

export const teamsCommand: Command = {
  name: 'teams',
  summary: 'create and list teams, with budgets and limits shared by their keys',
  help: () =>
    [
      'autocap teams: teams for the gateway; a key in a team spends from the team budget too',
      '',
      USAGE,
      '  [--config autocap.yaml] [--json]',
    ].join('\n'),
  async run(args, io) {
    const [action, ...rest] = args.positionals;
    if (rest.length > 0 || (action !== 'create' && action !== 'list')) throw new CliError(USAGE, 'E_USAGE');
    const config = await loadGatewayConfig(args, io, { discover: false, readOnly: true });
    const gateway = await import('@autocap/gateway');
    const store = gateway.openStore(config.store);
    try {
      await store.migrate();
      if (action === 'create') {
        const name = args.flags?.['name'];
        if (!name)
          throw new CliError(`teams create needs --name (example: --name research)\n${USAGE}`, 'E_USAGE');
        const team = {
          id: `team_${randomBytes(8).toString('hex')}`,
          name,
          createdAtMs: Date.now(),
          limits: { ...gateway.NO_LIMITS, ...limitFlags(args) },
          dataClass: dataClassFlag(args) ?? null,
        };
        try {
          await store.governance.createTeam(team);
        } catch (error) {
          if (error instanceof Error && /already exists/.test(error.message))
            throw new CliError(error.message, 'E_USAGE');
          throw error;
        }
        if (args.json) printJson(io, { command: 'teams', action: 'create', team });
        else io.stdout(`Team ${team.id} (${name}) created: ${limitsSummary(team.limits)}.\n`);
        return 0;
      }
      const teams = await store.governance.listTeams();
      if (args.json) {
        printJson(io, { command: 'teams', action: 'list', teams });
        return 0;
      }
      io.stdout(
        `${table(
          [{ header: 'Id' }, { header: 'Name' }, { header: 'Budgets and limits' }, { header: 'Data class' }],
          teams.map((team) => [team.id, team.name, limitsSummary(team.limits), team.dataClass ?? '-']),
        )}\n`,
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
