/**
 * Book value against economic value, month by month. Book value falls straight-line to salvage
 * over the accounting life; economic value is what the fleet can still earn (its output at
 * market prices, minus running costs) over its physical life, with the owner free to retire it
 * for salvage whenever that is worth more. See docs/methodology.md, "Depreciation".
 */
import { type Analysis, DefaultsLedger, type Resolved } from '../analysis.js';
import {
  type AppreciationInput,
  type AppreciationInputs,
  type AppreciationRates,
  appreciationRates,
  appreciationSchema,
  resolveAppreciation,
} from '../appreciation/appreciation.js';
import { monthlyRate } from '../finance/discount.js';
import { findGpu, type ReferenceData } from '../reference-data/reference-data.js';
import type { Issue, Result } from '../result.js';
import { issue, number, object, optional, type Schema } from '../schema/schema.js';
import { computeTco, HOURS_PER_YEAR, type TcoInputs, tco } from '../tco/tco.js';
import { type FinanceInput, type FleetInput, financeSchema, fleetSchema } from '../tco/tco-scenario.js';

export interface MarketInput {
  readonly rental_usd_per_gpu_hour?: number | undefined;
  readonly price_per_mtok_usd?: number | undefined;
  readonly tokens_per_second_per_gpu?: number | undefined;
}

export interface DepreciationScenario {
  readonly fleet: FleetInput;
  readonly finance?: FinanceInput | undefined;
  readonly utilization?: number | undefined;
  readonly book_life_years?: number | undefined;
  readonly market?: MarketInput | undefined;
  readonly appreciation?: AppreciationInput | undefined;
}

export interface DepreciationInputs {
  readonly fleet: TcoInputs;
  readonly book_life_years: number;
  /** What one busy GPU-hour of the fleet's output sells for at month 0. */
  readonly market_value_usd_per_gpu_hour: number;
  readonly appreciation: AppreciationInputs;
}

export interface DepreciationOutput {
  readonly capex_usd: number;
  readonly months: number;
  /** Month 0 (purchase) to the end of the physical life. */
  readonly book_value_usd: readonly number[];
  readonly economic_value_usd: readonly number[];
  /** Value of the fleet's output in each month 1..n (index 0 is month 1). */
  readonly output_value_usd_per_month: readonly number[];
  readonly running_cost_usd_per_month: number;
  readonly stranding_month: number | null;
  /** First month in which book value overstates economic value (an impairment signal), or null. */
  readonly book_exceeds_economic_from_month: number | null;
  readonly residual_value_usd: number;
  /** Economic value at purchase minus capex: what buying is worth today. */
  readonly npv_usd: number;
  /** Month-0 market value per busy GPU-hour at which the fleet just repays its capex. */
  readonly breakeven_market_value_usd_per_gpu_hour: number;
  readonly appreciation: AppreciationRates & {
    /** Output, market value per unit, and their product at the start of each year. */
    readonly by_year: readonly { year: number; output: number; unit_value: number; value: number }[];
  };
}

const marketSchema: Schema<MarketInput | undefined> = optional(
  object<MarketInput>(
    {
      rental_usd_per_gpu_hour: optional(
        number({ unit: 'USD per GPU-hour to rent the same output', above: 0, example: 2.35 }),
      ),
      price_per_mtok_usd: optional(
        number({ unit: 'USD per million tokens the output sells for', above: 0, example: 0.6 }),
      ),
      tokens_per_second_per_gpu: optional(
        number({ unit: 'tokens per second per busy GPU', above: 0, example: 1541 }),
      ),
    },
    {
      what: 'the market value of output {rental_usd_per_gpu_hour} or {price_per_mtok_usd, tokens_per_second_per_gpu}',
      example: '{rental_usd_per_gpu_hour: 2.35}',
    },
  ),
);

export const depreciationSchema: Schema<DepreciationScenario> = object<DepreciationScenario>(
  {
    fleet: fleetSchema,
    finance: financeSchema,
    utilization: optional(
      number({ unit: 'fraction of hours the GPUs do paid work', above: 0, max: 1, example: 0.7 }),
    ),
    book_life_years: optional(
      number({ unit: 'years of straight-line book depreciation', above: 0, max: 30, example: 6 }),
    ),
    market: marketSchema,
    appreciation: appreciationSchema,
  },
  {
    what: 'a depreciation scenario {fleet, market, appreciation, book_life_years}',
    example: '{fleet: {gpu: h100-sxm, count: 8}}',
  },
);

