/**
 * `autocap simulate <command> <scenario>`: Monte Carlo over any engine command. The scenario is
 * the command's own, with distributions in place of the numbers that are uncertain.
 */
import {
  type Analysis,
  type Distribution,
  type Issue,
  type SimulationRun,
  type SimulationSummary,
  simulate,
} from '@autocap/econ';
import { CliError } from '../cli-error.js';
import { barChart } from '../format/chart.js';
import { percent, significant, usd } from '../format/number.js';
import { table } from '../format/table.js';
import type { Io } from '../io.js';
import { referenceData } from '../reference-data.js';
import { loadScenario } from '../scenario/load-scenario.js';
import { type Command, type CommandArgs, printJson } from './command.js';

const EXAMPLE = 'examples/simulate-rent-vs-own-70b.yaml --draws 100000';

/** Whole-number flag values, or a field-naming error. */
function flag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) {
    throw new CliError(
      `--${name} is "${value}": expected a whole number (example: --${name} ${fallback})`,
      'E_USAGE',
    );
  }
  return parsed;
}

export function describeDistribution(d: Distribution): string {
  switch (d.dist) {
    case 'uniform':
      return `uniform ${significant(d.min)}–${significant(d.max)}`;
    case 'triangular':
    case 'pert':
      return `${d.dist} ${significant(d.min)} / ${significant(d.mode)} / ${significant(d.max)}`;
    case 'normal':
      return `normal ${significant(d.mean)} ± ${significant(d.sd)}`;
    case 'lognormal':
      return `lognormal median ${figure('', d.median)}, σ ${significant(d.sigma)}`;
  }
}

/** A terminal progress bar on stderr; a no-op unless stderr is a terminal and output is a table. */
function progressBar(io: Io, enabled: boolean): ((done: number, total: number) => void) | undefined {
  if (!enabled) return undefined;
  let last = -1;
  return (done, total) => {
    const share = done / total;
    const step = Math.floor(share * 40);
    if (step === last) return;
    last = step;
    io.stderr(`\r  simulating ${'█'.repeat(step)}${'░'.repeat(40 - step)} ${percent(share, 0).padStart(4)}`);
    if (done === total) io.stderr('\r\x1b[K');
  };
}

/** Money as money; other large figures with a B/M suffix. */
function figure(name: string, value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (name.includes('usd')) return usd(value);
  const size = Math.abs(value);
  if (size >= 1e12) return `${significant(value / 1e12)}T`;
  if (size >= 1e9) return `${significant(value / 1e9)}B`;
  if (size >= 1e6) return `${significant(value / 1e6)}M`;
  return significant(value);
}

