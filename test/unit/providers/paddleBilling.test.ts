import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Paddle } from '@paddle/paddle-node-sdk';
import * as fc from 'fast-check';
import type { Catalog } from '../../../functions/domain/catalog';
import { runIngress } from '../../../functions/ingress/pipeline';
import { WebhookRejection, type WebhookRequest } from '../../../functions/ingress/types';
import { paddleBilling } from '../../../functions/providers/paddle-billing';
import { CustomerLookupUnavailable, lookupCustomer } from '../../../functions/providers/paddle-billing/customer';
import { paddleBillingSample } from '../../../functions/providers/paddle-billing/sample';
import { toleranceFromEnv, verifyPaddleBillingSignature } from '../../../functions/providers/paddle-billing/verify';
import { catalogWith, exampleCatalog, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

/**
 * Paddle Billing ingress. Requests are signed here with node:crypto exactly as Paddle documents it,
 * and the verifier is checked against Paddle's own SDK (`Webhooks.isSignatureValid`) on random
 * inputs — the SDK is the independent oracle.
 */

const SECRET = 'pdl_ntfset_01keysmithtest_0123456789abcdefghijklmnopqrstuv';
const SANDBOX = 'pdl_ntfset_01keysmithsandbox_0123456789abcdefghijklmnopq';
const NOW = new Date('2026-12-02T06:00:00Z');
const nowSeconds = Math.floor(NOW.getTime() / 1000);

function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, '..', '..', '..', 'functions', 'providers', 'paddle-billing', 'fixtures', name));
}
function edit(name: string, change: (json: any) => void): Buffer {
  const json = JSON.parse(fixture(name).toString('utf8'));
  change(json);
  return Buffer.from(JSON.stringify(json));
}

function sign(body: Buffer, secret = SECRET, ts = nowSeconds): string {
  return `ts=${ts};h1=${createHmac('sha256', secret)
    .update(`${ts}:${body.toString('utf8')}`)
    .digest('hex')}`;
}

function request(body: Buffer, headers: Record<string, string> = { 'paddle-signature': sign(body), 'content-type': 'application/json' }, receivedAt = NOW): WebhookRequest {
  return { method: 'POST', path: '/webhooks/paddle-billing', routeKey: 'POST /webhooks/paddle-billing', pathParameters: {}, headers, rawQuery: '', body, receivedAt, requestId: 'r1' };
}

async function deliver(req: WebhookRequest, options: { secrets?: Record<string, string>; catalog?: Catalog } = {}) {
  const queue = new MemoryQueue();
  const secrets = testSecrets(options.secrets ?? { KEYSMITH_PADDLE_BILLING_SECRET: SECRET });
  const answer = await runIngress(paddleBilling, req, { queue, catalog: options.catalog ?? exampleCatalog(), secrets: async () => secrets, log: silentLogger() });
  return { answer, events: queue.sent };
}

