/**
 * The HTML report: one self-contained page (inline CSS and SVG, no scripts, fonts or network
 * requests). Pure: the data and the generation time come in, the page goes out.
 */
import type {
  DefaultUsed,
  DepreciationInputs,
  DepreciationOutput,
  OptionName,
  RentVsOwnInputs,
  RentVsOwnOutput,
} from '@autocap/econ';
import { integer, percent, significant, usd } from '../format/number.js';
import { barChart, lineChart } from './svg-chart.js';
import { histogram, tornadoChart } from './svg-distribution.js';
import { escapeXml } from './svg-frame.js';

/** A Monte Carlo run over the scenario's uncertain inputs, as `autocap simulate` produces it. */
export interface ReportSimulation {
  readonly draws: number;
  readonly seed: number;
  /** Label of the simulated output, e.g. "Owning's NPV advantage (USD)". */
  readonly metric: string;
  /** One value per draw, for the histogram. */
  readonly samples: Float64Array;
  readonly p5: number;
  readonly p50: number;
  readonly p95: number;
  /** Share of draws each option wins, by option name. */
  readonly winnerProbability: Readonly<Record<string, number>>;
  readonly tornado: readonly {
    input: string;
    low: number;
    high: number;
    outputAtLow: number;
    outputAtHigh: number;
  }[];
  /** The metric with every input at its median. */
  readonly base: number;
}

/** Everything the page shows, gathered by `report-data.ts`. */
export interface ReportData {
  readonly scenario: {
    readonly path: string;
    /** Short name: the file name without its extension. */
    readonly name: string;
    /** The scenario file's opening comment, if it has one. */
    readonly description?: string | undefined;
    /** Display name of the fleet's GPU, if it names a catalog GPU. */
    readonly gpu?: string | undefined;
  };
  readonly rentVsOwn: { readonly inputs: RentVsOwnInputs; readonly output: RentVsOwnOutput };
  /** Depreciation of one owned GPU of the same fleet, with the same appreciation inputs. */
  readonly depreciation: { readonly inputs: DepreciationInputs; readonly output: DepreciationOutput };
  readonly defaultsUsed: readonly DefaultUsed[];
  /** How the depreciation inputs were derived from the rent-vs-own scenario, and what that loses. */
  readonly assumptions: readonly string[];
  readonly warnings: readonly string[];
  readonly simulation?: ReportSimulation | undefined;
}

export interface RenderOptions {
  /** When the report was made, printed in UTC; passed in so that rendering has no hidden clock. */
  readonly generatedAt: Date;
}

export interface RenderedReport {
  readonly html: string;
  /** The `data-chart` id of every chart on the page, in order. */
  readonly charts: readonly string[];
}

export const OPTION_LABELS: Readonly<Record<OptionName, string>> = {
  own: 'own the fleet (bursting above it)',
  hybrid: 'own the base load, rent the rest',
  rent: 'rent GPU-hours',
  api: 'buy API tokens',
};

/** One colour per option, the same in every chart and table. */
export const OPTION_COLORS: Readonly<Record<OptionName, string>> = {
  own: '#2563eb',
  hybrid: '#7c3aed',
  rent: '#ea580c',
  api: '#0d9488',
};

const COLORS = {
  book: '#64748b',
  economic: '#2563eb',
  growth: '#16a34a',
  erosion: '#dc2626',
  net: '#0f172a',
  histogram: '#6366f1',
  low: '#0ea5e9',
  high: '#f97316',
  alert: '#b91c1c',
} as const;

const h = escapeXml;

/** Axis labels: $0, $500k, $1.5M, -$2M. */
export function usdAxis(value: number): string {
  const sign = value < 0 ? '-' : '';
  const size = Math.abs(value);
  const short = (scaled: number): string => String(Number(scaled.toPrecision(3)));
  if (size >= 1e12) return `${sign}$${short(size / 1e12)}T`;
  if (size >= 1e9) return `${sign}$${short(size / 1e9)}B`;
  if (size >= 1e6) return `${sign}$${short(size / 1e6)}M`;
  if (size >= 1e3) return `${sign}$${short(size / 1e3)}k`;
  return `${sign}$${short(size)}`;
}

const signedRate = (fraction: number): string =>
  `${fraction >= 0 ? '+' : '−'}${percent(Math.abs(fraction))}/yr`;
