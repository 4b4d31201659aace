import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Paddle } from '@paddle/paddle-node-sdk';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { appliedEvents } from '../../../functions/aws/store';
import { findWebhookProvider, WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import type { SampleRequest } from '../../../functions/providers/sample';
import type { FuzzKit } from '../../../functions/providers/types';
import { parseEnvFile } from '../../../lib/local/devSecrets';
import { rawFromSample } from '../../../scripts/soak/apiEvent';
import { type Harness, startHarness } from './support';

/** An attacker's own keys (for the forgeries that sign with a wrong key). */
function attackerKeys(): FuzzKit['attacker'] {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, ec: ec.privateKey, ecPublicJwk: ec.publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
}

/**
 * Every provider through the local stack: a signed sample delivered twice gets the identical
 * answer and has one effect; a tampered copy is refused and leaves nothing behind.
 */
describe.each(WEBHOOK_PROVIDERS.map((r) => r.name))('%s on the local stack', (provider) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  it('the identical delivery twice → identical answer, one license set, at most one email', async () => {
    const email = `twice-${provider}-${Date.now()}@example.com`;
    const request = await h.sample(provider, { email });
    const first = await h.send(request);
    await h.stack.poller.drain();
    const second = await h.send(request);
    await h.stack.poller.drain();
    expect(first.status).toBeLessThan(300);
    expect(second.status).toBe(first.status);
    expect(second.body.equals(first.body)).toBe(true);
    const found = await h.store.findByEmail(email);
    expect(found).toHaveLength(1);
    expect(found[0]!.state.licenses.length).toBeGreaterThan(0);
    expect(await appliedEvents(h.store, found[0]!.state)).toHaveLength(1);
    // Paddle mails our answer itself; everyone else gets exactly one keysmith email.
    expect(await h.emails(email)).toHaveLength(provider === 'paddle' ? 0 : 1);
  });

  it('a tampered delivery → 4xx, nothing queued or stored', async () => {
    const email = `tampered-${provider}-${Date.now()}@example.com`;
    const request = await h.sample(provider, { email });
    // The provider's own first forgery (its fuzz.ts): a wrong key, a wrong token or URL secret, a
    // JWT with alg none — whatever its authentication is, the request no longer carries it.
    const hooks = await findWebhookProvider(provider)!.fuzz();
    const dev = parseEnvFile(readFileSync(h.stack.secretsFile, 'utf8'));
    const forged = hooks.forged(rawFromSample(request), [], 0, 'not-the-secret', { secrets: dev, attacker: attackerKeys() }).request;
    const tampered: SampleRequest = {
      ...request,
      method: forged.method as SampleRequest['method'],
      path: forged.target,
      headers: Object.fromEntries(forged.headers.map(([n, v]) => [n.toLowerCase(), v])),
      body: forged.body,
    };
    const answer = await h.send(tampered);
    expect(answer.status).toBe(401);
    expect(await h.queueDepth(h.stack.queueUrl)).toBe(0);
    await h.stack.poller.drain();
    expect(await h.store.findByEmail(email)).toHaveLength(0);
  });
});

/**
 * The newer storefronts through the local stack with signers that are not keysmith's code, and
 * the refusals each scheme allows — forged, tampered and, where the scheme has a timestamp,
 * stale. A refusal leaves nothing queued or stored.
 */
