/**
 * A debt-financed GPU fleet against its economic value, month by month. Conventions:
 * - The loan's `interest_rate` is a nominal annual rate compounded monthly (i = rate / 12), as
 *   term loans quote it. Cash flows are discounted at the monthly equivalent of the annual
 *   `discount_rate`, (1 + r)^(1/12) - 1, as in depreciation and rent-vs-own.
 * - Rental income and the fleet's economic value come from depreciation (reused, not redone):
 *   month m earns price x busy hours x (1 + net_rate)^((m-1)/12); economic value is the backward
 *   optimal-stopping value of the rest of the fleet's life. The loan is underwater when its
 *   balance, after the month's payment, is above that value.
 * - Debt service is interest plus principal, the balloon of a bullet loan included: the fleet
 *   must earn it, or the owner must refinance it against the fleet's economic value.
 * - Cash flows assume the fleet runs its whole life and is sold for salvage at the end (as
 *   depreciation's break-even does); the origination fee is paid by equity at closing.
 * See docs/methodology.md, "Financing".
 */
import type { Analysis } from '../analysis.js';
import { computeDepreciation } from '../depreciation/depreciation.js';
import { capitalRecoveryFactor, discountFactor, monthlyRate } from '../finance/discount.js';
import {
  type DebtFinanceInputs,
  type DebtFinanceScenario,
  debtFinanceSchema,
  type LoanInputs,
  resolveDebtFinance,
} from './finance-scenario.js';

export interface LoanSchedule {
  /** Balance after each month's payment, month 0 (the loan drawn) to month `months`. */
  readonly balance_usd: readonly number[];
  /** Months 1..`months` (index 0 is month 1); zero after the term. */
  readonly interest_usd: readonly number[];
  readonly principal_usd: readonly number[];
  readonly payment_usd: readonly number[];
}

export interface DscrYear {
  /** Loan year: months 12(year-1)+1 to 12 year, the last one cut at the term. */
  readonly year: number;
  readonly net_operating_income_usd: number;
  readonly debt_service_usd: number;
  /** NOI / debt service; null when there is no debt service. */
  readonly dscr: number | null;
}

export interface DebtFinanceOutput {
  readonly capex_usd: number;
  readonly loan_usd: number;
  readonly origination_fee_usd: number;
  /** Equity paid at closing: capex - loan + fee. */
  readonly equity_usd: number;
  readonly monthly_interest_rate: number;
  readonly first_payment_usd: number;
  /** The payment in the term's last month: the balloon of a bullet loan. */
  readonly final_payment_usd: number;
  readonly total_interest_usd: number;
  /** Months of physical life; the series below run over it. */
  readonly months: number;
  readonly term_months: number;
  /** Month 0 to `months`. */
  readonly balance_usd: readonly number[];
  readonly economic_value_usd: readonly number[];
  /** Months 1..`months` (index 0 is month 1). */
  readonly revenue_usd: readonly number[];
  readonly running_cost_usd_per_month: number;
  readonly net_operating_income_usd: readonly number[];
  readonly interest_usd: readonly number[];
  readonly principal_usd: readonly number[];
  readonly debt_service_usd: readonly number[];
  /** Month 0 (equity at closing, negative) to `months` (with salvage). */
  readonly equity_cash_flow_usd: readonly number[];
  /** First month whose balance is above the fleet's economic value, or null. */
  readonly underwater_month: number | null;
  /** Largest balance - economic value over the loan, 0 if never underwater. */
  readonly max_shortfall_usd: number;
  readonly dscr_by_year: readonly DscrYear[];
  readonly min_dscr: number | null;
  readonly min_dscr_year: number | null;
  /** Lowest month-0 rental price at which NOI covers debt service in every loan year. */
  readonly breakeven_rental_price_per_gpu_hour: number;
  /** Month-0 rental price at which the fleet repays capex and running costs at the discount rate. */
  readonly capex_recovery_price_per_gpu_hour: number;
  readonly equity_npv_usd: number;
  /** Annual rate, (1 + monthly IRR)^12 - 1; null when the flows never change sign. */
  readonly equity_irr: number | null;
  /** First month in which cumulative undiscounted equity cash flow is back to zero, or null. */
  readonly equity_payback_month: number | null;
  /** The same fleet bought with cash: NPV and IRR of -capex, NOI, salvage. */
  readonly project_npv_usd: number;
  readonly project_irr: number | null;
}

