#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: the TypeScript harness (scripts/bench/main.ts), bundled by bin/build.cjs and
 * run. Arguments pass through (`npm run bench -- --only cpu,cold --out /tmp/B.md`).
 */
process.setSourceMapsEnabled(true);
require('../../bin/build.cjs')
  .loadTs('scripts/bench/main.ts', 'bench')
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code ?? 0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
