import { tco } from '@autocap/econ';
import { integer, percent, significant, usd } from '../format/number.js';
import { section, table } from '../format/table.js';
import { analysisCommand } from './analysis-command.js';
import type { Command } from './command.js';

const CATEGORIES = ['electricity', 'colocation', 'staff', 'maintenance', 'software'] as const;

export const tcoCommand: Command = analysisCommand({
  analysis: tco,
  example: 'examples/tco-100-h100-5y.yaml',
  render({ inputs, output }) {
    const years = inputs.horizon_years;
    const headline = section(`Fleet of ${integer(inputs.count)} GPUs over ${significant(years)} years`, [
      [
        'Capex',
        usd(output.capex_usd),
        `GPUs ${usd(output.gpu_capex_usd)}, other ${usd(inputs.other_capex_usd)}`,
      ],
      ['Opex per year', usd(output.opex_usd_per_year)],
      ['Total cost', usd(output.total_cost_usd), 'capex + undiscounted opex'],
      ['GPU share of total', percent(output.gpu_share_of_total)],
      [
        'NPV of cost',
        usd(output.npv_cost_usd),
        `at ${percent(inputs.discount_rate)}/yr, net of ${usd(output.residual_value_usd)} residual`,
      ],
      [
        'Levelized cost',
        `${usd(output.levelized_cost_per_gpu_hour_usd)}/GPU-hr`,
        `at ${percent(inputs.utilization, 0)} utilization`,
      ],
      ...(output.levelized_cost_per_mtok_usd === null
        ? []
        : [
            [
              'Levelized cost per Mtok',
              usd(output.levelized_cost_per_mtok_usd),
              `at ${significant(inputs.throughput_tokens_per_second_per_gpu ?? 0)} tok/s per GPU`,
            ] as [string, string, string],
          ]),
    ]);
    const levelized = output.levelized_breakdown_per_gpu_hour_usd;
    const breakdown = table(
      [
        { header: 'Cost' },
        { header: 'USD/year', align: 'right' },
        { header: 'USD/GPU-hr', align: 'right' },
        { header: 'Share', align: 'right' },
      ],
      [
        [
          'capital recovery',
          usd(levelized.capital * output.delivered_gpu_hours_per_year),
          usd(levelized.capital),
          percent(levelized.capital / output.levelized_cost_per_gpu_hour_usd),
        ],
        ...CATEGORIES.map((name) => [
          name,
          usd(output.opex_breakdown_usd_per_year[name]),
          usd(levelized[name]),
          percent(levelized[name] / output.levelized_cost_per_gpu_hour_usd),
        ]),
        [
          'total',
          usd(output.levelized_cost_per_gpu_hour_usd * output.delivered_gpu_hours_per_year),
          usd(output.levelized_cost_per_gpu_hour_usd),
          '100.0%',
        ],
      ],
    );
    return `${headline}\n\nLevelized cost by category\n${breakdown}`;
  },
});
