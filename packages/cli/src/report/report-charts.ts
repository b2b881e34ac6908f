/** The report's figures: NPV by option, cumulative cash flows, book against economic value, appreciation, and the simulation's distribution and tornado. */
import { integer, percent, significant, usd } from '../format/number.js';
import {
  COLORS,
  figure,
  h,
  OPTION_COLORS,
  OPTION_LABELS,
  optionEntries,
  signedRate,
  swatch,
  usdAxis,
} from './report-format.js';
import type { ReportData, ReportSimulation } from './report-types.js';
import { barChart, lineChart } from './svg-chart.js';
import { histogram, tornadoChart } from './svg-distribution.js';

export function npvChart(data: ReportData): string {
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

export function cashFlowChart(data: ReportData): string {
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

export function bookChart(data: ReportData): string {
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

export function appreciationChart(data: ReportData): string {
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

export function simulationSection(simulation: ReportSimulation): { html: string; charts: string[] } {
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
