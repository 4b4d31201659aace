import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The project root: the nearest folder up from here with a package.json. The harness runs bundled
 * as `.build/bench.cjs` (see run.cjs); the bundle-size tests import these modules from source.
 */
export const ROOT = projectRoot(__dirname);
export const BENCH_DIR = resolve(ROOT, 'scripts', 'bench');

function projectRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..');
  }
}
