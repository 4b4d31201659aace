import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Catalog } from '../../../functions/domain/catalog';
import { apply, type Entitlement } from '../../../functions/domain/entitlement';
import { fulfillmentEventSchema } from '../../../functions/domain/eventSchema';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { toWebhookRequest } from '../../../functions/ingress/handler';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { hotmart } from '../../../functions/providers/hotmart';
import { hotmartSample } from '../../../functions/providers/hotmart/sample';
import { catalogWith, exampleCatalog, fixture, LICENSE_SECRET, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

const HOTTOK = 'hottok-test-0123456789abcdefghij';
const PRODUCT = 3526906;
const RECEIVED = new Date('2026-01-01T00:00:00Z');

const approvedSample = fixture('hotmart-purchase-approved.json');
const cancellationSample = fixture('hotmart-subscription-cancellation.json');

function request(body: Buffer | object, headers: Record<string, string> = { 'x-hotmart-hottok': HOTTOK, 'content-type': 'application/json' }): WebhookRequest {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return { method: 'POST', path: '/webhooks/hotmart', routeKey: 'POST /webhooks/hotmart', pathParameters: {}, headers, rawQuery: '', body: bytes, receivedAt: RECEIVED, requestId: 'r1' };
}

async function deliver(req: WebhookRequest, options: { queue?: MemoryQueue; catalog?: Catalog; secrets?: ReturnType<typeof testSecrets> } = {}) {
  const queue = options.queue ?? new MemoryQueue();
  const answer = await runIngress(hotmart, req, {
    queue,
    catalog: options.catalog ?? exampleCatalog(),
    secrets: async () => options.secrets ?? testSecrets({ KEYSMITH_HOTMART_HOTTOK: HOTTOK }),
    log: silentLogger(),
  });
  return { answer, queue, event: queue.sent[0] };
}

type Json = Record<string, any>;
const approvedJson = (): Json => JSON.parse(approvedSample.toString('utf8'));

/** A purchase-family event built from the shared sample, for a real (non-test) product. */
function purchaseEvent(event: string, purchase: Json = {}, data: Json = {}): Json {
  const sample = approvedJson();
  return {
    ...sample,
    id: `evt-${event}`,
    event,
    data: {
      ...sample.data,
      product: { ...sample.data.product, id: PRODUCT, name: 'Course' },
      purchase: { ...sample.data.purchase, transaction: 'HP0000000000001', ...purchase },
      ...data,
    },
  };
}

describe('Hotmart ingress: the shared samples', () => {
  it('answers the approved sample (test product 0) with 200 and enqueues nothing by default', async () => {
    const { answer, queue } = await deliver(request(approvedSample));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/test event .*ignored.*hotmartAcceptTestProduct/);
    expect(queue.sent).toHaveLength(0);
  });

  it('processes the approved sample as a test grant when the catalog accepts test products', async () => {
    const { answer, queue, event } = await deliver(request(approvedSample), { catalog: catalogWith({ hotmartAcceptTestProduct: true }) });
    expect(answer).toEqual({ status: 200, body: 'OK\n' });
    expect(queue.sent).toHaveLength(1);
    expect(fulfillmentEventSchema.parse(event)).toEqual({
      provider: 'hotmart',
      eventId: '545e7d21-8fc4-4906-8fba-dcd7889f6481',
      occurredAt: new Date(1763247745737).toISOString(),
      action: 'grant',
      reason: 'PURCHASE_APPROVED',
      scope: 'sub:I9OT62C3:0',
      orderId: 'HP16015479281022',
      live: false,
      customer: { email: 'testeComprador271101postman15@example.com', name: 'Teste Comprador' },
      items: [{ productId: '0', quantity: 1, name: 'Produto test postback2' }],
      subscription: { id: 'I9OT62C3' },
    });
    // Every Hotmart test reuses the transaction: no business key, or the second test would do nothing.
    expect(event).not.toHaveProperty('businessKey');
  });

  it('maps the SUBSCRIPTION_CANCELLATION sample to a revoke effective at date_next_charge', async () => {
    const { answer, event } = await deliver(request(cancellationSample));
    expect(answer.status).toBe(200);
    expect(fulfillmentEventSchema.parse(event)).toEqual({
      provider: 'hotmart',
      eventId: '0d7aa966-b887-4617-8c56-9e865bfc8ce4',
      occurredAt: new Date(1632411406874).toISOString(),
      action: 'revoke',
      reason: 'SUBSCRIPTION_CANCELLATION',
      scope: 'sub:QO4THU04:3526906',
      live: true,
      customer: { email: 'subscriber@email.com', name: 'Subscriber Name' },
      items: [],
      subscription: { id: 'QO4THU04', periodEnd: new Date(1580667200000).toISOString() },
      effectiveAt: new Date(1580667200000).toISOString(),
    });
  });
});