function resolveDepreciation(
  scenario: DepreciationScenario,
  data: ReferenceData,
): Result<Resolved<DepreciationInputs>> {
  const fleet = tco.resolve(
    { fleet: scenario.fleet, finance: scenario.finance, utilization: scenario.utilization },
    data,
  );
  if (!fleet.ok) return fleet;
  const defaults = new DefaultsLedger(data);
  const issues: Issue[] = [];
  const market = scenario.market ?? {};
  let value = market.rental_usd_per_gpu_hour;
  if (value !== undefined && market.price_per_mtok_usd !== undefined) {
    issues.push(
      issue(
        'invalid_value',
        'market.rental_usd_per_gpu_hour',
        'and market.price_per_mtok_usd are both given: keep one',
      ),
    );
  } else if (market.price_per_mtok_usd !== undefined) {
    const tokensPerSecond = market.tokens_per_second_per_gpu;
    if (tokensPerSecond === undefined) {
      issues.push(
        issue(
          'missing',
          'market.tokens_per_second_per_gpu',
          'is missing: a price per Mtok needs the tokens per second a GPU serves (example: 1541)',
        ),
      );
    } else value = (tokensPerSecond * 3600 * market.price_per_mtok_usd) / 1e6;
  } else if (value === undefined) {
    const gpu = scenario.fleet.gpu === undefined ? undefined : findGpu(data, scenario.fleet.gpu);
    if (gpu) {
      const rent = gpu.rental_usd_per_hour;
      value = defaults.note({
        field: 'market.rental_usd_per_gpu_hour',
        value: rent.typical,
        source: rent.source,
        date: rent.date,
      });
    } else {
      issues.push(
        issue(
          'missing',
          'market.rental_usd_per_gpu_hour',
          'is missing: give what a GPU-hour of output sells for, or a catalog GPU in fleet.gpu (example: 2.35)',
        ),
      );
    }
  }
  if (issues.length > 0 || value === undefined) return { ok: false, issues };
  return {
    ok: true,
    value: {
      inputs: {
        fleet: fleet.value.inputs,
        book_life_years: defaults.take(scenario.book_life_years, 'book_life_years', 'book_life_years'),
        market_value_usd_per_gpu_hour: value,
        appreciation: resolveAppreciation(scenario.appreciation, defaults),
      },
      defaultsUsed: [...fleet.value.defaultsUsed, ...defaults.used],
      warnings: [],
    },
  };
}

export function computeDepreciation(inputs: DepreciationInputs): DepreciationOutput {
  const fleet = computeTco(inputs.fleet);
  const rates = appreciationRates(inputs.appreciation);
  const capex = fleet.capex_usd;
  const salvage = inputs.fleet.salvage_fraction * capex;
  const months = Math.round(inputs.fleet.useful_life_years * 12);
  const bookMonths = inputs.book_life_years * 12;
  const running = fleet.opex_usd_per_year / 12;
  const busyHours = (inputs.fleet.count * HOURS_PER_YEAR * inputs.fleet.utilization) / 12;
  const growth = (1 + rates.net_rate) ** (1 / 12);
  const discount = 1 / (1 + monthlyRate(inputs.fleet.discount_rate));

  const output: number[] = [];
  let stranding: number | null = null;
  let level = inputs.market_value_usd_per_gpu_hour * busyHours;
  let annuity = 0; // PV of one USD per busy GPU-hour of month-0 value, grown, over the life
  let pvRunning = 0;
  for (let month = 1; month <= months; month++) {
    output.push(level);
    if (stranding === null && level < running) stranding = month;
    annuity += (level / inputs.market_value_usd_per_gpu_hour) * discount ** month;
    pvRunning += running * discount ** month;
    level *= growth;
  }

  // Optimal stopping, backwards: keep running one more month, or retire now for salvage.
  const economic = new Array<number>(months + 1);
  economic[months] = salvage;
  for (let month = months - 1; month >= 0; month--) {
    const keep = discount * ((output[month] as number) - running + (economic[month + 1] as number));
    economic[month] = Math.max(salvage, keep);
  }
  const book = Array.from({ length: months + 1 }, (_, month) =>
    bookMonths > 0 ? capex - ((capex - salvage) * Math.min(month, bookMonths)) / bookMonths : salvage,
  );
  const overstated = book.findIndex(
    (value, month) => month > 0 && value > (economic[month] as number) + 1e-9,
  );

  const years = Math.ceil(months / 12);
  const valueGrowth = (1 + rates.functional_growth_rate) * (1 - rates.erosion_rate);
  return {
    capex_usd: capex,
    months,
    book_value_usd: book,
    economic_value_usd: economic,
    output_value_usd_per_month: output,
    running_cost_usd_per_month: running,
    stranding_month: stranding,
    book_exceeds_economic_from_month: overstated === -1 ? null : overstated,
    residual_value_usd: economic[Math.min(months, Math.round(bookMonths))] as number,
    npv_usd: (economic[0] as number) - capex,
    breakeven_market_value_usd_per_gpu_hour: (capex + pvRunning - salvage * discount ** months) / annuity,
    appreciation: {
      ...rates,
      by_year: Array.from({ length: years + 1 }, (_, year) => ({
        year,
        output: (1 + rates.functional_growth_rate) ** year,
        unit_value: (1 - rates.erosion_rate) ** year,
        value: valueGrowth ** year,
      })),
    },
  };
}

export const depreciation: Analysis<DepreciationScenario, DepreciationInputs, DepreciationOutput> = {
  id: 'depreciation',
  summary: 'book value against economic value: functional appreciation versus obsolescence',
  schema: depreciationSchema,
  resolve: resolveDepreciation,
  compute: computeDepreciation,
};