const signedUsd = (value: number): string => (value > 0 ? `+${usd(value)}` : usd(value));
const finite = (value: number, format: (value: number) => string): string =>
  Number.isFinite(value) ? format(value) : 'n/a';

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function optionEntries(
  output: RentVsOwnOutput,
): [OptionName, NonNullable<RentVsOwnOutput['options']['own']>][] {
  return (Object.entries(output.options) as [OptionName, RentVsOwnOutput['options']['own']][])
    .filter((entry): entry is [OptionName, NonNullable<RentVsOwnOutput['options']['own']>] => !!entry[1])
    .sort(([, a], [, b]) => a.npv_cost_usd - b.npv_cost_usd);
}

const swatch = (color: string): string => `<span class="swatch" style="background:${color}"></span>`;

function figure(options: { id: string; title: string; caption: string; svg: string; note?: string }): string {
  return [
    `<figure id="${h(options.id)}">`,
    `<h3>${h(options.title)}</h3>`,
    options.svg,
    `<figcaption>${h(options.caption)}${options.note ? ` <strong>${h(options.note)}</strong>` : ''}</figcaption>`,
    '</figure>',
  ].join('\n');
}

function keyFigures(data: ReportData): string {
  const { inputs, output } = data.rentVsOwn;
  const gpu = data.depreciation.output;
  const rates = gpu.appreciation;
  const a = output.advantage_attribution_usd;
  const winner = output.options[output.winner];
  const rented = output.best_rented;
  const rows: [string, string, string][] = [
    [
      'Winner',
      `${output.winner}: ${OPTION_LABELS[output.winner]}`,
      `NPV of cost ${usd(winner?.npv_cost_usd ?? 0)}`,
    ],
    ['Own vs best rented', signedUsd(a.total), `NPV advantage of owning the fleet over ${rented}`],
    ['  from the base case', signedUsd(a.base), 'no software progress, premium or sovereignty'],
    [
      '  from functional appreciation',
      signedUsd(a.functional_appreciation),
      'software progress on owned GPUs',
    ],
    ['  from private premium', signedUsd(a.private_premium), 'owner-only gains'],
    ['  from sovereignty', signedUsd(a.sovereignty), 'not being cut off'],
    [
      'Break-even utilization',
      finite(output.breakeven_utilization, (value) => percent(value)),
      `of the fleet's hours, against ${rented}`,
    ],
    [
      'Break-even volume',
      output.breakeven_tokens_per_month === null
        ? 'none: owning never wins'
        : `${significant(output.breakeven_tokens_per_month / 1e9)}B tokens/month`,
      `today ${significant(inputs.tokens_per_month / 1e9)}B tokens/month`,
    ],
    [
      'Payback',
      output.payback_month === null ? 'never' : `month ${output.payback_month}`,
      `owning against ${rented}, undiscounted`,
    ],
    [
      'Owned GPU, net appreciation',
      signedRate(rates.net_rate),
      `growth ${signedRate(rates.functional_growth_rate)}, erosion ${signedRate(-rates.erosion_rate)}: ${rates.appreciates ? 'appreciates' : 'depreciates'}`,
    ],
    [
      'One GPU: economic value at purchase',
      usd(gpu.economic_value_usd[0] ?? 0),
      `capex ${usd(gpu.capex_usd)}, NPV of buying ${usd(gpu.npv_usd)}`,
    ],
    [
      'Stranded from',
      gpu.stranding_month === null ? 'never' : `month ${gpu.stranding_month}`,
      'output worth less than running costs',
    ],
    [
      'Book overstates economic value from',
      gpu.book_exceeds_economic_from_month === null
        ? 'never'
        : `month ${gpu.book_exceeds_economic_from_month}`,
      'an impairment signal',
    ],
  ];
  const body = rows
    .map(
      ([label, value, note]) =>
        `<tr${label.startsWith('  ') ? ' class="sub"' : ''}><th scope="row">${h(label.trim())}</th><td class="num">${h(value)}</td><td class="note">${h(note)}</td></tr>`,
    )
    .join('\n');
  return `<table class="figures">\n${body}\n</table>`;
}