describe('Hotmart ingress: authentication', () => {
  const body = Buffer.from(JSON.stringify(purchaseEvent('PURCHASE_APPROVED')));
  const withBodyHottok = (hottok: string) => Buffer.from(JSON.stringify({ ...purchaseEvent('PURCHASE_APPROVED'), hottok }));

  it.each([
    ['a wrong hottok', () => request(body, { 'x-hotmart-hottok': 'wrong', 'content-type': 'application/json' })],
    ['a hottok one character off', () => request(body, { 'x-hotmart-hottok': `${HOTTOK.slice(0, -1)}X` })],
    ['a hottok with a suffix', () => request(body, { 'x-hotmart-hottok': `${HOTTOK}x` })],
    ['no header and no body hottok', () => request(body, { 'content-type': 'application/json' })],
    ['no header and a wrong body hottok', () => request(withBodyHottok('wrong'), {})],
    ['a wrong header, even with the right body hottok', () => request(withBodyHottok(HOTTOK), { 'x-hotmart-hottok': 'wrong' })],
    ['no header and a body that is not JSON', () => request(Buffer.from('{"hottok": '), {})],
    ['no header and a wrong body hottok on a malformed envelope', () => request(Buffer.from(JSON.stringify({ hottok: 'nope', data: 1 })), {})],
  ])('rejects %s with 401 before parsing, and enqueues nothing', async (_name, make) => {
    const { answer, queue } = await deliver(make());
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^UNAUTHORIZED: .*hottok/i);
    expect(answer.body).not.toContain(HOTTOK);
    expect(queue.sent).toHaveLength(0);
  });

  it('accepts the body hottok when the header is absent', async () => {
    const { answer, event } = await deliver(request(withBodyHottok(HOTTOK), { 'content-type': 'application/json' }));
    expect(answer.status).toBe(200);
    expect(event).toMatchObject({ action: 'grant', eventId: 'evt-PURCHASE_APPROVED' });
  });

  it('authenticates before it validates: a body-hottok request with a bad envelope is 401 when wrong, 400 when right', async () => {
    const bad = (hottok: string) => request(Buffer.from(JSON.stringify({ hottok, event: 'PURCHASE_APPROVED' })), {});
    expect((await deliver(bad('wrong'))).answer.status).toBe(401);
    expect((await deliver(bad(HOTTOK))).answer.status).toBe(400);
  });

  it('matches the header in any case, over a base64-encoded body (API Gateway event)', async () => {
    const apiEvent = {
      version: '2.0',
      rawPath: '/webhooks/hotmart',
      rawQueryString: '',
      headers: { 'X-HOTMART-Hottok': HOTTOK, 'Content-Type': 'application/json; charset=utf-8' },
      body: body.toString('base64'),
      isBase64Encoded: true,
      requestContext: { http: { method: 'POST', path: '/webhooks/hotmart' }, requestId: 'r' },
    } as unknown as APIGatewayProxyEventV2;
    const { answer, queue } = await deliver(toWebhookRequest(apiEvent, RECEIVED));
    expect(answer.status).toBe(200);
    expect(queue.sent).toHaveLength(1);
  });

  it('rejects everything with 401 while the hottok is not configured', async () => {
    const { answer, queue } = await deliver(request(body), { secrets: testSecrets() });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/NOT_CONFIGURED: KEYSMITH_HOTMART_HOTTOK is not set/);
    expect(queue.sent).toHaveLength(0);
  });

  it('accepts the previous hottok during a rotation', async () => {
    const secrets = testSecrets({ KEYSMITH_HOTMART_HOTTOK: 'the-new-hottok', KEYSMITH_HOTMART_HOTTOK_PREVIOUS: HOTTOK });
    expect((await deliver(request(body), { secrets })).answer.status).toBe(200);
    expect((await deliver(request(body, { 'x-hotmart-hottok': 'the-new-hottok' }), { secrets })).answer.status).toBe(200);
  });
});

