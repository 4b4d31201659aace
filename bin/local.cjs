#!/usr/bin/env node
'use strict';
// `npm start`: bundle the local stack (TypeScript) with esbuild, then run it. Dependencies stay
// in node_modules; only our own code is bundled.
const path = require('node:path');
const { buildSync } = require('esbuild');

const root = path.resolve(__dirname, '..');
const outfile = path.join(root, '.build', 'local.cjs');
buildSync({
  entryPoints: [path.join(root, 'lib', 'local', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
process.setSourceMapsEnabled(true);
require(outfile);
