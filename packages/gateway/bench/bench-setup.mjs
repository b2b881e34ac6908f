// Before gateway-bench.mjs measures anything: prerequisites (with the exact way to get each), a
// fresh CLI build, Portkey's gateway in a git-ignored cache, and autocap's config file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, relative } from 'node:path';
import { hasCommand, log, shownUrl } from './bench-lib.mjs';

export class BenchError extends Error {}
export const PORTKEY_VERSION = '1.15.2';

/** Throws a BenchError listing every missing prerequisite with how to install it. */
export function checkPrerequisites({ shared, here, settings, notes }) {
  const missing = [];
  if (!hasCommand('wrk', ['-v']))
    missing.push('wrk (load generator): apt-get install -y wrk   (Debian package)');
  if (!hasCommand('taskset', ['-V'])) missing.push('taskset (CPU pinning): apt-get install -y util-linux');
  if (!existsSync('/proc/self/status')) missing.push('Linux /proc (CPU time and RSS are read from it)');
  for (const file of ['mock-upstream.mjs', 'wrk-post.lua', 'force-loopback.mjs', 'minimal-proxy.mjs']) {
    const path = join(shared, file);
    if (!existsSync(path)) missing.push(`${path} (the shared bench folder, ../shared/bench beside the repo)`);
  }
  if (missing.length) throw new BenchError(`missing prerequisites:\n  - ${missing.join('\n  - ')}`);
  const cpus = os.availableParallelism();
  if (cpus < 2 || settings.loadCpu === settings.gwCpu) {
    throw new BenchError(
      `needs 2 cores, load generator (LOAD_CPU=${settings.loadCpu}) and gateway (GW_CPU=${settings.gwCpu}) apart; this process may use ${cpus}`,
    );
  }
  const local = readFileSync(join(here, 'minimal-proxy.mjs'), 'utf8');
  if (!local.endsWith(readFileSync(join(shared, 'minimal-proxy.mjs'), 'utf8'))) {
    notes.push('minimal-proxy.mjs differs from ../shared/bench/minimal-proxy.mjs: copy the shared one again');
  }
  const fds = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout);
  const needed = 2 * settings.streams + 200;
  if (fds < needed) notes.push(`ulimit -n is ${fds}; ${settings.streams} streams need about ${needed}`);
}

/** Rebuilds the CLI bundle when it is missing or older than any source file it bundles. */
export function ensureBuilt(repoRoot) {
  const bundle = join(repoRoot, 'packages/cli/dist/autocap.mjs');
  let newest = 0;
  for (const pkg of ['econ', 'gateway', 'cli']) {
    const dir = join(repoRoot, 'packages', pkg, 'src');
    for (const file of readdirSync(dir, { recursive: true })) {
      if (!/\.(ts|json)$/.test(file) || file.endsWith('.test.ts')) continue;
      newest = Math.max(newest, statSync(join(dir, file)).mtimeMs);
    }
  }
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newest) return;
  log('building the CLI first (npm run build): packages/cli/dist is missing or older than the sources');
  const built = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit', timeout: 180_000 });
  if (built.status !== 0) throw new BenchError('npm run build failed: fix the build, then rerun');
}

/** Portkey's gateway from the npm registry into cacheDir; undefined (and a note) when it cannot be had. */
export function ensurePortkey({ cacheDir, repoRoot, notes }) {
  const entry = join(cacheDir, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  const manifest = join(cacheDir, 'node_modules/@portkey-ai/gateway/package.json');
  if (existsSync(entry) && JSON.parse(readFileSync(manifest, 'utf8')).version === PORTKEY_VERSION)
    return entry;
  mkdirSync(cacheDir, { recursive: true });
  // Its own package.json, so npm treats the cache as a project and never touches the workspace.
  const pkg = join(cacheDir, 'package.json');
  if (!existsSync(pkg)) writeFileSync(pkg, '{"name":"autocap-bench-cache","private":true}\n');
  const spec = `@portkey-ai/gateway@${PORTKEY_VERSION}`;
  const args = ['install', '--prefix', cacheDir, spec, '--no-audit', '--no-fund'];
  log(`installing Portkey once: npm ${args.join(' ').replace(cacheDir, relative(repoRoot, cacheDir))}`);
  const installed = spawnSync('npm', args, { encoding: 'utf8', timeout: 180_000 });
  if (installed.status === 0 && existsSync(entry)) return entry;
  const why = (installed.error?.message ?? installed.stderr ?? '').trim().split('\n').slice(-2).join(' ');
  notes.push(
    `Portkey ${PORTKEY_VERSION} could not be installed (${why || `exit ${installed.status}`}): measured without it`,
  );
  return undefined;
}

/** autocap.yaml for the bench: master key, SQLite in the scratch folder, one model on the mock. */
export function writeConfig(file, { port, mockPort, sqlite, postgresUrl, masterKey, maxConnections }) {
  const lines = [
    `server: {host: 127.0.0.1, port: ${port}}`,
    `auth: {master_key: "${masterKey}"}`,
    postgresUrl
      ? `store: {sqlite: "${sqlite}", postgres_url: "${postgresUrl}"}`
      : `store: {sqlite: "${sqlite}"}`,
    'logging: {level: warn}',
    'models:',
    '  - name: gpt-4o-mini',
    '    provider: openai-compatible',
    `    base_url: http://127.0.0.1:${mockPort}/v1`,
    '    upstream_model: gpt-4o-mini',
    '    price: {input_per_mtok_usd: 0.15, output_per_mtok_usd: 0.6}',
    ...(maxConnections ? [`    max_connections: ${maxConnections}`] : []),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** What a result is measured on: Node, wrk, CPU, kernel, load, and where each process is pinned. */
export function benchEnvironment({ loadCpu, gwCpu }) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    wrk: spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0],
    cpu: os.cpus()[0]?.model,
    nproc: os.cpus().length,
    kernel: os.release(),
    loadavg: os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
    pinning: `this script, wrk and the mocks on core ${loadCpu}; each gateway on core ${gwCpu}`,
  };
}

/**
 * STORE=postgres: a database of the run's own on POSTGRES_URL's server, so that every run starts
 * from empty tables (a ledger grown by earlier runs makes each append dearer) and leaves nothing
 * behind; `drop()` removes it.
 */
export async function scratchPostgresDatabase(url, name) {
  const pg = createRequire(new URL('../package.json', import.meta.url))('pg');
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (error) {
    throw new BenchError(
      `cannot create the scratch database ${name} at ${shownUrl(url)}: ${error.message} (set POSTGRES_URL)`,
    );
  }
  const scratch = new URL(url);
  scratch.pathname = `/${name}`;
  return { url: scratch.href, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