describe('independent signers, forged and stale requests', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  /** Send, let the worker finish, and say what the stack did with it. */
  async function outcome(request: { path: string; headers: Record<string, string>; body: Buffer; method: 'POST' }, email: string) {
    const answer = await h.send({ ...request, orderId: '', eventIds: [], testFlag: false });
    const queued = await h.queueDepth(h.stack.queueUrl);
    await h.stack.poller.drain();
    const found = await h.store.findByEmail(email);
    return { status: answer.status, queued, licenses: found.flatMap((e) => e.state.licenses) };
  }

  it('Lemon Squeezy: signed with node:crypto → 200 and a license; another secret → 401, nothing stored', async () => {
    const email = `ls-${Date.now()}@example.com`;
    const built = await h.sample('lemonsqueezy', { email });
    const sign = (secret: string) => createHmac('sha256', secret).update(built.body).digest('hex');
    const forged = await outcome({ ...built, method: 'POST', headers: { ...built.headers, 'x-signature': sign('not-the-secret') } }, email);
    expect(forged).toEqual({ status: 401, queued: 0, licenses: [] });
    const good = await outcome({ ...built, method: 'POST', headers: { ...built.headers, 'x-signature': sign(h.secrets.KEYSMITH_LEMONSQUEEZY_SECRET!) } }, email);
    expect(good.status).toBe(200);
    expect(good.licenses.length).toBeGreaterThan(0);
  });

  it('Lemon Squeezy: a subscription payment refunded in full revokes the subscription’s order', async () => {
    const email = `ls-refund-${Date.now()}@example.com`;
    const orderId = String(800_000_000 + Math.floor(Math.random() * 1_000_000));
    const signedAs = async (event: string) => {
      const built = await h.sample('lemonsqueezy', { email, orderId, event });
      return { ...built, method: 'POST' as const, headers: { ...built.headers, 'x-signature': createHmac('sha256', h.secrets.KEYSMITH_LEMONSQUEEZY_SECRET!).update(built.body).digest('hex') } };
    };
    const bought = await outcome(await signedAs('order_created'), email);
    expect(bought.status).toBe(200);
    expect(new Set(bought.licenses.map((l) => l.status))).toEqual(new Set(['active']));
    await outcome(await signedAs('subscription_created'), email);
    const refunded = await outcome(await signedAs('subscription_payment_refunded'), email);
    expect(refunded.status).toBe(200);
    expect(new Set(refunded.licenses.map((l) => l.status))).toEqual(new Set(['revoked']));
  });

  it('Polar: signed by standardwebhooks → 200 and a license; stale, future or forged → 401, nothing stored', async () => {
    const email = `polar-${Date.now()}@example.com`;
    const built = await h.sample('polar', { email });
    // As Polar's server signs: the shown secret's UTF-8 bytes, base64-encoded, as the library's key.
    const key = Buffer.from(h.secrets.KEYSMITH_POLAR_WEBHOOK_SECRET!, 'utf8').toString('base64');
    const signedAt = (at: Date, webhookKey = key) => {
      const id = `msg_${randomUUID()}`;
      const headers = {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(webhookKey).sign(id, at, built.body.toString()),
      };
      return { ...built, method: 'POST' as const, headers };
    };
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    expect(await outcome(signedAt(minutes(-10)), email)).toEqual({ status: 401, queued: 0, licenses: [] });
    expect(await outcome(signedAt(minutes(10)), email)).toEqual({ status: 401, queued: 0, licenses: [] });
    expect(await outcome(signedAt(new Date(), Buffer.from('whsec_someone-else').toString('base64')), email)).toEqual({ status: 401, queued: 0, licenses: [] });
    const good = await outcome(signedAt(new Date()), email);
    expect(good.status).toBe(200);
    expect(good.licenses.length).toBeGreaterThan(0);
  });

  it('Gumroad: a ping to the secret URL → 200 and a license; to another URL → 401, nothing stored', async () => {
    const email = `gumroad-${Date.now()}@example.com`;
    const built = await h.sample('gumroad', { email });
    const wrong = await outcome({ ...built, method: 'POST', path: '/webhooks/gumroad/not-the-secret-0123456789012345678901234' }, email);
    expect(wrong).toEqual({ status: 401, queued: 0, licenses: [] });
    const good = await outcome({ ...built, method: 'POST' }, email);
    expect(good.status).toBe(200);
    expect(good.licenses.length).toBeGreaterThan(0);
  });
});

