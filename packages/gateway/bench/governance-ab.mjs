// `npm run bench:governance`: what budgets and limits cost, measured inside one gateway process.
// One autocap (pinned to core 1) serves three keys in turn: a key with a daily budget, an RPM and
// a TPM limit (high enough never to refuse), a plain virtual key, and the master key. The order
// alternates each rep; each run reports req/s and the gateway's CPU per request, and the summary
// gives the per-rep ratio governed / plain and its median. Comparing keys of one process, run
// back to back, cancels most of a shared machine's drift, which comparing separate processes
// (bench:gateway) does not.
//
// Env: REPS=8 DUR=3 CONNS=50 STORE=sqlite|postgres (POSTGRES_URL) LOAD_CPU=0 GW_CPU=1
// Exit code: 0 measured, 2 the bench could not run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cpuSeconds,
  fix,
  freePort,
  GOVERNED_KEY_FLAGS,
  log,
  median,
  Processes,
  postgresUrlSetting,
  runWrk,
  setting,
  table,
  waitHttp,
} from './bench-lib.mjs';
import { BenchError, ensureBuilt, scratchPostgresDatabase, writeConfig } from './bench-setup.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '../../..');
const shared = fileURLToPath(new URL('../../../../shared/bench/', import.meta.url));
const cli = join(repoRoot, 'packages/cli/bin/autocap.mjs');
const S = {
  reps: Number(setting('REPS', 8)),
  dur: Number(setting('DUR', 3)),
  conns: Number(setting('CONNS', 50)),
  loadCpu: setting('LOAD_CPU', 0),
  gwCpu: setting('GW_CPU', 1),
  postgresUrl: postgresUrlSetting(),
};
const MASTER_KEY = `bench-master-${Math.random().toString(36).slice(2)}-0123456789`;
const processes = new Processes({ pin: true });
const tmp = mkdtempSync(join(os.tmpdir(), 'autocap-governance-ab-'));

function createKey(configFile, name, flags) {
  const created = spawnSync(
    process.execPath,
    [cli, 'keys', 'create', '--name', name, ...flags, '--config', configFile, '--json'],
    { cwd: tmp, encoding: 'utf8', timeout: 60_000 },
  );
  if (created.status !== 0) throw new BenchError(`autocap keys create failed: ${created.stderr}`);
  return JSON.parse(created.stdout).key;
}

let scratchDatabase;

async function main() {
  ensureBuilt(repoRoot);
  if (S.postgresUrl) {
    scratchDatabase = await scratchPostgresDatabase(S.postgresUrl, `autocap_governance_ab_${process.pid}`);
    S.postgresUrl = scratchDatabase.url;
  }
  const mockPort = await freePort();
  const mock = processes.start(
    'mock',
    process.execPath,
    [join(shared, 'mock-upstream.mjs'), String(mockPort)],
    {
      cpu: S.loadCpu,
      logFile: join(tmp, 'mock.log'),
    },
  );
  await waitHttp(`http://127.0.0.1:${mockPort}/stats`, { processes, pid: mock.pid });
  const port = await freePort();
  const configFile = join(tmp, 'autocap.yaml');
  writeConfig(configFile, {
    port,
    mockPort,
    sqlite: join(tmp, 'autocap.db'),
    postgresUrl: S.postgresUrl,
    masterKey: MASTER_KEY,
  });
  const stamp = Date.now();
  const keys = {
    governed: createKey(configFile, `ab-governed-${stamp}`, GOVERNED_KEY_FLAGS),
    plain: createKey(configFile, `ab-plain-${stamp}`, []),
    master: MASTER_KEY,
  };
  const gateway = processes.start('autocap', process.execPath, [cli, 'serve', '--config', configFile], {
    cpu: S.gwCpu,
    logFile: join(tmp, 'autocap.log'),
  });
  await waitHttp(`http://127.0.0.1:${port}/healthz`, { processes, pid: gateway.pid });

  const url = `http://127.0.0.1:${port}/v1/chat/completions`;
  const lua = join(shared, 'wrk-post.lua');
  const measure = async (key, seconds) => {
    const before = cpuSeconds(gateway.pid);
    const result = await runWrk({
      url,
      conns: S.conns,
      seconds,
      extraHeaders: `Authorization: Bearer ${key}`,
      lua,
    });
    const cpuUs = ((cpuSeconds(gateway.pid) - before) * 1e6) / Math.max(1, result.requests);
    const failed =
      result.non2xx + result.err_connect + result.err_read + result.err_write + result.err_timeout;
    if (failed > 0) throw new BenchError(`${failed} requests failed: see ${join(tmp, 'autocap.log')}`);
    return { rps: result.rps, p50: result.p50_ms, cpuUs };
  };
  log(
    `== governance A/B: one gateway, ${S.reps} reps x ${S.dur} s at ${S.conns} connections, ${S.postgresUrl ? 'PostgreSQL' : 'SQLite'}`,
  );
  for (const key of Object.values(keys)) await measure(key, 1); // warm-up: JIT, leases, key caches
  const runs = { governed: [], plain: [], master: [] };
  const names = Object.keys(runs);
  for (let rep = 0; rep < S.reps; rep += 1) {
    const order = rep % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const run = await measure(keys[name], S.dur);
      runs[name].push(run);
      log(
        `  rep ${rep + 1}  ${name.padEnd(8)} ${fix(run.rps).padStart(6)} req/s  p50 ${fix(run.p50, 3)} ms  ${fix(run.cpuUs, 1)} us CPU/req`,
      );
    }
  }
  const ratios = (a, b) => runs[a].map((run, i) => run.rps / runs[b][i].rps);
  log('\nmedians (ratios taken per rep, then the median):');
  log(
    table([
      ['key', 'req/s', 'CPU us/req', 'p50 ms'],
      ...names.map((name) => [
        name,
        fix(median(runs[name].map((run) => run.rps))),
        fix(median(runs[name].map((run) => run.cpuUs)), 1),
        fix(median(runs[name].map((run) => run.p50)), 3),
      ]),
    ]),
  );
  log(
    `req/s governed / plain: ${fix(median(ratios('governed', 'plain')), 3)} (per rep: ${ratios(
      'governed',
      'plain',
    )
      .map((r) => fix(r, 2))
      .join(' ')})`,
  );
  log(`req/s governed / master: ${fix(median(ratios('governed', 'master')), 3)}`);
}

try {
  await main();
} catch (error) {
  log(`bench could not run: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
} finally {
  await processes.stopAll();
  rmSync(tmp, { recursive: true, force: true });
  await scratchDatabase
    ?.drop()
    .catch((error) => log(`could not drop the scratch database: ${error.message}`));
}
