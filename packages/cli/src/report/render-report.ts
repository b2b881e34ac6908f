/**
 * The HTML report: one self-contained page (inline CSS and SVG, no scripts, fonts or network
 * requests). Pure: the data and the generation time come in, the page goes out.
 */
import type { DefaultUsed } from '@autocap/econ';
import { integer, percent, significant, usd } from '../format/number.js';
import { appreciationChart, bookChart, cashFlowChart, npvChart, simulationSection } from './report-charts.js';
import {
  finite,
  h,
  OPTION_COLORS,
  OPTION_LABELS,
  optionEntries,
  signedRate,
  signedUsd,
  swatch,
  utc,
} from './report-format.js';
import type { RenderedReport, RenderOptions, ReportData } from './report-types.js';

export type { RenderedReport, RenderOptions, ReportData, ReportSimulation } from './report-types.js';

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