describe('Hotmart ingress: envelope and transport', () => {
  it.each([
    ['not JSON', Buffer.from('{"id": "x", ')],
    ['a JSON array', Buffer.from('[]')],
    ['no id', Buffer.from(JSON.stringify({ event: 'PURCHASE_APPROVED', data: {} }))],
    ['no event', Buffer.from(JSON.stringify({ id: 'e1', data: {} }))],
    ['an empty event', Buffer.from(JSON.stringify({ id: 'e1', event: '', data: {} }))],
  ])('rejects an authenticated body with %s with 400 and enqueues nothing', async (_name, body) => {
    const { answer, queue } = await deliver(request(body));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/^MALFORMED: /);
    expect(queue.sent).toHaveLength(0);
  });

  it('answers 413 for an oversized body before authenticating it', async () => {
    const { answer, queue } = await deliver(request(Buffer.alloc(hotmart.maxBodyBytes + 1, 0x20), {}));
    expect(answer.status).toBe(413);
    expect(queue.sent).toHaveLength(0);
  });

  it('answers 415 for a form-encoded (v1 postback) body', async () => {
    const { answer } = await deliver(request(Buffer.from('hottok=x&prod=1'), { 'x-hotmart-hottok': HOTTOK, 'content-type': 'application/x-www-form-urlencoded' }));
    expect(answer.status).toBe(415);
  });

  it('gives an identical delivery the identical answer and event id', async () => {
    const body = Buffer.from(JSON.stringify(purchaseEvent('PURCHASE_APPROVED')));
    const first = await deliver(request(body));
    const second = await deliver(request(body));
    expect(second.answer).toEqual(first.answer);
    expect(second.event!.eventId).toBe(first.event!.eventId);
    expect(second.event!.businessKey).toBe(first.event!.businessKey);
    expect(second.event).toEqual(first.event);
  });

  it('answers 503 when SQS refuses the event, so Hotmart retries', async () => {
    const queue = new MemoryQueue();
    queue.failWith = () => true;
    const { answer } = await deliver(request(purchaseEvent('PURCHASE_APPROVED')), { queue });
    expect(answer.status).toBe(503);
  });

  it('reads creationDate (camelCase) as the event time', async () => {
    const { answer, event } = await deliver(
      request({
        id: 'club-1',
        creationDate: 1700000000000,
        event: 'CLUB_FIRST_ACCESS',
        version: '2.0.0',
        data: { product: { id: PRODUCT, name: 'Course' }, user: { email: 'u@example.com', name: 'U' } },
      }),
    );
    expect(answer.status).toBe(200);
    expect(event).toMatchObject({
      occurredAt: new Date(1700000000000).toISOString(),
      action: 'record',
      reason: 'CLUB_FIRST_ACCESS',
      customer: { email: 'u@example.com', name: 'U' },
      scope: 'event:club-1',
    });
  });

  it('falls back to the receive time when the envelope has no date', async () => {
    const { event } = await deliver(request({ id: 'nodate', event: 'PURCHASE_COMPLETE', data: {} }));
    expect(event!.occurredAt).toBe(RECEIVED.toISOString());
  });
});

