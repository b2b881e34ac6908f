import { number, object, optional, type Schema, string } from '../schema/schema.js';

export interface FleetInput {
  /** Catalog id: supplies the default purchase price and power when they are not given. */
  readonly gpu?: string | undefined;
  readonly count: number;
  readonly gpu_price_usd?: number | undefined;
  readonly other_capex_usd?: number | undefined;
  readonly other_capex_fraction_of_gpu?: number | undefined;
  readonly power_kw_per_gpu?: number | undefined;
  readonly pue?: number | undefined;
  readonly electricity_usd_per_kwh?: number | undefined;
  readonly colocation_usd_per_year?: number | undefined;
  readonly staff_usd_per_year?: number | undefined;
  readonly maintenance_fraction_of_capex_per_year?: number | undefined;
  readonly software_usd_per_year?: number | undefined;
  readonly useful_life_years?: number | undefined;
  readonly salvage_fraction?: number | undefined;
}

export interface FinanceInput {
  readonly discount_rate?: number | undefined;
}

export interface TcoScenario {
  readonly fleet: FleetInput;
  readonly finance?: FinanceInput | undefined;
  readonly utilization?: number | undefined;
  readonly horizon_years?: number | undefined;
  readonly throughput_tokens_per_second_per_gpu?: number | undefined;
}

const usd = (unit: string, example: number): Schema<number | undefined> =>
  optional(number({ unit, min: 0, example }));
const fraction = (unit: string, example: number, max = 1): Schema<number | undefined> =>
  optional(number({ unit, min: 0, max, example }));

export const fleetSchema: Schema<FleetInput> = object<FleetInput>(
  {
    gpu: optional(
      string({ what: 'a GPU id from the catalog (see `autocap hardware`)', example: 'h100-sxm' }),
    ),
    count: number({ unit: 'GPUs', min: 1, integer: true, example: 64 }),
    gpu_price_usd: usd('USD per GPU', 31000),
    other_capex_usd: usd('USD for servers, networking, storage and installation', 1800000),
    other_capex_fraction_of_gpu: fraction('other capex as a fraction of GPU capex', 0.6, 10),
    power_kw_per_gpu: optional(
      number({ unit: 'kW per GPU, all-in server power', above: 0, max: 100, example: 1.275 }),
    ),
    pue: optional(
      number({ unit: 'power usage effectiveness, facility power / IT power', min: 1, max: 5, example: 1.3 }),
    ),
    electricity_usd_per_kwh: usd('USD per kWh', 0.08),
    colocation_usd_per_year: usd('USD per year for space and racks', 100000),
    staff_usd_per_year: usd('USD per year for operations staff', 250000),
    maintenance_fraction_of_capex_per_year: fraction('fraction of capex per year', 0.05),
    software_usd_per_year: usd('USD per year for licences and tooling', 50000),
    useful_life_years: optional(number({ unit: 'years', above: 0, max: 30, example: 5 })),
    salvage_fraction: fraction('fraction of capex recovered at end of life', 0.1),
  },
  { what: 'a fleet {gpu, count, gpu_price_usd, ...}', example: '{gpu: h100-sxm, count: 64}' },
);

export const financeSchema: Schema<FinanceInput | undefined> = optional(
  object<FinanceInput>(
    { discount_rate: fraction('annual discount rate as a fraction (0.1 = 10%/yr)', 0.1) },
    { what: 'finance settings {discount_rate}', example: '{discount_rate: 0.1}' },
  ),
);

export const tcoSchema: Schema<TcoScenario> = object<TcoScenario>(
  {
    fleet: fleetSchema,
    finance: financeSchema,
    utilization: optional(
      number({ unit: 'fraction of hours the GPUs do paid work', above: 0, max: 1, example: 0.7 }),
    ),
    horizon_years: optional(number({ unit: 'years', above: 0, max: 30, example: 5 })),
    throughput_tokens_per_second_per_gpu: optional(
      number({ unit: 'tokens per second per busy GPU', above: 0, example: 3000 }),
    ),
  },
  {
    what: 'a TCO scenario {fleet, finance, utilization, horizon_years}',
    example: '{fleet: {gpu: h100-sxm, count: 64}}',
  },
);
