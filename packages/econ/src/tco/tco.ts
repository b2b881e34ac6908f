/**
 * Total cost of owning a GPU fleet, and its levelized cost per GPU-hour and per million tokens
 * (the LCOE method of energy economics). Yearly cash flows fall at year end; GPUs draw power
 * every hour, busy or idle. See docs/methodology.md, "Total cost of ownership".
 */
import { type Analysis, DefaultsLedger, type Resolved } from '../analysis.js';
import { annuityFactor, capitalRecoveryFactor, discountFactor } from '../finance/discount.js';
import { findGpu, type ReferenceData } from '../reference-data/reference-data.js';
import type { Issue, Result } from '../result.js';
import { issue } from '../schema/schema.js';
import { type TcoScenario, tcoSchema } from './tco-scenario.js';

export const HOURS_PER_YEAR = 8760;

export interface TcoInputs {
  readonly count: number;
  readonly gpu_price_usd: number;
  readonly other_capex_usd: number;
  readonly power_kw_per_gpu: number;
  readonly pue: number;
  readonly electricity_usd_per_kwh: number;
  readonly colocation_usd_per_year: number;
  readonly staff_usd_per_year: number;
  readonly maintenance_fraction_of_capex_per_year: number;
  readonly software_usd_per_year: number;
  readonly useful_life_years: number;
  readonly salvage_fraction: number;
  readonly discount_rate: number;
  readonly utilization: number;
  readonly horizon_years: number;
  readonly throughput_tokens_per_second_per_gpu: number | null;
}

export interface OpexBreakdown {
  readonly electricity: number;
  readonly colocation: number;
  readonly staff: number;
  readonly maintenance: number;
  readonly software: number;
}

export interface TcoOutput {
  readonly gpu_capex_usd: number;
  readonly capex_usd: number;
  readonly opex_usd_per_year: number;
  readonly opex_breakdown_usd_per_year: OpexBreakdown;
  readonly energy_kwh_per_year: number;
  readonly total_cost_usd: number;
  readonly gpu_share_of_total: number;
  /** Value left at the horizon: salvage at end of life, or straight-line book value before it. */
  readonly residual_value_usd: number;
  readonly npv_cost_usd: number;
  readonly delivered_gpu_hours_per_year: number;
  readonly levelized_cost_per_gpu_hour_usd: number;
  /** The levelized cost split into capital recovery and each opex category. */
  readonly levelized_breakdown_per_gpu_hour_usd: OpexBreakdown & { readonly capital: number };
  readonly levelized_cost_per_mtok_usd: number | null;
}

