import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Catalog, parseCatalog } from '../domain/catalog';

/** Set by esbuild at synth time: the validated config, inlined into the Lambda bundle. */
declare const KEYSMITH_BUNDLED_CONFIG: string | undefined;

/** The example config shipped in the repo; used when `KEYSMITH_CONFIG` is unset and there is no `keysmith.config.json`. */
export const EXAMPLE_CONFIG_PATH = 'config/keysmith.example.json';

/** The seller's own catalog at the project root: what `cdk deploy`, `npm start` and the CLI use without `KEYSMITH_CONFIG`. */
export const PROJECT_CONFIG_PATH = 'keysmith.config.json';

/** `KEYSMITH_CONFIG`, else `keysmith.config.json` in the working directory if present, else the example. */
export function configPath(): string {
  if (process.env.KEYSMITH_CONFIG) return resolve(process.env.KEYSMITH_CONFIG);
  return resolve(existsSync(PROJECT_CONFIG_PATH) ? PROJECT_CONFIG_PATH : EXAMPLE_CONFIG_PATH);
}

/** Read and validate a config file; errors name the file and every problem in it. */
export function readCatalogFile(path: string): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read keysmith config ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`keysmith config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseCatalog(json);
}

let cached: Catalog | undefined;
/** The catalog for this process: the bundled one in Lambda, else the file. Validated once. */
export function loadCatalog(): Catalog {
  if (cached) return cached;
  cached = typeof KEYSMITH_BUNDLED_CONFIG === 'string' ? parseCatalog(JSON.parse(KEYSMITH_BUNDLED_CONFIG)) : readCatalogFile(configPath());
  return cached;
}

export function forgetCatalog(): void {
  cached = undefined;
}
