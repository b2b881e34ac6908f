/** `autocap ledger verify|export`: check the hash chain; export entries as JSONL or CSV. */
import { createWriteStream } from 'node:fs';
import { CliError } from '../../cli-error.js';
import type { Command } from '../command.js';
import { printJson } from '../command.js';
import { loadGatewayConfig } from './load-gateway-config.js';

const USAGE =
  'Usage: autocap ledger verify | ledger export --format jsonl|csv [--out file]  [--config autocap.yaml]';

export const ledgerCommand: Command = {
  name: 'ledger',
  summary: "verify the gateway ledger's hash chain, or export it as JSONL or CSV",
  help: () =>
    [
      'autocap ledger: the tamper-evident record of every upstream attempt',
      '',
      USAGE,
      '',
      'verify recomputes every hash: exit 0 when intact, 1 naming the first altered or missing entry.',
    ].join('\n'),
  async run(args, io) {
    const [action, ...rest] = args.positionals;
    if (rest.length > 0 || (action !== 'verify' && action !== 'export')) throw new CliError(USAGE, 'E_USAGE');
    const config = await loadGatewayConfig(args, io, { discover: false, readOnly: true });
    const gateway = await import('@autocap/gateway');
    const store = gateway.openStore(config.store);
    try {
      await store.migrate();
      const leftovers = await gateway.ingestLeftovers(
        store,
        gateway.defaultSpoolDirectory(config.store.sqlite),
      );
      if (leftovers.ingested > 0) {
        io.stderr(
          `moved ${leftovers.ingested} journaled ${leftovers.ingested === 1 ? 'entry' : 'entries'} into the ledger first\n`,
        );
      }
      for (const { chainId, pid, entries } of leftovers.owned) {
        io.stderr(
          `note: ${entries} entries of chain ${chainId} are journaled by the running gateway (pid ${pid}) and not yet in the store\n`,
        );
      }
      if (action === 'verify') {
        const result = await store.verifyLedger();
        if (args.json) printJson(io, { command: 'ledger', action: 'verify', ...result });
        else if (result.ok)
          io.stdout(
            `ledger intact: ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'} in ${result.chains} chain${result.chains === 1 ? '' : 's'}\n`,
          );
        else io.stdout(`LEDGER BROKEN: ${result.message}\n`);
        return result.ok ? 0 : 1;
      }
      const format = args.flags?.['format'] ?? 'jsonl';
      if (format !== 'jsonl' && format !== 'csv') {
        throw new CliError(`--format is "${format}": expected jsonl or csv`, 'E_USAGE');
      }
      if (args.out) {
        const file = createWriteStream(args.out);
        await gateway.exportLedger(store, format, (chunk) => {
          file.write(chunk);
        });
        await new Promise<void>((resolve, reject) =>
          file.end((error?: Error | null) => (error ? reject(error) : resolve())),
        );
        io.stderr(`wrote ${args.out}\n`);
      } else {
        await gateway.exportLedger(store, format, (chunk) => io.stdout(chunk));
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
