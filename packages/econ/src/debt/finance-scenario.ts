/**
 * The scenario of `autocap finance`: a GPU fleet (as in tco), the loan that pays for most of it,
 * and what the fleet earns when rented out by the GPU-hour. The revenue path reuses the
 * appreciation rates of depreciation, so the fleet's economic value and the income that services
 * the loan move together.
 */
import { DefaultsLedger, type Resolved } from '../analysis.js';
import {
  type AppreciationInput,
  type AppreciationInputs,
  appreciationSchema,
  resolveAppreciation,
} from '../appreciation/appreciation.js';
import { findGpu, type ReferenceData } from '../reference-data/reference-data.js';
import type { Issue, Result } from '../result.js';
import { choice, issue, number, object, optional, type Schema } from '../schema/schema.js';
import { type TcoInputs, tco } from '../tco/tco.js';
import { type FinanceInput, type FleetInput, financeSchema, fleetSchema } from '../tco/tco-scenario.js';

/** How the loan repays its principal. */
export type Amortization = 'annuity' | 'straight' | 'bullet';

export const AMORTIZATIONS: readonly Amortization[] = ['annuity', 'straight', 'bullet'];

export interface LoanInput {
  /** Loan as a fraction of the fleet's capex. */
  readonly loan_to_value: number;
  /** Nominal annual rate, compounded monthly: the monthly rate is interest_rate / 12. */
  readonly interest_rate: number;
  readonly term_months: number;
  readonly amortization?: Amortization | undefined;
  /** Fee as a fraction of the loan, paid by the borrower at closing. */
  readonly origination_fee?: number | undefined;
}

export interface RentalInput {
  readonly price_usd_per_gpu_hour?: number | undefined;
  readonly utilization?: number | undefined;
  /** Yearly fall in the rental price; replaces the appreciation rates when given. */
  readonly price_decline_per_year?: number | undefined;
}

export interface DebtFinanceScenario {
  readonly fleet: FleetInput;
  readonly finance?: FinanceInput | undefined;
  readonly loan: LoanInput;
  readonly rental?: RentalInput | undefined;
  readonly appreciation?: AppreciationInput | undefined;
}

export interface LoanInputs {
  readonly loan_to_value: number;
  readonly interest_rate: number;
  readonly term_months: number;
  readonly amortization: Amortization;
  readonly origination_fee: number;
}

export interface DebtFinanceInputs {
  /** The fleet as tco resolves it; `utilization` is the rented share of hours. */
  readonly fleet: TcoInputs;
  readonly loan: LoanInputs;
  /** The rental price per busy GPU-hour at month 0. */
  readonly rental_usd_per_gpu_hour: number;
  /** The rates that move the rental income and the economic value. */
  readonly appreciation: AppreciationInputs;
}

const loanSchema: Schema<LoanInput> = object<LoanInput>(
  {
    loan_to_value: number({ unit: 'loan as a fraction of fleet capex', min: 0, max: 1, example: 0.7 }),
    interest_rate: number({
      unit: 'nominal annual interest rate as a fraction, compounded monthly (0.12 = 12%/yr)',
      min: 0,
      max: 1,
      example: 0.12,
    }),
    term_months: number({ unit: 'months to repay the loan', min: 1, max: 360, integer: true, example: 48 }),
    amortization: optional(choice(AMORTIZATIONS, 'annuity')),
    origination_fee: optional(
      number({ unit: 'fee as a fraction of the loan, paid at closing', min: 0, max: 0.2, example: 0.01 }),
    ),
  },
  {
    what: 'the loan {loan_to_value, interest_rate, term_months, amortization, origination_fee}',
    example: '{loan_to_value: 0.7, interest_rate: 0.12, term_months: 48}',
  },
);

const rentalSchema: Schema<RentalInput | undefined> = optional(
  object<RentalInput>(
    {
      price_usd_per_gpu_hour: optional(
        number({ unit: 'USD per rented GPU-hour at month 0', above: 0, example: 2.35 }),
      ),
      utilization: optional(
        number({ unit: 'fraction of hours the GPUs are rented out', above: 0, max: 1, example: 0.8 }),
      ),
      price_decline_per_year: optional(
        number({
          unit: 'yearly fall in the rental price, as a fraction; negative when it rises',
          max: 0.99,
          example: 0.2,
        }),
      ),
    },
    {
      what: 'the rental income {price_usd_per_gpu_hour, utilization, price_decline_per_year}',
      example: '{price_usd_per_gpu_hour: 2.35, utilization: 0.8}',
    },
  ),
);

