import { resolve } from 'node:path';

/** The project root. The harness runs bundled as `.build/bench.cjs` (see run.cjs). */
export const ROOT = resolve(__dirname, '..');
export const BENCH_DIR = resolve(ROOT, 'scripts', 'bench');
