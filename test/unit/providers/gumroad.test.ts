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
import { gumroad } from '../../../functions/providers/gumroad';
import { periodEndOf } from '../../../functions/providers/gumroad/normalize';
import { encodeRails, gumroadSample, sampleSubscriptionId } from '../../../functions/providers/gumroad/sample';
import { catalogWith, exampleCatalog, LICENSE_SECRET, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

const SECRET = 'Gm4vN8wKp2XrT6yLm4HbC9sDf7GjA5eU'; // 32 characters
const RECEIVED = new Date('2026-03-02T10:16:00Z');
const FIXTURES = join(__dirname, '..', '..', '..', 'functions', 'providers', 'gumroad', 'fixtures');
const FORM = 'application/x-www-form-urlencoded';

type Json = Record<string, any>;
const fixture = (name: string): Json => {
  const { _source: _ignored, ...fields } = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
  return fields;
};

/** A ping as Gumroad posts it: form fields (nested ones Rails-style) or JSON. */
function ping(fields: Json | Buffer, options: { secret?: string | null; json?: boolean } = {}): WebhookRequest {
  const secret = options.secret === undefined ? SECRET : options.secret;
  const body = Buffer.isBuffer(fields) ? fields : Buffer.from(options.json ? JSON.stringify(fields) : encodeRails(fields));
  return {
    method: 'POST',
    path: `/webhooks/gumroad/${secret ?? ''}`,
    routeKey: 'POST /webhooks/gumroad/{secret}',
    pathParameters: secret === null ? {} : { secret },
    headers: { 'content-type': options.json ? 'application/json' : FORM },
    rawQuery: '',
    body,
    receivedAt: RECEIVED,
    requestId: 'r1',
  };
}

async function deliver(req: WebhookRequest, options: { catalog?: Catalog; secrets?: ReturnType<typeof testSecrets>; logs?: string[] } = {}) {
  const queue = new MemoryQueue();
  const answer = await runIngress(gumroad, req, {
    queue,
    catalog: options.catalog ?? exampleCatalog(),
    secrets: async () => options.secrets ?? testSecrets({ KEYSMITH_GUMROAD_PATH_SECRET: SECRET }),
    log: silentLogger(options.logs),
  });
  return { answer, queue, event: queue.sent[0] };
}

const SALE_ID = 'Xb2KQe0rwzWGAZKr5DhL8w==';

function sample(event: string, orderId = SALE_ID, receivedAt = RECEIVED): WebhookRequest {
  const built = gumroadSample.build({ secrets: { KEYSMITH_GUMROAD_PATH_SECRET: SECRET }, event, orderId, email: 'ada@example.com' });
  return {
    method: 'POST',
    path: built.path,
    routeKey: 'POST /webhooks/gumroad/{secret}',
    pathParameters: { secret: SECRET },
    headers: built.headers,
    rawQuery: '',
    body: built.body,
    receivedAt,
    requestId: 'r',
  };
}

describe('Gumroad ingress: the legacy Ping of a sale', () => {
  it('grants the sale: the sale_id is the scope and the order, the variant the sku', async () => {
    const { answer, queue, event } = await deliver(ping(fixture('sale.json')));
    expect(answer).toEqual({ status: 200, body: 'OK\n' });
    expect(queue.sent).toHaveLength(1);
    expect(fulfillmentEventSchema.parse(event)).toEqual({
      provider: 'gumroad',
      eventId: `sale:${SALE_ID}`,
      businessKey: `grant#${SALE_ID}`,
      occurredAt: '2026-03-02T10:15:27.000Z',
      action: 'grant',
      reason: 'ping',
      scope: SALE_ID,
      orderId: SALE_ID,
      live: true,
      customer: { email: 'ada@example.com', name: 'Ada Lovelace' },
      items: [{ productId: 'Qm9Hwt3LkqH6oyBVQQx1bA==', sku: 'Tier: Pro', quantity: 1, name: 'Rocket Editor – Tier: Pro' }],
    });
  });

  it('reads the same ping sent as JSON (a seller or Zapier choosing JSON) to the same event', async () => {
    const form = await deliver(ping(fixture('sale.json')));
    const json = await deliver(ping(fixture('sale.json'), { json: true }));
    expect(json.event).toEqual(form.event);
  });

  it('a legacy Ping and a `sale` resource ping of one sale are one event', async () => {
    const legacy = await deliver(ping(fixture('sale.json')));
    const resource = await deliver(ping({ ...fixture('sale.json'), resource_name: 'sale' }));
    expect(resource.event!.eventId).toBe(legacy.event!.eventId);
    expect(resource.event!.businessKey).toBe(legacy.event!.businessKey);
  });

  it('a retried ping (Gumroad adds retry_count) is the same event', async () => {
    const first = await deliver(ping(fixture('sale.json')));
    const retry = await deliver(ping({ ...fixture('sale.json'), retry_count: '1' }));
    expect(retry.event!.eventId).toBe(first.event!.eventId);
  });

  it('picks the catalog name: `{product}:{variants}`, else the product id, else the permalink', async () => {
    const base = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'config', 'keysmith.example.json'), 'utf8'));
    const product = (match: string[]) => catalogWith({ products: { ...base.products, pro: { ...base.products.default, name: 'Pro', match: { gumroad: match } } } });
    const productId = async (catalog: Catalog) => (await deliver(ping(fixture('sale.json')), { catalog })).event!.items[0]!.productId;
    expect(await productId(product(['Qm9Hwt3LkqH6oyBVQQx1bA==:Tier: Pro']))).toBe('Qm9Hwt3LkqH6oyBVQQx1bA==:Tier: Pro');
    expect(await productId(product(['rocket']))).toBe('rocket');
    expect(await productId(product(['Qm9Hwt3LkqH6oyBVQQx1bA==', 'rocket']))).toBe('Qm9Hwt3LkqH6oyBVQQx1bA==');
    expect(await productId(exampleCatalog())).toBe('Qm9Hwt3LkqH6oyBVQQx1bA==');
  });

  it('takes the quantity from the ping', async () => {
    expect((await deliver(ping({ ...fixture('sale.json'), quantity: '3' }))).event!.items[0]!.quantity).toBe(3);
  });
});

