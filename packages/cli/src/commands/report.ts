/**
 * `autocap report <scenario> --out report.html`: one self-contained HTML page for a rent-vs-own
 * scenario, with the options, their cash flows, and the value of an owned GPU over its life.
 */
import { writeFileSync } from 'node:fs';
import { type Analysis, rentVsOwn } from '@autocap/econ';
import { CliError } from '../cli-error.js';
import { usd } from '../format/number.js';
import type { Io } from '../io.js';
import { referenceData } from '../reference-data.js';
import { type ReportSimulation, renderReport } from '../report/render-report.js';
import { gatherReportData } from '../report/report-data.js';
import { loadScenario } from '../scenario/load-scenario.js';
import type { Command } from './command.js';
import { printJson } from './command.js';
import { runSimulation, splitSimulationBlock } from './simulate.js';

const EXAMPLE = 'examples/rent-vs-own-70b-chat.yaml --out report.html';

/** The first line of a YAML scenario's opening comment, if it has one. */
function openingComment(path: string, io: Io): string | undefined {
  if (path.endsWith('.json')) return undefined;
  const first = io.readFile(path).split('\n')[0] ?? '';
  const text = first.startsWith('#') ? first.replace(/^#+\s*/, '').trim() : '';
  return text === '' ? undefined : text;
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such folder';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? 'unwritable';
}

/**
 * A scenario with distributions is simulated; the page then shows the NPV distribution and the
 * tornado, and its deterministic charts use every uncertain field at its median draw.
 */
function simulateIfUncertain(
  document: unknown,
  options: {
    draws: string | number | undefined;
    seed: string | number | undefined;
    metric: string | undefined;
    source: string;
  },
): { document: unknown; simulation: ReportSimulation | undefined } {
  if (!JSON.stringify(document ?? null).includes('"dist"')) return { document, simulation: undefined };
  const whole = (value: string | number | undefined, name: string, fallback: number): number => {
    const parsed = Number(value ?? fallback);
    if (!Number.isInteger(parsed))
      throw new CliError(`--${name} is "${value}": expected a whole number`, 'E_USAGE');
    return parsed;
  };
  const run = runSimulation(rentVsOwn as Analysis<unknown, unknown, unknown>, document, {
    draws: whole(options.draws, 'draws', 10_000),
    seed: whole(options.seed, 'seed', 1),
    metric: options.metric,
    source: options.source,
  });
  const { summary } = run;
  const medians = structuredClone(document) as Record<string, unknown>;
  for (const entry of summary.uncertain) setPath(medians, entry.field, entry.p50);
  const metric = summary.metrics[summary.tornado.metric];
  return {
    document: medians,
    simulation: {
      draws: summary.draws,
      seed: summary.seed,
      metric: summary.tornado.metric,
      samples: run.primarySamples,
      p5: metric?.p5 ?? Number.NaN,
      p50: metric?.p50 ?? Number.NaN,
      p95: metric?.p95 ?? Number.NaN,
      winnerProbability: Object.fromEntries(
        Object.entries(summary.winner_probability).map(([name, entry]) => [name, entry.probability]),
      ),
      tornado: summary.tornado.rows.map((row) => ({
        input: row.field,
        low: row.low,
        high: row.high,
        outputAtLow: row.output_at_low,
        outputAtHigh: row.output_at_high,
      })),
      base: summary.tornado.base,
    },
  };
}

function setPath(root: Record<string, unknown>, path: string, value: number): void {
  const keys = path.split('.');
  let node: Record<string, unknown> = root;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys[keys.length - 1] as string] = value;
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'one self-contained HTML report of a rent-vs-own scenario, with charts',
  help() {
    return [
      'autocap report: one self-contained HTML report of a rent-vs-own scenario, with charts',
      '',
      'Usage: autocap report <scenario.yaml|json> --out <file.html> [--set path=value]... [--json]',
      `Example: autocap report ${EXAMPLE}`,
      '',
      'The scenario is a rent-vs-own scenario (see `autocap rent-vs-own --help` for its fields).',
      'The page has the key figures, the defaults used with their sources, and charts: NPV of cost',
      'by option, cumulative cash flows of each option, book against economic value of one owned',
      'GPU, and the appreciation condition by year. It opens offline: no scripts, fonts or network.',
      'A scenario with distributions (see `autocap simulate --help`) is simulated first: the page adds',
      'the distribution of the headline figure and the tornado (--draws, --seed, --metric apply).',
    ].join('\n');
  },
  run(args, io) {
    const [path, ...extra] = args.positionals;
    if (path === undefined || extra.length > 0) {
      throw new CliError(
        `autocap report takes one scenario file (example: autocap report ${EXAMPLE})`,
        'E_USAGE',
      );
    }
    const out = args.out;
    if (out === undefined || out.trim() === '') {
      throw new CliError(
        `report needs --out <file.html>, where to write the page (example: autocap report ${EXAMPLE})`,
        'E_USAGE',
      );
    }
    const { block, document: loaded } = splitSimulationBlock(loadScenario(path, args.set, io), path);
    const { document, simulation } = simulateIfUncertain(loaded, {
      draws: args.draws ?? block.draws,
      seed: args.seed ?? block.seed,
      metric: args.metric ?? block.metric,
      source: path,
    });
    const result = gatherReportData({
      scenarioPath: path,
      document,
      data: referenceData,
      description: openingComment(path, io),
      simulation,
    });
    if (!result.ok) {
      const plural = result.issues.length === 1 ? '1 problem' : `${result.issues.length} problems`;
      throw new CliError(
        `${path}: ${plural} in the scenario\n${result.issues.map((entry) => `  - ${entry.message}`).join('\n')}`,
        'E_SCENARIO',
      );
    }
    const data = result.value;
    const { html, charts } = renderReport(data, { generatedAt: new Date() });
    try {
      writeFileSync(out, html);
    } catch (error) {
      throw new CliError(`--out ${out}: cannot write the report (${reason(error)})`, 'E_IO');
    }
    const { output } = data.rentVsOwn;
    const npv = output.options[output.winner]?.npv_cost_usd ?? 0;
    if (args.json) {
      printJson(io, {
        command: 'report',
        scenario: path,
        out,
        winner: output.winner,
        winner_npv_cost_usd: npv,
        own_vs_best_rented_usd: output.advantage_attribution_usd.total,
        charts,
        bytes: Buffer.byteLength(html),
      });
      return 0;
    }
    const advantage = output.advantage_attribution_usd.total;
    io.stdout(
      `${output.winner} wins at ${usd(npv)} NPV of cost; owning vs ${output.best_rented}: ${advantage > 0 ? '+' : ''}${usd(advantage)}; ${charts.length} charts\n` +
        `Wrote ${out}\n`,
    );
    return 0;
  },
};
