import { type AppliedEvent, type ApplyContext, apply, type Entitlement, effectiveStatus } from '../../../functions/domain/entitlement';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';

/**
 * One test per rule of the holds table (functions/domain/holds.ts): each hold is set by its own
 * kind of event and lifted only by its own kind.
 */

const ctx: ApplyContext = { catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: new Date('2026-02-01T00:00:00Z') };
let n = 0;
const ev = (over: Partial<FulfillmentEvent>): FulfillmentEvent => grantEvent({ eventId: `h-${++n}`, items: [], ...over });

const purchase = () => ev({ action: 'grant', reason: 'order.completed', items: [{ productId: 'app', quantity: 2 }] });
const refund = () => ev({ action: 'revoke', reason: 'order.refunded' });
const disputeOpened = () => ev({ provider: 'paddle', action: 'revoke', reason: 'payment_dispute_created', reversible: true, hold: 'disputed' });
const disputeWon = () => ev({ provider: 'paddle', action: 'reinstate', reason: 'payment_dispute_closed', hold: 'disputed' });
const providerSuspend = () => ev({ action: 'suspend', reason: 'subscription.payment.failed' });
const providerReinstate = () => ev({ action: 'reinstate', reason: 'subscription.uncanceled' });
const cancelAtPeriodEnd = () => ev({ action: 'revoke', reason: 'subscription.canceled', occurredAt: '2026-01-20T00:00:00.000Z', effectiveAt: '2026-03-01T00:00:00.000Z' });
const renewal = () => ev({ action: 'extend', reason: 'subscription.charge.completed', subscription: { id: 'sub-1', periodEnd: '2026-04-01T00:00:00.000Z' } });
const seller = (action: 'revoke' | 'suspend' | 'reinstate', targets?: string[]) => ev({ action, reason: `manual: ${action}`, by: 'seller', ...(targets ? { targets } : {}) });

function run(events: FulfillmentEvent[]): { state: Entitlement; last: AppliedEvent } {
  let state: Entitlement | undefined;
  let last: AppliedEvent | undefined;
  for (const event of events) {
    const result = apply(state, { ...event, provider: 'fastspring' }, ctx);
    state = result.state;
    last = result.applied;
  }
  return { state: state!, last: last! };
}
const statuses = (state: Entitlement) => state.licenses.map((l) => l.status);

describe('holds: a refund, chargeback, return or unsubscribe is final', () => {
  it.each([
    ['a provider reinstate', providerReinstate],
    ['a dispute won', disputeWon],
    ['the seller reinstating', () => seller('reinstate')],
  ])('%s does not lift it', (_name, lifter) => {
    const { state, last } = run([purchase(), refund(), lifter()]);
    expect(statuses(state)).toEqual(['revoked', 'revoked']);
    expect(last.changes?.every((c) => c.what === 'no change')).toBe(true);
  });
});

describe('holds: a dispute', () => {
  it('suspends, and the dispute closed in the seller\u2019s favour lifts it', () => {
    expect(statuses(run([purchase(), disputeOpened()]).state)).toEqual(['suspended', 'suspended']);
    expect(statuses(run([purchase(), disputeOpened(), disputeWon()]).state)).toEqual(['active', 'active']);
  });

  it('is not lifted by another provider reinstate nor by the seller', () => {
    expect(statuses(run([purchase(), disputeOpened(), providerReinstate()]).state)).toEqual(['suspended', 'suspended']);
    expect(statuses(run([purchase(), disputeOpened(), seller('reinstate')]).state)).toEqual(['suspended', 'suspended']);
  });

  it('dispute → refund → dispute won: revoked (a won dispute never undoes a refund)', () => {
    expect(statuses(run([purchase(), disputeOpened(), refund(), disputeWon()]).state)).toEqual(['revoked', 'revoked']);
  });

  it('dispute → seller revoke → dispute won: revoked', () => {
    const granted = run([purchase()]).state;
    const id = granted.licenses[0]!.licenseId;
    const { state } = run([purchase(), disputeOpened(), seller('revoke', [id]), disputeWon()].map((e, i) => (i === 0 ? { ...e, eventId: granted.pending[0]!.eventId } : e)));
    expect(statuses(state)).toEqual(['revoked', 'active']);
  });

  it('dispute → dispute won → refund: revoked', () => {
    expect(statuses(run([purchase(), disputeOpened(), disputeWon(), refund()]).state)).toEqual(['revoked', 'revoked']);
  });
});

