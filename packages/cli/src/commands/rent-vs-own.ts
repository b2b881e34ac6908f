import { type RentVsOwnOutput, rentVsOwn } from '@autocap/econ';
import { integer, percent, significant, usd } from '../format/number.js';
import { section, table } from '../format/table.js';
import { analysisCommand } from './analysis-command.js';
import type { Command } from './command.js';

const LABELS: Record<keyof RentVsOwnOutput['options'], string> = {
  own: 'own the fleet (bursting above it)',
  hybrid: 'own the base load, rent the rest',
  rent: 'rent GPU-hours',
  api: 'buy API tokens',
};

export const rentVsOwnCommand: Command = analysisCommand({
  analysis: rentVsOwn,
  example: 'examples/rent-vs-own-70b-chat.yaml',
  render({ inputs, output }) {
    const right = { align: 'right' } as const;
    const entries = Object.entries(output.options) as [
      keyof typeof LABELS,
      NonNullable<RentVsOwnOutput['options']['own']>,
    ][];
    const options = table(
      [
        { header: 'Option' },
        { header: 'NPV of cost', ...right },
        { header: 'GPUs', ...right },
        { header: 'Owned share', ...right },
        { header: '' },
      ],
      entries
        .sort(([, a], [, b]) => a.npv_cost_usd - b.npv_cost_usd)
        .map(([name, option]) => [
          `${name}: ${LABELS[name]}`,
          usd(option.npv_cost_usd),
          integer(option.gpus),
          percent(option.owned_share, 0),
          name === output.winner ? '← winner' : '',
        ]),
    );
    const a = output.advantage_attribution_usd;
    const years = significant(inputs.months / 12);
    const headline = section(`Rent versus own over ${years} years`, [
      ['Winner', output.winner],
      ['Own vs best rented', usd(a.total), `advantage of owning over ${output.best_rented}, in NPV`],
      ['  from the base case', usd(a.base)],
      ['  from functional appreciation', usd(a.functional_appreciation)],
      ['  from private premium', usd(a.private_premium)],
      ['  from sovereignty', usd(a.sovereignty)],
      [
        'Break-even utilization',
        percent(output.breakeven_utilization),
        `of the fleet's hours, against ${output.best_rented}`,
      ],
      [
        'Break-even volume',
        output.breakeven_tokens_per_month === null
          ? 'none: owning never wins'
          : `${significant(output.breakeven_tokens_per_month / 1e9)}B tokens/month`,
        `today: ${significant(inputs.tokens_per_month / 1e9)}B`,
      ],
      [
        'Payback',
        output.payback_month === null ? 'never' : `month ${output.payback_month}`,
        `against ${output.best_rented}, undiscounted`,
      ],
    ]);
    return `${options}\n\n${headline}`;
  },
});
