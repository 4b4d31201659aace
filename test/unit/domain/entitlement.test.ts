import { generateKeyPairSync } from 'node:crypto';
import { type AppliedEvent, type ApplyContext, apply, type Entitlement, effectiveStatus, MAX_UNIT_LICENSES, RECENT_KEYS, retirePending } from '../../../functions/domain/entitlement';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { catalogWith, exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';

const now = new Date('2026-02-01T00:00:00Z');
const ctx = (over: Partial<ApplyContext> = {}): ApplyContext => ({ catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now, ...over });

function run(events: FulfillmentEvent[], context = ctx()): Entitlement {
  return runWithRecords(events, context).state;
}

/** Apply in turn, collecting every applied event's record (what the worker writes as items). */
function runWithRecords(events: FulfillmentEvent[], context = ctx()): { state: Entitlement; records: AppliedEvent[] } {
  let state: Entitlement | undefined;
  const records: AppliedEvent[] = [];
  for (const event of events) {
    const result = apply(state, event, context);
    state = result.state;
    if (!result.duplicate) records.push(result.applied);
  }
  return { state: state!, records };
}

/** A license's history: the changes the records made to it (or to the whole order). */
const historyOf = (records: AppliedEvent[], licenseId: string) =>
  records.flatMap((r) => (r.changes ?? []).filter((c) => c.licenses === 'all' || c.licenses.includes(licenseId)).map((c) => (c.hold ? `${c.what}:${c.hold}` : c.what)));

describe('apply: grant', () => {
  it('issues one key license per unit with an email owed', () => {
    const result = apply(undefined, grantEvent({ items: [{ productId: 'app', quantity: 3 }] }), ctx());
    expect(result.duplicate).toBe(false);
    if (result.duplicate) return;
    expect(result.state.licenses).toHaveLength(3);
    expect(result.state.licenses.map((l) => l.unit)).toEqual([0, 1, 2]);
    expect(new Set(result.state.licenses.map((l) => l.key)).size).toBe(3);
    expect(result.state.licenses.every((l) => l.status === 'active' && l.seats === 1 && l.expiresAt === null && l.product === 'default')).toBe(true);
    expect(result.applied.email).toEqual({ kind: 'license', status: 'pending' });
    expect(result.applied.lookups).toBe('pending');
    expect(result.state.status).toBe('active');
  });

  it('is pure: the same event on the same state gives the same licenses', () => {
    const event = grantEvent();
    const a = apply(undefined, event, ctx());
    const b = apply(undefined, event, ctx({ now: new Date('2030-01-01T00:00:00Z') }));
    expect(a.state.licenses).toEqual(b.state.licenses);
  });

  it('skips a duplicate event id and a duplicate business key', () => {
    const event = grantEvent({ businessKey: 'order.completed#order-1' });
    const first = apply(undefined, event, ctx()).state;
    expect(apply(first, event, ctx()).duplicate).toBe(true);
    expect(apply(first, { ...event, eventId: 'resent-with-new-id' }, ctx()).duplicate).toBe(true);
  });

  it('one license with N seats when the product says so', () => {
    const catalog = catalogWith({ products: { team: { name: 'Team', license: { perUnit: false } } }, defaultProduct: 'team' });
    const state = run([grantEvent({ items: [{ productId: 'x', quantity: 5 }] })], ctx({ catalog }));
    expect(state.licenses).toHaveLength(1);
    expect(state.licenses[0]!.seats).toBe(5);
  });

  it('records UNKNOWN_PRODUCT instead of failing when nothing matches and there is no default', () => {
    const catalog = catalogWith({ products: { only: { name: 'Only', match: { fastspring: ['only'] } } }, defaultProduct: undefined });
    const result = apply(undefined, grantEvent({ items: [{ productId: 'other', quantity: 1 }] }), ctx({ catalog }));
    if (result.duplicate) throw new Error('unexpected duplicate');
    expect(result.applied.problem?.code).toBe('UNKNOWN_PRODUCT');
    expect(result.state.licenses).toHaveLength(0);
    expect(result.applied.email).toBeUndefined();
  });

  it('Paddle grants send no email unless the product asks', () => {
    const result = apply(undefined, grantEvent({ provider: 'paddle' }), ctx());
    if (result.duplicate) throw new Error('unexpected duplicate');
    expect(result.state.licenses).toHaveLength(2);
    expect(result.applied.email).toBeUndefined();
  });
});

describe('apply: lifecycle', () => {
  it('refund before purchase: the late grant issues revoked licenses and no email', () => {
    const refund = grantEvent({ action: 'revoke', reason: 'return.created', items: [] });
    const purchase = grantEvent();
    const afterRefund = run([refund]);
    expect(afterRefund.status).toBe('revoked');
    const result = apply(afterRefund, purchase, ctx());
    if (result.duplicate) throw new Error('unexpected duplicate');
    expect(result.state.licenses.every((l) => l.status === 'revoked')).toBe(true);
    expect(historyOf([...runWithRecords([refund]).records, result.applied], result.state.licenses[0]!.licenseId)).toEqual(['hold:revoked', 'issued']);
    expect(result.applied.email).toBeUndefined();
  });

  it('renew twice extends from the current expiry and never shortens', () => {
    const catalog = catalogWith({ products: { sub: { name: 'Sub', license: { duration: 'subscription' } } }, defaultProduct: 'sub' });
    const c = ctx({ catalog });
    const { state, records } = runWithRecords(
      [
        grantEvent({ subscription: { id: 's1', periodEnd: '2026-02-10T00:00:00.000Z' } }),
        grantEvent({ action: 'extend', reason: 'renew', items: [], subscription: { id: 's1', periodEnd: '2026-03-10T00:00:00.000Z' } }),
        grantEvent({ action: 'extend', reason: 'renew', items: [], subscription: { id: 's1', periodEnd: '2026-04-10T00:00:00.000Z' } }),
        // A late, older renewal must not shorten the term.
        grantEvent({ action: 'extend', reason: 'renew', items: [], subscription: { id: 's1', periodEnd: '2026-03-01T00:00:00.000Z' } }),
      ],
      c,
    );
    for (const license of state.licenses) {
      expect(license.expiresAt).toBe('2026-04-10T00:00:00.000Z');
      expect(historyOf(records, license.licenseId).filter((h) => h === 'extended')).toHaveLength(2);
    }
  });

  it('fixed-days licenses extend by their duration from the current expiry', () => {
    const catalog = catalogWith({ products: { y: { name: 'Yearly', license: { duration: { days: 365 } } } }, defaultProduct: 'y' });
    const state = run([grantEvent({ items: [{ productId: 'a', quantity: 1 }] }), grantEvent({ action: 'extend', reason: 'renew', items: [] })], ctx({ catalog }));
    expect(state.licenses[0]!.expiresAt).toBe(new Date(Date.parse('2026-01-10T12:00:00.000Z') + 730 * 86_400_000).toISOString());
  });

  it('suspend → reinstate → revoke ends revoked with the full history', () => {
    const { state, records } = runWithRecords([
      grantEvent({ items: [{ productId: 'app', quantity: 1 }] }),
      grantEvent({ action: 'suspend', reason: 'Suspend', items: [] }),
      grantEvent({ action: 'reinstate', reason: 'Reinstate', items: [] }),
      grantEvent({ action: 'revoke', reason: 'Unsubscribe', items: [] }),
    ]);
    expect(state.status).toBe('revoked');
    expect(state.licenses[0]!.status).toBe('revoked');
    expect(historyOf(records, state.licenses[0]!.licenseId)).toEqual(['issued', 'hold:provider-suspended', 'lifted:provider-suspended', 'hold:revoked']);
  });

  it('a partial return revokes only the returned units, newest first', () => {
    const state = run([grantEvent({ items: [{ productId: 'app', quantity: 3 }] }), grantEvent({ action: 'revoke', reason: 'return.created', items: [{ productId: 'app', quantity: 1 }] })]);
    expect(state.licenses.map((l) => l.status)).toEqual(['active', 'active', 'revoked']);
    expect(state.status).toBe('active');
  });

  it('change adds units, and reducing the quantity revokes the newest', () => {
    const up = run([grantEvent({ items: [{ productId: 'app', quantity: 1 }] }), grantEvent({ action: 'change', reason: 'ChangeQuantity', items: [{ productId: 'app', quantity: 3 }] })]);
    expect(up.licenses.filter((l) => l.status === 'active')).toHaveLength(3);
    const down = run([grantEvent({ items: [{ productId: 'app', quantity: 3 }] }), grantEvent({ action: 'change', reason: 'ChangeQuantity', items: [{ productId: 'app', quantity: 1 }] })]);
    expect(down.licenses.map((l) => l.status)).toEqual(['active', 'revoked', 'revoked']);
  });

  it('record changes nothing but remembers the event', () => {
    const granted = run([grantEvent()]);
    const result = apply(granted, grantEvent({ action: 'record', reason: 'order.canceled', items: [] }), ctx());
    expect(result.state.licenses).toEqual(granted.licenses);
    expect(result.state.pending.map((e) => e.eventId)).toEqual([granted.pending[0]!.eventId, result.state.pending[1]!.eventId]);
    expect(result.state.seq).toBe(2);
  });

  it('records leave pending only when retired, and the recent ring stays bounded', () => {
    let state = run([grantEvent()]);
    for (let i = 0; i < 100; i++) {
      const result = apply(state, grantEvent({ eventId: `x-${i}`, businessKey: `bk-${i}`, action: 'record', reason: 'x', items: [] }), ctx());
      state = result.state;
      retirePending(state, state.pending.slice(0, -1));
      expect(state.pending).toHaveLength(1);
    }
    expect(state.recent).toHaveLength(RECENT_KEYS);
    expect(state.recent.at(-1)).toBe('bk-98');
    expect(apply(state, grantEvent({ eventId: 'x-98', action: 'record', reason: 'x', items: [] }), ctx()).duplicate).toBe(false); // the worker asks the record item
  });

  it('expired is derived from the clock', () => {
    const catalog = catalogWith({ products: { d: { name: 'Trial', license: { duration: { days: 1 } } } }, defaultProduct: 'd' });
    const license = run([grantEvent()], ctx({ catalog })).licenses[0]!;
    expect(effectiveStatus(license, new Date('2026-01-10T13:00:00Z'))).toBe('active');
    expect(effectiveStatus(license, new Date('2026-01-12T00:00:00Z'))).toBe('expired');
  });
});

describe('apply: signed licenses', () => {
  it('signs with Ed25519 deterministically', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const catalog = catalogWith({ products: { s: { name: 'Signed', license: { format: 'signed' } } }, defaultProduct: 's' });
    const a = run([grantEvent({ eventId: 'same' })], ctx({ catalog, signingKey: privateKey }));
    const b = run([grantEvent({ eventId: 'same' })], ctx({ catalog, signingKey: privateKey }));
    expect(a.licenses[0]!.key.split('.')).toHaveLength(3);
    expect(a.licenses[0]!.key).toBe(b.licenses[0]!.key);
  });

  it('fails clearly without a signing key', () => {
    const catalog = catalogWith({ products: { s: { name: 'Signed', license: { format: 'signed' } } }, defaultProduct: 's' });
    expect(() => run([grantEvent()], ctx({ catalog }))).toThrow(/KEYSMITH_LICENSE_SIGNING_KEY/);
  });
});

