/**
 * Gathers what the report shows from one rent-vs-own scenario: the rent-vs-own analysis, and the
 * depreciation of one owned GPU of the same fleet with the same appreciation inputs. The
 * depreciation inputs are built from the resolved rent-vs-own inputs, so both analyses see the
 * same prices, costs and rates; where the two models differ, `assumptions` says what was chosen.
 */
import {
  appreciationRates,
  type DepreciationInputs,
  depreciation,
  findGpu,
  type ReferenceData,
  type RentVsOwnInputs,
  type RentVsOwnOutput,
  type Result,
  rentVsOwn,
  type TcoInputs,
  validate,
} from '@autocap/econ';
import { percent, significant, usd } from '../format/number.js';
import type { ReportData, ReportSimulation } from './render-report.js';

const HOURS_PER_MONTH = 730;

const signedRate = (fraction: number): string =>
  `${fraction >= 0 ? '+' : '−'}${percent(Math.abs(fraction))}/yr`;

export interface ReportDataOptions {
  readonly scenarioPath: string;
  /** The parsed scenario document, `--set` overrides already applied. */
  readonly document: unknown;
  readonly data: ReferenceData;
  /** The scenario file's opening comment, shown under the title. */
  readonly description?: string | undefined;
  /** A Monte Carlo run over the same scenario (from `autocap simulate`); its charts appear when given. */
  readonly simulation?: ReportSimulation | undefined;
}

/** One GPU's share of a fleet: fleet-wide other capex and yearly costs divided by the count. */
function oneGpu(fleet: TcoInputs, utilization: number): TcoInputs {
  const share = 1 / fleet.count;
  return {
    ...fleet,
    count: 1,
    other_capex_usd: fleet.other_capex_usd * share,
    colocation_usd_per_year: fleet.colocation_usd_per_year * share,
    staff_usd_per_year: fleet.staff_usd_per_year * share,
    software_usd_per_year: fleet.software_usd_per_year * share,
    utilization,
    horizon_years: fleet.useful_life_years,
  };
}

/**
 * The owned fleet's busy share in month 1 of the "own" option: month-1 demand spread over the daily
 * load shape, each hour capped at what the fleet can serve (`max_utilization`).
 */
function monthOneBusyShare(inputs: RentVsOwnInputs): number {
  const perHour = inputs.demand_work_units_per_month / HOURS_PER_MONTH;
  const capacity = inputs.fleet.count * inputs.max_utilization;
  const served = inputs.load_shape.reduce((sum, load) => sum + Math.min(perHour * load, capacity), 0);
  return served / inputs.load_shape.length / inputs.fleet.count;
}

/** What one owned GPU-hour of work costs on the best rented option today (USD). */
function rentedValuePerGpuHour(inputs: RentVsOwnInputs, output: RentVsOwnOutput): number {
  if (output.best_rented === 'rent' && inputs.rent) return inputs.rent.gpu_hour_usd / inputs.rent.utilization;
  if (inputs.api_usd_per_month !== null && inputs.demand_work_units_per_month > 0)
    return inputs.api_usd_per_month / inputs.demand_work_units_per_month;
  return 0;
}

