// The summary gateway-bench.mjs prints: medians per target, the issue's ratios with PASS/FAIL,
// the streams test, the ledger checks, how quiet the machine was, and the profile if one was taken.
import { fix, log, median, table } from './bench-lib.mjs';

export const GOALS = { vsMinimal: 0.7, vsPortkey: 7, addedP50VsMinimal: 1.5, streamRssMb: 300 };

/** Medians over measured reps (warm-ups excluded) of one target at one connection count. */
export function stats(rows, name, conns) {
  const list = rows.filter((row) => row.target === name && row.conns === conns && row.rep !== 'warm');
  if (list.length === 0) return undefined;
  const m = (key) => median(list.map((row) => row[key]));
  return {
    n: list.length,
    rps: m('rps'),
    p50: m('p50_ms'),
    p90: m('p90_ms'),
    p99: m('p99_ms'),
    cpu: m('cpu_cores'),
    cpuUsPerReq: median(list.map((row) => (1e6 * row.cpu_cores) / row.rps)),
    rssMaxMb: Math.max(...list.map((row) => row.rss_max_kb)) / 1024,
    errors: list.reduce((sum, row) => sum + row.errors, 0),
    perRep: list.map((row) => fix(row.rps)).join(', '),
  };
}

/**
 * A ratio taken within each rep, then the median over reps: `value(rep)` computes it from that
 * rep's rows ({ name: row }); reps missing a target are skipped. Runs of one rep are adjacent in
 * time (gateway-bench.mjs orders them so), so a shared machine's drift, which moves every target
 * by up to 2x within minutes here, cancels out of each ratio instead of landing in one median.
 */
export function pairedRatio(rows, conns, names, value) {
  const reps = new Map();
  for (const row of rows) {
    if (row.conns !== conns || row.rep === 'warm' || !names.includes(row.target)) continue;
    if (!reps.has(row.rep)) reps.set(row.rep, {});
    reps.get(row.rep)[row.target] = row;
  }
  const perRep = [...reps.values()].filter((rep) => names.every((name) => rep[name])).map(value);
  return { median: perRep.length ? median(perRep) : Number.NaN, perRep };
}

function verdict(name, value, goal, atMost = false) {
  const pass = Number.isFinite(value) ? (atMost ? value <= goal : value >= goal) : undefined;
  const label = pass === undefined ? 'NOT MEASURED' : pass ? 'PASS' : 'FAIL';
  return { name, value, goal: `${atMost ? '<=' : '>='} ${goal}`, pass, label };
}

