import fc from 'fast-check';
import type { ApplyContext } from '../../functions/domain/entitlement';
import type { FulfillmentEvent, ProviderName } from '../../functions/domain/events';
import { licenseIdFor } from '../../functions/domain/licenses';
import { exampleCatalog, LICENSE_SECRET } from './fixtures';

/**
 * Random lifecycle sequences for property tests: every kind of storefront event, the seller's
 * operations and duplicates, as steps and as the canonical events they become.
 */

export type Step =
  | { kind: 'purchase' }
  | { kind: 'refund' }
  | { kind: 'partialRefund' }
  | { kind: 'disputeOpened' }
  | { kind: 'disputeWon' }
  | { kind: 'providerSuspend' }
  | { kind: 'providerReinstate' }
  | { kind: 'cancelAtPeriodEnd' }
  | { kind: 'renew' }
  | { kind: 'sellerSuspend'; unit: number }
  | { kind: 'sellerReinstate'; unit: number }
  | { kind: 'sellerRevoke'; unit: number }
  | { kind: 'note' }
  | { kind: 'duplicate'; of: number };

export const UNITS = 3;
export const SCOPE = 'order-prop';
export const PRODUCT = 'app';
export const ctx: ApplyContext = { catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: new Date('2026-06-01T00:00:00Z') };
export const ids = (provider: ProviderName) => Array.from({ length: UNITS }, (_, unit) => licenseIdFor({ provider, scope: SCOPE, providerProductId: PRODUCT, unit }));

// ---- the same steps as canonical events --------------------------------------------------

export function toEvent(provider: ProviderName, step: Exclude<Step, { kind: 'duplicate' }>, i: number): FulfillmentEvent {
  const base = {
    provider,
    eventId: `e-${i}`,
    occurredAt: new Date(Date.parse('2026-01-01T00:00:00Z') + i * 60_000).toISOString(),
    scope: SCOPE,
    live: true,
    customer: { email: 'prop@example.com' },
    items: [] as FulfillmentEvent['items'],
  };
  const seller = (unit: number) => ({ by: 'seller' as const, targets: [ids(provider)[unit]!], reason: `manual: ${step.kind}` });
  switch (step.kind) {
    case 'purchase':
      return { ...base, action: 'grant', reason: 'purchase', items: [{ productId: PRODUCT, quantity: UNITS }] };
    case 'refund':
      return { ...base, action: 'revoke', reason: 'refund' };
    case 'partialRefund':
      return { ...base, action: 'revoke', reason: 'return', items: [{ productId: PRODUCT, quantity: 1 }] };
    case 'disputeOpened':
      return { ...base, action: 'revoke', reason: 'dispute opened', reversible: true, hold: 'disputed' };
    case 'disputeWon':
      return { ...base, action: 'reinstate', reason: 'dispute won', hold: 'disputed' };
    case 'providerSuspend':
      return { ...base, action: 'suspend', reason: 'past due' };
    case 'providerReinstate':
      return { ...base, action: 'reinstate', reason: 'resumed' };
    case 'cancelAtPeriodEnd':
      return { ...base, action: 'revoke', reason: 'canceled', effectiveAt: '2026-05-01T00:00:00.000Z' };
    case 'renew':
      return { ...base, action: 'extend', reason: 'renewed', subscription: { id: 'sub-prop', periodEnd: '2027-01-01T00:00:00.000Z' } };
    case 'sellerSuspend':
      return { ...base, action: 'suspend', ...seller(step.unit) };
    case 'sellerReinstate':
      return { ...base, action: 'reinstate', ...seller(step.unit) };
    case 'sellerRevoke':
      return { ...base, action: 'revoke', ...seller(step.unit) };
    case 'note':
      return { ...base, action: 'record', reason: 'note' };
  }
}

const unit = fc.integer({ min: 0, max: UNITS - 1 });
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom<Step>(
    { kind: 'refund' },
    { kind: 'partialRefund' },
    { kind: 'disputeOpened' },
    { kind: 'disputeWon' },
    { kind: 'providerSuspend' },
    { kind: 'providerReinstate' },
    { kind: 'cancelAtPeriodEnd' },
    { kind: 'renew' },
    { kind: 'note' },
  ),
  unit.map((u): Step => ({ kind: 'sellerSuspend', unit: u })),
  unit.map((u): Step => ({ kind: 'sellerReinstate', unit: u })),
  unit.map((u): Step => ({ kind: 'sellerRevoke', unit: u })),
  fc.nat(40).map((of): Step => ({ kind: 'duplicate', of })),
);