function render(summary: SimulationSummary): string {
  const right = { align: 'right' } as const;
  const parts: string[] = [];
  parts.push(
    `Simulation of ${summary.analysis}: ${summary.draws.toLocaleString('en-US')} draws, seed ${summary.seed}` +
      ` (${summary.evaluation.path === 'fast' ? 'fast path' : `each draw resolved: ${summary.evaluation.reason}`})`,
  );
  parts.push(
    table(
      [
        { header: 'Uncertain input' },
        { header: 'Distribution' },
        { header: 'P5', ...right },
        { header: 'P50', ...right },
        { header: 'P95', ...right },
      ],
      summary.uncertain.map((entry) => [
        entry.field,
        describeDistribution(entry.distribution),
        figure(entry.field, entry.p5),
        figure(entry.field, entry.p50),
        figure(entry.field, entry.p95),
      ]),
    ),
  );
  const winners = Object.entries(summary.winner_probability).sort(
    ([, a], [, b]) => b.probability - a.probability,
  );
  if (winners.length > 0) {
    parts.push(
      table(
        [{ header: 'Winner' }, { header: 'Probability', ...right }, { header: '± s.e.', ...right }],
        winners.map(([name, entry]) => [name, percent(entry.probability), percent(entry.standard_error, 2)]),
      ),
    );
  }
  parts.push(
    table(
      [
        { header: 'Figure' },
        { header: 'P5', ...right },
        { header: 'P50', ...right },
        { header: 'P95', ...right },
        { header: 'Mean ± s.e.', ...right },
        { header: 'Undefined', ...right },
      ],
      Object.entries(summary.metrics).map(([name, entry]) => [
        name,
        figure(name, entry.p5),
        figure(name, entry.p50),
        figure(name, entry.p95),
        `${figure(name, entry.mean)} ± ${figure(name, entry.standard_error)}`,
        entry.undefined_share > 0 ? percent(entry.undefined_share, 0) : '',
      ]),
    ),
  );
  const { tornado } = summary;
  parts.push(
    [
      `Tornado: ${tornado.metric} (${figure(tornado.metric, tornado.base)} with every input at its median; each input from its P5 to its P95)`,
      table(
        [
          { header: 'Input' },
          { header: 'At P5', ...right },
          { header: 'At P95', ...right },
          { header: 'Swing', ...right },
        ],
        tornado.rows.map((row) => [
          `${row.field} (${figure(row.field, row.low)} → ${figure(row.field, row.high)})`,
          figure(tornado.metric, row.output_at_low),
          figure(tornado.metric, row.output_at_high),
          figure(tornado.metric, row.swing),
        ]),
      ),
    ].join('\n'),
  );
  const { histogram } = summary;
  const groups = 10; // the 40 bins, four to a bar
  const perGroup = Math.ceil(histogram.counts.length / groups);
  const bars = Array.from({ length: groups }, (_, group) => {
    const counts = histogram.counts.slice(group * perGroup, (group + 1) * perGroup);
    return {
      label: `from ${figure(histogram.metric, histogram.edges[group * perGroup] as number)}`,
      value: counts.reduce((sum, count) => sum + count, 0) / summary.draws,
    };
  });
  parts.push(
    barChart(bars, {
      title: `Distribution of ${histogram.metric} (share of draws)`,
      format: (v) => percent(v),
    }),
  );
  return parts.join('\n\n');
}

/** Runs a simulation for `report` and `simulate`; throws a CliError naming each problem. */
export function runSimulation<S, I, O>(
  analysis: Analysis<S, I, O>,
  document: unknown,
  options: {
    draws: number;
    seed: number;
    metric?: string | undefined;
    onProgress?: ((done: number, total: number) => void) | undefined;
    source: string;
  },
): SimulationRun {
  const result = simulate(analysis, document, referenceData, options);
  if (!result.ok) throw scenarioError(options.source, result.issues);
  return result.value;
}

interface SimulationBlock {
  readonly command?: string | undefined;
  readonly draws?: number | undefined;
  readonly seed?: number | undefined;
  readonly metric?: string | undefined;
}

/**
 * A scenario may carry its own settings in a top-level `simulate:` block ({command, draws, seed,
 * metric}); flags win over it. The rest is the command's scenario.
 */
export function splitSimulationBlock(
  loaded: unknown,
  source: string,
): { block: SimulationBlock; document: unknown } {
  if (typeof loaded !== 'object' || loaded === null || !('simulate' in loaded))
    return { block: {}, document: loaded };
  const { simulate: raw, ...document } = loaded as Record<string, unknown>;
  const issues: string[] = [];
  const block: Record<string, unknown> = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    issues.push(
      'simulate is not an object: expected {command, draws, seed, metric} (example: simulate: {command: rent-vs-own, draws: 100000, seed: 7})',
    );
  } else {
    for (const [key, value] of Object.entries(raw)) {
      const wanted =
        key === 'draws' || key === 'seed'
          ? 'number'
          : key === 'command' || key === 'metric'
            ? 'string'
            : null;
      if (wanted === null)
        issues.push(`simulate.${key} is not a known field (known fields here: command, draws, seed, metric)`);
      else if (typeof value !== wanted)
        issues.push(`simulate.${key} is ${JSON.stringify(value)}: expected a ${wanted}`);
      else block[key] = value;
    }
  }
  if (issues.length > 0) {
    throw new CliError(
      `${source}: problems in the simulate block\n${issues.map((text) => `  - ${text}`).join('\n')}`,
      'E_SCENARIO',
    );
  }
  return { block: block as SimulationBlock, document };
}

