#!/usr/bin/env node
'use strict';
// `npm run soak`: scripts/soak/main.ts, bundled by bin/build.cjs and run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The handlers log a JSON line per request; the soak counts error lines and drops the rest.
process.env.KEYSMITH_LOG_LEVEL ??= 'error';
process.setSourceMapsEnabled(true);
require('../../bin/build.cjs').loadTs('scripts/soak/main.ts', 'soak');
