/**
 * Monte Carlo over any analysis. Any number in a scenario may be written as a distribution; each
 * draw sets every uncertain field, evaluates the analysis's headline figures and its winner, and
 * the run reports percentiles, winner probabilities with their standard errors, and a tornado
 * (each field swung from its P5 to its P95 draw with the others at their medians).
 * Draws are taken field by field from one seeded stream, so a seed reproduces a run bit for bit.
 * See docs/methodology.md, "Simulation".
 */
import type { Analysis } from '../analysis.js';
import type { ReferenceData } from '../reference-data/reference-data.js';
import type { Issue, Result } from '../result.js';
import { schemaAt } from '../schema/schema.js';
import { compile, type Evaluator, type UncertainField } from './compile.js';
import { type Distribution, isDistributionLike, parseDistribution, sample } from './distributions.js';
import { genericKernel, type SimulationKernel } from './kernel.js';
import { Random } from './random.js';
import { type Histogram, histogram, type MetricSummary, quantile, summarize } from './statistics.js';
import { cloneData } from './tree.js';

export interface SimulationOptions {
  readonly draws: number;
  readonly seed: number;
  /** The metric for the tornado and histogram; the analysis's headline figure by default. */
  readonly metric?: string | undefined;
  /** Called every few thousand draws, for a progress bar. */
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface TornadoRow {
  readonly field: string;
  readonly low: number;
  readonly high: number;
  readonly output_at_low: number;
  readonly output_at_high: number;
  /** |output_at_high - output_at_low|; rows are sorted by it, largest first. */
  readonly swing: number;
}

export interface SimulationSummary {
  readonly analysis: string;
  readonly draws: number;
  readonly seed: number;
  /** `fast`: affine maps into reused inputs; `resolve-per-draw`: each draw validated and resolved. */
  readonly evaluation: { readonly path: 'fast' | 'resolve-per-draw'; readonly reason: string | null };
  /** Draws where the scenario was invalid (general path only); they count as undefined. */
  readonly invalid_draws: number;
  readonly uncertain: readonly {
    readonly field: string;
    readonly distribution: Distribution;
    readonly p5: number;
    readonly p50: number;
    readonly p95: number;
  }[];
  readonly metrics: Readonly<Record<string, MetricSummary>>;
  /** Share of draws each outcome won, with the standard error sqrt(p(1-p)/n). */
  readonly winner_probability: Readonly<
    Record<string, { readonly probability: number; readonly standard_error: number }>
  >;
  readonly tornado: {
    readonly metric: string;
    /** The metric with every field at its median. */
    readonly base: number;
    readonly range: 'p5-p95';
    readonly rows: readonly TornadoRow[];
  };
  readonly histogram: Histogram & { readonly metric: string };
}

export interface SimulationRun {
  readonly summary: SimulationSummary;
  /** The tornado metric's value in every draw, for charts. */
  readonly primarySamples: Float64Array;
}

const PROGRESS_EVERY = 4096;
const MAX_DRAWS = 10_000_000;

export function simulate<Scenario, Inputs, Output>(
  analysis: Analysis<Scenario, Inputs, Output>,
  document: unknown,
  data: ReferenceData,
  options: SimulationOptions,
): Result<SimulationRun> {
  const optionIssues = checkOptions(options);
  if (optionIssues.length > 0) return { ok: false, issues: optionIssues };
  const working = cloneData(document);
  const found = findUncertain(working, analysis);
  if (!found.ok) return found;
  const { draws, seed } = options;

  // Every field's draws up front: draw i takes one value per field, in field order.
  const random = new Random(seed);
  const columns = found.value.map(() => new Float64Array(draws));
  for (let i = 0; i < draws; i++) {
    for (const [j, field] of found.value.entries()) {
      const value = sample(field.distribution, random);
      (columns[j] as Float64Array)[i] = field.integer ? Math.round(value) : value;
    }
  }
  const fields: UncertainField[] = [];
  for (const [j, field] of found.value.entries()) {
    const column = columns[j] as Float64Array;
    if (column.some(Number.isNaN)) {
      return fail(
        field.path,
        'has truncation bounds that hold almost none of the distribution: widen min/max',
      );
    }
    const sorted = Float64Array.from(column).sort();
    const median = quantile(sorted, 0.5);
    fields.push({ ...field, sorted, median: field.integer ? Math.round(median) : median });
  }

  const compiled = compile(analysis, working, fields, data);
  if (!compiled.ok) return compiled;
  const evaluator = compiled.value;
  const kernel: SimulationKernel<Inputs> = analysis.kernel
    ? analysis.kernel(evaluator.base.inputs)
    : genericKernel(analysis.compute, analysis.compute(evaluator.base.inputs));
  const metric = options.metric ?? kernel.primary;
  const primary = kernel.metrics.indexOf(metric);
  if (primary < 0) {
    return fail('metric', `is "${metric}": expected one of ${kernel.metrics.join(', ')}`);
  }

  const results = kernel.metrics.map(() => new Float64Array(draws));
  const row = new Float64Array(kernel.metrics.length);
  const wins = new Float64Array(64);
  let invalid = 0;
  for (let i = 0; i < draws; i++) {
    for (let j = 0; j < fields.length; j++) evaluator.setField(j, (columns[j] as Float64Array)[i] as number);
    const inputs = evaluator.current();
    if (inputs === null) {
      invalid++;
      row.fill(Number.NaN);
    } else {
      const winner = kernel.evaluate(inputs, row);
      if (winner >= 0 && winner < wins.length) wins[winner] = (wins[winner] as number) + 1;
    }
    for (let k = 0; k < row.length; k++) (results[k] as Float64Array)[i] = row[k] as number;
    if (options.onProgress && (i + 1) % PROGRESS_EVERY === 0) options.onProgress(i + 1, draws);
  }
  options.onProgress?.(draws, draws);

  const metrics: Record<string, MetricSummary> = {};
  kernel.metrics.forEach((name, k) => {
    metrics[name] = summarize(results[k] as Float64Array);
  });
  const winnerProbability: Record<string, { probability: number; standard_error: number }> = {};
  kernel.outcomes.forEach((name, index) => {
    const p = (wins[index] ?? 0) / draws;
    winnerProbability[name] = { probability: p, standard_error: Math.sqrt((p * (1 - p)) / draws) };
  });
  const primarySamples = results[primary] as Float64Array;

  return {
    ok: true,
    value: {
      primarySamples,
      summary: {
        analysis: analysis.id,
        draws,
        seed,
        evaluation: { path: evaluator.path, reason: evaluator.reason },
        invalid_draws: invalid,
        uncertain: fields.map((field) => ({
          field: field.path,
          distribution: field.distribution,
          p5: quantile(field.sorted, 0.05),
          p50: field.median,
          p95: quantile(field.sorted, 0.95),
        })),
        metrics,
        winner_probability: winnerProbability,
        tornado: tornado(evaluator, kernel, fields, primary, metric),
        histogram: { metric, ...histogram(primarySamples, 40) },
      },
    },
  };
}

function tornado<Inputs>(
  evaluator: Evaluator<Inputs>,
  kernel: SimulationKernel<Inputs>,
  fields: readonly UncertainField[],
  primary: number,
  metric: string,
): SimulationSummary['tornado'] {
  const row = new Float64Array(kernel.metrics.length);
  const at = (index: number | null, value: number): number => {
    evaluator.reset();
    if (index !== null) evaluator.setField(index, value);
    const inputs = evaluator.current();
    if (inputs === null) return Number.NaN;
    kernel.evaluate(inputs, row);
    return row[primary] as number;
  };
  const base = at(null, 0);
  const rows = fields.map((field, index): TornadoRow => {
    const low = quantile(field.sorted, 0.05);
    const high = quantile(field.sorted, 0.95);
    const outputAtLow = at(index, low);
    const outputAtHigh = at(index, high);
    return {
      field: field.path,
      low,
      high,
      output_at_low: outputAtLow,
      output_at_high: outputAtHigh,
      swing: Math.abs(outputAtHigh - outputAtLow),
    };
  });
  evaluator.reset();
  return { metric, base, range: 'p5-p95', rows: rows.sort((a, b) => b.swing - a.swing) };
}

interface FoundField {
  readonly path: string;
  readonly distribution: Distribution;
  readonly place: { parent: Record<string, unknown> | unknown[]; key: string };
  readonly integer: boolean;
}

/** Every `{dist: ...}` in the document, checked and located. */
function findUncertain<Scenario, Inputs, Output>(
  document: unknown,
  analysis: Analysis<Scenario, Inputs, Output>,
): Result<FoundField[]> {
  const issues: Issue[] = [];
  const found: FoundField[] = [];
  const walk = (node: Record<string, unknown> | unknown[], prefix: string): void => {
    for (const key of Object.keys(node)) {
      const value = (node as Record<string, unknown>)[key];
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (isDistributionLike(value)) {
        const schema = schemaAt(analysis.schema as never, path);
        if (schema === undefined || schema.kind !== 'number') {
          issues.push({
            code: 'invalid_value',
            path,
            message: `${path} holds a distribution, but ${schema ? 'it is not a number field' : 'it is not a field of this scenario'}: distributions replace numbers only`,
          });
          continue;
        }
        const distribution = parseDistribution(value, path, issues);
        if (distribution)
          found.push({ path, distribution, place: { parent: node, key }, integer: schema.integer === true });
      } else if (typeof value === 'object' && value !== null) {
        walk(value as Record<string, unknown>, path);
      }
    }
  };
  if (typeof document === 'object' && document !== null) walk(document as Record<string, unknown>, '');
  if (issues.length > 0) return { ok: false, issues };
  if (found.length === 0) {
    return fail(
      'scenario',
      'has no uncertain field: write a distribution in place of a number, e.g. rent: {gpu_hour_usd: {dist: uniform, min: 1.5, max: 3}}',
    );
  }
  return { ok: true, value: found };
}

function checkOptions(options: SimulationOptions): Issue[] {
  const issues: Issue[] = [];
  if (!Number.isInteger(options.draws) || options.draws < 2 || options.draws > MAX_DRAWS) {
    issues.push({
      code: 'out_of_range',
      path: 'draws',
      message: `draws is ${options.draws}: expected a whole number from 2 to ${MAX_DRAWS} (example: draws: 10000)`,
    });
  }
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    issues.push({
      code: 'out_of_range',
      path: 'seed',
      message: `seed is ${options.seed}: expected a whole number from 0 to 4294967295 (example: seed: 42)`,
    });
  }
  return issues;
}

function fail<T>(path: string, problem: string): Result<T> {
  return { ok: false, issues: [{ code: 'invalid_value', path, message: `${path} ${problem}` }] };
}
