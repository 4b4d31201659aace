import { generateKeyPairSync } from 'node:crypto';
import { checkItemBudget, ITEM_BUDGET_BYTES, ItemBudgetExceeded, itemBytes } from '../../../functions/aws/itemSize';
import { toItem } from '../../../functions/aws/store';
import { type ApplyContext, apply, type Entitlement, MAX_SIGNED_UNIT_LICENSES, MAX_UNIT_LICENSES, retirePending } from '../../../functions/domain/entitlement';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { processEvent } from '../../../functions/worker/processEvent';
import { catalogWith, exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';
import { MemoryMailer, MemoryStore, silentLogger } from '../../helpers/memory';

/**
 * The size budget, at its limit: the largest entitlement the bounds allow still fits, and an
 * item over the budget is refused before DynamoDB would refuse it.
 */

const now = new Date('2026-03-01T00:00:00Z');
const longId = (c: string, n: number) => c.repeat(n);

/** Every field at its bound: 300-character product ids, a 320-character email, long names and ids. */
function worstCase(over: Partial<FulfillmentEvent> = {}): FulfillmentEvent {
  return grantEvent({
    eventId: longId('e', 512),
    businessKey: longId('b', 512),
    scope: longId('s', 200),
    orderId: longId('o', 200),
    reference: longId('r', 200),
    customer: { email: `${longId('u', 64)}@${longId('d', 250)}.com`, name: longId('N', 300), company: longId('C', 300), locale: 'en-US' },
    items: [{ productId: longId('p', 300), quantity: 10_000, name: longId('n', 300), sku: longId('k', 300) }],
    subscription: { id: longId('i', 200), periodEnd: '2027-01-01T00:00:00.000Z' },
    ...over,
  });
}

function churn(state: Entitlement, ctx: ApplyContext, events: number): Entitlement {
  // Events that leave holds, renewals and records behind, retired as the worker retires them.
  const kinds: Partial<FulfillmentEvent>[] = [
    { action: 'extend', reason: longId('x', 200), items: [] },
    { action: 'suspend', reason: longId('y', 200), items: [] },
    { action: 'revoke', reason: longId('z', 200), items: [], effectiveAt: '2027-06-01T00:00:00.000Z', occurredAt: '2027-01-01T00:00:00.000Z' },
    { action: 'revoke', reason: longId('w', 200), items: [], hold: 'disputed' },
  ];
  let s = state;
  for (let i = 0; i < events; i++) {
    const result = apply(
      s,
      worstCase({ ...kinds[i % kinds.length], eventId: `${longId('e', 500)}${String(i).padStart(12, '0')}`, businessKey: `${longId('b', 500)}${String(i).padStart(12, '0')}` }),
      ctx,
    );
    s = result.state;
    retirePending(s, s.pending.slice(0, -1));
  }
  return s;
}

describe('item size budget', () => {
  it('counts what DynamoDB counts: names plus UTF-8 values and raw binary', () => {
    expect(itemBytes({ ab: { S: 'ü' }, c: { B: new Uint8Array(10) }, n: { N: '12345' } })).toBe(2 + 2 + 1 + 10 + 1 + 4);
  });

  it('refuses an item over the budget with a clear, permanent error', () => {
    expect(checkItemBudget({ pk: { S: 'x'.repeat(ITEM_BUDGET_BYTES - 10) } }, 'k')).toBe(ITEM_BUDGET_BYTES - 8);
    expect(() => checkItemBudget({ pk: { S: 'x'.repeat(ITEM_BUDGET_BYTES) } }, 'ENT#x/ENT')).toThrow(ItemBudgetExceeded);
    expect(() => checkItemBudget({ pk: { S: 'x'.repeat(ITEM_BUDGET_BYTES) } }, 'ENT#x/ENT')).toThrow(/ENT#x\/ENT would be .* bytes; keysmith's budget is/);
  });

  it('the largest key-license order the bounds allow, after many events, fits far inside the budget', () => {
    const ctx: ApplyContext = { catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now };
    const granted = apply(undefined, worstCase(), ctx).state;
    expect(granted.licenses).toHaveLength(MAX_UNIT_LICENSES + 1);
    const old = churn(granted, ctx, 200);
    const stored = itemBytes(toItem(old));
    expect(stored).toBeLessThan(ITEM_BUDGET_BYTES / 3);
    // Even uncompressed, the state stays under DynamoDB's limit: the bound does not lean on gzip.
    expect(Buffer.byteLength(JSON.stringify(old))).toBeLessThan(400 * 1024);
  });

  it('the largest signed-license order fits too (tokens do not compress)', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const ctx: ApplyContext = {
      catalog: catalogWith({ products: { s: { name: longId('S', 200), license: { format: 'signed', duration: 'subscription' } } }, defaultProduct: 's' }),
      licenseSecret: LICENSE_SECRET,
      signingKey: privateKey,
      now,
    };
    const granted = apply(undefined, worstCase(), ctx).state;
    expect(granted.licenses).toHaveLength(MAX_SIGNED_UNIT_LICENSES + 1);
    const old = churn(granted, ctx, 100);
    expect(itemBytes(toItem(old))).toBeLessThan(ITEM_BUDGET_BYTES);
  });

  it('an event that would outgrow the budget is recorded with ORDER_TOO_LARGE, not retried into the DLQ', async () => {
    const store = new MemoryStore();
    const ctx = () => ({ catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now });
    const deps = { store, mailer: new MemoryMailer(), context: ctx, log: silentLogger() };
    await processEvent(grantEvent({ scope: 'big' }), deps, { firstDelivery: true, claimToken: 'm1' });
    const realPut = store.put.bind(store);
    store.put = async (state, expected) => {
      if (state.pending.some((p) => p.eventId === 'too-big')) throw new ItemBudgetExceeded('ENT#fastspring#big/ENT', ITEM_BUDGET_BYTES + 1);
      return realPut(state, expected);
    };
    const event = grantEvent({ scope: 'big', eventId: 'too-big', action: 'record', reason: 'x', items: [] });
    const result = await processEvent(event, deps, { firstDelivery: false, claimToken: 'm2' });
    expect(result.outcome).toBe('duplicate');
    expect((await store.getRecord('fastspring', 'big', 'too-big'))?.problem?.code).toBe('ORDER_TOO_LARGE');
    // Delivered again: recognized, nothing retried.
    expect((await processEvent(event, deps, { firstDelivery: false, claimToken: 'm3' })).outcome).toBe('duplicate');
  });
});
