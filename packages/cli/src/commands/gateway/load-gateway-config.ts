/** Shared by every gateway command: find and load the config, or fail with exit code 2. */
import type { GatewayConfig } from '@autocap/gateway';
import { CliError } from '../../cli-error.js';
import type { Io } from '../../io.js';
import type { CommandArgs } from '../command.js';

export async function loadGatewayConfig(
  args: CommandArgs,
  io: Io,
  options: { discover: boolean; readOnly?: boolean; demo?: boolean },
): Promise<GatewayConfig> {
  const gateway = await import('@autocap/gateway');
  const result = await gateway.loadConfig({
    path: args.flags?.['config'],
    cwd: process.cwd(),
    env: process.env,
    ...(options.discover ? {} : { discover: async () => [] }),
    ...(options.readOnly ? { readOnly: true } : {}),
  });
  if (!result.ok) {
    const plural = result.errors.length === 1 ? '1 problem' : `${result.errors.length} problems`;
    throw new CliError(
      `${result.source ?? args.flags?.['config'] ?? 'the gateway config'}: ${plural}\n${result.errors.map((text) => `  - ${text}`).join('\n')}`,
      'E_SCENARIO',
    );
  }
  // What discovery found matters when starting a gateway, not when reading its ledger or keys.
  if (options.discover) {
    for (const notice of result.notices) {
      // With --demo there is a model: the demo one.
      if (!(options.demo && notice.startsWith('No model found'))) io.stderr(`${notice}\n`);
    }
  }
  return result.config;
}
