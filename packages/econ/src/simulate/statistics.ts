/** Summaries of simulated samples. NaN marks a draw where a figure is undefined (e.g. no payback). */

export interface MetricSummary {
  readonly mean: number;
  readonly sd: number;
  /** Standard error of the mean, sd / sqrt(n): how far another run's mean may fall. */
  readonly standard_error: number;
  readonly p5: number;
  readonly p50: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
  /** Share of draws where the figure is undefined (null in the command's own output). */
  readonly undefined_share: number;
}

/** The finite values, sorted ascending. */
export function sortedFinite(values: Float64Array): Float64Array {
  let count = 0;
  for (const value of values) if (Number.isFinite(value)) count++;
  const sorted = new Float64Array(count);
  let i = 0;
  for (const value of values) if (Number.isFinite(value)) sorted[i++] = value;
  return sorted.sort();
}

/** Quantile by linear interpolation between order statistics (Hyndman and Fan type 7, numpy's default). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const low = sorted[below] as number;
  return low + ((sorted[above] as number) - low) * (position - below);
}

export function summarize(values: Float64Array): MetricSummary {
  const sorted = sortedFinite(values);
  const n = sorted.length;
  let sum = 0;
  for (const value of sorted) sum += value;
  const mean = n > 0 ? sum / n : Number.NaN;
  let squares = 0;
  for (const value of sorted) squares += (value - mean) * (value - mean);
  const sd = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  return {
    mean,
    sd,
    standard_error: n > 0 ? sd / Math.sqrt(n) : Number.NaN,
    p5: quantile(sorted, 0.05),
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    min: n > 0 ? (sorted[0] as number) : Number.NaN,
    max: n > 0 ? (sorted[n - 1] as number) : Number.NaN,
    undefined_share: values.length > 0 ? (values.length - n) / values.length : 0,
  };
}

export interface Histogram {
  /** bins + 1 edges. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

export function histogram(values: Float64Array, bins: number): Histogram {
  const sorted = sortedFinite(values);
  const low = sorted[0] ?? 0;
  const high = sorted[sorted.length - 1] ?? 0;
  const width = high > low ? (high - low) / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (const value of sorted) {
    const bin = Math.min(bins - 1, Math.floor((value - low) / width));
    counts[bin] = (counts[bin] as number) + 1;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => low + i * width), counts };
}
