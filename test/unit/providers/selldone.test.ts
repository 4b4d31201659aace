import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Catalog } from '../../../functions/domain/catalog';
import { apply, type Entitlement } from '../../../functions/domain/entitlement';
import { fulfillmentEventSchema } from '../../../functions/domain/eventSchema';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { toWebhookRequest } from '../../../functions/ingress/handler';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { selldone } from '../../../functions/providers/selldone';
import { selldoneSample } from '../../../functions/providers/selldone/sample';
import { catalogWith, exampleCatalog, fixture, LICENSE_SECRET, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

const SECRET = 'Zq3vN8wKp2XrT6yLm4HbC9sDf7GjA5eU'; // 32 characters
const RECEIVED = new Date('2026-01-01T00:00:00Z');

const envelopeSample = fixture('selldone-online-order-envelope.json');
const paymentOrder = readFileSync(join(__dirname, '..', '..', '..', 'functions', 'providers', 'selldone', 'fixtures', 'payment-order.json'));

type Json = Record<string, any>;
const order = (): Json => JSON.parse(paymentOrder.toString('utf8'));

/** The realistic PaymentOrder with another action / basket fields / envelope fields. */
function delivery(action: string, basket: Json = {}, envelope: Json = {}): Json {
  const base = order();
  return { ...base, action, basket: { ...base.basket, ...basket }, ...envelope };
}

/** `secret: null` sends no `{secret}` path parameter at all. */
function request(body: Buffer | object, secret: string | null = SECRET, headers: Record<string, string> = { 'content-type': 'application/json' }): WebhookRequest {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return {
    method: 'POST',
    path: `/webhooks/selldone/${secret ?? ''}`,
    routeKey: 'POST /webhooks/selldone/{secret}',
    pathParameters: secret === null ? {} : { secret },
    headers,
    rawQuery: '',
    body: bytes,
    receivedAt: RECEIVED,
    requestId: 'r1',
  };
}

async function deliver(req: WebhookRequest, options: { queue?: MemoryQueue; catalog?: Catalog; secrets?: ReturnType<typeof testSecrets>; logs?: string[] } = {}) {
  const queue = options.queue ?? new MemoryQueue();
  const answer = await runIngress(selldone, req, {
    queue,
    catalog: options.catalog ?? exampleCatalog(),
    secrets: async () => options.secrets ?? testSecrets({ KEYSMITH_SELLDONE_PATH_SECRET: SECRET }),
    log: silentLogger(options.logs),
  });
  return { answer, queue, event: queue.sent[0] };
}

describe('Selldone ingress: samples', () => {
  it('grants the realistic PaymentOrder: one unit per count of every item', async () => {
    const { answer, queue, event } = await deliver(request(paymentOrder));
    expect(answer).toEqual({ status: 200, body: 'OK\n' });
    expect(queue.sent).toHaveLength(1);
    expect(fulfillmentEventSchema.parse(event)).toEqual({
      provider: 'selldone',
      eventId: '1:48211:PaymentOrder:2025-03-02T10:15:27.000000Z',
      businessKey: 'grant#1:48211',
      occurredAt: '2025-03-02T10:15:27.000Z',
      action: 'grant',
      reason: 'PaymentOrder',
      scope: '1:48211',
      orderId: '48211',
      live: true,
      customer: { email: 'ada@example.com', name: 'Ada Lovelace' },
      items: [
        { productId: '1203', quantity: 2, name: 'Rocket Editor Pro' },
        { productId: '1377', quantity: 1, sku: '88', name: 'Rocket Themes' },
      ],
    });
  });

  it('refuses the shared envelope sample (placeholder strings, not a delivery) with 400 after authenticating', async () => {
    const { answer, queue } = await deliver(request(envelopeSample));
    expect(answer.status).toBe(400);
    // The placeholders fail at the first field that is not what a delivery carries.
    expect(answer.body).toMatch(/^MALFORMED: (action|basket): /);
    expect(queue.sent).toHaveLength(0);
    expect((await deliver(request(envelopeSample, 'x'.repeat(32)))).answer.status).toBe(401);
  });
});

describe('Selldone ingress: the URL secret', () => {
  it.each([
    ['a wrong secret', () => request(paymentOrder, 'Aq3vN8wKp2XrT6yLm4HbC9sDf7GjA5eU')],
    ['no secret segment', () => request(paymentOrder, null)],
    ['an empty secret', () => request(paymentOrder, '')],
    ['the secret with a suffix', () => request(paymentOrder, `${SECRET}x`)],
    ['a prefix of the secret', () => request(paymentOrder, SECRET.slice(0, 31))],
    ['the secret in another case', () => request(paymentOrder, SECRET.toLowerCase())],
    ['a wrong secret on a body that is not JSON', () => request(Buffer.from('{not json'), 'nope')],
  ])('rejects %s with 401 before reading the body, and enqueues nothing', async (_name, make) => {
    const logs: string[] = [];
    const { answer, queue } = await deliver(make(), { logs });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^UNAUTHORIZED: .*secret/);
    expect(answer.body).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain(SECRET);
    expect(queue.sent).toHaveLength(0);
  });

  it('rejects everything while the secret is not configured', async () => {
    const { answer, queue } = await deliver(request(paymentOrder), { secrets: testSecrets() });
    expect(answer.status).toBe(401);
    expect(answer.body).toBe('NOT_CONFIGURED: KEYSMITH_SELLDONE_PATH_SECRET is not set; no request can be verified\n');
    expect(queue.sent).toHaveLength(0);
  });

  it('treats a configured secret shorter than 32 characters as not configured, without echoing it', async () => {
    const short = 'short-secret-0123456789abcdefgh'; // 31
    const logs: string[] = [];
    const { answer, queue } = await deliver(request(paymentOrder, short), { secrets: testSecrets({ KEYSMITH_SELLDONE_PATH_SECRET: short }), logs });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/NOT_CONFIGURED: KEYSMITH_SELLDONE_PATH_SECRET is shorter than 32 characters/);
    expect(answer.body).not.toContain(short);
    expect(logs.join('\n')).not.toContain(short);
    expect(queue.sent).toHaveLength(0);
  });

  it('accepts the previous secret during a rotation, and ignores a short one', async () => {
    const previous = 'p'.repeat(40);
    const secrets = testSecrets({ KEYSMITH_SELLDONE_PATH_SECRET: SECRET, KEYSMITH_SELLDONE_PATH_SECRET_PREVIOUS: previous });
    expect((await deliver(request(paymentOrder, previous), { secrets })).answer.status).toBe(200);
    expect((await deliver(request(paymentOrder, SECRET), { secrets })).answer.status).toBe(200);
    const withShort = testSecrets({ KEYSMITH_SELLDONE_PATH_SECRET: SECRET, KEYSMITH_SELLDONE_PATH_SECRET_PREVIOUS: 'short' });
    const refused = await deliver(request(paymentOrder, 'short'), { secrets: withShort });
    expect(refused.answer.status).toBe(401);
    expect(refused.answer.body).toMatch(/shorter than 32 characters is ignored/);
  });

  it('reads the secret from the API Gateway path parameter (base64 body, odd header case)', async () => {
    const apiEvent = {
      version: '2.0',
      rawPath: `/webhooks/selldone/${SECRET}`,
      rawQueryString: '',
      headers: { 'Content-TYPE': 'application/json' },
      pathParameters: { secret: SECRET },
      body: paymentOrder.toString('base64'),
      isBase64Encoded: true,
      requestContext: { http: { method: 'POST', path: `/webhooks/selldone/${SECRET}` }, requestId: 'r' },
    } as unknown as APIGatewayProxyEventV2;
    const { answer, queue } = await deliver(toWebhookRequest(apiEvent, RECEIVED));
    expect(answer.status).toBe(200);
    expect(queue.sent).toHaveLength(1);
  });
});

