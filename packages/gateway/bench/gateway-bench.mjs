// `npm run bench:gateway`: autocap's gateway against references measured in the same run, each
// gateway pinned to one core. Targets: direct to the mock upstream (test ceiling), the minimal Node
// proxy (the floor for any Node gateway), Portkey's open-source gateway, and autocap with auth,
// routing, metering and the durable ledger on. Then 1,000 concurrent slow streams through autocap
// with its RSS sampled. Reuses ../shared/bench (mock-upstream.mjs, wrk-post.lua, force-loopback.mjs).
//
// Each rep runs every target once, in an order that puts each checked ratio's two targets side by
// side (minimal beside the virtual key, the master key beside minimal), reversed every other rep;
// the checks are ratios taken within each rep, then the median over reps (bench-report.mjs).
// Warm-up: WARM seconds for each target at the first connection count (autocap, pinned to one core,
// takes about 15 s of load to reach its steady CPU per request: V8 compiles on that core), 2 s at
// the next ones.
// Env: REPS=5 DUR=6 WARM=12 CONNS="50 1" LOAD_CPU=0 GW_CPU=1 PORTKEY=1 PROFILE=auto (auto: profile
//      autocap at the connection count whose target failed; 1: both; 0: never)
//      STREAMS=1000 STREAM_CHUNKS=100 STREAM_DELAY_MS=150 (15 s streams, 6,700 chunks/s in all: the
//      client and the mock share the load core, and at 20,000 chunks/s they fall behind by
//      themselves, direct to the mock; raise the rate to stress the gateway's per-chunk CPU)
//      QUIET_WAIT_S=20 (waits this long for other processes to leave the cores idle before starting)
//      NOISY_RETRIES=2 NOISY_BUDGET_S=30 (a measured run during which other processes used >= 0.1 of
//      a pinned core is repeated after waiting for quiet, at most this many times and within this
//      much extra time in all; a noisy run that is kept is flagged in the summary)
//      KEEP_TMP=1 keeps the scratch folder (configs, SQLite files, logs).
//      GOVERNED=1 gives the virtual key budgets and limits (high enough never to refuse), so that
//      every request reserves and settles its worst-case cost (issue 5's "budgets and limits on").
//      STORE=postgres keeps keys, budgets and the ledger in PostgreSQL (POSTGRES_URL, default
//      postgres://postgres@127.0.0.1:5432/test) instead of SQLite, in a database of the run's own (created on
//      that server, dropped at the end).
// Writes packages/gateway/bench/results/<timestamp>.json (git-ignored).
// Exit code: 0 every target met, 1 a target missed, 2 the bench could not run.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  coreBusySeconds,
  cpuSeconds,
  fix,
  freePort,
  GOVERNED_KEY_FLAGS,
  log,
  Processes,
  postgresUrlSetting,
  rssSampler,
  runWrk,
  setting,
  sleep,
  statusKb,
  waitHttp,
  waitQuiet,
} from './bench-lib.mjs';
import { summarizeProfile } from './bench-profile.mjs';
import { printProfile, report } from './bench-report.mjs';
import { mockServed, sanity, sanityAutocap } from './bench-sanity.mjs';
import {
  BenchError,
  benchEnvironment,
  checkPrerequisites,
  ensureBuilt,
  ensurePortkey,
  scratchPostgresDatabase,
  writeConfig,
} from './bench-setup.mjs';
import { streamsThroughFreshGateway } from './bench-streams.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '../../..');
const shared = fileURLToPath(new URL('../../../../shared/bench/', import.meta.url));
const cli = join(repoRoot, 'packages/cli/bin/autocap.mjs');
const lua = join(shared, 'wrk-post.lua');
const resultsDir = join(here, 'results');
const S = {
  reps: Number(setting('REPS', 5)),
  dur: Number(setting('DUR', 6)),
  warm: Number(setting('WARM', 12)),
  conns: setting('CONNS', '50 1').trim().split(/\s+/).map(Number),
  loadCpu: setting('LOAD_CPU', 0),
  gwCpu: setting('GW_CPU', 1),
  portkey: setting('PORTKEY', 1) !== '0',
  streams: Number(setting('STREAMS', 1000)),
  streamChunks: Number(setting('STREAM_CHUNKS', 100)),
  streamDelayMs: Number(setting('STREAM_DELAY_MS', 150)),
  profile: setting('PROFILE', 'auto'),
  quietWaitS: Number(setting('QUIET_WAIT_S', 20)),
  noisyRetries: Number(setting('NOISY_RETRIES', 2)),
  noisyBudgetS: Number(setting('NOISY_BUDGET_S', 30)),
  governed: setting('GOVERNED', 0) === '1',
  postgresUrl: postgresUrlSetting(),
};
/** Run order within a rep (reversed every other rep): each checked pair is adjacent. */
const RUN_ORDER = ['direct', 'portkey', 'autocap-master', 'minimal', 'autocap-vkey'];
/** Other processes' CPU on a pinned core at or above this (cores) makes a run noisy. */
const NOISY_CORES = 0.1;
const HIGH = Math.max(...S.conns);
const LOW = Math.min(...S.conns);
const MASTER_KEY = `bench-master-${Math.random().toString(36).slice(2)}-0123456789`;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const processes = new Processes({ pin: true });
const rows = [];
const notes = [];
let tmp;
/** STORE=postgres: the run's own database (bench-setup.mjs), dropped at the end unless KEEP_TMP=1. */
let scratchDatabase;