function depreciationFrom(
  inputs: RentVsOwnInputs,
  output: RentVsOwnOutput,
  data: ReferenceData,
): { inputs: DepreciationInputs; assumptions: string[] } {
  const fleet = inputs.fleet;
  const busy = monthOneBusyShare(inputs);
  const value = rentedValuePerGpuHour(inputs, output);
  const erosion = appreciationRates(inputs.appreciation).erosion_rate;
  // How fast the same work gets cheaper on the best rented option in rent-vs-own.
  const rentedDecline =
    output.best_rented === 'rent' && inputs.rent
      ? 1 -
        (1 - inputs.rent.price_decline_per_year) /
          (1 + inputs.appreciation.software_pass_through * inputs.appreciation.software_progress_per_year)
      : inputs.api_price_decline_per_year;
  const valueSource =
    output.best_rented === 'rent' && inputs.rent
      ? `rented GPU-hours at ${usd(inputs.rent.gpu_hour_usd)} of which ${percent(inputs.rent.utilization, 0)} do useful work`
      : `API tokens at ${usd(inputs.api_usd_per_month ?? 0)} a month for ${significant(inputs.demand_work_units_per_month)} owned GPU-hours of work`;
  const assumptions = [
    `The owned-GPU charts follow one GPU of the ${fleet.count}-GPU fleet: its price, its share (1/${fleet.count}) of other capex, colocation, staff and software, and the same power, maintenance, discount rate, life and salvage.`,
    `Its output is valued at ${usd(value)} per busy GPU-hour: what the same work costs on the best rented option (${output.best_rented}: ${valueSource}).`,
    `It is busy ${percent(busy)} of its hours: the owned fleet's average load in month 1 (demand over the daily load shape, each hour capped at max_utilization ${percent(inputs.max_utilization, 0)}). The depreciation model holds this share constant, while rent-vs-own lets demand grow ${percent(inputs.growth_per_year, 0)}/yr; lossy: with growing demand the GPU fills up and is worth more than shown.`,
    `Book value is straight-line over the useful life (${significant(fleet.useful_life_years)} years) to salvage (${percent(fleet.salvage_fraction, 0)} of capex), the schedule rent-vs-own uses for residual value (autocap depreciation defaults to ${significant(data.defaults.book_life_years.value)} years instead).`,
  ];
  if (Math.abs(rentedDecline - erosion) > 1e-9) {
    const why =
      output.best_rented === 'rent' && inputs.rent
        ? `rental prices ${signedRate(-inputs.rent.price_decline_per_year)} and the software progress renters get too`
        : `API prices ${signedRate(-inputs.api_price_decline_per_year)}`;
    assumptions.push(
      `The value of its output erodes at the appreciation model's rate (${percent(erosion)}/yr: newer hardware, more supply, passed-through software), while in rent-vs-own the same work on ${output.best_rented} gets cheaper by ${percent(rentedDecline)}/yr (${why}); lossy: the owned-GPU charts age the market ${erosion > rentedDecline ? 'faster' : 'slower'} than the cash-flow charts.`,
    );
  }
  if (Math.round(fleet.useful_life_years * 12) !== inputs.months) {
    assumptions.push(
      `The owned-GPU charts run over the physical life (${significant(fleet.useful_life_years)} years); the rent-vs-own horizon is ${significant(inputs.months / 12)} years.`,
    );
  }
  assumptions.push(
    'Cash flows and NPVs are in US dollars; NPVs discount monthly at the scenario rate; cumulative cash flows are undiscounted.',
  );
  return {
    inputs: {
      fleet: oneGpu(fleet, busy),
      book_life_years: fleet.useful_life_years,
      market_value_usd_per_gpu_hour: value,
      appreciation: inputs.appreciation,
    },
    assumptions,
  };
}

/** Validates and resolves the scenario, runs both analyses, and returns the report's data. */
export function gatherReportData(options: ReportDataOptions): Result<ReportData> {
  const parsed = validate(rentVsOwn.schema, options.document);
  if (!parsed.ok) return parsed;
  const resolved = rentVsOwn.resolve(parsed.value, options.data);
  if (!resolved.ok) return resolved;
  const { inputs, defaultsUsed, warnings } = resolved.value;
  const output = rentVsOwn.compute(inputs);
  const owned = depreciationFrom(inputs, output, options.data);
  const gpuId = parsed.value.fleet.gpu;
  const gpu = gpuId === undefined ? undefined : findGpu(options.data, gpuId);
  const name =
    options.scenarioPath
      .split(/[\\/]/)
      .pop()
      ?.replace(/\.(ya?ml|json)$/i, '') ?? 'scenario';
  return {
    ok: true,
    value: {
      scenario: {
        path: options.scenarioPath,
        name,
        description: options.description,
        gpu: gpu?.name ?? gpuId,
      },
      rentVsOwn: { inputs, output },
      depreciation: { inputs: owned.inputs, output: depreciation.compute(owned.inputs) },
      defaultsUsed,
      assumptions: owned.assumptions,
      warnings,
      simulation: options.simulation,
    },
  };
}