describe('Selldone ingress: envelope and transport', () => {
  it.each([
    ['not JSON', Buffer.from('{"event": ')],
    ['no event', Buffer.from(JSON.stringify({ action: 'PaymentOrder' }))],
    ['an OnlineOrder without a basket', Buffer.from(JSON.stringify({ event: 'OnlineOrder', action: 'PaymentOrder', shop: { id: 1 } }))],
    ['an OnlineOrder without an action', Buffer.from(JSON.stringify({ ...order(), action: undefined }))],
    ['a negative item count', Buffer.from(JSON.stringify(delivery('PaymentOrder', { items: [{ product_id: 1, count: -1 }] })))],
    ['an item without a product id', Buffer.from(JSON.stringify(delivery('PaymentOrder', { items: [{ count: 1 }] })))],
  ])('rejects an authenticated body with %s with 400 and enqueues nothing', async (_name, body) => {
    const { answer, queue } = await deliver(request(body));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/^MALFORMED: /);
    expect(queue.sent).toHaveLength(0);
  });

  it('answers 413 for an oversized body before checking the secret', async () => {
    const { answer, queue } = await deliver(request(Buffer.alloc(selldone.maxBodyBytes + 1, 0x20), 'wrong'));
    expect(answer.status).toBe(413);
    expect(queue.sent).toHaveLength(0);
  });

  it('gives an identical delivery the identical answer and event id', async () => {
    const first = await deliver(request(paymentOrder));
    const second = await deliver(request(paymentOrder, SECRET));
    expect(second.answer).toEqual(first.answer);
    expect(second.event).toEqual(first.event);
  });

  it('builds the event id without updated_at when the basket has none, and dates it on receipt', async () => {
    const { event } = await deliver(request(delivery('PaymentOrder', { updated_at: null })));
    expect(event).toMatchObject({ eventId: '1:48211:PaymentOrder', occurredAt: RECEIVED.toISOString() });
  });

  it('answers other Selldone webhook types 200 and ignores them', async () => {
    const { answer, queue } = await deliver(request({ event: 'Inventory', action: 'Update', shop: { id: 1 } }));
    expect(answer).toEqual({ status: 200, body: 'OK: "Inventory" webhooks are ignored; keysmith handles OnlineOrder\n' });
    expect(queue.sent).toHaveLength(0);
  });

  it('answers 503 when SQS refuses the event', async () => {
    const queue = new MemoryQueue();
    queue.failWith = () => true;
    expect((await deliver(request(paymentOrder), { queue })).answer.status).toBe(503);
  });
});