/** A provider whose signature carries a timestamp, and how its own signer signs (for the stack's secret). */
interface Timestamped {
  provider: string;
  /** The events: a purchase, a dispute opened and lifted, a refund. */
  grant: string;
  hold: string;
  lift: string;
  refund: string;
  /** An order id of the provider's own form (the contract's `--order`). */
  order: string;
  /** The secret the local stack verifies the samples with. */
  secretOf(secrets: Record<string, string | undefined>): string;
  /** The request signed again by the provider's own signer, at `ts`, with `secret`. */
  sign(request: SampleRequest, ts: number, secret: string): Promise<SampleRequest>;
}

const stripeSdk = new Stripe('sk_test_keysmith_offline');
const paddleSdk = new Paddle('pdl_sdbx_apikey_keysmith_offline_test');
const TIMESTAMPED: Timestamped[] = [
  {
    provider: 'stripe',
    grant: 'checkout.session.completed',
    hold: 'charge.dispute.created',
    lift: 'charge.dispute.closed',
    refund: 'charge.refunded',
    order: 'cs_test_e2e',
    secretOf: (secrets) => secrets.KEYSMITH_STRIPE_WEBHOOK_SECRET!,
    // Stripe's own SDK signs.
    sign: async (request, ts, secret) => ({
      ...request,
      headers: { ...request.headers, 'stripe-signature': stripeSdk.webhooks.generateTestHeaderString({ payload: request.body.toString('utf8'), secret, timestamp: ts }) },
    }),
  },
  {
    provider: 'paddle-billing',
    grant: 'transaction.completed',
    hold: 'adjustment.created:chargeback',
    lift: 'adjustment.created:chargeback_reverse',
    refund: 'adjustment.updated',
    order: 'txn_e2e',
    // Locally the samples are signed as the sandbox destination's (test orders).
    secretOf: (secrets) => secrets.KEYSMITH_PADDLE_BILLING_SANDBOX_SECRET ?? secrets.KEYSMITH_PADDLE_BILLING_SECRET!,
    // Paddle's SDK cannot sign: the documented HMAC signs, and the SDK confirms a fresh signature.
    sign: async (request, ts, secret) => {
      const header = `ts=${ts};h1=${createHmac('sha256', secret).update(`${ts}:`).update(request.body).digest('hex')}`;
      if (Math.abs(Date.now() / 1000 - ts) < 3) expect(await paddleSdk.webhooks.isSignatureValid(request.body.toString('utf8'), secret, header)).toBe(true);
      return { ...request, headers: { ...request.headers, 'paddle-signature': header } };
    },
  },
];

/**
 * The providers whose signatures carry a timestamp, through the local stack with the providers'
 * own signers. A stale or forged request is refused before anything is queued or stored; a signed
 * one licenses the order the contract names, and the order's lifecycle follows its events.
 */
describe.each(TIMESTAMPED)('$provider: timestamped signatures on the local stack', (spec) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  const now = () => Math.floor(Date.now() / 1000);
  const signed = (request: SampleRequest, ts = now(), secret = spec.secretOf(h.secrets)) => spec.sign(request, ts, secret);
  const statuses = async (orderId: string) => (await h.store.findByOrder(spec.provider, orderId)).flatMap((e) => e.state.licenses.map((l) => l.status));

  it('signed by the provider’s signer → 200, the license found by the provider’s order id, emailed once', async () => {
    const email = `signed-${spec.provider}-${Date.now()}@example.com`;
    const orderId = `${spec.order}_${Date.now()}`;
    const answer = await h.send(await signed(await h.sample(spec.provider, { email, orderId, event: spec.grant })));
    expect(answer.status).toBe(200);
    await h.stack.poller.drain();
    expect(await statuses(orderId)).toEqual(['active']);
    expect(await h.emails(email)).toHaveLength(1);
  });

  it.each([
    ['stale (signed 360 s ago)', (r: SampleRequest) => signed(r, now() - 360)],
    ['signed 400 s ahead (beyond the tolerance however slow the machine)', (r: SampleRequest) => signed(r, now() + 400)],
    ['forged (another secret)', (r: SampleRequest) => signed(r, now(), `${spec.secretOf(h.secrets)}-not-it`)],
  ])('%s → 401, nothing queued or stored', async (_name, forge) => {
    const email = `refused-${spec.provider}-${Date.now()}@example.com`;
    const orderId = `${spec.order}_refused_${Date.now()}`;
    const answer = await h.send(await forge(await h.sample(spec.provider, { email, orderId, event: spec.grant })));
    expect(answer.status).toBe(401);
    expect(await h.queueDepth(h.stack.queueUrl)).toBe(0);
    await h.stack.poller.drain();
    expect(await h.store.findByEmail(email)).toHaveLength(0);
    expect(await h.store.findByOrder(spec.provider, orderId)).toHaveLength(0);
  });

  it('a dispute suspends and its reversal lifts it; a refund revokes for good', async () => {
    const orderId = `${spec.order}_life_${Date.now()}`;
    const step = async (event: string) => {
      const answer = await h.send(await signed(await h.sample(spec.provider, { orderId, event })));
      expect(answer.status).toBe(200);
      await h.stack.poller.drain();
      return statuses(orderId);
    };
    expect(await step(spec.grant)).toEqual(['active']);
    expect(await step(spec.hold)).toEqual(['suspended']);
    expect(await step(spec.lift)).toEqual(['active']);
    expect(await step(spec.refund)).toEqual(['revoked']);
  });
});