function optionsTable(data: ReportData): string {
  const { output } = data.rentVsOwn;
  const best = optionEntries(output)[0]?.[1].npv_cost_usd ?? 0;
  const rows = optionEntries(output).map(
    ([name, option]) =>
      `<tr${name === output.winner ? ' class="winner"' : ''}><td>${swatch(OPTION_COLORS[name])}<strong>${h(name)}</strong>: ${h(OPTION_LABELS[name])}</td><td class="num">${h(usd(option.npv_cost_usd))}</td><td class="num">${h(name === output.winner ? 'winner' : `+${usd(option.npv_cost_usd - best)}`)}</td><td class="num">${h(integer(option.gpus))}</td><td class="num">${h(percent(option.owned_share, 0))}</td></tr>`,
  );
  return [
    '<table class="options">',
    '<thead><tr><th>Option</th><th class="num">NPV of cost</th><th class="num">Against the winner</th><th class="num">Owned GPUs</th><th class="num">Owned share of work</th></tr></thead>',
    `<tbody>${rows.join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

function npvChart(data: ReportData): string {
  const { inputs, output } = data.rentVsOwn;
  return figure({
    id: 'figure-npv',
    title: 'NPV of cost by option',
    caption: `Every cash flow over ${significant(inputs.months / 12)} years discounted at ${percent(inputs.fleet.discount_rate)}/yr, net of the residual value of owned GPUs. Lower is better.`,
    svg: barChart({
      id: 'npv-by-option',
      title: 'NPV of cost by option',
      bars: optionEntries(output).map(([name, option]) => ({
        label: name,
        value: option.npv_cost_usd,
        color: OPTION_COLORS[name],
      })),
      valueTitle: 'NPV of cost (USD)',
      categoryTitle: 'Option',
      format: usdAxis,
    }),
  });
}

function cashFlowChart(data: ReportData): string {
  const { inputs, output } = data.rentVsOwn;
  const series = optionEntries(output).map(([name, option]) => {
    let total = 0;
    return {
      name: `${name}: ${OPTION_LABELS[name]}`,
      option: name,
      color: OPTION_COLORS[name],
      points: option.monthly_cash_flows_usd.map((flow, month) => {
        total += flow;
        return [month, total] as const;
      }),
    };
  });
  // An option far above the rest (usually API tokens) would flatten every other line: clip it.
  const peaks = series.map((entry) => Math.max(...entry.points.map(([, y]) => y))).sort((a, b) => b - a);
  const [highest = 0, second = 0] = peaks;
  const clipped = series.length > 1 && highest > 2.5 * second && second > 0;
  const yMax = clipped ? second * 1.6 : undefined;
  const offScale = clipped
    ? series
        .filter((entry) => Math.max(...entry.points.map(([, y]) => y)) > (yMax ?? 0))
        .map((entry) => {
          const final = entry.points[entry.points.length - 1]?.[1] ?? 0;
          return `${entry.option} runs off the top of the chart (${usd(final)} by month ${inputs.months}).`;
        })
        .join(' ')
    : '';
  const payback = output.payback_month;
  return figure({
    id: 'figure-cash',
    title: 'Cumulative cash flows of each option',
    caption: `Running total of each option's cash out, undiscounted: owned GPUs are bought in month 0, running costs and rented overflow are paid monthly, owner-only gains are credited, and the residual value of owned GPUs is credited in month ${inputs.months}.${payback === null ? '' : ` Owning the fleet has paid back against ${output.best_rented} by month ${payback}.`}`,
    note: offScale,
    svg: lineChart({
      id: 'cumulative-cash-flows',
      title: 'Cumulative cash flows of each option',
      series,
      xTitle: 'Month',
      yTitle: 'Cumulative cost (USD)',
      yFormat: usdAxis,
      includeZero: true,
      ...(yMax === undefined ? {} : { yMax }),
      xMarkers:
        payback === null
          ? []
          : [{ x: payback, label: `own pays back vs ${output.best_rented}: month ${payback}` }],
    }),
  });
}

