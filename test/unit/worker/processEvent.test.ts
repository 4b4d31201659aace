import { PermanentMailError } from '../../../functions/aws/mailer';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { type Checkpoint, EMAIL_CLAIM_LEASE_MS, EmailInFlight, type ProcessDeps, processEvent } from '../../../functions/worker/processEvent';
import { exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';
import { MemoryMailer, MemoryStore, silentLogger } from '../../helpers/memory';

function deps(over: Partial<ProcessDeps> & { clock?: { now: Date } } = {}) {
  const store = new MemoryStore();
  const mailer = new MemoryMailer();
  const clock = over.clock ?? { now: new Date('2026-01-10T12:00:00Z') };
  const d: ProcessDeps = {
    store,
    mailer,
    context: () => ({ catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: clock.now }),
    log: silentLogger(),
    ...over,
  };
  return { d, store: d.store as MemoryStore, mailer: d.mailer as MemoryMailer, clock };
}

const crashAt = (point: Checkpoint) => {
  let armed = true;
  return (p: Checkpoint) => {
    if (armed && p === point) {
      armed = false;
      throw new Error(`injected crash ${point}`);
    }
  };
};

describe('processEvent', () => {
  it('happy path: insert, one email, the record with lookups — 2 store calls, a view per license and 1 send', async () => {
    const { d, store, mailer } = deps();
    const result = await processEvent(grantEvent(), d, { firstDelivery: true, claimToken: 'm1' });
    expect(result.outcome).toBe('applied');
    expect(mailer.sent).toHaveLength(1);
    expect(result.applied.email).toMatchObject({ status: 'sent', messageId: 'msg-1' });
    expect(result.applied.lookups).toBe('done');
    expect(store.lookups.size).toBe(2);
    // put (insert) + putRecord (record, lookups) — no read on a first delivery of a new order —
    // plus the license API's view of each of the 2 licenses.
    expect(store.views.size).toBe(2);
    expect(store.calls).toBe(2 + 2);
    expect(store.recordItems.size).toBe(1);
  });

  describe('license views (what the license API reads)', () => {
    it('a refund of one license rewrites only that license’s view, at the new version', async () => {
      const { d, store } = deps();
      const grant = grantEvent();
      const granted = await processEvent(grant, d, { firstDelivery: true, claimToken: 'm1' });
      const [first, second] = granted.state.licenses;
      const before = [...store.views.values()];
      expect(before.map((v) => v.status)).toEqual(['active', 'active']);
      store.calls = 0;
      const refund: FulfillmentEvent = { ...grant, eventId: 'evt-refund', action: 'revoke', reason: 'refund', targets: [first!.licenseId] };
      const refunded = await processEvent(refund, d, { firstDelivery: true, claimToken: 'm2' });
      const views = new Map([...store.views.values()].map((v) => [v.licenseId, v]));
      expect(views.get(first!.licenseId)).toMatchObject({ status: 'revoked', v: refunded.state.version });
      expect(views.get(second!.licenseId)).toMatchObject({ status: 'active', v: granted.state.version });
      // read, the grant's record confirmed (flush), state write, one view, record.
      expect(store.calls).toBe(5);
    });

    it.each<Checkpoint>(['after-state-write', 'after-views'])('crash %s of a refund → the redelivery leaves every view current', async (point) => {
      const { d, store } = deps();
      const grant = grantEvent();
      const granted = await processEvent(grant, d, { firstDelivery: true, claimToken: 'm1' });
      const refund: FulfillmentEvent = { ...grant, eventId: 'evt-refund', action: 'revoke', reason: 'refund', targets: granted.state.licenses.map((l) => l.licenseId) };
      await expect(processEvent(refund, { ...d, checkpoint: crashAt(point) }, { firstDelivery: true, claimToken: 'm2' })).rejects.toThrow(/injected/);
      const done = await processEvent(refund, d, { firstDelivery: false, claimToken: 'm2' });
      expect([...store.views.values()].map((v) => [v.status, v.v])).toEqual([
        ['revoked', done.state.version],
        ['revoked', done.state.version],
      ]);
    });

    it('a record flushed by a delivery that then crashed still tells its own redelivery to write the views (found by the property test)', async () => {
      const { d, store } = deps();
      const grant = grantEvent({ live: true });
      const granted = await processEvent(grant, d, { firstDelivery: true, claimToken: 'm1' });
      const target = granted.state.licenses[0]!.licenseId;
      const suspend = (eventId: string): FulfillmentEvent => ({ ...grant, eventId, action: 'suspend', reason: 'manual: x', by: 'seller', targets: [target], items: [] });
      // The first suspension is applied, and its delivery dies before writing the views.
      await expect(processEvent(suspend('s1'), { ...d, checkpoint: crashAt('after-state-write') }, { firstDelivery: true, claimToken: 'm2' })).rejects.toThrow(/injected/);
      // A second one writes the first's record item (flush), then dies too; its retry finds the
      // item already there and changes nothing (the license is suspended already).
      await expect(processEvent(suspend('s2'), { ...d, checkpoint: crashAt('after-flush') }, { firstDelivery: true, claimToken: 'm3' })).rejects.toThrow(/injected/);
      await processEvent(suspend('s2'), d, { firstDelivery: false, claimToken: 'm3' });
      // The first one's redelivery: its record item still owes the views.
      await processEvent(suspend('s1'), d, { firstDelivery: false, claimToken: 'm2' });
      const views = new Map([...store.views.values()].map((v) => [v.licenseId, v.status]));
      expect(views.get(target)).toBe('suspended');
      expect((await store.getRecord('fastspring', 'order-1', 's1'))?.views).toBeUndefined();
    });

    it('a view never goes back to an older version', async () => {
      const { d, store } = deps();
      const granted = await processEvent(grantEvent(), d, { firstDelivery: true, claimToken: 'm1' });
      const [partition, view] = [...store.views.entries()][0]!;
      await store.putViews([{ partition, view: { ...view, status: 'revoked', v: view.v + 1 } }]);
      await store.putViews([{ partition, view: { ...view, status: 'active', v: granted.state.version } }]);
      expect(store.views.get(partition)?.status).toBe('revoked');
    });
  });

  it('a redelivered duplicate costs one read and sends nothing', async () => {
    const { d, store, mailer } = deps();
    const event = grantEvent();
    await processEvent(event, d, { firstDelivery: true, claimToken: 'm1' });
    store.calls = 0;
    const again = await processEvent(event, d, { firstDelivery: false, claimToken: 'm1' });
    expect(again.outcome).toBe('duplicate');
    expect(store.calls).toBe(1);
    expect(mailer.sent).toHaveLength(1);
  });

  it.each<Checkpoint>(['after-state-write'])('crash %s → the redelivery finishes with one license set and one email', async (point) => {
    const { d, store, mailer } = deps();
    const event = grantEvent();
    await expect(processEvent(event, { ...d, checkpoint: crashAt(point) }, { firstDelivery: true, claimToken: 'm1' })).rejects.toThrow(/injected/);
    expect(mailer.sent).toHaveLength(0);
    const result = await processEvent(event, d, { firstDelivery: false, claimToken: 'm1' });
    expect(mailer.sent).toHaveLength(1);
    expect(result.state.licenses).toHaveLength(2);
    expect(store.lookups.size).toBe(2);
    expect(result.applied.email?.status).toBe('sent');
  });

  it('crash after the email is sent and before it is marked (the documented window) → at most one extra email', async () => {
    const { d, mailer } = deps();
    const event = grantEvent();
    await expect(processEvent(event, { ...d, checkpoint: crashAt('after-email-sent') }, { firstDelivery: true, claimToken: 'm1' })).rejects.toThrow(/injected/);
    const result = await processEvent(event, d, { firstDelivery: false, claimToken: 'm1' });
    expect(mailer.sent).toHaveLength(2);
    expect(mailer.sent[0]!.email).toEqual(mailer.sent[1]!.email);
    expect(result.applied.email?.status).toBe('sent');
    expect(result.state.licenses).toHaveLength(2);
  });

  it('the same event delivered 20 times concurrently → one license set, one email; the others back off', async () => {
    const { d, store, mailer } = deps();
    const event = grantEvent();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => processEvent(event, d, { firstDelivery: true, claimToken: `m${i}` })));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failures.every((f) => f.reason instanceof EmailInFlight)).toBe(true);
    // Redeliver the ones that backed off: they find the email sent.
    for (let i = 0; i < 20; i++) if (results[i]!.status === 'rejected') await processEvent(event, d, { firstDelivery: false, claimToken: `m${i}` });
    expect(mailer.sent).toHaveLength(1);
    const stored = await store.get('fastspring', event.scope);
    expect(stored!.state.licenses).toHaveLength(2);
    expect((await store.applied('fastspring', event.scope)).filter((e) => e.eventId === event.eventId)).toHaveLength(1);
  });

  it('a claim left by a dead delivery is taken over after the lease', async () => {
    const { d, mailer, clock } = deps();
    const event = grantEvent();
    await expect(processEvent(event, { ...d, checkpoint: crashAt('after-state-write') }, { firstDelivery: true, claimToken: 'dead' })).rejects.toThrow();
    await expect(processEvent(event, d, { firstDelivery: true, claimToken: 'other' })).rejects.toBeInstanceOf(EmailInFlight);
    clock.now = new Date(clock.now.getTime() + EMAIL_CLAIM_LEASE_MS + 1);
    const result = await processEvent(event, d, { firstDelivery: false, claimToken: 'other' });
    expect(result.applied.email).toMatchObject({ status: 'sent', claim: 'other' });
    expect(mailer.sent).toHaveLength(1);
  });

  it('a permanent mail failure is recorded on the event and not retried', async () => {
    const { d, mailer } = deps();
    mailer.send = async () => {
      throw new PermanentMailError('MessageRejected', 'Email address is not verified.');
    };
    const result = await processEvent(grantEvent(), d, { firstDelivery: true, claimToken: 'm1' });
    expect(result.applied.email?.status).toBe('failed');
    expect(result.applied.problem?.code).toBe('MessageRejected');
  });

  it('a transient mail failure throws (so SQS retries) and the retry sends once', async () => {
    const { d, mailer } = deps();
    const real = mailer.send.bind(mailer);
    let fail = true;
    mailer.send = async (to, email) => {
      if (fail) {
        fail = false;
        throw Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'Throttling' });
      }
      return real(to, email);
    };
    const event: FulfillmentEvent = grantEvent();
    await expect(processEvent(event, d, { firstDelivery: true, claimToken: 'm1' })).rejects.toThrow(/sending rate/);
    const result = await processEvent(event, d, { firstDelivery: false, claimToken: 'm1' });
    expect(result.applied.email?.status).toBe('sent');
    expect(mailer.sent).toHaveLength(1);
  });

  it('a lost write race re-reads and applies on top of the winner', async () => {
    const { d, store } = deps();
    const first = grantEvent({ items: [{ productId: 'a', quantity: 1 }] });
    const second = grantEvent({ action: 'revoke', reason: 'refund', items: [] });
    await processEvent(first, d, { firstDelivery: true, claimToken: 'm1' });
    // Simulate a concurrent writer bumping the version between our read and write.
    const realPut = store.put.bind(store);
    let interfere = true;
    store.put = async (state, expected) => {
      if (interfere) {
        interfere = false;
        const current = (await store.get(state.provider, state.scope))!;
        await realPut({ ...current.state, updatedAt: 'concurrent' }, current.version);
      }
      return realPut(state, expected);
    };
    const result = await processEvent(second, d, { firstDelivery: true, claimToken: 'm2' });
    expect(result.state.licenses[0]!.status).toBe('revoked');
    expect((await store.applied('fastspring', first.scope)).map((e) => e.eventId)).toEqual([first.eventId, second.eventId]);
  });
});

