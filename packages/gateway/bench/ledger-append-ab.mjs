// `npm run bench:ledger`: what moving a batch of ledger entries into PostgreSQL costs, the
// PostgreSQL server's CPU and this client's, per entry. Ours: COPY ... FROM STDIN fed with
// ledgerCopyText (src/store/postgres/postgres-rows.ts, bundled from source here). The reference:
// the INSERT ... SELECT FROM unnest($1::text[], ... one array per column) that node-postgres code
// usually writes for a batch, and that autocap used before; once as an unnamed statement (planned
// on every call, as the store ran it) and once prepared. Each transaction is the store's append:
// BEGIN, lock the chain head, the batch, move the head, COMMIT.
// The methods alternate within each rep (order reversed every other rep) on one connection and a
// fresh table; the summary gives per-rep ratios against ours, then their median.
//
// Env: REPS=5 TXS=200 WARM=20 BATCH=80 (entries a transaction: 20 ms of traffic at 4,000 req/s)
//      POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test; a scratch schema is made and dropped)
// Exit code: 0 measured, 2 the bench could not run.
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { fix, log, median, setting, shownUrl, table } from './bench-lib.mjs';

const S = {
  reps: Number(setting('REPS', 5)),
  txs: Number(setting('TXS', 200)),
  warm: Number(setting('WARM', 20)),
  batch: Number(setting('BATCH', 80)),
  postgresUrl: setting('POSTGRES_URL', 'postgres://postgres@127.0.0.1:5432/test'),
};
const require = createRequire(fileURLToPath(new URL('../package.json', import.meta.url)));
const pg = require('pg');
const { from: copyFrom } = require('pg-copy-streams');

/** ledgerCopyText, copyLedgerSql and the store's migrations, bundled from source. */
async function loadSource() {
  const contents =
    "export { copyLedgerSql, LEDGER_COLUMNS, ledgerCopyText } from './postgres-rows.ts';\n" +
    "export { applyPostgresMigrations } from './postgres-migrations.ts';\n";
  const resolveDir = fileURLToPath(new URL('../src/store/postgres/', import.meta.url));
  // Written beside the bench (in its git-ignored results folder) so that `pg` resolves as it does for the store.
  const out = fileURLToPath(new URL(`results/.ledger-source-${process.pid}.mjs`, import.meta.url));
  await build({
    stdin: { contents, resolveDir, loader: 'ts' },
    bundle: true,
    outfile: out,
    format: 'esm',
    platform: 'node',
    external: ['pg'],
    logLevel: 'error',
  });
  try {
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(out, { force: true });
  }
}

/** Entries shaped like the gateway bench's: a short chat answer with usage, chained. */
function entries(count, start) {
  return Array.from({ length: count }, (_, index) => {
    const seq = start + index + 1;
    const requestId = `01a243d5-4ad4-7ae3-848e-${String(seq).padStart(12, '0')}`;
    return {
      chainId: 'bench',
      seq,
      id: `${requestId}.1`,
      requestId,
      attempt: 1,
      startedAtMs: 1_796_434_381_524 + seq,
      keyId: 'key_8164ef989092c729',
      modelRequested: 'gpt-4o-mini',
      modelServed: 'gpt-4o-mini',
      provider: 'openai-compatible',
      owned: false,
      inputTokens: 12,
      cachedInputTokens: 0,
      outputTokens: 13,
      reasoningTokens: 0,
      estimated: false,
      costUsd: 9.6e-6,
      latencyMs: 1.25,
      ttftMs: null,
      status: 'ok',
      errorClass: null,
      upstreamStatus: 200,
      streamed: false,
      metadata: {},
      rawUsage: '{"prompt_tokens":12,"completion_tokens":13,"total_tokens":25}',
      prevHash: '57bd05dcc2af0e4c82feaf34bec92cf1301be86f9d635d7d90f851334b419a60',
      hash: 'd40ec999975c79e1da34a06da43eb9887812159d7fd2f18b6347145b10e44de2',
    };
  });
}

// The reference's column arrays, as autocap built them before COPY.
// biome-ignore format: one column list, read as a table
const TYPES = [
  'text', 'bigint', 'text', 'text', 'bigint', 'bigint', 'text', 'text', 'text', 'text', 'boolean',
  'bigint', 'bigint', 'bigint', 'bigint', 'boolean', 'float8', 'float8', 'float8', 'text', 'text',
  'bigint', 'boolean', 'text', 'text', 'text', 'text',
];
const FIELDS = [
  'chainId',
  'seq',
  'id',
  'requestId',
  'attempt',
  'startedAtMs',
  'keyId',
  'modelRequested',
  'modelServed',
  'provider',
  'owned',
  'inputTokens',
  'cachedInputTokens',
  'outputTokens',
  'reasoningTokens',
  'estimated',
  'costUsd',
  'latencyMs',
  'ttftMs',
  'status',
  'errorClass',
  'upstreamStatus',
  'streamed',
  'metadata',
  'rawUsage',
  'prevHash',
  'hash',
];

function columnArrays(batch) {
  const arrays = FIELDS.map(() => []);
  for (const entry of batch) {
    FIELDS.forEach((field, index) => {
      arrays[index].push(field === 'metadata' ? JSON.stringify(entry.metadata) : entry[field]);
    });
  }
  return arrays;
}