describe('Paddle Billing signature', () => {
  const body = fixture('transaction-completed.json');

  it('accepts a documented signature, live; the sandbox secret marks a test order', async () => {
    const live = await deliver(request(body));
    expect(live.answer.status).toBe(200);
    expect(live.events[0]!.live).toBe(true);
    const secrets = { KEYSMITH_PADDLE_BILLING_SECRET: SECRET, KEYSMITH_PADDLE_BILLING_SANDBOX_SECRET: SANDBOX };
    const sandbox = await deliver(request(body, { 'paddle-signature': sign(body, SANDBOX) }), { secrets });
    expect(sandbox.answer.status).toBe(200);
    expect(sandbox.events[0]!.live).toBe(false);
  });

  it('accepts any of several h1 (rotation), the previous secret, and a retry up to 300 s after its ts', async () => {
    const both = `${sign(body, 'pdl_ntfset_old')};h1=${sign(body).split('h1=')[1]}`;
    expect((await deliver(request(body, { 'paddle-signature': both }))).answer.status).toBe(200);
    const firstOnly = `${sign(body)};h1=${'0'.repeat(64)}`;
    expect((await deliver(request(body, { 'paddle-signature': firstOnly }))).answer.status).toBe(200);
    const rotated = { KEYSMITH_PADDLE_BILLING_SECRET: 'pdl_ntfset_new', KEYSMITH_PADDLE_BILLING_SECRET_PREVIOUS: SECRET };
    expect((await deliver(request(body), { secrets: rotated })).answer.status).toBe(200);
    expect((await deliver(request(body, { 'paddle-signature': sign(body, SECRET, nowSeconds - 300) }))).answer.status).toBe(200);
  });

  const tampered = Buffer.from(body.toString('utf8').replace('"quantity": 10', '"quantity": 100'));
  it.each([
    ['a wrong secret', () => request(body, { 'paddle-signature': sign(body, 'pdl_ntfset_wrong') })],
    ['a tampered body', () => request(tampered, { 'paddle-signature': sign(body) })],
    ['no header', () => request(body, {})],
    ['a stale ts (301 s)', () => request(body, { 'paddle-signature': sign(body, SECRET, nowSeconds - 301) })],
    ['a ts 301 s in the future', () => request(body, { 'paddle-signature': sign(body, SECRET, nowSeconds + 301) })],
    ['a signature moved to another ts', () => request(body, { 'paddle-signature': sign(body).replace(`ts=${nowSeconds}`, `ts=${nowSeconds - 1}`) })],
    ['two ts values', () => request(body, { 'paddle-signature': `ts=1;${sign(body)}` })],
    ['Stripe’s separator', () => request(body, { 'paddle-signature': sign(body).replace(';', ',') })],
    ['the sandbox secret when only live is configured', () => request(body, { 'paddle-signature': sign(body, SANDBOX) })],
  ])('refuses %s with 401', async (_name, make) => {
    const { answer, events } = await deliver(make());
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^UNAUTHORIZED/);
    expect(events).toHaveLength(0);
  });

  it('says NOT_CONFIGURED (401) without a secret', async () => {
    const { answer } = await deliver(request(body), { secrets: {} });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/KEYSMITH_PADDLE_BILLING_SECRET .*is not set/);
  });

  it('reads the tolerance from the environment', () => {
    expect(toleranceFromEnv({})).toBe(300);
    expect(toleranceFromEnv({ KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS: '30' })).toBe(30);
    expect(toleranceFromEnv({ KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS: 'x' })).toBe(300);
    const header = sign(body, SECRET, nowSeconds - 60);
    expect(() => verifyPaddleBillingSignature(header, body, { live: [SECRET], sandbox: [] }, NOW, 30)).toThrow(/60 s away/);
  });
});

