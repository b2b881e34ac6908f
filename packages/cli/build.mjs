// Bundles the CLI into one ESM file so that a cold start reads a single module.
// `--bench` also bundles the engine benchmark.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url).pathname;
// From empty: chunks are named by content hash, and an earlier build's would stay beside the new.
rmSync(`${here}dist`, { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@autocap/source'],
  logLevel: 'warning',
  legalComments: 'none',
  // yaml ships CommonJS for Node; give its require() calls a real require.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
};

// The gateway loads on demand (a separate chunk), so engine commands start as fast as before.
// better-sqlite3 is a native addon: it is loaded from node_modules, not bundled.
await build({
  ...common,
  entryPoints: { autocap: `${here}src/main.ts` },
  outdir: `${here}dist`,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  external: ['better-sqlite3'],
});
if (process.argv.includes('--bench')) {
  await build({
    ...common,
    entryPoints: [`${here}../econ/bench/bench.ts`],
    outfile: `${here}../econ/dist/bench.mjs`,
  });
}
