#!/usr/bin/env node
'use strict';
// Runs one of the project's TypeScript scripts (bundled by bin/build.cjs): node bin/run-script.cjs scripts/x.ts [args]
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: node bin/run-script.cjs <script.ts> [args]\n');
  process.exit(2);
}
process.argv.splice(2, 1);
require('./build.cjs').loadTs(entry, entry.replace(/[^A-Za-z0-9]+/g, '-'));
