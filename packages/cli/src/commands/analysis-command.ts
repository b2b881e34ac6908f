/**
 * Every engine command has the same shell: load a scenario, apply `--set`, validate, compute,
 * then print a table or one JSON object. Only the rendering differs.
 */
import { type Analysis, type AnalysisReport, runAnalysis, type Schema } from '@autocap/econ';
import { CliError } from '../cli-error.js';
import { section } from '../format/table.js';
import { referenceData } from '../reference-data.js';
import { loadScenario } from '../scenario/load-scenario.js';
import type { Command } from './command.js';
import { printJson } from './command.js';

function fieldLines(schema: Schema<unknown>, path: string, lines: string[]): void {
  if (schema.fields) {
    for (const [key, field] of Object.entries(schema.fields)) {
      fieldLines(field, path === '' ? key : `${path}.${key}`, lines);
    }
    if (schema.kind !== 'either') return;
  }
  if (path !== '')
    lines.push(
      `  ${path}${schema.optional ? '' : ' (required)'}\n      ${schema.expected}; e.g. ${schema.example}`,
    );
}

/** Sources can run long; the table shows the first clause, `--json` the whole text. */
function brief(source: string): string {
  const clause = source.split(/; /)[0] ?? source;
  return clause.length > 90 ? `${clause.slice(0, 89)}…` : clause;
}

export function analysisCommand<Scenario, Inputs, Output>(options: {
  analysis: Analysis<Scenario, Inputs, Output>;
  example: string;
  render: (report: AnalysisReport<Inputs, Output>) => string;
}): Command {
  const { analysis } = options;
  return {
    name: analysis.id,
    summary: analysis.summary,
    help() {
      const lines: string[] = [];
      fieldLines(analysis.schema as Schema<unknown>, '', lines);
      return [
        `autocap ${analysis.id}: ${analysis.summary}`,
        '',
        `Usage: autocap ${analysis.id} <scenario.yaml|json> [--set path=value]... [--json]`,
        `Example: autocap ${analysis.id} ${options.example}`,
        '',
        'Scenario fields (optional ones fall back on documented defaults from data/):',
        ...lines,
      ].join('\n');
    },
    run(args, io) {
      const [path, ...extra] = args.positionals;
      if (path === undefined || extra.length > 0) {
        throw new CliError(
          `autocap ${analysis.id} takes one scenario file (example: autocap ${analysis.id} ${options.example})`,
          'E_USAGE',
        );
      }
      const document = loadScenario(path, args.set, io);
      const result = runAnalysis(analysis, document, referenceData);
      if (!result.ok) {
        const plural = result.issues.length === 1 ? '1 problem' : `${result.issues.length} problems`;
        throw new CliError(
          `${path}: ${plural} in the scenario\n${result.issues.map((entry) => `  - ${entry.message}`).join('\n')}`,
          'E_SCENARIO',
        );
      }
      const report = result.value;
      if (args.json) {
        printJson(io, {
          command: analysis.id,
          scenario: path,
          ...report.output,
          inputs: report.inputs,
          defaults_used: report.defaultsUsed,
          warnings: report.warnings,
        });
        return 0;
      }
      const parts = [options.render(report)];
      if (report.defaultsUsed.length > 0) {
        parts.push(
          section(
            'Defaults used (override in the scenario or with --set)',
            report.defaultsUsed.map((entry) => [
              entry.field,
              String(Number(entry.value.toPrecision(6))),
              `${brief(entry.source)} (${entry.date})`,
            ]),
          ),
        );
      }
      if (report.warnings.length > 0)
        parts.push(['Warnings', ...report.warnings.map((text) => `  ! ${text}`)].join('\n'));
      io.stdout(`${parts.join('\n\n')}\n`);
      return 0;
    },
  };
}
