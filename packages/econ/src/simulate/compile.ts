/**
 * Turns "set scenario field j to x" into inputs for the kernel, as cheaply as possible.
 *
 * Most uncertain fields reach the resolved inputs unchanged or through an affine map (a token
 * volume becomes work units by a division). `compile` finds these maps by probing: it resolves
 * the scenario with each field at seven quantiles of its draws (the others at their medians),
 * and fits each input that moves to a + b·x, checking the fit at every probe. When every field
 * maps this way and no input depends on two fields, a draw is a few multiply-adds written into
 * one reused inputs object (the fast path). Otherwise each draw is validated and resolved again
 * (the general path), which is slower but exact for any field.
 * The probes also check the scenario is valid at each field's smallest and largest draw.
 */
import type { Analysis, Resolved } from '../analysis.js';
import type { ReferenceData } from '../reference-data/reference-data.js';
import type { Issue, Result } from '../result.js';
import { validate } from '../schema/schema.js';
import type { Distribution } from './distributions.js';
import { quantile } from './statistics.js';
import { cloneData, type Leaf, numericLeaves, shapeOf, write } from './tree.js';

export interface UncertainField {
  readonly path: string;
  readonly distribution: Distribution;
  /** Where the field sits in the working scenario document. */
  readonly place: Pick<Leaf, 'parent' | 'key'>;
  /** This field's draws, sorted, for quantiles. */
  readonly sorted: Float64Array;
  readonly median: number;
}

export interface Evaluator<Inputs> {
  readonly path: 'fast' | 'resolve-per-draw';
  /** Why the fast path could not be used, when it could not. */
  readonly reason: string | null;
  readonly base: Resolved<Inputs>;
  setField(index: number, value: number): void;
  /** The inputs for the fields as set, or null when the scenario is invalid for them. */
  current(): Inputs | null;
  /** Puts every field back at its median. */
  reset(): void;
}

interface AffineMap {
  readonly leaf: Leaf;
  readonly intercept: number;
  readonly slope: number;
}

const PROBES = [0, 0.1, 0.25, 0.75, 0.9, 1];

export function compile<Scenario, Inputs, Output>(
  analysis: Analysis<Scenario, Inputs, Output>,
  document: unknown,
  fields: readonly UncertainField[],
  data: ReferenceData,
): Result<Evaluator<Inputs>> {
  const resolveDocument = (): Result<Resolved<Inputs>> => {
    const parsed = validate(analysis.schema, document);
    return parsed.ok ? analysis.resolve(parsed.value, data) : parsed;
  };
  const reset = (): void => {
    for (const field of fields) write(field.place, field.median);
  };

  reset();
  const base = resolveDocument();
  if (!base.ok) return withContext(base.issues, 'with every uncertain field at its median');
  const baseInputs = base.value.inputs;
  const baseShape = shapeOf(baseInputs);
  const baseLeaves = numericLeaves(baseInputs, { includeNull: false, intoArrays: true });
  const baseValues = baseLeaves.map((leaf) => (leaf.parent as Record<string, unknown>)[leaf.key] as number);

  const owner = new Int32Array(baseLeaves.length).fill(-1);
  const maps: AffineMap[][] = fields.map(() => []);
  let reason: string | null = null;
  const work = cloneData(baseInputs);
  const workLeaves = numericLeaves(work, { includeNull: false, intoArrays: true });

  for (const [j, field] of fields.entries()) {
    const points: { x: number; values: number[] }[] = [];
    for (const q of PROBES) {
      const x = quantile(field.sorted, q);
      if (x === field.median || points.some((point) => point.x === x)) continue;
      write(field.place, x);
      const resolved = resolveDocument();
      write(field.place, field.median);
      if (!resolved.ok) {
        const where = q === 0 ? 'smallest' : q === 1 ? 'largest' : `P${q * 100}`;
        return withContext(resolved.issues, `with ${field.path} at its ${where} draw, ${x}`);
      }
      if (reason !== null) continue; // still checking validity at the extremes
      if (shapeOf(resolved.value.inputs) !== baseShape) {
        reason = `${field.path} changes the structure of the resolved inputs`;
        continue;
      }
      const leaves = numericLeaves(resolved.value.inputs, { includeNull: false, intoArrays: true });
      points.push({
        x,
        values: leaves.map((leaf) => (leaf.parent as Record<string, unknown>)[leaf.key] as number),
      });
    }
    if (reason !== null || points.length === 0) continue;
    for (let i = 0; i < baseLeaves.length; i++) {
      const y0 = baseValues[i] as number;
      if (points.every((point) => Object.is(point.values[i], y0))) continue;
      if (owner[i] !== -1) {
        reason = `${field.path} and ${fields[owner[i] as number]?.path} both move ${baseLeaves[i]?.path}`;
        break;
      }
      const fit = affineFit(field.median, y0, points, i);
      if (!fit) {
        reason = `${baseLeaves[i]?.path} is not an affine function of ${field.path}`;
        break;
      }
      owner[i] = j;
      (maps[j] as AffineMap[]).push({ leaf: workLeaves[i] as Leaf, ...fit });
    }
  }

  if (reason === null) {
    return {
      ok: true,
      value: {
        path: 'fast',
        reason: null,
        base: base.value,
        setField(index, value) {
          for (const map of maps[index] as AffineMap[]) write(map.leaf, map.intercept + map.slope * value);
        },
        current: () => work,
        reset() {
          for (const [index, field] of fields.entries()) this.setField(index, field.median);
        },
      },
    };
  }
  return {
    ok: true,
    value: {
      path: 'resolve-per-draw',
      reason,
      base: base.value,
      setField: (index, value) => write((fields[index] as UncertainField).place, value),
      current() {
        const resolved = resolveDocument();
        return resolved.ok ? resolved.value.inputs : null;
      },
      reset,
    },
  };
}

/** a + b·x through the median and the farthest probe, if it holds at every probe. */
function affineFit(
  x0: number,
  y0: number,
  points: readonly { x: number; values: readonly number[] }[],
  leaf: number,
): { intercept: number; slope: number } | null {
  if (!Number.isFinite(y0)) return null;
  const far = points.reduce((best, point) => (Math.abs(point.x - x0) > Math.abs(best.x - x0) ? point : best));
  const slope = ((far.values[leaf] as number) - y0) / (far.x - x0);
  const intercept = y0 - slope * x0;
  for (const point of points) {
    const y = point.values[leaf] as number;
    const predicted = intercept + slope * point.x;
    const scale = Math.abs(y) + Math.abs(intercept) + Math.abs(slope * point.x);
    if (!Number.isFinite(y) || Math.abs(predicted - y) > 1e-9 * scale) return null;
  }
  return { intercept, slope };
}

function withContext<T>(issues: readonly Issue[], context: string): Result<T> {
  return {
    ok: false,
    issues: issues.map((entry) => ({ ...entry, message: `${entry.message} (${context})` })),
  };
}