describe('Hotmart mapping', () => {
  it.each([
    ['PURCHASE_APPROVED', 'grant'],
    ['PURCHASE_COMPLETE', 'record'],
    ['PURCHASE_REFUNDED', 'revoke'],
    ['PURCHASE_CHARGEBACK', 'revoke'],
    ['PURCHASE_PROTEST', 'record'],
    ['PURCHASE_CANCELED', 'record'],
    ['PURCHASE_EXPIRED', 'record'],
    ['PURCHASE_BILLET_PRINTED', 'record'],
    ['PURCHASE_DELAYED', 'record'],
    ['PURCHASE_OUT_OF_SHOPPING_CART', 'record'],
    ['UPDATE_SUBSCRIPTION_CHARGE_DATE', 'record'],
    ['CLUB_FIRST_ACCESS', 'record'],
    ['CLUB_MODULE_COMPLETED', 'record'],
    ['ORDER_FULFILLMENT', 'record'],
    ['SOMETHING_HOTMART_ADDS_NEXT_YEAR', 'record'],
  ])('%s → %s, answered 200 and enqueued', async (name, action) => {
    const { answer, queue, event } = await deliver(request(purchaseEvent(name)));
    expect(answer).toEqual({ status: 200, body: 'OK\n' });
    expect(queue.sent).toHaveLength(1);
    expect(fulfillmentEventSchema.parse(event)).toMatchObject({ action, reason: name, eventId: `evt-${name}`, live: true, scope: `sub:I9OT62C3:${PRODUCT}`, orderId: 'HP0000000000001' });
    expect(event!.businessKey).toBe(`${name}#HP0000000000001`);
  });

  it('revokes the whole entitlement on a refund or chargeback (no items: every license of the purchase)', async () => {
    for (const name of ['PURCHASE_REFUNDED', 'PURCHASE_CHARGEBACK']) {
      const { event } = await deliver(request(purchaseEvent(name)));
      expect(event).toMatchObject({ action: 'revoke', items: [] });
    }
  });

  it('grants one unit of the product to the buyer', async () => {
    const { event } = await deliver(request(purchaseEvent('PURCHASE_APPROVED')));
    expect(event).toMatchObject({
      items: [{ productId: String(PRODUCT), quantity: 1, name: 'Course' }],
      customer: { email: 'testeComprador271101postman15@example.com', name: 'Teste Comprador' },
    });
  });

  it('scopes a purchase without a subscription by its transaction', async () => {
    const { event } = await deliver(request(purchaseEvent('PURCHASE_APPROVED', {}, { subscription: undefined })));
    expect(event).toMatchObject({ action: 'grant', scope: 'HP0000000000001', orderId: 'HP0000000000001' });
    expect(event).not.toHaveProperty('subscription');
  });

  it('grants the first charge of a subscription with its period end, and extends later charges', async () => {
    const next = 1767225600000;
    const first = await deliver(request(purchaseEvent('PURCHASE_APPROVED', { recurrence_number: 1, date_next_charge: next })));
    expect(first.event).toMatchObject({ action: 'grant', subscription: { id: 'I9OT62C3', periodEnd: new Date(next).toISOString() } });
    const renewal = await deliver(request(purchaseEvent('PURCHASE_APPROVED', { transaction: 'HP0000000000002', recurrence_number: 2, date_next_charge: next + 30 * 86_400_000 })));
    expect(renewal.event).toMatchObject({
      action: 'extend',
      scope: first.event!.scope,
      businessKey: 'PURCHASE_APPROVED#HP0000000000002#2',
      subscription: { id: 'I9OT62C3', periodEnd: new Date(next + 30 * 86_400_000).toISOString() },
    });
  });

  it('puts SUBSCRIPTION_CANCELLATION, SWITCH_PLAN and the purchases of one subscription on one entitlement', async () => {
    const purchase = await deliver(request(purchaseEvent('PURCHASE_APPROVED', {}, { subscription: { status: 'ACTIVE', plan: { id: 1, name: 'Basic' }, subscriber: { code: 'QO4THU04' } } })));
    const cancellation = await deliver(request(cancellationSample));
    const switched = await deliver(request(switchPlan('QO4THU04', 2)));
    expect(purchase.event!.scope).toBe('sub:QO4THU04:3526906');
    expect(cancellation.event!.scope).toBe(purchase.event!.scope);
    expect(switched.event!.scope).toBe(purchase.event!.scope);
  });

  it('SWITCH_PLAN changes to the new plan when the catalog names it, else to the product', async () => {
    const tiered = catalogWith({
      products: {
        default: { name: 'Course', match: { hotmart: [String(PRODUCT)] } },
        pro: { name: 'Course Pro', match: { hotmart: ['plan:2'] } },
      },
    });
    const named = await deliver(request(switchPlan('QO4THU04', 2)), { catalog: tiered });
    expect(fulfillmentEventSchema.parse(named.event)).toMatchObject({
      action: 'change',
      reason: 'SWITCH_PLAN',
      items: [{ productId: 'plan:2', quantity: 1, name: 'Course' }],
      customer: { email: 'sub@example.com' },
      subscription: { id: 'QO4THU04' },
      occurredAt: new Date(1700000001000).toISOString(),
    });
    const unnamed = await deliver(request(switchPlan('QO4THU04', 3)), { catalog: tiered });
    expect(unnamed.event).toMatchObject({ action: 'change', items: [{ productId: String(PRODUCT) }] });
    // The same rule picks the grant's product id, so a direct purchase of the plan gets its tier.
    const bought = await deliver(request(purchaseEvent('PURCHASE_APPROVED', {}, { subscription: { plan: { id: 2 }, subscriber: { code: 'QO4THU04' } } })), { catalog: tiered });
    expect(bought.event).toMatchObject({ action: 'grant', items: [{ productId: 'plan:2' }] });
  });

  it('UPDATE_SUBSCRIPTION_CHARGE_DATE records the new period end (ISO or ms)', async () => {
    const { event } = await deliver(
      request({
        id: 'chg',
        creation_date: 1,
        event: 'UPDATE_SUBSCRIPTION_CHARGE_DATE',
        data: { subscriber: { code: 'QO4THU04', email: 's@example.com' }, subscription: { product: { id: PRODUCT }, date_next_charge: '2026-02-20T12:00:00.000Z' } },
      }),
    );
    expect(event).toMatchObject({ action: 'record', scope: 'sub:QO4THU04:3526906', subscription: { id: 'QO4THU04', periodEnd: '2026-02-20T12:00:00.000Z' } });
  });

  it('records (200, with the reason in the body) a license-changing event whose data lacks what it needs', async () => {
    const sample = purchaseEvent('PURCHASE_APPROVED');
    delete sample.data.purchase.transaction;
    const { answer, event } = await deliver(request(sample));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/PURCHASE_APPROVED recorded only, no license changed \(data\.purchase\.transaction: /);
    expect(event).toMatchObject({ action: 'record', reason: 'PURCHASE_APPROVED' });

    const cancellation = JSON.parse(cancellationSample.toString('utf8'));
    delete cancellation.data.subscriber;
    const cancelled = await deliver(request(cancellation));
    expect(cancelled.answer.body).toMatch(/data\.subscriber/);
    expect(cancelled.event).toMatchObject({ action: 'record', scope: 'event:0d7aa966-b887-4617-8c56-9e865bfc8ce4' });
  });

  it('ignores the Hotmart test transaction even on a real product id, unless test products are accepted', async () => {
    const body = purchaseEvent('PURCHASE_REFUNDED', { transaction: 'HP16015479281022' });
    expect((await deliver(request(body))).queue.sent).toHaveLength(0);
    const accepted = await deliver(request(body), { catalog: catalogWith({ hotmartAcceptTestProduct: true }) });
    expect(accepted.event).toMatchObject({ action: 'revoke', live: false });
  });
});

