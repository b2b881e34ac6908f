/**
 * Rent versus own for simulation: the same monthly model as `rent-vs-own-model.ts`, evaluated
 * into preallocated typed arrays with no allocation per call, so 100,000 draws of a 10-year
 * monthly scenario take well under a second. Rates compound by repeated multiplication of the
 * monthly factor instead of a power per month; the test holds both within 1e-9.
 * It leaves out what needs many evaluations per draw (the break-even volume's bisection, the
 * Shapley attribution); `advantage_attribution_usd.total` is computed directly.
 */
import { monthlyRate } from '../finance/discount.js';
import type { SimulationKernel } from '../simulate/kernel.js';
import { fleetCapexUsd, fleetOpexUsdPerYear, fleetResidualUsd } from '../tco/tco.js';
import { HOURS_PER_MONTH, type OptionName, type RentVsOwnInputs } from './rent-vs-own-model.js';

/** Options in the order `computeRentVsOwn` compares them (ties go to the earlier one). */
const ORDER: readonly OptionName[] = ['rent', 'api', 'own', 'hybrid'];

export function rentVsOwnKernel(base: RentVsOwnInputs): SimulationKernel<RentVsOwnInputs> {
  const present = ORDER.filter(
    (name) => (name !== 'rent' || base.rent !== null) && (name !== 'api' || base.api_usd_per_month !== null),
  );
  const metrics = [
    ...present.map((name) => `options.${name}.npv_cost_usd`),
    'advantage_attribution_usd.total',
    'breakeven_utilization',
    'payback_month',
  ];
  const sortedLoads = new Float64Array(24);
  const prefix = new Float64Array(25);
  const npv = new Float64Array(4);
  // Monthly flows for the payback month; regrown only if a draw lengthens the horizon.
  let ownFlows = new Float64Array(base.months + 1);
  let rentedFlows = new Float64Array(base.months + 1);
  let apiFlows = new Float64Array(base.months + 1);

  /** Work units an owned fleet serves in a month: sum over hours of min(load, capacity). */
  const served = (perHour: number, capacity: number): number => {
    if (capacity <= 0) return 0;
    const threshold = capacity / perHour;
    // k = how many hourly loads are at or below the threshold (served in full): binary search.
    let k = 0;
    let high = 24;
    while (k < high) {
      const middle = (k + high) >>> 1;
      if ((sortedLoads[middle] as number) <= threshold) k = middle + 1;
      else high = middle;
    }
    return (HOURS_PER_MONTH / 24) * (perHour * (prefix[k] as number) + capacity * (24 - k));
  };

  function evaluate(inputs: RentVsOwnInputs, out: Float64Array): number {
    const months = inputs.months;
    if (ownFlows.length < months + 1) {
      ownFlows = new Float64Array(months + 1);
      rentedFlows = new Float64Array(months + 1);
      apiFlows = new Float64Array(months + 1);
    }
    const loads = inputs.load_shape;
    for (let h = 0; h < 24; h++) {
      // Insertion sort: 24 values, and allocation-free.
      const value = loads[h] as number;
      let j = h - 1;
      while (j >= 0 && (sortedLoads[j] as number) > value) {
        sortedLoads[j + 1] = sortedLoads[j] as number;
        j--;
      }
      sortedLoads[j + 1] = value;
    }
    for (let k = 0; k < 24; k++) prefix[k + 1] = (prefix[k] as number) + (sortedLoads[k] as number);

    const fleet = inputs.fleet;
    const a = inputs.appreciation;
    const count = fleet.count;
    const capex = fleetCapexUsd(fleet);
    const opexMonth = fleetOpexUsdPerYear(fleet) / 12;
    const residual = fleetResidualUsd(fleet);
    const demand0 = inputs.demand_work_units_per_month;
    const trough = sortedLoads[0] as number;
    const hybridGpus = Math.floor((demand0 * trough) / HOURS_PER_MONTH / inputs.max_utilization);
    const hybridShare = hybridGpus / count;

    const discountStep = 1 / (1 + monthlyRate(fleet.discount_rate));
    const growthStep = (1 + inputs.growth_per_year) ** (1 / 12);
    const ownStep = (1 + a.software_progress_per_year) ** (1 / 12);
    const privateStep = (1 + a.private_premium_per_year) ** (1 / 12);
    const rent = inputs.rent;
    const rentStep = rent
      ? ((1 - rent.price_decline_per_year) / (1 + a.software_pass_through * a.software_progress_per_year)) **
        (1 / 12)
      : 1;
    const apiStep = (1 - inputs.api_price_decline_per_year) ** (1 / 12);
    const hasApi = inputs.api_usd_per_month !== null && demand0 !== 0;

    let demand = demand0;
    let ownPerHour = 1;
    let rentUnit = rent ? rent.gpu_hour_usd / rent.utilization : Number.POSITIVE_INFINITY;
    let apiUnit = hasApi ? (inputs.api_usd_per_month ?? 0) / demand0 : Number.POSITIVE_INFINITY;
    let privateGrowth = 1;
    let discount = 1;
    let npvRent = 0;
    let npvApi = 0;
    let npvOwn = capex;
    let npvHybrid = capex * hybridShare;
    let fixed = capex;
    let rentedValueRent = 0; // value of the fleet's full output at rented prices
    let rentedValueApi = 0;
    // Locals, not the closure's reassignable bindings, inside the hot loop.
    const own = ownFlows;
    const rented = rentedFlows;
    const api = apiFlows;
    const maxUtilization = inputs.max_utilization;
    const sovereigntyPerMonth = inputs.sovereignty_usd_per_month;
    own[0] = capex;
    rented[0] = 0;
    api[0] = 0;

    for (let m = 1; m <= months; m++) {
      if (m > 1) {
        // Month m's flows use the rates at its start, t = (m - 1) / 12.
        demand *= growthStep;
        ownPerHour *= ownStep;
        rentUnit *= rentStep;
        apiUnit *= apiStep;
        privateGrowth *= privateStep;
      }
      discount *= discountStep;
      const cheaper = Math.min(rentUnit, apiUnit);
      const uplift = privateGrowth - 1;
      const perHour = demand / HOURS_PER_MONTH;
      const sovereignty = demand > 0 ? sovereigntyPerMonth : 0;
      const residualNow = m === months ? residual : 0;

      const rentCash = demand * rentUnit + sovereignty;
      const apiCash = demand * apiUnit + sovereignty;
      npvRent += rentCash * discount;
      npvApi += apiCash * discount;
      rented[m] = rentCash;
      api[m] = apiCash;

      const capacity = maxUtilization * ownPerHour;
      const ownServed = served(perHour, count * capacity);
      const ownOverflow = demand - ownServed;
      const ownCash =
        opexMonth +
        (ownOverflow > 0 ? ownOverflow * cheaper : 0) +
        (demand > 0 ? sovereignty * (ownOverflow / demand) : 0) -
        ownServed * cheaper * uplift -
        residualNow;
      npvOwn += ownCash * discount;
      own[m] = ownCash;

      const hybridServed = served(perHour, hybridGpus * capacity);
      const hybridOverflow = demand - hybridServed;
      const hybridCash =
        opexMonth * hybridShare +
        (hybridOverflow > 0 ? hybridOverflow * cheaper : 0) +
        (demand > 0 ? sovereignty * (hybridOverflow / demand) : 0) -
        hybridServed * cheaper * uplift -
        residualNow * hybridShare;
      npvHybrid += hybridCash * discount;

      fixed += opexMonth * discount;
      const fullOutput = count * HOURS_PER_MONTH * ownPerHour * discount;
      rentedValueRent += fullOutput * rentUnit;
      rentedValueApi += fullOutput * apiUnit;
    }
    fixed -= residual * discount;
    if (!rent) npvRent = Number.POSITIVE_INFINITY;
    if (!hasApi) npvApi = Number.POSITIVE_INFINITY;
    npv[0] = npvRent;
    npv[1] = npvApi;
    npv[2] = npvOwn;
    npv[3] = npvHybrid;

    let winner = 0;
    for (let i = 0; i < present.length; i++) {
      const value = npv[ORDER.indexOf(present[i] as OptionName)] as number;
      out[i] = value;
      if (value < (out[winner] as number)) winner = i;
    }
    const rentIsBest = npvRent <= npvApi;
    const bestRented = rentIsBest ? npvRent : npvApi;
    out[present.length] = bestRented - npvOwn;
    out[present.length + 1] = fixed / (rentIsBest ? rentedValueRent : rentedValueApi);

    // Payback against the best rented option (its flows are in rentedFlows or apiFlows).
    const flows = rentIsBest ? rented : api;
    let cumulative = (flows[0] as number) - (own[0] as number);
    let payback = Number.NaN;
    for (let m = 1; m <= months; m++) {
      cumulative += (flows[m] as number) - (own[m] as number);
      if (cumulative >= 0) {
        payback = m;
        break;
      }
    }
    out[present.length + 2] = payback;
    return winner;
  }

  return {
    metrics,
    primary: 'advantage_attribution_usd.total',
    outcomes: present,
    evaluate,
  };
}
