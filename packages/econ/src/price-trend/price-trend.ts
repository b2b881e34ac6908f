/**
 * How fast a price falls: least-squares fit of ln(price) against time in years (exact through two
 * points), read as an annual factor. See docs/methodology.md, "Price trends".
 */
import type { Analysis, Resolved } from '../analysis.js';
import { dateFromMonthIndex, dateSchema, monthIndex } from '../dates.js';
import type { Issue, Result } from '../result.js';
import { array, issue, number, object, optional, type Schema, string } from '../schema/schema.js';

export interface PricePointInput {
  readonly date: string;
  readonly price_usd: number;
  readonly label?: string | undefined;
}

export interface PriceTrendScenario {
  readonly points: readonly PricePointInput[];
  readonly project_to?: string | undefined;
}

export interface PriceTrendInputs {
  /** Months since year 0 of each point. */
  readonly months: readonly number[];
  readonly prices_usd: readonly number[];
  readonly project_to_month: number | null;
}

export interface PriceTrendOutput {
  readonly points: number;
  readonly span_months: number;
  /** Fraction by which the price falls per year: 0.79 means -79%/yr; negative when rising. */
  readonly annual_decline: number;
  /** The price divides by this each year. */
  readonly annual_factor: number;
  readonly halving_months: number | null;
  readonly months_per_10x: number | null;
  readonly fit_r2: number;
  /** Standard error of the fitted ln-slope per year (null with two points: the fit is exact). */
  readonly slope_standard_error_per_year: number | null;
  /** annual_decline at the fitted slope plus and minus two standard errors. */
  readonly annual_decline_range_2se: readonly [number, number] | null;
  readonly fitted_start_price_usd: number;
  readonly projected_price_usd: number | null;
  readonly projected_date: string | null;
}

const pointSchema: Schema<PricePointInput> = object<PricePointInput>(
  {
    date: dateSchema,
    price_usd: number({ unit: 'USD, e.g. per million tokens or per GPU-hour', above: 0, example: 4 }),
    label: optional(string({ what: 'a short text naming the point', example: 'GPT-4o launch' })),
  },
  { what: 'a price point {date, price_usd}', example: '{date: 2024-08, price_usd: 4}' },
);

export const priceTrendSchema: Schema<PriceTrendScenario> = object<PriceTrendScenario>(
  {
    points: array(pointSchema, {
      what: 'a list of price points {date, price_usd}',
      example: '[{date: 2023-03, price_usd: 36}, {date: 2024-08, price_usd: 4}]',
      minItems: 2,
    }),
    project_to: optional(dateSchema),
  },
  { what: 'a price-trend scenario {points, project_to}', example: '{points: [...], project_to: 2027-01}' },
);

function resolvePriceTrend(scenario: PriceTrendScenario): Result<Resolved<PriceTrendInputs>> {
  const issues: Issue[] = [];
  const months = scenario.points.map((point, index) => {
    const month = monthIndex(point.date);
    if (month === undefined)
      issues.push(
        issue(
          'invalid_value',
          `points.${index}.date`,
          `("${point.date}") is not a calendar date: use "YYYY-MM" or "YYYY-MM-DD" (example: 2024-08)`,
        ),
      );
    return month ?? 0;
  });
  const projectTo = scenario.project_to === undefined ? null : (monthIndex(scenario.project_to) ?? null);
  if (scenario.project_to !== undefined && projectTo === null) {
    issues.push(
      issue(
        'invalid_value',
        'project_to',
        `("${scenario.project_to}") is not a calendar date: use "YYYY-MM" or "YYYY-MM-DD"`,
      ),
    );
  }
  if (issues.length === 0 && months.every((month) => month === months[0])) {
    issues.push(
      issue('invalid_value', 'points', 'all fall on one date: a trend needs at least two different dates'),
    );
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      inputs: {
        months,
        prices_usd: scenario.points.map((point) => point.price_usd),
        project_to_month: projectTo,
      },
      defaultsUsed: [],
      warnings: [],
    },
  };
}

export function computePriceTrend(inputs: PriceTrendInputs): PriceTrendOutput {
  const n = inputs.months.length;
  const origin = Math.min(...inputs.months);
  const years = inputs.months.map((month) => (month - origin) / 12);
  const logs = inputs.prices_usd.map(Math.log);
  const meanX = years.reduce((sum, x) => sum + x, 0) / n;
  const meanY = logs.reduce((sum, y) => sum + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (years[i] as number) - meanX;
    const dy = (logs[i] as number) - meanY;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxy / sxx; // ln-price change per year
  const intercept = meanY - slope * meanX;
  let residual = 0; // summed directly: syy - slope·sxy cancels badly on near-perfect fits
  for (let i = 0; i < n; i++)
    residual += ((logs[i] as number) - intercept - slope * (years[i] as number)) ** 2;
  const r2 = syy === 0 ? 1 : 1 - residual / syy;
  const standardError = n > 2 ? Math.sqrt(residual / (n - 2) / sxx) : null;
  const falling = slope < 0;
  const projected =
    inputs.project_to_month === null
      ? null
      : Math.exp(intercept + (slope * (inputs.project_to_month - origin)) / 12);
  return {
    points: n,
    span_months: Math.max(...inputs.months) - origin,
    annual_decline: 1 - Math.exp(slope),
    annual_factor: Math.exp(-slope),
    halving_months: falling ? (12 * Math.LN2) / -slope : null,
    months_per_10x: falling ? (12 * Math.LN10) / -slope : null,
    fit_r2: r2,
    slope_standard_error_per_year: standardError,
    annual_decline_range_2se:
      standardError === null
        ? null
        : [1 - Math.exp(slope + 2 * standardError), 1 - Math.exp(slope - 2 * standardError)],
    fitted_start_price_usd: Math.exp(intercept),
    projected_price_usd: projected,
    projected_date: inputs.project_to_month === null ? null : dateFromMonthIndex(inputs.project_to_month),
  };
}

export const priceTrend: Analysis<PriceTrendScenario, PriceTrendInputs, PriceTrendOutput> = {
  id: 'price-trend',
  summary: 'how fast a price falls: annual decline, halving time, months per 10x, projection',
  schema: priceTrendSchema,
  resolve: resolvePriceTrend,
  compute: computePriceTrend,
};