function bookChart(data: ReportData): string {
  const { inputs, output } = data.depreciation;
  const points = (values: readonly number[]): (readonly [number, number])[] =>
    values.map((value, month) => [month / 12, value] as const);
  const markers: { x: number; label: string; color?: string }[] = [];
  if (output.stranding_month !== null)
    markers.push({
      x: output.stranding_month / 12,
      label: `stranded from month ${output.stranding_month}`,
      color: COLORS.alert,
    });
  const overstates = output.book_exceeds_economic_from_month;
  return figure({
    id: 'figure-book',
    title: 'Book against economic value of one owned GPU',
    caption: `Book value falls straight-line from ${usd(output.capex_usd)} (GPU and its share of servers and networking) to salvage over ${significant(inputs.book_life_years)} years. Economic value is what the GPU can still earn: its output at ${usd(inputs.market_value_usd_per_gpu_hour)} per busy GPU-hour today, growing with functional appreciation and eroded by newer hardware and supply, minus running costs, retired for salvage when that is worth more.${overstates === null ? ' Book never overstates economic value.' : ` Book overstates economic value from month ${overstates}.`}`,
    svg: lineChart({
      id: 'book-vs-economic',
      title: 'Book against economic value of one owned GPU',
      series: [
        {
          name: 'Book value (straight-line)',
          color: COLORS.book,
          points: points(output.book_value_usd),
          dashed: true,
        },
        { name: 'Economic value', color: COLORS.economic, points: points(output.economic_value_usd) },
      ],
      xTitle: 'Years since purchase',
      yTitle: 'Value of one GPU (USD)',
      yFormat: usdAxis,
      includeZero: true,
      xMarkers: markers,
    }),
  });
}

function appreciationChart(data: ReportData): string {
  const rates = data.depreciation.output.appreciation;
  const years = rates.by_year;
  const verdict = rates.appreciates
    ? `Appreciates: net ${signedRate(rates.net_rate)}`
    : `Depreciates: net ${signedRate(rates.net_rate)}`;
  return figure({
    id: 'figure-appreciation',
    title: `Appreciation condition by year: ${verdict.toLowerCase()}`,
    caption: `What one owned GPU produces grows ${signedRate(rates.functional_growth_rate)} (software progress and owner-only gains); what a unit of that output is worth erodes ${signedRate(-rates.erosion_rate)} (newer hardware, more supply, and the software progress renters get too). The GPU appreciates functionally when the value of its output (their product) stays above the purchase level.`,
    svg: lineChart({
      id: 'appreciation-by-year',
      title: 'Appreciation condition by year',
      series: [
        {
          name: `Output (functional growth ${signedRate(rates.functional_growth_rate)})`,
          color: COLORS.growth,
          points: years.map((entry) => [entry.year, entry.output] as const),
          dots: true,
        },
        {
          name: `Value per unit of output (erosion ${signedRate(-rates.erosion_rate)})`,
          color: COLORS.erosion,
          points: years.map((entry) => [entry.year, entry.unit_value] as const),
          dots: true,
        },
        {
          name: `Value of output (net ${signedRate(rates.net_rate)})`,
          color: COLORS.net,
          points: years.map((entry) => [entry.year, entry.value] as const),
          dots: true,
        },
      ],
      xTitle: 'Years since purchase',
      yTitle: 'Index, purchase = 1 (log scale)',
      yScale: 'log',
      xFormat: (value) => String(value),
      yFormat: (value) => `${significant(value)}×`,
      yMarkers: [{ y: 1, label: 'purchase level' }],
    }),
  });
}

