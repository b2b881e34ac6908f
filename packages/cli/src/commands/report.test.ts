import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, scenarioFile } from '../test-support.js';

const example = 'examples/rent-vs-own-70b-chat.yaml';
const folder = mkdtempSync(join(tmpdir(), 'autocap-report-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('autocap report', () => {
  it('writes one HTML page and prints a summary line and the path', async () => {
    const out = join(folder, 'report.html');
    const result = await runCli(['report', example, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      `hybrid wins at $4.42M NPV of cost; owning vs rent: +$216,367; 4 charts\nWrote ${out}\n`,
    );
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('Should a company serving a 70B-class chat model buy 64 H100s or keep renting?');
  });

  it('simulates a scenario with distributions and adds the distribution and the tornado', async () => {
    const out = join(folder, 'simulated.html');
    const result = await runCli([
      'report',
      'examples/simulate-rent-vs-own-70b.yaml',
      '--draws',
      '500',
      '--out',
      out,
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { charts: string[] };
    expect(summary.charts).toEqual(expect.arrayContaining(['npv-distribution', 'tornado']));
    expect(summary.charts).toHaveLength(6);
    expect(readFileSync(out, 'utf8')).toContain('rent.gpu_hour_usd');
  });

  it('refuses to run without --out: exit 2 and a message naming --out', async () => {
    const result = await runCli(['report', example]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/--out <file\.html>/);
  });

  it('applies --set overrides and answers --json with one object', async () => {
    const out = join(folder, 'small.html');
    const result = await runCli(['report', example, '--set', 'fleet.count=32', '--out', out, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { command: string; out: string; charts: string[] };
    expect(summary.command).toBe('report');
    expect(summary.out).toBe(out);
    expect(summary.charts).toHaveLength(4);
    expect(readFileSync(out, 'utf8')).toContain('32 × NVIDIA H100');
  });

  it('refuses a bad scenario or an unwritable --out with exit 2 and no stack trace', async () => {
    const bad = await runCli([
      'report',
      scenarioFile('fleet: {gpu: h100-sxm, count: 4}'),
      '--out',
      join(folder, 'x.html'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/workload is missing/);
    const unwritable = await runCli(['report', example, '--out', join(folder, 'no/such/folder/x.html')]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/--out .*cannot write the report \(no such folder\)/);
    expect(unwritable.stderr).not.toMatch(/\n\s+at /);
  });
});
