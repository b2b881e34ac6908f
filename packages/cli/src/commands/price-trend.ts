import { priceTrend } from '@autocap/econ';
import { barChart } from '../format/chart.js';
import { percent, significant, usd } from '../format/number.js';
import { section } from '../format/table.js';
import { analysisCommand } from './analysis-command.js';
import type { Command } from './command.js';

const months = (value: number | null): string =>
  value === null ? 'n/a (not falling)' : `${significant(value)} months`;

export const priceTrendCommand: Command = analysisCommand({
  analysis: priceTrend,
  example: 'examples/price-trend-gpt4-class.yaml',
  render({ inputs, output }) {
    const range = output.annual_decline_range_2se;
    const rows: [string, string, string?][] = [
      [
        'Annual decline',
        percent(output.annual_decline),
        range ? `±2 s.e.: ${percent(range[0])} to ${percent(range[1])}` : 'exact through two points',
      ],
      ['Price divides by', `${significant(output.annual_factor)}x per year`],
      ['Halves every', months(output.halving_months)],
      ['Falls 10x every', months(output.months_per_10x)],
      [
        'Fit R²',
        significant(output.fit_r2, 4),
        `${output.points} points over ${significant(output.span_months)} months`,
      ],
    ];
    if (output.projected_price_usd !== null) {
      rows.push(['Projected price', usd(output.projected_price_usd), `on ${output.projected_date}`]);
    }
    const origin = Math.min(...inputs.months);
    const chart = barChart(
      inputs.prices_usd.map((price, index) => {
        const month = (inputs.months[index] ?? origin) - origin;
        return { label: `+${significant(month)} mo`, value: price };
      }),
      { title: 'Observed prices', format: usd },
    );
    return `${section('Price trend', rows)}\n\n${chart}`;
  },
});
