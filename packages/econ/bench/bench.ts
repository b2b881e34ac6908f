/**
 * `npm run bench` (in packages/econ, or at the root): times each command's core over many inputs,
 * and the CLI's cold start beside a bare `node -e 0` in the same run (alternated, medians).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Analysis, depreciation, rentVsOwn, runAnalysis, simulate } from '../src/index.js';
import { priceTrend } from '../src/price-trend/price-trend.js';
import { roofline } from '../src/roofline/roofline.js';
import { tco } from '../src/tco/tco.js';
import { referenceData } from '../src/test-support/reference-data.js';
import { viability } from '../src/viability/viability.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Median microseconds per full analysis (validate, resolve, compute) over varied scenarios. */
function timeAnalysis<S, I, O>(analysis: Analysis<S, I, O>, scenario: (i: number) => unknown): number {
  const batch = analysis.id === 'rent-vs-own' ? 20 : 2000;
  const samples: number[] = [];
  let sink = 0;
  for (let round = 0; round < 25; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) {
      const result = runAnalysis(analysis, scenario(round * batch + i), referenceData);
      if (!result.ok) throw new Error(result.issues[0]?.message);
      sink += 1;
    }
    samples.push(Number(process.hrtime.bigint() - start) / 1e3 / batch);
  }
  if (sink === 0) throw new Error('unreachable');
  return median(samples.slice(5)); // the first rounds warm the JIT
}

const core = {
  roofline: timeAnalysis(roofline, (i) => ({
    model: { from: 'llama-3.1-70b', bytes_per_param: 1 + (i % 2) },
    gpu: ['h100-sxm', 'h200', 'b200', 'mi300x'][i % 4],
    batch: 1 + (i % 256),
    context_tokens: (i * 97) % 32768,
    gpu_hour_usd: 1 + (i % 50) / 10,
  })),
  tco: timeAnalysis(tco, (i) => ({
    fleet: { gpu: 'h100-sxm', count: 1 + (i % 1000), pue: 1 + (i % 60) / 100 },
    utilization: 0.3 + (i % 70) / 100,
    throughput_tokens_per_second_per_gpu: 1000 + i,
  })),
  'price-trend': timeAnalysis(priceTrend, (i) => ({
    points: Array.from({ length: 12 }, (_, k) => ({
      date: `${2020 + Math.floor(k / 4)}-${String((k % 4) * 3 + 1).padStart(2, '0')}`,
      price_usd: 60 * 0.5 ** k * (1 + (i % 7) / 100),
    })),
    project_to: '2027-01',
  })),
  viability: timeAnalysis(viability, (i) => ({
    app: {
      input_tokens_per_action: 1000 + i,
      output_tokens_per_action: 500,
      actions_per_user_month: 300,
      revenue_per_user_month_usd: 20,
      max_inference_share_of_revenue: 0.3,
    },
    price: { input_per_mtok_usd: 3, output_per_mtok_usd: 15, annual_decline: 0.5 + (i % 40) / 100 },
    as_of: '2026-11',
  })),
  depreciation: timeAnalysis(depreciation, (i) => ({
    fleet: { gpu: 'h100-sxm', count: 1 + (i % 100), useful_life_years: 6 },
    market: { rental_usd_per_gpu_hour: 1.5 + (i % 30) / 10 },
    appreciation: { software_progress_per_year: (i % 50) / 50 },
  })),
  'rent-vs-own': timeAnalysis(rentVsOwn, (i) => ({
    workload: {
      tiers: [
        {
          name: 'chat',
          input_tokens_per_month: 4e11,
          output_tokens_per_month: 1e11 * (1 + (i % 10) / 10),
          owned_input_tokens_per_second_per_gpu: 20000,
          owned_output_tokens_per_second_per_gpu: 1541,
          api_input_per_mtok_usd: 0.6,
          api_output_per_mtok_usd: 0.8,
        },
      ],
      growth_per_year: 0.6,
    },
    fleet: { gpu: 'h100-sxm', count: 64 },
    rent: { gpu_hour_usd: 2 + (i % 10) / 10 },
    sovereignty: { cutoff_probability_per_year: 0.05, days_dark: 18, cost_per_dark_day_usd: 40000 },
  })),
};

/**
 * The issue's target: 100,000 draws of a 10-year monthly rent-versus-own scenario (120 months,
 * four options) with five uncertain inputs, whole runs (draws, evaluation, percentiles, tornado).
 */
function timeSimulation(): { ms: number; path: string } {
  const scenario = {
    workload: {
      tiers: [
        {
          name: 'chat',
          input_tokens_per_month: 4e11,
          output_tokens_per_month: { dist: 'lognormal', median: 1e11, sigma: 0.3 },
          owned_input_tokens_per_second_per_gpu: 20000,
          owned_output_tokens_per_second_per_gpu: 1541,
          api_input_per_mtok_usd: 0.6,
          api_output_per_mtok_usd: 0.8,
        },
      ],
      growth_per_year: { dist: 'triangular', min: 0.2, mode: 0.6, max: 1 },
      peak_to_mean: 1.5,
    },
    fleet: { gpu: 'h100-sxm', count: 64, useful_life_years: 10 },
    horizon_years: 10,
    appreciation: { software_progress_per_year: { dist: 'pert', min: 0.1, mode: 0.3, max: 0.6 } },
    rent: { gpu_hour_usd: { dist: 'uniform', min: 1.5, max: 3 } },
    api: { annual_decline: { dist: 'normal', mean: 0.3, sd: 0.1, min: 0, max: 0.8 } },
    sovereignty: { cutoff_probability_per_year: 0.05, days_dark: 18, cost_per_dark_day_usd: 40000 },
  };
  const times: number[] = [];
  let path = '';
  for (let round = 0; round < 7; round++) {
    const start = process.hrtime.bigint();
    const result = simulate(rentVsOwn, scenario, referenceData, { draws: 100_000, seed: round });
    if (!result.ok) throw new Error(result.issues[0]?.message);
    path = result.value.summary.evaluation.path;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(times.slice(2)), path };
}
const simulation = timeSimulation();

function timeProcess(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const cli: number[] = [];
const bare: number[] = [];
for (let i = 0; i < 21; i++) {
  cli.push(timeProcess(['packages/cli/bin/autocap.mjs', 'tco', 'examples/tco-100-h100-5y.yaml', '--json']));
  bare.push(timeProcess(['-e', '0']));
}

const lines = [
  'autocap econ benchmark (medians)',
  ...Object.entries(core).map(
    ([name, micros]) =>
      `  ${name.padEnd(12)} ${micros.toFixed(2).padStart(8)} µs per analysis (validate + resolve + compute)`,
  ),
  `  simulate     ${simulation.ms.toFixed(0).padStart(8)} ms for 100,000 draws of a 10-year monthly rent-vs-own (${simulation.path} path; ${((simulation.ms * 1e3) / 100_000).toFixed(2)} µs a draw, against ${core['rent-vs-own'].toFixed(0)} µs for one full analysis)`,
  `  CLI cold start  ${median(cli).toFixed(1)} ms for \`autocap tco <example> --json\`; bare \`node -e 0\` ${median(bare).toFixed(1)} ms; ratio ${(median(cli) / median(bare)).toFixed(2)}x`,
];
process.stdout.write(`${lines.join('\n')}\n`);
