/**
 * Distributions a scenario field can take instead of a number, written in place of the number:
 * `gpu_hour_usd: {dist: uniform, min: 1.5, max: 3}`. Normal and lognormal may carry `min`/`max`,
 * which truncate them (draws outside are redrawn).
 */
import type { Issue } from '../result.js';
import { choice, INVALID, number, object, optional, type Schema } from '../schema/schema.js';
import type { Random } from './random.js';

export type Distribution =
  | { readonly dist: 'uniform'; readonly min: number; readonly max: number }
  | {
      readonly dist: 'normal';
      readonly mean: number;
      readonly sd: number;
      readonly min?: number | undefined;
      readonly max?: number | undefined;
    }
  | {
      readonly dist: 'lognormal';
      /** The median, e^mu. */
      readonly median: number;
      /** Standard deviation of the logarithm. */
      readonly sigma: number;
      readonly min?: number | undefined;
      readonly max?: number | undefined;
    }
  | { readonly dist: 'triangular'; readonly min: number; readonly mode: number; readonly max: number }
  /** Beta-PERT: a smooth triangular; `lambda` (default 4) weights the mode. */
  | {
      readonly dist: 'pert';
      readonly min: number;
      readonly mode: number;
      readonly max: number;
      readonly lambda?: number | undefined;
    };

export type DistributionName = Distribution['dist'];
export const DISTRIBUTION_NAMES: readonly DistributionName[] = [
  'uniform',
  'normal',
  'lognormal',
  'triangular',
  'pert',
];

const bound = (what: string): Schema<number> => number({ unit: what, example: 1 });
const schemas: { readonly [K in DistributionName]: Schema<Extract<Distribution, { dist: K }>> } = {
  uniform: object(
    { dist: choice(['uniform'], 'uniform'), min: bound('lower bound'), max: bound('upper bound') },
    { what: 'a uniform distribution {dist, min, max}', example: '{dist: uniform, min: 1.5, max: 3}' },
  ),
  normal: object(
    {
      dist: choice(['normal'], 'normal'),
      mean: bound('mean'),
      sd: number({ unit: 'standard deviation', example: 0.2, above: 0 }),
      min: optional(bound('truncation lower bound')),
      max: optional(bound('truncation upper bound')),
    },
    {
      what: 'a normal distribution {dist, mean, sd, min?, max?}',
      example: '{dist: normal, mean: 2, sd: 0.3}',
    },
  ),
  lognormal: object(
    {
      dist: choice(['lognormal'], 'lognormal'),
      median: number({ unit: 'median', example: 2, above: 0 }),
      sigma: number({ unit: 'standard deviation of the log', example: 0.3, above: 0 }),
      min: optional(bound('truncation lower bound')),
      max: optional(bound('truncation upper bound')),
    },
    {
      what: 'a lognormal distribution {dist, median, sigma, min?, max?}',
      example: '{dist: lognormal, median: 2, sigma: 0.3}',
    },
  ),
  triangular: object(
    {
      dist: choice(['triangular'], 'triangular'),
      min: bound('lower bound'),
      mode: bound('most likely value'),
      max: bound('upper bound'),
    },
    {
      what: 'a triangular distribution {dist, min, mode, max}',
      example: '{dist: triangular, min: 1, mode: 2, max: 4}',
    },
  ),
  pert: object(
    {
      dist: choice(['pert'], 'pert'),
      min: bound('lower bound'),
      mode: bound('most likely value'),
      max: bound('upper bound'),
      lambda: optional(number({ unit: 'weight of the mode', example: 4, min: 0 })),
    },
    {
      what: 'a PERT distribution {dist, min, mode, max, lambda?}',
      example: '{dist: pert, min: 1, mode: 2, max: 4}',
    },
  ),
};

export function isDistributionLike(value: unknown): value is { dist: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'dist' in value;
}

/** Parses `{dist: ...}` at `path`, checking its parameters are consistent. */
export function parseDistribution(
  input: { dist: unknown },
  path: string,
  issues: Issue[],
): Distribution | null {
  const name = input.dist;
  if (typeof name !== 'string' || !(DISTRIBUTION_NAMES as readonly string[]).includes(name)) {
    issues.push({
      code: 'invalid_value',
      path: `${path}.dist`,
      message: `${path}.dist is ${JSON.stringify(name)}: expected one of ${DISTRIBUTION_NAMES.join(', ')} (example: ${path}: {dist: uniform, min: 1.5, max: 3})`,
    });
    return null;
  }
  const parsed = schemas[name as DistributionName].parse(input, path, issues);
  if (parsed === INVALID) return null;
  const d = parsed as Distribution;
  const problem = inconsistency(d);
  if (problem) {
    issues.push({ code: 'invalid_value', path, message: `${path} ${problem}` });
    return null;
  }
  return d;
}

function inconsistency(d: Distribution): string | null {
  switch (d.dist) {
    case 'uniform':
      return d.min < d.max ? null : `has min ${d.min} not below max ${d.max}: give min < max`;
    case 'triangular':
    case 'pert':
      return d.min < d.max && d.min <= d.mode && d.mode <= d.max
        ? null
        : `has min ${d.min}, mode ${d.mode}, max ${d.max}: give min <= mode <= max with min < max`;
    case 'normal':
    case 'lognormal': {
      if (d.min !== undefined && d.max !== undefined && d.min >= d.max)
        return `has min ${d.min} not below max ${d.max}: give min < max`;
      return null;
    }
  }
}

/** Redraws beyond this many mean the truncation bounds hold almost none of the distribution. */
const MAX_REDRAWS = 10_000;

/** One draw. Returns NaN if truncation rejected MAX_REDRAWS draws in a row (checked at set-up). */
export function sample(d: Distribution, random: Random): number {
  switch (d.dist) {
    case 'uniform':
      return d.min + (d.max - d.min) * random.uniform();
    case 'triangular': {
      // Inverse of the triangular CDF.
      const u = random.uniform();
      const span = d.max - d.min;
      const split = (d.mode - d.min) / span;
      return u < split
        ? d.min + Math.sqrt(u * span * (d.mode - d.min))
        : d.max - Math.sqrt((1 - u) * span * (d.max - d.mode));
    }
    case 'pert': {
      const lambda = d.lambda ?? 4;
      const span = d.max - d.min;
      const alpha = 1 + (lambda * (d.mode - d.min)) / span;
      const beta = 1 + (lambda * (d.max - d.mode)) / span;
      const x = random.gamma(alpha);
      return d.min + (span * x) / (x + random.gamma(beta));
    }
    case 'normal':
    case 'lognormal': {
      const low = d.min ?? Number.NEGATIVE_INFINITY;
      const high = d.max ?? Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < MAX_REDRAWS; attempt++) {
        const z = random.normal();
        const value = d.dist === 'normal' ? d.mean + d.sd * z : d.median * Math.exp(d.sigma * z);
        if (value >= low && value <= high) return value;
      }
      return Number.NaN;
    }
  }
}

/** Closed-form mean, for tests and the convergence check. Truncated distributions return null. */
export function meanOf(d: Distribution): number | null {
  switch (d.dist) {
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'triangular':
      return (d.min + d.mode + d.max) / 3;
    case 'pert':
      return (d.min + (d.lambda ?? 4) * d.mode + d.max) / ((d.lambda ?? 4) + 2);
    case 'normal':
      return d.min === undefined && d.max === undefined ? d.mean : null;
    case 'lognormal':
      return d.min === undefined && d.max === undefined ? d.median * Math.exp((d.sigma * d.sigma) / 2) : null;
  }
}
