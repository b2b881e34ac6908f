// Helpers for gateway-bench.mjs and governance-ab.mjs: settings, child processes (pinned with taskset, killed by PID), /proc
// sampling, wrk runs and small statistics. Plain Node, no dependencies.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';

export const log = (line = '') => process.stdout.write(`${line}\n`);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bench setting from the environment, as text (`fallback` when unset). */
export const setting = (name, fallback) => process.env[name] ?? String(fallback);

/** STORE=postgres: the PostgreSQL URL the gateway stores in (POSTGRES_URL); else undefined (SQLite). */
export const postgresUrlSetting = () =>
  setting('STORE', 'sqlite') === 'postgres'
    ? setting('POSTGRES_URL', 'postgres://postgres@127.0.0.1:5432/test')
    : undefined;

/** A database URL for messages: its password (if any) masked. */
export function shownUrl(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return '(an unparseable URL)';
  }
}

/** Budgets and limits of a governed bench key: checked on each request, high enough never to refuse. */
export const GOVERNED_KEY_FLAGS = [
  '--budget-daily-usd',
  '1000000',
  '--rpm',
  '100000000',
  '--tpm',
  '100000000000',
];

/** True when `command args` can be run (exit code ignored: `wrk -v` exits 1). */
export function hasCommand(command, args = ['--version']) {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 5000 });
  return !result.error;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; we close and reuse it at once). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Every process this run started, so that exactly those are stopped: on success, on error, on
 * SIGINT/SIGTERM, and (last resort, synchronously) on exit.
 */
export class Processes {
  constructor({ pin }) {
    this.pin = pin;
    this.children = new Map(); // pid -> { name, child, exited }
  }

  /** Starts `command ...args` pinned to `cpu` (taskset -c), output to `logFile`. */
  start(name, command, args, { cpu, env, logFile }) {
    const fd = openSync(logFile, 'a');
    const [cmd, argv] =
      this.pin && cpu !== undefined ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
    const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const entry = { name, child, exited: false, logFile };
    entry.done = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.once('exit', () => {
      entry.exited = true;
    });
    this.children.set(child.pid, entry);
    return { name, pid: child.pid, logFile };
  }

  alive(pid) {
    const entry = this.children.get(pid);
    return entry !== undefined && !entry.exited;
  }

  /** SIGTERM, wait up to graceMs, then SIGKILL. Resolves with how it exited. */
  async stop(pid, graceMs = 3000) {
    const entry = this.children.get(pid);
    if (!entry) return undefined;
    if (!entry.exited) entry.child.kill('SIGTERM');
    const timer = sleep(graceMs).then(() => 'timeout');
    if ((await Promise.race([entry.done, timer])) === 'timeout' && !entry.exited) {
      entry.child.kill('SIGKILL');
    }
    const result = await entry.done;
    this.children.delete(pid);
    return result;
  }

  async stopAll() {
    await Promise.all([...this.children.keys()].map((pid) => this.stop(pid)));
  }

  /** Synchronous last resort for process.on('exit'). */
  killAllNow() {
    for (const entry of this.children.values()) if (!entry.exited) entry.child.kill('SIGKILL');
  }
}

/** Polls `url` until it answers at all (any status), or throws after timeoutMs. */
export async function waitHttp(url, { timeoutMs = 20_000, processes, pid } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processes && pid && !processes.alive(pid))
      throw new Error(`process ${pid} exited before ${url} answered`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(150);
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

/** One request with fetch; returns { status, text }. Bounded by timeoutMs. */
export async function request(url, { method = 'GET', headers = {}, body, timeoutMs = 10_000 } = {}) {
  const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, text: await response.text() };
}

/** "Name: value|Name2: value2" (wrk-post.lua's EXTRA_HEADERS format) as an object, names lower-cased. */
export function parseHeaders(extra) {
  const headers = {};
  for (const pair of extra.split('|')) {
    const match = /^\s*([^:]+):\s*(.*?)\s*$/.exec(pair);
    if (match) headers[match[1].toLowerCase()] = match[2];
  }
  return headers;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU seconds (user + system) the process has used so far; with children, also its reaped children's. */
export function cpuSeconds(pid, { children = false } = {}) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // utime, stime, cutime, cstime: fields 14-17 of proc(5), counted from 3 after the comm field.
    return (f[11] + f[12] + (children ? f[13] + f[14] : 0)) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Busy CPU seconds of one core so far (all processes on the machine), from /proc/stat. */
export function coreBusySeconds(cpu) {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((text) => text.startsWith(`cpu${cpu} `));
  if (!line) return Number.NaN;
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM), or NaN. */
export function statusKb(pid, field = 'VmRSS') {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples VmRSS of pid every intervalMs until stopped; returns { stop() -> maxKb }. */
export function rssSampler(pid, intervalMs = 250) {
  let max = statusKb(pid);
  const timer = setInterval(() => {
    const kb = statusKb(pid);
    if (kb > max || Number.isNaN(max)) max = kb;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const kb = statusKb(pid);
      return Math.max(max, Number.isNaN(kb) ? 0 : kb);
    },
  };
}

/** Runs wrk with the shared wrk-post.lua; resolves with its "JSON " line parsed (or throws). */
export function runWrk({ url, conns, seconds, extraHeaders, lua }) {
  const args = ['-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '5s', '-s', lua, url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, {
      env: { ...process.env, EXTRA_HEADERS: extraHeaders },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: (seconds + 15) * 1000,
      killSignal: 'SIGKILL',
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const line = out.split('\n').find((text) => text.startsWith('JSON '));
      if (!line) reject(new Error(`wrk gave no JSON line (code ${code}, signal ${signal}): ${out.trim()}`));
      else resolve(JSON.parse(line.slice(5)));
    });
  });
}

export function median(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Fixed-width text table; the first row is the header. Numbers align right, text left. */
export function table(rows) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => String(row[column]).length)));
  const numeric = (cell) => /^[-+]?[\d.,]+$|^n\/a$/.test(String(cell));
  const pad = (cell, width) => (numeric(cell) ? String(cell).padStart(width) : String(cell).padEnd(width));
  const line = (row) =>
    row
      .map((cell, column) => pad(cell, widths[column]))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

export const fix = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** Busy cores (all processes) summed over `cpus`, measured over `ms`. */
export async function busyCores(cpus, ms = 2000) {
  const total = () => cpus.reduce((sum, cpu) => sum + coreBusySeconds(cpu), 0);
  const before = total();
  await sleep(ms);
  return (total() - before) / (ms / 1000);
}

/** Waits (at most `seconds`) until all processes together leave `cpus` busy below `threshold` cores. */
export async function waitQuiet(cpus, seconds, threshold) {
  const deadline = Date.now() + seconds * 1000;
  let busy = await busyCores(cpus, 1000);
  if (busy >= threshold)
    log(`  waiting up to ${fix(seconds)} s for other processes to go quiet (${fix(busy, 2)} cores busy)`);
  while (busy >= threshold && Date.now() < deadline) busy = await busyCores(cpus, 2000);
  return busy;
}
