import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../analysis.js';
import { appreciationRates } from '../appreciation/appreciation.js';
import { tco } from '../tco/tco.js';
import { FLEET_100_H100 as FLEET, NO_APPRECIATION as STILL } from '../test-support/fixtures.js';
import { referenceData } from '../test-support/reference-data.js';
import { depreciation } from './depreciation.js';

function run(scenario: unknown) {
  const result = runAnalysis(depreciation, scenario, referenceData);
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value.output;
}

describe('depreciation', () => {
  it("with every rate at zero reduces to part 1's TCO numbers", () => {
    const scenario = {
      fleet: FLEET,
      finance: { discount_rate: 0 },
      utilization: 0.7,
      book_life_years: 5,
      market: { rental_usd_per_gpu_hour: 3 },
      appreciation: STILL,
    };
    const output = run(scenario);
    const fleet = runAnalysis(
      tco,
      { fleet: FLEET, finance: { discount_rate: 0 }, utilization: 0.7 },
      referenceData,
    );
    if (!fleet.ok) throw new Error('tco failed');
    // The market value at which the fleet just repays itself is the levelized cost of a GPU-hour.
    expect(output.breakeven_market_value_usd_per_gpu_hour).toBeCloseTo(
      fleet.value.output.levelized_cost_per_gpu_hour_usd,
      9,
    );
    // ((4.8M - 480k) / 5 + 756,157.60) / 613,200 hours = $2.6420
    expect(output.breakeven_market_value_usd_per_gpu_hour).toBeCloseTo((864_000 + 756_157.6) / 613_200, 9);
    // Undiscounted economic value: 60 months of ($3 x 51,100 busy hours - $63,013.13 running) + salvage
    const monthlyNet = 3 * 51_100 - 756_157.6 / 12;
    expect(output.economic_value_usd[0]).toBeCloseTo(60 * monthlyNet + 480_000, 6);
    expect(output.npv_usd).toBeCloseTo(60 * monthlyNet + 480_000 - 4_800_000, 6);
    expect(output.appreciation.net_rate).toBe(0);
  });

  it('books straight-line to salvage over the book life', () => {
    const output = run({
      fleet: FLEET,
      book_life_years: 4,
      market: { rental_usd_per_gpu_hour: 3 },
      appreciation: STILL,
    });
    expect(output.book_value_usd[0]).toBe(4_800_000);
    expect(output.book_value_usd[24]).toBeCloseTo(4_800_000 - 4_320_000 / 2, 6);
    expect(output.book_value_usd[48]).toBeCloseTo(480_000, 6);
    expect(output.book_value_usd[60]).toBeCloseTo(480_000, 6);
    expect(output.residual_value_usd).toBe(output.economic_value_usd[48]);
  });

  it('discounts monthly at the monthly equivalent of the annual rate, retiring when salvage is worth more', () => {
    const output = run({
      fleet: FLEET,
      finance: { discount_rate: 0.1 },
      market: { rental_usd_per_gpu_hour: 3 },
      appreciation: STILL,
    });
    const d = 1 / 1.1 ** (1 / 12);
    const net = 3 * 51_100 - 756_157.6 / 12;
    expect(output.economic_value_usd[59]).toBeCloseTo(d * (net + 480_000), 6);
    // 60 level net payments plus salvage, discounted: a closed-form annuity
    const annuity = (1 - d ** 60) / (1 / d - 1);
    expect(output.economic_value_usd[0]).toBeCloseTo(net * annuity + 480_000 * d ** 60, 4);
  });

  it('combines the appreciation rates as documented', () => {
    // growth 1.3; value kept (1 - 0.1) / (1.3 x 1.15) = 0.60201; net 1.3 x 0.60201 - 1 = -0.21739
    const eroding = appreciationRates({
      software_progress_per_year: 0.3,
      hardware_price_performance_per_year: 0.3,
      supply_price_decline_per_year: 0.1,
      software_pass_through: 0.5,
      private_premium_per_year: 0,
    });
    expect(eroding.functional_growth_rate).toBeCloseTo(0.3, 12);
    expect(eroding.erosion_rate).toBeCloseTo(1 - 0.9 / (1.3 * 1.15), 12);
    expect(eroding.net_rate).toBeCloseTo(0.9 / 1.15 - 1, 12);
    expect(eroding.appreciates).toBe(false);
    // vLLM's 2.4x in a year, kept private: 2.4 x 0.9 / 1.3 = 1.6615
    const rising = appreciationRates({
      software_progress_per_year: 1.4,
      hardware_price_performance_per_year: 0.3,
      supply_price_decline_per_year: 0.1,
      software_pass_through: 0,
      private_premium_per_year: 0,
    });
    expect(rising.net_rate).toBeCloseTo((2.4 * 0.9) / 1.3 - 1, 12);
    expect(rising.appreciates).toBe(true);
  });

  it('strands in the first month whose output no longer covers running costs', () => {
    const appreciation = { ...STILL, hardware_price_performance_per_year: 0.5 };
    const output = run({ fleet: FLEET, market: { rental_usd_per_gpu_hour: 3 }, appreciation });
    // output(m) = 3 x 51,100 x (1/1.5)^((m-1)/12) falls below 63,013.13 when
    // m - 1 > 12 ln(153,300 / 63,013.13) / ln(1.5) = 26.33, so in month 28
    const running = 756_157.6 / 12;
    const expected = Math.floor(1 + (12 * Math.log((3 * 51_100) / running)) / Math.log(1.5)) + 1;
    expect(expected).toBe(28);
    expect(output.stranding_month).toBe(expected);
    expect(output.output_value_usd_per_month[26]).toBeGreaterThan(running);
    expect(output.output_value_usd_per_month[27]).toBeLessThan(running);
    // Economic value never falls below salvage: the owner retires the fleet instead.
    expect(Math.min(...output.economic_value_usd)).toBeCloseTo(480_000, 6);
    expect(output.book_exceeds_economic_from_month).not.toBeNull();
  });

  it('values output from tokens and a per-Mtok price, and refuses both bases at once', () => {
    const byTokens = run({
      fleet: FLEET,
      market: { price_per_mtok_usd: 0.5, tokens_per_second_per_gpu: 1500 },
      appreciation: STILL,
    });
    // 1500 tok/s x 3600 s x $0.5/Mtok = $2.70 per busy GPU-hour
    expect(byTokens.output_value_usd_per_month[0]).toBeCloseTo(2.7 * 51_100, 6);
    const both = runAnalysis(
      depreciation,
      {
        fleet: FLEET,
        market: { rental_usd_per_gpu_hour: 2, price_per_mtok_usd: 1, tokens_per_second_per_gpu: 1 },
      },
      referenceData,
    );
    expect(both.ok || both.issues[0]?.path).toBe('market.rental_usd_per_gpu_hour');
    const noTokens = runAnalysis(
      depreciation,
      { fleet: FLEET, market: { price_per_mtok_usd: 1 } },
      referenceData,
    );
    expect(noTokens.ok || noTokens.issues[0]?.path).toBe('market.tokens_per_second_per_gpu');
  });

  it('lowers the levelized cost per Mtok by 1 - 1/2.4 for a 2.4x software gain', () => {
    const cost = (throughput: number): number => {
      const result = runAnalysis(
        tco,
        { fleet: FLEET, throughput_tokens_per_second_per_gpu: throughput },
        referenceData,
      );
      if (!result.ok) throw new Error('tco failed');
      return result.value.output.levelized_cost_per_mtok_usd ?? 0;
    };
    // vLLM 0.5.4 -> 0.6.0: 1,492 -> 3,543 tok/s on the same 4xH100 (2.375x; the 2.4x of FACTS.md)
    expect(1 - cost(1492 * 2.4) / cost(1492)).toBeCloseTo(1 - 1 / 2.4, 12);
  });
});