describe('Paddle Billing verifier against @paddle/paddle-node-sdk', () => {
  const sdk = new Paddle('pdl_sdbx_apikey_keysmith_offline_test');
  /** The SDK's answer; it throws on a header it cannot parse, which is a "no". */
  const sdkSays = async (body: string, secret: string, header: string) => {
    try {
      return await sdk.webhooks.isSignatureValid(body, secret, header);
    } catch {
      return false;
    }
  };
  const oursSays = (body: string, secret: string, header: string) => {
    try {
      verifyPaddleBillingSignature(header, Buffer.from(body, 'utf8'), { live: [secret], sandbox: [] }, new Date(), 300);
      return true;
    } catch (error) {
      if (error instanceof WebhookRejection) return false;
      throw error;
    }
  };
  const fresh = () => Math.floor(Date.now() / 1000);

  it('agrees on random bodies, secrets and single-h1 headers, genuine or tampered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 0, maxLength: 300 }),
        fc.string({ minLength: 1, maxLength: 60 }),
        fc.constantFrom('genuine', 'other-secret', 'tampered-body', 'flipped-hex', 'no-ts', 'no-h1'),
        async (body, secret, kind) => {
          const ts = fresh();
          const genuine = createHmac('sha256', secret).update(`${ts}:${body}`).digest('hex');
          const header = {
            genuine: `ts=${ts};h1=${genuine}`,
            'other-secret': `ts=${ts};h1=${createHmac('sha256', `${secret}x`).update(`${ts}:${body}`).digest('hex')}`,
            'tampered-body': `ts=${ts};h1=${createHmac('sha256', secret).update(`${ts}:${body} `).digest('hex')}`,
            'flipped-hex': `ts=${ts};h1=${(genuine[0] === 'a' ? 'b' : 'a') + genuine.slice(1)}`,
            'no-ts': `h1=${genuine}`,
            'no-h1': `ts=${ts}`,
          }[kind];
          expect(oursSays(body, secret, header)).toBe(await sdkSays(body, secret, header));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('agrees on the SDK’s own test vector shape, and differs only where documented: an earlier h1 and an old ts', async () => {
    const body = fixture('transaction-completed.json').toString('utf8');
    const ts = fresh();
    const good = createHmac('sha256', SECRET).update(`${ts}:${body}`).digest('hex');
    const bad = '0'.repeat(64);
    expect(oursSays(body, SECRET, `ts=${ts};h1=${bad};h1=${good}`)).toBe(true);
    expect(await sdkSays(body, SECRET, `ts=${ts};h1=${bad};h1=${good}`)).toBe(true);
    // The SDK keeps only the last h1; a rotation may put the matching one first.
    expect(oursSays(body, SECRET, `ts=${ts};h1=${good};h1=${bad}`)).toBe(true);
    expect(await sdkSays(body, SECRET, `ts=${ts};h1=${good};h1=${bad}`)).toBe(false);
    // The SDK allows 5 s; Paddle's retries resend the original ts, so keysmith allows 300 s.
    const old = ts - 60;
    const oldHeader = `ts=${old};h1=${createHmac('sha256', SECRET).update(`${old}:${body}`).digest('hex')}`;
    expect(oursSays(body, SECRET, oldHeader)).toBe(true);
    expect(await sdkSays(body, SECRET, oldHeader)).toBe(false);
  });
});

describe('Paddle Billing notifications', () => {
  it('transaction.completed (one-time) grants every item, scoped and ordered by the transaction', async () => {
    const body = edit('transaction-completed.json', (j) => {
      j.data.custom_data = { email: 'sam@example.com', name: 'Sam Miller' };
    });
    const { answer, events } = await deliver(request(body));
    expect(answer).toEqual({ status: 200, body: 'OK\n' });
    expect(events).toEqual([
      expect.objectContaining({
        provider: 'paddle-billing',
        eventId: 'evt_01h8e1jxjnw9ra6zarhnz1a7y1',
        businessKey: 'grant#txn_01h8dzxgkvdwemdhbpcapj2tbj',
        action: 'grant',
        reason: 'transaction.completed',
        scope: 'txn_01h8dzxgkvdwemdhbpcapj2tbj',
        orderId: 'txn_01h8dzxgkvdwemdhbpcapj2tbj',
        live: true,
        occurredAt: '2023-08-22T07:15:45.366Z',
        customer: { email: 'sam@example.com', name: 'Sam Miller' },
        items: [
          { productId: 'pro_01gsz4t5hdjse780zja8vvr7jg', sku: 'pri_01gsz8x8sawmvhz1pv30nge1ke', quantity: 10, name: 'ChatApp Pro' },
          { productId: 'pro_01h1vjes1y163xfj1rh1tkfb65', sku: 'pri_01h1vjfevh5etwq3rb416a23h2', quantity: 1, name: 'Voice rooms addon' },
          { productId: 'pro_01gsz97mq9pa4fkyy0wqenepkz', sku: 'pri_01gsz98e27ak2tyhexptwc58yk', quantity: 1, name: 'Custom domains' },
        ],
      }),
    ]);
    expect(events[0]!.subscription).toBeUndefined();
  });

  it('without an email anywhere it still licenses, and the answer says why no email goes out', async () => {
    const { answer, events } = await deliver(request(fixture('transaction-completed.json')));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/no email to send it to \(no custom_data email and no KEYSMITH_PADDLE_BILLING_API_KEY\)/);
    expect(events[0]).toMatchObject({ action: 'grant', customer: { email: '' } });
  });

  it('a subscription’s first transaction grants on the subscription; a recurring one extends it', async () => {
    const first = edit('transaction-completed.json', (j) => {
      j.data.subscription_id = 'sub_01h8bxswamxysj44zt5n48njwh';
      j.data.billing_period = { starts_at: '2023-08-22T07:15:44Z', ends_at: '2023-09-22T07:15:44Z' };
    });
    expect((await deliver(request(first))).events[0]).toMatchObject({
      action: 'grant',
      scope: 'sub_01h8bxswamxysj44zt5n48njwh',
      orderId: 'txn_01h8dzxgkvdwemdhbpcapj2tbj',
      subscription: { id: 'sub_01h8bxswamxysj44zt5n48njwh', periodEnd: '2023-09-22T07:15:44.000Z' },
    });
    const renewal = edit('transaction-completed.json', (j) => {
      j.data.id = 'txn_renewal';
      j.data.origin = 'subscription_recurring';
      j.data.subscription_id = 'sub_01h8bxswamxysj44zt5n48njwh';
      j.data.billing_period = { starts_at: '2023-09-22T07:15:44Z', ends_at: '2023-10-22T07:15:44Z' };
    });
    expect((await deliver(request(renewal))).events[0]).toMatchObject({
      action: 'extend',
      businessKey: 'extend#txn_renewal',
      scope: 'sub_01h8bxswamxysj44zt5n48njwh',
      items: [],
      subscription: { periodEnd: '2023-10-22T07:15:44.000Z' },
    });
    const update = edit('transaction-completed.json', (j) => {
      j.data.origin = 'subscription_update';
      j.data.subscription_id = 'sub_01h8bxswamxysj44zt5n48njwh';
    });
    expect((await deliver(request(update))).events[0]).toMatchObject({ action: 'record' });
  });

  it.each([
    ['subscription-activated.json', 'reinstate'],
    ['subscription-resumed.json', 'reinstate'],
    ['subscription-past-due.json', 'suspend'],
    ['subscription-paused.json', 'suspend'],
    ['subscription-canceled.json', 'revoke'],
    ['subscription-created.json', 'record'],
  ])('%s → %s on the subscription', async (name, action) => {
    const { events } = await deliver(request(fixture(name)));
    const id = JSON.parse(fixture(name).toString('utf8')).data.id;
    expect(events).toEqual([expect.objectContaining({ action, scope: id, subscription: expect.objectContaining({ id }) })]);
    if (action === 'revoke') expect(events[0]!.effectiveAt).toBeUndefined();
  });

  it('subscription.updated: the plan and seats, then what the status says', async () => {
    const active = await deliver(request(fixture('subscription-updated.json')));
    expect(active.events.map((e) => [e.action, e.eventId])).toEqual([
      ['change', 'evt_01h7j296f40h99m4dcrr6h4as8'],
      ['reinstate', 'evt_01h7j296f40h99m4dcrr6h4as8#reinstate'],
    ]);
    expect(active.events[0]!.items).toEqual([{ productId: 'pro_01gsz4t5hdjse780zja8vvr7jg', sku: 'pri_01gsz8x8sawmvhz1pv30nge1ke', quantity: 10, name: 'ChatApp Pro' }]);
    const cancelling = edit('subscription-updated.json', (j) => {
      j.data.scheduled_change = { action: 'cancel', effective_at: '2023-10-11T08:07:35.449123Z', resume_at: null };
    });
    expect((await deliver(request(cancelling))).events[1]).toMatchObject({ action: 'revoke', effectiveAt: '2023-10-11T08:07:35.449Z' });
    const pastDue = edit('subscription-updated.json', (j) => {
      j.data.status = 'past_due';
    });
    expect((await deliver(request(pastDue))).events[1]).toMatchObject({ action: 'suspend' });
  });

  it('names the price when the catalog lists it', async () => {
    const catalog = catalogWith({ products: { pro: { name: 'Pro', match: { 'paddle-billing': ['pri_01gsz8x8sawmvhz1pv30nge1ke'] } } }, defaultProduct: 'pro' });
    const { events } = await deliver(request(fixture('subscription-updated.json')), { catalog });
    expect(events[0]!.items[0]!.productId).toBe('pri_01gsz8x8sawmvhz1pv30nge1ke');
  });

  it.each([
    ['a full approved refund', { action: 'refund', type: 'full', status: 'approved' }, { action: 'revoke' }],
    ['a partial approved refund', { action: 'refund', type: 'partial', status: 'approved' }, { action: 'record' }],
    ['a refund awaiting approval', { action: 'refund', type: 'full', status: 'pending_approval' }, { action: 'record' }],
    ['a rejected refund', { action: 'refund', type: 'full', status: 'rejected' }, { action: 'record' }],
    ['a chargeback', { action: 'chargeback', type: 'full', status: 'approved' }, { action: 'revoke', hold: 'disputed' }],
    ['a chargeback reversed', { action: 'chargeback_reverse', type: 'full', status: 'approved' }, { action: 'reinstate', hold: 'disputed' }],
    ['a chargeback warning', { action: 'chargeback_warning', type: 'full', status: 'approved' }, { action: 'record' }],
    ['a credit', { action: 'credit', type: 'full', status: 'approved' }, { action: 'record' }],
  ])('adjustment: %s', async (_name, fields, expected) => {
    const body = edit('adjustment-updated.json', (j) => Object.assign(j.data, fields));
    const [event, ...rest] = (await deliver(request(body))).events;
    expect(rest).toHaveLength(0);
    expect(event).toMatchObject({ ...expected, scope: 'sub_01h8bxswamxysj44zt5n48njwh', orderId: 'txn_01h8bxpvx398a7zbawb77y0kp5' });
    expect(event!.businessKey).toBe(`adjustment#adj_01h8c6tbrkpdd7vx61w7b1r0ap#${fields.action}#${fields.status}`);
    if (!('hold' in expected)) expect(event!.hold).toBeUndefined();
  });

  it('an adjustment of a one-time purchase lands on its transaction', async () => {
    const body = edit('adjustment-updated.json', (j) => Object.assign(j.data, { type: 'full', subscription_id: null }));
    expect((await deliver(request(body))).events[0]).toMatchObject({ action: 'revoke', scope: 'txn_01h8bxpvx398a7zbawb77y0kp5' });
  });

  it('answers 200 and enqueues nothing for an event type it does not handle', async () => {
    const body = Buffer.from(JSON.stringify({ event_id: 'evt_1', event_type: 'customer.created', occurred_at: NOW.toISOString(), data: { id: 'ctm_1', email: 'a@example.com' } }));
    const { answer, events } = await deliver(request(body));
    expect(answer.body).toMatch(/customer\.created ignored/);
    expect(events).toHaveLength(0);
  });

  it.each([
    ['not JSON', Buffer.from('{')],
    ['no event id', Buffer.from(JSON.stringify({ event_type: 'transaction.completed', occurred_at: 'x', data: {} }))],
    [
      'a transaction without items',
      Buffer.from(JSON.stringify({ event_id: 'evt_1', event_type: 'transaction.completed', occurred_at: NOW.toISOString(), data: { id: 'txn_1', status: 'completed' } })),
    ],
  ])('refuses %s with 400 and a reason', async (_name, body) => {
    const { answer, events } = await deliver(request(body));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/^MALFORMED: /);
    expect(events).toHaveLength(0);
  });
});