describe('Hotmart events applied to one entitlement', () => {
  const catalog = catalogWith({
    products: { course: { name: 'Course', match: { hotmart: [String(PRODUCT)] }, license: { duration: 'subscription' } } },
    defaultProduct: 'course',
  });
  const ctx = { catalog, licenseSecret: LICENSE_SECRET, now: RECEIVED };

  async function run(bodies: object[]): Promise<Entitlement> {
    let state: Entitlement | undefined;
    for (const body of bodies) {
      const { event } = await deliver(request(body), { catalog });
      state = apply(state, event as FulfillmentEvent, ctx).state;
    }
    return state!;
  }

  it('a subscription: granted until the next charge, extended by the renewal, revoked by its refund', async () => {
    const next = Date.parse('2026-02-01T00:00:00Z');
    const granted = await run([purchaseEvent('PURCHASE_APPROVED', { recurrence_number: 1, date_next_charge: next })]);
    expect(granted.licenses).toHaveLength(1);
    expect(granted.licenses[0]).toMatchObject({ status: 'active', expiresAt: new Date(next).toISOString() });

    const renewal = { ...purchaseEvent('PURCHASE_APPROVED', { transaction: 'HP0000000000002', recurrence_number: 2, date_next_charge: next + 31 * 86_400_000 }), id: 'renewal' };
    const refund = { ...purchaseEvent('PURCHASE_REFUNDED', { transaction: 'HP0000000000002' }), id: 'refund' };
    const state = await run([purchaseEvent('PURCHASE_APPROVED', { recurrence_number: 1, date_next_charge: next }), renewal, refund]);
    expect(state.licenses).toHaveLength(1);
    expect(state.licenses[0]!.expiresAt).toBe(new Date(next + 31 * 86_400_000).toISOString());
    expect(state.licenses[0]!.status).toBe('revoked');
    expect(state.status).toBe('revoked');
  });

  it('a duplicate approval (resent with a new id) issues nothing new', async () => {
    const state = await run([purchaseEvent('PURCHASE_APPROVED'), { ...purchaseEvent('PURCHASE_APPROVED'), id: 'resent' }]);
    expect(state.licenses).toHaveLength(1);
  });
});

