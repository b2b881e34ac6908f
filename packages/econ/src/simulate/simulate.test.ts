import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Analysis, runAnalysis } from '../analysis.js';
import { computeRentVsOwn, rentVsOwn } from '../rent-vs-own/rent-vs-own.js';
import type { RentVsOwnInputs } from '../rent-vs-own/rent-vs-own-model.js';
import { tco } from '../tco/tco.js';
import { FLEET_100_H100 as FLEET, NO_APPRECIATION as STILL } from '../test-support/fixtures.js';
import { referenceData } from '../test-support/reference-data.js';
import { meanOf, sample } from './distributions.js';
import { Random } from './random.js';
import { simulate } from './simulate.js';

// Demand that exactly fills 100 GPUs at 90% busy: 65,700 GPU-hours a month (see rent-vs-own.test.ts).
const FULL = 100 * 0.9 * 730 * 1000 * 3600;
const flatScenario = (rentPrice: unknown) => ({
  workload: {
    tiers: [
      {
        name: 'chat',
        input_tokens_per_month: 0,
        output_tokens_per_month: FULL,
        owned_input_tokens_per_second_per_gpu: 10000,
        owned_output_tokens_per_second_per_gpu: 1000,
      },
    ],
    growth_per_year: 0,
    peak_to_mean: 1,
  },
  fleet: FLEET,
  finance: { discount_rate: 0 },
  max_utilization: 0.9,
  appreciation: STILL,
  rent: { gpu_hour_usd: rentPrice, price_decline_per_year: 0, utilization: 1 },
});

function run<S, I, O>(analysis: Analysis<S, I, O>, document: unknown, draws = 20_000, seed = 7) {
  const result = simulate(analysis, document, referenceData, { draws, seed });
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value;
}

describe('random', () => {
  it('matches the reference xoshiro128** (C, seeded by splitmix32 from 42)', () => {
    const random = new Random(42);
    const values = Array.from({ length: 5 }, () => random.nextUint32());
    expect(values).toEqual([2837322924, 544945897, 479756282, 3500138142, 339756180]);
  });

  it.each([
    { dist: 'uniform', min: 2, max: 5 },
    { dist: 'normal', mean: 3, sd: 0.5 },
    { dist: 'lognormal', median: 2, sigma: 0.4 },
    { dist: 'triangular', min: 1, mode: 2, max: 6 },
    { dist: 'pert', min: 1, mode: 2, max: 6 },
  ] as const)('draws $dist with its closed-form mean', (distribution) => {
    const random = new Random(1);
    const n = 100_000;
    const values = Array.from({ length: n }, () => sample(distribution, random));
    const mean = values.reduce((sum, value) => sum + value, 0) / n;
    const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean - (meanOf(distribution) as number))).toBeLessThan((4 * sd) / Math.sqrt(n));
    if ('max' in distribution) {
      const { min, max } = distribution as { min: number; max: number };
      expect(values.every((value) => value >= min && value <= max)).toBe(true);
    }
  });

  it('truncates a normal to its bounds', () => {
    const random = new Random(3);
    const values = Array.from({ length: 10_000 }, () =>
      sample({ dist: 'normal', mean: 0, sd: 1, min: -0.5, max: 2 }, random),
    );
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-0.5);
    expect(Math.max(...values)).toBeLessThanOrEqual(2);
  });
});

