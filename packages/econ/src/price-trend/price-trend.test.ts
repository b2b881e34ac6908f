import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../analysis.js';
import { referenceData } from '../test-support/reference-data.js';
import { priceTrend } from './price-trend.js';

function run(scenario: unknown) {
  const result = runAnalysis(priceTrend, scenario, referenceData);
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value.output;
}

describe('price-trend', () => {
  it('reproduces "$36 to $4 per Mtok over 17 months is a 79% annual decline"', () => {
    const output = run({
      points: [
        { date: '2023-03', price_usd: 36 },
        { date: '2024-08', price_usd: 4 },
      ],
    });
    // factor 9 over 17/12 years: 9^(12/17) = 4.716 per year, a 78.8% decline
    expect(output.span_months).toBe(17);
    expect(output.annual_factor).toBeCloseTo(9 ** (12 / 17), 9);
    expect(output.annual_decline).toBeCloseTo(1 - 9 ** (-12 / 17), 9);
    expect(Math.round(output.annual_decline * 100)).toBe(79);
    expect(output.halving_months).toBeCloseTo((17 * Math.log(2)) / Math.log(9), 9);
    expect(output.months_per_10x).toBeCloseTo((17 * Math.log(10)) / Math.log(9), 9);
    expect(output.fit_r2).toBe(1);
    expect(output.annual_decline_range_2se).toBeNull();
  });

  it('recovers an exact exponential from many points and projects it', () => {
    // 10x per year from $60 (a16z's LLMflation): one point a quarter for three years.
    const points = Array.from({ length: 13 }, (_, quarter) => ({
      date: `${2021 + Math.floor(quarter / 4)}-${String((quarter % 4) * 3 + 1).padStart(2, '0')}`,
      price_usd: 60 * 10 ** (-quarter / 4),
    }));
    const output = run({ points, project_to: '2025-01' });
    expect(output.annual_factor).toBeCloseTo(10, 9);
    expect(output.annual_decline).toBeCloseTo(0.9, 9);
    expect(output.fit_r2).toBeCloseTo(1, 12);
    expect(output.projected_price_usd).toBeCloseTo(60 * 10 ** -4, 9);
    expect(output.slope_standard_error_per_year).toBeCloseTo(0, 9);
  });

  it('fits noisy points by least squares on ln(price)', () => {
    // ln p = 0, -1, -1.5 at t = 0, 0.5, 1 years: slope = -1.5, intercept -1/12,
    // residuals 1/12, -1/6, 1/12.
    const output = run({
      points: [
        { date: '2024-01', price_usd: 1 },
        { date: '2024-07', price_usd: Math.exp(-1) },
        { date: '2025-01', price_usd: Math.exp(-1.5) },
      ],
    });
    expect(output.annual_factor).toBeCloseTo(Math.exp(1.5), 9);
    // SSE = 1/24, SST = 7/6: R² = 1 - (1/24)/(7/6) = 27/28
    expect(output.fit_r2).toBeCloseTo(27 / 28, 12);
    // s.e. = sqrt(SSE/(n-2)/Sxx) = sqrt((1/24)/0.5)
    expect(output.slope_standard_error_per_year).toBeCloseTo(Math.sqrt(1 / 12), 12);
  });

  it('reports rising prices without a halving time', () => {
    const output = run({
      points: [
        { date: '2024-01', price_usd: 1 },
        { date: '2025-01', price_usd: 2 },
      ],
    });
    expect(output.annual_decline).toBeCloseTo(-1, 12);
    expect(output.halving_months).toBeNull();
  });

  it('refuses impossible dates and a single date', () => {
    const bad = runAnalysis(
      priceTrend,
      {
        points: [
          { date: '2024-13', price_usd: 1 },
          { date: '2024-02-30', price_usd: 2 },
        ],
      },
      referenceData,
    );
    expect(bad.ok || bad.issues.map((entry) => entry.path)).toEqual(['points.0.date', 'points.1.date']);
    const same = runAnalysis(
      priceTrend,
      {
        points: [
          { date: '2024-01', price_usd: 1 },
          { date: '2024-01', price_usd: 2 },
        ],
      },
      referenceData,
    );
    expect(same.ok || same.issues[0]?.message).toMatch(/^points all fall on one date/);
    const one = runAnalysis(priceTrend, { points: [{ date: '2024-01', price_usd: 1 }] }, referenceData);
    expect(one.ok || one.issues[0]?.message).toMatch(/^points has 1 entries: expected .*at least 2/);
  });
});