describe('Hotmart samples (keysmith send)', () => {
  const secrets = { KEYSMITH_HOTMART_HOTTOK: HOTTOK };

  it.each([
    ['PURCHASE_APPROVED', 'grant'],
    ['PURCHASE_REFUNDED', 'revoke'],
    ['PURCHASE_CHARGEBACK', 'revoke'],
    ['SUBSCRIPTION_CANCELLATION', 'revoke'],
    ['PURCHASE_PROTEST', 'record'],
    ['PURCHASE_COMPLETE', 'record'],
    ['SWITCH_PLAN', 'change'],
  ])('builds a %s the ingress accepts as %s, on the order it names', async (name, action) => {
    expect(hotmartSample.events).toContain(name);
    const approved = hotmartSample.build({ secrets, event: 'PURCHASE_APPROVED', orderId: 'HP1234567890123', email: 'buyer@example.com' });
    const sample = hotmartSample.build({ secrets, event: name, orderId: 'HP1234567890123', email: 'buyer@example.com' });
    expect(sample.path).toBe('/webhooks/hotmart');
    const granted = await deliver(request(approved.body, sample.headers));
    const { answer, event } = await deliver(request(sample.body, sample.headers));
    expect(answer.status).toBe(200);
    expect(fulfillmentEventSchema.parse(event)).toMatchObject({ action, live: true, eventId: sample.eventIds[0], scope: granted.event!.scope, customer: { email: 'buyer@example.com' } });
    expect(sample.orderId).toBe('HP1234567890123');
  });

  it('uses a fresh transaction and event id by default and refuses to build without the hottok', () => {
    const a = hotmartSample.build({ secrets });
    const b = hotmartSample.build({ secrets });
    expect(a.orderId).toMatch(/^HP\d{16}$/);
    expect(a.orderId).not.toBe(b.orderId);
    expect(a.eventIds[0]).not.toBe(b.eventIds[0]);
    expect(() => hotmartSample.build({ secrets: {} })).toThrow(/KEYSMITH_HOTMART_HOTTOK/);
  });
});

function switchPlan(subscriberCode: string, newPlan: number): Json {
  return {
    id: `switch-${newPlan}`,
    creation_date: 1700000001000,
    event: 'SWITCH_PLAN',
    version: '2.0.0',
    data: {
      switch_plan_date: 1700000001000,
      subscription: { subscriber_code: subscriberCode, status: 'ACTIVE', product: { id: PRODUCT, name: 'Course' }, user: { email: 'sub@example.com' } },
      plans: [
        { id: newPlan, name: 'New', offer: { key: 'new' }, current: true },
        { id: 1, name: 'Basic', offer: { key: 'basic' }, current: false },
      ],
    },
  };
}