/** Interest, principal and balance of a loan of `amount`, month by month over `months`. */
export function loanSchedule(amount: number, loan: LoanInputs, months: number): LoanSchedule {
  const rate = loan.interest_rate / 12;
  const term = loan.term_months;
  const level = amount * capitalRecoveryFactor(rate, term);
  const balances = [amount];
  const interests: number[] = [];
  const principals: number[] = [];
  let balance = amount;
  for (let month = 1; month <= months; month++) {
    const interest = month <= term ? rate * balance : 0;
    let repaid = 0;
    // The term's last payment clears the balance exactly, whatever rounding left of it.
    if (month === term) repaid = balance;
    else if (month < term && loan.amortization === 'annuity') repaid = level - interest;
    else if (month < term && loan.amortization === 'straight') repaid = amount / term;
    balance = month >= term ? 0 : balance - repaid;
    balances.push(balance);
    interests.push(interest);
    principals.push(repaid);
  }
  return {
    balance_usd: balances,
    interest_usd: interests,
    principal_usd: principals,
    payment_usd: interests.map((interest, index) => interest + (principals[index] as number)),
  };
}

/** Present value of `flows` (index = period) at `rate` per period. */
function presentValue(flows: readonly number[], rate: number): number {
  let total = 0;
  flows.forEach((flow, period) => {
    total += flow * discountFactor(rate, period);
  });
  return total;
}

/**
 * Annual IRR of monthly `flows`: scans monthly rates from -20% to +100% for the first sign
 * change of the NPV, then bisects, so with several roots it returns the lowest. Null when the
 * NPV never changes sign (e.g. flows that are all of one sign).
 */
