#!/usr/bin/env node
'use strict';
// `npm run docs`: rewrites the registry tables in README.md and docs/security.md (scripts/docs/registryDocs.ts).
const { loadTs, root } = require('../../bin/build.cjs');
loadTs('scripts/docs/registryDocs.ts', 'docs').main(root);
