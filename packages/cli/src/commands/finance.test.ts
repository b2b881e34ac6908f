import { describe, expect, it } from 'vitest';
import { runCli, scenarioFile } from '../test-support.js';

const EXAMPLE = 'examples/finance-h100-debt.yaml';

type FinanceJson = {
  readonly command: string;
  readonly months: number;
  readonly balance_usd: readonly number[];
  readonly economic_value_usd: readonly number[];
  readonly debt_service_usd: readonly number[];
  readonly net_operating_income_usd: readonly number[];
  readonly equity_cash_flow_usd: readonly number[];
  readonly underwater_month: number | null;
  readonly dscr_by_year: readonly { year: number; dscr: number | null }[];
  readonly min_dscr: number | null;
  readonly breakeven_rental_price_per_gpu_hour: number;
  readonly capex_recovery_price_per_gpu_hour: number;
  readonly equity_irr: number | null;
  readonly equity_npv_usd: number;
  readonly defaults_used: readonly { field: string; source: string }[];
  readonly inputs: { readonly loan: { readonly amortization: string } };
};

async function financeJson(...args: string[]): Promise<FinanceJson> {
  const result = await runCli(['finance', ...args, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as FinanceJson;
}

describe('autocap finance', () => {
  it('prints the example as a table', async () => {
    const result = await runCli(['finance', EXAMPLE]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Debt-financed fleet of 1,024 GPUs');
    expect(result.stdout).toMatch(/Underwater from +month 18/);
    expect(result.stdout).toMatch(/Break-even rent, DSCR 1 +\$2\.94\/GPU-hr/);
    expect(result.stdout).toContain('finance.discount_rate');
  });

  it('prints exactly one JSON object with the monthly series and the key figures', async () => {
    const output = await financeJson(EXAMPLE);
    expect(output.command).toBe('finance');
    expect(output.months).toBe(60);
    expect(output.balance_usd).toHaveLength(61);
    expect(output.economic_value_usd).toHaveLength(61);
    expect(output.debt_service_usd).toHaveLength(60);
    expect(output.net_operating_income_usd).toHaveLength(60);
    expect(output.equity_cash_flow_usd).toHaveLength(61);
    expect(output.underwater_month).toBe(18);
    expect(output.dscr_by_year.map((entry) => entry.year)).toEqual([1, 2, 3, 4, 5]);
    expect(output.min_dscr).toBeCloseTo(0.711, 3);
    expect(output.breakeven_rental_price_per_gpu_hour).toBeCloseTo(2.94, 2);
    expect(output.capex_recovery_price_per_gpu_hour).toBeCloseTo(2.8, 2);
    expect(output.inputs.loan.amortization).toBe('annuity');
    expect(output.defaults_used.map((entry) => entry.field)).toContain('finance.discount_rate');
  });

  it('applies --set to the loan and the rent', async () => {
    const base = await financeJson(EXAMPLE);
    const riskier = await financeJson(EXAMPLE, '--set', 'loan.loan_to_value=0.85');
    expect(riskier.breakeven_rental_price_per_gpu_hour).toBeGreaterThan(
      base.breakeven_rental_price_per_gpu_hour,
    );
    expect(riskier.capex_recovery_price_per_gpu_hour).toBe(base.capex_recovery_price_per_gpu_hour);
    const flat = await financeJson(EXAMPLE, '--set', 'rental.price_decline_per_year=0');
    expect(flat.underwater_month).toBeNull();
    expect(flat.min_dscr).toBeGreaterThan(1);
  });

  const refusals: [string, string, RegExp][] = [
    [
      'a loan-to-value above 1',
      'fleet: {gpu: h100-sxm, count: 8}\nloan: {loan_to_value: 1.5, interest_rate: 0.12, term_months: 48}',
      /loan\.loan_to_value is 1\.5: expected a number \(loan as a fraction of fleet capex\), at least 0 and at most 1/,
    ],
    [
      'an unknown amortization',
      'fleet: {gpu: h100-sxm, count: 8}\nloan: {loan_to_value: 0.7, interest_rate: 0.12, term_months: 48, amortization: balloon}',
      /loan\.amortization is "balloon": expected one of annuity, straight, bullet/,
    ],
    [
      'a loan longer than the fleet lives',
      'fleet: {gpu: h100-sxm, count: 8}\nloan: {loan_to_value: 0.7, interest_rate: 0.12, term_months: 84}',
      /loan\.term_months \(84\) is longer than the fleet's life \(60 months\)/,
    ],
    [
      'no loan',
      'fleet: {gpu: h100-sxm, count: 8}',
      /loan is missing: expected the loan \{loan_to_value, interest_rate, term_months/,
    ],
    [
      'a misspelt field',
      'fleet: {gpu: h100-sxm, count: 8}\nloan: {ltv: 0.7, interest_rate: 0.12, term_months: 48}',
      /loan\.ltv is not a known field/,
    ],
  ];
  for (const [name, text, message] of refusals) {
    it(`refuses ${name}: exit 2, the field named, no stack trace`, async () => {
      const result = await runCli(['finance', scenarioFile(text)]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('lists the loan fields in its help', async () => {
    const { code, stdout } = await runCli(['finance', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('loan.loan_to_value (required)');
    expect(stdout).toContain('loan.amortization\n      one of annuity, straight, bullet');
    expect(stdout).toContain('rental.price_usd_per_gpu_hour');
  });
});