function resolveTco(scenario: TcoScenario, data: ReferenceData): Result<Resolved<TcoInputs>> {
  const issues: Issue[] = [];
  const { fleet } = scenario;
  const defaults = new DefaultsLedger(data);
  const gpu = fleet.gpu === undefined ? undefined : findGpu(data, fleet.gpu);
  if (fleet.gpu !== undefined && !gpu) {
    issues.push(
      issue(
        'unknown_reference',
        'fleet.gpu',
        `names an unknown GPU "${fleet.gpu}": use one of ${data.gpus.map((entry) => entry.id).join(', ')}, or give fleet.gpu_price_usd and fleet.power_kw_per_gpu`,
      ),
    );
    return { ok: false, issues };
  }
  let gpuPrice = fleet.gpu_price_usd;
  if (gpuPrice === undefined && gpu) {
    const price = gpu.purchase_usd;
    gpuPrice = defaults.note({
      field: 'fleet.gpu_price_usd',
      value: price.typical,
      source: price.source,
      date: price.date,
    });
  }
  let power = fleet.power_kw_per_gpu;
  if (power === undefined && gpu) {
    const source =
      gpu.sources.find((entry) => entry.fields.includes('power_kw_per_gpu_all_in')) ?? gpu.sources[0];
    power = defaults.note({
      field: 'fleet.power_kw_per_gpu',
      value: gpu.power_kw_per_gpu_all_in,
      source: source?.source ?? gpu.name,
      date: source?.date ?? gpu.released,
    });
  }
  if (gpuPrice === undefined)
    issues.push(
      issue(
        'missing',
        'fleet.gpu_price_usd',
        'is missing: give USD per GPU, or a catalog GPU in fleet.gpu (example: fleet.gpu_price_usd: 31000)',
      ),
    );
  if (power === undefined)
    issues.push(
      issue(
        'missing',
        'fleet.power_kw_per_gpu',
        'is missing: give all-in kW per GPU, or a catalog GPU in fleet.gpu (example: fleet.power_kw_per_gpu: 1.275)',
      ),
    );
  if (fleet.other_capex_usd !== undefined && fleet.other_capex_fraction_of_gpu !== undefined) {
    issues.push(
      issue(
        'invalid_value',
        'fleet.other_capex_usd',
        'and fleet.other_capex_fraction_of_gpu are both given: keep one',
      ),
    );
  }
  const life = defaults.take(fleet.useful_life_years, 'fleet.useful_life_years', 'useful_life_years');
  const horizon = scenario.horizon_years ?? life;
  if (horizon > life) {
    issues.push(
      issue(
        'out_of_range',
        'horizon_years',
        `(${horizon}) is longer than fleet.useful_life_years (${life}): the fleet would need replacing; shorten the horizon or lengthen the life`,
      ),
    );
  }
  if (issues.length > 0 || gpuPrice === undefined || power === undefined) return { ok: false, issues };

  const count = fleet.count;
  const gpuCapex = count * gpuPrice;
  const otherCapex =
    fleet.other_capex_usd ??
    gpuCapex *
      defaults.take(
        fleet.other_capex_fraction_of_gpu,
        'fleet.other_capex_fraction_of_gpu',
        'other_capex_fraction_of_gpu',
      );
  const perGpu = (
    given: number | undefined,
    field: string,
    key: 'staff_usd_per_gpu_year' | 'colocation_usd_per_gpu_year' | 'software_usd_per_gpu_year',
  ): number => {
    if (given !== undefined) return given;
    const figure = data.defaults[key];
    return defaults.note({
      field,
      value: figure.value * count,
      source: `${figure.value} USD per GPU-year x ${count} GPUs: ${figure.source}`,
      date: figure.date,
    });
  };

  return {
    ok: true,
    value: {
      inputs: {
        count,
        gpu_price_usd: gpuPrice,
        other_capex_usd: otherCapex,
        power_kw_per_gpu: power,
        pue: defaults.take(fleet.pue, 'fleet.pue', 'pue'),
        electricity_usd_per_kwh: defaults.take(
          fleet.electricity_usd_per_kwh,
          'fleet.electricity_usd_per_kwh',
          'electricity_usd_per_kwh',
        ),
        colocation_usd_per_year: perGpu(
          fleet.colocation_usd_per_year,
          'fleet.colocation_usd_per_year',
          'colocation_usd_per_gpu_year',
        ),
        staff_usd_per_year: perGpu(
          fleet.staff_usd_per_year,
          'fleet.staff_usd_per_year',
          'staff_usd_per_gpu_year',
        ),
        maintenance_fraction_of_capex_per_year: defaults.take(
          fleet.maintenance_fraction_of_capex_per_year,
          'fleet.maintenance_fraction_of_capex_per_year',
          'maintenance_fraction_of_capex_per_year',
        ),
        software_usd_per_year: perGpu(
          fleet.software_usd_per_year,
          'fleet.software_usd_per_year',
          'software_usd_per_gpu_year',
        ),
        useful_life_years: life,
        salvage_fraction: defaults.take(fleet.salvage_fraction, 'fleet.salvage_fraction', 'salvage_fraction'),
        discount_rate: defaults.take(
          scenario.finance?.discount_rate,
          'finance.discount_rate',
          'discount_rate',
        ),
        utilization: defaults.take(scenario.utilization, 'utilization', 'utilization'),
        horizon_years: horizon,
        throughput_tokens_per_second_per_gpu: scenario.throughput_tokens_per_second_per_gpu ?? null,
      },
      defaultsUsed: defaults.used,
      warnings: [],
    },
  };
}

