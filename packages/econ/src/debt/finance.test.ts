import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../analysis.js';
import { FLEET_100_H100 as FLEET } from '../test-support/fixtures.js';
import { referenceData } from '../test-support/reference-data.js';
import { computeDebtFinance, finance, internalRateOfReturn } from './finance.js';
import type { DebtFinanceInputs } from './finance-scenario.js';

// The 100-H100 fleet (capex $4.8M, opex $756,157.60 a year, salvage $480,000, 60 months) rented
// at $3 for 70% of its hours, flat: 51,100 busy hours a month, $153,300 of revenue, $63,013.13 of
// running costs, NOI $90,286.87 a month. A 70% loan is $3,360,000.
const RUNNING = 756_157.6 / 12;
const HOURS = 100 * 730 * 0.7;
const NOI = 3 * HOURS - RUNNING;
const LOAN = 3_360_000;

function scenario(loan: object, extra: object = {}) {
  return {
    fleet: FLEET,
    finance: { discount_rate: 0.1 },
    loan: { loan_to_value: 0.7, interest_rate: 0.12, term_months: 48, ...loan },
    rental: { price_usd_per_gpu_hour: 3, utilization: 0.7, price_decline_per_year: 0 },
    ...extra,
  };
}

function report(document: unknown) {
  const result = runAnalysis(finance, document, referenceData);
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value;
}
const run = (document: unknown) => report(document).output;

function refused(document: unknown) {
  const result = runAnalysis(finance, document, referenceData);
  if (result.ok) throw new Error('expected the scenario to be refused');
  return result.issues;
}

const withPrice = (document: ReturnType<typeof scenario>, price: number) => ({
  ...document,
  rental: { ...document.rental, price_usd_per_gpu_hour: price },
});

describe('finance: the loan schedule', () => {
  it('pays the closed-form annuity P r / (1 - (1 + r)^-n) and amortizes to zero', () => {
    const output = run(scenario({ amortization: 'annuity' }));
    const r = 0.12 / 12;
    const payment = (LOAN * r) / (1 - (1 + r) ** -48);
    expect(payment).toBeCloseTo(88_481.69, 2);
    expect(output.loan_usd).toBe(LOAN);
    expect(output.monthly_interest_rate).toBe(0.01);
    for (let month = 1; month <= 48; month++) {
      expect(output.debt_service_usd[month - 1]).toBeCloseTo(payment, 6);
      // balance after k payments: P(1+r)^k - A((1+r)^k - 1)/r
      const grown = (1 + r) ** month;
      expect(output.balance_usd[month]).toBeCloseTo(LOAN * grown - (payment * (grown - 1)) / r, 4);
    }
    expect(output.balance_usd[48]).toBe(0);
    expect(output.debt_service_usd.slice(48)).toEqual(Array(12).fill(0));
    expect(output.total_interest_usd).toBeCloseTo(48 * payment - LOAN, 4);
    expect(output.interest_usd[0]).toBeCloseTo(33_600, 9);
  });

  it('repays equal principal on a straight loan, with interest on the falling balance', () => {
    const output = run(scenario({ amortization: 'straight' }));
    for (let month = 1; month <= 48; month++) {
      expect(output.principal_usd[month - 1]).toBeCloseTo(70_000, 6);
      expect(output.interest_usd[month - 1]).toBeCloseTo(0.01 * LOAN * (1 - (month - 1) / 48), 6);
      expect(output.balance_usd[month]).toBeCloseTo(LOAN * (1 - month / 48), 6);
    }
    // interest: 33,600 x (48 + 47 + ... + 1) / 48 = 33,600 x 24.5
    expect(output.total_interest_usd).toBeCloseTo(823_200, 6);
  });

  it('charges interest only on a bullet loan, then the balloon', () => {
    const output = run(scenario({ amortization: 'bullet' }));
    expect(output.debt_service_usd.slice(0, 47)).toEqual(Array(47).fill(33_600));
    expect(output.final_payment_usd).toBe(LOAN + 33_600);
    expect(output.balance_usd[47]).toBe(LOAN);
    expect(output.balance_usd[48]).toBe(0);
    expect(output.total_interest_usd).toBeCloseTo(48 * 33_600, 6);
  });

  it('adds the origination fee to the equity paid at closing', () => {
    const output = run(scenario({ origination_fee: 0.01 }));
    expect(output.origination_fee_usd).toBeCloseTo(33_600, 9);
    expect(output.equity_usd).toBeCloseTo(4_800_000 - LOAN + 33_600, 6);
    expect(output.equity_cash_flow_usd[0]).toBeCloseTo(-(4_800_000 - LOAN + 33_600), 6);
  });
});

