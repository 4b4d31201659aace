import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../../../functions/domain/catalog';
import { apply, type Entitlement } from '../../../functions/domain/entitlement';
import { fulfillmentEventSchema } from '../../../functions/domain/eventSchema';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { lemonsqueezy } from '../../../functions/providers/lemonsqueezy';
import { lemonsqueezySample } from '../../../functions/providers/lemonsqueezy/sample';
import { catalogWith, exampleCatalog, LICENSE_SECRET, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

const SECRET = 'ls-signing-secret-1';
const RECEIVED = new Date('2026-03-02T10:16:00Z');
const FIXTURES = join(__dirname, '..', '..', '..', 'functions', 'providers', 'lemonsqueezy', 'fixtures');

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

/** Signed independently of keysmith's code: node:crypto, as Lemon Squeezy's docs show. */
function signed(body: Buffer | object, secret = SECRET, headers: Record<string, string> = {}): WebhookRequest {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return {
    method: 'POST',
    path: '/webhooks/lemonsqueezy',
    routeKey: 'POST /webhooks/lemonsqueezy',
    pathParameters: {},
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', secret).update(bytes).digest('hex'), ...headers },
    rawQuery: '',
    body: bytes,
    receivedAt: RECEIVED,
    requestId: 'r1',
  };
}

async function deliver(req: WebhookRequest, options: { catalog?: Catalog; secrets?: ReturnType<typeof testSecrets>; logs?: string[] } = {}) {
  const queue = new MemoryQueue();
  const answer = await runIngress(lemonsqueezy, req, {
    queue,
    catalog: options.catalog ?? exampleCatalog(),
    secrets: async () => options.secrets ?? testSecrets({ KEYSMITH_LEMONSQUEEZY_SECRET: SECRET }),
    log: silentLogger(options.logs),
  });
  return { answer, queue, event: queue.sent[0] };
}

/** A built-in sample as the ingress receives it. */
function sample(event: string, orderId = '1841209'): WebhookRequest {
  const built = lemonsqueezySample.build({ secrets: { KEYSMITH_LEMONSQUEEZY_SECRET: SECRET }, event, orderId, email: 'ada@example.com' });
  return {
    method: 'POST',
    path: built.path,
    routeKey: 'POST /webhooks/lemonsqueezy',
    pathParameters: {},
    headers: built.headers,
    rawQuery: '',
    body: built.body,
    receivedAt: RECEIVED,
    requestId: 'r',
  };
}

describe('Lemon Squeezy ingress: the documented order', () => {
  it('grants order_created (paid): the order is the scope, one item with its variant as sku', async () => {
    const { answer, queue, event } = await deliver(signed(fixture('order-created.json')));
    expect(answer).toEqual({ status: 200, body: 'OK\n' });
    expect(queue.sent).toHaveLength(1);
    expect(fulfillmentEventSchema.parse(event)).toEqual({
      provider: 'lemonsqueezy',
      eventId: 'order_created:orders:1841209:2026-03-02T10:15:27.000000Z',
      businessKey: 'grant#1841209',
      occurredAt: '2026-03-02T10:15:27.000Z',
      action: 'grant',
      reason: 'order_created',
      scope: '1841209',
      reference: '89b36ec8-e5a3-4d3c-9cd5-0fa3e0d28e2b',
      live: false,
      customer: { email: 'ada@example.com', name: 'Ada Lovelace' },
      items: [{ productId: '301457', sku: '412388', quantity: 2, name: 'Rocket Editor – Pro' }],
    });
  });

  it('names the variant as the product when the catalog lists `{product}:{variant}`', async () => {
    const base = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'config', 'keysmith.example.json'), 'utf8'));
    const catalog = catalogWith({ products: { ...base.products, pro: { ...base.products.default, name: 'Pro', match: { lemonsqueezy: ['301457:412388'] } } } });
    const { event } = await deliver(signed(fixture('order-created.json')), { catalog });
    expect(event!.items[0]!.productId).toBe('301457:412388');
  });

  it('is live when the store is not in test mode, reading the envelope first', async () => {
    const body = fixture('order-created.json');
    body.meta.test_mode = false;
    expect((await deliver(signed(body))).event!.live).toBe(true);
    delete body.meta.test_mode;
    expect((await deliver(signed(body))).event!.live).toBe(false);
    body.data.attributes.test_mode = false;
    expect((await deliver(signed(body))).event!.live).toBe(true);
  });

  it('records an order that is not paid (pending, failed), granting nothing', async () => {
    const body = fixture('order-created.json');
    body.data.attributes.status = 'pending';
    const { answer, event } = await deliver(signed(body));
    expect(answer.status).toBe(200);
    expect(event).toMatchObject({ action: 'record', scope: '1841209' });
    expect(event!.businessKey).toBeUndefined();
  });
});

