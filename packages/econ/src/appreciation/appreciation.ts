/**
 * Functional appreciation against erosion. An owned GPU's output grows with software progress
 * (and owner-specific gains); the market value of a unit of that output falls with newer
 * hardware, more supply, and the share of software progress that renters get too.
 * See docs/methodology.md, "Appreciation".
 */
import type { DefaultsLedger } from '../analysis.js';
import { number, object, optional, type Schema } from '../schema/schema.js';

export interface AppreciationInput {
  readonly software_progress_per_year?: number | undefined;
  readonly hardware_price_performance_per_year?: number | undefined;
  readonly supply_price_decline_per_year?: number | undefined;
  readonly software_pass_through?: number | undefined;
  readonly private_premium_per_year?: number | undefined;
}

export type AppreciationInputs = { readonly [K in keyof AppreciationInput]-?: number };

export interface AppreciationRates {
  /** Yearly growth of what the GPU produces: (1 + software)(1 + private) - 1. */
  readonly functional_growth_rate: number;
  /** Yearly fall in the market value of a unit of output: 1 - (1 - supply) / ((1 + hardware)(1 + pass x software)). */
  readonly erosion_rate: number;
  /** Yearly change in the market value of the GPU's output: (1 + growth)(1 - erosion) - 1. */
  readonly net_rate: number;
  /** True when functional growth outpaces erosion. */
  readonly appreciates: boolean;
}

const rate = (unit: string, example: number, max = 10): Schema<number | undefined> =>
  optional(number({ unit, min: 0, max, example }));

export const appreciationSchema: Schema<AppreciationInput | undefined> = optional(
  object<AppreciationInput>(
    {
      software_progress_per_year: rate(
        'yearly gain in output of the same GPU from software, as a fraction',
        0.3,
      ),
      hardware_price_performance_per_year: rate(
        'yearly gain in output per dollar of new GPUs, as a fraction',
        0.3,
      ),
      supply_price_decline_per_year: optional(
        number({
          unit: 'yearly fall in compute prices from more supply, as a fraction',
          max: 0.99,
          example: 0.1,
        }),
      ),
      software_pass_through: rate('fraction of software progress that reaches market prices', 0.5, 1),
      private_premium_per_year: rate('yearly owner-only gain (fine-tunes, memory, private evals)', 0.05),
    },
    {
      what: 'appreciation rates {software_progress_per_year, hardware_price_performance_per_year, ...}',
      example: '{software_progress_per_year: 0.3, hardware_price_performance_per_year: 0.3}',
    },
  ),
);

export function resolveAppreciation(
  input: AppreciationInput | undefined,
  defaults: DefaultsLedger,
): AppreciationInputs {
  const take = (key: keyof AppreciationInput): number =>
    defaults.take(input?.[key], `appreciation.${key}`, key);
  return {
    software_progress_per_year: take('software_progress_per_year'),
    hardware_price_performance_per_year: take('hardware_price_performance_per_year'),
    supply_price_decline_per_year: take('supply_price_decline_per_year'),
    software_pass_through: take('software_pass_through'),
    private_premium_per_year: take('private_premium_per_year'),
  };
}

export function appreciationRates(inputs: AppreciationInputs): AppreciationRates {
  const growth = (1 + inputs.software_progress_per_year) * (1 + inputs.private_premium_per_year);
  const valueKept =
    (1 - inputs.supply_price_decline_per_year) /
    ((1 + inputs.hardware_price_performance_per_year) *
      (1 + inputs.software_pass_through * inputs.software_progress_per_year));
  return {
    functional_growth_rate: growth - 1,
    erosion_rate: 1 - valueKept,
    net_rate: growth * valueKept - 1,
    appreciates: growth * valueKept > 1,
  };
}