describe('Selldone mapping', () => {
  it.each([
    ['CheckoutOrder', 'Reserved', 'record'],
    ['CheckoutOrder', 'Payed', 'record'],
    ['PaymentOrder', 'Payed', 'grant'],
    ['PaymentOrder', 'COD', 'record'],
    ['PaymentOrder', 'Reserved', 'record'],
    ['PaymentOrder', 'Canceled', 'record'],
    ['ToCustomer', 'COD', 'grant'],
    ['ToCustomer', 'Payed', 'grant'],
    ['ToCustomer', 'Canceled', 'record'],
    ['CancelProduct', 'Canceled', 'revoke'],
    ['ReturnOrder', 'Payed', 'revoke'],
    ['OrderConfirm', 'Payed', 'record'],
    ['PreparingOrder', 'Payed', 'record'],
    ['SentOrder', 'Payed', 'record'],
    ['DeliveryCanceled', 'COD', 'record'],
    ['SomeFutureAction', 'Payed', 'record'],
  ])('%s with basket.status %s → %s', async (action, status, expected) => {
    const { answer, event } = await deliver(request(delivery(action, { status })));
    expect(answer.status).toBe(200);
    expect(fulfillmentEventSchema.parse(event)).toMatchObject({ action: expected, reason: action, scope: '1:48211', orderId: '48211', eventId: `1:48211:${action}:2025-03-02T10:15:27.000000Z` });
    if (expected === 'grant') expect(event!.businessKey).toBe('grant#1:48211');
    else expect(event).not.toHaveProperty('businessKey');
  });

  it('CancelProduct revokes the items the delivery names, else the whole order', async () => {
    const named = await deliver(request(delivery('CancelProduct', { status: 'Payed' }, { item: { id: 77102, product_id: 1377, variant_id: 88, count: 1 } })));
    expect(named.event).toMatchObject({ action: 'revoke', items: [{ productId: '1377', quantity: 1, sku: '88' }] });
    expect(named.event!.eventId).toBe('1:48211:CancelProduct:2025-03-02T10:15:27.000000Z:items=77102');
    const whole = await deliver(request(delivery('CancelProduct', { status: 'Canceled' })));
    expect(whole.event).toMatchObject({ action: 'revoke', items: [] });
  });

  it('ReturnOrder revokes the returned units, else the whole order', async () => {
    const base = order();
    const items = base.basket.items.map((i: Json) => (i.product_id === 1203 ? { ...i, returnRequest: { count: 1 } } : i));
    const partial = await deliver(request(delivery('ReturnOrder', { items })));
    expect(partial.event).toMatchObject({ action: 'revoke', items: [{ productId: '1203', quantity: 1 }] });
    const snake = base.basket.items.map((i: Json) => (i.product_id === 1377 ? { ...i, return_request: { reason: 'x' } } : i));
    expect((await deliver(request(delivery('ReturnOrder', { items: snake })))).event).toMatchObject({ items: [{ productId: '1377', quantity: 1 }] });
    expect((await deliver(request(delivery('ReturnOrder')))).event).toMatchObject({ action: 'revoke', items: [] });
  });

  it('names a variant as product:variant only when the catalog lists that variant', async () => {
    const catalog = catalogWith({ products: { default: { name: 'Rocket' }, team: { name: 'Rocket Themes Team', match: { selldone: ['1377:88'] } } } });
    const { event } = await deliver(request(paymentOrder), { catalog });
    expect(event!.items.map((i) => i.productId)).toEqual(['1203', '1377:88']);
  });

  it('finds the customer in user, else customer, else the receiver', async () => {
    const fromCustomer = await deliver(request(delivery('PaymentOrder', {}, { user: null, customer: { name: 'C', email: 'c@example.com' } })));
    expect(fromCustomer.event!.customer).toEqual({ email: 'c@example.com', name: 'C' });
    const fromReceiver = await deliver(request(delivery('PaymentOrder', {}, { user: null, customer: null })));
    expect(fromReceiver.event!.customer).toEqual({ email: 'ada@example.com', name: 'Ada Lovelace' });
    const nobody = await deliver(request(delivery('PaymentOrder', { receiver_info: null }, { user: { name: 'No Mail', email: null }, customer: null })));
    expect(nobody.event!.customer).toEqual({ email: '' });
  });
});

