#!/usr/bin/env node
'use strict';
// `npm run soak`: bundles scripts/soak/main.ts with the project's esbuild (dependencies stay in
// node_modules) and runs it. Always rebuilt: it takes a fraction of a second.
const path = require('node:path');
const { buildSync } = require('esbuild');

const root = path.resolve(__dirname, '..', '..');
const outfile = path.join(root, '.build', 'soak.cjs');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The handlers log a JSON line per request; the soak counts error lines and drops the rest.
process.env.KEYSMITH_LOG_LEVEL ??= 'error';
buildSync({
  entryPoints: [path.join(root, 'scripts', 'soak', 'main.ts')],
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
require(outfile);