describe('apply: subscription terms', () => {
  it('a subscription license issued without a term gets one from the first TermsUpdate/Renew', () => {
    const catalog = catalogWith({ products: { sub: { name: 'Sub', license: { duration: 'subscription' } } }, defaultProduct: 'sub' });
    const state = run(
      [
        grantEvent({ items: [{ productId: 'plan', quantity: 1 }], subscription: { id: 's' } }),
        grantEvent({ action: 'extend', reason: 'TermsUpdate', items: [], subscription: { id: 's', periodEnd: '2026-12-31T00:00:00.000Z' } }),
      ],
      ctx({ catalog }),
    );
    expect(state.licenses[0]!.expiresAt).toBe('2026-12-31T00:00:00.000Z');
  });

  it('a cancellation at period end keeps the license valid until then; uncancel clears it', () => {
    const cancel = grantEvent({ action: 'revoke', reason: 'subscription.canceled', items: [], effectiveAt: '2026-03-01T00:00:00.000Z', occurredAt: '2026-02-01T00:00:00.000Z' });
    const canceled = run([grantEvent(), cancel]);
    expect(canceled.licenses.every((l) => l.status === 'active')).toBe(true);
    expect(canceled.holds).toMatchObject([{ kind: 'period-end', until: '2026-03-01T00:00:00.000Z' }]);
    expect(effectiveStatus(canceled.licenses[0]!, new Date('2026-02-15T00:00:00Z'), canceled)).toBe('active');
    expect(effectiveStatus(canceled.licenses[0]!, new Date('2026-03-02T00:00:00Z'), canceled)).toBe('expired');
    const uncanceled = apply(canceled, grantEvent({ action: 'reinstate', reason: 'subscription.uncanceled', items: [] }), ctx()).state;
    expect(uncanceled.holds).toEqual([]);
    expect(effectiveStatus(uncanceled.licenses[0]!, new Date('2026-03-02T00:00:00Z'), uncanceled)).toBe('active');
  });
});