const autocapCli = (args) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });

/** Starts a Node service pinned to `cpu` and waits until it answers HTTP on `port`. */
async function startService(name, args, { cpu, env, port, path = '/', settleMs = 0 }) {
  const info = processes.start(name, process.execPath, args, { cpu, env, logFile: join(tmp, `${name}.log`) });
  await waitHttp(`http://127.0.0.1:${port}${path}`, { processes, pid: info.pid });
  await sleep(settleMs);
  return { ...info, port };
}

/** One wrk run against a target, with its CPU and RSS, and how busy other processes kept the cores. */
async function runOne(target, mock, conns, seconds, rep) {
  const before = {
    cpu: cpuSeconds(target.pid),
    mock: cpuSeconds(mock.pid),
    self: cpuSeconds(process.pid, { children: true }),
    gwCore: coreBusySeconds(S.gwCpu),
    loadCore: coreBusySeconds(S.loadCpu),
    served: await mockServed(mock.port),
  };
  const sampler = rssSampler(target.pid);
  const t0 = performance.now();
  const wrk = await runWrk({ url: target.url, conns, seconds, extraHeaders: target.extra, lua });
  const wall = (performance.now() - t0) / 1000;
  const rate = (now, key) => (now - before[key]) / wall;
  const cpu = rate(cpuSeconds(target.pid), 'cpu');
  const mockCpu = rate(cpuSeconds(mock.pid), 'mock');
  const selfCpu = rate(cpuSeconds(process.pid, { children: true }), 'self'); // this script + wrk
  const row = { target: target.name, conns, rep, ...wrk, cpu_cores: cpu, mock_cpu_cores: mockCpu };
  row.load_cpu_cores = selfCpu;
  row.rss_max_kb = sampler.stop();
  row.mock_served = (await mockServed(mock.port)) - before.served;
  row.errors = wrk.err_connect + wrk.err_read + wrk.err_write + wrk.err_timeout + wrk.non2xx;
  const onGwCore = target.name !== 'direct';
  row.gw_core_foreign_cores = rate(coreBusySeconds(S.gwCpu), 'gwCore') - (onGwCore ? cpu : 0);
  row.load_core_foreign_cores = rate(coreBusySeconds(S.loadCpu), 'loadCore') - mockCpu - selfCpu;
  target.upstreamCalls = (target.upstreamCalls ?? 0) + row.mock_served;
  row.noisy = noise(row) >= NOISY_CORES;
  const tag = rep === 'warm' ? 'warm-up' : `rep ${rep}`;
  log(
    `  ${tag.padEnd(7)} c=${String(conns).padEnd(3)} ${target.name.padEnd(14)} ${fix(wrk.rps).padStart(6)} req/s  p50 ${fix(wrk.p50_ms, 3)} ms  p99 ${fix(wrk.p99_ms, 3)} ms  cpu ${fix(cpu, 2)}  errors ${row.errors}  other load ${fix(row.gw_core_foreign_cores, 2)}/${fix(row.load_core_foreign_cores, 2)}${row.noisy ? ' NOISY' : ''}`,
  );
  return row;
}