/** Capital spent at month 0: GPUs plus everything around them. */
export function fleetCapexUsd(inputs: TcoInputs): number {
  return inputs.count * inputs.gpu_price_usd + inputs.other_capex_usd;
}

export function fleetEnergyKwhPerYear(inputs: TcoInputs): number {
  return inputs.count * inputs.power_kw_per_gpu * inputs.pue * HOURS_PER_YEAR;
}

/** Operating cost per year; plain numbers so the simulation kernel can call it without allocating. */
export function fleetOpexUsdPerYear(inputs: TcoInputs): number {
  return (
    fleetEnergyKwhPerYear(inputs) * inputs.electricity_usd_per_kwh +
    inputs.colocation_usd_per_year +
    inputs.staff_usd_per_year +
    inputs.maintenance_fraction_of_capex_per_year * fleetCapexUsd(inputs) +
    inputs.software_usd_per_year
  );
}

/** Value left at the horizon: straight-line book value toward salvage, or salvage at end of life. */
export function fleetResidualUsd(inputs: TcoInputs): number {
  const capex = fleetCapexUsd(inputs);
  const salvage = inputs.salvage_fraction * capex;
  return salvage + (capex - salvage) * (1 - inputs.horizon_years / inputs.useful_life_years);
}

export function computeTco(inputs: TcoInputs): TcoOutput {
  const rate = inputs.discount_rate;
  const life = inputs.useful_life_years;
  const horizon = inputs.horizon_years;
  const gpuCapex = inputs.count * inputs.gpu_price_usd;
  const capex = fleetCapexUsd(inputs);
  const energyKwh = fleetEnergyKwhPerYear(inputs);
  const opex: OpexBreakdown = {
    electricity: energyKwh * inputs.electricity_usd_per_kwh,
    colocation: inputs.colocation_usd_per_year,
    staff: inputs.staff_usd_per_year,
    maintenance: inputs.maintenance_fraction_of_capex_per_year * capex,
    software: inputs.software_usd_per_year,
  };
  const opexPerYear = opex.electricity + opex.colocation + opex.staff + opex.maintenance + opex.software;
  const salvage = inputs.salvage_fraction * capex;
  const residual = fleetResidualUsd(inputs);
  const totalCost = capex + opexPerYear * horizon;

  const hoursPerYear = inputs.count * HOURS_PER_YEAR * inputs.utilization;
  const capitalPerYear = (capex - salvage * discountFactor(rate, life)) * capitalRecoveryFactor(rate, life);
  const perHour = (usdPerYear: number): number => usdPerYear / hoursPerYear;
  const levelized = perHour(capitalPerYear + opexPerYear);
  const throughput = inputs.throughput_tokens_per_second_per_gpu;

  return {
    gpu_capex_usd: gpuCapex,
    capex_usd: capex,
    opex_usd_per_year: opexPerYear,
    opex_breakdown_usd_per_year: opex,
    energy_kwh_per_year: energyKwh,
    total_cost_usd: totalCost,
    gpu_share_of_total: gpuCapex / totalCost,
    residual_value_usd: residual,
    npv_cost_usd:
      capex + opexPerYear * annuityFactor(rate, horizon) - residual * discountFactor(rate, horizon),
    delivered_gpu_hours_per_year: hoursPerYear,
    levelized_cost_per_gpu_hour_usd: levelized,
    levelized_breakdown_per_gpu_hour_usd: {
      capital: perHour(capitalPerYear),
      electricity: perHour(opex.electricity),
      colocation: perHour(opex.colocation),
      staff: perHour(opex.staff),
      maintenance: perHour(opex.maintenance),
      software: perHour(opex.software),
    },
    levelized_cost_per_mtok_usd: throughput === null ? null : (levelized / (throughput * 3600)) * 1e6,
  };
}

export const tco: Analysis<TcoScenario, TcoInputs, TcoOutput> = {
  id: 'tco',
  summary: 'total cost of owning a GPU fleet, levelized per GPU-hour and per million tokens',
  schema: tcoSchema,
  resolve: resolveTco,
  compute: computeTco,
};
