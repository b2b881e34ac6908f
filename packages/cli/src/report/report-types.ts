/** The data the HTML report is rendered from. */
import type {
  DefaultUsed,
  DepreciationInputs,
  DepreciationOutput,
  RentVsOwnInputs,
  RentVsOwnOutput,
} from '@autocap/econ';

/** A Monte Carlo run over the scenario's uncertain inputs, as `autocap simulate` produces it. */
export interface ReportSimulation {
  readonly draws: number;
  readonly seed: number;
  /** Label of the simulated output, e.g. "Owning's NPV advantage (USD)". */
  readonly metric: string;
  /** One value per draw, for the histogram. */
  readonly samples: Float64Array;
  readonly p5: number;
  readonly p50: number;
  readonly p95: number;
  /** Share of draws each option wins, by option name. */
  readonly winnerProbability: Readonly<Record<string, number>>;
  readonly tornado: readonly {
    input: string;
    low: number;
    high: number;
    outputAtLow: number;
    outputAtHigh: number;
  }[];
  /** The metric with every input at its median. */
  readonly base: number;
}

/** Everything the page shows, gathered by `report-data.ts`. */
export interface ReportData {
  readonly scenario: {
    readonly path: string;
    /** Short name: the file name without its extension. */
    readonly name: string;
    /** The scenario file's opening comment, if it has one. */
    readonly description?: string | undefined;
    /** Display name of the fleet's GPU, if it names a catalog GPU. */
    readonly gpu?: string | undefined;
  };
  readonly rentVsOwn: { readonly inputs: RentVsOwnInputs; readonly output: RentVsOwnOutput };
  /** Depreciation of one owned GPU of the same fleet, with the same appreciation inputs. */
  readonly depreciation: { readonly inputs: DepreciationInputs; readonly output: DepreciationOutput };
  readonly defaultsUsed: readonly DefaultUsed[];
  /** How the depreciation inputs were derived from the rent-vs-own scenario, and what that loses. */
  readonly assumptions: readonly string[];
  readonly warnings: readonly string[];
  readonly simulation?: ReportSimulation | undefined;
}

export interface RenderOptions {
  /** When the report was made, printed in UTC; passed in so that rendering has no hidden clock. */
  readonly generatedAt: Date;
}

export interface RenderedReport {
  readonly html: string;
  /** The `data-chart` id of every chart on the page, in order. */
  readonly charts: readonly string[];
}
