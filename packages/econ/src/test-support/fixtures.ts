/**
 * The 100-H100, 5-year fleet of examples/tco-100-h100-5y.yaml with every figure stated: capex
 * $4.8M, opex $756,157.60 a year, salvage $480,000. Tests of several analyses price it by hand.
 */
export const FLEET_100_H100 = {
  gpu: 'h100-sxm',
  count: 100,
  gpu_price_usd: 30000,
  other_capex_fraction_of_gpu: 0.6,
  power_kw_per_gpu: 1.275,
  pue: 1.3,
  electricity_usd_per_kwh: 0.08,
  colocation_usd_per_year: 100000,
  staff_usd_per_year: 250000,
  maintenance_fraction_of_capex_per_year: 0.05,
  software_usd_per_year: 50000,
  useful_life_years: 5,
  salvage_fraction: 0.1,
} as const;

/** Appreciation with every rate at zero. */
export const NO_APPRECIATION = {
  software_progress_per_year: 0,
  hardware_price_performance_per_year: 0,
  supply_price_decline_per_year: 0,
  software_pass_through: 0,
  private_premium_per_year: 0,
} as const;
