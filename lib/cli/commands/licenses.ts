import type { StoredEntitlement } from '../../../functions/aws/store';
import { type Entitlement, effectiveExpiry, effectiveStatus, type License } from '../../../functions/domain/entitlement';
import type { ProviderName } from '../../../functions/domain/events';
import { PROVIDER_NAMES } from '../../../functions/providers/registry';
import { CliError, EXIT, type Output, table } from '../output';
import type { Target } from '../target';

/** One license as support tools and scripts see it (the `--json` contract). */
export interface LicenseRow {
  licenseId: string;
  provider: ProviderName;
  /** The provider's order (or subscription) id. */
  order: string;
  scope: string;
  /** Customer-facing order reference, when the provider has one. */
  reference?: string;
  product: string;
  productName: string;
  /** The license text exactly as the customer receives it. */
  key: string;
  status: 'active' | 'suspended' | 'revoked' | 'expired';
  seats: number;
  issuedAt: string;
  expiresAt: string | null;
  customer: string;
  /** false for a provider test order: its licenses are TEST licenses (shown as such in text). */
  live: boolean;
}

export function licenseRow(state: Entitlement, license: License, now = new Date()): LicenseRow {
  return {
    licenseId: license.licenseId,
    provider: state.provider,
    order: state.orderId ?? state.scope,
    scope: state.scope,
    ...(state.reference ? { reference: state.reference } : {}),
    product: license.product,
    productName: license.productName,
    key: license.key,
    status: effectiveStatus(license, now, state),
    seats: license.seats,
    issuedAt: license.issuedAt,
    expiresAt: effectiveExpiry(license, state),
    customer: state.customer.email,
    live: state.live,
  };
}

export interface LicensesOptions {
  order?: string;
  email?: string;
  key?: string;
  provider?: string;
}

/** `keysmith licenses --order ID | --email E | --key K`. */
export async function licenses(options: LicensesOptions, target: () => Promise<Target>, out: Output): Promise<void> {
  const given = [options.order, options.email, options.key].filter((v) => v !== undefined);
  if (given.length !== 1) throw new CliError('give exactly one of --order ID, --email EMAIL, --key KEY', EXIT.usage);
  checkProvider(options.provider);
  const store = (await target()).store;
  const providers = (options.provider ? [options.provider] : PROVIDER_NAMES) as ProviderName[];
  let found: StoredEntitlement[] = [];
  let onlyLicense: string | undefined;
  if (options.order !== undefined) {
    for (const provider of providers) found.push(...(await store.findByOrder(provider, options.order)));
  } else if (options.email !== undefined) {
    found = (await store.findByEmail(options.email)).filter((e) => providers.includes(e.state.provider));
  } else {
    const ref = await store.findByKey(options.key!);
    if (ref) {
      const entitlement = await store.get(ref.provider, ref.scope);
      if (entitlement) found.push(entitlement);
      onlyLicense = ref.licenseId;
    }
  }
  const rows = found.flatMap(({ state }) => state.licenses.filter((l) => !onlyLicense || l.licenseId === onlyLicense).map((l) => licenseRow(state, l)));
  out.result(rows, () =>
    rows.length === 0
      ? 'no licenses found'
      : table([
          ['LICENSE', 'PROVIDER', 'ORDER', 'PRODUCT', 'STATUS', 'SEATS', 'EXPIRES', 'KEY'],
          ...rows.map((r) => [
            r.licenseId,
            r.provider,
            r.order,
            r.product,
            r.live ? r.status : `${r.status} TEST`,
            String(r.seats),
            r.expiresAt?.slice(0, 10) ?? 'never',
            r.key.length > 40 ? `${r.key.slice(0, 37)}...` : r.key,
          ]),
        ]),
  );
}

/** A `--provider` value, checked against the provider names. */
export function checkProvider(provider: string | undefined): ProviderName | undefined {
  if (provider !== undefined && !PROVIDER_NAMES.includes(provider)) {
    throw new CliError(`unknown provider "${provider}"; one of: ${PROVIDER_NAMES.join(', ')}`, EXIT.usage);
  }
  return provider as ProviderName | undefined;
}