describe('rent-vs-own kernel', () => {
  const resolve = (document: unknown): RentVsOwnInputs => {
    const result = runAnalysis(rentVsOwn, document, referenceData);
    if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
    return result.value.inputs;
  };

  it('agrees with computeRentVsOwn on every headline figure', () => {
    fc.assert(
      fc.property(
        fc.record({
          price: fc.double({ min: 0.8, max: 5, noNaN: true }),
          growth: fc.double({ min: 0, max: 1, noNaN: true }),
          software: fc.double({ min: 0, max: 0.6, noNaN: true }),
          premium: fc.double({ min: 0, max: 0.2, noNaN: true }),
          discount: fc.double({ min: 0, max: 0.2, noNaN: true }),
          peak: fc.double({ min: 1, max: 2, noNaN: true }),
          volume: fc.double({ min: 0.2, max: 3, noNaN: true }),
        }),
        (draw) => {
          const document = {
            ...flatScenario(draw.price),
            workload: {
              tiers: [
                {
                  name: 'chat',
                  input_tokens_per_month: 1e11 * draw.volume,
                  output_tokens_per_month: FULL * draw.volume,
                  owned_input_tokens_per_second_per_gpu: 20000,
                  owned_output_tokens_per_second_per_gpu: 1000,
                  api_input_per_mtok_usd: 0.5,
                  api_output_per_mtok_usd: 0.9,
                },
              ],
              growth_per_year: draw.growth,
              peak_to_mean: draw.peak,
            },
            finance: { discount_rate: draw.discount },
            appreciation: {
              ...STILL,
              software_progress_per_year: draw.software,
              private_premium_per_year: draw.premium,
            },
            sovereignty: { cutoff_probability_per_year: 0.05, days_dark: 18, cost_per_dark_day_usd: 40000 },
          };
          const inputs = resolve(document);
          const expected = computeRentVsOwn(inputs);
          const kernel = rentVsOwn.kernel?.(inputs);
          if (!kernel) throw new Error('rent-vs-own has no kernel');
          const out = new Float64Array(kernel.metrics.length);
          const winner = kernel.evaluate(inputs, out);
          const value = (name: string): number => out[kernel.metrics.indexOf(name)] as number;
          const close = (actual: number, wanted: number) =>
            expect(Math.abs(actual - wanted)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(wanted)) * 100);
          for (const name of ['rent', 'api', 'own', 'hybrid'] as const) {
            close(value(`options.${name}.npv_cost_usd`), expected.options[name]?.npv_cost_usd as number);
          }
          close(value('advantage_attribution_usd.total'), expected.advantage_attribution_usd.total);
          close(value('breakeven_utilization'), expected.breakeven_utilization);
          expect(Number.isNaN(value('payback_month')) ? null : value('payback_month')).toBe(
            expected.payback_month,
          );
          expect(kernel.outcomes[winner]).toBe(expected.winner);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('simulate', () => {
  it('matches the closed-form probability that owning wins: (b - c) / (b - a)', () => {
    // Own costs $4.8M + 5 x $756,157.60 - $480k = $8,100,788 at a zero rate; renting the same
    // 65,700 GPU-hours a month for 60 months costs 3,942,000 x price. Own wins above c = 2.0550.
    const c = (4_800_000 + 5 * 756_157.6 - 480_000) / (65_700 * 60);
    const [a, b] = [1.5, 3];
    const run1 = run(rentVsOwn, flatScenario({ dist: 'uniform', min: a, max: b }), 40_000);
    const own = run1.summary.winner_probability['own'];
    if (!own) throw new Error('own never won');
    expect(run1.summary.evaluation.path).toBe('fast');
    expect(Math.abs(own.probability - (b - c) / (b - a))).toBeLessThan(3 * own.standard_error);
    expect(own.standard_error).toBeCloseTo(Math.sqrt((0.63 * 0.37) / 40_000), 3);
  });

  it('is reproducible bit for bit from its seed, and differs across seeds', () => {
    const document = flatScenario({ dist: 'triangular', min: 1.5, mode: 2, max: 3.5 });
    const first = run(rentVsOwn, document, 5000, 11);
    const again = run(rentVsOwn, document, 5000, 11);
    const other = run(rentVsOwn, document, 5000, 12);
    expect(again.summary).toEqual(first.summary);
    expect(Array.from(again.primarySamples)).toEqual(Array.from(first.primarySamples));
    expect(other.summary.metrics).not.toEqual(first.summary.metrics);
  });

  it('swings the tornado by the slope times the P5-P95 range', () => {
    // Renting's NPV is 3,942,000 x price, so its swing is 3,942,000 x (P95 - P5) of the draws.
    const document = flatScenario({ dist: 'uniform', min: 1, max: 4 });
    const result = simulate(rentVsOwn, document, referenceData, {
      draws: 10_000,
      seed: 5,
      metric: 'options.rent.npv_cost_usd',
    });
    if (!result.ok) throw new Error('simulate failed');
    const { tornado, uncertain } = result.value.summary;
    const field = uncertain[0];
    const row = tornado.rows[0];
    if (!field || !row) throw new Error('no tornado row');
    expect(row.field).toBe('rent.gpu_hour_usd');
    expect(row.swing).toBeCloseTo(65_700 * 60 * (field.p95 - field.p5), 4);
    expect(tornado.base).toBeCloseTo(65_700 * 60 * field.p50, 4);
    // Uniform on [1, 4]: P5 and P95 are 1.15 and 3.85, within sampling error.
    expect(field.p5).toBeCloseTo(1.15, 1);
    expect(field.p95).toBeCloseTo(3.85, 1);
  });

  it('takes the fast path through affine fields, the general one otherwise, and both match compute', () => {
    // Token volume reaches the inputs through a division (affine); the horizon through rounding to
    // months (not affine). Replay the same seeded draws through runAnalysis and compare draw by draw.
    const volume = { dist: 'uniform', min: 0.5 * FULL, max: 1.5 * FULL } as const;
    const horizon = { dist: 'uniform', min: 4, max: 6 } as const;
    const documentWith = (output: unknown, years: unknown) => {
      const base = flatScenario(2.2);
      return {
        ...base,
        workload: {
          ...base.workload,
          tiers: [{ ...base.workload.tiers[0], output_tokens_per_month: output }],
        },
        fleet: { ...FLEET, useful_life_years: 6 },
        horizon_years: years,
      };
    };
    for (const [years, path] of [
      [5, 'fast'],
      [horizon, 'resolve-per-draw'],
    ] as const) {
      const simulated = run(rentVsOwn, documentWith(volume, years), 40, 9);
      expect(simulated.summary.evaluation.path).toBe(path);
      const random = new Random(9);
      for (let i = 0; i < 40; i++) {
        const drawnVolume = sample(volume, random);
        const drawnYears = typeof years === 'number' ? years : sample(horizon, random);
        const direct = runAnalysis(rentVsOwn, documentWith(drawnVolume, drawnYears), referenceData);
        if (!direct.ok) throw new Error('draw did not resolve');
        const wanted = direct.value.output.advantage_attribution_usd.total;
        expect(Math.abs((simulated.primarySamples[i] as number) - wanted)).toBeLessThan(
          1e-6 * Math.abs(wanted),
        );
      }
    }
  });

  it('runs any analysis through the generic kernel and rounds whole-number fields', () => {
    const result = run(
      tco,
      { fleet: { ...FLEET, count: { dist: 'uniform', min: 50, max: 150 } }, finance: { discount_rate: 0.1 } },
      2000,
    );
    expect(result.summary.tornado.metric).toBe('levelized_cost_per_gpu_hour_usd');
    const capex = result.summary.metrics['capex_usd'];
    if (!capex) throw new Error('no capex metric');
    // capex = count x $48,000 and count is a whole number in every draw.
    expect((capex.min / 48_000) % 1).toBe(0);
    expect(capex.p50).toBeCloseTo(100 * 48_000, -5);
  });

  it('names the field and the fix for every bad distribution', () => {
    const messages = (document: unknown, options = { draws: 100, seed: 1 }) => {
      const result = simulate(rentVsOwn, document, referenceData, options);
      return result.ok ? [] : result.issues.map((entry) => entry.message);
    };
    expect(messages(flatScenario({ dist: 'beta', min: 1, max: 2 }))[0]).toMatch(
      /rent\.gpu_hour_usd\.dist is "beta": expected one of uniform, normal/,
    );
    expect(messages(flatScenario({ dist: 'uniform', min: 3, max: 2 }))[0]).toMatch(/min 3 not below max 2/);
    expect(messages(flatScenario({ dist: 'uniform', min: 1 }))[0]).toMatch(
      /rent\.gpu_hour_usd\.max is missing/,
    );
    expect(messages(flatScenario(2))[0]).toMatch(/has no uncertain field/);
    expect(messages(flatScenario({ dist: 'normal', mean: 2, sd: 1 }))[0]).toMatch(
      /rent\.gpu_hour_usd is -?\d.*with rent\.gpu_hour_usd at its smallest draw/,
    );
    expect(
      messages({ ...flatScenario(2), fleet: { ...FLEET, gpu: { dist: 'uniform', min: 1, max: 2 } } })[0],
    ).toMatch(/fleet\.gpu holds a distribution, but it is not a number field/);
    expect(messages(flatScenario({ dist: 'uniform', min: 1, max: 3 }), { draws: 1, seed: -1 })).toHaveLength(
      2,
    );
  });
});