describe('holds: a provider suspension', () => {
  it('is lifted by the provider reinstating', () => {
    expect(statuses(run([purchase(), providerSuspend()]).state)).toEqual(['suspended', 'suspended']);
    expect(statuses(run([purchase(), providerSuspend(), providerReinstate()]).state)).toEqual(['active', 'active']);
  });

  it('is not lifted by the seller reinstating', () => {
    expect(statuses(run([purchase(), providerSuspend(), seller('reinstate')]).state)).toEqual(['suspended', 'suspended']);
  });
});

describe('holds: the seller\u2019s suspension', () => {
  it('is lifted only by the seller reinstating', () => {
    const granted = run([purchase()]).state;
    const id = granted.licenses[0]!.licenseId;
    const first = { ...purchase(), eventId: granted.pending[0]!.eventId };
    expect(statuses(run([first, seller('suspend', [id])]).state)).toEqual(['suspended', 'active']);
    expect(statuses(run([first, seller('suspend', [id]), seller('reinstate', [id])]).state)).toEqual(['active', 'active']);
  });

  it('survives the customer cancelling and un-cancelling the subscription', () => {
    const granted = run([purchase()]).state;
    const id = granted.licenses[0]!.licenseId;
    const first = { ...purchase(), eventId: granted.pending[0]!.eventId };
    const { state } = run([first, seller('suspend', [id]), cancelAtPeriodEnd(), providerReinstate()]);
    expect(statuses(state)).toEqual(['suspended', 'active']);
    expect(state.licenses[0]!.holds).toMatchObject([{ kind: 'seller-suspended' }]);
  });
});

describe('holds: the seller\u2019s revocation', () => {
  it('is final', () => {
    const { state } = run([purchase(), seller('revoke'), seller('reinstate'), providerReinstate(), disputeWon()]);
    expect(statuses(state)).toEqual(['revoked', 'revoked']);
  });
});

describe('holds: a cancellation at the end of the period', () => {
  it('keeps the license valid until then, expired after', () => {
    const { state } = run([purchase(), cancelAtPeriodEnd()]);
    expect(statuses(state)).toEqual(['active', 'active']);
    expect(effectiveStatus(state.licenses[0]!, new Date('2026-02-15T00:00:00Z'), state)).toBe('active');
    expect(effectiveStatus(state.licenses[0]!, new Date('2026-03-02T00:00:00Z'), state)).toBe('expired');
  });

  it('is lifted by an un-cancel and by a renewal', () => {
    for (const lifter of [providerReinstate, renewal]) {
      const { state } = run([purchase(), cancelAtPeriodEnd(), lifter()]);
      expect(state.holds).toEqual([]);
      expect(effectiveStatus(state.licenses[0]!, new Date('2026-03-02T00:00:00Z'), state)).toBe('active');
    }
  });
});

describe('holds: bookkeeping', () => {
  it('a reinstatement that lifts nothing is recorded as "no change"', () => {
    const { last } = run([purchase(), providerReinstate()]);
    expect(last.changes).toEqual([{ licenses: 'all', what: 'no change', detail: 'no provider-suspended or period-end hold to lift' }]);
  });

  it('an order-wide hold that arrived first covers the licenses a late grant issues', () => {
    const { state, last } = run([refund(), purchase()]);
    expect(statuses(state)).toEqual(['revoked', 'revoked']);
    expect(last.email).toBeUndefined();
  });

  it('a return naming items that overtakes its purchase holds the whole order', () => {
    const partialReturn = ev({ action: 'revoke', reason: 'return.created', items: [{ productId: 'app', quantity: 1 }] });
    const { state } = run([partialReturn, purchase()]);
    expect(statuses(state)).toEqual(['revoked', 'revoked']);
    expect(statuses(run([purchase(), partialReturn]).state)).toEqual(['active', 'revoked']);
  });

  it('each hold names the event that set it', () => {
    const opened = disputeOpened();
    const { state } = run([purchase(), opened]);
    expect(state.holds).toEqual([{ kind: 'disputed', seq: 2, at: opened.occurredAt, eventId: opened.eventId, reason: 'payment_dispute_created' }]);
  });
});