describe('Selldone events applied to one entitlement', () => {
  const ctx = { catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: RECEIVED };

  async function run(bodies: object[]): Promise<Entitlement> {
    let state: Entitlement | undefined;
    for (const body of bodies) {
      const { answer, event } = await deliver(request(body));
      expect(answer.status).toBe(200);
      state = apply(state, event as FulfillmentEvent, ctx).state;
    }
    return state!;
  }

  it('count → licenses: 2 × Rocket Editor Pro and 1 × Rocket Themes', async () => {
    const state = await run([order()]);
    expect(state.licenses.map((l) => [l.providerProductId, l.unit, l.status])).toEqual([
      ['1203', 0, 'active'],
      ['1203', 1, 'active'],
      ['1377', 0, 'active'],
    ]);
  });

  it('CheckoutOrder issues nothing', async () => {
    const state = await run([delivery('CheckoutOrder', { status: 'Reserved' })]);
    expect(state.licenses).toHaveLength(0);
    expect(state.status).toBe('none');
  });

  it('cash on delivery: nothing at PaymentOrder, the licenses at ToCustomer, once', async () => {
    const paymentCod = delivery('PaymentOrder', { status: 'COD', updated_at: '2025-03-02T10:15:27.000000Z' });
    const delivered = delivery('ToCustomer', { status: 'COD', updated_at: '2025-03-05T08:00:00.000000Z' });
    const paidLater = delivery('ToCustomer', { status: 'Payed', updated_at: '2025-03-05T09:00:00.000000Z' });
    const afterPayment = await run([paymentCod]);
    expect(afterPayment.licenses).toHaveLength(0);
    const state = await run([paymentCod, delivered, paidLater]);
    expect(state.licenses).toHaveLength(3);
    expect(state.licenses.every((l) => l.status === 'active')).toBe(true);
  });

  it('a prepaid order is granted once, though ToCustomer follows PaymentOrder', async () => {
    const state = await run([order(), delivery('ToCustomer', { status: 'Payed', updated_at: '2025-03-06T00:00:00Z' })]);
    expect(state.licenses).toHaveLength(3);
  });

  it('a partial return revokes the returned unit only; a cancellation of the order revokes the rest', async () => {
    const items = order().basket.items.map((i: Json) => (i.product_id === 1203 ? { ...i, returnRequest: { count: 1 } } : i));
    const afterReturn = await run([order(), delivery('ReturnOrder', { items, updated_at: '2025-03-10T00:00:00Z' })]);
    expect(afterReturn.licenses.map((l) => [l.providerProductId, l.unit, l.status])).toEqual([
      ['1203', 0, 'active'],
      ['1203', 1, 'revoked'],
      ['1377', 0, 'active'],
    ]);
    const cancelled = await run([
      order(),
      delivery('ReturnOrder', { items, updated_at: '2025-03-10T00:00:00Z' }),
      delivery('CancelProduct', { status: 'Canceled', updated_at: '2025-03-11T00:00:00Z' }),
    ]);
    expect(cancelled.licenses.every((l) => l.status === 'revoked')).toBe(true);
    expect(cancelled.status).toBe('revoked');
  });
});

