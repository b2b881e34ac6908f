/** `autocap config check|show`: validate a gateway config, or print the one that would be used. */
import { CliError } from '../../cli-error.js';
import type { Command } from '../command.js';
import { printJson } from '../command.js';
import { loadGatewayConfig } from './load-gateway-config.js';

export const configCommand: Command = {
  name: 'config',
  summary: 'check a gateway config (exit 2 naming each bad field), or show the one in effect',
  help: () =>
    [
      'autocap config: the gateway configuration',
      '',
      'Usage: autocap config check [--config autocap.yaml] | config show [--config autocap.yaml]',
      '',
      'check validates and exits 0, or 2 with one line per problem naming the field and the fix.',
      'show prints the config in effect as YAML (secrets as environment references), e.g. to save the',
      'embedded default as autocap.yaml. Reference: docs/configuration.md.',
    ].join('\n'),
  async run(args, io) {
    const [action, ...rest] = args.positionals;
    if (rest.length > 0 || (action !== 'check' && action !== 'show')) {
      throw new CliError('Usage: autocap config check|show [--config autocap.yaml]', 'E_USAGE');
    }
    const config = await loadGatewayConfig(args, io, {
      discover: action === 'show',
      readOnly: action === 'check',
    });
    const gateway = await import('@autocap/gateway');
    if (action === 'show') {
      io.stdout(gateway.renderDefaultConfigYaml(config, { cwd: process.cwd() }));
      return 0;
    }
    if (args.json) {
      printJson(io, {
        command: 'config',
        action: 'check',
        ok: true,
        source: config.source,
        models: config.models.map((model) => model.name),
      });
    } else {
      io.stdout(
        `${config.source}: ok (${config.models.length === 1 ? '1 model' : `${config.models.length} models`}${config.models.length > 0 ? `: ${config.models.map((model) => model.name).join(', ')}` : ''})\n`,
      );
    }
    return 0;
  },
};