/**
 * A Stripe subscription payment is refunded or disputed under its payment intent, which no
 * subscription event names: the invoice that payment paid links it (before API 2025-03-31 the
 * invoice names it; since then `invoice_payment.paid` does, and may come before or after its
 * invoice.paid). Through the local stack, every request signed by Stripe's SDK.
 */
describe('stripe: refunds and disputes of subscription payments', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  const secret = () => h.secrets.KEYSMITH_STRIPE_WEBHOOK_SECRET!;
  const send = async (orderId: string, event: string) => {
    const request = await h.sample('stripe', { orderId, event });
    const ts = Math.floor(Date.now() / 1000);
    const header = stripeSdk.webhooks.generateTestHeaderString({ payload: request.body.toString('utf8'), secret: secret(), timestamp: ts });
    const answer = await h.send({ ...request, headers: { ...request.headers, 'stripe-signature': header } });
    expect(answer.status).toBe(200);
    await h.stack.poller.drain();
  };
  const statuses = async (orderId: string) => (await h.store.findByOrder('stripe', orderId)).flatMap((e) => e.state.licenses.map((l) => l.status));

  it.each([
    ['invoice.paid, then invoice_payment.paid (2025 shape)', ['invoice.paid', 'invoice_payment.paid']],
    ['invoice_payment.paid first (2025 shape)', ['invoice_payment.paid', 'invoice.paid']],
    ['a renewal invoice of the older shape, which names its payment', ['invoice.paid', 'invoice.paid:legacy-renewal']],
  ])('%s: the dispute suspends the subscription, winning it lifts that, the refund revokes', async (_name, paid) => {
    const sub = `sub_e2e${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    for (const event of paid) await send(sub, event);
    const licensed = await statuses(sub);
    expect(licensed.length).toBeGreaterThan(0);
    expect(new Set(licensed)).toEqual(new Set(['active']));

    await send(sub, 'charge.dispute.created');
    expect(new Set(await statuses(sub))).toEqual(new Set(['suspended']));
    await send(sub, 'charge.dispute.closed');
    expect(new Set(await statuses(sub))).toEqual(new Set(['active']));
    await send(sub, 'charge.refunded');
    expect(new Set(await statuses(sub))).toEqual(new Set(['revoked']));
  });

  it('a one-time purchase whose payment is also on an invoice is still refunded under its own order', async () => {
    const session = `cs_test_e2e${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await send(session, 'checkout.session.completed');
    // The same payment intent, reported on an invoice (Checkout's optional post-payment invoice).
    await send(session, 'invoice_payment.paid');
    expect(await statuses(session)).toEqual(['active']);
    await send(session, 'charge.refunded');
    expect(await statuses(session)).toEqual(['revoked']);
  });
});