describe('apply: manual operations', () => {
  it('targets one license by id and leaves the others alone', () => {
    const granted = run([grantEvent({ items: [{ productId: 'app', quantity: 3 }] })]);
    const target = granted.licenses[1]!.licenseId;
    const state = apply(granted, grantEvent({ action: 'revoke', reason: 'manual: chargeback by phone', items: [], targets: [target] }), ctx()).state;
    expect(state.licenses.map((l) => l.status)).toEqual(['active', 'revoked', 'active']);
    expect(state.status).toBe('active');
    const suspended = apply(granted, grantEvent({ action: 'suspend', reason: 'manual', items: [], targets: [target] }), ctx()).state;
    expect(suspended.licenses.map((l) => l.status)).toEqual(['active', 'suspended', 'active']);
    expect(suspended.status).toBe('active');
  });

  it('resendEmail owes a new license email for the active licenses', () => {
    const granted = run([grantEvent({ items: [{ productId: 'app', quantity: 2 }] }), grantEvent({ action: 'revoke', reason: 'r', items: [{ productId: 'app', quantity: 1 }] })]);
    const result = apply(granted, grantEvent({ action: 'record', reason: 'manual.resend', items: [], resendEmail: true }), ctx());
    if (result.duplicate) throw new Error('unexpected duplicate');
    expect(result.applied.email).toEqual({ kind: 'license', status: 'pending' });
    expect(result.applied.licenseIds).toEqual([granted.licenses[0]!.licenseId]);
  });
});

