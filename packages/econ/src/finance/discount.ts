/**
 * Time value of money. Rates are fractions per period (0.1 = 10%); cash flows fall at the end
 * of each period, as in the LCOE method.
 */

/** Present value of 1 paid at the end of period `t`. */
export function discountFactor(rate: number, t: number): number {
  return Math.exp(-t * Math.log1p(rate));
}

/** Present value of 1 paid at the end of each of `periods` periods. */
export function annuityFactor(rate: number, periods: number): number {
  if (rate === 0) return periods;
  // -expm1(-n·ln(1+r))/r keeps full precision as r approaches 0, where 1 - (1+r)^-n cancels.
  return -Math.expm1(-periods * Math.log1p(rate)) / rate;
}

/**
 * Capital recovery factor: the level payment per period that repays 1 of capital over
 * `periods` at `rate`, i.e. r(1+r)^n / ((1+r)^n - 1); 1/n when r = 0.
 */
export function capitalRecoveryFactor(rate: number, periods: number): number {
  return 1 / annuityFactor(rate, periods);
}

/** Monthly rate equivalent to an annual one: (1 + r)^(1/12) - 1. */
export function monthlyRate(annualRate: number): number {
  return (1 + annualRate) ** (1 / 12) - 1;
}
