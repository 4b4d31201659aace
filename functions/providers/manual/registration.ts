import type { ProviderRegistration } from '../types';

/**
 * `manual`: keysmith itself, for licenses the seller grants by hand (`keysmith grant`). No
 * webhooks — so no route, no ingress, no secret and no samples — and its product ids are the
 * catalog's own (functions/domain/catalog.ts). Registered so the CLI's `--provider manual`,
 * `licenses` and `deliveries` know the name like any other.
 */
export const manualRegistration: ProviderRegistration = {
  name: 'manual',
  title: 'Seller grants (keysmith grant)',
  routes: [],
  secrets: [],
};
