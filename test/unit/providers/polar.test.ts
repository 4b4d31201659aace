import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { apply, type Entitlement } from '../../../functions/domain/entitlement';
import { fulfillmentEventSchema } from '../../../functions/domain/eventSchema';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { polar } from '../../../functions/providers/polar';
import { polarSample, sampleSubscriptionId } from '../../../functions/providers/polar/sample';
import { POLAR_TOLERANCE_SECONDS } from '../../../functions/providers/polar/verify';
import { exampleCatalog, LICENSE_SECRET, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

/** As Polar shows an endpoint's secret. */
const SECRET = 'whsec_ovyN6cPrTv56AApvzCaJno08SSmGJmgbWilb33N2JuK';
const RECEIVED = new Date('2026-03-02T10:15:30Z');
const FIXTURES = join(__dirname, '..', '..', '..', 'functions', 'providers', 'polar', 'fixtures');

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

/**
 * Signed by the `standardwebhooks` reference library exactly as Polar's server and SDK use it:
 * the shown secret's UTF-8 bytes, base64-encoded, as the library's key.
 */
function signed(body: Buffer | object, options: { secret?: string; at?: Date; id?: string; receivedAt?: Date } = {}): WebhookRequest {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const at = options.at ?? RECEIVED;
  const id = options.id ?? 'msg_2tYfRV7a0n1JkQbWJ8Xc3kLm9Pq';
  const signature = new Webhook(Buffer.from(options.secret ?? SECRET, 'utf8').toString('base64')).sign(id, at, bytes.toString('utf8'));
  return {
    method: 'POST',
    path: '/webhooks/polar',
    routeKey: 'POST /webhooks/polar',
    pathParameters: {},
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature },
    rawQuery: '',
    body: bytes,
    receivedAt: options.receivedAt ?? RECEIVED,
    requestId: 'r1',
  };
}

async function deliver(req: WebhookRequest, options: { secrets?: ReturnType<typeof testSecrets>; logs?: string[] } = {}) {
  const queue = new MemoryQueue();
  const answer = await runIngress(polar, req, {
    queue,
    catalog: exampleCatalog(),
    secrets: async () => options.secrets ?? testSecrets({ KEYSMITH_POLAR_WEBHOOK_SECRET: SECRET }),
    log: silentLogger(options.logs),
  });
  return { answer, queue, event: queue.sent[0] };
}

/** A built-in sample as the ingress receives it, now. */
function sample(event: string, orderId = '0f7c1c58-4d0e-4f37-9b55-3f1a7b0e9c21'): WebhookRequest {
  const built = polarSample.build({ secrets: { KEYSMITH_POLAR_WEBHOOK_SECRET: SECRET }, event, orderId, email: 'ada@example.com' });
  return { method: 'POST', path: built.path, routeKey: 'POST /webhooks/polar', pathParameters: {}, headers: built.headers, rawQuery: '', body: built.body, receivedAt: new Date(), requestId: 'r' };
}

describe('Polar ingress: the documented order.paid', () => {
  it('grants a one-time purchase: the order is the scope, the webhook-id the event id', async () => {
    const { answer, queue, event } = await deliver(signed(fixture('order-paid.json')));
    expect(answer).toEqual({ status: 200, body: 'OK\n' });
    expect(queue.sent).toHaveLength(1);
    expect(fulfillmentEventSchema.parse(event)).toEqual({
      provider: 'polar',
      eventId: 'msg_2tYfRV7a0n1JkQbWJ8Xc3kLm9Pq',
      businessKey: 'grant#0f7c1c58-4d0e-4f37-9b55-3f1a7b0e9c21',
      occurredAt: '2026-03-02T10:15:28.412Z',
      action: 'grant',
      reason: 'order.paid',
      scope: '0f7c1c58-4d0e-4f37-9b55-3f1a7b0e9c21',
      orderId: '0f7c1c58-4d0e-4f37-9b55-3f1a7b0e9c21',
      live: true,
      customer: { email: 'ada@example.com', name: 'Ada Lovelace', locale: 'en' },
      items: [{ productId: '5b3c2a7e-8f0d-4c61-a1d2-6e4f9b8c7a10', quantity: 1, name: 'Rocket Editor Pro' }],
    });
  });

  it('grants seats for a seat-based order', async () => {
    const body = fixture('order-paid.json');
    body.data.seats = 5;
    expect((await deliver(signed(body))).event!.items[0]!.quantity).toBe(5);
  });
});

