'use strict';
/**
 * Runs a TypeScript entry of this project without a separate build step: bundles it with the
 * project's esbuild into `.build/` (node_modules stay external) when any source is newer than the
 * bundle, then requires it. Used by the CLI, `npm start`, the CDK app, the bench and the soak.
 */
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const SOURCES = ['bin', 'lib', 'functions', 'config', 'scripts', 'verifier'];

function newestSource(dir, newest = 0) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = newestSource(full, newest);
    else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * @param {string} entry the TypeScript entry, relative to the project root
 * @param {string} name the bundle's name in `.build/`
 * @param {{ sourcemap?: boolean }} [options] `sourcemap: false` for entries run often and briefly
 *   (the CLI): the inline map is most of the bundle, and reading it costs every run more than the
 *   command itself often does.
 */
function loadTs(entry, name, options = {}) {
  const outfile = path.join(root, '.build', `${name}.cjs`);
  let stale = true;
  try {
    const built = fs.statSync(outfile).mtimeMs;
    stale = SOURCES.some((dir) => fs.existsSync(path.join(root, dir)) && newestSource(path.join(root, dir)) > built);
  } catch {
    stale = true;
  }
  if (stale) {
    // Built beside the bundle and renamed over it: a process that starts while another one is
    // building (parallel CLI runs, tests) reads either the old bundle or the new one, never half.
    const partial = `${outfile}.${process.pid}.tmp`;
    require('esbuild').buildSync({
      entryPoints: [path.join(root, entry)],
      outfile: partial,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      sourcemap: options.sourcemap === false ? false : 'inline',
      logLevel: 'error',
    });
    fs.renameSync(partial, outfile);
  }
  return require(outfile);
}

module.exports = { loadTs, root };