function methods(source, client, ledger, columns) {
  const insertSql = `INSERT INTO ${ledger} (${columns.join(', ')}) SELECT * FROM unnest(${TYPES.map((type, index) => `$${index + 1}::${type}[]`).join(', ')})`;
  return {
    copy: (batch) =>
      new Promise((resolve, reject) => {
        const stream = client.query(copyFrom(source.copyLedgerSql(ledger)));
        stream.on('error', reject);
        stream.on('finish', resolve);
        stream.end(source.ledgerCopyText(batch));
      }),
    'unnest, unnamed': (batch) => client.query(insertSql, columnArrays(batch)),
    'unnest, prepared': (batch) =>
      client.query({ name: `bench-unnest-${ledger}`, text: insertSql, values: columnArrays(batch) }),
  };
}

async function main() {
  const source = await loadSource();
  const client = new pg.Client({ connectionString: S.postgresUrl, application_name: 'autocap-bench-ledger' });
  await client.connect().catch((error) => {
    throw new Error(
      `cannot reach PostgreSQL at ${shownUrl(S.postgresUrl)}: ${error.message} (set POSTGRES_URL)`,
    );
  });
  const backendPid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const serverCpuUs = () => {
    // utime + stime of the backend serving this connection (PostgreSQL on this machine).
    const fields = readFileSync(`/proc/${backendPid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  };
  const pool = new pg.Pool({ connectionString: S.postgresUrl, max: 1 });
  const schemas = new Set();
  try {
    log(
      `== ledger append into PostgreSQL: ${S.reps} reps x ${S.txs} transactions of ${S.batch} entries per method`,
    );
    const results = [];
    for (let rep = 0; rep < S.reps; rep++) {
      const order = ['copy', 'unnest, unnamed', 'unnest, prepared'];
      if (rep % 2 === 1) order.reverse();
      for (const name of order) {
        // A fresh schema a run, made by the store's own migrations: every method starts from empty tables.
        const schema = `autocap_bench_ledger_${process.pid}_${rep}_${order.indexOf(name)}`;
        schemas.add(schema);
        await source.applyPostgresMigrations(await pool.connect(), { schema, now: Date.now });
        const ledger = `${schema}.ledger`;
        const heads = `${schema}.chain_heads`;
        await client.query(`INSERT INTO ${heads} (chain_id, seq, hash) VALUES ('bench', 0, '')`);
        const insert = methods(source, client, ledger, source.LEDGER_COLUMNS)[name];
        // The first WARM transactions are not measured (JIT, the table's first pages).
        let server0 = 0;
        let client0 = process.cpuUsage();
        let wall0 = 0;
        for (let tx = -S.warm; tx < S.txs; tx++) {
          if (tx === 0) {
            server0 = serverCpuUs();
            client0 = process.cpuUsage();
            wall0 = performance.now();
          }
          const batch = entries(S.batch, (tx + S.warm) * S.batch);
          await client.query('BEGIN');
          await client.query(`SELECT seq, hash FROM ${heads} WHERE chain_id = $1 FOR UPDATE`, ['bench']);
          await insert(batch);
          const last = batch[batch.length - 1];
          await client.query(`UPDATE ${heads} SET seq = $2, hash = $3 WHERE chain_id = $1`, [
            'bench',
            last.seq,
            last.hash,
          ]);
          await client.query('COMMIT');
        }
        const wallMs = performance.now() - wall0;
        const clientUs = process.cpuUsage(client0);
        const n = S.txs * S.batch;
        const stored = (S.txs + S.warm) * S.batch;
        const { rows: count } = await client.query(`SELECT count(*)::int AS n FROM ${ledger}`);
        if (count[0].n !== stored)
          throw new Error(`${name} stored ${count[0].n} entries, expected ${stored}`);
        const result = {
          rep: rep + 1,
          name,
          serverUs: (serverCpuUs() - server0) / n,
          clientUs: (clientUs.user + clientUs.system) / n,
          wallMsPerTx: wallMs / S.txs,
        };
        results.push(result);
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
        schemas.delete(schema);
        log(
          `  rep ${result.rep}  ${name.padEnd(16)}  server ${fix(result.serverUs, 1).padStart(5)} us/entry  client ${fix(result.clientUs, 1).padStart(5)} us/entry (entries built included)  ${fix(result.wallMsPerTx, 2)} ms/transaction`,
        );
      }
    }
    summarize(results);
  } finally {
    for (const schema of schemas)
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await client.end();
    await pool.end();
  }
}

function summarize(results) {
  const names = [...new Set(results.map((result) => result.name))];
  const ratio = (name, field) =>
    median(
      [...new Set(results.map((result) => result.rep))].map((rep) => {
        const at = (method) => results.find((result) => result.rep === rep && result.name === method)[field];
        return at(name) / at('copy');
      }),
    );
  log('== summary (medians; ratios are per rep, against copy, then the median)');
  log(
    table([
      ['method', 'server us/entry', 'client us/entry', 'ms/tx', 'server / copy', 'client / copy'],
      ...names.map((name) => {
        const mine = results.filter((result) => result.name === name);
        return [
          name,
          fix(median(mine.map((result) => result.serverUs)), 1),
          fix(median(mine.map((result) => result.clientUs)), 1),
          fix(median(mine.map((result) => result.wallMsPerTx)), 2),
          fix(ratio(name, 'serverUs'), 2),
          fix(ratio(name, 'clientUs'), 2),
        ];
      }),
    ]),
  );
}

main().catch((error) => {
  log(`bench could not run: ${error.message}`);
  process.exit(2);
});
