/** @autocap/econ: the compute-capital engine. Pure functions; no I/O, clock or randomness. */
export type { Analysis, AnalysisId, AnalysisReport, Resolved } from './analysis.js';
export { DefaultsLedger, runAnalysis } from './analysis.js';
export type { AppreciationInputs, AppreciationRates } from './appreciation/appreciation.js';
export { appreciationRates } from './appreciation/appreciation.js';
export type {
  BuildoutComponentInputs,
  BuildoutComponentOutput,
  BuildoutInputs,
  BuildoutOutput,
} from './buildout/buildout.js';
export { buildout, computeBuildout } from './buildout/buildout.js';
export type { BuildoutComponentName, BuildoutScenario } from './buildout/buildout-scenario.js';
export { dateFromMonthIndex, monthIndex } from './dates.js';
export type { DebtFinanceOutput, DscrYear, LoanSchedule } from './debt/finance.js';
export { computeDebtFinance, finance, internalRateOfReturn, loanSchedule } from './debt/finance.js';
export type {
  Amortization,
  DebtFinanceInputs,
  DebtFinanceScenario,
  LoanInput,
  LoanInputs,
  RentalInput,
} from './debt/finance-scenario.js';
export type {
  DepreciationInputs,
  DepreciationOutput,
  DepreciationScenario,
} from './depreciation/depreciation.js';
export { computeDepreciation, depreciation } from './depreciation/depreciation.js';
export { annuityFactor, capitalRecoveryFactor, discountFactor, monthlyRate } from './finance/discount.js';
export type { PriceTrendInputs, PriceTrendOutput, PriceTrendScenario } from './price-trend/price-trend.js';
export { computePriceTrend, priceTrend } from './price-trend/price-trend.js';
export type {
  DefaultFigure,
  DefaultKey,
  DefaultUsed,
  GpuSpec,
  ModelSpec,
  Precision,
  ReferenceData,
  SourcedRange,
} from './reference-data/reference-data.js';
export { findGpu, findModel } from './reference-data/reference-data.js';
export type { RentVsOwnOutput } from './rent-vs-own/rent-vs-own.js';
export { computeRentVsOwn, rentVsOwn } from './rent-vs-own/rent-vs-own.js';
export type { OptionName, OptionResult, RentVsOwnInputs } from './rent-vs-own/rent-vs-own-model.js';
export type { RentVsOwnScenario } from './rent-vs-own/rent-vs-own-scenario.js';
export type { Issue, IssueCode, Result } from './result.js';
export type { RooflineInputs, RooflineOutput } from './roofline/roofline.js';
export { computeRoofline, precisionFor, roofline } from './roofline/roofline.js';
export type { RooflineScenario } from './roofline/roofline-scenario.js';
export type { NumberOptions, Parsed, Schema, SchemaKind } from './schema/schema.js';
export {
  array,
  boolean,
  choice,
  INVALID,
  issue,
  number,
  object,
  optional,
  string,
  validate,
} from './schema/schema.js';
export { closestMatch } from './schema/suggest.js';
export type { Distribution, DistributionName } from './simulate/distributions.js';
export type { SimulationKernel } from './simulate/kernel.js';
export { Random } from './simulate/random.js';
export type { SimulationOptions, SimulationRun, SimulationSummary, TornadoRow } from './simulate/simulate.js';
export { simulate } from './simulate/simulate.js';
export type { MetricSummary } from './simulate/statistics.js';
export type { OpexBreakdown, TcoInputs, TcoOutput } from './tco/tco.js';
export { computeTco, HOURS_PER_YEAR, tco } from './tco/tco.js';
export type { FinanceInput, FleetInput, TcoScenario } from './tco/tco-scenario.js';
export { financeSchema, fleetSchema, tcoSchema } from './tco/tco-scenario.js';
export type { ViabilityInputs, ViabilityOutput, ViabilityScenario } from './viability/viability.js';
export { computeViability, viability } from './viability/viability.js';