describe('Gumroad ingress: test=true', () => {
  it('is a test order on a scope of its own, and never carries the customer address', async () => {
    // Gumroad's "Send test ping" resends the latest real sale with test=true.
    const real = (await deliver(ping(fixture('sale.json')))).event!;
    const test = (await deliver(ping({ ...fixture('sale.json'), test: 'true' }))).event!;
    expect(test).toMatchObject({ live: false, scope: `test:${SALE_ID}`, eventId: `test:sale:${SALE_ID}`, businessKey: `test:grant#${SALE_ID}`, customer: { email: '', name: 'Ada Lovelace' } });
    expect(test.scope).not.toBe(real.scope);
    expect(real.live).toBe(true);
  });
});

describe('Gumroad ingress: the URL secret', () => {
  it.each([
    ['a wrong secret', () => ping(fixture('sale.json'), { secret: 'Am4vN8wKp2XrT6yLm4HbC9sDf7GjA5eU' })],
    ['no secret segment', () => ping(fixture('sale.json'), { secret: null })],
    ['an empty secret', () => ping(fixture('sale.json'), { secret: '' })],
    ['the secret with a suffix', () => ping(fixture('sale.json'), { secret: `${SECRET}x` })],
    ['a prefix of the secret', () => ping(fixture('sale.json'), { secret: SECRET.slice(0, 31) })],
    ['the secret in another case', () => ping(fixture('sale.json'), { secret: SECRET.toLowerCase() })],
    ['a wrong secret on a body that is not a form', () => ping(Buffer.from('%%%'), { secret: 'nope' })],
  ])('rejects %s with 401 before reading the body, and enqueues nothing', async (_name, make) => {
    const logs: string[] = [];
    const { answer, queue } = await deliver(make(), { logs });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^UNAUTHORIZED: .*secret/);
    expect(answer.body + logs.join('\n')).not.toContain(SECRET);
    expect(queue.sent).toHaveLength(0);
  });

  it('treats a configured secret shorter than 32 characters as not configured', async () => {
    const short = 'x'.repeat(31);
    const { answer } = await deliver(ping(fixture('sale.json'), { secret: short }), { secrets: testSecrets({ KEYSMITH_GUMROAD_PATH_SECRET: short }) });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/NOT_CONFIGURED: KEYSMITH_GUMROAD_PATH_SECRET is shorter than 32 characters/);
    expect(answer.body).not.toContain(short);
  });

  it('refuses everything while the secret is not set, and accepts the previous one during a rotation', async () => {
    expect((await deliver(ping(fixture('sale.json')), { secrets: testSecrets() })).answer.body).toBe('NOT_CONFIGURED: KEYSMITH_GUMROAD_PATH_SECRET is not set; no request can be verified\n');
    const previous = 'p'.repeat(40);
    const secrets = testSecrets({ KEYSMITH_GUMROAD_PATH_SECRET: SECRET, KEYSMITH_GUMROAD_PATH_SECRET_PREVIOUS: previous });
    expect((await deliver(ping(fixture('sale.json'), { secret: previous }), { secrets })).answer.status).toBe(200);
  });

  it('reads the secret from the API Gateway path parameter', async () => {
    const body = Buffer.from(encodeRails(fixture('sale.json')));
    const apiEvent = {
      version: '2.0',
      rawPath: `/webhooks/gumroad/${SECRET}`,
      rawQueryString: '',
      headers: { 'Content-Type': `${FORM}; charset=utf-8` },
      pathParameters: { secret: SECRET },
      body: body.toString('base64'),
      isBase64Encoded: true,
      requestContext: { http: { method: 'POST', path: `/webhooks/gumroad/${SECRET}` }, requestId: 'r' },
    } as unknown as APIGatewayProxyEventV2;
    const { answer, queue } = await deliver(toWebhookRequest(apiEvent, RECEIVED));
    expect(answer.status).toBe(200);
    expect(queue.sent).toHaveLength(1);
  });
});

