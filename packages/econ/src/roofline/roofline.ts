/**
 * The physical limit of serving a model on one GPU. Decode reads every weight (and each
 * sequence's KV cache) once per step, and does 2 FLOPs per active parameter per token; the
 * slower of the two sets the step time. See docs/methodology.md, "Roofline".
 */
import { type Analysis, DefaultsLedger, type Resolved } from '../analysis.js';
import {
  findGpu,
  findModel,
  type GpuSpec,
  type ModelSpec,
  type Precision,
  type ReferenceData,
} from '../reference-data/reference-data.js';
import type { Issue, Result } from '../result.js';
import { issue } from '../schema/schema.js';
import {
  type GpuInput,
  type ModelInput,
  type PeakFlopsInput,
  type RooflineScenario,
  rooflineSchema,
} from './roofline-scenario.js';

export interface RooflineInputs {
  readonly params: number;
  readonly active_params: number;
  readonly bytes_per_param: number;
  /** Bytes of KV cache per token of context (keys and values, all layers). */
  readonly kv_bytes_per_token: number;
  readonly bandwidth_bytes_per_s: number;
  readonly memory_bytes: number;
  readonly peak_flops_per_s: number;
  readonly precision: Precision;
  readonly batch: number;
  readonly context_tokens: number;
  readonly gpu_hour_usd: number;
  readonly efficiency: number;
}

export interface RooflineOutput {
  readonly weight_bytes: number;
  readonly kv_bytes_per_sequence: number;
  readonly memory_needed_bytes: number;
  readonly fits_in_memory: boolean;
  /** GPUs whose combined memory holds weights plus the batch's KV cache (1 when it fits). */
  readonly gpus_needed: number;
  readonly precision: Precision;
  readonly memory_seconds_per_step: number;
  readonly compute_seconds_per_step: number;
  readonly decode_step_seconds: number;
  readonly bound: 'memory' | 'compute';
  readonly decode_tokens_per_second_limit: number;
  readonly decode_tokens_per_second_per_sequence_limit: number;
  readonly prefill_tokens_per_second_limit: number;
  readonly cost_per_mtok_floor_usd: number;
  readonly prefill_cost_per_mtok_floor_usd: number;
  /** Smallest batch at which decode turns compute-bound, or null if KV reads keep it memory-bound. */
  readonly compute_bound_from_batch: number | null;
}

const PRECISION_BY_WIDTH: readonly [number, Precision][] = [
  [2, 'bf16'],
  [1, 'fp8'],
  [0.5, 'fp4'],
];
const WIDER: Record<Precision, Precision | undefined> = { fp4: 'fp8', fp8: 'bf16', bf16: undefined };

/** The tensor-core precision that matches a weight width: 2 bytes BF16, 1 FP8, 0.5 FP4. */
export function precisionFor(bytesPerParam: number): Precision {
  for (const [width, precision] of PRECISION_BY_WIDTH) if (bytesPerParam >= width) return precision;
  return 'fp4';
}

/** A catalog entry (by id or `from`) with the scenario's inline fields laid over it. */
function lookup<Spec extends object, Input extends { from?: string | undefined }>(
  input: string | Input,
  find: (id: string) => Spec | undefined,
): { id: string | undefined; spec: Spec | undefined; overrides: Input | Record<string, never> } {
  const id = typeof input === 'string' ? input : input.from;
  return {
    id,
    spec: id === undefined ? undefined : find(id),
    overrides: typeof input === 'string' ? {} : input,
  };
}

function unknownId(path: string, kind: string, id: string, known: readonly { id: string }[]): Issue {
  return issue(
    'unknown_reference',
    path,
    `names an unknown ${kind} "${id}": use one of ${known.map((entry) => entry.id).join(', ')}, or give an inline spec`,
  );
}

