/** `autocap usage --by key|team|model|task|day`: spend and tokens from the ledger. */
import { CliError } from '../../cli-error.js';
import { table } from '../../format/table.js';
import type { Command } from '../command.js';
import { printJson } from '../command.js';
import { teamFlag } from './governance-flags.js';
import { loadGatewayConfig } from './load-gateway-config.js';

const USAGE =
  'Usage: autocap usage [--by key|team|model|task|day] [--from 2026-03-01] [--to 2026-04-01] [--team <id|name>] [--key <key-id>]';

function dateFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d\d-\d\d$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new CliError(
      `--${flag} is "${text}": expected a date (2026-03-01) or an ISO 8601 instant`,
      'E_USAGE',
    );
  }
  return ms;
}

export const usageCommand: Command = {
  name: 'usage',
  summary: 'spend, tokens and requests from the ledger, by key, team, model, task or day',
  help: () =>
    [
      'autocap usage: the ledger aggregated (requests are client requests; attempts include fallbacks)',
      '',
      USAGE,
      '  --from is inclusive, --to exclusive (UTC); [--config autocap.yaml] [--json]',
    ].join('\n'),
  async run(args, io) {
    if (args.positionals.length > 0) throw new CliError(USAGE, 'E_USAGE');
    const gateway = await import('@autocap/gateway');
    const byText = args.flags?.['by'] ?? 'key';
    const groupBy = gateway.USAGE_GROUPS.find((group) => group === byText);
    if (!groupBy) {
      throw new CliError(
        `--by is "${byText}": expected one of ${gateway.USAGE_GROUPS.join(', ')}`,
        'E_USAGE',
      );
    }
    const fromMs = dateFlag(args.flags?.['from'], 'from');
    const toMs = dateFlag(args.flags?.['to'], 'to');
    const config = await loadGatewayConfig(args, io, { discover: false, readOnly: true });
    const store = gateway.openStore(config.store);
    try {
      await store.migrate();
      const team = await teamFlag(args, store);
      const rows = await store.governance.usage({
        groupBy,
        fromMs,
        toMs,
        teamId: team?.id,
        keyId: args.flags?.['key'],
      });
      if (args.json) {
        printJson(io, { command: 'usage', by: groupBy, rows });
        return 0;
      }
      io.stdout(
        `${table(
          [
            { header: groupBy[0]?.toUpperCase() + groupBy.slice(1) },
            { header: 'Requests', align: 'right' },
            { header: 'Attempts', align: 'right' },
            { header: 'Input tokens', align: 'right' },
            { header: 'Output tokens', align: 'right' },
            { header: 'Cost (USD)', align: 'right' },
          ],
          rows.map((row) => [
            row.group ?? '(none)',
            String(row.requests),
            String(row.attempts),
            String(row.inputTokens),
            String(row.outputTokens),
            row.costUsd.toFixed(6),
          ]),
        )}\n`,
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
