import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../analysis.js';
import { tco } from '../tco/tco.js';
import { FLEET_100_H100 as FLEET, NO_APPRECIATION as STILL } from '../test-support/fixtures.js';
import { referenceData } from '../test-support/reference-data.js';
import { rentVsOwn } from './rent-vs-own.js';

// One output-only tier sized so that demand is exactly the fleet's capacity at 90% busy:
// 100 GPUs x 0.9 x 730 h = 65,700 GPU-hours a month, at 1,000 tok/s = 236.52e9 tokens.
const FULL = 100 * 0.9 * 730 * 1000 * 3600;
const tier = (outputTokens: number) => ({
  name: 'chat',
  input_tokens_per_month: 0,
  output_tokens_per_month: outputTokens,
  owned_input_tokens_per_second_per_gpu: 10000,
  owned_output_tokens_per_second_per_gpu: 1000,
});

function run(overrides: Record<string, unknown> = {}) {
  const scenario = {
    workload: { tiers: [tier(FULL)], growth_per_year: 0, peak_to_mean: 1 },
    fleet: FLEET,
    finance: { discount_rate: 0 },
    max_utilization: 0.9,
    appreciation: STILL,
    rent: { gpu_hour_usd: 3, price_decline_per_year: 0, utilization: 1 },
    ...overrides,
  };
  const result = runAnalysis(rentVsOwn, scenario, referenceData);
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value.output;
}

describe('rent-vs-own', () => {
  it("with every rate at zero reduces to part 1's TCO numbers", () => {
    const output = run();
    const fleet = runAnalysis(
      tco,
      { fleet: FLEET, finance: { discount_rate: 0 }, utilization: 1 },
      referenceData,
    );
    if (!fleet.ok) throw new Error('tco failed');
    // Own: $4.8M + 5 x $756,157.60 - $480k salvage = the TCO's NPV at a zero rate
    expect(output.options.own?.npv_cost_usd).toBeCloseTo(fleet.value.output.npv_cost_usd, 4);
    expect(output.options.own?.npv_cost_usd).toBeCloseTo(4_800_000 + 5 * 756_157.6 - 480_000, 4);
    // Rent: 65,700 GPU-hours a month x $3 x 60 months
    expect(output.options.rent?.npv_cost_usd).toBeCloseTo(65_700 * 3 * 60, 4);
    expect(output.options.own?.owned_share).toBeCloseTo(1, 12);
    // Break-even utilization: the levelized cost at 100% busy over the rental price
    expect(output.breakeven_utilization).toBeCloseTo(
      fleet.value.output.levelized_cost_per_gpu_hour_usd / 3,
      9,
    );
    expect(output.winner).toBe('own');
    expect(output.advantage_attribution_usd.functional_appreciation).toBe(0);
  });

  it('bursts demand above the fleet to rented GPUs', () => {
    const output = run({ workload: { tiers: [tier(2 * FULL)], growth_per_year: 0, peak_to_mean: 1 } });
    const own = 4_800_000 + 5 * 756_157.6 - 480_000 + 65_700 * 3 * 60;
    expect(output.options.own?.npv_cost_usd).toBeCloseTo(own, 3);
    expect(output.options.own?.owned_share).toBeCloseTo(0.5, 12);
  });

  it('serves only the part of a daily cycle below capacity', () => {
    const output = run({ workload: { tiers: [tier(FULL)], growth_per_year: 0, peak_to_mean: 2 } });
    // load 1 + cos(2π(h-14)/24); owned capacity = the mean, so overflow = Σ max(cos, 0) / 24
    let overflow = 0;
    for (let hour = 0; hour < 24; hour++) overflow += Math.max(0, Math.cos((2 * Math.PI * (hour - 14)) / 24));
    expect(output.options.own?.owned_share).toBeCloseTo(1 - overflow / 24, 12);
    // The hybrid owns the trough (zero here) and rents everything.
    expect(output.options.hybrid?.gpus).toBe(0);
  });

  it('prices sovereignty risk into rented work and attributes it', () => {
    const sovereignty = { cutoff_probability_per_year: 0.05, days_dark: 18, cost_per_dark_day_usd: 100_000 };
    const output = run({ sovereignty });
    // 0.05/12 x 18 days x $100k = $7,500 a month, for 60 months, on the fully rented option
    expect((output.options.rent?.npv_cost_usd ?? 0) - 65_700 * 3 * 60).toBeCloseTo(7_500 * 60, 4);
    expect(output.advantage_attribution_usd.sovereignty).toBeCloseTo(7_500 * 60, 4);
  });

  it('attributes the advantage to appreciation, premium and sovereignty, summing to the total', () => {
    const output = run({
      finance: { discount_rate: 0.1 },
      appreciation: {
        ...STILL,
        software_progress_per_year: 0.4,
        software_pass_through: 0.5,
        private_premium_per_year: 0.05,
      },
      sovereignty: { cutoff_probability_per_year: 0.05, days_dark: 18, cost_per_dark_day_usd: 100_000 },
      workload: { tiers: [tier(FULL)], growth_per_year: 0.5, peak_to_mean: 1.5 },
    });
    const a = output.advantage_attribution_usd;
    const own = output.options.own?.npv_cost_usd ?? 0;
    const rent = output.options.rent?.npv_cost_usd ?? 0;
    expect(a.total).toBeCloseTo(rent - own, 4);
    expect(a.base + a.functional_appreciation + a.private_premium + a.sovereignty).toBeCloseTo(a.total, 4);
    expect(a.functional_appreciation).toBeGreaterThan(0);
    expect(a.private_premium).toBeGreaterThan(0);
  });

  it('finds the workload at which owning breaks even, and the payback month', () => {
    const output = run({ rent: { gpu_hour_usd: 2.2, price_decline_per_year: 0, utilization: 1 } });
    // Own costs the same at any load up to capacity; renting scales with it.
    const ownCost = 4_800_000 + 5 * 756_157.6 - 480_000; // $8,100,788
    const breakevenHours = ownCost / (2.2 * 60); // 61,370 rented GPU-hours a month, under capacity
    expect(output.breakeven_tokens_per_month).toBeCloseTo(breakevenHours * 1000 * 3600, -3);
    // Cumulative: -$4.8M, then each month saves 65,700 x $2.2 - $63,013.13 = $81,526.87
    const saving = 65_700 * 2.2 - 756_157.6 / 12;
    expect(output.payback_month).toBe(Math.ceil(4_800_000 / saving));
    // At $2 an hour renting is cheaper even at full load, and bursting costs both the same: never.
    const cheap = run({ rent: { gpu_hour_usd: 2, price_decline_per_year: 0, utilization: 1 } });
    expect(cheap.winner).toBe('rent');
    expect(cheap.breakeven_tokens_per_month).toBeNull();
  });

  it('compares against API prices when tiers carry them', () => {
    const priced = { ...tier(FULL), api_input_per_mtok_usd: 3, api_output_per_mtok_usd: 15 };
    const output = run({
      rent: undefined,
      workload: { tiers: [priced], growth_per_year: 0, peak_to_mean: 1 },
      api: { annual_decline: 0 },
    });
    expect(output.options.api?.npv_cost_usd).toBeCloseTo(((FULL * 15) / 1e6) * 60, 2);
    expect(output.best_rented).toBe('api');
  });

  it('needs something rented to compare against', () => {
    const result = runAnalysis(rentVsOwn, { workload: { tiers: [tier(FULL)] }, fleet: FLEET }, referenceData);
    expect(result.ok || result.issues[0]?.path).toBe('rent');
  });
});