export function report({ rows, env, high, low, streams, ledger, idleRssMb, notes }) {
  const names = [...new Set(rows.map((row) => row.target))];
  const at = (name, conns, key) => stats(rows, name, conns)?.[key] ?? Number.NaN;
  const added = (name) => at(name, low, 'p50') - at('direct', low, 'p50');

  log(`\n== summary (medians over reps; ${env.nproc} cores, ${env.cpu}; node ${env.node})`);
  log(`${high} connections (throughput; CPU and RSS are the target process's, the mock's for direct):`);
  const highRows = names.map((name) => {
    const s = stats(rows, name, high);
    return (
      s && [
        name,
        s.n,
        fix(s.rps),
        s.perRep,
        fix(s.p50, 3),
        fix(s.p99, 3),
        fix(s.cpu, 2),
        fix(s.cpuUsPerReq),
        fix(s.rssMaxMb, 1),
        s.errors,
      ]
    );
  });
  const highHeader = [
    'target',
    'n',
    'req/s',
    'req/s per rep',
    'p50 ms',
    'p99 ms',
    'CPU cores',
    'CPU us/req',
    'RSS max MB',
    'errors',
  ];
  log(table([highHeader, ...highRows.filter(Boolean)]));
  log(`\n${low} connection (latency; added p50 = target p50 - direct p50):`);
  const lowRows = names.map((name) => {
    const s = stats(rows, name, low);
    return (
      s && [
        name,
        s.n,
        fix(s.p50, 3),
        fix(s.p90, 3),
        fix(s.p99, 3),
        fix(added(name), 3),
        fix(s.rps),
        fix(s.cpu, 2),
      ]
    );
  });
  const lowHeader = ['target', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'added p50 ms', 'req/s', 'CPU cores'];
  log(table([lowHeader, ...lowRows.filter(Boolean)]));
  const idle = Object.entries(idleRssMb).map(([name, mb]) => `${name} ${fix(mb, 1)}`);
  log(`RSS after start-up and one request (MB): ${idle.join(', ')}`);

  const measured = rows.filter((row) => row.rep !== 'warm');
  // Direct to the mock uses the load core only: others' work moved to the idle gateway core is harmless.
  const gatewayRows = measured.filter((row) => row.target !== 'direct');
  const noisyGw = Math.max(...gatewayRows.map((row) => row.gw_core_foreign_cores));
  const noisyLoad = Math.max(...measured.map((row) => row.load_core_foreign_cores));
  log(
    `machine quiet? other processes used at most ${fix(noisyGw, 2)} cores of the gateway core (gateway runs) and ${fix(noisyLoad, 2)} of the load core during a measured run`,
  );
  const noisy = measured.filter((row) => row.noisy);
  if (noisy.length > 0) {
    const which = noisy.map((row) => `${row.target} c=${row.conns} rep ${row.rep}`).join(', ');
    notes.push(
      `${noisy.length} measured run(s) kept although other processes were busy on a pinned core (${which}): rerun on a quiet machine before trusting them`,
    );
  }

  const s = streams;
  log(
    `\nstreams: ${s.firstChunks} of ${s.started} got a first chunk; peak ${s.peakOpen} open at once${Number.isFinite(s.allOpenAfterMs) ? ` (all open ${fix(s.allOpenAfterMs / 1000, 1)} s after the first was sent)` : ''}; ${s.completed} completed, ${s.withDone} with [DONE], ${s.non200} non-200, ${s.errors} errors${s.errorSamples.length ? ` (${s.errorSamples.join('; ')})` : ''}`,
  );
  log(
    `  autocap RSS: idle ${fix(s.rssIdleKb / 1024, 1)} MB, all open ${fix(s.rssAllOpenKb / 1024, 1)} MB, peak sampled ${fix(s.rssPeakKb / 1024, 1)} MB, VmHWM ${fix(s.rssHwmKb / 1024, 1)} MB; CPU ${fix(s.gatewayCpuCores, 2)} cores over ${fix(s.elapsedMs / 1000, 1)} s (streams paced for ${fix(s.nominalS, 1)} s), ${fix(s.cpuUsPerChunk)} us of gateway CPU per chunk; model max_connections ${s.maxConnections}`,
  );
  log(
    `ledger: throughput gateway ${ledger.entries ?? '?'} entries; upstream calls through it counted inside runs ${ledger.upstreamCalls} (requests in flight when a run ended are not counted) (verify exit ${ledger.exitCode}); streams gateway ${s.ledger.entries ?? '?'} entries (verify exit ${s.ledger.exitCode})`,
  );

  const rpsRatio = (a, b) => pairedRatio(rows, high, [a, b], (rep) => rep[a].rps / rep[b].rps);
  const addedRatio = (a, b) =>
    pairedRatio(
      rows,
      low,
      [a, b, 'direct'],
      (rep) => (rep[a].p50_ms - rep.direct.p50_ms) / (rep[b].p50_ms - rep.direct.p50_ms),
    );
  const ratios = {
    'req/s autocap / minimal proxy': rpsRatio('autocap-vkey', 'minimal'),
    'req/s autocap / Portkey': rpsRatio('autocap-vkey', 'portkey'),
    'added p50 at 1 conn, autocap / minimal': addedRatio('autocap-vkey', 'minimal'),
    'req/s autocap / minimal, master key': rpsRatio('autocap-master', 'minimal'),
  };
  const paired = (name) => ratios[name].median;
  const checks = [
    {
      ...verdict('req/s autocap / minimal proxy', paired('req/s autocap / minimal proxy'), GOALS.vsMinimal),
      profileAt: high,
    },
    {
      ...verdict('req/s autocap / Portkey', paired('req/s autocap / Portkey'), GOALS.vsPortkey),
      profileAt: high,
    },
    {
      ...verdict(
        'added p50 at 1 conn, autocap / minimal',
        paired('added p50 at 1 conn, autocap / minimal'),
        GOALS.addedP50VsMinimal,
        true,
      ),
      profileAt: low,
    },
    verdict(`peak RSS with the streams open (MB)`, s.rssPeakKb / 1024, GOALS.streamRssMb, true),
    verdict('streams open at once', s.peakOpen, s.started),
    verdict('streams completed with [DONE]', s.withDone, s.started),
    verdict('ledger verify exit code, throughput gateway', ledger.exitCode, 0, true),
    verdict('ledger verify exit code, streams gateway', s.ledger.exitCode, 0, true),
  ];
  const info = {
    'req/s autocap / minimal, master key': paired('req/s autocap / minimal, master key'),
    // The same ratios as medians taken per target first (how runs before 2026-12 reported them).
    'req/s autocap / minimal, ratio of medians': at('autocap-vkey', high, 'rps') / at('minimal', high, 'rps'),
    'added p50 at 1 conn, autocap / minimal, ratio of medians': added('autocap-vkey') / added('minimal'),
    'req/s minimal / direct': at('minimal', high, 'rps') / at('direct', high, 'rps'),
    // CPU time per request is what throughput on one saturated core follows, and other processes
    // slowing the load generator do not change it: a cross-check of the req/s ratios on a busy machine.
    'CPU per request, minimal / autocap (as the req/s ratio)':
      at('minimal', high, 'cpuUsPerReq') / at('autocap-vkey', high, 'cpuUsPerReq'),
    'CPU per request, Portkey / autocap (as the req/s ratio)':
      at('portkey', high, 'cpuUsPerReq') / at('autocap-vkey', high, 'cpuUsPerReq'),
    'added p50 ms at 1 conn: minimal': added('minimal'),
    'added p50 ms at 1 conn: Portkey': added('portkey'),
    'added p50 ms at 1 conn: autocap': added('autocap-vkey'),
  };
  log(`\n== targets (autocap with a virtual key, auth + routing + metering + durable ledger on)`);
  log('ratios are taken within each rep (adjacent runs), then the median over reps');
  log(
    table([
      ['check', 'value', 'goal', 'result', 'per rep'],
      ...checks.map((c) => [
        c.name,
        fix(c.value, 2),
        c.goal,
        c.label,
        (ratios[c.name]?.perRep ?? []).map((r) => fix(r, 2)).join(' '),
      ]),
    ]),
  );
  for (const [name, value] of Object.entries(info))
    log(`  ${name}: ${fix(value, name.includes('ms') ? 3 : 2)}`);
  for (const note of notes) log(`NOTE: ${note}`);
  const medians = Object.fromEntries(
    names.map((name) => [name, { [high]: stats(rows, name, high), [low]: stats(rows, name, low) }]),
  );
  return {
    medians,
    ratios,
    checks,
    info,
    idleRssMb,
    ledger,
    streams,
    quiet: { gwCore: noisyGw, loadCore: noisyLoad },
  };
}

export function printProfile(profile, where) {
  if (profile.error) {
    log(`profile: ${profile.error}`);
    return;
  }
  log(`${where} (${fix(profile.totalMs)} ms of non-idle samples, start-up included)`);
  const header = ['self %', 'self ms', 'function', 'where (source)', 'bundle location'];
  log(
    table([
      header,
      ...profile.top.map((r) => [fix(r.pct, 1), fix(r.selfMs), r.name, r.where, r.bundle ?? '']),
    ]),
  );
  log('\ninclusive time (self + callees) of autocap functions:');
  const inclusive = profile.inclusive.map((r) => [fix(r.pct, 1), fix(r.totalMs), r.name, r.where]);
  log(table([['total %', 'total ms', 'function', 'where (source)'], ...inclusive]));
  log('\nself time by source file:');
  const files = profile.byFile.map((r) => [fix(r.pct, 1), fix(r.selfMs), r.file]);
  log(table([['self %', 'self ms', 'file'], ...files]));
}