describe('Lemon Squeezy ingress: X-Signature', () => {
  it.each([
    ['another secret', () => signed(fixture('order-created.json'), 'another-secret')],
    ['no X-Signature', () => ({ ...signed(fixture('order-created.json')), headers: { 'content-type': 'application/json' } })],
    ['a digest that is not hex', () => signed(fixture('order-created.json'), SECRET, { 'x-signature': 'z'.repeat(64) })],
    [
      'a truncated digest',
      () => {
        const r = signed(fixture('order-created.json'));
        return { ...r, headers: { ...r.headers, 'x-signature': r.headers['x-signature']!.slice(0, 63) } };
      },
    ],
    [
      'a base64 digest',
      () => {
        const r = signed(fixture('order-created.json'));
        return { ...r, headers: { ...r.headers, 'x-signature': Buffer.from(r.headers['x-signature']!, 'hex').toString('base64') } };
      },
    ],
    [
      'a body changed after signing',
      () => {
        const r = signed(fixture('order-created.json'));
        return { ...r, body: Buffer.from(r.body.toString().replace('"quantity":2', '"quantity":9')) };
      },
    ],
    [
      'the signature of the re-serialized body',
      () => {
        const body = Buffer.from(JSON.stringify(fixture('order-created.json'), null, 2));
        return { ...signed(Buffer.from(JSON.stringify(JSON.parse(body.toString())))), body };
      },
    ],
  ])('refuses %s with 401 and enqueues nothing', async (_name, make) => {
    const logs: string[] = [];
    const { answer, queue } = await deliver(make(), { logs });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^UNAUTHORIZED: .*X-Signature/);
    expect(answer.body + logs.join('\n')).not.toContain(SECRET);
    expect(queue.sent).toHaveLength(0);
  });

  it('accepts an upper-case hex digest (the comparison is over bytes)', async () => {
    const r = signed(fixture('order-created.json'));
    expect((await deliver({ ...r, headers: { ...r.headers, 'x-signature': r.headers['x-signature']!.toUpperCase() } })).answer.status).toBe(200);
  });

  it('refuses everything while the secret is not set', async () => {
    const { answer, queue } = await deliver(signed(fixture('order-created.json')), { secrets: testSecrets() });
    expect(answer.status).toBe(401);
    expect(answer.body).toBe('NOT_CONFIGURED: KEYSMITH_LEMONSQUEEZY_SECRET is not set; no request can be verified\n');
    expect(queue.sent).toHaveLength(0);
  });

  it('accepts the previous secret during a rotation', async () => {
    const secrets = testSecrets({ KEYSMITH_LEMONSQUEEZY_SECRET: 'new-secret', KEYSMITH_LEMONSQUEEZY_SECRET_PREVIOUS: SECRET });
    expect((await deliver(signed(fixture('order-created.json')), { secrets })).answer.status).toBe(200);
    expect((await deliver(signed(fixture('order-created.json'), 'new-secret'), { secrets })).answer.status).toBe(200);
    expect((await deliver(signed(fixture('order-created.json'), 'older'), { secrets })).answer.status).toBe(401);
  });

  it('reads the event from the signed body, not from the unsigned X-Event-Name header', async () => {
    const { event } = await deliver(signed(fixture('order-created.json'), SECRET, { 'x-event-name': 'order_refunded' }));
    expect(event).toMatchObject({ action: 'grant', reason: 'order_created' });
  });
});

