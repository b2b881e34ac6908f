/**
 * When an application becomes affordable: its inference cost per user-month against the share
 * of revenue it may spend, with token prices falling at a steady annual rate.
 * See docs/methodology.md, "Viability".
 */
import type { Analysis, Resolved } from '../analysis.js';
import { dateFromMonthIndex, dateSchema, monthIndex } from '../dates.js';
import type { Issue, Result } from '../result.js';
import { issue, number, object, optional, type Schema } from '../schema/schema.js';

export interface AppInput {
  readonly input_tokens_per_action: number;
  readonly output_tokens_per_action: number;
  readonly actions_per_user_month: number;
  readonly revenue_per_user_month_usd: number;
  readonly max_inference_share_of_revenue: number;
}

export interface TokenPriceInput {
  readonly input_per_mtok_usd: number;
  readonly output_per_mtok_usd: number;
  readonly annual_decline?: number | undefined;
  readonly months_per_10x?: number | undefined;
}

export interface ViabilityScenario {
  readonly app: AppInput;
  readonly price: TokenPriceInput;
  readonly as_of?: string | undefined;
}

export interface ViabilityInputs extends AppInput {
  readonly input_per_mtok_usd: number;
  readonly output_per_mtok_usd: number;
  readonly annual_decline: number;
  readonly as_of_month: number | null;
}

export interface ViabilityOutput {
  readonly cost_per_action_usd: number;
  readonly cost_per_user_month_usd: number;
  readonly affordable_cost_per_user_month_usd: number;
  /** How many times cheaper tokens must get; at or below 1 the app is viable today. */
  readonly required_price_drop_factor: number;
  readonly viable_now: boolean;
  /** 0 when viable now; null when prices are not falling. */
  readonly months_until_viable: number | null;
  readonly viable_date: string | null;
  /** Cost per user-month at the start of each year from now, for charts. */
  readonly cost_by_year_usd: readonly number[];
}

const tokens = (unit: string, example: number): Schema<number> => number({ unit, min: 0, example });

export const viabilitySchema: Schema<ViabilityScenario> = object<ViabilityScenario>(
  {
    app: object<AppInput>(
      {
        input_tokens_per_action: tokens('input tokens per action', 20000),
        output_tokens_per_action: tokens('output tokens per action', 2000),
        actions_per_user_month: tokens('actions per user per month', 300),
        revenue_per_user_month_usd: number({
          unit: 'USD of revenue per user per month',
          above: 0,
          example: 20,
        }),
        max_inference_share_of_revenue: number({
          unit: 'fraction of revenue that may go to inference',
          above: 0,
          max: 1,
          example: 0.3,
        }),
      },
      {
        what: 'an application {input_tokens_per_action, output_tokens_per_action, ...}',
        example: '{input_tokens_per_action: 20000, ...}',
      },
    ),
    price: object<TokenPriceInput>(
      {
        input_per_mtok_usd: number({ unit: 'USD per million input tokens', min: 0, example: 3 }),
        output_per_mtok_usd: number({ unit: 'USD per million output tokens', min: 0, example: 15 }),
        annual_decline: optional(
          number({
            unit: 'fraction the price falls per year (0.79 = -79%/yr)',
            max: 0.999999,
            example: 0.79,
          }),
        ),
        months_per_10x: optional(number({ unit: 'months for the price to fall 10x', above: 0, example: 18 })),
      },
      {
        what: 'token prices {input_per_mtok_usd, output_per_mtok_usd, annual_decline}',
        example: '{input_per_mtok_usd: 3, output_per_mtok_usd: 15, annual_decline: 0.79}',
      },
    ),
    as_of: optional(dateSchema),
  },
  { what: 'a viability scenario {app, price, as_of}', example: '{app: {...}, price: {...}, as_of: 2026-01}' },
);

function resolveViability(scenario: ViabilityScenario): Result<Resolved<ViabilityInputs>> {
  const issues: Issue[] = [];
  const { annual_decline: decline, months_per_10x: per10x } = scenario.price;
  if (decline !== undefined && per10x !== undefined) {
    issues.push(
      issue('invalid_value', 'price.annual_decline', 'and price.months_per_10x are both given: keep one'),
    );
  }
  if (decline === undefined && per10x === undefined) {
    issues.push(
      issue(
        'missing',
        'price.annual_decline',
        'is missing: give the yearly fall as a fraction, or price.months_per_10x (example: price.annual_decline: 0.79)',
      ),
    );
  }
  const asOf = scenario.as_of === undefined ? null : (monthIndex(scenario.as_of) ?? null);
  if (scenario.as_of !== undefined && asOf === null) {
    issues.push(
      issue(
        'invalid_value',
        'as_of',
        `("${scenario.as_of}") is not a calendar date: use "YYYY-MM" or "YYYY-MM-DD"`,
      ),
    );
  }
  if (issues.length > 0) return { ok: false, issues };
  // 10x per m months is a yearly factor of 10^(12/m).
  const annualDecline = decline ?? 1 - 10 ** (-12 / (per10x as number));
  return {
    ok: true,
    value: {
      inputs: {
        ...scenario.app,
        input_per_mtok_usd: scenario.price.input_per_mtok_usd,
        output_per_mtok_usd: scenario.price.output_per_mtok_usd,
        annual_decline: annualDecline,
        as_of_month: asOf,
      },
      defaultsUsed: [],
      warnings: [],
    },
  };
}

export function computeViability(inputs: ViabilityInputs): ViabilityOutput {
  const perAction =
    (inputs.input_tokens_per_action * inputs.input_per_mtok_usd +
      inputs.output_tokens_per_action * inputs.output_per_mtok_usd) /
    1e6;
  const cost = inputs.actions_per_user_month * perAction;
  const affordable = inputs.max_inference_share_of_revenue * inputs.revenue_per_user_month_usd;
  const dropFactor = cost / affordable;
  const viableNow = cost <= affordable;
  const yearlyLogFall = -Math.log1p(-inputs.annual_decline); // ln of the yearly price divisor
  const months = viableNow ? 0 : yearlyLogFall > 0 ? (12 * Math.log(dropFactor)) / yearlyLogFall : null;
  const years = months === null ? 5 : Math.min(10, Math.max(3, Math.ceil(months / 12) + 1));
  return {
    cost_per_action_usd: perAction,
    cost_per_user_month_usd: cost,
    affordable_cost_per_user_month_usd: affordable,
    required_price_drop_factor: dropFactor,
    viable_now: viableNow,
    months_until_viable: months,
    viable_date:
      months === null || inputs.as_of_month === null ? null : dateFromMonthIndex(inputs.as_of_month + months),
    cost_by_year_usd: Array.from(
      { length: years + 1 },
      (_, year) => cost * (1 - inputs.annual_decline) ** year,
    ),
  };
}

export const viability: Analysis<ViabilityScenario, ViabilityInputs, ViabilityOutput> = {
  id: 'viability',
  summary: 'when an application becomes affordable as token prices fall',
  schema: viabilitySchema,
  resolve: resolveViability,
  compute: computeViability,
};
