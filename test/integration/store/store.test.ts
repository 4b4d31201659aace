import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { appliedEvents, DynamoEntitlementStore, VersionConflict } from '../../../functions/aws/store';
import { type AppliedEvent, type ApplyContext, apply } from '../../../functions/domain/entitlement';
import { type ProcessDeps, processEvent } from '../../../functions/worker/processEvent';
import { backends, startTable, type TestTable } from '../../helpers/dynamodb';
import { injectFaults } from '../../helpers/faults';
import { exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';
import { MemoryMailer, silentLogger } from '../../helpers/memory';

const ctx = (): ApplyContext => ({ catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: new Date('2026-01-10T12:00:00Z') });

describe.each(backends())('DynamoDB store against %s', (backend) => {
  let table: TestTable;
  let store: DynamoEntitlementStore;
  beforeAll(async () => {
    table = await startTable(backend);
    store = new DynamoEntitlementStore(table.client, table.tableName);
  }, 180_000);
  afterAll(async () => table?.stop());

  it('inserts once: a second insert of the same entitlement is a version conflict', async () => {
    const state = apply(undefined, grantEvent({ scope: 'ins-1' }), ctx()).state;
    const written = await store.put(state, 0);
    expect(written.version).toBe(1);
    await expect(store.put(state, 0)).rejects.toBeInstanceOf(VersionConflict);
    expect((await store.get('fastspring', 'ins-1'))!.version).toBe(1);
  });

  it('writes are conditional on the version they were computed from', async () => {
    const state = apply(undefined, grantEvent({ scope: 'ver-1' }), ctx()).state;
    await store.put(state, 0);
    const v2 = await store.put(state, 1);
    expect(v2.version).toBe(2);
    const conflict = await store.put(state, 1).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(VersionConflict);
    // Real DynamoDB (and DynamoDB Local) hand back the winner's item; dynalite does not.
    if ((conflict as VersionConflict).current) expect((conflict as VersionConflict).current!.version).toBe(2);
  });

  it('round-trips the entitlement document exactly', async () => {
    const state = apply(undefined, grantEvent({ scope: 'rt-1', customer: { email: 'Ünïcode.User@Example.com', name: 'Zoë "Q" <b>' } }), ctx()).state;
    await store.put(state, 0);
    const read = await store.get('fastspring', 'rt-1');
    expect(read!.state).toEqual({ ...state, version: 1 });
  });

  it('finds licenses by key (hashed, any case), by license id, by email (any case) and by order reference', async () => {
    const state = apply(undefined, grantEvent({ scope: 'look-1', orderId: 'REF-LOOK-1', customer: { email: 'Finder@Example.com' } }), ctx()).state;
    await store.put(state, 0);
    await store.putLookups(state, state.licenses);
    const license = state.licenses[1]!;
    expect(await store.findByKey(license.key.toLowerCase())).toEqual({ provider: 'fastspring', scope: 'look-1', licenseId: license.licenseId });
    expect(await store.findByLicenseId(license.licenseId)).toMatchObject({ scope: 'look-1' });
    expect((await store.findByEmail('finder@example.COM')).map((e) => e.state.scope)).toEqual(['look-1']);
    expect((await store.findByOrder('fastspring', 'REF-LOOK-1')).map((e) => e.state.scope)).toEqual(['look-1']);
    expect((await store.findByOrder('fastspring', 'look-1')).map((e) => e.state.scope)).toEqual(['look-1']);
    expect(await store.findByKey('AAAAA-AAAAA-AAAAA-AAAAA-AAAAA')).toBeUndefined();
  });

  describe('event records', () => {
    const record = (state: ReturnType<typeof apply>['state'], over: Partial<AppliedEvent> = {}): AppliedEvent => ({ ...state.pending[0]!, ...over });

    it('reads the order, the record and the business-key marker in one consistent batch', async () => {
      const state = apply(undefined, grantEvent({ scope: 'rec-1', eventId: 'rec-evt-1', businessKey: 'order.completed#rec-1' }), ctx()).state;
      await store.put(state, 0);
      expect(await store.getForEvent('fastspring', 'rec-1', 'rec-evt-1', 'order.completed#rec-1')).toMatchObject({ stored: { version: 1 } });
      await store.putRecord(state, record(state), state.licenses);
      const view = await store.getForEvent('fastspring', 'rec-1', 'rec-evt-1', 'order.completed#rec-1');
      expect(view.record).toEqual(record(state));
      expect(view.businessKeyOf).toBe('rec-evt-1');
      // A resend under a new event id is found by its business key alone.
      expect((await store.getForEvent('fastspring', 'rec-1', 'resent-id', 'order.completed#rec-1')).businessKeyOf).toBe('rec-evt-1');
      expect(await store.findByLicenseId(state.licenses[0]!.licenseId)).toMatchObject({ scope: 'rec-1' });
    });

    it('flushes a record only when none exists, and replaces it only under the expected claim', async () => {
      const state = apply(undefined, grantEvent({ scope: 'rec-2', eventId: 'rec-evt-2' }), ctx()).state;
      const claimed = record(state, { email: { kind: 'license', status: 'pending', claim: 'owner', claimedAt: '2026-01-10T12:00:00.000Z' } });
      expect(await store.flushRecord(state, claimed)).toBe(true);
      expect(await store.flushRecord(state, record(state, { reason: 'other' }))).toBe(false);
      expect((await store.getRecord('fastspring', 'rec-2', 'rec-evt-2'))!.reason).toBe(claimed.reason);
      const takeover = { ...claimed, email: { ...claimed.email!, claim: 'taker' } };
      expect(await store.replaceRecord(state, takeover, null)).toBe(false);
      expect(await store.replaceRecord(state, takeover, 'someone-else')).toBe(false);
      expect(await store.replaceRecord(state, takeover, 'owner')).toBe(true);
      expect((await store.getRecord('fastspring', 'rec-2', 'rec-evt-2'))!.email?.claim).toBe('taker');
      // Unclaimed records are taken with `null`; a record that does not exist is never created that way.
      const unclaimed = record(state, { eventId: 'rec-evt-2b', email: { kind: 'license', status: 'pending' } });
      expect(await store.replaceRecord(state, unclaimed, null)).toBe(false);
      await store.flushRecord(state, unclaimed);
      expect(await store.replaceRecord(state, { ...unclaimed, email: { ...unclaimed.email!, claim: 'first' } }, null)).toBe(true);
    });

    it('lists the records of an order in the order they were applied', async () => {
      let state = apply(undefined, grantEvent({ scope: 'rec-3', eventId: 'z-first' }), ctx()).state;
      for (const id of ['a-second', 'm-third']) state = apply(state, grantEvent({ scope: 'rec-3', eventId: id, action: 'record', reason: 'note', items: [] }), ctx()).state;
      for (const r of [...state.pending].reverse()) await store.flushRecord(state, r);
      expect((await store.records('fastspring', 'rec-3')).map((r) => [r.seq, r.eventId])).toEqual([
        [1, 'z-first'],
        [2, 'a-second'],
        [3, 'm-third'],
      ]);
    });

    it('refuses to write an item over the size budget, naming it', async () => {
      const state = apply(undefined, grantEvent({ scope: 'rec-4', eventId: 'rec-evt-4' }), ctx()).state;
      const huge = record(state, { licenseIds: Array.from({ length: 20_000 }, (_, i) => `lic_${String(i).padStart(20, '0')}`) });
      await expect(store.putRecord(state, huge, [])).rejects.toThrow(/EVT#.* would be \d+ bytes/);
      expect(await store.getRecord('fastspring', 'rec-4', 'rec-evt-4')).toBeUndefined();
    });
  });

  it('finds an order by its customer-facing reference', async () => {
    const state = apply(undefined, grantEvent({ scope: 'ref-1', reference: 'SHOP-REF-1' }), ctx()).state;
    await store.put(state, 0);
    expect((await store.findByOrder('fastspring', 'SHOP-REF-1')).map((e) => e.state.scope)).toEqual(['ref-1']);
  });

  it('writes lookups idempotently (a retry writes the same bytes) and links subscriptions', async () => {
    const state = apply(undefined, grantEvent({ scope: 'idem-1', subscription: { id: 'sub-idem-1' }, items: [{ productId: 'p', quantity: 30 }] }), ctx()).state;
    await store.put(state, 0);
    await store.putLookups(state, state.licenses);
    await store.putLookups(state, state.licenses);
    for (const license of state.licenses) expect(await store.findByLicenseId(license.licenseId)).toMatchObject({ scope: 'idem-1' });
    expect(await store.findSubscriptionScope('fastspring', 'sub-idem-1')).toBe('idem-1');
  });

  describe('the worker state machine on this backend, with faults injected at the SDK client', () => {
    const deps = (mailer = new MemoryMailer()): ProcessDeps => ({ store, mailer, context: ctx, log: silentLogger() });

    const freshClient = (maxAttempts: number) => new DynamoDBClient({ endpoint: table.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts });

    it('DynamoDB throttling bursts are retried by the SDK and the event is applied once', async () => {
      const client = freshClient(5);
      let throttled = 0;
      injectFaults(client, (command) => (command === 'PutItemCommand' && throttled++ < 2 ? 'throttle' : undefined));
      const mailer = new MemoryMailer();
      const result = await processEvent(grantEvent({ scope: 'thr-1' }), { ...deps(mailer), store: new DynamoEntitlementStore(client, table.tableName) }, { firstDelivery: true, claimToken: 'm' });
      expect(throttled).toBeGreaterThan(2);
      expect(result.state.licenses).toHaveLength(2);
      expect(mailer.sent).toHaveLength(1);
      expect(await appliedEvents(store, (await store.get('fastspring', 'thr-1'))!.state)).toHaveLength(1);
    });

    it('a write that succeeded but whose answer was lost (crash after PutItem) is finished by the redelivery', async () => {
      const crashingClient = freshClient(1);
      let armed = true;
      injectFaults(crashingClient, (command) => {
        if (command === 'PutItemCommand' && armed) {
          armed = false;
          return 'crash-after';
        }
        return undefined;
      });
      const mailer = new MemoryMailer();
      const event = grantEvent({ scope: 'crash-put-1' });
      await expect(processEvent(event, { ...deps(mailer), store: new DynamoEntitlementStore(crashingClient, table.tableName) }, { firstDelivery: true, claimToken: 'm1' })).rejects.toThrow(
        /injected crash/,
      );
      const result = await processEvent(event, deps(mailer), { firstDelivery: false, claimToken: 'm1' });
      expect(result.outcome).toBe('duplicate');
      expect(result.state.licenses).toHaveLength(2);
      expect(mailer.sent).toHaveLength(1);
      expect(result.applied.email?.status).toBe('sent');
    });

    it('two events of one entitlement processed concurrently give the result of applying them one by one', async () => {
      const grant = grantEvent({ scope: 'race-1', items: [{ productId: 'p', quantity: 1 }] });
      await processEvent(grant, deps(), { firstDelivery: true, claimToken: 'g' });
      const suspend = grantEvent({ scope: 'race-1', action: 'suspend', reason: 'suspend', items: [] });
      const record = grantEvent({ scope: 'race-1', action: 'record', reason: 'note', items: [] });
      await Promise.all([processEvent(suspend, deps(), { firstDelivery: true, claimToken: 's' }), processEvent(record, deps(), { firstDelivery: true, claimToken: 'r' })]);
      const final = (await store.get('fastspring', 'race-1'))!.state;
      expect(final.licenses[0]!.status).toBe('suspended');
      expect((await appliedEvents(store, final)).map((e) => e.eventId).sort()).toEqual([grant.eventId, suspend.eventId, record.eventId].sort());
    });

    it('the same event 20 times concurrently → one license set, one email', async () => {
      const mailer = new MemoryMailer();
      const event = grantEvent({ scope: 'twenty-1' });
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => processEvent(event, deps(mailer), { firstDelivery: true, claimToken: `m${i}` })));
      for (let i = 0; i < 20; i++) if (results[i]!.status === 'rejected') await processEvent(event, deps(mailer), { firstDelivery: false, claimToken: `m${i}` });
      expect(mailer.sent).toHaveLength(1);
      const stored = (await store.get('fastspring', 'twenty-1'))!.state;
      expect(stored.licenses).toHaveLength(2);
      expect(await appliedEvents(store, stored)).toHaveLength(1);
    });
  });
});
