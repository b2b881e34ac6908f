import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../analysis.js';
import { referenceData } from '../test-support/reference-data.js';
import { type BuildoutInputs, buildout, computeBuildout } from './buildout.js';

// examples/buildout-1gw.yaml, every figure stated.
const GIGAWATT = {
  capacity_mw: 1000,
  capex: {
    silicon: { capex_usd: 35e9, useful_life_years: 5, price_change_per_year: -0.2 },
    power_and_cooling: { capex_usd: 25e9, useful_life_years: 15, price_change_per_year: 0.03 },
    building: { capex_usd: 4e9, useful_life_years: 30, price_change_per_year: 0.03 },
    networking: { capex_usd: 4e9, useful_life_years: 6, price_change_per_year: -0.1 },
    installation_labor: { capex_usd: 3e9, useful_life_years: 15, price_change_per_year: 0.04 },
  },
  revenue_usd_per_year: 11.6e9,
  cash_operating_margin: 0.9,
  wacc: 0.07,
  tax_rate: 0.15,
  replacement_after_years: 5,
};

// A small build to check every formula: 100 MW, $3B of silicon and $2B of power and cooling.
const SMALL = {
  capacity_mw: 100,
  capex: {
    silicon: { capex_usd: 3e9, useful_life_years: 5, price_change_per_year: -0.2 },
    power_and_cooling: { capex_usd: 2e9, useful_life_years: 20, price_change_per_year: 0.04 },
  },
  revenue_usd_per_year: 1.5e9,
  cash_operating_margin: 0.8,
  wacc: 0.1,
  tax_rate: 0.2,
  replacement_after_years: 5,
};

function run(scenario: unknown) {
  const result = runAnalysis(buildout, scenario, referenceData);
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value.output;
}

function refused(scenario: unknown) {
  const result = runAnalysis(buildout, scenario, referenceData);
  if (result.ok) throw new Error('expected the scenario to be refused');
  return result.issues;
}

