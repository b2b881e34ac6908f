import { describe, expect, it } from 'vitest';
import { fleetPrice, perMtokFromGpuHour } from './fleet-price.js';
import { parseConfigText } from './load-config.js';

// The 100-H100 fleet of packages/econ/src/test-support/fixtures.ts (examples/tco-100-h100-5y.yaml),
// every figure stated so nothing comes from data/defaults.json.
const FLEET = {
  gpu: 'h100-sxm',
  count: 100,
  gpu_price_usd: 30000,
  other_capex_fraction_of_gpu: 0.6,
  power_kw_per_gpu: 1.275,
  pue: 1.3,
  electricity_usd_per_kwh: 0.08,
  colocation_usd_per_year: 100000,
  staff_usd_per_year: 250000,
  maintenance_fraction_of_capex_per_year: 0.05,
  software_usd_per_year: 50000,
  useful_life_years: 5,
  salvage_fraction: 0.1,
};

// By hand, as in econ's tco.test.ts: capex $4.8M, opex $756,157.60/yr, salvage $480k, 10%/yr.
const capex = 4_800_000;
const opex = 100 * 1.275 * 1.3 * 8760 * 0.08 + 100_000 + 250_000 + 0.05 * capex + 50_000; // 756,157.60
const crf = (0.1 * 1.1 ** 5) / (1.1 ** 5 - 1); // capital recovery factor, 0.2637975
const capitalPerYear = (capex - 480_000 / 1.1 ** 5) * crf;
const hours = 100 * 8760 * 0.7; // 613,200 delivered GPU-hours a year at 70% utilization
const levelized = (capitalPerYear + opex) / hours; // ≈ $3.17 per GPU-hour
const inputPerMtok = (levelized / (20_000 * 3600)) * 1e6; // ≈ $0.0440
const outputPerMtok = (levelized / (2_000 * 3600)) * 1e6; // ≈ $0.440

describe('fleetPrice', () => {
  it('prices tokens at the levelized cost per GPU-hour over tokens per GPU-hour', () => {
    expect(opex).toBeCloseTo(756_157.6, 6);
    expect(levelized).toBeCloseTo(3.1699, 4);
    const result = fleetPrice(
      {
        fleet: FLEET,
        finance: { discount_rate: 0.1 },
        utilization: 0.7,
        inputTokensPerSecondPerGpu: 20_000,
        outputTokensPerSecondPerGpu: 2_000,
      },
      'models.0.',
    );
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.levelizedCostPerGpuHourUsd).toBeCloseTo(levelized, 9);
    expect(result.price.inputPerMtokUsd).toBeCloseTo(inputPerMtok, 12);
    expect(result.price.outputPerMtokUsd).toBeCloseTo(outputPerMtok, 12);
    expect(result.price.inputPerMtokUsd).toBeCloseTo(0.04403, 5);
    expect(result.price.outputPerMtokUsd).toBeCloseTo(0.4403, 4);
    expect(result.price.cachedInputPerMtokUsd).toBe(result.price.inputPerMtokUsd);
    expect(result.price.source).toBe('fleet');
    expect(result.defaultsUsed).toEqual([]);
  });

  it('records the defaults it used under the model field', () => {
    const result = fleetPrice(
      {
        fleet: { gpu: 'h100-sxm', count: 8 },
        inputTokensPerSecondPerGpu: 10_000,
        outputTokensPerSecondPerGpu: 1_000,
      },
      'models.3.',
    );
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const fields = result.defaultsUsed.map((used) => used.field);
    expect(fields).toContain('models.3.fleet.gpu_price_usd');
    expect(fields).toContain('models.3.utilization');
    expect(fields).toContain('models.3.finance.discount_rate');
  });

  it('names the field in the user file when econ refuses the fleet', () => {
    const result = fleetPrice(
      { fleet: { count: 8 }, inputTokensPerSecondPerGpu: 1, outputTokensPerSecondPerGpu: 1 },
      'models.2.',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContain(
      'models.2.fleet.gpu_price_usd is missing: give USD per GPU, or a catalog GPU in fleet.gpu (example: fleet.gpu_price_usd: 31000)',
    );
  });

  it('converts $/GPU-hour to $/Mtok', () => {
    // $3.60 per GPU-hour at 1,000 tokens/s = 3.6M tokens per hour: $1 per million.
    expect(perMtokFromGpuHour(3.6, 1000)).toBeCloseTo(1, 12);
  });
});

describe('an owned model with a fleet in autocap.yaml', () => {
  it('is priced from the fleet, with a notice giving the figures', () => {
    const fleetYaml = Object.entries(FLEET)
      .map(([key, value]) => `      ${key}: ${value}`)
      .join('\n');
    const text = `auth:
  master_key: a-long-enough-master-key
models:
  - name: llama-70b
    provider: openai-compatible
    base_url: http://10.0.0.5:8000/v1
    owned: true
    fleet:
${fleetYaml}
    finance: {discount_rate: 0.1}
    utilization: 0.7
    input_tokens_per_second_per_gpu: 20000
    output_tokens_per_second_per_gpu: 2000
`;
    const result = parseConfigText(text, { source: 'autocap.yaml', baseDirectory: '/', env: {} });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const price = result.config.models[0]?.price;
    expect(price?.source).toBe('fleet');
    expect(price?.inputPerMtokUsd).toBeCloseTo(inputPerMtok, 12);
    expect(price?.outputPerMtokUsd).toBeCloseTo(outputPerMtok, 12);
    expect(result.notices).toContain(
      'llama-70b: priced from its fleet at $3.17 per GPU-hour: input $0.0440, output $0.440 per million tokens',
    );
  });
});