describe('records that outlive the order item', () => {
  const refund = (over: Partial<FulfillmentEvent> = {}) => grantEvent({ eventId: 'refund-1', action: 'revoke', reason: 'order.refunded', items: [], ...over });

  it('the next event writes the previous record if it is missing, then drops it from pending', async () => {
    const { d, store } = deps();
    const grant = grantEvent();
    // The grant's delivery dies after its state write: its record exists only in `pending`.
    await expect(processEvent(grant, { ...d, checkpoint: crashAt('after-state-write') }, { firstDelivery: true, claimToken: 'm1' })).rejects.toThrow(/injected/);
    expect(store.recordItems.size).toBe(0);
    await processEvent(refund(), d, { firstDelivery: true, claimToken: 'm2' });
    const stored = (await store.get('fastspring', grant.scope))!;
    expect(stored.state.pending.map((p) => p.eventId)).toEqual(['refund-1']);
    expect((await store.getRecord('fastspring', grant.scope, grant.eventId))?.email).toMatchObject({ status: 'pending', claim: 'm1' });
    expect(stored.state.recent).toContain(grant.eventId);
  });

  it('a crash after the flush and before the state write leaves nothing half-done', async () => {
    const { d, store } = deps();
    const grant = grantEvent();
    await processEvent(grant, d, { firstDelivery: true, claimToken: 'm1' });
    await expect(processEvent(refund(), { ...d, checkpoint: crashAt('after-flush') }, { firstDelivery: true, claimToken: 'm2' })).rejects.toThrow(/injected/);
    expect((await store.get('fastspring', grant.scope))!.state.licenses.every((l) => l.status === 'active')).toBe(true);
    const result = await processEvent(refund(), d, { firstDelivery: false, claimToken: 'm2' });
    expect(result.outcome).toBe('applied');
    expect(result.state.licenses.every((l) => l.status === 'revoked')).toBe(true);
    expect((await store.applied('fastspring', grant.scope)).map((e) => e.eventId)).toEqual([grant.eventId, 'refund-1']);
  });

  it('a duplicate of an event whose delivery died after the state write sends the owed email once', async () => {
    const { d, store, mailer, clock } = deps();
    const grant = grantEvent();
    await expect(processEvent(grant, { ...d, checkpoint: crashAt('after-state-write') }, { firstDelivery: true, claimToken: 'dead' })).rejects.toThrow(/injected/);
    await processEvent(refund({ eventId: 'note-1', action: 'record', reason: 'note' }), d, { firstDelivery: true, claimToken: 'm2' });
    clock.now = new Date(clock.now.getTime() + EMAIL_CLAIM_LEASE_MS + 1);
    const result = await processEvent(grant, d, { firstDelivery: true, claimToken: 'resend' });
    expect(result.outcome).toBe('duplicate');
    expect(result.applied.email).toMatchObject({ status: 'sent', claim: 'resend' });
    expect(mailer.sent).toHaveLength(1);
    // And once more, later: nothing.
    await processEvent(grant, d, { firstDelivery: false, claimToken: 'again' });
    expect(mailer.sent).toHaveLength(1);
    expect(store.lookups.size).toBe(2);
  });

  it('the order item does not grow with its age: 1,000 events later the first purchase is still a duplicate', async () => {
    const { d, store, mailer } = deps();
    const grant = grantEvent();
    await processEvent(grant, d, { firstDelivery: true, claimToken: 'm0' });
    const size = () => JSON.stringify(store.items.get(`fastspring#${grant.scope}`)!.state).length;
    let largest = 0;
    for (let i = 1; i <= 1000; i++) {
      await processEvent(refund({ eventId: `note-${i}`, action: 'record', reason: 'note' }), d, { firstDelivery: true, claimToken: `m${i}` });
      largest = Math.max(largest, size());
    }
    const again = await processEvent(grant, d, { firstDelivery: true, claimToken: 'late' });
    expect(again.outcome).toBe('duplicate');
    expect(mailer.sent).toHaveLength(1);
    expect((await store.get('fastspring', grant.scope))!.state.licenses).toHaveLength(2);
    expect(largest).toBeLessThan(4000);
    expect(store.recordItems.size).toBe(1001);
  });
});

