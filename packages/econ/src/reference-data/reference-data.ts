/**
 * Shapes of the tables in the repository's `data/` folder. econ does no I/O: callers (the CLI,
 * tests, benchmarks) load the files and hand them in, so every default stays traceable to a
 * row with a source and a date.
 */

export type Precision = 'bf16' | 'fp8' | 'fp4';

/** A low/typical/high price with where it came from. */
export interface SourcedRange {
  readonly low: number;
  readonly typical: number;
  readonly high: number;
  readonly source: string;
  readonly date: string;
}

export interface GpuSpec {
  readonly id: string;
  readonly name: string;
  readonly vendor: string;
  readonly released: string;
  /** Dense (not sparse) peak FLOP/s by precision; bf16 is always present. */
  readonly peak_flops_per_s: { readonly bf16: number; readonly fp8?: number; readonly fp4?: number };
  readonly bandwidth_bytes_per_s: number;
  readonly memory_bytes: number;
  readonly tdp_w: number;
  /** Server power per GPU, including CPUs, NICs and fans (system power / GPUs per system). */
  readonly power_kw_per_gpu_all_in: number;
  readonly purchase_usd: SourcedRange;
  readonly rental_usd_per_hour: SourcedRange;
  readonly sources: readonly { readonly fields: string; readonly source: string; readonly date: string }[];
}

export interface ModelSpec {
  readonly id: string;
  readonly name: string;
  readonly params_b: number;
  readonly active_params_b: number;
  readonly layers: number;
  readonly kv_heads: number;
  readonly head_dim: number;
  /**
   * KV-cache elements per token per layer: 2 x kv_heads x head_dim for standard attention, less
   * for compressed caches (DeepSeek's MLA stores one 576-wide latent).
   */
  readonly kv_elements_per_token_per_layer: number;
  readonly context_max_tokens?: number;
  readonly source: string;
  readonly date: string;
  readonly note?: string;
}

/** One documented default: its value, the published range, and its source. */
export interface DefaultFigure {
  readonly value: number;
  readonly unit: string;
  readonly low?: number;
  readonly high?: number;
  readonly source: string;
  readonly date: string;
  readonly note?: string;
}

export type DefaultKey =
  | 'pue'
  | 'electricity_usd_per_kwh'
  | 'other_capex_fraction_of_gpu'
  | 'maintenance_fraction_of_capex_per_year'
  | 'staff_usd_per_gpu_year'
  | 'colocation_usd_per_gpu_year'
  | 'software_usd_per_gpu_year'
  | 'useful_life_years'
  | 'salvage_fraction'
  | 'discount_rate'
  | 'utilization'
  | 'book_life_years'
  | 'software_progress_per_year'
  | 'hardware_price_performance_per_year'
  | 'supply_price_decline_per_year'
  | 'software_pass_through'
  | 'private_premium_per_year'
  | 'max_utilization'
  | 'peak_to_mean'
  | 'api_price_decline_per_year'
  | 'rent_utilization';

export interface ReferenceData {
  readonly gpus: readonly GpuSpec[];
  readonly models: readonly ModelSpec[];
  readonly defaults: Readonly<Record<DefaultKey, DefaultFigure>>;
}

/** A default that a scenario left out and the engine filled in, reported beside the result. */
export interface DefaultUsed {
  readonly field: string;
  readonly value: number;
  readonly source: string;
  readonly date: string;
}

export function findGpu(data: ReferenceData, id: string): GpuSpec | undefined {
  return data.gpus.find((gpu) => gpu.id === id);
}

export function findModel(data: ReferenceData, id: string): ModelSpec | undefined {
  return data.models.find((model) => model.id === id);
}
