import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PROJECT_CONFIG_PATH, readCatalogFile } from '../functions/config/loadCatalog';
import type { Catalog } from '../functions/domain/catalog';

/**
 * The shipped example catalog (config/keysmith.example.json) licenses ANY product id of every
 * provider as "Example App" and mails from licenses@example.com. Deployed by mistake, it hands
 * out licenses for whatever anyone sells through the same storefront account. Synth warns about
 * it, and so does `keysmith doctor`.
 */

/** The file a seller's catalog lives in at the project root, picked up by `cdk deploy`, `npm start` and the CLI. */
export const PROJECT_CONFIG_FILE = PROJECT_CONFIG_PATH;

/** Domains reserved for documentation (RFC 2606): nobody can receive or verify mail there. */
const EXAMPLE_DOMAIN = /(^|\.)example\.(com|org|net)$/i;

let example: Catalog | undefined;
function exampleCatalog(): Catalog | undefined {
  // lib/ and the bundled .build/ are both one level below the project root.
  const path = resolve(__dirname, '..', 'config', 'keysmith.example.json');
  if (!example && existsSync(path)) example = readCatalogFile(path);
  return example;
}

/**
 * Provider names in the products' `match` tables that are not registered providers: the domain
 * takes any well-formed provider name (functions/domain/events.ts), so a typo there would match
 * no order. Synth warns about them, and `keysmith doctor` fails them.
 */
export function unknownCatalogProviders(catalog: Catalog, registered: readonly string[]): string[] {
  const names = new Set(Object.values(catalog.products).flatMap((product) => Object.keys(product.match)));
  return [...names].filter((name) => !registered.includes(name)).sort();
}

/** Why this catalog must not be deployed as is, or undefined when it is a seller's own. */
export function exampleCatalogProblem(catalog: Catalog): string | undefined {
  const domain = catalog.sender.from.slice(catalog.sender.from.lastIndexOf('@') + 1);
  const catchAll = catalog.defaultProduct !== undefined ? `, and defaultProduct "${catalog.defaultProduct}" licenses ANY product id of every provider` : '';
  if (isDeepStrictEqual(catalog, exampleCatalog())) {
    return `this is the example catalog (config/keysmith.example.json): it mails from ${catalog.sender.from}${catchAll}. Write your own in ${PROJECT_CONFIG_FILE} (see README "Configuration")`;
  }
  if (EXAMPLE_DOMAIN.test(domain)) return `the catalog mails from ${catalog.sender.from}, a documentation domain nobody can verify or receive at${catchAll}`;
  return undefined;
}

/** `<root>/keysmith.config.json` when it exists. */
export function projectConfigPath(root: string): string | undefined {
  const path = join(root, PROJECT_CONFIG_FILE);
  return existsSync(path) ? path : undefined;
}
