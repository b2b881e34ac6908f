/**
 * The monthly model behind rent versus own: demand, owned throughput and rented unit costs as
 * paths over the horizon, and the cash flows of an owned fleet that bursts to rented capacity.
 * `rent-vs-own.ts` builds decisions on it; `rent-vs-own-kernel.ts` is its allocation-free twin
 * for simulation.
 */
import type { AppreciationInputs } from '../appreciation/appreciation.js';
import { monthlyRate } from '../finance/discount.js';
import { computeTco, type TcoInputs } from '../tco/tco.js';

export const HOURS_PER_MONTH = 730;

export interface RentVsOwnInputs {
  readonly fleet: TcoInputs;
  readonly months: number;
  /** Month-0 work units (owned GPU-hours) the workload needs per month. */
  readonly demand_work_units_per_month: number;
  readonly tokens_per_month: number;
  /** Month-0 API bill for the whole workload, or null when a tier has no API price. */
  readonly api_usd_per_month: number | null;
  readonly api_price_decline_per_year: number;
  readonly growth_per_year: number;
  /** 24 hourly loads with a mean of 1. */
  readonly load_shape: readonly number[];
  readonly max_utilization: number;
  readonly appreciation: AppreciationInputs;
  readonly rent: { gpu_hour_usd: number; price_decline_per_year: number; utilization: number } | null;
  /** Expected cost per month of provider cut-offs when everything is rented. */
  readonly sovereignty_usd_per_month: number;
}

export type OptionName = 'own' | 'hybrid' | 'rent' | 'api';

export interface OptionResult {
  readonly npv_cost_usd: number;
  /** Month 0 (purchase) to month n; residual value is credited in month n. */
  readonly monthly_cash_flows_usd: readonly number[];
  readonly gpus: number;
  /** Share of the work served on owned GPUs over the horizon. */
  readonly owned_share: number;
}

/** Everything that varies by month, computed once per evaluation. */
export interface Paths {
  readonly demand: Float64Array; // work units needed in month m
  readonly ownPerHour: Float64Array; // work units one owned GPU does per hour
  readonly rentUnitCost: Float64Array; // USD per work unit on rented GPUs (Infinity if none)
  readonly apiUnitCost: Float64Array; // USD per work unit on the API (Infinity if none)
  readonly privateUplift: Float64Array; // (1 + p)^t - 1
  readonly discount: Float64Array; // discount factor for month m
}

export function paths(inputs: RentVsOwnInputs, scale: number): Paths {
  const n = inputs.months;
  const a = inputs.appreciation;
  const monthly = 1 + monthlyRate(inputs.fleet.discount_rate);
  const make = (): Float64Array => new Float64Array(n + 1);
  const result = {
    demand: make(),
    ownPerHour: make(),
    rentUnitCost: make(),
    apiUnitCost: make(),
    privateUplift: make(),
    discount: make(),
  };
  const demand0 = inputs.demand_work_units_per_month * scale;
  for (let m = 0; m <= n; m++) {
    const t = Math.max(0, m - 1) / 12; // month m's flows use rates at its start
    result.demand[m] = demand0 * (1 + inputs.growth_per_year) ** t;
    result.ownPerHour[m] = (1 + a.software_progress_per_year) ** t;
    const rentThroughput = (1 + a.software_pass_through * a.software_progress_per_year) ** t;
    result.rentUnitCost[m] = inputs.rent
      ? (inputs.rent.gpu_hour_usd * (1 - inputs.rent.price_decline_per_year) ** t) /
        (rentThroughput * inputs.rent.utilization)
      : Number.POSITIVE_INFINITY;
    result.apiUnitCost[m] =
      inputs.api_usd_per_month === null || inputs.demand_work_units_per_month === 0
        ? Number.POSITIVE_INFINITY
        : (inputs.api_usd_per_month / inputs.demand_work_units_per_month) *
          (1 - inputs.api_price_decline_per_year) ** t;
    result.privateUplift[m] = (1 + a.private_premium_per_year) ** t - 1;
    result.discount[m] = monthly ** -m;
  }
  return result;
}

export function fleetOf(inputs: RentVsOwnInputs, gpus: number): TcoInputs {
  const ratio = gpus / inputs.fleet.count;
  const f = inputs.fleet;
  return {
    ...f,
    count: gpus,
    other_capex_usd: f.other_capex_usd * ratio,
    colocation_usd_per_year: f.colocation_usd_per_year * ratio,
    staff_usd_per_year: f.staff_usd_per_year * ratio,
    software_usd_per_year: f.software_usd_per_year * ratio,
  };
}

/** An owned fleet of `gpus` that bursts to the cheaper rented option when demand exceeds it. */
export function ownOption(
  inputs: RentVsOwnInputs,
  p: Paths,
  gpus: number,
  burst: 'rent' | 'api' | 'cheaper',
): OptionResult {
  const n = inputs.months;
  const fleet = gpus > 0 ? computeTco(fleetOf(inputs, gpus)) : null;
  const flows = new Array<number>(n + 1).fill(0);
  flows[0] = fleet ? fleet.capex_usd : 0;
  let npv = flows[0] as number;
  let served = 0;
  let total = 0;
  for (let m = 1; m <= n; m++) {
    const demand = p.demand[m] as number;
    const perHour = demand / HOURS_PER_MONTH;
    const capacity = gpus * inputs.max_utilization * (p.ownPerHour[m] as number);
    let owned = 0;
    for (const load of inputs.load_shape) owned += Math.min(perHour * load, capacity);
    owned *= HOURS_PER_MONTH / 24;
    const overflow = demand - owned;
    const rentCost = p.rentUnitCost[m] as number;
    const apiCost = p.apiUnitCost[m] as number;
    const unit = burst === 'rent' ? rentCost : burst === 'api' ? apiCost : Math.min(rentCost, apiCost);
    let cash = (fleet ? fleet.opex_usd_per_year / 12 : 0) + (overflow > 0 ? overflow * unit : 0);
    if (demand > 0) cash += inputs.sovereignty_usd_per_month * (overflow / demand);
    cash -= owned * Math.min(rentCost, apiCost) * (p.privateUplift[m] as number);
    if (m === n && fleet) cash -= fleet.residual_value_usd;
    flows[m] = cash;
    npv += cash * (p.discount[m] as number);
    served += owned;
    total += demand;
  }
  return {
    npv_cost_usd: npv,
    monthly_cash_flows_usd: flows,
    gpus,
    owned_share: total > 0 ? served / total : 0,
  };
}

export function evaluate(inputs: RentVsOwnInputs, scale = 1): Partial<Record<OptionName, OptionResult>> {
  const p = paths(inputs, scale);
  const options: Partial<Record<OptionName, OptionResult>> = {};
  if (inputs.rent) options.rent = ownOption(inputs, p, 0, 'rent');
  if (inputs.api_usd_per_month !== null) options.api = ownOption(inputs, p, 0, 'api');
  options.own = ownOption(inputs, p, inputs.fleet.count, 'cheaper');
  // Hybrid: owned GPUs for the month-0 base load (the daily trough), bursting for the rest.
  const trough = Math.min(...inputs.load_shape);
  const base = ((p.demand[1] ?? 0) * trough) / HOURS_PER_MONTH / inputs.max_utilization;
  options.hybrid = ownOption(inputs, p, Math.floor(base), 'cheaper');
  return options;
}

export const npvOf = (options: Partial<Record<OptionName, OptionResult>>, name: OptionName): number =>
  options[name]?.npv_cost_usd ?? Number.POSITIVE_INFINITY;
