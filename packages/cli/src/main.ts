/**
 * The `autocap` command. One boundary turns every expected failure into a message and an exit
 * code (2: fix your input); anything else is a bug, reported without a stack trace unless
 * AUTOCAP_DEBUG is set.
 */
import { parseArgs } from 'node:util';
import { CliError } from './cli-error.js';
import { commands } from './commands/registry.js';
import { type Io, processIo } from './io.js';

function usage(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    'autocap: own the layer where your AI work runs, and know when owning compute beats renting it.',
    '',
    'Usage: autocap <command> [scenario.yaml] [--set path=value]... [--json]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Options:',
    '  --set path=value  override a scenario field (repeatable), e.g. --set fleet.count=64',
    '  --json            print exactly one JSON object instead of tables',
    '  --out file        where to write a file the command makes (autocap report)',
    '  --draws N, --seed S, --metric name   Monte Carlo settings (autocap simulate, autocap report)',
    '  --config file     gateway commands: the config (default ./autocap.yaml, else built from what runs locally)',
    '  -h, --help        help for a command: autocap tco --help',
  ].join('\n');
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        set: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
        out: { type: 'string' },
        draws: { type: 'string' },
        seed: { type: 'string' },
        metric: { type: 'string' },
        config: { type: 'string' },
        demo: { type: 'boolean', default: false },
        host: { type: 'string' },
        port: { type: 'string' },
        name: { type: 'string' },
        models: { type: 'string' },
        'expires-in-days': { type: 'string' },
        format: { type: 'string' },
        team: { type: 'string' },
        role: { type: 'string' },
        'budget-daily-usd': { type: 'string' },
        'budget-monthly-usd': { type: 'string' },
        'budget-total-usd': { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        'max-concurrent': { type: 'string' },
        'data-class': { type: 'string' },
        by: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        key: { type: 'string' },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]}\n\n${usage()}`, 'E_USAGE');
  }
}

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    const { values, positionals } = parse(argv);
    const [name, ...rest] = positionals;
    if (name === undefined || name === 'help') {
      const command = commands.find((entry) => entry.name === rest[0]);
      io.stdout(`${command ? command.help() : usage()}\n`);
      return 0;
    }
    const command = commands.find((entry) => entry.name === name);
    if (!command) throw new CliError(`unknown command "${name}"\n\n${usage()}`, 'E_USAGE');
    if (values.help) {
      io.stdout(`${command.help()}\n`);
      return 0;
    }
    return await command.run(
      {
        positionals: rest,
        json: values.json,
        set: values.set,
        out: values.out,
        draws: values.draws,
        seed: values.seed,
        metric: values.metric,
        demo: values.demo,
        flags: {
          config: values.config,
          host: values.host,
          port: values.port,
          name: values.name,
          models: values.models,
          'expires-in-days': values['expires-in-days'],
          format: values.format,
          team: values.team,
          role: values.role,
          'budget-daily-usd': values['budget-daily-usd'],
          'budget-monthly-usd': values['budget-monthly-usd'],
          'budget-total-usd': values['budget-total-usd'],
          rpm: values.rpm,
          tpm: values.tpm,
          'max-concurrent': values['max-concurrent'],
          'data-class': values['data-class'],
          by: values.by,
          from: values.from,
          to: values.to,
          key: values.key,
        },
      },
      io,
    );
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`autocap: ${error.message}\n`);
      return error.exitCode;
    }
    const detail = process.env['AUTOCAP_DEBUG']
      ? `\n${(error as Error).stack}`
      : ' (set AUTOCAP_DEBUG=1 for details)';
    io.stderr(`autocap: internal error: ${(error as Error).message}${detail}\n`);
    return 1;
  }
}
