import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../analysis.js';
import { FLEET_100_H100 } from '../test-support/fixtures.js';
import { referenceData } from '../test-support/reference-data.js';
import { computeTco, type TcoInputs, tco } from './tco.js';

// The 100-H100, 5-year fleet of examples/tco-100-h100-5y.yaml, every figure stated.
const EXAMPLE = {
  fleet: FLEET_100_H100,
  finance: { discount_rate: 0.1 },
  utilization: 0.7,
  horizon_years: 5,
  throughput_tokens_per_second_per_gpu: 3000,
};

function run(scenario: unknown) {
  const result = runAnalysis(tco, scenario, referenceData);
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value;
}

describe('tco', () => {
  it('reproduces the FACTS figure: 100 H100s, $3M of GPUs, ~$8.6M over 5 years, GPUs ~35%', () => {
    const { output } = run(EXAMPLE);
    // 100 GPUs x 1.275 kW x 1.3 PUE x 8760 h = 1,451,970 kWh; x $0.08 = $116,157.60
    const electricity = 100 * 1.275 * 1.3 * 8760 * 0.08;
    expect(output.gpu_capex_usd).toBe(3_000_000);
    expect(output.capex_usd).toBe(4_800_000);
    expect(output.opex_breakdown_usd_per_year.electricity).toBeCloseTo(116_157.6, 6);
    expect(output.opex_usd_per_year).toBeCloseTo(
      electricity + 100_000 + 250_000 + 0.05 * 4_800_000 + 50_000,
      6,
    );
    expect(output.opex_usd_per_year).toBeCloseTo(756_157.6, 6);
    expect(output.total_cost_usd).toBeCloseTo(8_580_788, 3);
    expect(output.total_cost_usd / 1e6).toBeCloseTo(8.6, 1);
    expect(output.gpu_share_of_total).toBeCloseTo(3 / 8.580788, 9);
    expect(output.gpu_share_of_total).toBeCloseTo(0.35, 2);
  });

  it('discounts year-end cash flows and levelizes with the capital recovery factor', () => {
    const { output } = run(EXAMPLE);
    const opex = 756_157.6;
    const salvage = 480_000; // 10% of $4.8M
    const discounted = [1, 2, 3, 4, 5].reduce((sum, year) => sum + opex / 1.1 ** year, 0);
    expect(output.npv_cost_usd).toBeCloseTo(4_800_000 + discounted - salvage / 1.1 ** 5, 4);
    const crf = (0.1 * 1.1 ** 5) / (1.1 ** 5 - 1); // 0.2637975
    const capitalPerYear = (4_800_000 - salvage / 1.1 ** 5) * crf;
    const hours = 100 * 8760 * 0.7; // 613,200 delivered GPU-hours a year
    expect(output.levelized_cost_per_gpu_hour_usd).toBeCloseTo((capitalPerYear + opex) / hours, 9);
    expect(output.levelized_breakdown_per_gpu_hour_usd.capital).toBeCloseTo(capitalPerYear / hours, 9);
    // $/Mtok = $/GPU-hr / (3000 tok/s x 3600 s) x 1e6
    expect(output.levelized_cost_per_mtok_usd).toBeCloseTo(
      ((capitalPerYear + opex) / hours / (3000 * 3600)) * 1e6,
      9,
    );
  });

  it('at a zero discount rate reduces to straight sums', () => {
    const { output } = run({ ...EXAMPLE, finance: { discount_rate: 0 } });
    expect(output.npv_cost_usd).toBeCloseTo(8_580_788 - 480_000, 3);
    expect(output.levelized_cost_per_gpu_hour_usd).toBeCloseTo(
      ((4_800_000 - 480_000) / 5 + 756_157.6) / 613_200,
      9,
    );
  });

  it('credits the straight-line book value left at a horizon shorter than the life', () => {
    const { output } = run({ ...EXAMPLE, horizon_years: 2, finance: { discount_rate: 0 } });
    // book value after 2 of 5 years: 480k + (4.8M - 480k) x 3/5 = 3,072,000
    expect(output.residual_value_usd).toBeCloseTo(3_072_000, 6);
    expect(output.npv_cost_usd).toBeCloseTo(4_800_000 + 2 * 756_157.6 - 3_072_000, 4);
  });

  it('fills defaults from data/ and says so', () => {
    const report = run({ fleet: { gpu: 'h100-sxm', count: 8 } });
    const fields = report.defaultsUsed.map((entry) => entry.field);
    expect(fields).toEqual(
      expect.arrayContaining(['fleet.gpu_price_usd', 'fleet.pue', 'fleet.staff_usd_per_year', 'utilization']),
    );
    expect(report.inputs.staff_usd_per_year).toBe(8 * referenceData.defaults.staff_usd_per_gpu_year.value);
    for (const entry of report.defaultsUsed) expect(entry.source.length).toBeGreaterThan(10);
  });

  it('refuses contradictions with messages naming the fields', () => {
    const both = runAnalysis(tco, { fleet: { ...EXAMPLE.fleet, other_capex_usd: 1 } }, referenceData);
    expect(both.ok || both.issues[0]?.path).toBe('fleet.other_capex_usd');
    const longer = runAnalysis(tco, { ...EXAMPLE, horizon_years: 7 }, referenceData);
    expect(longer.ok || longer.issues[0]?.message).toMatch(
      /^horizon_years \(7\) is longer than fleet.useful_life_years \(5\)/,
    );
    const noPrice = runAnalysis(tco, { fleet: { count: 4 } }, referenceData);
    expect(noPrice.ok || noPrice.issues.map((entry) => entry.path)).toEqual([
      'fleet.gpu_price_usd',
      'fleet.power_kw_per_gpu',
    ]);
  });

  const inputs: fc.Arbitrary<TcoInputs> = fc.record({
    count: fc.integer({ min: 1, max: 10_000 }),
    gpu_price_usd: fc.double({ min: 1000, max: 100_000, noNaN: true }),
    other_capex_usd: fc.double({ min: 0, max: 1e8, noNaN: true }),
    power_kw_per_gpu: fc.double({ min: 0.1, max: 3, noNaN: true }),
    pue: fc.double({ min: 1, max: 2, noNaN: true }),
    electricity_usd_per_kwh: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
    colocation_usd_per_year: fc.double({ min: 0, max: 1e6, noNaN: true }),
    staff_usd_per_year: fc.double({ min: 0, max: 1e6, noNaN: true }),
    maintenance_fraction_of_capex_per_year: fc.double({ min: 0, max: 0.2, noNaN: true }),
    software_usd_per_year: fc.double({ min: 0, max: 1e6, noNaN: true }),
    useful_life_years: fc.integer({ min: 1, max: 10 }),
    salvage_fraction: fc.double({ min: 0, max: 0.5, noNaN: true }),
    discount_rate: fc.double({ min: 0, max: 0.3, noNaN: true }),
    utilization: fc.double({ min: 0.05, max: 1, noNaN: true }),
    horizon_years: fc.constant(1),
    throughput_tokens_per_second_per_gpu: fc.double({ min: 10, max: 1e5, noNaN: true }),
  });
  const factor = fc.double({ min: 1.01, max: 5, noNaN: true });

  it('rises with GPU price and power, falls with utilization (property)', () => {
    fc.assert(
      fc.property(inputs, factor, (x, k) => {
        const base = computeTco(x).levelized_cost_per_gpu_hour_usd;
        return (
          computeTco({ ...x, gpu_price_usd: x.gpu_price_usd * k }).levelized_cost_per_gpu_hour_usd > base &&
          computeTco({ ...x, power_kw_per_gpu: x.power_kw_per_gpu * k }).levelized_cost_per_gpu_hour_usd >
            base &&
          computeTco({ ...x, utilization: Math.min(1, x.utilization * k) }).levelized_cost_per_gpu_hour_usd <=
            base
        );
      }),
    );
  });

  it('levelized cost times delivered hours recovers capital plus opex (property)', () => {
    fc.assert(
      fc.property(inputs, (x) => {
        const out = computeTco(x);
        const parts = Object.values(out.levelized_breakdown_per_gpu_hour_usd).reduce(
          (sum, value) => sum + value,
          0,
        );
        return (
          Math.abs(parts - out.levelized_cost_per_gpu_hour_usd) <= 1e-9 * out.levelized_cost_per_gpu_hour_usd
        );
      }),
    );
  });
});
