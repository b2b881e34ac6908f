/**
 * The shape every engine command shares: a scenario schema, a resolver that fills defaults from
 * the reference data and checks rules spanning fields, and a pure computation. Keeping the three
 * apart lets `simulate` resolve once and compute many times.
 */
import type { DefaultUsed, ReferenceData } from './reference-data/reference-data.js';
import type { Result } from './result.js';
import { type Schema, validate } from './schema/schema.js';
import type { SimulationKernel } from './simulate/kernel.js';

export type AnalysisId =
  | 'roofline'
  | 'tco'
  | 'price-trend'
  | 'viability'
  | 'depreciation'
  | 'rent-vs-own'
  | 'finance'
  | 'buildout';

export interface Resolved<Inputs> {
  readonly inputs: Inputs;
  readonly defaultsUsed: readonly DefaultUsed[];
  readonly warnings: readonly string[];
}

export interface Analysis<Scenario, Inputs, Output> {
  readonly id: AnalysisId;
  /** One line for `autocap --help`. */
  readonly summary: string;
  readonly schema: Schema<Scenario>;
  resolve(scenario: Scenario, data: ReferenceData): Result<Resolved<Inputs>>;
  compute(inputs: Inputs): Output;
  /** An allocation-free evaluator of the headline figures for `simulate`; generic if absent. */
  kernel?(base: Inputs): SimulationKernel<Inputs>;
}

export interface AnalysisReport<Inputs, Output> extends Resolved<Inputs> {
  readonly output: Output;
}

/** Validates a parsed scenario document, resolves it and computes: the whole command. */
export function runAnalysis<Scenario, Inputs, Output>(
  analysis: Analysis<Scenario, Inputs, Output>,
  document: unknown,
  data: ReferenceData,
): Result<AnalysisReport<Inputs, Output>> {
  const parsed = validate(analysis.schema, document);
  if (!parsed.ok) return parsed;
  const resolved = analysis.resolve(parsed.value, data);
  if (!resolved.ok) return resolved;
  return { ok: true, value: { ...resolved.value, output: analysis.compute(resolved.value.inputs) } };
}

/** Collects the defaults a resolver falls back on, so the report can show their sources. */
export class DefaultsLedger {
  readonly used: DefaultUsed[] = [];
  constructor(private readonly data: ReferenceData) {}

  /** The given value, or the documented default for `key` (recorded under `field`). */
  take(given: number | undefined, field: string, key: keyof ReferenceData['defaults']): number {
    if (given !== undefined) return given;
    const figure = this.data.defaults[key];
    this.used.push({ field, value: figure.value, source: figure.source, date: figure.date });
    return figure.value;
  }

  /** Records a default that came from somewhere other than the defaults table (e.g. the catalog). */
  note(entry: DefaultUsed): number {
    this.used.push(entry);
    return entry.value;
  }
}
