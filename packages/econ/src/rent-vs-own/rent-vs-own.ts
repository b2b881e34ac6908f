/**
 * Rent versus own, month by month. Work is counted in "work units": GPU-hours of an owned GPU at
 * month 0. Owned GPUs do more units per hour as software improves; rented GPUs get only the
 * passed-through share; API prices fall at their own rate. See docs/methodology.md, "Rent versus own".
 */
import { type Analysis, DefaultsLedger, type Resolved } from '../analysis.js';
import { resolveAppreciation } from '../appreciation/appreciation.js';
import type { ReferenceData } from '../reference-data/reference-data.js';
import type { Issue, Result } from '../result.js';
import { issue } from '../schema/schema.js';
import { computeTco, tco } from '../tco/tco.js';
import { rentVsOwnKernel } from './rent-vs-own-kernel.js';
import {
  evaluate,
  HOURS_PER_MONTH,
  npvOf,
  type OptionName,
  type OptionResult,
  paths,
  type RentVsOwnInputs,
} from './rent-vs-own-model.js';
import { type RentVsOwnScenario, rentVsOwnSchema } from './rent-vs-own-scenario.js';

export interface RentVsOwnOutput {
  readonly options: Partial<Record<OptionName, OptionResult>>;
  readonly winner: OptionName;
  /** The cheaper of the rented options, against which owning is measured. */
  readonly best_rented: 'rent' | 'api';
  readonly breakeven_utilization: number;
  readonly breakeven_tokens_per_month: number | null;
  readonly payback_month: number | null;
  /** Own's NPV advantage over the best rented option, split by Shapley value; parts sum to the total. */
  readonly advantage_attribution_usd: {
    readonly total: number;
    readonly base: number;
    readonly functional_appreciation: number;
    readonly private_premium: number;
    readonly sovereignty: number;
  };
}

function loadShape(scenario: RentVsOwnScenario, peakToMean: number): number[] {
  const given = scenario.workload.load_shape;
  if (given) {
    const mean = given.reduce((sum, value) => sum + value, 0) / given.length;
    return given.slice(0, 24).map((value) => (mean > 0 ? value / mean : 1));
  }
  // A daily cosine peaking at 14:00; its mean over 24 equally spaced hours is exactly 1.
  return Array.from(
    { length: 24 },
    (_, hour) => 1 + (peakToMean - 1) * Math.cos((2 * Math.PI * (hour - 14)) / 24),
  );
}

