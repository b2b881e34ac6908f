/**
 * A made-up simulation for tests of the report: deterministic samples (no generator needed) with
 * a known shape, so the histogram and tornado charts can be exercised before `autocap simulate`
 * feeds real draws.
 */
import type { ReportSimulation } from './render-report.js';

/** `draws` samples around `center`: a sum of three incommensurate sines, roughly bell-shaped. */
export function syntheticSimulation(draws = 2000, center = 216_000): ReportSimulation {
  const samples = new Float64Array(draws);
  for (let index = 0; index < draws; index++) {
    const wave = Math.sin(index * 1.7) + Math.sin(index * 0.37 + 1) + Math.sin(index * 2.9 + 2);
    samples[index] = center + 400_000 * wave;
  }
  const sorted = Float64Array.from(samples).sort();
  const at = (fraction: number): number => sorted[Math.floor(fraction * (draws - 1))] ?? 0;
  const wins = samples.reduce((count, value) => count + (value > 0 ? 1 : 0), 0) / draws;
  return {
    draws,
    seed: 42,
    metric: "Owning's NPV advantage (USD)",
    samples,
    p5: at(0.05),
    p50: at(0.5),
    p95: at(0.95),
    winnerProbability: { own: wins * 0.4, hybrid: wins * 0.6, rent: 1 - wins },
    tornado: [
      { input: 'rent.gpu_hour_usd', low: 1.7, high: 3, outputAtLow: -650_000, outputAtHigh: 1_150_000 },
      {
        input: 'appreciation.software_progress_per_year',
        low: 0.2,
        high: 0.6,
        outputAtLow: -300_000,
        outputAtHigh: 720_000,
      },
      { input: 'workload.growth_per_year', low: 0.3, high: 0.9, outputAtLow: 20_000, outputAtHigh: 480_000 },
      {
        input: 'fleet.gpu_price_usd',
        low: 25_000,
        high: 38_000,
        outputAtLow: 520_000,
        outputAtHigh: -90_000,
      },
    ],
    base: center,
  };
}
