'use strict';
// cdk.json runs this: bin/app.ts (and the TypeScript it imports) bundled with the local esbuild,
// node_modules external. No ts-node, no Docker, no network.
process.setSourceMapsEnabled(true);
require('./build.cjs').loadTs('bin/app.ts', 'cdk-app');
