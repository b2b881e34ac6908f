/**
 * What `simulate` evaluates per draw: named headline metrics written into a Float64Array, and the
 * index of the winning outcome. An analysis may ship a fast, allocation-free kernel
 * (rent versus own does); every other analysis gets the generic one, which runs `compute` and
 * reads the output's numeric fields.
 */
import { type Leaf, numericLeaves } from './tree.js';

export interface SimulationKernel<Inputs> {
  /** Dotted output paths, e.g. `options.own.npv_cost_usd`. */
  readonly metrics: readonly string[];
  /** The metric the tornado and histogram describe. */
  readonly primary: string;
  /** Labels of the `winner` outcomes seen so far; may grow during a run. Empty if none. */
  readonly outcomes: readonly string[];
  /** Writes one value per metric into `out` (NaN where undefined); returns the outcome index or -1. */
  evaluate(inputs: Inputs, out: Float64Array): number;
}

/** Headline metrics worth a tornado by default, in order of preference. */
const PRIMARY_CANDIDATES = [
  'advantage_attribution_usd.total',
  'levelized_cost_per_mtok_usd',
  'levelized_cost_per_gpu_hour_usd',
  'npv_usd',
  'roic',
  'residual_value_usd',
];

export function genericKernel<Inputs, Output>(
  compute: (inputs: Inputs) => Output,
  baseOutput: Output,
): SimulationKernel<Inputs> {
  // Numbers and nulls (a figure that may be undefined in some draws), outside lists.
  const leaves: Leaf[] = numericLeaves(baseOutput, { includeNull: true, intoArrays: false });
  const metrics = leaves.map((leaf) => leaf.path);
  const outcomes: string[] = [];
  const defined = leaves.filter((leaf) => leaf.parent[leaf.key as never] !== null).map((leaf) => leaf.path);
  const primary = PRIMARY_CANDIDATES.find((name) => defined.includes(name)) ?? defined[0] ?? '';
  return {
    metrics,
    primary,
    outcomes,
    evaluate(inputs, out) {
      const output = compute(inputs) as unknown;
      for (let i = 0; i < leaves.length; i++) {
        let node: unknown = output;
        for (const key of (leaves[i] as Leaf).keys) {
          node =
            typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
        }
        out[i] = typeof node === 'number' ? node : Number.NaN;
      }
      const winner =
        typeof output === 'object' && output !== null
          ? (output as Record<string, unknown>)['winner']
          : undefined;
      if (typeof winner !== 'string') return -1;
      let index = outcomes.indexOf(winner);
      if (index < 0) index = outcomes.push(winner) - 1;
      return index;
    },
  };
}
