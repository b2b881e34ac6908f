import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, scenarioFile } from '../../test-support.js';

const database = join(scenarioFile('placeholder'), '..', `gateway-${process.pid}.db`);
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

describe('gateway commands', () => {
  it('config check accepts a good file and names every bad field with exit code 2', async () => {
    const good = await runCli(['config', 'check', '--config', config]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('ok (1 model: local)');
    const bad = scenarioFile(
      [
        'auth: { master_key: sk-cli-test-master-key-0123 }',
        'models:',
        '  - name: a',
        '    provider: openai-compatible',
        '    base_url: ftp://127.0.0.1/v1',
        '    owned: true',
        '    fallbacks: [b]',
        '  - { name: b, provider: openai-compatible, base_url: "http://127.0.0.1:8001/v1", owned: true, fallbacks: [a] }',
        '',
      ].join('\n'),
    );
    const result = await runCli(['config', 'check', '--config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/models\.0\.base_url/);
    expect(result.stderr).toMatch(/a -> b -> a/);
    const typo = scenarioFile(
      'auth: { master_key: sk-cli-test-master-key-0123 }\nmodels:\n  - { name: a, provider: openai-compatible, base_url: "http://127.0.0.1:8000/v1", owned: true, timeout_msec: 5 }\n',
    );
    const typoResult = await runCli(['config', 'check', '--config', typo]);
    expect(typoResult.code).toBe(2);
    expect(typoResult.stderr).toMatch(
      /models\.0\.timeout_msec is not a known field: did you mean models\.0\.timeout_ms/,
    );
    expect(result.stderr).not.toMatch(/at \w+ \(/);
  });

  it('keys create shows a key once, stores only its hash, lists and revokes it', async () => {
    const created = await runCli([
      'keys',
      'create',
      '--name',
      'billing',
      '--models',
      'local',
      '--config',
      config,
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
    expect(key).toMatch(/^ak-[\w-]{40,}$/);
    const listed = await runCli(['keys', 'list', '--config', config, '--json']);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(key);
    const unknownModel = await runCli([
      'keys',
      'create',
      '--name',
      'x',
      '--models',
      'gpt-9',
      '--config',
      config,
    ]);
    expect(unknownModel.code).toBe(2);
    expect(unknownModel.stderr).toMatch(/--models names gpt-9, not configured here/);
    const revoked = await runCli(['keys', 'revoke', id, '--config', config]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await runCli(['keys', 'list', '--config', config])).stdout).toMatch(/revoked/);
  });

  it('ledger verify passes on an empty ledger and export refuses an unknown format', async () => {
    const verify = await runCli(['ledger', 'verify', '--config', config]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/ledger intact: 0 entries/);
    const exported = await runCli(['ledger', 'export', '--format', 'xml', '--config', config]);
    expect(exported.code).toBe(2);
    expect(exported.stderr).toMatch(/--format is "xml": expected jsonl or csv/);
  });
});