function simulationSection(simulation: ReportSimulation): { html: string; charts: string[] } {
  const money = /usd/i.test(simulation.metric);
  const format = money ? usdAxis : (value: number): string => significant(value);
  const exact = money ? usd : (value: number): string => significant(value);
  const markers = [
    { x: simulation.p5, label: `p5 ${exact(simulation.p5)}` },
    { x: simulation.p50, label: `p50 ${exact(simulation.p50)}` },
    { x: simulation.p95, label: `p95 ${exact(simulation.p95)}` },
  ];
  const winners = (Object.entries(simulation.winnerProbability) as [string, number][]).sort(
    ([, a], [, b]) => b - a,
  );
  const winnerRows = winners
    .map(([name, share]) => {
      const color = (OPTION_COLORS as Record<string, string | undefined>)[name] ?? COLORS.book;
      const label = (OPTION_LABELS as Record<string, string | undefined>)[name];
      return `<tr><td>${swatch(color)}<strong>${h(name)}</strong>${label ? `: ${h(label)}` : ''}</td><td class="num">${h(percent(share))}</td></tr>`;
    })
    .join('\n');
  const distribution = figure({
    id: 'figure-distribution',
    title: `Distribution of ${simulation.metric}`,
    caption: `${integer(simulation.draws)} draws (seed ${simulation.seed}) over the scenario's uncertain inputs. Dashed lines mark the 5th, 50th and 95th percentiles.`,
    svg: histogram({
      id: 'npv-distribution',
      title: `Distribution of ${simulation.metric}`,
      samples: simulation.samples,
      color: COLORS.histogram,
      seriesLabel: 'Draws per bin',
      xTitle: simulation.metric,
      yTitle: 'Draws',
      xFormat: format,
      markers,
    }),
  });
  const tornado = figure({
    id: 'figure-tornado',
    title: `What moves ${simulation.metric} most`,
    caption: `Each input swung from its low to its high value with every other input at its median; the widest swing is on top. Base (every input at its median): ${exact(simulation.base)}.`,
    svg: tornadoChart({
      id: 'tornado',
      title: `Sensitivity of ${simulation.metric}`,
      base: simulation.base,
      rows: simulation.tornado.map((row) => ({
        label: row.input,
        detail: `${significant(row.low)} to ${significant(row.high)}`,
        outputAtLow: row.outputAtLow,
        outputAtHigh: row.outputAtHigh,
      })),
      xTitle: simulation.metric,
      yTitle: 'Input (low to high)',
      format,
      lowColor: COLORS.low,
      highColor: COLORS.high,
    }),
  });
  const html = [
    '<section id="simulation">',
    '<h2>Uncertainty</h2>',
    `<p class="lede">Across ${integer(simulation.draws)} draws the median of ${h(simulation.metric)} is <strong>${h(exact(simulation.p50))}</strong>, with 90% of draws between ${h(exact(simulation.p5))} and ${h(exact(simulation.p95))}.</p>`,
    '<table class="options compact">',
    '<thead><tr><th>Option</th><th class="num">Wins in share of draws</th></tr></thead>',
    `<tbody>${winnerRows}</tbody>`,
    '</table>',
    distribution,
    tornado,
    '</section>',
  ].join('\n');
  return { html, charts: ['npv-distribution', 'tornado'] };
}