describe('subscription links', () => {
  it('an event naming only the subscription lands on the order granted with it', async () => {
    const { d, store } = deps();
    await processEvent(grantEvent({ scope: 'order-9', subscription: { id: 'sub-9' } }), d, { firstDelivery: true, claimToken: 'm1' });
    const renewal = grantEvent({ action: 'extend', reason: 'subscription.charge.completed', scope: 'sub-9', items: [], subscription: { id: 'sub-9', periodEnd: '2027-01-01T00:00:00.000Z' } });
    const result = await processEvent(renewal, d, { firstDelivery: true, claimToken: 'm2' });
    expect(result.state.scope).toBe('order-9');
    expect((await store.applied('fastspring', 'order-9')).map((e) => e.reason)).toEqual(['order.completed', 'subscription.charge.completed']);
    expect(await store.get('fastspring', 'sub-9')).toBeUndefined();
  });
});

describe('payment links', () => {
  const first = { firstDelivery: true, claimToken: 'm' };
  const sub = (over: Partial<FulfillmentEvent>) => grantEvent({ provider: 'stripe', scope: 'sub_1', subscription: { id: 'sub_1' }, ...over });
  const refund = (scope: string) => grantEvent({ provider: 'stripe', eventId: `evt_refund_${scope}`, action: 'revoke', reason: 'charge.refunded', scope, followLinks: true, items: [] });
  const paymentOf = (invoice: string, paymentIntent: string) =>
    grantEvent({ provider: 'stripe', eventId: `evt_pay_${paymentIntent}`, action: 'record', reason: 'invoice_payment.paid', scope: invoice, followLinks: true, links: [paymentIntent], items: [] });

  it('a refund naming the payment intent an invoice linked revokes the subscription (one link)', async () => {
    const { d, store } = deps();
    await processEvent(sub({ links: ['pi_1', 'in_1'] }), d, first);
    const result = await processEvent(refund('pi_1'), d, first);
    expect(result.state.scope).toBe('sub_1');
    expect(result.state.licenses.every((l) => l.status === 'revoked')).toBe(true);
    expect(await store.get('stripe', 'pi_1')).toBeUndefined();
  });

  it('follows payment → invoice → subscription, whichever of the invoice and its payment came first', async () => {
    for (const order of [
      ['invoice', 'payment'],
      ['payment', 'invoice'],
    ]) {
      const { d } = deps();
      for (const step of order) await processEvent(step === 'invoice' ? sub({ links: ['in_1'] }) : paymentOf('in_1', 'pi_2'), d, first);
      const result = await processEvent(refund('pi_2'), d, first);
      expect(result.state.scope).toBe('sub_1');
      expect(result.state.licenses.every((l) => l.status === 'revoked')).toBe(true);
    }
  });

  it('an order scoped by the payment itself (a one-time purchase) wins over a link from the same payment', async () => {
    const { d } = deps();
    await processEvent(grantEvent({ provider: 'stripe', scope: 'pi_3' }), d, first);
    // Checkout's optional invoice also reports the same payment.
    await processEvent(paymentOf('in_3', 'pi_3'), d, first);
    const result = await processEvent(refund('pi_3'), d, first);
    expect(result.state.scope).toBe('pi_3');
    expect(result.state.licenses.every((l) => l.status === 'revoked')).toBe(true);
  });

  it('staying on the payment’s own order costs one read, the one the state write uses', async () => {
    const { d, store } = deps();
    await processEvent(grantEvent({ provider: 'stripe', scope: 'pi_4' }), d, first);
    const reads = { get: 0, getForEvent: 0 };
    const get = store.get.bind(store);
    const getForEvent = store.getForEvent.bind(store);
    store.get = async (...args) => {
      reads.get++;
      return get(...args);
    };
    store.getForEvent = async (...args) => {
      reads.getForEvent++;
      return getForEvent(...args);
    };
    const result = await processEvent(refund('pi_4'), d, first);
    expect(result.state.licenses.every((l) => l.status === 'revoked')).toBe(true);
    expect(reads).toEqual({ get: 0, getForEvent: 1 });
  });

  it('a payment nobody linked stays on its own scope, and a cycle of links ends', async () => {
    const { d, store } = deps();
    expect((await processEvent(refund('pi_unknown'), d, first)).state.scope).toBe('pi_unknown');
    await store.putLinks('stripe', 'a', ['b']);
    await store.putLinks('stripe', 'b', ['a']);
    expect((await processEvent(refund('a'), d, first)).state.scope).toBe('b');
  });

  it('a refund stored under its payment before the link existed applies to the subscription when replayed', async () => {
    const { d, store } = deps();
    const early = refund('pi_5');
    // Processed first (Stripe retrying after an outage): no link yet, so it stays on the payment.
    expect((await processEvent(early, d, first)).state.scope).toBe('pi_5');
    await processEvent(sub({ links: ['in_5'] }), d, first);
    await processEvent(paymentOf('in_5', 'pi_5'), d, first);
    expect((await store.get('stripe', 'sub_1'))!.state.licenses.every((l) => l.status === 'active')).toBe(true);
    // The same event again (keysmith replay): the payment's own order holds no licenses, the link wins.
    const replayed = await processEvent(early, d, { firstDelivery: false, claimToken: 'm3' });
    expect(replayed.state.scope).toBe('sub_1');
    expect(replayed.state.licenses.every((l) => l.status === 'revoked')).toBe(true);
  });

  it('a redelivered duplicate does not write its links again', async () => {
    const { d, store } = deps();
    const event = sub({ links: ['pi_1', 'in_1'] });
    await processEvent(event, d, first);
    const calls = store.calls;
    let linked = 0;
    const real = store.putLinks.bind(store);
    store.putLinks = async (...args) => {
      linked++;
      return real(...args);
    };
    await processEvent(event, d, { firstDelivery: false, claimToken: 'm2' });
    expect(linked).toBe(0);
    expect(store.calls - calls).toBe(1);
  });
});

