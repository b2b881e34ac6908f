import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from './commands/registry.js';
import { repoRoot, runCli, scenarioFile } from './test-support.js';

type JsonKey =
  | 'command'
  | 'total_cost_usd'
  | 'gpu_share_of_total'
  | 'decode_tokens_per_second_limit'
  | 'cost_per_mtok_floor_usd'
  | 'annual_decline'
  | 'gpu_capex_usd'
  | 'points'
  | 'capex_usd'
  | 'bandwidth_bytes_per_s';
const json = (stdout: string): Record<JsonKey, unknown> => JSON.parse(stdout) as Record<JsonKey, unknown>;

describe('autocap', () => {
  it('prints help listing every command with one line each', async () => {
    const { code, stdout } = await runCli([]);
    expect(code).toBe(0);
    for (const command of commands) expect(stdout).toMatch(new RegExp(`\\n  ${command.name} +\\S`));
  });

  it('describes each scenario field in a command help', async () => {
    const { code, stdout } = await runCli(['tco', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('fleet.count (required)');
    expect(stdout).toContain('a whole number (GPUs), at least 1');
  });

  it('runs every example in examples/ as a table and as one JSON object', async () => {
    const examples = readdirSync(join(repoRoot, 'examples')).filter((name) => name.endsWith('.yaml'));
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const name of examples) {
      const command = commands.find((entry) => name.startsWith(entry.name));
      expect(command, name).toBeDefined();
      const table = await runCli([command?.name ?? '', `examples/${name}`]);
      expect(table.code, `${name}: ${table.stderr}`).toBe(0);
      const machine = await runCli([command?.name ?? '', `examples/${name}`, '--json']);
      expect(json(machine.stdout).command).toBe(command?.name);
    }
  });

  it('reproduces the FACTS figures from the examples', async () => {
    const fleet = json((await runCli(['tco', 'examples/tco-100-h100-5y.yaml', '--json'])).stdout);
    expect(fleet.total_cost_usd).toBeCloseTo(8_580_788, 0);
    expect(fleet.gpu_share_of_total).toBeCloseTo(0.35, 2);
    const floor = json((await runCli(['roofline', 'examples/roofline-70b-fp8-h100.yaml', '--json'])).stdout);
    expect(floor.decode_tokens_per_second_limit).toBeCloseTo(47.9, 1);
    expect(floor.cost_per_mtok_floor_usd).toBeCloseTo(11.6, 1);
    const trend = json(
      (
        await runCli([
          'price-trend',
          'examples/price-trend-gpt4-class.yaml',
          '--set',
          'points=[{date: 2023-03, price_usd: 36}, {date: 2024-08, price_usd: 4}]',
          '--json',
        ])
      ).stdout,
    );
    expect(Math.round((trend.annual_decline as number) * 100)).toBe(79);
  });

  it('applies --set overrides with their YAML types, into nested fields and lists', async () => {
    const base = json((await runCli(['tco', 'examples/tco-100-h100-5y.yaml', '--json'])).stdout);
    const doubled = json(
      (await runCli(['tco', 'examples/tco-100-h100-5y.yaml', '--set', 'fleet.count=200', '--json'])).stdout,
    );
    expect(doubled.gpu_capex_usd).toBe(2 * (base.gpu_capex_usd as number));
    const repriced = json(
      (
        await runCli([
          'price-trend',
          'examples/price-trend-gpt4-class.yaml',
          '--set',
          'points.0.price_usd=72',
          '--json',
        ])
      ).stdout,
    );
    expect(repriced.points).toBe(3);
  });

  it('reads JSON scenarios too', async () => {
    const path = scenarioFile(JSON.stringify({ fleet: { gpu: 'h100-sxm', count: 8 } }), 'json');
    const result = await runCli(['tco', path, '--json']);
    expect(result.code).toBe(0);
    expect(json(result.stdout).capex_usd).toBeGreaterThan(0);
  });

  const refusals: [string, string, RegExp][] = [
    [
      'wrong type',
      'fleet: {gpu: h100-sxm, count: many}',
      /fleet\.count is "many": expected a whole number \(GPUs\)/,
    ],
    [
      'negative count',
      'fleet: {gpu: h100-sxm, count: -4}',
      /fleet\.count is -4: expected .*at least 1 \(example: fleet\.count: 64\)/,
    ],
    [
      'unknown GPU',
      'fleet: {gpu: h900, count: 4}',
      /fleet\.gpu names an unknown GPU "h900": use one of .*h100-sxm/,
    ],
    ['missing field', 'fleet: {gpu: h100-sxm}', /fleet\.count is missing: expected a whole number \(GPUs\)/],
    [
      'malformed YAML',
      'fleet: {gpu: h100-sxm, count: 4\nutilization: [',
      /malformed YAML at line \d+, column \d+/,
    ],
    [
      'misspelt field',
      'fleet: {gpu: h100-sxm, count: 4}\nutilisation: 0.5',
      /utilisation is not a known field: did you mean utilization\?/,
    ],
    ['duplicate key', 'fleet: {gpu: h100-sxm, count: 4}\nfleet: {count: 5}', /malformed YAML/],
  ];
  for (const [name, text, message] of refusals) {
    it(`refuses a scenario with a ${name}: exit 2, the field named, no stack trace`, async () => {
      const result = await runCli(['tco', scenarioFile(text)]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('refuses usage errors with exit 2', async () => {
    expect((await runCli(['nope'])).code).toBe(2);
    expect((await runCli(['tco'])).code).toBe(2);
    expect((await runCli(['tco', '/no/such/file.yaml'])).stderr).toMatch(
      /cannot read the scenario file \(no such file\)/,
    );
    expect((await runCli(['tco', 'examples/tco-100-h100-5y.yaml', '--set', 'fleet.count'])).code).toBe(2);
    expect((await runCli(['tco', 'examples/tco-100-h100-5y.yaml', '--set', '__proto__.x=1'])).code).toBe(2);
    expect((await runCli(['tco', '--bogus'])).code).toBe(2);
  });

  it('lists the catalog and one GPU with sources', async () => {
    const list = await runCli(['hardware']);
    for (const id of ['h100-sxm', 'h200', 'b200', 'a100-80gb', 'mi300x', 'l40s'])
      expect(list.stdout).toContain(id);
    const one = json((await runCli(['hardware', 'h100-sxm', '--json'])).stdout);
    expect(one.bandwidth_bytes_per_s).toBe(3.35e12);
    expect((await runCli(['hardware', 'h900'])).code).toBe(2);
  });

  it('as a process: exit code 2 and a one-paragraph message on stderr', () => {
    const bin = join(repoRoot, 'packages/cli/bin/autocap.mjs');
    const result = spawnSync(
      process.execPath,
      [bin, 'roofline', scenarioFile('model: {params_b: 70}\ngpu: h100-sxm\nbatch: 0')],
      {
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /batch is 0: expected a whole number \(concurrent sequences decoded together\), at least 1/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
