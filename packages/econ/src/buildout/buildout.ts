/**
 * Data-center buildout return: does the revenue of a build cover its depreciation and a return
 * on the capital sunk into it? Conventions:
 * - D&A is straight-line per component, capex / useful life, with no salvage.
 * - Invested capital is the gross capex, all spent before year 1: ROIC is the year-1 return on
 *   gross capital, before any accumulated depreciation lowers the base.
 * - NOPAT = (revenue x cash operating margin - D&A) x (1 - tax). The tax is symmetric: an
 *   operating loss earns a credit at the same rate (the owner has other taxable profits). That
 *   keeps ROIC linear in revenue, so the break-even revenue has the closed form
 *   revenue* = (WACC x capex / (1 - tax) + D&A) / margin.
 * - The cash operating margin is a fixed fraction of revenue, at today's revenue and at revenue*.
 * - The next identical build, N years on, costs each component's capex x (1 + its price change)^N.
 *   The replacement gap is that cost less the historic cost, and the D&A gap is depreciation at
 *   replacement cost less depreciation at historic cost: negative when falling silicon prices
 *   let a later builder depreciate less than this one, positive when labor and power gear inflate.
 */
import type { Analysis, Resolved } from '../analysis.js';
import type { Issue, Result } from '../result.js';
import { issue } from '../schema/schema.js';
import {
  BUILDOUT_COMPONENTS,
  type BuildoutComponentName,
  type BuildoutScenario,
  buildoutSchema,
} from './buildout-scenario.js';

export interface BuildoutComponentInputs {
  readonly name: BuildoutComponentName;
  readonly capex_usd: number;
  readonly useful_life_years: number;
  readonly price_change_per_year: number;
}

export interface BuildoutInputs {
  readonly capacity_mw: number;
  /** The components the scenario names, in the order of BUILDOUT_COMPONENTS. */
  readonly components: readonly BuildoutComponentInputs[];
  readonly revenue_usd_per_year: number;
  readonly cash_operating_margin: number;
  readonly wacc: number;
  readonly tax_rate: number;
  readonly replacement_after_years: number;
}

export interface BuildoutComponentOutput extends BuildoutComponentInputs {
  readonly share_of_capex: number;
  readonly da_usd_per_year: number;
  readonly replacement_cost_usd: number;
  readonly replacement_da_usd_per_year: number;
}

export interface BuildoutOutput {
  readonly capex_usd: number;
  readonly capex_usd_per_mw: number;
  /** Straight-line depreciation and amortization: the sum of capex / life over components. */
  readonly da_usd_per_year: number;
  readonly revenue_usd_per_year: number;
  readonly revenue_to_da: number;
  /** Revenue x cash operating margin (EBITDA). */
  readonly cash_operating_profit_usd_per_year: number;
  /** Cash operating profit less D&A (EBIT). */
  readonly operating_income_usd_per_year: number;
  readonly nopat_usd_per_year: number;
  /** Gross capex, all spent before year 1. */
  readonly invested_capital_usd: number;
  /** NOPAT / invested capital, as a fraction per year. */
  readonly roic: number;
  /** NOPAT less WACC x invested capital: what the build earns above its cost of capital. */
  readonly economic_profit_usd_per_year: number;
  readonly earns_wacc: boolean;
  /** The revenue at which ROIC equals WACC. */
  readonly breakeven_revenue_usd_per_year: number;
  readonly breakeven_revenue_to_da: number;
  readonly replacement_after_years: number;
  /** The same build N years later, each component at its own price trend. */
  readonly replacement_cost_usd: number;
  /** Replacement cost less historic capex. */
  readonly replacement_gap_usd: number;
  readonly replacement_da_usd_per_year: number;
  /** D&A at replacement cost less D&A at historic cost. */
  readonly replacement_gap_da_usd_per_year: number;
  readonly components: readonly BuildoutComponentOutput[];
}

/** A total given either outright or per MW, never both. */
function perBuild(
  given: { readonly total: number | undefined; readonly perMw: number | undefined },
  fields: { readonly total: string; readonly perMw: string; readonly example: string },
  capacityMw: number,
  issues: Issue[],
): number | undefined {
  if (given.total !== undefined && given.perMw !== undefined) {
    issues.push(issue('invalid_value', fields.total, `and ${fields.perMw} are both given: keep one`));
    return undefined;
  }
  if (given.total === undefined && given.perMw === undefined) {
    issues.push(
      issue('missing', fields.total, `is missing: give it, or ${fields.perMw} (example: ${fields.example})`),
    );
    return undefined;
  }
  return given.total ?? (given.perMw as number) * capacityMw;
}

