import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, scenarioFile } from '../../test-support.js';

const database = join(scenarioFile('placeholder'), '..', `governance-${process.pid}.db`);
const config = scenarioFile(
  [
    'auth:',
    '  master_key: sk-cli-test-master-key-0123',
    'store:',
    `  sqlite: ${database}`,
    'models:',
    '  - name: local',
    '    provider: openai-compatible',
    '    base_url: http://127.0.0.1:8000/v1',
    '    owned: true',
    '    price: { input_per_mtok_usd: 0.05, output_per_mtok_usd: 0.4 }',
    '',
  ].join('\n'),
);

describe('governance commands', () => {
  it('creates and lists teams with budgets, and refuses a duplicate name or a bad amount', async () => {
    const created = await runCli([
      'teams',
      'create',
      '--name',
      'research',
      '--budget-daily-usd',
      '50',
      '--rpm',
      '600',
      '--config',
      config,
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const { team } = JSON.parse(created.stdout) as { team: { id: string; limits: Record<string, unknown> } };
    expect(team.limits).toMatchObject({ budgetDailyUsd: 50, rpm: 600, tpm: null });
    const listed = await runCli(['teams', 'list', '--config', config]);
    expect(listed.stdout).toMatch(/research\s+day \$50\.00, rpm 600/);
    const duplicate = await runCli(['teams', 'create', '--name', 'research', '--config', config]);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toMatch(/a team named "research" already exists/);
    const bad = await runCli([
      'teams',
      'create',
      '--name',
      'x',
      '--budget-daily-usd',
      'lots',
      '--config',
      config,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--budget-daily-usd is "lots": expected an amount in US dollars/);
  });

  it('creates keys in a team with a role, budgets, limits and a data class', async () => {
    const created = await runCli([
      'keys',
      'create',
      '--name',
      'lead',
      '--team',
      'research',
      '--role',
      'team_admin',
      '--budget-monthly-usd',
      '20',
      '--max-concurrent',
      '4',
      '--data-class',
      'private',
      '--config',
      config,
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as Record<string, unknown>;
    expect(key).toMatchObject({
      role: 'team_admin',
      data_class: 'private',
      limits: { budgetMonthlyUsd: 20, maxConcurrent: 4 },
    });
    expect(String(key['team_id'])).toMatch(/^team_/);
    const listed = await runCli(['keys', 'list', '--team', 'research', '--config', config]);
    expect(listed.stdout).toMatch(/lead .*team_admin\s+month \$20\.00, concurrent 4 \(private\)/);
    for (const [flag, value, message] of [
      ['--role', 'owner', /--role is "owner": expected one of admin, team_admin, user/],
      ['--team', 'nobody', /--team is "nobody": no team has that id or name/],
      ['--data-class', 'secret', /--data-class is "secret": the only class is private/],
      ['--rpm', '1.5', /--rpm is "1.5": expected a whole number/],
    ] as const) {
      const refused = await runCli(['keys', 'create', '--name', 'x', flag, value, '--config', config]);
      expect(refused.code, flag).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
  });

  it('reports usage by every grouping, as a table and as JSON', async () => {
    for (const by of ['key', 'team', 'model', 'task', 'day']) {
      const result = await runCli(['usage', '--by', by, '--config', config, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ command: 'usage', by, rows: [] });
    }
    const table = await runCli(['usage', '--by', 'model', '--from', '2026-01-01', '--config', config]);
    expect(table.stdout).toMatch(/Model\s+Requests\s+Attempts\s+Input tokens\s+Output tokens\s+Cost \(USD\)/);
    const bad = await runCli(['usage', '--by', 'colour', '--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--by is "colour": expected one of key, team, model, task, day/);
    const badDate = await runCli(['usage', '--from', 'last week', '--config', config]);
    expect(badDate.stderr).toMatch(/--from is "last week"/);
  });
});
