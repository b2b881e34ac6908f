#!/usr/bin/env node
// The CLI is bundled by `npm run build` (run on install) so that a cold start loads one file.
const bundle = new URL('../dist/autocap.mjs', import.meta.url);
let cli;
try {
  cli = await import(bundle.href);
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stderr.write(
    'autocap is not built yet: run `npm install` (or `npm run build`) at the repository root.\n',
  );
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