describe('Paddle Billing customer lookup (optional API key)', () => {
  let server: Server;
  let answerWith: { status: number; body: unknown } = { status: 200, body: {} };
  const seen: { url: string; auth: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization ?? '' });
      res.writeHead(answerWith.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answerWith.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.KEYSMITH_PADDLE_BILLING_API_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    delete process.env.KEYSMITH_PADDLE_BILLING_API_URL;
    await new Promise((resolve) => server.close(resolve));
  });
  const secrets = { KEYSMITH_PADDLE_BILLING_SECRET: SECRET, KEYSMITH_PADDLE_BILLING_API_KEY: 'pdl_live_apikey_keysmith_test' };
  const body = fixture('transaction-completed.json');

  it('fetches the customer of a transaction without a custom_data email, after the signature passed', async () => {
    answerWith = { status: 200, body: { data: { id: 'ctm_01h8e18bxp9hby49dnm8ewf0m0', name: 'Joe Bloggs', email: 'joe@example.com', locale: 'en' } } };
    seen.length = 0;
    const { answer, events } = await deliver(request(body), { secrets });
    expect(answer).toEqual({ status: 200, body: 'OK\n' });
    expect(events[0]!.customer).toEqual({ email: 'joe@example.com', name: 'Joe Bloggs', locale: 'en' });
    expect(seen).toEqual([{ url: '/customers/ctm_01h8e18bxp9hby49dnm8ewf0m0', auth: 'Bearer pdl_live_apikey_keysmith_test' }]);
  });

  it('never calls the API for a forged request, or when custom_data names the email', async () => {
    seen.length = 0;
    expect((await deliver(request(body, { 'paddle-signature': sign(body, 'pdl_ntfset_wrong') }), { secrets })).answer.status).toBe(401);
    const named = edit('transaction-completed.json', (j) => {
      j.data.custom_data = { email: 'given@example.com' };
    });
    expect((await deliver(request(named), { secrets })).events[0]!.customer.email).toBe('given@example.com');
    expect(seen).toHaveLength(0);
  });

  it('a 403 licenses without an email and says so; a 5xx is left for Paddle to retry', async () => {
    answerWith = { status: 403, body: { error: { code: 'forbidden' } } };
    const forbidden = await deliver(request(body), { secrets });
    expect(forbidden.answer.body).toMatch(/answered 403 .*KEYSMITH_PADDLE_BILLING_API_KEY/);
    expect(forbidden.answer.body).not.toMatch(/pdl_live_apikey/);
    expect(forbidden.events[0]!.customer.email).toBe('');
    answerWith = { status: 503, body: {} };
    const unavailable = await deliver(request(body), { secrets });
    expect(unavailable.answer.status).toBe(503);
    expect(unavailable.events).toHaveLength(0);
  });

  it('picks the sandbox API for a sandbox key, and gives up on a slow answer', async () => {
    const calls: string[] = [];
    const fake = async (url: string) => {
      calls.push(url);
      return { status: 200, json: async () => ({ data: { email: 'x@example.com' } }) };
    };
    delete process.env.KEYSMITH_PADDLE_BILLING_API_URL;
    try {
      await lookupCustomer('ctm_01abc', 'pdl_sdbx_apikey_x', fake);
      await lookupCustomer('ctm_01abc', 'pdl_live_apikey_x', fake);
    } finally {
      process.env.KEYSMITH_PADDLE_BILLING_API_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    expect(calls).toEqual(['https://sandbox-api.paddle.com/customers/ctm_01abc', 'https://api.paddle.com/customers/ctm_01abc']);
    const never = (_url: string, init: { signal: AbortSignal }) => new Promise<never>((_resolve, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)));
    await expect(lookupCustomer('ctm_01abc', 'pdl_live_apikey_x', never, 50)).rejects.toBeInstanceOf(CustomerLookupUnavailable);
    expect(await lookupCustomer('../admin', 'pdl_live_apikey_x', fake)).toMatchObject({ problem: expect.stringMatching(/not a Paddle customer id/) });
    // The local stack's generated key is never sent anywhere.
    expect(await lookupCustomer('ctm_01abc', 'pdl_local_apikey_abc', fake)).toMatchObject({ problem: expect.stringMatching(/local stack/) });
    expect(calls).toHaveLength(2);
  });
});