function resolveBuildout(scenario: BuildoutScenario): Result<Resolved<BuildoutInputs>> {
  const issues: Issue[] = [];
  const capacity = scenario.capacity_mw;
  const components: BuildoutComponentInputs[] = [];
  for (const name of BUILDOUT_COMPONENTS) {
    const given = scenario.capex[name];
    if (given === undefined) continue;
    const capex = perBuild(
      { total: given.capex_usd, perMw: given.capex_usd_per_mw },
      {
        total: `capex.${name}.capex_usd`,
        perMw: `capex.${name}.capex_usd_per_mw`,
        example: `capex.${name}.capex_usd: 3.5e10`,
      },
      capacity,
      issues,
    );
    if (capex === undefined) continue;
    components.push({
      name,
      capex_usd: capex,
      useful_life_years: given.useful_life_years,
      price_change_per_year: given.price_change_per_year,
    });
  }
  const revenue = perBuild(
    { total: scenario.revenue_usd_per_year, perMw: scenario.revenue_usd_per_mw_year },
    {
      total: 'revenue_usd_per_year',
      perMw: 'revenue_usd_per_mw_year',
      example: 'revenue_usd_per_year: 11.6e9',
    },
    capacity,
    issues,
  );
  if (issues.length > 0 || revenue === undefined) return { ok: false, issues };
  if (!components.some((component) => component.capex_usd > 0)) {
    issues.push(
      issue(
        'missing',
        'capex',
        `has no component with capex above 0: give at least one of ${BUILDOUT_COMPONENTS.join(', ')} (example: capex: {silicon: {capex_usd: 3.5e10, useful_life_years: 5, price_change_per_year: -0.2}})`,
      ),
    );
    return { ok: false, issues };
  }
  return {
    ok: true,
    value: {
      inputs: {
        capacity_mw: capacity,
        components,
        revenue_usd_per_year: revenue,
        cash_operating_margin: scenario.cash_operating_margin,
        wacc: scenario.wacc,
        tax_rate: scenario.tax_rate,
        replacement_after_years: scenario.replacement_after_years,
      },
      defaultsUsed: [],
      warnings: [],
    },
  };
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

export function computeBuildout(inputs: BuildoutInputs): BuildoutOutput {
  const years = inputs.replacement_after_years;
  const capex = sum(inputs.components.map((component) => component.capex_usd));
  const components = inputs.components.map((component): BuildoutComponentOutput => {
    const replacement = component.capex_usd * (1 + component.price_change_per_year) ** years;
    return {
      ...component,
      share_of_capex: component.capex_usd / capex,
      da_usd_per_year: component.capex_usd / component.useful_life_years,
      replacement_cost_usd: replacement,
      replacement_da_usd_per_year: replacement / component.useful_life_years,
    };
  });
  const da = sum(components.map((component) => component.da_usd_per_year));
  const revenue = inputs.revenue_usd_per_year;
  const margin = inputs.cash_operating_margin;
  const keep = 1 - inputs.tax_rate;
  const cashProfit = revenue * margin;
  const nopat = (cashProfit - da) * keep;
  const roic = nopat / capex;
  const breakevenRevenue = ((inputs.wacc * capex) / keep + da) / margin;
  const replacementCost = sum(components.map((component) => component.replacement_cost_usd));
  const replacementDa = sum(components.map((component) => component.replacement_da_usd_per_year));
  return {
    capex_usd: capex,
    capex_usd_per_mw: capex / inputs.capacity_mw,
    da_usd_per_year: da,
    revenue_usd_per_year: revenue,
    revenue_to_da: revenue / da,
    cash_operating_profit_usd_per_year: cashProfit,
    operating_income_usd_per_year: cashProfit - da,
    nopat_usd_per_year: nopat,
    invested_capital_usd: capex,
    roic,
    economic_profit_usd_per_year: nopat - inputs.wacc * capex,
    earns_wacc: roic >= inputs.wacc,
    breakeven_revenue_usd_per_year: breakevenRevenue,
    breakeven_revenue_to_da: breakevenRevenue / da,
    replacement_after_years: years,
    replacement_cost_usd: replacementCost,
    replacement_gap_usd: replacementCost - capex,
    replacement_da_usd_per_year: replacementDa,
    replacement_gap_da_usd_per_year: replacementDa - da,
    components,
  };
}

export const buildout: Analysis<BuildoutScenario, BuildoutInputs, BuildoutOutput> = {
  id: 'buildout',
  summary: 'data-center buildout return: revenue / D&A, ROIC against WACC, break-even, replacement cost',
  schema: buildoutSchema,
  resolve: resolveBuildout,
  compute: computeBuildout,
};
