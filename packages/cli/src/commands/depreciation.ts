import { depreciation } from '@autocap/econ';
import { percent, significant, usd } from '../format/number.js';
import { section, table } from '../format/table.js';
import { analysisCommand } from './analysis-command.js';
import type { Command } from './command.js';

const signed = (fraction: number): string => `${fraction >= 0 ? '+' : ''}${percent(fraction)}/yr`;

export const depreciationCommand: Command = analysisCommand({
  analysis: depreciation,
  example: 'examples/depreciation-h100-appreciation.yaml',
  render({ inputs, output }) {
    const rates = output.appreciation;
    const headline = section(`Book against economic value, ${integerYears(output.months)} of physical life`, [
      ['Capex', usd(output.capex_usd)],
      ['Functional growth', signed(rates.functional_growth_rate), 'software progress and private premium'],
      ['Erosion', signed(-rates.erosion_rate), 'newer hardware, more supply, software renters get too'],
      [
        'Net',
        signed(rates.net_rate),
        rates.appreciates ? 'compute APPRECIATES functionally' : 'compute depreciates',
      ],
      [
        'Economic value at purchase',
        usd(output.economic_value_usd[0] ?? 0),
        `NPV of buying ${usd(output.npv_usd)}`,
      ],
      [
        'Break-even output value',
        `${usd(output.breakeven_market_value_usd_per_gpu_hour)}/GPU-hr`,
        `market today ${usd(inputs.market_value_usd_per_gpu_hour)}/GPU-hr`,
      ],
      [
        'Residual at book end',
        usd(output.residual_value_usd),
        `book says ${usd(output.book_value_usd[Math.min(output.months, Math.round(inputs.book_life_years * 12))] ?? 0)}`,
      ],
      [
        'Stranded from',
        output.stranding_month === null ? 'never' : `month ${output.stranding_month}`,
        'output worth less than running costs',
      ],
      [
        'Book overstates from',
        output.book_exceeds_economic_from_month === null
          ? 'never'
          : `month ${output.book_exceeds_economic_from_month}`,
      ],
    ]);
    const rows: string[][] = [];
    for (let month = 0; month <= output.months; month += 12) {
      const book = output.book_value_usd[month] ?? 0;
      const economic = output.economic_value_usd[month] ?? 0;
      const yearOutput = output.output_value_usd_per_month
        .slice(month, month + 12)
        .reduce((sum, value) => sum + value, 0);
      rows.push([
        String(month / 12),
        usd(book),
        usd(economic),
        usd(economic - book),
        month < output.months ? usd(yearOutput) : '',
      ]);
    }
    const right = { align: 'right' } as const;
    const yearly = table(
      [
        { header: 'Year', ...right },
        { header: 'Book', ...right },
        { header: 'Economic', ...right },
        { header: 'Economic - book', ...right },
        { header: 'Output value in year', ...right },
      ],
      rows,
    );
    return `${headline}\n\nBy year (start of year)\n${yearly}`;
  },
});

function integerYears(months: number): string {
  return `${significant(months / 12)} years`;
}
