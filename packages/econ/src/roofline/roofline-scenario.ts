import type { Precision } from '../reference-data/reference-data.js';
import { choice, idOrObject, number, object, optional, type Schema, string } from '../schema/schema.js';

/** A model: a catalog id, or an inline spec (optionally `from` a catalog model, overriding fields). */
export interface ModelInput {
  readonly from?: string | undefined;
  readonly params_b?: number | undefined;
  readonly active_params_b?: number | undefined;
  readonly bytes_per_param?: number | undefined;
  readonly layers?: number | undefined;
  readonly kv_heads?: number | undefined;
  readonly head_dim?: number | undefined;
  readonly kv_bytes?: number | undefined;
}

/** A GPU: a catalog id, or an inline spec (optionally `from` a catalog GPU, overriding fields). */
export interface GpuInput {
  readonly from?: string | undefined;
  readonly bandwidth_bytes_per_s?: number | undefined;
  readonly memory_bytes?: number | undefined;
  readonly peak_flops_per_s?: PeakFlopsInput | undefined;
}

export interface PeakFlopsInput {
  readonly bf16?: number | undefined;
  readonly fp8?: number | undefined;
  readonly fp4?: number | undefined;
}

export interface RooflineScenario {
  readonly model: string | ModelInput;
  readonly gpu: string | GpuInput;
  readonly batch?: number | undefined;
  readonly context_tokens?: number | undefined;
  readonly gpu_hour_usd?: number | undefined;
  readonly efficiency?: number | undefined;
  readonly compute_precision?: Precision | undefined;
}

const catalogId = (what: string, example: string): Schema<string> =>
  string({ what: `a ${what} id from the catalog (see \`autocap hardware\`)`, example });

const positive = (unit: string, example: number): Schema<number | undefined> =>
  optional(number({ unit, above: 0, example }));

const count = (unit: string, example: number): Schema<number | undefined> =>
  optional(number({ unit, min: 1, integer: true, example }));

/** 2 (BF16), 1 (FP8), 0.5 (FP4); other positive values fit custom quantizations. */
const bytesPerParam: Schema<number> = number({
  unit: 'bytes per weight: 2 for BF16, 1 for FP8, 0.5 for FP4',
  above: 0,
  max: 4,
  example: 1,
});

export const modelSchema: Schema<string | ModelInput> = idOrObject(
  catalogId('model', 'llama-3.1-70b'),
  object<ModelInput>(
    {
      from: optional(catalogId('model', 'llama-3.1-70b')),
      params_b: positive('billions of parameters', 70),
      active_params_b: positive(
        'billions of parameters active per token; below params_b for mixture-of-experts',
        37,
      ),
      bytes_per_param: optional(bytesPerParam),
      layers: count('transformer layers', 80),
      kv_heads: count('key/value heads per layer', 8),
      head_dim: count('dimensions per attention head', 128),
      kv_bytes: positive('bytes per KV-cache element: 2 for BF16, 1 for FP8', 2),
    },
    {
      what: 'a model spec {params_b, bytes_per_param, layers, kv_heads, head_dim, kv_bytes}',
      example: '{params_b: 70, bytes_per_param: 1}',
    },
  ),
);

export const gpuSchema: Schema<string | GpuInput> = idOrObject(
  catalogId('GPU', 'h100-sxm'),
  object<GpuInput>(
    {
      from: optional(catalogId('GPU', 'h100-sxm')),
      bandwidth_bytes_per_s: positive('memory bandwidth in bytes per second', 3.35e12),
      memory_bytes: positive('memory in bytes', 80e9),
      peak_flops_per_s: optional(
        object<PeakFlopsInput>(
          {
            bf16: positive('dense BF16 FLOP/s', 989e12),
            fp8: positive('dense FP8 FLOP/s', 1979e12),
            fp4: positive('dense FP4 FLOP/s', 9e15),
          },
          { what: 'dense peak FLOP/s by precision', example: '{bf16: 989e12, fp8: 1979e12}' },
        ),
      ),
    },
    {
      what: 'a GPU spec {bandwidth_bytes_per_s, memory_bytes, peak_flops_per_s: {bf16, fp8}}',
      example: '{bandwidth_bytes_per_s: 3.35e12, memory_bytes: 80e9, peak_flops_per_s: {bf16: 989e12}}',
    },
  ),
);

export const rooflineSchema: Schema<RooflineScenario> = object<RooflineScenario>(
  {
    model: modelSchema,
    gpu: gpuSchema,
    batch: count('concurrent sequences decoded together', 1),
    context_tokens: optional(
      number({ unit: 'tokens of context per sequence', min: 0, integer: true, example: 4096 }),
    ),
    gpu_hour_usd: positive('USD per GPU-hour', 2),
    efficiency: optional(
      number({ unit: 'fraction of peak bandwidth and FLOP/s achieved', above: 0, max: 1, example: 0.6 }),
    ),
    compute_precision: optional(choice(['bf16', 'fp8', 'fp4'] as const, 'fp8')),
  },
  {
    what: 'a roofline scenario {model, gpu, batch, context_tokens, gpu_hour_usd}',
    example: '{model: llama-3.1-70b, gpu: h100-sxm, batch: 1}',
  },
);
