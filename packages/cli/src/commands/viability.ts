import { viability } from '@autocap/econ';
import { barChart } from '../format/chart.js';
import { significant, usd } from '../format/number.js';
import { section } from '../format/table.js';
import { analysisCommand } from './analysis-command.js';
import type { Command } from './command.js';

export const viabilityCommand: Command = analysisCommand({
  analysis: viability,
  example: 'examples/viability-coding-agent.yaml',
  render({ output }) {
    const when = output.viable_now
      ? 'now'
      : output.months_until_viable === null
        ? 'never at these prices (they are not falling)'
        : `in ${significant(output.months_until_viable)} months${output.viable_date ? `, ${output.viable_date}` : ''}`;
    const headline = section('Viability', [
      ['Cost per action', usd(output.cost_per_action_usd)],
      ['Cost per user-month', usd(output.cost_per_user_month_usd)],
      ['Affordable per user-month', usd(output.affordable_cost_per_user_month_usd)],
      [
        'Prices must fall',
        `${significant(output.required_price_drop_factor)}x`,
        output.viable_now ? '(already below the line)' : '',
      ],
      ['Viable', when],
    ]);
    const chart = barChart(
      output.cost_by_year_usd.map((value, year) => ({ label: year === 0 ? 'now' : `+${year}y`, value })),
      {
        title: 'Cost per user-month as prices fall',
        format: usd,
        marker: { value: output.affordable_cost_per_user_month_usd, label: 'affordable' },
      },
    );
    return `${headline}\n\n${chart}`;
  },
});
