import { number, object, optional, type Schema } from '../schema/schema.js';

/** The parts of a data-center build, in the order tables list them. */
export type BuildoutComponentName =
  | 'silicon'
  | 'power_and_cooling'
  | 'building'
  | 'networking'
  | 'installation_labor';

export const BUILDOUT_COMPONENTS: readonly BuildoutComponentName[] = [
  'silicon',
  'power_and_cooling',
  'building',
  'networking',
  'installation_labor',
];

export interface ComponentInput {
  readonly capex_usd?: number | undefined;
  readonly capex_usd_per_mw?: number | undefined;
  readonly useful_life_years: number;
  /** Yearly change in the price of the same item: -0.2 = 20% cheaper each year, +0.04 = 4% dearer. */
  readonly price_change_per_year: number;
}

export type CapexInput = { readonly [Name in BuildoutComponentName]?: ComponentInput | undefined };

export interface BuildoutScenario {
  readonly capacity_mw: number;
  readonly capex: CapexInput;
  readonly revenue_usd_per_year?: number | undefined;
  readonly revenue_usd_per_mw_year?: number | undefined;
  readonly cash_operating_margin: number;
  readonly wacc: number;
  readonly tax_rate: number;
  readonly replacement_after_years: number;
}

interface ComponentExample {
  readonly capex_usd: number;
  readonly life: number;
  readonly lifeMax: number;
  readonly trend: number;
}

function componentSchema(what: string, example: ComponentExample): Schema<ComponentInput | undefined> {
  return optional(
    object<ComponentInput>(
      {
        capex_usd: optional(number({ unit: `USD spent on ${what}`, min: 0, example: example.capex_usd })),
        capex_usd_per_mw: optional(
          number({ unit: `USD per MW spent on ${what}`, min: 0, example: example.capex_usd / 1000 }),
        ),
        useful_life_years: number({
          unit: 'years of straight-line depreciation',
          above: 0,
          max: example.lifeMax,
          example: example.life,
        }),
        price_change_per_year: number({
          unit: 'price change per year of the same item as a fraction, -0.2 = 20% cheaper a year',
          above: -1,
          max: 1,
          example: example.trend,
        }),
      },
      {
        what: `${what} {capex_usd or capex_usd_per_mw, useful_life_years, price_change_per_year}`,
        example: `{capex_usd: ${example.capex_usd.toExponential().replace('e+', 'e')}, useful_life_years: ${example.life}, price_change_per_year: ${example.trend}}`,
      },
    ),
  );
}

const fraction = (unit: string, example: number, max: number): Schema<number> =>
  number({ unit, min: 0, max, example });

export const buildoutSchema: Schema<BuildoutScenario> = object<BuildoutScenario>(
  {
    capacity_mw: number({ unit: 'MW of data-center capacity', above: 0, example: 1000 }),
    capex: object<CapexInput>(
      {
        silicon: componentSchema('accelerators and servers', {
          capex_usd: 35e9,
          life: 5,
          lifeMax: 20,
          trend: -0.2,
        }),
        power_and_cooling: componentSchema('power and cooling', {
          capex_usd: 25e9,
          life: 15,
          lifeMax: 50,
          trend: 0.03,
        }),
        building: componentSchema('the building and site', {
          capex_usd: 4e9,
          life: 30,
          lifeMax: 60,
          trend: 0.03,
        }),
        networking: componentSchema('networking', { capex_usd: 4e9, life: 6, lifeMax: 20, trend: -0.1 }),
        installation_labor: componentSchema('installation labor', {
          capex_usd: 3e9,
          life: 15,
          lifeMax: 60,
          trend: 0.04,
        }),
      },
      {
        what: 'capex by component {silicon, power_and_cooling, building, networking, installation_labor}',
        example: '{silicon: {capex_usd: 3.5e10, useful_life_years: 5, price_change_per_year: -0.2}}',
      },
    ),
    revenue_usd_per_year: optional(
      number({ unit: 'USD of revenue per year from the whole build', min: 0, example: 11.6e9 }),
    ),
    revenue_usd_per_mw_year: optional(
      number({ unit: 'USD of revenue per MW of capacity per year', min: 0, example: 11.6e6 }),
    ),
    cash_operating_margin: number({
      unit: 'EBITDA margin: cash operating profit before D&A as a fraction of revenue',
      above: 0,
      max: 1,
      example: 0.9,
    }),
    wacc: fraction('weighted average cost of capital as a fraction per year, 0.07 = 7%/yr', 0.07, 1),
    tax_rate: fraction('tax rate on operating income, as a fraction', 0.15, 0.99),
    replacement_after_years: number({
      unit: 'years from this build to the next identical one',
      min: 0,
      max: 50,
      example: 5,
    }),
  },
  {
    what: 'a buildout scenario {capacity_mw, capex, revenue_usd_per_year, cash_operating_margin, wacc, ...}',
    example: '{capacity_mw: 1000, capex: {...}, revenue_usd_per_year: 11.6e9, ...}',
  },
);