describe('finance: coverage and break-even prices', () => {
  it('computes DSCR by loan year by hand', () => {
    const annuity = run(scenario({ amortization: 'annuity' }));
    const payment = (LOAN * 0.01) / (1 - 1.01 ** -48);
    expect(annuity.net_operating_income_usd[0]).toBeCloseTo(90_286.8667, 4);
    expect(annuity.dscr_by_year).toHaveLength(4);
    for (const entry of annuity.dscr_by_year) {
      expect(entry.net_operating_income_usd).toBeCloseTo(12 * NOI, 4);
      expect(entry.debt_service_usd).toBeCloseTo(12 * payment, 4);
      expect(entry.dscr).toBeCloseTo(NOI / payment, 12); // 1.0204
    }
    const straight = run(scenario({ amortization: 'straight' }));
    // year 1: principal 12 x 70,000 = 840,000; interest 33,600 x (12 - (0 + ... + 11)/48) = 357,000
    // year 4: interest 33,600 x (12 - (36 + ... + 47)/48) = 54,600
    const [first, , , last] = straight.dscr_by_year;
    expect(first?.debt_service_usd).toBeCloseTo(1_197_000, 6);
    expect(first?.dscr).toBeCloseTo((12 * NOI) / 1_197_000, 12); // 0.9051
    expect(last?.debt_service_usd).toBeCloseTo(894_600, 6);
    expect(last?.dscr).toBeCloseTo((12 * NOI) / 894_600, 12); // 1.2111
    expect(straight.min_dscr).toBe(first?.dscr);
    expect(straight.min_dscr_year).toBe(1);
  });

  it('finds the rental price at which the minimum DSCR is exactly 1', () => {
    const base = scenario({ amortization: 'straight' });
    const output = run(base);
    // the binding year is year 1: (1,197,000 + 12 x 63,013.13) / (12 x 51,100)
    const expected = (1_197_000 + 756_157.6) / (12 * HOURS);
    expect(output.breakeven_rental_price_per_gpu_hour).toBeCloseTo(expected, 12); // $3.1852
    const at = run(withPrice(base, expected));
    expect(at.min_dscr).toBeCloseTo(1, 12);
    const below = run(withPrice(base, expected * 0.999));
    expect(below.min_dscr).toBeLessThan(1);
    // With a falling price the last loan year binds; the same closed form still gives DSCR 1.
    const falling = { ...base, rental: { ...base.rental, price_decline_per_year: 0.25 } };
    const price = run(falling).breakeven_rental_price_per_gpu_hour;
    const atFalling = run(withPrice(falling, price));
    expect(atFalling.min_dscr).toBeCloseTo(1, 12);
    expect(atFalling.min_dscr_year).toBe(4);
  });

  it('recovers capex at the capex recovery price: unlevered NPV 0 and IRR equal to the discount rate', () => {
    const base = scenario({});
    const price = run(base).capex_recovery_price_per_gpu_hour;
    // PV of revenue = capex + PV of running costs - PV of salvage, a closed-form annuity
    const d = 1.1 ** (-1 / 12);
    const annuity = (d * (1 - d ** 60)) / (1 - d);
    expect(price).toBeCloseTo((4_800_000 + RUNNING * annuity - 480_000 * d ** 60) / (HOURS * annuity), 9);
    const at = run(withPrice(base, price));
    expect(at.project_npv_usd / 4_800_000).toBeCloseTo(0, 9);
    expect(at.project_irr).toBeCloseTo(0.1, 9);
  });

  it('reproduces the ~$1.65/GPU-hr H100 rule of thumb from hand arithmetic', () => {
    // One HGX server: 8 H100s at $31,250 (Epoch, Mar 2025) + 60% for servers and networking =
    // $50,000 a GPU all-in (FACTS.md: $47-52k). Five years, no resale, rented 95% of the hours
    // (plans assume 95-100%), flat price, 10%/yr. The rule counts capex and power only.
    const output = run({
      fleet: {
        count: 8,
        gpu_price_usd: 31_250,
        other_capex_fraction_of_gpu: 0.6,
        power_kw_per_gpu: 1.275,
        pue: 1.3,
        electricity_usd_per_kwh: 0.08,
        colocation_usd_per_year: 0,
        staff_usd_per_year: 0,
        maintenance_fraction_of_capex_per_year: 0,
        software_usd_per_year: 0,
        useful_life_years: 5,
        salvage_fraction: 0,
      },
      finance: { discount_rate: 0.1 },
      loan: { loan_to_value: 0.7, interest_rate: 0.12, term_months: 48 },
      rental: { price_usd_per_gpu_hour: 2, utilization: 0.95, price_decline_per_year: 0 },
    });
    // monthly rate j = 1.1^(1/12) - 1 = 0.0079741; AF(j, 60) = (1 - 1.1^-5) / j = 47.5385
    // capital 50,000 / 47.5385 = $1,051.78 a month; power 1.275 kW x 1.3 x 730 h x $0.08 = $96.80
    // busy hours 730 x 0.95 = 693.5 a month:  (1,051.78 + 96.80) / 693.5 = $1.656 per GPU-hour
    const j = 1.1 ** (1 / 12) - 1;
    const factor = (1 - 1.1 ** -5) / j;
    expect(factor).toBeCloseTo(47.5385, 4);
    const expected = (50_000 / factor + 1.275 * 1.3 * 730 * 0.08) / (730 * 0.95);
    expect(output.capex_recovery_price_per_gpu_hour).toBeCloseTo(expected, 9);
    expect(output.capex_recovery_price_per_gpu_hour).toBeCloseTo(1.656, 3);
    expect(Math.abs(output.capex_recovery_price_per_gpu_hour - 1.65)).toBeLessThan(0.01);
  });
});