function resolveRentVsOwn(
  scenario: RentVsOwnScenario,
  data: ReferenceData,
): Result<Resolved<RentVsOwnInputs>> {
  const fleet = tco.resolve(
    {
      fleet: scenario.fleet,
      finance: scenario.finance,
      utilization: 1,
      horizon_years: scenario.horizon_years,
    },
    data,
  );
  if (!fleet.ok) return fleet;
  const defaults = new DefaultsLedger(data);
  const issues: Issue[] = [];
  const tiers = scenario.workload.tiers;
  const priced = tiers.every(
    (tier) => tier.api_input_per_mtok_usd !== undefined && tier.api_output_per_mtok_usd !== undefined,
  );
  if (!priced && !scenario.rent) {
    issues.push(
      issue(
        'missing',
        'rent',
        'is missing: give rented GPUs {gpu_hour_usd}, or API prices on every tier, to compare owning against',
      ),
    );
  }
  if (scenario.workload.load_shape && scenario.workload.load_shape.length !== 24) {
    issues.push(
      issue(
        'invalid_value',
        'workload.load_shape',
        `has ${scenario.workload.load_shape.length} entries: give exactly 24 hourly loads`,
      ),
    );
  }
  if (scenario.workload.load_shape && scenario.workload.peak_to_mean !== undefined) {
    issues.push(
      issue('invalid_value', 'workload.peak_to_mean', 'and workload.load_shape are both given: keep one'),
    );
  }
  if (issues.length > 0) return { ok: false, issues };

  const appreciation = resolveAppreciation(scenario.appreciation, defaults);
  const peakToMean = scenario.workload.load_shape
    ? 1
    : defaults.take(scenario.workload.peak_to_mean, 'workload.peak_to_mean', 'peak_to_mean');
  let rent: RentVsOwnInputs['rent'] = null;
  if (scenario.rent) {
    // Unless stated, rental prices fall with hardware displacement and supply (software is in throughput).
    const erosion =
      1 -
      (1 - appreciation.supply_price_decline_per_year) /
        (1 + appreciation.hardware_price_performance_per_year);
    rent = {
      gpu_hour_usd: scenario.rent.gpu_hour_usd,
      price_decline_per_year: scenario.rent.price_decline_per_year ?? erosion,
      utilization: defaults.take(scenario.rent.utilization, 'rent.utilization', 'rent_utilization'),
    };
  }
  const sovereignty = scenario.sovereignty;
  return {
    ok: true,
    value: {
      inputs: {
        fleet: fleet.value.inputs,
        months: Math.round(fleet.value.inputs.horizon_years * 12),
        demand_work_units_per_month: tiers.reduce(
          (sum, tier) =>
            sum +
            tier.input_tokens_per_month / (tier.owned_input_tokens_per_second_per_gpu * 3600) +
            tier.output_tokens_per_month / (tier.owned_output_tokens_per_second_per_gpu * 3600),
          0,
        ),
        tokens_per_month: tiers.reduce(
          (sum, tier) => sum + tier.input_tokens_per_month + tier.output_tokens_per_month,
          0,
        ),
        api_usd_per_month: priced
          ? tiers.reduce(
              (sum, tier) =>
                sum +
                (tier.input_tokens_per_month * (tier.api_input_per_mtok_usd ?? 0) +
                  tier.output_tokens_per_month * (tier.api_output_per_mtok_usd ?? 0)) /
                  1e6,
              0,
            )
          : null,
        api_price_decline_per_year: defaults.take(
          scenario.api?.annual_decline,
          'api.annual_decline',
          'api_price_decline_per_year',
        ),
        growth_per_year: scenario.workload.growth_per_year ?? 0,
        load_shape: loadShape(scenario, peakToMean),
        max_utilization: defaults.take(scenario.max_utilization, 'max_utilization', 'max_utilization'),
        appreciation,
        rent,
        sovereignty_usd_per_month: sovereignty
          ? (sovereignty.cutoff_probability_per_year / 12) *
            sovereignty.days_dark *
            sovereignty.cost_per_dark_day_usd
          : 0,
      },
      defaultsUsed: [
        ...fleet.value.defaultsUsed.filter((entry) => entry.field !== 'utilization'),
        ...defaults.used,
      ],
      warnings: [],
    },
  };
}

interface Toggles {
  readonly software: boolean;
  readonly premium: boolean;
  readonly sovereignty: boolean;
}
const ALL: Toggles = { software: true, premium: true, sovereignty: true };

function withToggles(inputs: RentVsOwnInputs, toggles: Toggles): RentVsOwnInputs {
  return {
    ...inputs,
    appreciation: {
      ...inputs.appreciation,
      software_progress_per_year: toggles.software ? inputs.appreciation.software_progress_per_year : 0,
      private_premium_per_year: toggles.premium ? inputs.appreciation.private_premium_per_year : 0,
    },
    sovereignty_usd_per_month: toggles.sovereignty ? inputs.sovereignty_usd_per_month : 0,
  };
}

