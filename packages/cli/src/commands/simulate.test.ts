import type { SimulationSummary } from '@autocap/econ';
import { describe, expect, it } from 'vitest';
import { runCli, scenarioFile } from '../test-support.js';

const EXAMPLE = 'examples/simulate-rent-vs-own-70b.yaml';
const json = (text: string) => JSON.parse(text) as SimulationSummary & { command: string };

describe('autocap simulate', () => {
  it('prints one JSON object with percentiles, winner probabilities, tornado and standard errors', async () => {
    const result = await runCli(['simulate', EXAMPLE, '--draws', '2000', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const output = json(result.stdout);
    expect(output.command).toBe('simulate');
    expect(output.draws).toBe(2000);
    expect(output.seed).toBe(7); // from the file's simulate block
    const own = output.metrics['options.own.npv_cost_usd'];
    expect(own?.p5).toBeLessThanOrEqual(own?.p50 as number);
    expect(own?.p50).toBeLessThanOrEqual(own?.p95 as number);
    expect(own?.standard_error).toBeCloseTo((own?.sd as number) / Math.sqrt(2000), 6);
    const total = Object.values(output.winner_probability).reduce((sum, entry) => sum + entry.probability, 0);
    expect(total).toBeCloseTo(1, 12);
    const { tornado } = output;
    expect(tornado.rows).toHaveLength(5);
    expect(tornado.rows.map((row) => row.swing)).toEqual(
      [...tornado.rows.map((row) => row.swing)].sort((a, b) => b - a),
    );
  });

  it('gives the same numbers for the same seed and takes the command from the arguments too', async () => {
    const first = await runCli([
      'simulate',
      'rent-vs-own',
      EXAMPLE,
      '--draws',
      '500',
      '--seed',
      '3',
      '--json',
    ]);
    const second = await runCli(['simulate', EXAMPLE, '--draws', '500', '--seed', '3', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });

  it('takes a distribution from --set', async () => {
    const result = await runCli([
      'simulate',
      'tco',
      'examples/tco-100-h100-5y.yaml',
      '--set',
      'fleet.gpu_price_usd={dist: uniform, min: 25000, max: 35000}',
      '--draws',
      '1000',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const { metrics } = json(result.stdout);
    // GPU capex is 100 x price, and the price's median is $30,000 within sampling error.
    expect(metrics['gpu_capex_usd']?.p50).toBeGreaterThan(2.9e6);
    expect(metrics['gpu_capex_usd']?.p50).toBeLessThan(3.1e6);
  });

  it('refuses bad input with exit code 2 and a message naming the field', async () => {
    const cases: [string[], RegExp][] = [
      [['simulate', 'nonsense', EXAMPLE], /"nonsense" is not a command simulate can run/],
      [['simulate', 'examples/tco-100-h100-5y.yaml'], /does not say which command to simulate/],
      [['simulate', EXAMPLE, '--draws', 'many'], /--draws is "many": expected a whole number/],
      [['simulate', EXAMPLE, '--draws', '1'], /draws is 1: expected a whole number from 2/],
      [['simulate', EXAMPLE, '--metric', 'profit'], /metric is "profit": expected one of options\.rent/],
      [
        ['simulate', 'rent-vs-own', scenarioFile('simulate: {command: rent-vs-own, drawz: 5}\n')],
        /simulate\.drawz is not a known field/,
      ],
      [
        ['simulate', EXAMPLE, '--set', 'rent.gpu_hour_usd={dist: uniform, min: 3, max: 1}'],
        /rent\.gpu_hour_usd has min 3 not below max 1/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/at \w+ \(/); // no stack trace
    }
  });
});
