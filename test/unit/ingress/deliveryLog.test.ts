import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DeliveryLog, DeliveryRecord, PredictedLicenses } from '../../../functions/aws/deliveryLog';
import { deliveryItem, deliveryWrites } from '../../../functions/aws/deliveryLog';
import { runIngress } from '../../../functions/ingress/pipeline';
import { fastspring } from '../../../functions/providers/fastspring';
import { hotmart } from '../../../functions/providers/hotmart';
import { stripe } from '../../../functions/providers/stripe';
import { processEvent } from '../../../functions/worker/processEvent';
import { catalogWith, exampleCatalog, fixture, LICENSE_SECRET, testSecrets } from '../../helpers/fixtures';
import { MemoryMailer, MemoryQueue, MemoryStore, silentLogger } from '../../helpers/memory';

class RecordingLog implements DeliveryLog {
  readonly records: { record: DeliveryRecord; predicted: PredictedLicenses[] }[] = [];
  constructor(private readonly ok = true) {}
  async record(record: DeliveryRecord, predicted: PredictedLicenses[]) {
    this.records.push({ record, predicted });
    return this.ok;
  }
}

const SECRET = 'fs-secret';
const body = fixture('fastspring-order-completed.json');
const request = (headers: Record<string, string> = { 'x-fs-signature': createHmac('sha256', SECRET).update(body).digest('base64') }) => ({
  method: 'POST',
  path: '/webhooks/fastspring',
  routeKey: 'POST /webhooks/fastspring',
  pathParameters: {},
  headers,
  rawQuery: '',
  body,
  receivedAt: new Date('2026-01-01T00:00:00Z'),
  requestId: 'req-1',
});

async function deliver(log: RecordingLog, headers?: Record<string, string>) {
  const queue = new MemoryQueue();
  const answer = await runIngress(fastspring, request(headers), {
    queue,
    deliveries: log,
    catalog: exampleCatalog(),
    secrets: async () => testSecrets({ KEYSMITH_FASTSPRING_SECRET: SECRET }),
    log: silentLogger(),
  });
  return { answer, queue };
}