export function computeRentVsOwn(inputs: RentVsOwnInputs): RentVsOwnOutput {
  const options = evaluate(inputs);
  const bestRented: 'rent' | 'api' = npvOf(options, 'rent') <= npvOf(options, 'api') ? 'rent' : 'api';
  const names = Object.keys(options) as OptionName[];
  const winner = names.reduce((best, name) => (npvOf(options, name) < npvOf(options, best) ? name : best));
  const advantage = (toggles: Toggles, scale = 1): number => {
    const evaluated = evaluate(withToggles(inputs, toggles), scale);
    return npvOf(evaluated, bestRented) - npvOf(evaluated, 'own');
  };

  // Shapley values over the three sources of advantage: exact, order-free, and they sum to the total.
  const keys = ['software', 'premium', 'sovereignty'] as const;
  const value = new Map<number, number>();
  for (let mask = 0; mask < 8; mask++) {
    value.set(
      mask,
      advantage({ software: (mask & 1) > 0, premium: (mask & 2) > 0, sovereignty: (mask & 4) > 0 }),
    );
  }
  const weight = [1 / 3, 1 / 6, 1 / 3]; // |S|!(2-|S|)!/3! for |S| = 0, 1, 2
  const shapley = keys.map((_, index) => {
    let sum = 0;
    for (let mask = 0; mask < 8; mask++) {
      if (mask & (1 << index)) continue;
      const size = ((mask & 1) > 0 ? 1 : 0) + ((mask & 2) > 0 ? 1 : 0) + ((mask & 4) > 0 ? 1 : 0);
      sum +=
        (weight[size] as number) * ((value.get(mask | (1 << index)) as number) - (value.get(mask) as number));
    }
    return sum;
  });

  // Utilization at which the fleet's fixed cost equals renting the same work.
  const p = paths(inputs, 1);
  const fleet = computeTco(inputs.fleet);
  let fixed = fleet.capex_usd - fleet.residual_value_usd * (p.discount[inputs.months] as number);
  let rentedValuePerBusyShare = 0;
  for (let m = 1; m <= inputs.months; m++) {
    fixed += (fleet.opex_usd_per_year / 12) * (p.discount[m] as number);
    const unit = bestRented === 'rent' ? p.rentUnitCost[m] : p.apiUnitCost[m];
    rentedValuePerBusyShare +=
      inputs.fleet.count *
      HOURS_PER_MONTH *
      (p.ownPerHour[m] as number) *
      (unit as number) *
      (p.discount[m] as number);
  }

  // Workload size (a multiple of this one) at which owning breaks even, by bisection.
  let breakevenTokens: number | null = null;
  let high = 1;
  while (high < 1e6 && advantage(ALL, high) <= 0) high *= 2;
  if (advantage(ALL, high) > 0) {
    let low = 0;
    for (let step = 0; step < 60; step++) {
      const middle = (low + high) / 2;
      if (advantage(ALL, middle) > 0) high = middle;
      else low = middle;
    }
    breakevenTokens = high * inputs.tokens_per_month;
  }

  const own = options.own?.monthly_cash_flows_usd ?? [];
  const rented = options[bestRented]?.monthly_cash_flows_usd ?? [];
  let cumulative = 0;
  let payback: number | null = null;
  for (let m = 0; m <= inputs.months && payback === null; m++) {
    cumulative += (rented[m] ?? 0) - (own[m] ?? 0);
    if (m > 0 && cumulative >= 0) payback = m;
  }

  const total = value.get(7) as number;
  return {
    options,
    winner,
    best_rented: bestRented,
    breakeven_utilization: fixed / rentedValuePerBusyShare,
    breakeven_tokens_per_month: breakevenTokens,
    payback_month: payback,
    advantage_attribution_usd: {
      total,
      base: value.get(0) as number,
      functional_appreciation: shapley[0] as number,
      private_premium: shapley[1] as number,
      sovereignty: shapley[2] as number,
    },
  };
}

export const rentVsOwn: Analysis<RentVsOwnScenario, RentVsOwnInputs, RentVsOwnOutput> = {
  id: 'rent-vs-own',
  summary: 'rent versus own: NPV of owning, renting GPUs, API tokens and a hybrid; break-evens',
  schema: rentVsOwnSchema,
  resolve: resolveRentVsOwn,
  compute: computeRentVsOwn,
  kernel: rentVsOwnKernel,
};