describe('Polar ingress: Standard Webhooks signature and its secret encoding', () => {
  it('keys the HMAC with the UTF-8 bytes of the secret as shown, `whsec_` included', async () => {
    // The Standard Webhooks convention would strip `whsec_` and base64-decode the rest; Polar
    // does not. A request signed that way is refused, one signed Polar's way accepted.
    const standardWay = signed(fixture('order-paid.json'));
    standardWay.headers['webhook-signature'] = new Webhook(SECRET).sign(standardWay.headers['webhook-id']!, RECEIVED, standardWay.body.toString());
    expect((await deliver(standardWay)).answer.status).toBe(401);
    expect((await deliver(signed(fixture('order-paid.json')))).answer.status).toBe(200);
  });

  it('accepts an older `polar_whs_` secret the same way', async () => {
    const old = 'polar_whs_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFGH';
    const secrets = testSecrets({ KEYSMITH_POLAR_WEBHOOK_SECRET: old });
    expect((await deliver(signed(fixture('order-paid.json'), { secret: old }), { secrets })).answer.status).toBe(200);
  });

  it('accepts a timestamp within ±300 s and refuses one outside, as stale or future-dated', async () => {
    const at = (seconds: number) => new Date(RECEIVED.getTime() + seconds * 1000);
    for (const seconds of [-POLAR_TOLERANCE_SECONDS, -120, 0, 120, POLAR_TOLERANCE_SECONDS]) {
      expect((await deliver(signed(fixture('order-paid.json'), { at: at(seconds) }))).answer.status).toBe(200);
    }
    const stale = await deliver(signed(fixture('order-paid.json'), { at: at(-POLAR_TOLERANCE_SECONDS - 1) }));
    expect(stale.answer.status).toBe(401);
    expect(stale.answer.body).toMatch(/webhook-timestamp is 301 s old \(tolerance 300 s\)/);
    expect(stale.queue.sent).toHaveLength(0);
    const future = await deliver(signed(fixture('order-paid.json'), { at: at(POLAR_TOLERANCE_SECONDS + 60) }));
    expect(future.answer.status).toBe(401);
    expect(future.answer.body).toMatch(/in the future/);
  });

  it.each([
    ['another secret', () => signed(fixture('order-paid.json'), { secret: 'whsec_other' })],
    [
      'no webhook-signature',
      () => {
        const r = signed(fixture('order-paid.json'));
        delete r.headers['webhook-signature'];
        return r;
      },
    ],
    [
      'no webhook-id',
      () => {
        const r = signed(fixture('order-paid.json'));
        delete r.headers['webhook-id'];
        return r;
      },
    ],
    ['another webhook-id than was signed', () => ({ ...signed(fixture('order-paid.json')), headers: { ...signed(fixture('order-paid.json')).headers, 'webhook-id': 'msg_other' } })],
    [
      'a timestamp that is not a number',
      () => {
        const r = signed(fixture('order-paid.json'));
        r.headers['webhook-timestamp'] = '2026-03-02T10:15:30Z';
        return r;
      },
    ],
    [
      'a timestamp changed after signing',
      () => {
        const r = signed(fixture('order-paid.json'));
        r.headers['webhook-timestamp'] = String(Number(r.headers['webhook-timestamp']) + 1);
        return r;
      },
    ],
    [
      'a body changed after signing',
      () => {
        const r = signed(fixture('order-paid.json'));
        return { ...r, body: Buffer.from(r.body.toString().replace('"seats":null', '"seats":50')) };
      },
    ],
    [
      'only a v2 signature',
      () => {
        const r = signed(fixture('order-paid.json'));
        r.headers['webhook-signature'] = r.headers['webhook-signature']!.replace('v1,', 'v2,');
        return r;
      },
    ],
    [
      'a signature that is not base64',
      () => {
        const r = signed(fixture('order-paid.json'));
        r.headers['webhook-signature'] = 'v1,!!!';
        return r;
      },
    ],
  ])('refuses %s with 401 and enqueues nothing', async (_name, make) => {
    const logs: string[] = [];
    const { answer, queue } = await deliver(make(), { logs });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^UNAUTHORIZED: /);
    expect(answer.body + logs.join('\n')).not.toContain(SECRET);
    expect(queue.sent).toHaveLength(0);
  });

  it('accepts a list of signatures when one matches (Standard Webhooks rotation)', async () => {
    const r = signed(fixture('order-paid.json'));
    r.headers['webhook-signature'] = `v1,${Buffer.alloc(32).toString('base64')} v1a,xyz ${r.headers['webhook-signature']}`;
    expect((await deliver(r)).answer.status).toBe(200);
  });

  it('accepts the previous secret during a rotation', async () => {
    const secrets = testSecrets({ KEYSMITH_POLAR_WEBHOOK_SECRET: 'whsec_new', KEYSMITH_POLAR_WEBHOOK_SECRET_PREVIOUS: SECRET });
    expect((await deliver(signed(fixture('order-paid.json')), { secrets })).answer.status).toBe(200);
    expect((await deliver(signed(fixture('order-paid.json'), { secret: 'whsec_new' }), { secrets })).answer.status).toBe(200);
  });

  it('refuses everything while the secret is not set', async () => {
    const { answer } = await deliver(signed(fixture('order-paid.json')), { secrets: testSecrets() });
    expect(answer).toMatchObject({ status: 401, body: 'NOT_CONFIGURED: KEYSMITH_POLAR_WEBHOOK_SECRET is not set; no request can be verified\n' });
  });

  it("keysmith's own samples verify with the reference library", () => {
    const built = polarSample.build({ secrets: { KEYSMITH_POLAR_WEBHOOK_SECRET: SECRET } });
    const verified = new Webhook(Buffer.from(SECRET, 'utf8').toString('base64')).verify(built.body.toString(), built.headers) as Json;
    expect(verified.type).toBe('order.paid');
  });
});

