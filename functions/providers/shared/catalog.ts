import type { Catalog } from '../../domain/catalog';
import type { ProviderName } from '../../domain/events';

/**
 * Whether a product of the catalog names this provider product id in its `match` list — not
 * merely reached through the catch-all `defaultProduct`.
 *
 * Providers use it to pick the most specific id the seller configured: a Hotmart plan
 * (`plan:460805`) or a Selldone variant (`1203:77`) when the catalog lists it, the plain product
 * id otherwise. The same function with the same catalog gives the same id for every event of an
 * order, so a later revoke names the product its grant named.
 */
export function catalogNames(catalog: Catalog, provider: ProviderName, providerProductId: string): boolean {
  return Object.values(catalog.products).some((product) => product.match[provider]?.includes(providerProductId) ?? false);
}