describe('the send-then-mark window', () => {
  it('a mark that fails transiently is retried in-process: one email, marked sent', async () => {
    const { d, store, mailer } = deps();
    const realPut = store.putRecord.bind(store);
    let puts = 0;
    store.putRecord = async (...args) => {
      // The first two record writes (the mark) fail like a throttled table.
      if (++puts <= 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
      return realPut(...args);
    };
    const result = await processEvent(grantEvent(), d, { firstDelivery: true, claimToken: 'm1' });
    expect(mailer.sent).toHaveLength(1);
    expect(result.applied.email?.status).toBe('sent');
  });

  it('a mark that keeps failing gives the message back (the documented at-least-once window)', async () => {
    const { d, store, mailer } = deps();
    let puts = 0;
    store.putRecord = async () => {
      puts++;
      throw Object.assign(new Error('table unavailable'), { name: 'InternalServerError' });
    };
    await expect(processEvent(grantEvent(), d, { firstDelivery: true, claimToken: 'm1' })).rejects.toThrow(/table unavailable/);
    expect(mailer.sent).toHaveLength(1);
    expect(puts).toBe(5); // 5 attempts at the record (the mark)
  });
});

describe('retry backoff', () => {
  it('grows with the receive count for every transient failure, EmailInFlight included', () => {
    const { backoffSeconds } = jest.requireActual('../../../functions/worker/handler') as typeof import('../../../functions/worker/handler');
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffSeconds(n))).toEqual([10, 20, 40, 80, 160, 300]);
  });
});
