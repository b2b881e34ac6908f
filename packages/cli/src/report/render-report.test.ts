import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { referenceData } from '../reference-data.js';
import { repoRoot } from '../test-support.js';
import { type ReportData, renderReport } from './render-report.js';
import { gatherReportData } from './report-data.js';
import { syntheticSimulation } from './synthetic-simulation.js';

const example = 'examples/rent-vs-own-70b-chat.yaml';
const document = parse(readFileSync(join(repoRoot, example), 'utf8')) as unknown;
const generatedAt = new Date('2026-01-02T03:04:05Z');

function data(overrides: { scenarioPath?: string; withSimulation?: boolean } = {}): ReportData {
  const result = gatherReportData({
    scenarioPath: overrides.scenarioPath ?? example,
    document,
    data: referenceData,
    simulation: overrides.withSimulation ? syntheticSimulation() : undefined,
  });
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value;
}

describe('report data', () => {
  it('values one owned GPU of the fleet with the scenario appreciation inputs', () => {
    const report = data();
    const { inputs } = report.rentVsOwn;
    const gpu = report.depreciation.inputs;
    expect(gpu.fleet.count).toBe(1);
    expect(gpu.fleet.other_capex_usd).toBeCloseTo(inputs.fleet.other_capex_usd / 64, 6);
    expect(gpu.appreciation).toEqual(inputs.appreciation);
    expect(gpu.book_life_years).toBe(inputs.fleet.useful_life_years);
    // Best rented is rent: $2.35 per GPU-hour at 85% useful utilization.
    expect(gpu.market_value_usd_per_gpu_hour).toBeCloseTo(2.35 / 0.85, 12);
    // Month-1 demand 23,581 GPU-hours over 64 GPUs x 730 h; the 1.5x peak stays under 90% capacity.
    expect(gpu.fleet.utilization).toBeCloseTo(inputs.demand_work_units_per_month / (64 * 730), 12);
    expect(report.depreciation.output.capex_usd).toBeCloseTo(31_905 * 1.6, 6);
    expect(report.assumptions.join('\n')).toMatch(/lossy/);
  });

  it('refuses a scenario that is not a rent-vs-own scenario, naming the field', () => {
    const result = gatherReportData({
      scenarioPath: 'x.yaml',
      document: { fleet: { count: 4 } },
      data: referenceData,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((entry) => entry.message).join('\n')).toMatch(/workload/);
  });
});

describe('renderReport', () => {
  it('renders the four deterministic charts, the defaults with sources, and the date passed in', () => {
    const { html, charts } = renderReport(data(), { generatedAt });
    expect(charts).toEqual([
      'npv-by-option',
      'cumulative-cash-flows',
      'book-vs-economic',
      'appreciation-by-year',
    ]);
    for (const id of charts) expect(html).toContain(`data-chart="${id}"`);
    expect(html).toContain('Generated 2026-01-02 03:04 UTC');
    expect(html).toContain('hybrid: own the base load, rent the rest');
    expect(html).toContain('fleet.pue');
    expect(html).toContain('Uptime Institute');
    expect(html).not.toContain('npv-distribution');
    // Same inputs, same page, bit for bit.
    expect(renderReport(data(), { generatedAt }).html).toBe(html);
  });

  it('is self-contained: no scripts, no external URLs, no stylesheet or font links', () => {
    const { html } = renderReport(data({ withSimulation: true }), { generatedAt });
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('draws the histogram and tornado from a simulation', () => {
    const simulation = syntheticSimulation();
    const { html, charts } = renderReport(data({ withSimulation: true }), { generatedAt });
    expect(charts).toContain('npv-distribution');
    expect(charts).toContain('tornado');
    const histogram = html.slice(
      html.indexOf('data-chart="npv-distribution"'),
      html.indexOf('data-chart="tornado"'),
    );
    expect(histogram.match(/<rect class="bar"/g)?.length).toBeGreaterThan(10);
    expect(histogram).toContain(`>Owning&#39;s NPV advantage (USD)</text>`);
    const tornado = html.slice(html.indexOf('data-chart="tornado"'));
    expect(tornado.match(/<rect class="bar"/g)).toHaveLength(2 * simulation.tornado.length);
    // Widest swing (rent.gpu_hour_usd, 1.8M) on top, narrowest (growth, 460k) at the bottom.
    expect(tornado.indexOf('rent.gpu_hour_usd')).toBeLessThan(tornado.indexOf('workload.growth_per_year'));
    expect(html).toContain('Wins in share of draws');
  });

  it('escapes the scenario path and every other piece of text', () => {
    const { html } = renderReport(data({ scenarioPath: 'evil/<script>alert(1)</script>.yaml' }), {
      generatedAt,
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
