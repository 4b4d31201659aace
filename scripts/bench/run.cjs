#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: bundles the TypeScript harness (scripts/bench/main.ts) with the project's
 * esbuild into `.build/bench.cjs` — dependencies stay in node_modules, like bin/build.cjs — and
 * runs it. Arguments pass through (`npm run bench -- --only cpu,cold --out /tmp/B.md`).
 */
const path = require('node:path');
const { buildSync } = require('esbuild');

const root = path.resolve(__dirname, '..', '..');
const outfile = path.join(root, '.build', 'bench.cjs');
buildSync({
  entryPoints: [path.join(__dirname, 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
process.setSourceMapsEnabled(true);
require(outfile)
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code ?? 0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