export const debtFinanceSchema: Schema<DebtFinanceScenario> = object<DebtFinanceScenario>(
  {
    fleet: fleetSchema,
    finance: financeSchema,
    loan: loanSchema,
    rental: rentalSchema,
    appreciation: appreciationSchema,
  },
  {
    what: 'a finance scenario {fleet, finance, loan, rental, appreciation}',
    example:
      '{fleet: {gpu: h100-sxm, count: 1024}, loan: {loan_to_value: 0.7, interest_rate: 0.12, term_months: 48}}',
  },
);

/** A rental price decline, stated as the appreciation rates that produce it: net rate = -decline. */
function declineAsAppreciation(decline: number): AppreciationInputs {
  return {
    software_progress_per_year: 0,
    hardware_price_performance_per_year: 0,
    supply_price_decline_per_year: decline,
    software_pass_through: 0,
    private_premium_per_year: 0,
  };
}

export function resolveDebtFinance(
  scenario: DebtFinanceScenario,
  data: ReferenceData,
): Result<Resolved<DebtFinanceInputs>> {
  const defaults = new DefaultsLedger(data);
  const rental = scenario.rental ?? {};
  const utilization = defaults.take(rental.utilization, 'rental.utilization', 'utilization');
  const fleet = tco.resolve({ fleet: scenario.fleet, finance: scenario.finance, utilization }, data);
  if (!fleet.ok) return fleet;
  const issues: Issue[] = [];

  let price = rental.price_usd_per_gpu_hour;
  if (price === undefined) {
    const gpu = scenario.fleet.gpu === undefined ? undefined : findGpu(data, scenario.fleet.gpu);
    if (gpu) {
      const rent = gpu.rental_usd_per_hour;
      price = defaults.note({
        field: 'rental.price_usd_per_gpu_hour',
        value: rent.typical,
        source: rent.source,
        date: rent.date,
      });
    } else {
      issues.push(
        issue(
          'missing',
          'rental.price_usd_per_gpu_hour',
          'is missing: give what a rented GPU-hour earns, or a catalog GPU in fleet.gpu (example: rental.price_usd_per_gpu_hour: 2.35)',
        ),
      );
    }
  }
  if (rental.price_decline_per_year !== undefined && scenario.appreciation !== undefined) {
    issues.push(
      issue(
        'invalid_value',
        'rental.price_decline_per_year',
        'and appreciation are both given: keep one (a price decline, or the rates that make it)',
      ),
    );
  }
  const lifeMonths = Math.round(fleet.value.inputs.useful_life_years * 12);
  if (scenario.loan.term_months > lifeMonths) {
    issues.push(
      issue(
        'out_of_range',
        'loan.term_months',
        `(${scenario.loan.term_months}) is longer than the fleet's life (${lifeMonths} months): shorten the loan or lengthen fleet.useful_life_years`,
      ),
    );
  }
  if (issues.length > 0 || price === undefined) return { ok: false, issues };

  const appreciation =
    rental.price_decline_per_year === undefined
      ? resolveAppreciation(scenario.appreciation, defaults)
      : declineAsAppreciation(rental.price_decline_per_year);
  return {
    ok: true,
    value: {
      inputs: {
        fleet: fleet.value.inputs,
        loan: {
          loan_to_value: scenario.loan.loan_to_value,
          interest_rate: scenario.loan.interest_rate,
          term_months: scenario.loan.term_months,
          // A level-payment term loan is the common shape of GPU-backed debt; no fee unless stated.
          amortization: scenario.loan.amortization ?? 'annuity',
          origination_fee: scenario.loan.origination_fee ?? 0,
        },
        rental_usd_per_gpu_hour: price,
        appreciation,
      },
      defaultsUsed: [...fleet.value.defaultsUsed, ...defaults.used],
      warnings: [],
    },
  };
}