describe('Lemon Squeezy ingress: every event kind of the samples', () => {
  it.each([
    ['order_created', { action: 'grant', scope: '1841209', businessKey: 'grant#1841209' }],
    ['order_refunded', { action: 'revoke', scope: '1841209', items: [] }],
    ['subscription_created', { action: 'extend', scope: '1841209', orderId: '1841209', subscription: { id: '1841209', periodEnd: '2027-03-02T10:16:00.000Z' } }],
    ['subscription_updated', { action: 'extend', scope: '1841209' }],
    ['subscription_cancelled', { action: 'revoke', scope: '1841209', effectiveAt: '2027-03-02T10:16:00.000Z' }],
    ['subscription_resumed', { action: 'reinstate', scope: '1841209' }],
    ['subscription_expired', { action: 'revoke', scope: '1841209' }],
    ['subscription_paused', { action: 'suspend', scope: '1841209' }],
    ['subscription_unpaused', { action: 'reinstate', scope: '1841209' }],
    ['subscription_payment_success', { action: 'record', scope: '1841209', subscription: { id: '1841209' } }],
    ['subscription_payment_refunded', { action: 'revoke', scope: '1841209', subscription: { id: '1841209' }, items: [] }],
  ])('%s → %o', async (name, expected) => {
    jest.useFakeTimers({ now: RECEIVED, doNotFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance'] });
    try {
      const { answer, event } = await deliver(sample(name));
      expect(answer.status).toBe(200);
      expect(event).toMatchObject({ provider: 'lemonsqueezy', reason: name, live: false, customer: { email: 'ada@example.com' }, ...expected });
      expect(event!.eventId.startsWith(`${name}:`)).toBe(true);
      if (name === 'subscription_expired') expect(event!.effectiveAt).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('lists exactly the events it maps, order_created first', () => {
    expect(lemonsqueezySample.events[0]).toBe('order_created');
    expect(new Set(lemonsqueezySample.events).size).toBe(11);
  });

  it('a subscription payment refunded in full revokes the subscription once; a partial refund is stored only', async () => {
    const document = fixture('subscription-payment-success.json');
    const refund = (status: string, refunded: boolean | undefined) => {
      const copy = structuredClone(document);
      copy.meta.event_name = 'subscription_payment_refunded';
      Object.assign(copy.data.attributes, { status, refunded });
      if (!status) delete copy.data.attributes.status;
      return Buffer.from(JSON.stringify(copy));
    };
    const full = (await deliver(signed(refund('refunded', true)))).event!;
    expect(full).toMatchObject({ action: 'revoke', businessKey: `refund#invoice:${document.data.id}`, subscription: { id: String(document.data.attributes.subscription_id) } });
    expect((await deliver(signed(refund('partial_refund', true)))).event).toMatchObject({ action: 'record' });
    expect((await deliver(signed(refund('', true)))).event).toMatchObject({ action: 'revoke' });
    // The same invoice's success event is never a refund.
    expect((await deliver(signed(fixture('subscription-payment-success.json')))).event).toMatchObject({ action: 'record' });
  });

  it('gives the refund of an order a different event id on the same scope as its grant', async () => {
    const grant = (await deliver(sample('order_created'))).event!;
    const refund = (await deliver(sample('order_refunded'))).event!;
    expect(refund.eventId).not.toBe(grant.eventId);
    expect(refund.scope).toBe(grant.scope);
  });

  it('gives an identical delivery the identical answer and event', async () => {
    const req = signed(fixture('order-created.json'));
    const first = await deliver(req);
    const second = await deliver(req);
    expect(second.answer).toEqual(first.answer);
    expect(second.event).toEqual(first.event);
  });
});

describe('Lemon Squeezy ingress: decisions where the docs are silent', () => {
  it('records a partial refund (status partial_refund, refunded false)', async () => {
    const body = fixture('order-created.json');
    Object.assign(body.meta, { event_name: 'order_refunded' });
    Object.assign(body.data.attributes, { status: 'partial_refund', refunded: false, refunded_amount: 1000 });
    expect((await deliver(signed(body))).event).toMatchObject({ action: 'record', reason: 'order_refunded' });
  });

  it('records a pause in `free` mode (the customer keeps using it)', async () => {
    const body = fixture('subscription-created.json');
    Object.assign(body.meta, { event_name: 'subscription_paused' });
    Object.assign(body.data.attributes, { status: 'paused', pause: { mode: 'free', resumes_at: null } });
    expect((await deliver(signed(body))).event).toMatchObject({ action: 'record', scope: '1841209' });
  });

  it('subscription_updated extends an active subscription and re-states a cancellation or expiry', async () => {
    const body = fixture('subscription-created.json');
    Object.assign(body.meta, { event_name: 'subscription_updated' });
    for (const [status, cancelled, action, effectiveAt] of [
      ['active', false, 'extend', undefined],
      ['on_trial', false, 'extend', undefined],
      ['active', true, 'record', undefined],
      ['past_due', false, 'record', undefined],
      ['paused', false, 'record', undefined],
      ['cancelled', true, 'revoke', '2027-03-02T10:15:27.000Z'],
      ['expired', true, 'revoke', undefined],
    ] as const) {
      Object.assign(body.data.attributes, { status, cancelled });
      const { event } = await deliver(signed(body));
      expect([event!.action, event!.effectiveAt]).toEqual([action, effectiveAt]);
    }
  });

  it('an older subscription_updated that overtook the cancellation is corrected by the next one', async () => {
    const ctx = { catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: RECEIVED };
    const updated = (status: string, at: string) => {
      const body = fixture('subscription-created.json');
      Object.assign(body.meta, { event_name: 'subscription_updated' });
      Object.assign(body.data.attributes, { status, cancelled: status === 'cancelled', ends_at: status === 'cancelled' ? '2027-03-02T10:15:27.000000Z' : null, updated_at: at });
      return body;
    };
    const cancelled = fixture('subscription-created.json');
    Object.assign(cancelled.meta, { event_name: 'subscription_cancelled' });
    Object.assign(cancelled.data.attributes, { status: 'cancelled', cancelled: true, ends_at: '2027-03-02T10:15:27.000000Z', updated_at: '2026-06-01T00:00:00.000000Z' });
    let state: Entitlement | undefined;
    for (const body of [fixture('order-created.json'), cancelled, updated('active', '2026-05-31T00:00:00.000000Z'), updated('cancelled', '2026-06-01T00:00:00.000000Z')]) {
      state = apply(state, (await deliver(signed(body))).event!, ctx).state;
    }
    expect(state!.holds.map((h) => [h.kind, h.until])).toEqual([['period-end', '2027-03-02T10:15:27.000Z']]);
  });

  it('a cancellation without ends_at ends at renews_at', async () => {
    const body = fixture('subscription-created.json');
    Object.assign(body.meta, { event_name: 'subscription_cancelled' });
    Object.assign(body.data.attributes, { status: 'cancelled', cancelled: true, ends_at: null });
    expect((await deliver(signed(body))).event).toMatchObject({ action: 'revoke', effectiveAt: '2027-03-02T10:15:27.000Z' });
  });

  it('answers 200 for events about other objects (license keys) and enqueues nothing', async () => {
    const body = { meta: { event_name: 'license_key_created', test_mode: true }, data: { type: 'license-keys', id: '99', attributes: { key: 'x' } } };
    const { answer, queue } = await deliver(signed(body));
    expect(answer).toEqual({ status: 200, body: 'OK: "license-keys" events are ignored; keysmith handles orders, subscriptions, subscription-invoices\n' });
    expect(queue.sent).toHaveLength(0);
  });

  it.each([
    ['not JSON', Buffer.from('{"meta": ')],
    ['no meta', Buffer.from(JSON.stringify({ data: fixture('order-created.json').data }))],
    ['an order without first_order_item', Buffer.from(JSON.stringify({ ...fixture('order-created.json'), data: { ...fixture('order-created.json').data, attributes: { status: 'paid' } } }))],
    [
      'a negative quantity',
      (() => {
        const b = fixture('order-created.json');
        b.data.attributes.first_order_item.quantity = -1;
        return Buffer.from(JSON.stringify(b));
      })(),
    ],
    [
      'a subscription without order_id',
      (() => {
        const b = fixture('subscription-created.json');
        delete b.data.attributes.order_id;
        return Buffer.from(JSON.stringify(b));
      })(),
    ],
  ])('refuses an authenticated body with %s with 400', async (_name, body) => {
    const { answer, queue } = await deliver(signed(body));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/^MALFORMED: /);
    expect(queue.sent).toHaveLength(0);
  });

  it('answers 413 for an oversized body before checking the signature', async () => {
    const { answer } = await deliver({ ...signed(Buffer.alloc(lemonsqueezy.maxBodyBytes + 1, 0x20)), headers: {} });
    expect(answer.status).toBe(413);
  });
});

describe('Lemon Squeezy events applied to one entitlement', () => {
  const ctx = { catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: RECEIVED };
  async function run(names: string[]): Promise<Entitlement> {
    let state: Entitlement | undefined;
    for (const name of names) {
      const { answer, event } = await deliver(sample(name));
      expect(answer.status).toBe(200);
      state = apply(state, event as FulfillmentEvent, ctx).state;
    }
    return state!;
  }

  it('order → two licenses; subscription_cancelled keeps them until ends_at; resumed lifts that', async () => {
    const cancelled = await run(['order_created', 'subscription_created', 'subscription_cancelled']);
    expect(cancelled.licenses.map((l) => l.status)).toEqual(['active', 'active']);
    expect(cancelled.holds.map((h) => h.kind)).toEqual(['period-end']);
    const resumed = await run(['order_created', 'subscription_cancelled', 'subscription_resumed']);
    expect(resumed.holds).toEqual([]);
  });

  it('paused suspends, unpaused reinstates; expired and refunded revoke for good', async () => {
    expect((await run(['order_created', 'subscription_paused'])).licenses.map((l) => l.status)).toEqual(['suspended', 'suspended']);
    expect((await run(['order_created', 'subscription_paused', 'subscription_unpaused'])).licenses.map((l) => l.status)).toEqual(['active', 'active']);
    expect((await run(['order_created', 'subscription_expired', 'subscription_resumed'])).licenses.map((l) => l.status)).toEqual(['revoked', 'revoked']);
    expect((await run(['order_created', 'order_refunded'])).status).toBe('revoked');
  });
});