describe('finance: underwater month and equity', () => {
  it('goes underwater in the month the balance passes the remaining earnings (bullet, no discounting)', () => {
    const output = run(scenario({ amortization: 'bullet' }, { finance: { discount_rate: 0 } }));
    // economic value W(m) = (60 - m) x 90,286.87 + 480,000 (flat, undiscounted, never retired);
    // the balance stays 3,360,000 until month 48: underwater once 60 - m < 2,880,000 / 90,286.87
    // = 31.898, so from month 29 (W(28) = 3,369,180 > 3,360,000 > W(29) = 3,278,893).
    expect(output.economic_value_usd[28]).toBeCloseTo(32 * NOI + 480_000, 6);
    expect(output.underwater_month).toBe(29);
    expect(output.max_shortfall_usd).toBeCloseTo(LOAN - (13 * NOI + 480_000), 6); // month 47
  });

  it('is underwater from the start when the fleet is worth less than the loan', () => {
    const output = run(withPrice(scenario({}, { finance: { discount_rate: 0 } }), 2));
    // W(0) = 60 x (2 x 51,100 - 63,013.13) + 480,000 = 2,831,212 < 3,360,000
    expect(output.economic_value_usd[0]).toBeCloseTo(60 * (2 * HOURS - RUNNING) + 480_000, 6);
    expect(output.underwater_month).toBe(0);
  });

  it('reduces to plain arithmetic at zero rates', () => {
    const document = scenario({ interest_rate: 0, origination_fee: 0.02 }, { finance: { discount_rate: 0 } });
    const annuity = run(document);
    const straight = run({ ...document, loan: { ...document.loan, amortization: 'straight' } });
    expect(annuity.total_interest_usd).toBe(0);
    expect(annuity.debt_service_usd.slice(0, 48)).toEqual(straight.debt_service_usd.slice(0, 48));
    for (const payment of annuity.debt_service_usd.slice(0, 48)) expect(payment).toBeCloseTo(70_000, 9);
    expect(annuity.balance_usd[24]).toBeCloseTo(LOAN / 2, 6);
    // straight-line balance against a straight-line value that starts higher and falls slower
    expect(annuity.underwater_month).toBeNull();
    // undiscounted: equity = project - fee, since the loan is repaid at par
    expect(annuity.equity_npv_usd).toBeCloseTo(annuity.project_npv_usd - 67_200, 6);
    expect(annuity.project_npv_usd).toBeCloseTo(60 * NOI + 480_000 - 4_800_000, 6);
    expect(annuity.equity_payback_month).not.toBeNull();
  });

  it('leaves NPV unchanged by debt priced at the discount rate, whatever the amortization', () => {
    const rate = 12 * (1.1 ** (1 / 12) - 1); // nominal rate whose monthly rate is the discount rate's
    for (const amortization of ['annuity', 'straight', 'bullet']) {
      const output = run(scenario({ amortization, interest_rate: rate }));
      expect(output.equity_npv_usd).toBeCloseTo(output.project_npv_usd, 5);
    }
  });

  it('reads a price decline as the appreciation rates that make it', () => {
    const declining = run(
      scenario({}, { rental: { price_usd_per_gpu_hour: 3, price_decline_per_year: 0.2 } }),
    );
    // hardware price-performance 25%/yr alone: net rate 1/1.25 - 1 = -0.2
    const { rental: _, ...rest } = scenario({});
    const eroding = run({
      ...rest,
      rental: { price_usd_per_gpu_hour: 3 },
      appreciation: {
        software_progress_per_year: 0,
        hardware_price_performance_per_year: 0.25,
        supply_price_decline_per_year: 0,
        software_pass_through: 0,
        private_premium_per_year: 0,
      },
    });
    expect(eroding.revenue_usd[12]).toBeCloseTo(3 * HOURS * 0.8, 6);
    for (const [index, value] of declining.economic_value_usd.entries())
      expect(value).toBeCloseTo(eroding.economic_value_usd[index] as number, 6);
    expect(declining.breakeven_rental_price_per_gpu_hour).toBeCloseTo(
      eroding.breakeven_rental_price_per_gpu_hour,
      9,
    );
  });

  it('finds the IRR of simple flows', () => {
    expect(internalRateOfReturn([-100, 110])).toBeCloseTo(1.1 ** 12 - 1, 9);
    // -1,000 then 100 a month for 12 months: monthly IRR 2.9229%
    const irr = internalRateOfReturn([-1000, ...Array(12).fill(100)]) ?? 0;
    const monthly = (1 + irr) ** (1 / 12) - 1;
    expect(monthly).toBeCloseTo(0.029229, 6);
    expect(internalRateOfReturn([100, 100])).toBeNull();
  });
});