/** Other processes' CPU on the cores a run uses (direct to the mock uses the load core only). */
const noise = (row) =>
  Math.max(row.target === 'direct' ? 0 : row.gw_core_foreign_cores, row.load_core_foreign_cores);

async function startTargets(portkeyEntry) {
  const mockPort = await freePort();
  const mockArgs = [join(shared, 'mock-upstream.mjs'), String(mockPort)];
  const mock = await startService('mock', mockArgs, { cpu: S.loadCpu, port: mockPort, path: '/health' });
  const mockUrl = `http://127.0.0.1:${mockPort}/v1`;
  const url = (port) => `http://127.0.0.1:${port}/v1/chat/completions`;
  const targets = [{ name: 'direct', url: `${mockUrl}/chat/completions`, extra: '', pid: mock.pid }];

  const minimalPort = await freePort();
  const minimal = await startService('minimal', [join(here, 'minimal-proxy.mjs'), String(minimalPort)], {
    cpu: S.gwCpu,
    port: minimalPort,
    env: { UPSTREAM: `http://127.0.0.1:${mockPort}` },
  });
  targets.push({ name: 'minimal', url: url(minimalPort), extra: '', pid: minimal.pid });

  if (portkeyEntry) {
    const port = await freePort();
    const args = ['--import', join(shared, 'force-loopback.mjs'), portkeyEntry, `--port=${port}`];
    // Portkey prints a 1 s start-up spinner after it listens: wait it out, as bench.sh does.
    const portkey = await startService('portkey', args, { cpu: S.gwCpu, port, settleMs: 1500 });
    const extra = `x-portkey-provider: openai|x-portkey-custom-host: ${mockUrl}`;
    targets.push({ name: 'portkey', url: url(port), extra, pid: portkey.pid });
  }

  const acPort = await freePort();
  const configFile = join(tmp, 'autocap.yaml');
  writeConfig(configFile, {
    port: acPort,
    mockPort,
    sqlite: join(tmp, 'autocap.db'),
    postgresUrl: S.postgresUrl,
    masterKey: MASTER_KEY,
  });
  const created = autocapCli([
    'keys',
    'create',
    '--name',
    `bench-${Date.now()}`,
    ...(S.governed ? GOVERNED_KEY_FLAGS : []),
    '--config',
    configFile,
    '--json',
  ]);
  if (created.status !== 0)
    throw new BenchError(`autocap keys create failed: ${created.stderr || created.stdout}`);
  const virtualKey = JSON.parse(created.stdout).key;
  const autocapArgs = [cli, 'serve', '--config', configFile];
  const autocap = await startService('autocap', autocapArgs, {
    cpu: S.gwCpu,
    port: acPort,
    path: '/healthz',
  });
  const vkey = {
    name: 'autocap-vkey',
    url: url(acPort),
    extra: `Authorization: Bearer ${virtualKey}`,
    pid: autocap.pid,
  };
  // The master-key path too, at the high connection count only (keeps the run short).
  const master = {
    ...vkey,
    name: 'autocap-master',
    extra: `Authorization: Bearer ${MASTER_KEY}`,
    only: HIGH,
  };
  targets.push(vkey, master);

  for (const target of targets) await sanity(target, mockPort);
  await sanityAutocap({ port: acPort, masterKey: MASTER_KEY, vkey });
  return { mock: { ...mock, port: mockPort }, targets, configFile, virtualKey };
}