function resolveRoofline(scenario: RooflineScenario, data: ReferenceData): Result<Resolved<RooflineInputs>> {
  const issues: Issue[] = [];
  const warnings: string[] = [];
  const defaults = new DefaultsLedger(data);

  const model = lookup<ModelSpec, ModelInput>(scenario.model, (id) => findModel(data, id));
  const modelPath = typeof scenario.model === 'string' ? 'model' : 'model.from';
  if (model.id !== undefined && !model.spec)
    issues.push(unknownId(modelPath, 'model', model.id, data.models));
  const gpu = lookup<GpuSpec, GpuInput>(scenario.gpu, (id) => findGpu(data, id));
  const gpuPath = typeof scenario.gpu === 'string' ? 'gpu' : 'gpu.from';
  if (gpu.id !== undefined && !gpu.spec) issues.push(unknownId(gpuPath, 'GPU', gpu.id, data.gpus));
  if (issues.length > 0) return { ok: false, issues };

  const m: ModelInput = { ...model.spec, ...model.overrides };
  const g: GpuInput = { ...gpu.spec, ...gpu.overrides };
  const peaks: PeakFlopsInput = { ...gpu.spec?.peak_flops_per_s, ...g.peak_flops_per_s };
  const contextTokens = scenario.context_tokens ?? 0;
  const need = <T>(value: T | undefined, path: string, why: string): T | undefined => {
    if (value === undefined) issues.push(issue('missing', path, `is missing: ${why}`));
    return value;
  };

  const params = need(
    m.params_b,
    'model.params_b',
    'give billions of parameters (example: model.params_b: 70)',
  );
  let bytesPerParam = m.bytes_per_param;
  if (bytesPerParam === undefined && model.spec) {
    // Catalog models are published as BF16 checkpoints.
    bytesPerParam = defaults.note({
      field: 'model.bytes_per_param',
      value: 2,
      source: model.spec.source,
      date: model.spec.date,
    });
  }
  need(
    bytesPerParam,
    'model.bytes_per_param',
    'give bytes per weight, 2 for BF16 or 1 for FP8 (example: model.bytes_per_param: 1)',
  );

  let kvBytesPerToken = 0;
  if (contextTokens > 0) {
    const why = 'the KV cache needs it when context_tokens > 0 (example: model.layers: 80)';
    const layers = need(m.layers, 'model.layers', why);
    const kvHeads = need(m.kv_heads, 'model.kv_heads', why);
    const headDim = need(m.head_dim, 'model.head_dim', why);
    let kvBytes = m.kv_bytes;
    if (kvBytes === undefined && model.spec) {
      kvBytes = defaults.note({
        field: 'model.kv_bytes',
        value: 2,
        source: 'BF16 KV cache, the vLLM default (kv_cache_dtype=auto)',
        date: model.spec.date,
      });
    }
    need(kvBytes, 'model.kv_bytes', 'give bytes per KV element, 2 for BF16 (example: model.kv_bytes: 2)');
    // The catalog's per-layer width covers compressed caches (MLA) unless the scenario reshapes heads.
    const reshaped = 'kv_heads' in model.overrides || 'head_dim' in model.overrides;
    const elements =
      model.spec && !reshaped
        ? model.spec.kv_elements_per_token_per_layer
        : 2 * (kvHeads ?? 0) * (headDim ?? 0);
    kvBytesPerToken = (layers ?? 0) * elements * (kvBytes ?? 0);
  }

  const bandwidth = need(
    g.bandwidth_bytes_per_s,
    'gpu.bandwidth_bytes_per_s',
    'give bytes per second (example: 3.35e12)',
  );
  const memory = need(g.memory_bytes, 'gpu.memory_bytes', 'give the GPU memory in bytes (example: 80e9)');
  let gpuHourUsd = scenario.gpu_hour_usd;
  if (gpuHourUsd === undefined && gpu.spec) {
    const rent = gpu.spec.rental_usd_per_hour;
    gpuHourUsd = defaults.note({
      field: 'gpu_hour_usd',
      value: rent.typical,
      source: rent.source,
      date: rent.date,
    });
  }
  need(gpuHourUsd, 'gpu_hour_usd', 'give the price of a GPU-hour in USD (example: gpu_hour_usd: 2)');

  let precision = scenario.compute_precision ?? precisionFor(bytesPerParam ?? 2);
  let peak = peaks[precision];
  while (peak === undefined && WIDER[precision] !== undefined) {
    const wider = WIDER[precision] as Precision;
    warnings.push(
      `the GPU has no ${precision.toUpperCase()} peak: compute bound uses its ${wider.toUpperCase()} peak (weights are upcast, as weight-only kernels do)`,
    );
    precision = wider;
    peak = peaks[precision];
  }
  need(
    peak,
    'gpu.peak_flops_per_s.bf16',
    'give dense BF16 FLOP/s (example: gpu.peak_flops_per_s.bf16: 989e12)',
  );

  // A dense catalog model stays dense when the scenario resizes it.
  const dense = model.spec !== undefined && model.spec.active_params_b === model.spec.params_b;
  const resized = 'params_b' in model.overrides && !('active_params_b' in model.overrides);
  const activeParams = dense && resized ? params : (m.active_params_b ?? params);
  if (params !== undefined && activeParams !== undefined && activeParams > params) {
    issues.push(
      issue(
        'out_of_range',
        'model.active_params_b',
        `(${activeParams}) exceeds model.params_b (${params}): active parameters are a subset of all parameters`,
      ),
    );
  }
  if (issues.length > 0) return { ok: false, issues };

  return {
    ok: true,
    value: {
      inputs: {
        params: (params as number) * 1e9,
        active_params: (activeParams as number) * 1e9,
        bytes_per_param: bytesPerParam as number,
        kv_bytes_per_token: kvBytesPerToken,
        bandwidth_bytes_per_s: bandwidth as number,
        memory_bytes: memory as number,
        peak_flops_per_s: peak as number,
        precision,
        batch: scenario.batch ?? 1,
        context_tokens: contextTokens,
        gpu_hour_usd: gpuHourUsd as number,
        efficiency: scenario.efficiency ?? 1,
      },
      defaultsUsed: defaults.used,
      warnings,
    },
  };
}