describe('Polar ingress: every event kind of the samples', () => {
  const order = '0f7c1c58-4d0e-4f37-9b55-3f1a7b0e9c21';
  const subscription = sampleSubscriptionId(order);
  it.each([
    ['order.paid', { action: 'grant', scope: order, orderId: order, businessKey: `grant#${order}` }],
    ['order.paid:subscription_create', { action: 'grant', scope: subscription, orderId: order, reason: 'order.paid', subscription: { id: subscription } }],
    ['order.paid:subscription_cycle', { action: 'extend', scope: subscription, reason: 'order.paid', businessKey: `extend#${order}`, items: [] }],
    ['order.refunded', { action: 'revoke', scope: order, items: [] }],
    ['subscription.active', { action: 'reinstate', scope: subscription }],
    ['subscription.canceled', { action: 'revoke', scope: subscription }],
    ['subscription.uncanceled', { action: 'reinstate', scope: subscription }],
    ['subscription.revoked', { action: 'revoke', scope: subscription }],
  ])('%s → %o', async (name, expected) => {
    const req = sample(name, order);
    const { answer, event } = await deliver(req);
    expect(answer.status).toBe(200);
    expect(event).toMatchObject({ provider: 'polar', reason: name.split(':')[0], eventId: req.headers['webhook-id'], live: true, customer: { email: 'ada@example.com' }, ...expected });
    if (name === 'subscription.canceled') expect(Date.parse(event!.effectiveAt!)).toBeGreaterThan(Date.parse(event!.occurredAt));
    if (name === 'subscription.revoked') expect(event!.effectiveAt).toBeUndefined();
    if (name.includes('subscription_')) expect(event!.subscription!.periodEnd).toBeDefined();
  });

  it('a grant of a subscription order names the first order, so `licenses --order` finds it', async () => {
    const { event } = await deliver(sample('order.paid:subscription_create'));
    expect(event!.orderId).not.toBe(event!.scope);
  });
});

