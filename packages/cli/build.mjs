// Bundles the CLI into one ESM file so that a cold start reads a single module.
// `--bench` also bundles the engine benchmark.
import { build } from 'esbuild';

const here = new URL('.', import.meta.url).pathname;
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

await build({ ...common, entryPoints: [`${here}src/main.ts`], outfile: `${here}dist/autocap.mjs` });
if (process.argv.includes('--bench')) {
  await build({
    ...common,
    entryPoints: [`${here}../econ/bench/bench.ts`],
    outfile: `${here}../econ/dist/bench.mjs`,
  });
}