export function computeRoofline(inputs: RooflineInputs): RooflineOutput {
  const bandwidth = inputs.bandwidth_bytes_per_s * inputs.efficiency;
  const flops = inputs.peak_flops_per_s * inputs.efficiency;
  const weightBytes = inputs.params * inputs.bytes_per_param;
  const kvPerSequence = inputs.kv_bytes_per_token * inputs.context_tokens;
  const memoryNeeded = weightBytes + inputs.batch * kvPerSequence;
  const memorySeconds = memoryNeeded / bandwidth;
  const computeSeconds = (2 * inputs.active_params * inputs.batch) / flops;
  const stepSeconds = Math.max(memorySeconds, computeSeconds);
  const decodeTokensPerSecond = inputs.batch / stepSeconds;
  const prefillTokensPerSecond = flops / (2 * inputs.active_params);
  const perMtok = (tokensPerSecond: number): number => (inputs.gpu_hour_usd / (tokensPerSecond * 3600)) * 1e6;
  // Compute-bound once 2·A·b/F >= (W + b·K)/BW, i.e. b >= W / (BW·2A/F - K).
  const slack = (bandwidth * 2 * inputs.active_params) / flops - kvPerSequence;
  return {
    weight_bytes: weightBytes,
    kv_bytes_per_sequence: kvPerSequence,
    memory_needed_bytes: memoryNeeded,
    fits_in_memory: memoryNeeded <= inputs.memory_bytes,
    gpus_needed: Math.max(1, Math.ceil(memoryNeeded / inputs.memory_bytes)),
    precision: inputs.precision,
    memory_seconds_per_step: memorySeconds,
    compute_seconds_per_step: computeSeconds,
    decode_step_seconds: stepSeconds,
    bound: memorySeconds >= computeSeconds ? 'memory' : 'compute',
    decode_tokens_per_second_limit: decodeTokensPerSecond,
    decode_tokens_per_second_per_sequence_limit: 1 / stepSeconds,
    prefill_tokens_per_second_limit: prefillTokensPerSecond,
    cost_per_mtok_floor_usd: perMtok(decodeTokensPerSecond),
    prefill_cost_per_mtok_floor_usd: perMtok(prefillTokensPerSecond),
    compute_bound_from_batch: slack > 0 ? Math.ceil(weightBytes / slack) : null,
  };
}

export const roofline: Analysis<RooflineScenario, RooflineInputs, RooflineOutput> = {
  id: 'roofline',
  summary: 'physical limit of serving a model on a GPU: tokens/s bounds and the $/Mtok floor',
  schema: rooflineSchema,
  resolve: resolveRoofline,
  compute: computeRoofline,
};
