import { type Entitlement, effectiveExpiry, type License } from './entitlement';
import type { LicenseStatus } from './holds';
import { keyHash } from './licenses';

/**
 * What the license API needs to answer for one license, without reading its order: the order
 * item is the truth, and this is a copy of one license's public terms, written by the worker
 * whenever they change (functions/worker/processEvent.ts) and read by the licensing function in
 * the same single Query as the license's activations (docs/license-api.md).
 *
 * Every field is a function of the order's state at version `v`; nothing depends on the clock
 * (`expired` is derived when the view is read), so two writers of the same version write the
 * same bytes, and a write conditioned on a newer `v` can never be undone by an older one.
 */
export interface LicenseView {
  licenseId: string;
  format: License['format'];
  product: string;
  productName: string;
  /** From the holds in force: `active`, `suspended` or `revoked`. */
  status: LicenseStatus;
  seats: number;
  issuedAt: string;
  /** When it stops being valid (its own expiry or a scheduled end); null = never. */
  expiresAt: string | null;
  /** Issued for a provider test order. */
  test: boolean;
  provider: string;
  /** The entitlement scope: the order (or subscription) id the license belongs to. */
  scope: string;
  orderId?: string;
  customerName?: string;
  customerEmail: string;
  /** The order item's version this view was taken from. */
  v: number;
}

export function licenseView(state: Entitlement, license: License): LicenseView {
  return {
    licenseId: license.licenseId,
    format: license.format,
    product: license.product,
    productName: license.productName,
    status: license.status,
    seats: license.seats,
    issuedAt: license.issuedAt,
    expiresAt: effectiveExpiry(license, state),
    test: !state.live,
    provider: state.provider,
    scope: state.scope,
    ...(state.orderId !== undefined ? { orderId: state.orderId } : {}),
    ...(state.customer.name ? { customerName: state.customer.name } : {}),
    customerEmail: state.customer.email,
    v: state.version,
  };
}

/** The part of a view that matters to an app; a change in anything else is not worth a write. */
function terms(view: LicenseView): string {
  const { v: _v, ...rest } = view;
  return JSON.stringify(rest);
}

/**
 * The views to write after `after` replaced `before`: those of licenses that are new or whose
 * terms changed. With `all`, every license's (a delivery that resumes after a crash cannot know
 * which views the crashed one had written).
 */
export function viewsToWrite(before: Entitlement | undefined, after: Entitlement, all = false): PlacedView[] {
  const old = new Map((before?.licenses ?? []).map((l) => [l.licenseId, before ? terms(licenseView(before, l)) : '']));
  const out: PlacedView[] = [];
  for (const license of after.licenses) {
    const view = licenseView(after, license);
    if (all || old.get(license.licenseId) !== terms(view)) out.push({ partition: apiPartition(license), view });
  }
  return out;
}

export interface PlacedView {
  partition: string;
  view: LicenseView;
}

/**
 * The partition that holds a license's view and activations. A `key` license is found by its
 * key, so they live beside its key lookup (`KEY#{sha256(key)}`): one Query answers a validate. A
 * `signed` license is re-signed on renewal, so no one token names it for good; the app's token,
 * once its signature checks out, names its license id, and they live beside the id lookup.
 */
export function apiPartition(license: Pick<License, 'format' | 'key' | 'licenseId'>): string {
  return license.format === 'signed' ? `LIC#${license.licenseId}` : `KEY#${keyHash(license.key)}`;
}