describe('Paddle Billing samples', () => {
  const secrets = { KEYSMITH_PADDLE_BILLING_SECRET: SECRET };
  it.each(paddleBillingSample.events.map((e) => [e]))('%s is signed so that the Paddle SDK accepts it, and is accepted', async (event) => {
    const orderId = event.startsWith('transaction.completed') && !event.includes(':') ? 'txn_sample1' : 'sub_sample1';
    const sample = paddleBillingSample.build({ secrets, event, orderId });
    const sdk = new Paddle('pdl_sdbx_apikey_keysmith_offline_test');
    expect(await sdk.webhooks.isSignatureValid(sample.body.toString('utf8'), SECRET, sample.headers['paddle-signature']!)).toBe(true);
    const { answer, events } = await deliver(request(sample.body, sample.headers, new Date()), { secrets });
    expect(answer.status).toBe(200);
    // The ids the sample announces (what `keysmith send` waits for) are the events it becomes.
    expect(events.map((e) => e.eventId)).toEqual(sample.eventIds);
  });

  it('ties a refund to its purchase and a cancellation to its subscription by --order', async () => {
    const grant = paddleBillingSample.build({ secrets, event: 'transaction.completed', orderId: 'txn_tie1' });
    const refund = paddleBillingSample.build({ secrets, event: 'adjustment.updated', orderId: 'txn_tie1' });
    const [g] = (await deliver(request(grant.body, grant.headers, new Date()))).events;
    const [r] = (await deliver(request(refund.body, refund.headers, new Date()))).events;
    expect(g).toMatchObject({ action: 'grant', scope: 'txn_tie1', customer: { email: 'sample-customer@example.com' } });
    expect(r).toMatchObject({ action: 'revoke', scope: 'txn_tie1' });
    const first = paddleBillingSample.build({ secrets, event: 'transaction.completed:subscription', orderId: 'sub_tie2' });
    const cancel = paddleBillingSample.build({ secrets, event: 'subscription.canceled', orderId: 'sub_tie2' });
    expect((await deliver(request(first.body, first.headers, new Date()))).events[0]).toMatchObject({ action: 'grant', scope: 'sub_tie2' });
    expect((await deliver(request(cancel.body, cancel.headers, new Date()))).events[0]).toMatchObject({ action: 'revoke', scope: 'sub_tie2' });
    const sandboxed = paddleBillingSample.build({ secrets: { ...secrets, KEYSMITH_PADDLE_BILLING_SANDBOX_SECRET: SANDBOX }, orderId: 'txn_tie3' });
    expect(sandboxed.testFlag).toBe(true);
  });
});