describe('Selldone samples (keysmith send)', () => {
  const secrets = { KEYSMITH_SELLDONE_PATH_SECRET: SECRET };

  it.each([
    ['PaymentOrder', 'grant', 3],
    ['CancelProduct', 'revoke', 0],
    ['ReturnOrder', 'revoke', 1],
    ['CheckoutOrder', 'record', 3],
  ])('builds a %s the ingress accepts as %s', async (name, action, itemCount) => {
    expect(selldoneSample.events).toContain(name);
    const sample = selldoneSample.build({ secrets, event: name, orderId: '9001', email: 'buyer@example.com' });
    expect(sample.path).toBe(`/webhooks/selldone/${SECRET}`);
    const secret = sample.path.split('/').pop()!;
    const { answer, event } = await deliver({ ...request(sample.body, secret, sample.headers), path: sample.path });
    expect(answer.status).toBe(200);
    expect(fulfillmentEventSchema.parse(event)).toMatchObject({ action, scope: '1:9001', orderId: '9001', eventId: sample.eventIds[0], customer: { email: 'buyer@example.com' } });
    expect(event!.items.reduce((n, i) => n + i.quantity, 0)).toBe(itemCount);
    expect(sample.orderId).toBe('9001');
  });

  it('refuses to build without the path secret', () => {
    expect(() => selldoneSample.build({ secrets: {} })).toThrow(/KEYSMITH_SELLDONE_PATH_SECRET/);
  });
});
