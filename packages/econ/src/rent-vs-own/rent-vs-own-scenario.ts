import { type AppreciationInput, appreciationSchema } from '../appreciation/appreciation.js';
import { array, number, object, optional, type Schema, string } from '../schema/schema.js';
import { type FinanceInput, type FleetInput, financeSchema, fleetSchema } from '../tco/tco-scenario.js';

export interface TierInput {
  readonly name: string;
  readonly input_tokens_per_month: number;
  readonly output_tokens_per_month: number;
  /** Prefill rate of one owned GPU on this tier's model. */
  readonly owned_input_tokens_per_second_per_gpu: number;
  /** Decode rate of one owned GPU on this tier's model, at the batch it runs. */
  readonly owned_output_tokens_per_second_per_gpu: number;
  readonly api_input_per_mtok_usd?: number | undefined;
  readonly api_output_per_mtok_usd?: number | undefined;
}

export interface WorkloadInput {
  readonly tiers: readonly TierInput[];
  readonly growth_per_year?: number | undefined;
  readonly peak_to_mean?: number | undefined;
  /** 24 hourly loads, any scale: normalized to a mean of 1. */
  readonly load_shape?: readonly number[] | undefined;
}

export interface RentInput {
  readonly gpu_hour_usd: number;
  readonly price_decline_per_year?: number | undefined;
  /** Fraction of rented GPU-hours that do useful work (reservations, idle tails). */
  readonly utilization?: number | undefined;
}

export interface ApiInput {
  readonly annual_decline?: number | undefined;
}

export interface SovereigntyInput {
  readonly cutoff_probability_per_year: number;
  readonly days_dark: number;
  readonly cost_per_dark_day_usd: number;
}

export interface RentVsOwnScenario {
  readonly workload: WorkloadInput;
  readonly fleet: FleetInput;
  readonly finance?: FinanceInput | undefined;
  readonly horizon_years?: number | undefined;
  readonly max_utilization?: number | undefined;
  readonly appreciation?: AppreciationInput | undefined;
  readonly rent?: RentInput | undefined;
  readonly api?: ApiInput | undefined;
  readonly sovereignty?: SovereigntyInput | undefined;
}

const tokens = (unit: string, example: number): Schema<number> => number({ unit, min: 0, example });
const price = (unit: string, example: number): Schema<number | undefined> =>
  optional(number({ unit, min: 0, example }));
const decline = (unit: string, example: number): Schema<number | undefined> =>
  optional(number({ unit, max: 0.99, example }));

const tierSchema: Schema<TierInput> = object<TierInput>(
  {
    name: string({ what: 'a name for the quality tier', example: 'gpt-4-class' }),
    input_tokens_per_month: tokens('input tokens per month', 3e9),
    output_tokens_per_month: tokens('output tokens per month', 1e9),
    owned_input_tokens_per_second_per_gpu: number({
      unit: 'prefill tokens per second per owned GPU',
      above: 0,
      example: 20000,
    }),
    owned_output_tokens_per_second_per_gpu: number({
      unit: 'decode tokens per second per owned GPU',
      above: 0,
      example: 1541,
    }),
    api_input_per_mtok_usd: price('USD per million input tokens on the rented API', 3),
    api_output_per_mtok_usd: price('USD per million output tokens on the rented API', 15),
  },
  {
    what: 'a quality tier {name, input_tokens_per_month, output_tokens_per_month, ...}',
    example: '{name: chat, ...}',
  },
);

export const rentVsOwnSchema: Schema<RentVsOwnScenario> = object<RentVsOwnScenario>(
  {
    workload: object<WorkloadInput>(
      {
        tiers: array(tierSchema, {
          what: 'a list of quality tiers',
          example: '[{name: chat, ...}]',
          minItems: 1,
        }),
        growth_per_year: optional(
          number({ unit: 'yearly growth of token volume, as a fraction', min: -0.99, example: 0.5 }),
        ),
        peak_to_mean: optional(
          number({ unit: 'peak hourly load / mean hourly load', min: 1, max: 2, example: 1.6 }),
        ),
        load_shape: optional(
          array(number({ unit: 'relative load in that hour', min: 0, example: 1 }), {
            what: '24 hourly loads',
            example: '[0.5, 0.4, ...]',
            minItems: 24,
          }),
        ),
      },
      {
        what: 'a workload {tiers, growth_per_year, peak_to_mean}',
        example: '{tiers: [...], growth_per_year: 0.5}',
      },
    ),
    fleet: fleetSchema,
    finance: financeSchema,
    horizon_years: optional(number({ unit: 'years', above: 0, max: 30, example: 5 })),
    max_utilization: optional(
      number({ unit: 'highest fraction of hours an owned GPU can be busy', above: 0, max: 1, example: 0.9 }),
    ),
    appreciation: appreciationSchema,
    rent: optional(
      object<RentInput>(
        {
          gpu_hour_usd: number({ unit: 'USD per rented GPU-hour', above: 0, example: 2.35 }),
          price_decline_per_year: decline('yearly fall in the rental price, as a fraction', 0.15),
          utilization: optional(
            number({
              unit: 'fraction of rented GPU-hours doing useful work',
              above: 0,
              max: 1,
              example: 0.85,
            }),
          ),
        },
        {
          what: 'rented GPUs {gpu_hour_usd, price_decline_per_year, utilization}',
          example: '{gpu_hour_usd: 2.35}',
        },
      ),
    ),
    api: optional(
      object<ApiInput>(
        { annual_decline: decline('yearly fall in API token prices, as a fraction', 0.5) },
        { what: 'API settings {annual_decline}', example: '{annual_decline: 0.5}' },
      ),
    ),
    sovereignty: optional(
      object<SovereigntyInput>(
        {
          cutoff_probability_per_year: number({
            unit: 'probability per year that a rented provider cuts access',
            min: 0,
            max: 1,
            example: 0.05,
          }),
          days_dark: number({ unit: 'days without service per cut-off', min: 0, example: 18 }),
          cost_per_dark_day_usd: number({ unit: 'USD lost per day without service', min: 0, example: 50000 }),
        },
        {
          what: 'sovereignty risk {cutoff_probability_per_year, days_dark, cost_per_dark_day_usd}',
          example: '{cutoff_probability_per_year: 0.05, days_dark: 18, cost_per_dark_day_usd: 50000}',
        },
      ),
    ),
  },
  {
    what: 'a rent-versus-own scenario {workload, fleet, rent, api}',
    example: '{workload: {...}, fleet: {...}, rent: {...}}',
  },
);
