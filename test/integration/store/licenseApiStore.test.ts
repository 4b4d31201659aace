import { DynamoLicenseApiStore } from '../../../functions/aws/licenseApiStore';
import { dynamodbClient } from '../../../functions/aws/light/dynamodb';
import { DynamoEntitlementStore } from '../../../functions/aws/store';
import { type ApplyContext, apply } from '../../../functions/domain/entitlement';
import { viewsToWrite } from '../../../functions/domain/licenseView';
import type { Activations, Instance } from '../../../functions/licensing/api';
import { backends, startTable, type TestTable } from '../../helpers/dynamodb';
import { exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';

const ctx = (): ApplyContext => ({ catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: new Date('2026-01-10T12:00:00Z') });
const instance = (id: string): Instance => ({ id, name: `machine ${id}`, fp: `fp-${id}`, created: 1_760_000_000 });

/**
 * The license API's conditional writes on real DynamoDB semantics (Amazon's DynamoDB Local where
 * Java is available, and dynalite): views never go back a version, and the seat limit and the
 * daily budget hold when activations race.
 */
describe.each(backends())('license API store against %s', (backend) => {
  let table: TestTable;
  let store: DynamoEntitlementStore;
  let api: DynamoLicenseApiStore;
  beforeAll(async () => {
    table = await startTable(backend);
    store = new DynamoEntitlementStore(table.client, table.tableName);
    api = new DynamoLicenseApiStore(
      dynamodbClient({ endpoint: table.endpoint, region: 'us-east-1', credentials: () => ({ accessKeyId: 'local', secretAccessKey: 'local' }), maxAttempts: 1 }),
      table.tableName,
    );
  }, 180_000);
  afterAll(async () => table?.stop());

  it('writes a view, and an older version never replaces a newer one', async () => {
    const state = apply(undefined, grantEvent({ scope: 'view-1' }), ctx()).state;
    const [placed] = viewsToWrite(undefined, { ...state, version: 2 });
    await store.putViews([placed!]);
    await store.putViews([{ ...placed!, view: { ...placed!.view, status: 'revoked', v: 3 } }]);
    await store.putViews([{ ...placed!, view: { ...placed!.view, status: 'active', v: 2 } }]);
    expect((await api.read(placed!.partition)).view).toMatchObject({ status: 'revoked', v: 3 });
  });

  it('ten racing activations of a 3-seat license: exactly three are added', async () => {
    const partition = 'KEY#race-1';
    const seen: Activations = { instances: {}, usage: 0, exists: false };
    // Each racer decides from the same (empty) read, as concurrent requests would.
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => api.addInstance(partition, instance(`i${i}`), { limit: 3, budget: 100, today: '2026-01-10', seen })));
    expect(outcomes.filter((o) => o === 'added')).toHaveLength(1);
    // The losers read again and retry, as activate() does, until the limit stops them.
    for (let round = 0; round < 12; round++) {
      const now = (await api.read(partition, true)).activations;
      if (now.usage >= 3) break;
      const next = Array.from({ length: 10 }, (_, i) => `i${i}`).filter((id) => !now.instances[id]);
      await Promise.all(next.map((id) => api.addInstance(partition, instance(id), { limit: 3, budget: 100, today: '2026-01-10', seen: now })));
    }
    const final = (await api.read(partition, true)).activations;
    expect(final.usage).toBe(3);
    expect(Object.keys(final.instances)).toHaveLength(3);
    expect(final.instances[Object.keys(final.instances)[0]!]).toMatchObject({ name: expect.stringMatching(/^machine i\d$/), fp: expect.stringMatching(/^fp-i\d$/), created: 1_760_000_000 });
  });

  it('the same instance twice: the second is a conflict, and usage counts it once', async () => {
    const partition = 'KEY#same-1';
    expect(await api.addInstance(partition, instance('a'), { limit: 5, budget: 100, today: '2026-01-10', seen: { instances: {}, usage: 0, exists: false } })).toBe('added');
    const seen = (await api.read(partition, true)).activations;
    // A stale reader that did not see it yet.
    const stale: Activations = { ...seen, instances: {} };
    expect(await api.addInstance(partition, instance('a'), { limit: 5, budget: 100, today: '2026-01-10', seen: stale })).toBe('conflict');
    expect((await api.read(partition, true)).activations.usage).toBe(1);
  });

  it('the daily budget holds, and a new day starts a new count', async () => {
    const partition = 'KEY#budget-1';
    let seen: Activations = { instances: {}, usage: 0, exists: false };
    for (const id of ['a', 'b']) {
      expect(await api.addInstance(partition, instance(id), { limit: 10, budget: 2, today: '2026-01-10', seen })).toBe('added');
      seen = (await api.read(partition, true)).activations;
    }
    expect(seen).toMatchObject({ day: '2026-01-10', dayCount: 2 });
    expect(await api.addInstance(partition, instance('c'), { limit: 10, budget: 2, today: '2026-01-10', seen })).toBe('conflict');
    expect(await api.addInstance(partition, instance('c'), { limit: 10, budget: 2, today: '2026-01-11', seen })).toBe('added');
    expect((await api.read(partition, true)).activations).toMatchObject({ day: '2026-01-11', dayCount: 1, usage: 3 });
  });

  it('removing frees the seat once; removing again says it was not there', async () => {
    const partition = 'KEY#remove-1';
    await api.addInstance(partition, instance('a'), { limit: 1, budget: 10, today: '2026-01-10', seen: { instances: {}, usage: 0, exists: false } });
    expect(await api.removeInstance(partition, 'a')).toBe(true);
    expect(await api.removeInstance(partition, 'a')).toBe(false);
    const after = (await api.read(partition, true)).activations;
    expect(after.usage).toBe(0);
    expect(await api.addInstance(partition, instance('b'), { limit: 1, budget: 10, today: '2026-01-10', seen: after })).toBe('added');
  });
});