describe('delivery log and predicted lookups', () => {
  it('records a verified delivery with its events and the licenses its grant will issue', async () => {
    const log = new RecordingLog();
    const { answer, queue } = await deliver(log);
    expect(answer.status).toBe(200);
    const [{ record, predicted }] = log.records as [(typeof log.records)[number]];
    expect(record).toMatchObject({ provider: 'fastspring', deliveryId: 'req-1', route: 'POST /webhooks/fastspring' });
    expect(record.payload.equals(body)).toBe(true);
    expect(predicted[0]!.licenses).toHaveLength(2);
    expect(queue.sent[0]!.indexed).toEqual(predicted[0]!.licenses.map((l) => l.licenseId));
  });

  it('the worker then skips the lookup write (3 store calls → 2) and issues exactly the predicted licenses', async () => {
    const log = new RecordingLog();
    const { queue } = await deliver(log);
    const store = new MemoryStore();
    const result = await processEvent(
      queue.sent[0]!,
      { store, mailer: new MemoryMailer(), context: () => ({ catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: new Date() }), log: silentLogger() },
      { firstDelivery: true, claimToken: 'm' },
    );
    expect(result.state.licenses.map((l) => [l.licenseId, l.key])).toEqual(log.records[0]!.predicted[0]!.licenses.map((l) => [l.licenseId, l.key]));
    // State write and record; the license views (one put each) are the license API's, not lookups.
    expect(store.views.size).toBe(2);
    expect(store.calls - store.views.size).toBe(2);
    expect(result.applied.lookups).toBe('done');
  });

  it('when the log cannot be written the events carry no index claim and are still enqueued', async () => {
    const { answer, queue } = await deliver(new RecordingLog(false));
    expect(answer.status).toBe(200);
    expect(queue.sent[0]!.indexed).toBeUndefined();
  });

  it('writes payment links with the log, so the worker does not: no extra call for a Stripe subscription invoice', async () => {
    const invoice = readFileSync(join(__dirname, '..', '..', '..', 'functions', 'providers', 'stripe', 'fixtures', 'invoice-paid-legacy.json'));
    const ts = Math.floor(Date.now() / 1000);
    const stripeSecret = 'whsec_test_links';
    const signature = `t=${ts},v1=${createHmac('sha256', stripeSecret).update(`${ts}.`).update(invoice).digest('hex')}`;
    const send = async (log: RecordingLog) => {
      const queue = new MemoryQueue();
      await runIngress(
        stripe,
        { ...request({ 'stripe-signature': signature, 'content-type': 'application/json' }), path: '/webhooks/stripe', routeKey: 'POST /webhooks/stripe', body: invoice, receivedAt: new Date() },
        { queue, deliveries: log, catalog: exampleCatalog(), secrets: async () => testSecrets({ KEYSMITH_STRIPE_WEBHOOK_SECRET: stripeSecret }), log: silentLogger() },
      );
      return queue.sent[0]!;
    };
    const logged = new RecordingLog();
    const event = await send(logged);
    expect(event).toMatchObject({ links: ['pi_3PbRk0LkdIwHu7ix0Renew01', 'ch_3PbRk0LkdIwHu7ix1aBcDeFg', 'in_1PbRjzLkdIwHu7ixRenew001'], linked: true });
    const items = deliveryWrites(logged.records[0]!.record, logged.records[0]!.predicted).map((w) => w.PutRequest!.Item!);
    expect(items.filter((i) => i.pk!.S!.startsWith('SUB#')).map((i) => [i.pk!.S, i.scope!.S])).toEqual(event.links!.map((id) => [`SUB#stripe#${id}`, 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp']));

    const worker = async (e: typeof event) => {
      const store = new MemoryStore();
      let links = 0;
      const real = store.putLinks.bind(store);
      store.putLinks = async (...args) => {
        links++;
        return real(...args);
      };
      await processEvent(
        e,
        { store, mailer: new MemoryMailer(), context: () => ({ catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: new Date() }), log: silentLogger() },
        { firstDelivery: true, claimToken: 'm' },
      );
      return links;
    };
    expect(await worker(event)).toBe(0);
    // The log could not be written: the event claims nothing, and the worker writes the links.
    const unlogged = await send(new RecordingLog(false));
    expect(unlogged.linked).toBeUndefined();
    expect(await worker(unlogged)).toBe(1);
  });

  it('records nothing for a forged request', async () => {
    const log = new RecordingLog();
    const { answer } = await deliver(log, { 'x-fs-signature': 'forged' });
    expect(answer.status).toBe(401);
    expect(log.records).toHaveLength(0);
  });

  it('stores the payload compressed, with a TTL and a day index', () => {
    const item = deliveryItem({ provider: 'fastspring', deliveryId: 'd1', receivedAt: new Date('2026-01-01T10:00:00Z'), route: 'POST /webhooks/fastspring', payload: body, events: [] }, 30);
    expect(gunzipSync(item.payload!.B!).equals(body)).toBe(true);
    expect(item.ttl!.N).toBe(String(Date.parse('2026-01-31T10:00:00Z') / 1000));
    expect(item.gsi3pk!.S).toBe('DLV#2026-01-01');
    expect(item.payload!.B!.length).toBeLessThan(body.length);
  });

  it('keeps no hottok: a body-authenticated Hotmart delivery is logged without it and still replays to the same events', async () => {
    // Prepare: Hotmart's v2 body carries the account hottok when the header is absent.
    const HOTTOK = 'hottok-account-secret-0123456789';
    const envelope = { ...(JSON.parse(fixture('hotmart-purchase-approved.json').toString('utf8')) as Record<string, unknown>), hottok: HOTTOK };
    const hotmartBody = Buffer.from(JSON.stringify(envelope));
    const log = new RecordingLog();
    const queue = new MemoryQueue();
    const secrets = async () => testSecrets({ KEYSMITH_HOTMART_HOTTOK: HOTTOK });

    // Act
    const answer = await runIngress(
      hotmart,
      { ...request({ 'content-type': 'application/json' }), path: '/webhooks/hotmart', routeKey: 'POST /webhooks/hotmart', body: hotmartBody },
      { queue, deliveries: log, catalog: catalogWith({ hotmartAcceptTestProduct: true }), secrets, log: silentLogger() },
    );

    // Assess: accepted, logged without the secret anywhere in the stored bytes …
    expect(answer.status).toBe(200);
    expect(queue.sent).toHaveLength(1);
    const stored = gunzipSync(deliveryItem(log.records[0]!.record).payload!.B!);
    expect(stored.toString('utf8')).not.toContain(HOTTOK);
    expect(stored.toString('utf8')).not.toContain('hottok');
    // … and what replay does with a logged payload (parse + normalize, no re-verification) gives
    // the events the live delivery enqueued.
    const ctx = { catalog: catalogWith({ hotmartAcceptTestProduct: true }), secrets: await secrets() } as Parameters<typeof hotmart.normalize>[2];
    const replayed = hotmart.normalize(hotmart.parse({ body: stored }, request()), request(), ctx);
    expect(replayed.map((e) => [e.eventId, e.action, e.scope])).toEqual(queue.sent.map((e) => [e.eventId, e.action, e.scope]));
  });
});
