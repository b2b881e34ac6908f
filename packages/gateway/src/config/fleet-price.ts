/**
 * Prices an owned model's tokens at the levelized cost of the GPUs that serve it (the method of
 * `autocap tco`, docs/methodology.md "Total cost of ownership"): the fleet's levelized cost per
 * delivered GPU-hour, spread over the tokens one busy GPU processes in an hour.
 *
 *   USD per Mtok = levelized USD per GPU-hour / (tokens per second per GPU x 3600) x 1e6
 *
 * computed for input (prefill) and output (decode) throughput separately. Each rate charges the
 * whole GPU-hour to that kind of token, i.e. the price of a token if the GPU did nothing else: an
 * upper bound for mixed traffic, and the convention rented APIs' per-token prices follow too.
 * Cached input is priced as input (a prefix-cache hit still occupies the GPU's batch).
 */
import {
  computeTco,
  type DefaultUsed,
  type FinanceInput,
  type FleetInput,
  type ReferenceData,
  tco,
} from '@autocap/econ';
import defaults from '../../../../data/defaults.json' with { type: 'json' };
import hardware from '../../../../data/hardware.json' with { type: 'json' };
import models from '../../../../data/models.json' with { type: 'json' };
import type { ModelPrice } from './config.js';

/** The repository's data tables (GPU catalog, sourced defaults), as the CLI bundles them. */
export const referenceData: ReferenceData = {
  gpus: hardware.gpus,
  models: models.models,
  defaults: defaults.figures,
};

export interface FleetPriceInput {
  readonly fleet: FleetInput;
  readonly finance?: FinanceInput | undefined;
  readonly utilization?: number | undefined;
  readonly inputTokensPerSecondPerGpu: number;
  readonly outputTokensPerSecondPerGpu: number;
}

export type FleetPriceResult =
  | {
      readonly ok: true;
      readonly price: ModelPrice;
      readonly levelizedCostPerGpuHourUsd: number;
      readonly defaultsUsed: readonly DefaultUsed[];
    }
  | { readonly ok: false; readonly errors: string[] };

const SECONDS_PER_HOUR = 3600;

/** USD per million tokens for a GPU-hour cost and a per-GPU throughput. */
export function perMtokFromGpuHour(usdPerGpuHour: number, tokensPerSecondPerGpu: number): number {
  return (usdPerGpuHour / (tokensPerSecondPerGpu * SECONDS_PER_HOUR)) * 1e6;
}

/**
 * `prefix` is where the model sits in the config (`models.2.`): econ names fields from the TCO
 * scenario's root (`fleet.gpu`), and messages must name the field in the user's file.
 */
export function fleetPrice(
  input: FleetPriceInput,
  prefix: string,
  data: ReferenceData = referenceData,
): FleetPriceResult {
  const resolved = tco.resolve(
    { fleet: input.fleet, finance: input.finance, utilization: input.utilization },
    data,
  );
  if (!resolved.ok) {
    return {
      ok: false,
      errors: resolved.issues.map((issue) =>
        issue.message.startsWith(issue.path)
          ? `${prefix}${issue.message}`
          : `${prefix}${issue.path}: ${issue.message}`,
      ),
    };
  }
  const levelized = computeTco(resolved.value.inputs).levelized_cost_per_gpu_hour_usd;
  const inputPrice = perMtokFromGpuHour(levelized, input.inputTokensPerSecondPerGpu);
  return {
    ok: true,
    price: {
      inputPerMtokUsd: inputPrice,
      outputPerMtokUsd: perMtokFromGpuHour(levelized, input.outputTokensPerSecondPerGpu),
      cachedInputPerMtokUsd: inputPrice,
      source: 'fleet',
    },
    levelizedCostPerGpuHourUsd: levelized,
    defaultsUsed: resolved.value.defaultsUsed.map((used) => ({ ...used, field: `${prefix}${used.field}` })),
  };
}
