import type { Catalog } from '../../functions/domain/catalog';

/** The global that `functions/config/loadCatalog.ts` reads the inlined config from. */
export const BUNDLED_CONFIG_GLOBAL = 'KEYSMITH_BUNDLED_CONFIG';

/**
 * Linux refuses a single exec argument over 128 KiB (MAX_ARG_STRLEN), and the catalog travels to
 * esbuild as one `--define:` argument. Stay well below so a huge catalog fails synth with a clear
 * message instead of an `E2BIG` from deep inside bundling.
 */
export const MAX_BUNDLED_CONFIG_BYTES = 96 * 1024;

/**
 * The esbuild `define` that inlines the validated catalog as a JSON *string* literal, so the
 * bundle's `typeof KEYSMITH_BUNDLED_CONFIG === 'string'` and it is parsed (and re-validated) once
 * at cold start. aws-cdk-lib 2.276 spawns the local esbuild with an argument array (no shell) and
 * shell-escapes the Docker command, so `$`, quotes and backticks in product texts arrive intact;
 * `test/infra/bundledConfig.test.ts` bundles a catalog full of them to keep that true.
 */
export function bundledConfigDefine(catalog: Catalog): Record<string, string> {
  const literal = JSON.stringify(JSON.stringify(catalog));
  const bytes = Buffer.byteLength(literal);
  if (bytes > MAX_BUNDLED_CONFIG_BYTES) {
    throw new Error(`keysmith config is too large to inline into the Lambda bundles (${bytes} bytes, limit ${MAX_BUNDLED_CONFIG_BYTES}); shorten product texts or split the catalog`);
  }
  return { [BUNDLED_CONFIG_GLOBAL]: literal };
}