function scenarioError(source: string, issues: readonly Issue[]): CliError {
  const plural = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return new CliError(
    `${source}: ${plural} in the simulation\n${issues.map((entry) => `  - ${entry.message}`).join('\n')}`,
    'E_SCENARIO',
  );
}

export function simulateCommand(analyses: readonly Analysis<unknown, unknown, unknown>[]): Command {
  const names = analyses.map((analysis) => analysis.id).join(', ');
  return {
    name: 'simulate',
    summary: 'Monte Carlo over any command: percentiles, winner probabilities, tornado',
    help: () =>
      [
        'autocap simulate: Monte Carlo over any engine command',
        '',
        'Usage: autocap simulate [command] <scenario.yaml|json> [--draws N] [--seed S] [--metric name] [--set path=value]... [--json]',
        `Example: autocap simulate ${EXAMPLE}`,
        '',
        `Commands: ${names}. Name one before the scenario, or put a block in the scenario:`,
        '  simulate: {command: rent-vs-own, draws: 100000, seed: 7, metric: options.own.npv_cost_usd}',
        '',
        "Write a distribution in place of any number in the command's scenario:",
        '  {dist: uniform, min: 1.5, max: 3}',
        '  {dist: normal, mean: 2, sd: 0.3, min?: 0, max?: 5}        (min/max truncate)',
        '  {dist: lognormal, median: 1e11, sigma: 0.3, min?, max?}   (sigma of the logarithm)',
        '  {dist: triangular, min: 0.2, mode: 0.6, max: 1}',
        '  {dist: pert, min: 0.1, mode: 0.3, max: 0.6, lambda?: 4}',
        "or on the command line: --set 'rent.gpu_hour_usd={dist: uniform, min: 1.5, max: 3}'.",
        '',
        'Options:',
        '  --draws N      number of draws (default 10000; up to 10,000,000)',
        '  --seed S       seed of the random stream (default 1); the same seed gives the same result',
        "  --metric name  the figure for the tornado and histogram (default: the command's headline)",
        '',
        'Percentiles are P5, P50 and P95 of each headline figure; "± s.e." is the standard error of',
        'the mean (or of the probability), which shrinks as 1/sqrt(draws).',
      ].join('\n'),
    run(args: CommandArgs, io: Io) {
      if (args.positionals.length === 0 || args.positionals.length > 2) {
        throw new CliError(
          `Usage: autocap simulate [command] <scenario> (example: autocap simulate ${EXAMPLE})`,
          'E_USAGE',
        );
      }
      const path = args.positionals[args.positionals.length - 1] as string;
      const loaded = loadScenario(path, args.set, io);
      const { block, document } = splitSimulationBlock(loaded, path);
      const name = args.positionals.length === 2 ? args.positionals[0] : block.command;
      const analysis = analyses.find((entry) => entry.id === name);
      if (!analysis) {
        throw new CliError(
          name === undefined
            ? `${path} does not say which command to simulate: run autocap simulate <command> ${path}, or add simulate: {command: rent-vs-own} to the file (one of: ${names})`
            : `"${name}" is not a command simulate can run (one of: ${names})`,
          'E_USAGE',
        );
      }
      const draws = flag(args.draws, 'draws', block.draws ?? 10_000);
      const seed = flag(args.seed, 'seed', block.seed ?? 1);
      const run = runSimulation(analysis, document, {
        draws,
        seed,
        metric: args.metric ?? block.metric,
        onProgress: progressBar(io, !args.json && io.stderrIsTty === true),
        source: path,
      });
      if (args.json) {
        printJson(io, { command: 'simulate', scenario: path, ...run.summary });
      } else {
        io.stdout(`${render(run.summary)}\n`);
      }
      return 0;
    },
  };
}
