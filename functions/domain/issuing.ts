import { type Product, resolveProduct } from './catalog';
import type { AppliedEvent, ApplyContext, Entitlement, License } from './entitlement';
import type { FulfillmentEvent } from './events';
import { initialExpiry } from './expiry';
import { deriveKey, type LicenseUnit, licenseIdFor } from './licenses';
import { signLicense } from './signedLicense';

/**
 * Issuing licenses: which catalog product an item means, how many licenses its units become,
 * and the license text (a derived key or a signed token carrying the license's current terms).
 */

/**
 * Licenses one entitlement issues one by one; further units of a per-unit product are
 * consolidated into one license carrying their seats (the customer loses nothing). With the
 * bounds below, an entitlement item stays far below DynamoDB's 400 KB (docs/data-model.md).
 */
export const MAX_UNIT_LICENSES = 500;
/** The same for signed licenses, whose tokens (~0.5 KB each) live in the entitlement item too. */
export const MAX_SIGNED_UNIT_LICENSES = 100;

/** One item of an event, resolved to its catalog product. */
export interface Line {
  productId: string;
  product: Product;
  providerProductId: string;
  quantity: number;
}

/** The item's catalog product, or a recorded UNKNOWN_PRODUCT problem (a permanent failure). */
export function resolveLine(ctx: ApplyContext, event: FulfillmentEvent, item: FulfillmentEvent['items'][number], applied: AppliedEvent): Line | undefined {
  const resolved = resolveProduct(ctx.catalog, event.provider, item.productId);
  if (!resolved) {
    applied.problem = { code: 'UNKNOWN_PRODUCT', message: `no catalog product matches ${event.provider} product "${item.productId}"` };
    return undefined;
  }
  const terms = event.provider === 'manual' && event.by === 'seller' ? event.terms : undefined;
  if (!terms) return { productId: resolved.id, product: resolved.product, providerProductId: item.productId, quantity: item.quantity };
  // A seller's grant: one license, with the seats and days the seller gave (else the product's).
  const policy = resolved.product.license;
  const seats = terms.seats ?? (typeof policy.seats === 'number' ? policy.seats : 1);
  const license = { ...policy, perUnit: false, seats, ...(terms.days !== undefined ? { duration: { days: terms.days } } : {}) };
  return { productId: resolved.id, product: { ...resolved.product, license }, providerProductId: item.productId, quantity: 1 };
}

/** Issue the licenses for `line`'s units (their status is derived by the caller from the holds). */
export function issueUnits(state: Entitlement, event: FulfillmentEvent, ctx: ApplyContext, line: Line, applied: AppliedEvent): License[] {
  const { product, quantity, providerProductId } = line;
  const policy = product.license;
  const seats = policy.seats === 'quantity' ? (policy.perUnit ? 1 : quantity) : policy.seats;
  const created: License[] = [];
  const issue = (unitSeats: number): void => {
    const existing = state.licenses.filter((l) => l.providerProductId === providerProductId).length;
    const license = buildLicense(state, event, ctx, line, existing, unitSeats);
    state.licenses.push(license);
    created.push(license);
  };
  if (!policy.perUnit) {
    if (quantity > 0) issue(seats);
    return created;
  }
  const room = Math.max(
    0,
    Math.min(MAX_UNIT_LICENSES - state.licenses.length, policy.format === 'signed' ? MAX_SIGNED_UNIT_LICENSES - state.licenses.filter((l) => l.format === 'signed').length : Infinity),
  );
  const single = Math.min(quantity, room);
  for (let i = 0; i < single; i++) issue(seats);
  const rest = quantity - single;
  if (rest > 0) {
    issue(rest * seats);
    applied.problem = {
      code: 'UNITS_CONSOLIDATED',
      message: `${rest} units over the ${policy.format === 'signed' ? MAX_SIGNED_UNIT_LICENSES : MAX_UNIT_LICENSES}-license limit of one order were issued as one license with ${rest * seats} seats`,
    };
  }
  return created;
}

function buildLicense(state: Entitlement, event: FulfillmentEvent, ctx: ApplyContext, line: Line, unitIndex: number, seats: number): License {
  const { productId, product, providerProductId } = line;
  const unit: LicenseUnit = { provider: event.provider, scope: state.scope, providerProductId, unit: unitIndex };
  const issuedAt = event.occurredAt;
  const license: License = {
    licenseId: licenseIdFor(unit),
    product: productId,
    productName: product.name,
    providerProductId,
    unit: unitIndex,
    format: product.license.format,
    key: '',
    seats,
    status: 'active',
    issuedAt,
    expiresAt: initialExpiry(product, issuedAt, event.subscription?.periodEnd),
  };
  license.key = renderKey(license, state, ctx);
  return license;
}

/** The license text: a derived key, or a signed token carrying the license's current terms. */
export function renderKey(license: License, state: Pick<Entitlement, 'provider' | 'scope' | 'customer' | 'live'>, ctx: Pick<ApplyContext, 'licenseSecret' | 'signingKey'>): string {
  const unit: LicenseUnit = { provider: state.provider, scope: state.scope, providerProductId: license.providerProductId, unit: license.unit };
  if (license.format === 'key') return deriveKey(ctx.licenseSecret, unit);
  if (!ctx.signingKey) throw new Error('KEYSMITH_LICENSE_SIGNING_KEY is required for products with the signed format');
  return signLicense(ctx.signingKey, {
    licenseId: license.licenseId,
    product: license.product,
    seats: license.seats,
    customer: state.customer.email,
    issuedAt: license.issuedAt,
    expiresAt: license.expiresAt,
    ...(state.live ? {} : { test: true }),
  });
}