describe('buildout', () => {
  it('computes D&A, ROIC and the break-even by hand', () => {
    const output = run(SMALL);
    // D&A: 3B / 5 + 2B / 20 = 0.6B + 0.1B = 0.7B a year
    expect(output.capex_usd).toBe(5e9);
    expect(output.capex_usd_per_mw).toBe(5e7);
    expect(output.da_usd_per_year).toBeCloseTo(0.7e9, 3);
    expect(output.components.map((entry) => entry.da_usd_per_year)).toEqual([0.6e9, 0.1e9]);
    expect(output.components.map((entry) => entry.share_of_capex)).toEqual([0.6, 0.4]);
    expect(output.revenue_to_da).toBeCloseTo(1.5 / 0.7, 12);
    // EBITDA 1.5B x 0.8 = 1.2B; EBIT 1.2B - 0.7B = 0.5B; NOPAT 0.5B x 0.8 = 0.4B; ROIC 0.4 / 5 = 8%
    expect(output.cash_operating_profit_usd_per_year).toBeCloseTo(1.2e9, 3);
    expect(output.operating_income_usd_per_year).toBeCloseTo(0.5e9, 3);
    expect(output.nopat_usd_per_year).toBeCloseTo(0.4e9, 3);
    expect(output.invested_capital_usd).toBe(5e9);
    expect(output.roic).toBeCloseTo(0.08, 12);
    expect(output.earns_wacc).toBe(false);
    // economic profit: 0.4B - 0.1 x 5B = -0.1B
    expect(output.economic_profit_usd_per_year).toBeCloseTo(-0.1e9, 3);
    // revenue* = (0.1 x 5B / 0.8 + 0.7B) / 0.8 = (0.625B + 0.7B) / 0.8 = 1.65625B
    expect(output.breakeven_revenue_usd_per_year).toBeCloseTo(1.65625e9, 3);
    expect(output.breakeven_revenue_to_da).toBeCloseTo(1.65625 / 0.7, 12);
  });

  it('prices the next identical build at each component trend', () => {
    const output = run(SMALL);
    // silicon 3B x 0.8^5 = 3B x 0.32768 = 0.98304B; power 2B x 1.04^5 = 2B x 1.2166529024
    const silicon = 0.98304e9;
    const power = 2.4333058048e9;
    expect(output.components.map((entry) => entry.replacement_cost_usd)).toEqual([
      expect.closeTo(silicon, 3),
      expect.closeTo(power, 3),
    ]);
    expect(output.replacement_cost_usd).toBeCloseTo(3.4163458048e9, 3);
    expect(output.replacement_gap_usd).toBeCloseTo(3.4163458048e9 - 5e9, 3);
    // D&A at replacement cost: 0.98304B / 5 + 2.4333058048B / 20 = 0.196608B + 0.12166529024B
    expect(output.replacement_da_usd_per_year).toBeCloseTo(0.31827329024e9, 3);
    expect(output.replacement_gap_da_usd_per_year).toBeCloseTo(0.31827329024e9 - 0.7e9, 3);
  });

  it('reads capex and revenue per MW', () => {
    const output = run({
      ...SMALL,
      capex: {
        silicon: { ...SMALL.capex.silicon, capex_usd: undefined, capex_usd_per_mw: 30e6 },
        power_and_cooling: SMALL.capex.power_and_cooling,
      },
      revenue_usd_per_year: undefined,
      revenue_usd_per_mw_year: 15e6,
    });
    expect(output.capex_usd).toBe(5e9);
    expect(output.revenue_usd_per_year).toBe(1.5e9);
    expect(output.roic).toBeCloseTo(0.08, 12);
  });

  it('earns exactly its WACC at the break-even revenue', () => {
    for (const scenario of [SMALL, GIGAWATT]) {
      const base = run(scenario);
      const atBreakeven = run({ ...scenario, revenue_usd_per_year: base.breakeven_revenue_usd_per_year });
      expect(atBreakeven.roic).toBeCloseTo(scenario.wacc, 12);
      expect(atBreakeven.economic_profit_usd_per_year / base.capex_usd).toBeCloseTo(0, 12);
      expect(atBreakeven.revenue_to_da).toBeCloseTo(base.breakeven_revenue_to_da, 12);
    }
  });

  it('puts the 1 GW example at ~1.2x revenue / D&A against a ~1.78x break-even', () => {
    const output = run(GIGAWATT);
    // capex 35 + 25 + 4 + 4 + 3 = $71B; D&A 7 + 25/15 + 4/30 + 4/6 + 3/15 = $9.6667B
    const da = 7e9 + 25e9 / 15 + 4e9 / 30 + 4e9 / 6 + 0.2e9;
    expect(output.capex_usd).toBe(71e9);
    expect(output.da_usd_per_year).toBeCloseTo(da, 2);
    expect(output.revenue_to_da).toBeCloseTo(1.2, 9);
    // NOPAT (11.6B x 0.9 - 9.6667B) x 0.85 = $0.6573B; ROIC 0.6573 / 71 = 0.93%
    expect(output.roic).toBeCloseTo(((11.6e9 * 0.9 - da) * 0.85) / 71e9, 12);
    expect(output.roic).toBeLessThan(0.07);
    // revenue* = (0.07 x 71B / 0.85 + 9.6667B) / 0.9 = $17.238B, 1.7832x D&A
    expect(output.breakeven_revenue_usd_per_year).toBeCloseTo((0.07 * (71e9 / 0.85) + da) / 0.9, 1);
    expect(output.breakeven_revenue_to_da).toBeGreaterThan(1.6);
    expect(output.breakeven_revenue_to_da).toBeLessThan(1.9);
    expect(output.breakeven_revenue_to_da).toBeCloseTo(1.7832, 4);
    // 35 x 0.8^5 + 29 x 1.03^5 + 4 x 0.9^5 + 3 x 1.04^5 = $51.10B
    const replacement = 35e9 * 0.8 ** 5 + 29e9 * 1.03 ** 5 + 4e9 * 0.9 ** 5 + 3e9 * 1.04 ** 5;
    expect(output.replacement_cost_usd).toBeCloseTo(replacement, 1);
    expect(output.replacement_cost_usd / 1e9).toBeCloseTo(51.1, 1);
    expect(output.replacement_gap_usd / 1e9).toBeCloseTo(-19.9, 1);
  });

  it('costs the same to replace when no price moves', () => {
    const flat = Object.fromEntries(
      Object.entries(GIGAWATT.capex).map(([name, part]) => [name, { ...part, price_change_per_year: 0 }]),
    );
    const output = run({ ...GIGAWATT, capex: flat });
    expect(output.replacement_cost_usd).toBe(output.capex_usd);
    expect(output.replacement_gap_usd).toBe(0);
    expect(output.replacement_gap_da_usd_per_year).toBe(0);
    const now = run({ ...GIGAWATT, replacement_after_years: 0 });
    expect(now.replacement_gap_usd).toBe(0);
  });

  it('refuses bad input with issues naming the field', () => {
    const negative = refused({ ...GIGAWATT, capacity_mw: -1000 });
    expect(negative.map((entry) => entry.path)).toEqual(['capacity_mw']);
    expect(negative[0]?.message).toBe(
      'capacity_mw is -1000: expected a number (MW of data-center capacity), greater than 0 (example: capacity_mw: 1000)',
    );
    const { cash_operating_margin: _, ...noMargin } = GIGAWATT;
    const missing = refused(noMargin);
    expect(missing[0]).toMatchObject({ code: 'missing', path: 'cash_operating_margin' });
    expect(missing[0]?.message).toMatch(/^cash_operating_margin is missing: expected a number \(.*EBITDA/);
    const unknown = refused({ ...GIGAWATT, margin: 0.9 });
    expect(unknown[0]).toMatchObject({ code: 'unknown_field', path: 'margin' });
    const misspelt = refused({
      ...GIGAWATT,
      capex: { silicon: { capex_usd: 35e9, life_years: 5, price_change_per_year: -0.2 } },
    });
    expect(misspelt.map((entry) => entry.path)).toEqual([
      'capex.silicon.life_years',
      'capex.silicon.useful_life_years',
    ]);
    expect(refused({ ...GIGAWATT, capex: { ...GIGAWATT.capex, gpus: {} } })[0]?.path).toBe('capex.gpus');
    expect(refused({ ...GIGAWATT, tax_rate: 1 })[0]?.message).toMatch(/^tax_rate is 1: .*at most 0.99/);
  });

  it('needs one way to state each capex and the revenue, and some capex', () => {
    const both = refused({ ...GIGAWATT, revenue_usd_per_mw_year: 11.6e6 });
    expect(both[0]?.message).toMatch(/^revenue_usd_per_year and revenue_usd_per_mw_year are both given/);
    const none = refused({ ...GIGAWATT, revenue_usd_per_year: undefined });
    expect(none[0]).toMatchObject({ code: 'missing', path: 'revenue_usd_per_year' });
    const noCapex = refused({
      ...GIGAWATT,
      capex: { silicon: { useful_life_years: 5, price_change_per_year: -0.2 } },
    });
    expect(noCapex[0]?.path).toBe('capex.silicon.capex_usd');
    expect(refused({ ...GIGAWATT, capex: {} })[0]?.path).toBe('capex');
  });

  const part = fc.record({
    name: fc.constantFrom('silicon' as const, 'networking' as const),
    capex_usd: fc.double({ min: 1e6, max: 1e11, noNaN: true }),
    useful_life_years: fc.double({ min: 1, max: 40, noNaN: true }),
    price_change_per_year: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
  });
  const inputs: fc.Arbitrary<BuildoutInputs> = fc.record({
    capacity_mw: fc.double({ min: 1, max: 5000, noNaN: true }),
    components: fc.array(part, { minLength: 1, maxLength: 5 }),
    revenue_usd_per_year: fc.double({ min: 0, max: 1e11, noNaN: true }),
    cash_operating_margin: fc.double({ min: 0.05, max: 1, noNaN: true }),
    wacc: fc.double({ min: 0, max: 0.3, noNaN: true }),
    tax_rate: fc.double({ min: 0, max: 0.5, noNaN: true }),
    replacement_after_years: fc.integer({ min: 0, max: 20 }),
  });
  const factor = fc.double({ min: 1.01, max: 5, noNaN: true });

  it('ROIC rises with revenue and the break-even rises with WACC (property)', () => {
    fc.assert(
      fc.property(inputs, factor, (x, k) => {
        const base = computeBuildout(x);
        const richer = computeBuildout({ ...x, revenue_usd_per_year: x.revenue_usd_per_year * k + 1e6 });
        const dearer = computeBuildout({ ...x, wacc: x.wacc * k + 0.001 });
        return richer.roic > base.roic && dearer.breakeven_revenue_to_da > base.breakeven_revenue_to_da;
      }),
    );
  });

  it('earns its WACC at the break-even revenue, whatever the build (property)', () => {
    fc.assert(
      fc.property(inputs, (x) => {
        const base = computeBuildout(x);
        const at = computeBuildout({ ...x, revenue_usd_per_year: base.breakeven_revenue_usd_per_year });
        return (
          Math.abs(at.roic - x.wacc) <= 1e-9 * Math.max(1, x.wacc + base.da_usd_per_year / base.capex_usd)
        );
      }),
    );
  });
});