describe('apply: renewing signed licenses', () => {
  it('re-signs the token with the new expiry and owes the customer the new token', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const catalog = catalogWith({ products: { s: { name: 'Signed', license: { format: 'signed', duration: 'subscription' } } }, defaultProduct: 's' });
    const c = ctx({ catalog, signingKey: privateKey });
    const granted = run([grantEvent({ items: [{ productId: 'p', quantity: 1 }], subscription: { id: 's', periodEnd: '2026-02-10T00:00:00.000Z' } })], c);
    const before = granted.licenses[0]!.key;
    const result = apply(granted, grantEvent({ action: 'extend', reason: 'renew', items: [], subscription: { id: 's', periodEnd: '2026-03-10T00:00:00.000Z' } }), c);
    if (result.duplicate) throw new Error('unexpected duplicate');
    const after = result.state.licenses[0]!.key;
    expect(after).not.toBe(before);
    const payload = JSON.parse(Buffer.from(after.split('.')[1]!, 'base64url').toString()) as { exp: number };
    expect(payload.exp).toBe(Date.parse('2026-03-10T00:00:00.000Z') / 1000);
    expect(result.applied.email).toEqual({ kind: 'renewed', status: 'pending' });
    expect(result.applied.lookups).toBe('pending');
  });
});

describe('apply: very large orders', () => {
  it('past MAX_UNIT_LICENSES, the remaining units become one license with their seats, and the item stays under 400 KB', () => {
    const result = apply(undefined, grantEvent({ items: [{ productId: 'app', quantity: 10_000 }] }), ctx());
    if (result.duplicate) throw new Error('unexpected duplicate');
    expect(result.state.licenses).toHaveLength(MAX_UNIT_LICENSES + 1);
    expect(result.state.licenses.reduce((sum, l) => sum + l.seats, 0)).toBe(10_000);
    expect(result.state.licenses.at(-1)!.seats).toBe(10_000 - MAX_UNIT_LICENSES);
    expect(result.applied.problem?.code).toBe('UNITS_CONSOLIDATED');
    expect(Buffer.byteLength(JSON.stringify(result.state))).toBeLessThan(300_000);
  });
});