describe('Polar ingress: decisions where the docs are silent', () => {
  it('records a partial refund', async () => {
    const body = fixture('order-paid.json');
    Object.assign(body, { type: 'order.refunded' });
    Object.assign(body.data, { status: 'partially_refunded', refunded_amount: 1000 });
    expect((await deliver(signed(body))).event).toMatchObject({ action: 'record', reason: 'order.refunded' });
  });

  it('records a proration order (subscription_update) and order.paid without a product', async () => {
    const proration = fixture('order-paid.json');
    Object.assign(proration.data, { billing_reason: 'subscription_update', subscription_id: 'sub-1' });
    expect((await deliver(signed(proration))).event).toMatchObject({ action: 'record', scope: 'sub-1' });
    const noProduct = fixture('order-paid.json');
    Object.assign(noProduct.data, { product_id: null, product: null });
    expect((await deliver(signed(noProduct))).event).toMatchObject({ action: 'record', items: [] });
  });

  it('a cancellation that already ended is final; one at the period end is a scheduled end', async () => {
    const body = fixture('subscription.json');
    body.type = 'subscription.canceled';
    Object.assign(body.data, { cancel_at_period_end: true, ends_at: null });
    expect((await deliver(signed(body))).event).toMatchObject({ action: 'revoke', effectiveAt: '2027-03-02T10:15:27.410Z' });
    Object.assign(body.data, { status: 'canceled', ended_at: '2026-03-02T10:15:29.000Z', ends_at: '2026-03-02T10:15:29.000Z' });
    expect((await deliver(signed(body))).event!.effectiveAt).toBeUndefined();
  });

  it.each(['subscription.created', 'subscription.updated', 'subscription.past_due', 'order.created', 'order.updated'])('records %s', async (type) => {
    const body = type.startsWith('order') ? fixture('order-paid.json') : fixture('subscription.json');
    body.type = type;
    expect((await deliver(signed(body))).event).toMatchObject({ action: 'record', reason: type });
  });

  it('records refund.created on the refunded subscription or order', async () => {
    const body = { type: 'refund.created', timestamp: '2026-03-03T09:00:00Z', data: { id: 'rf-1', order_id: 'ord-9', subscription_id: null, status: 'succeeded' } };
    expect((await deliver(signed(body))).event).toMatchObject({ action: 'record', scope: 'ord-9' });
  });

  it('answers 200 for event types about other things (checkout, customer, benefit) and enqueues nothing', async () => {
    const { answer, queue } = await deliver(signed({ type: 'checkout.created', timestamp: '2026-03-02T10:15:28Z', data: { id: 'c1' } }));
    expect(answer).toEqual({ status: 200, body: 'OK: "checkout.created" events are ignored; keysmith handles order.*, subscription.* and refund.*\n' });
    expect(queue.sent).toHaveLength(0);
  });

  it.each([
    ['not JSON', Buffer.from('{"type": ')],
    ['no type', Buffer.from(JSON.stringify({ timestamp: 'x', data: {} }))],
    [
      'an order without customer',
      (() => {
        const b = fixture('order-paid.json');
        delete b.data.customer;
        return Buffer.from(JSON.stringify(b));
      })(),
    ],
    [
      'a renewal order without subscription_id',
      (() => {
        const b = fixture('order-paid.json');
        b.data.billing_reason = 'subscription_cycle';
        return Buffer.from(JSON.stringify(b));
      })(),
    ],
  ])('refuses an authenticated body with %s with 400', async (_name, body) => {
    const { answer, queue } = await deliver(signed(body));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/^MALFORMED: /);
    expect(queue.sent).toHaveLength(0);
  });

  it('the same webhook-id is the same event; a retry with a new timestamp too', async () => {
    const first = await deliver(signed(fixture('order-paid.json')));
    const retry = await deliver(signed(fixture('order-paid.json'), { at: new Date(RECEIVED.getTime() + 60_000), receivedAt: new Date(RECEIVED.getTime() + 60_000) }));
    expect(retry.event!.eventId).toBe(first.event!.eventId);
    const other = await deliver(signed(fixture('order-paid.json'), { id: randomUUID() }));
    expect(other.event!.eventId).not.toBe(first.event!.eventId);
    expect(other.event!.businessKey).toBe(first.event!.businessKey);
  });
});

describe('Polar events applied to one entitlement', () => {
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

  it('subscription: granted, cancelled at the period end (still active), uncanceled; revoked for good', async () => {
    const cancelled = await run(['order.paid:subscription_create', 'subscription.active', 'subscription.canceled']);
    expect(cancelled.licenses.map((l) => l.status)).toEqual(['active']);
    expect(cancelled.holds.map((h) => h.kind)).toEqual(['period-end']);
    expect((await run(['order.paid:subscription_create', 'subscription.canceled', 'subscription.uncanceled'])).holds).toEqual([]);
    expect((await run(['order.paid:subscription_create', 'subscription.revoked', 'subscription.uncanceled'])).status).toBe('revoked');
  });

  it('one-time order: refunded revokes', async () => {
    expect((await run(['order.paid', 'order.refunded'])).status).toBe('revoked');
  });
});
