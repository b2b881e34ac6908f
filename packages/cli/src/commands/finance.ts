import { finance } from '@autocap/econ';
import { integer, percent, significant, usd } from '../format/number.js';
import { section, table } from '../format/table.js';
import { analysisCommand } from './analysis-command.js';
import type { Command } from './command.js';

const ratio = (value: number | null): string => (value === null ? '-' : `${value.toFixed(2)}x`);
const perHour = (value: number): string => `${usd(value)}/GPU-hr`;
const month = (value: number | null, none: string): string => (value === null ? none : `month ${value}`);
const sumOf = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

export const financeCommand: Command = analysisCommand({
  analysis: finance,
  example: 'examples/finance-h100-debt.yaml',
  render({ inputs, output }) {
    const { loan, fleet } = inputs;
    const price = inputs.rental_usd_per_gpu_hour;
    const rate = `${percent(fleet.discount_rate)}/yr`;
    const headroom = (target: number): string =>
      price >= target
        ? `${percent(price / target - 1)} above it at ${perHour(price)}`
        : `${percent(1 - price / target)} below it at ${perHour(price)}`;
    const headline = section(`Debt-financed fleet of ${integer(fleet.count)} GPUs`, [
      ['Capex', usd(output.capex_usd), `${usd(output.capex_usd / fleet.count)} per GPU all-in`],
      [
        'Loan',
        usd(output.loan_usd),
        `${percent(loan.loan_to_value, 0)} LTV, ${percent(loan.interest_rate)}/yr, ${loan.term_months} months, ${loan.amortization}`,
      ],
      [
        'Equity at closing',
        usd(output.equity_usd),
        output.origination_fee_usd > 0 ? `incl. ${usd(output.origination_fee_usd)} fee` : '',
      ],
      [
        'First payment',
        usd(output.first_payment_usd),
        loan.amortization === 'bullet'
          ? `interest only, then a ${usd(output.final_payment_usd)} balloon`
          : `total interest ${usd(output.total_interest_usd)}`,
      ],
      [
        'Rental income, month 1',
        usd(output.revenue_usd[0] ?? 0),
        `${perHour(price)} at ${percent(fleet.utilization, 0)} utilization; running costs ${usd(output.running_cost_usd_per_month)}`,
      ],
      [
        'Underwater from',
        month(output.underwater_month, 'never'),
        output.underwater_month === null
          ? 'balance stays below economic value'
          : `balance above economic value, by up to ${usd(output.max_shortfall_usd)}`,
      ],
      [
        'Minimum DSCR',
        ratio(output.min_dscr),
        output.min_dscr_year === null ? '' : `loan year ${output.min_dscr_year}`,
      ],
      [
        'Break-even rent, DSCR 1',
        perHour(output.breakeven_rental_price_per_gpu_hour),
        headroom(output.breakeven_rental_price_per_gpu_hour),
      ],
      [
        'Capex recovery price',
        perHour(output.capex_recovery_price_per_gpu_hour),
        `capex + running costs at ${rate} over ${significant(output.months / 12)} years`,
      ],
      ['Equity NPV', usd(output.equity_npv_usd), `at ${rate}`],
      [
        'Equity IRR',
        output.equity_irr === null ? 'none' : `${percent(output.equity_irr)}/yr`,
        `payback ${month(output.equity_payback_month, 'never')}`,
      ],
      [
        'Unlevered NPV',
        usd(output.project_npv_usd),
        output.project_irr === null ? 'bought with cash' : `IRR ${percent(output.project_irr)}/yr`,
      ],
    ]);

    const rows: string[][] = [];
    for (let year = 1; year <= Math.ceil(output.months / 12); year++) {
      const from = 12 * (year - 1);
      const to = Math.min(12 * year, output.months);
      const dscr = output.dscr_by_year[year - 1];
      rows.push([
        String(year),
        usd(sumOf(output.revenue_usd.slice(from, to))),
        usd(sumOf(output.net_operating_income_usd.slice(from, to))),
        usd(sumOf(output.debt_service_usd.slice(from, to))),
        dscr === undefined ? '' : ratio(dscr.dscr),
        usd(output.balance_usd[to] ?? 0),
        usd(output.economic_value_usd[to] ?? 0),
        usd(sumOf(output.equity_cash_flow_usd.slice(from + 1, to + 1))),
      ]);
    }
    const right = { align: 'right' } as const;
    const yearly = table(
      [
        { header: 'Year', ...right },
        { header: 'Revenue', ...right },
        { header: 'NOI', ...right },
        { header: 'Debt service', ...right },
        { header: 'DSCR', ...right },
        { header: 'Balance', ...right },
        { header: 'Economic value', ...right },
        { header: 'Equity cash', ...right },
      ],
      rows,
    );
    return `${headline}\n\nBy year (balance and economic value at year end; equity cash includes salvage)\n${yearly}`;
  },
});
