import { describe, expect, it } from 'vitest';
import { referenceData } from '../test-support/reference-data.js';

const DATE = /^\d{4}(-\d{2}){0,2}$/;

describe('data/ tables', () => {
  it('has the required GPUs with positive, dated, sourced figures', () => {
    const ids = referenceData.gpus.map((gpu) => gpu.id);
    expect(ids).toEqual(expect.arrayContaining(['h100-sxm', 'h200', 'b200', 'a100-80gb', 'mi300x', 'l40s']));
    expect(new Set(ids).size).toBe(ids.length);
    for (const gpu of referenceData.gpus) {
      for (const range of [gpu.purchase_usd, gpu.rental_usd_per_hour]) {
        expect(range.low, gpu.id).toBeLessThanOrEqual(range.typical);
        expect(range.typical, gpu.id).toBeLessThanOrEqual(range.high);
        expect(range.source.length, gpu.id).toBeGreaterThan(10);
        expect(range.date, gpu.id).toMatch(DATE);
      }
      expect(gpu.sources.length, gpu.id).toBeGreaterThan(0);
      for (const source of gpu.sources) expect(source.date, gpu.id).toMatch(DATE);
      // Hopper-and-later tensor cores double their rate from BF16 to FP8; a 4x jump means a sparse figure slipped in.
      const { bf16, fp8 } = gpu.peak_flops_per_s;
      if (fp8 !== undefined) expect(fp8 / bf16, gpu.id).toBeLessThanOrEqual(2.05);
      expect(gpu.power_kw_per_gpu_all_in * 1000, gpu.id).toBeGreaterThanOrEqual(gpu.tdp_w);
    }
  });

  it('matches the H100 SXM figures of the NVIDIA whitepaper (dense, not sparse)', () => {
    const h100 = referenceData.gpus.find((gpu) => gpu.id === 'h100-sxm');
    expect(h100?.peak_flops_per_s.bf16).toBeCloseTo(989e12, -12);
    expect(h100?.peak_flops_per_s.fp8).toBeCloseTo(1979e12, -12);
    expect(h100?.bandwidth_bytes_per_s).toBe(3.35e12);
    expect(h100?.memory_bytes).toBe(80e9);
    expect(h100?.tdp_w).toBe(700);
    expect(h100?.power_kw_per_gpu_all_in).toBeCloseTo(10.2 / 8, 9); // DGX H100: 10.2 kW for 8 GPUs
    expect(h100?.peak_flops_per_s.fp8).toBeDefined();
    expect(referenceData.gpus.find((gpu) => gpu.id === 'a100-80gb')?.peak_flops_per_s.fp8).toBeUndefined();
  });

  it('keeps every default inside its published range, with a source and date', () => {
    for (const [key, figure] of Object.entries(referenceData.defaults)) {
      if (figure.low !== undefined) expect(figure.value, key).toBeGreaterThanOrEqual(figure.low);
      if (figure.high !== undefined) expect(figure.value, key).toBeLessThanOrEqual(figure.high);
      expect(figure.source.length, key).toBeGreaterThan(10);
      expect(figure.date, key).toMatch(DATE);
    }
  });

  it('describes model caches consistently: standard attention is 2 x kv_heads x head_dim wide', () => {
    for (const model of referenceData.models) {
      expect(model.active_params_b, model.id).toBeLessThanOrEqual(model.params_b);
      if (model.id !== 'deepseek-v3') {
        expect(model.kv_elements_per_token_per_layer, model.id).toBe(2 * model.kv_heads * model.head_dim);
      }
    }
  });
});
