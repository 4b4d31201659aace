#!/usr/bin/env node
'use strict';
// The SDK's notice about Node 20 is for the maintainers, not for someone running a command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// No inline source map: it would triple the bundle every run reads (~80 ms measured); CLI errors
// are one-line messages, not stack traces.
require('./build.cjs').loadTs('lib/cli/main.ts', 'keysmith', { sourcemap: false }).run();