/** STREAMS slow streams through a fresh autocap (bench-streams.mjs). */
const streamTest = () =>
  streamsThroughFreshGateway({
    settings: S,
    masterKey: MASTER_KEY,
    scratch: tmp,
    mockScript: join(shared, 'mock-upstream.mjs'),
    cli,
    startService,
    stop: (pid, ms) => processes.stop(pid, ms),
    autocapCli,
  });

/** A short wrk run at `conns` against autocap started with node --cpu-prof; top self-time functions. */
async function profileAutocap(configFile, virtualKey, conns) {
  const dir = join(resultsDir, `${stamp}-cpuprof-c${conns}`);
  const port = await freePort();
  const args = ['--cpu-prof', `--cpu-prof-dir=${dir}`, cli, 'serve', '--config', configFile];
  args.push('--port', String(port));
  const gw = await startService('autocap-profiled', args, { cpu: S.gwCpu, port, path: '/healthz' });
  const url = `http://127.0.0.1:${port}/v1/chat/completions`;
  const run = (seconds) =>
    runWrk({ url, conns, seconds, extraHeaders: `Authorization: Bearer ${virtualKey}`, lua });
  await run(2);
  const wrk = await run(6);
  const how = `${fix(wrk.rps)} req/s, p50 ${fix(wrk.p50_ms, 3)} ms, ${wrk.non2xx} non-2xx`;
  log(`profiled run at ${conns} connection(s): ${how} (the profiler's sampling slows it)`);
  await processes.stop(gw.pid, 20_000);
  const file = existsSync(dir) && readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file)
    return { conns, error: 'no .cpuprofile was written (the gateway did not exit cleanly on SIGTERM)' };
  return { conns, file: join(dir, file), ...summarizeProfile(join(dir, file), { repoRoot, top: 10 }) };
}