function defaultsTable(defaults: readonly DefaultUsed[]): string {
  if (defaults.length === 0) return '<p>None: every figure came from the scenario.</p>';
  const rows = defaults.map(
    (entry) =>
      `<tr><td><code>${h(entry.field)}</code></td><td class="num">${h(Number(entry.value.toPrecision(6)).toLocaleString('en-US', { maximumFractionDigits: 6 }))}</td><td class="source">${h(entry.source)}</td><td class="date">${h(entry.date)}</td></tr>`,
  );
  return [
    '<table class="defaults">',
    '<thead><tr><th>Field</th><th class="num">Value</th><th>Source</th><th>Date</th></tr></thead>',
    `<tbody>${rows.join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

const STYLE = `
:root { color-scheme: light; --ink: #0f172a; --muted: #475569; --line: #e2e8f0; --panel: #f8fafc; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; background: #f1f5f9; color: var(--ink); font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 40px 32px 48px; background: #fff; min-height: 100vh; box-shadow: 0 0 0 1px var(--line); }
header { border-bottom: 1px solid var(--line); padding-bottom: 20px; margin-bottom: 8px; }
.eyebrow { margin: 0 0 4px; color: var(--accent); font-size: 12px; font-weight: 700; letter-spacing: .08em; text-transform: uppercase; }
h1 { margin: 0 0 6px; font-size: 28px; line-height: 1.2; }
h2 { margin: 36px 0 12px; font-size: 20px; }
h3 { margin: 0 0 8px; font-size: 16px; }
.description { margin: 0 0 10px; color: var(--muted); font-size: 16px; }
.meta { margin: 0; color: var(--muted); font-size: 13px; }
.meta span + span::before { content: "·"; margin: 0 8px; color: #94a3b8; }
code { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; background: var(--panel); padding: 1px 4px; border-radius: 4px; }
.verdict { margin: 20px 0 0; padding: 16px 20px; border-radius: 10px; background: #eff6ff; border: 1px solid #bfdbfe; font-size: 17px; }
.verdict strong { color: #1e3a8a; }
table { width: 100%; border-collapse: collapse; font-size: 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; border-bottom: 2px solid var(--line); }
.num { text-align: right; white-space: nowrap; }
table.figures th { font-weight: 600; width: 36%; }
table.figures tr.sub th { font-weight: 400; padding-left: 28px; color: var(--muted); }
table.figures td.note, td.source { color: var(--muted); font-size: 13px; }
table.options tr.winner td { background: #f5f3ff; }
table.compact { width: auto; min-width: 50%; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 3px; margin-right: 8px; vertical-align: -1px; }
figure { margin: 20px 0; padding: 18px 18px 12px; border: 1px solid var(--line); border-radius: 10px; background: #fff; }
figure svg { display: block; width: 100%; height: auto; font-family: inherit; }
figcaption { margin-top: 8px; color: var(--muted); font-size: 13px; }
figcaption strong { color: var(--ink); font-weight: 600; }
.lede { font-size: 15px; }
ul.assumptions li { margin-bottom: 6px; }
table.defaults td:first-child, table.defaults td.date { white-space: nowrap; }
.warnings { color: #92400e; background: #fffbeb; border: 1px solid #fde68a; border-radius: 8px; padding: 10px 16px; }
footer { margin-top: 40px; padding-top: 16px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12.5px; }
@media print { body { background: #fff; } main { box-shadow: none; padding: 0; } figure { break-inside: avoid; } }
`;

export function renderReport(data: ReportData, options: RenderOptions): RenderedReport {
  const { inputs, output } = data.rentVsOwn;
  const winner = output.options[output.winner];
  const runnerUp = optionEntries(output)[1];
  const margin =
    winner && runnerUp
      ? ` That is ${usd(runnerUp[1].npv_cost_usd - winner.npv_cost_usd)} less than the next best, <strong>${h(runnerUp[0])}</strong>.`
      : '';
  const fleet = `${integer(inputs.fleet.count)} × ${data.scenario.gpu ?? 'GPU'}`;
  const simulation = data.simulation ? simulationSection(data.simulation) : null;
  const charts = [
    'npv-by-option',
    'cumulative-cash-flows',
    'book-vs-economic',
    'appreciation-by-year',
    ...(simulation?.charts ?? []),
  ];
  const generated = utc(options.generatedAt);
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="autocap report">',
    `<title>autocap report: ${h(data.scenario.name)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    '<header>',
    '<p class="eyebrow">autocap report · rent versus own</p>',
    `<h1>${h(data.scenario.name)}</h1>`,
    data.scenario.description ? `<p class="description">${h(data.scenario.description)}</p>` : '',
    `<p class="meta"><span>Scenario <code>${h(data.scenario.path)}</code></span><span>${h(fleet)}</span><span>${h(significant(inputs.months / 12))}-year horizon</span><span>Generated ${h(generated)}</span></p>`,
    `<p class="verdict">Winner: <strong>${h(output.winner)}: ${h(OPTION_LABELS[output.winner])}</strong>, at an NPV of cost of <strong>${h(usd(winner?.npv_cost_usd ?? 0))}</strong>.${margin}</p>`,
    '</header>',
    '<section id="figures">',
    '<h2>Key figures</h2>',
    keyFigures(data),
    '</section>',
    '<section id="options">',
    '<h2>Options</h2>',
    optionsTable(data),
    npvChart(data),
    cashFlowChart(data),
    '</section>',
    '<section id="owned-gpu">',
    '<h2>One owned GPU: value over its life</h2>',
    bookChart(data),
    appreciationChart(data),
    '</section>',
    simulation?.html ?? '',
    '<section id="defaults">',
    '<h2>Defaults used</h2>',
    '<p>Fields the scenario left out, filled from <code>data/defaults.json</code> and the GPU catalog. Override them in the scenario or with <code>--set</code>.</p>',
    defaultsTable(data.defaultsUsed),
    '</section>',
    '<section id="assumptions">',
    '<h2>Assumptions</h2>',
    `<ul class="assumptions">${data.assumptions.map((text) => `<li>${h(text)}</li>`).join('\n')}</ul>`,
    data.warnings.length > 0
      ? `<div class="warnings"><strong>Warnings</strong><ul>${data.warnings.map((text) => `<li>${h(text)}</li>`).join('')}</ul></div>`
      : '',
    '</section>',
    `<footer>Generated by <code>autocap report</code> from <code>${h(data.scenario.path)}</code> on ${h(generated)}. US dollars; rates per year; months from purchase. This page is self-contained: no scripts, fonts or network requests. Formulas: docs/methodology.md.</footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
  return { html: `${html}\n`, charts };
}