describe('Gumroad ingress: every event kind of the samples', () => {
  const subscription = sampleSubscriptionId(SALE_ID);
  it.each([
    ['ping', { action: 'grant', reason: 'ping', scope: SALE_ID }],
    ['sale', { action: 'grant', reason: 'sale', scope: SALE_ID, eventId: `sale:${SALE_ID}` }],
    ['refund', { action: 'revoke', reason: 'refund', scope: SALE_ID, eventId: `refund:${SALE_ID}`, items: [] }],
    ['dispute', { action: 'revoke', reason: 'dispute', scope: SALE_ID, eventId: `dispute:${SALE_ID}`, hold: 'disputed', reversible: true }],
    ['dispute_won', { action: 'reinstate', reason: 'dispute_won', scope: SALE_ID, eventId: `dispute_won:${SALE_ID}`, hold: 'disputed' }],
    ['sale:membership', { action: 'grant', scope: subscription, orderId: SALE_ID, subscription: { id: subscription, periodEnd: '2027-03-02T10:16:00.000Z' } }],
    ['sale:recurring_charge', { action: 'extend', scope: subscription, subscription: { id: subscription, periodEnd: '2027-03-02T10:16:00.000Z' } }],
    ['cancellation', { action: 'revoke', scope: subscription, effectiveAt: '2027-03-02T10:16:00.000Z' }],
    ['subscription_updated', { action: 'record', scope: subscription }],
    ['subscription_restarted', { action: 'reinstate', scope: subscription }],
    ['subscription_ended', { action: 'revoke', scope: subscription }],
  ])('%s → %o', async (name, expected) => {
    jest.useFakeTimers({ now: RECEIVED, doNotFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance'] });
    try {
      const { answer, event } = await deliver(sample(name));
      expect(answer.status).toBe(200);
      expect(event).toMatchObject({ provider: 'gumroad', live: true, customer: { email: 'ada@example.com' }, ...expected });
      if (name === 'subscription_ended') expect(event!.effectiveAt).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives the sale, refund, dispute and dispute_won of one sale_id four event ids on one scope', async () => {
    const events = await Promise.all(['sale', 'refund', 'dispute', 'dispute_won'].map(async (name) => (await deliver(sample(name))).event!));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(4);
    expect(new Set(events.map((e) => e.scope))).toEqual(new Set([SALE_ID]));
  });

  it('the legacy Ping reports a refund or dispute by its flags', async () => {
    expect((await deliver(ping({ ...fixture('sale.json'), refunded: 'true' }))).event).toMatchObject({ action: 'revoke', eventId: `refund:${SALE_ID}` });
    expect((await deliver(ping({ ...fixture('sale.json'), disputed: 'true' }))).event).toMatchObject({ action: 'revoke', hold: 'disputed' });
    expect((await deliver(ping({ ...fixture('sale.json'), disputed: 'true', dispute_won: 'true' }))).event).toMatchObject({ action: 'reinstate', hold: 'disputed' });
  });

  it('two cancellations of one subscription (after a restart) are two events; a retried one is one', async () => {
    const first = await deliver(ping(fixture('cancellation.json')));
    const retried = await deliver(ping({ ...fixture('cancellation.json'), retry_count: '2' }));
    const later = await deliver(ping({ ...fixture('cancellation.json'), cancelled_at: '2028-03-02T10:15:27Z' }));
    expect(retried.event!.eventId).toBe(first.event!.eventId);
    expect(later.event!.eventId).not.toBe(first.event!.eventId);
    expect(first.event!.eventId).toMatch(/^cancellation:Vd0Ps7HqZbRgW3pG5nQm1A==:/);
  });
});

describe('Gumroad ingress: decisions where the docs are silent', () => {
  it('a cancellation whose cancelled_at has passed (payment failures, immediate) suspends', async () => {
    const { event } = await deliver(ping({ ...fixture('cancellation.json'), cancelled_at: '2026-03-01T00:00:00Z', cancelled_due_to_payment_failures: 'true' }));
    expect(event).toMatchObject({ action: 'suspend', scope: 'Vd0Ps7HqZbRgW3pG5nQm1A==' });
    expect(event!.effectiveAt).toBeUndefined();
  });

  it('a refund ping without refunded=true (a partial refund) is recorded', async () => {
    expect((await deliver(ping({ ...fixture('sale.json'), resource_name: 'refund' }))).event).toMatchObject({ action: 'record', reason: 'refund' });
  });

  it('a membership period runs one recurrence from the sale, clamped to the month end', () => {
    expect(periodEndOf('2026-01-31T10:00:00.000Z', 'monthly')).toBe('2026-02-28T10:00:00.000Z');
    expect(periodEndOf('2026-03-02T10:15:27.000Z', 'quarterly')).toBe('2026-06-02T10:15:27.000Z');
    expect(periodEndOf('2026-03-02T10:15:27.000Z', 'biannually')).toBe('2026-09-02T10:15:27.000Z');
    expect(periodEndOf('2024-02-29T00:00:00.000Z', 'yearly')).toBe('2025-02-28T00:00:00.000Z');
    expect(periodEndOf('2026-03-02T10:15:27.000Z', 'every_two_years')).toBe('2028-03-02T10:15:27.000Z');
    expect(periodEndOf('2026-03-02T10:15:27.000Z', 'weekly')).toBeUndefined();
  });

  it('answers 200 for a resource keysmith does not know, and enqueues nothing', async () => {
    const { answer, queue } = await deliver(ping({ ...fixture('sale.json'), resource_name: 'shipment' }));
    expect(answer).toEqual({ status: 200, body: 'OK: resource "shipment" is ignored\n' });
    expect(queue.sent).toHaveLength(0);
  });

  it.each([
    ['no sale_id', { ...fixture('sale.json'), sale_id: '' }],
    [
      'no product_id',
      (() => {
        const { product_id: _p, ...rest } = fixture('sale.json');
        return rest;
      })(),
    ],
    ['a quantity that is not a number', { ...fixture('sale.json'), quantity: 'two' }],
    [
      'a cancellation without subscription_id',
      (() => {
        const { subscription_id: _s, ...rest } = fixture('cancellation.json');
        return rest;
      })(),
    ],
  ])('refuses an authenticated ping with %s with 400', async (_name, fields) => {
    const { answer, queue } = await deliver(ping(fields));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/^MALFORMED: /);
    expect(queue.sent).toHaveLength(0);
  });

  it('refuses a form that repeats a field, and a JSON body that is not an object', async () => {
    const repeated = Buffer.from(`${encodeRails(fixture('sale.json'))}&email=mallory%40example.com`);
    expect((await deliver(ping(repeated))).answer.body).toBe('MALFORMED: field "email" occurs more than once\n');
    expect((await deliver(ping(Buffer.from('[1,2]'), { json: true }))).answer.status).toBe(400);
  });

  it('answers 415 for another media type and 413 for an oversized body, before the secret', async () => {
    expect((await deliver({ ...ping(fixture('sale.json'), { secret: 'wrong' }), headers: { 'content-type': 'text/plain' } })).answer.status).toBe(415);
    expect((await deliver(ping(Buffer.alloc(gumroad.maxBodyBytes + 1, 0x61), { secret: 'wrong' }))).answer.status).toBe(413);
  });
});

describe('Gumroad events applied to one entitlement', () => {
  const ctx = { catalog: exampleCatalog(), licenseSecret: LICENSE_SECRET, now: RECEIVED };
  async function run(names: string[]): Promise<Entitlement> {
    let state: Entitlement | undefined;
    for (const name of names) {
      const { answer, event } = await deliver(sample(name, SALE_ID, new Date()));
      expect(answer.status).toBe(200);
      state = apply(state, event as FulfillmentEvent, ctx).state;
    }
    return state!;
  }

  it('a dispute suspends, a dispute won reinstates; a refund is final', async () => {
    expect((await run(['ping', 'dispute'])).licenses.map((l) => l.status)).toEqual(['suspended']);
    expect((await run(['ping', 'dispute', 'dispute_won'])).licenses.map((l) => l.status)).toEqual(['active']);
    expect((await run(['ping', 'refund', 'dispute_won'])).licenses.map((l) => l.status)).toEqual(['revoked']);
  });

  it('membership: cancellation keeps it to the period end, restart lifts that, ended revokes for good', async () => {
    const cancelled = await run(['sale:membership', 'cancellation']);
    expect(cancelled.licenses.map((l) => l.status)).toEqual(['active']);
    expect(cancelled.holds.map((h) => h.kind)).toEqual(['period-end']);
    expect((await run(['sale:membership', 'cancellation', 'subscription_restarted'])).holds).toEqual([]);
    expect((await run(['sale:membership', 'subscription_ended', 'subscription_restarted'])).status).toBe('revoked');
  });
});