async function main() {
  if (process.argv.includes('--help')) {
    const header = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport')[0];
    log(header.replace(/^\/\/ ?/gm, ''));
    return 0;
  }
  checkPrerequisites({ shared, here, settings: S, notes });
  ensureBuilt(repoRoot);
  const portkeyEntry = S.portkey
    ? ensurePortkey({ cacheDir: join(here, '.cache'), repoRoot, notes })
    : undefined;
  if (!S.portkey) notes.push('PORTKEY=0: Portkey not measured');
  const env = benchEnvironment(S);
  // This process and what it spawns (wrk, the mocks) run on the load core; gateways on GW_CPU.
  execFileSync('taskset', ['-a', '-p', '-c', S.loadCpu, String(process.pid)], { stdio: 'ignore' });
  tmp = mkdtempSync(join(os.tmpdir(), 'autocap-bench-'));
  if (S.postgresUrl) {
    scratchDatabase = await scratchPostgresDatabase(S.postgresUrl, `autocap_bench_${process.pid}`);
    S.postgresUrl = scratchDatabase.url;
  }
  const idle = await waitQuiet([S.loadCpu, S.gwCpu], S.quietWaitS, NOISY_CORES);
  if (idle >= NOISY_CORES) notes.push(`the machine was not quiet at the start (${fix(idle, 2)} cores busy)`);
  log('== autocap gateway bench');
  for (const [key, value] of Object.entries(env)) log(`${key}: ${value}`);
  log(
    `${S.reps} reps x ${S.dur} s (warm-up ${S.warm} s) at ${S.conns.join(' and ')} connections; scratch ${tmp}`,
  );

  const { mock, targets, configFile, virtualKey } = await startTargets(portkeyEntry);
  const idleRssMb = Object.fromEntries(targets.map((target) => [target.name, statusKb(target.pid) / 1024]));
  let retryBudgetMs = S.noisyBudgetS * 1000; // time that repeating noisy runs may add, in all
  for (const conns of S.conns) {
    const active = targets
      .filter((target) => target.only === undefined || target.only === conns)
      .sort((a, b) => RUN_ORDER.indexOf(a.name) - RUN_ORDER.indexOf(b.name));
    const warm = conns === S.conns[0] ? S.warm : Math.min(S.warm, 2);
    log(
      `== ${conns} connection(s): warm-up ${warm} s each, then ${S.reps} reps of ${S.dur} s, order alternating`,
    );
    for (const target of active) await runOne(target, mock, conns, warm, 'warm');
    for (let rep = 1; rep <= S.reps; rep++) {
      for (const target of rep % 2 ? active : [...active].reverse()) {
        let row = await runOne(target, mock, conns, S.dur, rep);
        for (let retry = 1; row.noisy && retry <= S.noisyRetries && retryBudgetMs > 0; retry++) {
          const t0 = Date.now();
          await waitQuiet([S.loadCpu, S.gwCpu], Math.min(30, retryBudgetMs / 1000), NOISY_CORES);
          const again = await runOne(target, mock, conns, S.dur, rep);
          if (noise(again) < noise(row)) row = again; // keep the quieter of the two
          retryBudgetMs -= Date.now() - t0;
        }
        rows.push(row);
        await sleep(300);
      }
    }
  }
  // Free the gateway core; SIGTERM lets autocap drain and flush its ledger before it is verified.
  const gateways = new Set(targets.filter((t) => t.name !== 'direct').map((t) => t.pid));
  for (const pid of gateways) await processes.stop(pid, 15_000);
  const verified = autocapCli(['ledger', 'verify', '--config', configFile, '--json']);
  const ledger = { exitCode: verified.status, ...JSON.parse(verified.stdout || '{}') };
  ledger.upstreamCalls = targets
    .filter((t) => t.name.startsWith('autocap'))
    .reduce((n, t) => n + t.upstreamCalls, 0);

  const streams = await streamTest();
  const summary = report({ rows, env, high: HIGH, low: LOW, streams, ledger, idleRssMb, notes });
  summary.profiles = [];
  for (const conns of [HIGH, LOW]) {
    const failed = summary.checks.some((check) => check.profileAt === conns && check.pass === false);
    if (S.profile !== '1' && !(S.profile === 'auto' && failed)) continue;
    log(`\n== profile: autocap at ${conns} connection(s) (node --cpu-prof), top 10 functions by self time`);
    const profile = await profileAutocap(configFile, virtualKey, conns);
    printProfile(profile, profile.file && relative(process.cwd(), profile.file));
    summary.profiles.push(profile);
  }
  mkdirSync(resultsDir, { recursive: true });
  const out = join(resultsDir, `${stamp}.json`);
  writeFileSync(out, `${JSON.stringify({ env, settings: S, notes, summary, rows }, null, 2)}\n`);
  log(`\nresults: ${relative(process.cwd(), out)}`);
  return summary.checks.some((check) => check.pass === false) ? 1 : 0;
}

async function stopEverything(code) {
  await processes.stopAll();
  if (process.env.KEEP_TMP !== '1') {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    await scratchDatabase
      ?.drop()
      .catch((error) => log(`could not drop the scratch database: ${error.message}`));
  }
  process.exit(code);
}
process.on('exit', () => processes.killAllNow());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`\n${signal}: stopping the processes this run started`);
    void stopEverything(130);
  });
}
try {
  await stopEverything(await main());
} catch (error) {
  log(`\nbench:gateway could not finish: ${error instanceof BenchError ? error.message : error?.stack}`);
  if (tmp) log(`logs kept in ${tmp}`);
  await processes.stopAll();
  await scratchDatabase?.drop().catch(() => undefined);
  process.exit(2);
}
