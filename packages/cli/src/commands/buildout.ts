import { buildout } from '@autocap/econ';
import { percent, significant, usd } from '../format/number.js';
import { section, table } from '../format/table.js';
import { analysisCommand } from './analysis-command.js';
import type { Command } from './command.js';

const multiple = (ratio: number): string => `${ratio.toFixed(2)}x`;
const signed = (fraction: number): string => `${fraction > 0 ? '+' : ''}${percent(fraction)}/yr`;
const signedUsd = (value: number): string => `${value > 0 ? '+' : ''}${usd(value)}`;
const capacity = (mw: number): string =>
  mw >= 1000 ? `${significant(mw / 1000)} GW` : `${significant(mw)} MW`;

export const buildoutCommand: Command = analysisCommand({
  analysis: buildout,
  example: 'examples/buildout-1gw.yaml',
  render({ inputs, output }) {
    const years = `${significant(output.replacement_after_years)} years`;
    const shortfall = output.breakeven_revenue_usd_per_year - output.revenue_usd_per_year;
    const headline = section(`Buildout of ${capacity(inputs.capacity_mw)}`, [
      ['Capex', usd(output.capex_usd), `${usd(output.capex_usd_per_mw)} per MW`],
      ['D&A per year', usd(output.da_usd_per_year), 'straight-line over each component life'],
      [
        'Revenue per year',
        usd(output.revenue_usd_per_year),
        `at a ${percent(inputs.cash_operating_margin, 0)} cash operating margin`,
      ],
      [
        'Revenue / D&A',
        multiple(output.revenue_to_da),
        `break-even ${multiple(output.breakeven_revenue_to_da)}`,
      ],
      [
        'ROIC',
        percent(output.roic),
        `WACC ${percent(inputs.wacc)}: ${output.earns_wacc ? 'earns its cost of capital' : 'below the cost of capital'}`,
      ],
      [
        'Economic profit per year',
        usd(output.economic_profit_usd_per_year),
        `NOPAT ${usd(output.nopat_usd_per_year)} at ${percent(inputs.tax_rate, 0)} tax, less WACC x capex`,
      ],
      [
        'Break-even revenue',
        usd(output.breakeven_revenue_usd_per_year),
        shortfall > 0 ? `${usd(shortfall)} a year short` : `${usd(-shortfall)} a year to spare`,
      ],
      ['Replacement cost', usd(output.replacement_cost_usd), `the same build in ${years}`],
      ['Replacement gap', signedUsd(output.replacement_gap_usd), 'replacement cost - historic capex'],
      [
        'D&A gap per year',
        signedUsd(output.replacement_gap_da_usd_per_year),
        `${usd(output.replacement_da_usd_per_year)} at replacement cost, less ${usd(output.da_usd_per_year)} at historic`,
      ],
    ]);
    const right = { align: 'right' } as const;
    const components = table(
      [
        { header: 'Component' },
        { header: 'Capex', ...right },
        { header: 'Share', ...right },
        { header: 'Life', ...right },
        { header: 'D&A/year', ...right },
        { header: 'Price trend', ...right },
        { header: `Replacement in ${years}`, ...right },
      ],
      [
        ...output.components.map((entry) => [
          entry.name.replaceAll('_', ' '),
          usd(entry.capex_usd),
          percent(entry.share_of_capex),
          `${significant(entry.useful_life_years)}y`,
          usd(entry.da_usd_per_year),
          signed(entry.price_change_per_year),
          usd(entry.replacement_cost_usd),
        ]),
        [
          'total',
          usd(output.capex_usd),
          '100.0%',
          '',
          usd(output.da_usd_per_year),
          '',
          usd(output.replacement_cost_usd),
        ],
      ],
    );
    return `${headline}\n\nBy component\n${components}`;
  },
});
