import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../analysis.js';
import { referenceData } from '../test-support/reference-data.js';
import { computeRoofline, type RooflineInputs, roofline } from './roofline.js';

const H100 = {
  bandwidth_bytes_per_s: 3.35e12,
  memory_bytes: 80e9,
  peak_flops_per_s: { bf16: 989e12, fp8: 1979e12 },
};

function run(scenario: unknown) {
  const result = runAnalysis(roofline, scenario, referenceData);
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value;
}

describe('roofline', () => {
  it('reproduces the FACTS reference: 70B FP8 on one H100, batch 1, no context', () => {
    const { output } = run({
      model: { params_b: 70, bytes_per_param: 1 },
      gpu: H100,
      batch: 1,
      context_tokens: 0,
      gpu_hour_usd: 2,
    });
    // 3.35e12 B/s / 70e9 B per step = 47.857 tokens/s
    expect(output.decode_tokens_per_second_limit).toBeCloseTo(3.35e12 / 70e9, 9);
    expect(output.decode_tokens_per_second_limit).toBeCloseTo(47.9, 1);
    // $2 / (47.857 * 3600 tokens) * 1e6 = $11.61 per Mtok
    expect(output.cost_per_mtok_floor_usd).toBeCloseTo(11.6086, 3);
    // compute bound: 1.979e15 / (2 * 70e9) ~ 14,136 tokens/s
    expect(output.prefill_tokens_per_second_limit).toBeCloseTo(1979e12 / 140e9, 6);
    expect(output.bound).toBe('memory');
    expect(output.fits_in_memory).toBe(true);
    expect(output.gpus_needed).toBe(1);
    expect(output.precision).toBe('fp8');
  });

  it('gives about the same figure from the catalog ids', () => {
    const { output } = run({
      model: { from: 'llama-3.1-70b', params_b: 70, bytes_per_param: 1 },
      gpu: 'h100-sxm',
      gpu_hour_usd: 2,
    });
    expect(output.decode_tokens_per_second_limit).toBeCloseTo(47.9, 0);
    expect(output.cost_per_mtok_floor_usd).toBeCloseTo(11.6, 0);
  });

  it('adds the KV cache of every sequence in the batch', () => {
    // Llama 3.1 70B: 80 layers, 8 KV heads of 128 dims, BF16 cache: 2*80*8*128*2 = 327,680 B/token.
    const { output } = run({
      model: { params_b: 70, bytes_per_param: 2, layers: 80, kv_heads: 8, head_dim: 128, kv_bytes: 2 },
      gpu: H100,
      batch: 8,
      context_tokens: 4096,
      gpu_hour_usd: 2,
    });
    const kvPerSequence = 327_680 * 4096; // 1,342,177,280 B
    const bytesPerStep = 140e9 + 8 * kvPerSequence; // 150.737 GB
    expect(output.kv_bytes_per_sequence).toBe(kvPerSequence);
    expect(output.decode_tokens_per_second_limit).toBeCloseTo(8 / (bytesPerStep / 3.35e12), 9);
    expect(output.fits_in_memory).toBe(false);
    expect(output.gpus_needed).toBe(2); // 150.7 GB over 80 GB GPUs
    expect(output.precision).toBe('bf16');
  });

  it('turns compute-bound at batch F/(2*BW) per weight byte, and uses active parameters for MoE', () => {
    // Ridge without KV: b* = bytes_per_param * F / (2 * BW) = 1979e12 / 6.7e12 = 295.4
    const at = (batch: number) =>
      run({ model: { params_b: 70, bytes_per_param: 1 }, gpu: H100, batch, gpu_hour_usd: 2 }).output;
    expect(at(1).compute_bound_from_batch).toBe(296);
    expect(at(295).bound).toBe('memory');
    expect(at(296).bound).toBe('compute');
    expect(at(1000).decode_tokens_per_second_limit).toBeCloseTo(1979e12 / 140e9, 6);
    // A 671B MoE with 37B active reads all weights but computes with the active ones.
    const moe = run({
      model: { params_b: 671, active_params_b: 37, bytes_per_param: 1 },
      gpu: H100,
      gpu_hour_usd: 2,
    }).output;
    expect(moe.decode_tokens_per_second_limit).toBeCloseTo(3.35e12 / 671e9, 9);
    expect(moe.prefill_tokens_per_second_limit).toBeCloseTo(1979e12 / 74e9, 6);
    expect(moe.gpus_needed).toBe(9); // 671 GB over 80 GB GPUs
  });

  it('scales both bounds by efficiency', () => {
    const full = run({ model: { params_b: 8, bytes_per_param: 2 }, gpu: H100, gpu_hour_usd: 2 }).output;
    const half = run({
      model: { params_b: 8, bytes_per_param: 2 },
      gpu: H100,
      gpu_hour_usd: 2,
      efficiency: 0.5,
    }).output;
    expect(half.decode_tokens_per_second_limit).toBeCloseTo(full.decode_tokens_per_second_limit / 2, 9);
    expect(half.cost_per_mtok_floor_usd).toBeCloseTo(full.cost_per_mtok_floor_usd * 2, 9);
  });

  it('falls back to BF16 compute with a warning on a GPU without FP8', () => {
    const report = run({
      model: { params_b: 8, bytes_per_param: 1 },
      gpu: 'a100-80gb',
      gpu_hour_usd: 1.5,
      batch: 512,
    });
    expect(report.inputs.precision).toBe('bf16');
    expect(report.warnings.join(' ')).toMatch(/no FP8/);
  });

  it('fills catalog defaults and reports them', () => {
    const report = run({ model: 'llama-3.1-8b', gpu: 'h100-sxm', context_tokens: 1000 });
    const fields = report.defaultsUsed.map((entry) => entry.field);
    expect(fields).toEqual(
      expect.arrayContaining(['model.bytes_per_param', 'model.kv_bytes', 'gpu_hour_usd']),
    );
    expect(report.inputs.gpu_hour_usd).toBe(
      referenceData.gpus.find((gpu) => gpu.id === 'h100-sxm')?.rental_usd_per_hour.typical,
    );
  });

  it('names the field when a reference or KV dimension is missing', () => {
    const unknownGpu = runAnalysis(
      roofline,
      { model: { params_b: 7, bytes_per_param: 2 }, gpu: 'h900' },
      referenceData,
    );
    expect(unknownGpu.ok).toBe(false);
    if (!unknownGpu.ok)
      expect(unknownGpu.issues[0]?.message).toMatch(
        /^gpu names an unknown GPU "h900": use one of .*h100-sxm/,
      );
    const noLayers = runAnalysis(
      roofline,
      { model: { params_b: 7, bytes_per_param: 2 }, gpu: H100, context_tokens: 10, gpu_hour_usd: 1 },
      referenceData,
    );
    expect(noLayers.ok).toBe(false);
    if (!noLayers.ok)
      expect(noLayers.issues.map((entry) => entry.path)).toEqual([
        'model.layers',
        'model.kv_heads',
        'model.head_dim',
        'model.kv_bytes',
      ]);
  });

  const inputs = fc.record({
    params: fc.double({ min: 1e8, max: 2e12, noNaN: true }),
    activeShare: fc.double({ min: 0.01, max: 1, noNaN: true }),
    bytes_per_param: fc.constantFrom(0.5, 1, 2),
    kv_bytes_per_token: fc.double({ min: 0, max: 2e6, noNaN: true }),
    bandwidth_bytes_per_s: fc.double({ min: 1e11, max: 2e13, noNaN: true }),
    memory_bytes: fc.double({ min: 1e9, max: 3e11, noNaN: true }),
    peak_flops_per_s: fc.double({ min: 1e13, max: 2e16, noNaN: true }),
    batch: fc.integer({ min: 1, max: 4096 }),
    context_tokens: fc.integer({ min: 0, max: 200_000 }),
    gpu_hour_usd: fc.double({ min: 0.1, max: 20, noNaN: true }),
    efficiency: fc.double({ min: 0.05, max: 1, noNaN: true }),
  });
  const toInputs = (draw: typeof inputs extends fc.Arbitrary<infer T> ? T : never): RooflineInputs => ({
    ...draw,
    active_params: draw.params * draw.activeShare,
    precision: 'fp8',
  });

  it('never exceeds either bound (property)', () => {
    fc.assert(
      fc.property(inputs, (draw) => {
        const x = toInputs(draw);
        const out = computeRoofline(x);
        const bandwidthBound =
          (x.batch * x.bandwidth_bytes_per_s * x.efficiency) /
          (x.params * x.bytes_per_param + x.batch * x.kv_bytes_per_token * x.context_tokens);
        const computeBound = (x.peak_flops_per_s * x.efficiency) / (2 * x.active_params);
        const tolerance = 1 + 1e-12;
        return (
          out.decode_tokens_per_second_limit <= bandwidthBound * tolerance &&
          out.decode_tokens_per_second_limit <= computeBound * tolerance &&
          out.decode_tokens_per_second_limit >= Math.min(bandwidthBound, computeBound) / tolerance
        );
      }),
    );
  });

  it('costs more per token at a higher GPU-hour price and less with more bandwidth (property)', () => {
    fc.assert(
      fc.property(inputs, fc.double({ min: 1.01, max: 10, noNaN: true }), (draw, factor) => {
        const x = toInputs(draw);
        const base = computeRoofline(x).cost_per_mtok_floor_usd;
        return (
          computeRoofline({ ...x, gpu_hour_usd: x.gpu_hour_usd * factor }).cost_per_mtok_floor_usd > base &&
          computeRoofline({ ...x, bandwidth_bytes_per_s: x.bandwidth_bytes_per_s * factor })
            .cost_per_mtok_floor_usd <= base
        );
      }),
    );
  });
});

describe('roofline with catalog models', () => {
  it("sizes DeepSeek-V3's compressed (MLA) KV cache from the catalog width", () => {
    const result = runAnalysis(
      roofline,
      { model: 'deepseek-v3', gpu: 'h200', context_tokens: 1000, gpu_hour_usd: 3 },
      referenceData,
    );
    if (!result.ok) throw new Error(result.issues[0]?.message);
    // 61 layers x 576 elements x 2 bytes x 1000 tokens = 70.272 MB per sequence
    expect(result.value.output.kv_bytes_per_sequence).toBe(61 * 576 * 2 * 1000);
  });

  it('sizes a standard cache as 2 x layers x kv_heads x head_dim x bytes', () => {
    const result = runAnalysis(
      roofline,
      { model: 'llama-3.1-8b', gpu: 'h100-sxm', context_tokens: 1000 },
      referenceData,
    );
    if (!result.ok) throw new Error(result.issues[0]?.message);
    expect(result.value.output.kv_bytes_per_sequence).toBe(2 * 32 * 8 * 128 * 2 * 1000);
  });
});