export function internalRateOfReturn(flows: readonly number[]): number | null {
  const npv = (rate: number): number => {
    let total = 0;
    let factor = 1;
    for (const flow of flows) {
      total += flow * factor;
      factor /= 1 + rate;
    }
    return total;
  };
  const step = 0.0025;
  let low = -0.2;
  let atLow = npv(low);
  for (let high = low + step; high <= 1 + 1e-12; high += step) {
    const atHigh = npv(high);
    if (atLow === 0) return (1 + low) ** 12 - 1;
    if (Math.sign(atHigh) !== Math.sign(atLow) && atHigh !== 0) {
      let a = low;
      let b = high;
      for (let iteration = 0; iteration < 200 && b - a > 1e-15; iteration++) {
        const middle = (a + b) / 2;
        if (Math.sign(npv(middle)) === Math.sign(atLow)) a = middle;
        else b = middle;
      }
      return (1 + (a + b) / 2) ** 12 - 1;
    }
    low = high;
    atLow = atHigh;
  }
  return null;
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

export function computeDebtFinance(inputs: DebtFinanceInputs): DebtFinanceOutput {
  const price = inputs.rental_usd_per_gpu_hour;
  const value = computeDepreciation({
    fleet: inputs.fleet,
    book_life_years: inputs.fleet.useful_life_years, // book values are not reported here
    market_value_usd_per_gpu_hour: price,
    appreciation: inputs.appreciation,
  });
  const { months, capex_usd: capex } = value;
  const running = value.running_cost_usd_per_month;
  const revenue = value.output_value_usd_per_month;
  const noi = revenue.map((income) => income - running);
  const salvage = inputs.fleet.salvage_fraction * capex;
  const term = inputs.loan.term_months;

  const loan = inputs.loan.loan_to_value * capex;
  const fee = inputs.loan.origination_fee * loan;
  const schedule = loanSchedule(loan, inputs.loan, months);
  const payments = schedule.payment_usd;

  const economic = value.economic_value_usd;
  let underwater: number | null = null;
  let shortfall = 0;
  schedule.balance_usd.forEach((balance, month) => {
    const gap = balance - (economic[month] as number);
    if (underwater === null && gap > 1e-9) underwater = month;
    shortfall = Math.max(shortfall, gap);
  });

  // NOI in a loan year is p x a - o, linear in the month-0 price p (a: busy GPU-hours weighted
  // by the price path; o: running costs). NOI >= debt service D in every year is then
  // p >= (D + o) / a for every year, so the break-even is the largest of those: closed form,
  // no search. At that price the binding year's DSCR is exactly 1.
  const dscrByYear: DscrYear[] = [];
  let breakeven = 0;
  for (let year = 1; year <= Math.ceil(term / 12); year++) {
    const from = 12 * (year - 1);
    const to = Math.min(12 * year, term);
    const income = sum(noi.slice(from, to));
    const service = sum(payments.slice(from, to));
    const weightedHours = sum(revenue.slice(from, to)) / price;
    breakeven = Math.max(breakeven, (service + running * (to - from)) / weightedHours);
    dscrByYear.push({
      year,
      net_operating_income_usd: income,
      debt_service_usd: service,
      dscr: service > 0 ? income / service : null,
    });
  }
  let minimum: DscrYear | null = null;
  for (const entry of dscrByYear) {
    if (entry.dscr !== null && (minimum === null || entry.dscr < (minimum.dscr as number))) minimum = entry;
  }

  const equityFlows = [-(capex - loan) - fee];
  const projectFlows = [-capex];
  for (let month = 1; month <= months; month++) {
    const end = month === months ? salvage : 0;
    equityFlows.push((noi[month - 1] as number) - (payments[month - 1] as number) + end);
    projectFlows.push((noi[month - 1] as number) + end);
  }
  let cumulative = 0;
  const payback = equityFlows.findIndex((flow, month) => {
    cumulative += flow;
    return month > 0 && cumulative >= 0;
  });
  const discount = monthlyRate(inputs.fleet.discount_rate);

  return {
    capex_usd: capex,
    loan_usd: loan,
    origination_fee_usd: fee,
    equity_usd: capex - loan + fee,
    monthly_interest_rate: inputs.loan.interest_rate / 12,
    first_payment_usd: payments[0] ?? 0,
    final_payment_usd: payments[term - 1] ?? 0,
    total_interest_usd: sum(schedule.interest_usd),
    months,
    term_months: term,
    balance_usd: schedule.balance_usd,
    economic_value_usd: economic,
    revenue_usd: revenue,
    running_cost_usd_per_month: running,
    net_operating_income_usd: noi,
    interest_usd: schedule.interest_usd,
    principal_usd: schedule.principal_usd,
    debt_service_usd: payments,
    equity_cash_flow_usd: equityFlows,
    underwater_month: underwater,
    max_shortfall_usd: shortfall,
    dscr_by_year: dscrByYear,
    min_dscr: minimum?.dscr ?? null,
    min_dscr_year: minimum?.year ?? null,
    breakeven_rental_price_per_gpu_hour: breakeven,
    // The price at which -capex + PV(NOI) + PV(salvage) = 0 is depreciation's break-even.
    capex_recovery_price_per_gpu_hour: value.breakeven_market_value_usd_per_gpu_hour,
    equity_npv_usd: presentValue(equityFlows, discount),
    equity_irr: internalRateOfReturn(equityFlows),
    equity_payback_month: payback === -1 ? null : payback,
    project_npv_usd: presentValue(projectFlows, discount),
    project_irr: internalRateOfReturn(projectFlows),
  };
}

export const finance: Analysis<DebtFinanceScenario, DebtFinanceInputs, DebtFinanceOutput> = {
  id: 'finance',
  summary: 'a debt-financed GPU fleet: when the loan goes underwater, DSCR, break-even rental price',
  schema: debtFinanceSchema,
  resolve: resolveDebtFinance,
  compute: computeDebtFinance,
};
