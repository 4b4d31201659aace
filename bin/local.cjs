#!/usr/bin/env node
'use strict';
// `npm start`: the local stack (lib/local/main.ts), bundled by bin/build.cjs and run.
process.setSourceMapsEnabled(true);
require('./build.cjs').loadTs('lib/local/main.ts', 'local');