describe('finance: inputs', () => {
  it('falls back on the catalog rent and the default utilization, with their sources', () => {
    const result = report({
      fleet: { gpu: 'h100-sxm', count: 8 },
      loan: { loan_to_value: 0.7, interest_rate: 0.12, term_months: 48 },
    });
    const fields = result.defaultsUsed.map((entry) => entry.field);
    expect(fields).toContain('rental.price_usd_per_gpu_hour');
    expect(fields).toContain('rental.utilization');
    expect(fields).toContain('appreciation.hardware_price_performance_per_year');
    expect(fields).not.toContain('utilization');
    expect(result.inputs.rental_usd_per_gpu_hour).toBe(referenceData.gpus[0]?.rental_usd_per_hour.typical);
    expect(result.inputs.loan.amortization).toBe('annuity');
    expect(result.inputs.loan.origination_fee).toBe(0);
  });

  it('refuses bad input with issues naming the field', () => {
    const long = refused(scenario({ term_months: 72 }));
    expect(long[0]).toMatchObject({ code: 'out_of_range', path: 'loan.term_months' });
    expect(long[0]?.message).toMatch(
      /^loan\.term_months \(72\) is longer than the fleet's life \(60 months\)/,
    );
    const both = refused(scenario({}, { appreciation: { software_progress_per_year: 0.3 } }));
    expect(both[0]?.path).toBe('rental.price_decline_per_year');
    const shape = refused(scenario({ amortization: 'balloon' }));
    expect(shape[0]?.message).toBe(
      'loan.amortization is "balloon": expected one of annuity, straight, bullet (example: loan.amortization: annuity)',
    );
    const { loan: _, ...noLoan } = scenario({});
    expect(refused(noLoan)[0]).toMatchObject({ code: 'missing', path: 'loan' });
    const ltv = refused(scenario({ loan_to_value: 1.2 }));
    expect(ltv[0]?.message).toMatch(/^loan\.loan_to_value is 1\.2: expected a number \(loan as a fraction/);
    expect(refused(scenario({ ltv: 0.7 }))[0]?.path).toBe('loan.ltv');
    const noPrice = refused({
      fleet: { count: 8, gpu_price_usd: 30_000, power_kw_per_gpu: 1.275 },
      loan: { loan_to_value: 0.7, interest_rate: 0.12, term_months: 48 },
    });
    expect(noPrice[0]).toMatchObject({ code: 'missing', path: 'rental.price_usd_per_gpu_hour' });
  });
});

describe('finance: properties', () => {
  const resolved = report(scenario({}));
  const base: DebtFinanceInputs = resolved.inputs;
  const loan = fc.record({
    loan_to_value: fc.double({ min: 0, max: 1, noNaN: true }),
    interest_rate: fc.double({ min: 0, max: 0.3, noNaN: true }),
    term_months: fc.integer({ min: 1, max: 60 }),
    amortization: fc.constantFrom('annuity' as const, 'straight' as const, 'bullet' as const),
    origination_fee: fc.double({ min: 0, max: 0.05, noNaN: true }),
  });
  const decline = fc.double({ min: -0.2, max: 0.5, noNaN: true });
  const withDecline = (value: number): DebtFinanceInputs => ({
    ...base,
    appreciation: { ...base.appreciation, supply_price_decline_per_year: value },
  });

  it('never lets the balance rise on an annuity or straight loan (property)', () => {
    fc.assert(
      fc.property(loan, (terms) => {
        if (terms.amortization === 'bullet') return true;
        const { balance_usd: balance } = computeDebtFinance({ ...base, loan: terms });
        return balance.every((value, month) => month === 0 || value <= (balance[month - 1] as number) + 1e-6);
      }),
    );
  });

  it('never lowers the break-even price when the loan-to-value rises (property)', () => {
    fc.assert(
      fc.property(loan, decline, fc.double({ min: 0, max: 1, noNaN: true }), (terms, value, more) => {
        const inputs = withDecline(value);
        const higher = Math.min(1, terms.loan_to_value + more * (1 - terms.loan_to_value));
        const low = computeDebtFinance({ ...inputs, loan: terms });
        const high = computeDebtFinance({ ...inputs, loan: { ...terms, loan_to_value: higher } });
        return (
          high.breakeven_rental_price_per_gpu_hour >= low.breakeven_rental_price_per_gpu_hour * (1 - 1e-12)
        );
      }),
    );
  });

  it('has a minimum DSCR of exactly 1 at the break-even price (property)', () => {
    fc.assert(
      fc.property(loan, decline, (terms, value) => {
        if (terms.loan_to_value < 0.01) return true; // no debt service, no DSCR
        const inputs = { ...withDecline(value), loan: terms };
        const price = computeDebtFinance(inputs).breakeven_rental_price_per_gpu_hour;
        const at = computeDebtFinance({ ...inputs, rental_usd_per_gpu_hour: price });
        return Math.abs((at.min_dscr ?? 0) - 1) < 1e-9;
      }),
    );
  });
});
