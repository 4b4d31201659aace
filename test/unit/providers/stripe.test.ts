import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Stripe from 'stripe';
import type { Catalog } from '../../../functions/domain/catalog';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { stripe } from '../../../functions/providers/stripe';
import { stripeSample } from '../../../functions/providers/stripe/sample';
import { toleranceFromEnv, verifyStripeSignature } from '../../../functions/providers/stripe/verify';
import { catalogWith, exampleCatalog, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

/**
 * Stripe ingress: requests are signed with Stripe's own SDK (`generateTestHeaderString`), never
 * with keysmith's code, so a mistake in our verifier cannot cancel out a mistake in our signer.
 */

const SECRET = 'whsec_test_c2VjcmV0LWZvci1rZXlzbWl0aC10ZXN0cw';
const OLD_SECRET = 'whsec_test_previous_secret_value_0001';
const sdk = new Stripe('sk_test_keysmith_offline');
const NOW = new Date('2026-12-02T06:00:00Z');
const nowSeconds = Math.floor(NOW.getTime() / 1000);

function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, '..', '..', '..', 'functions', 'providers', 'stripe', 'fixtures', name));
}

function signed(body: Buffer, options: { secret?: string; timestamp?: number } = {}): string {
  return sdk.webhooks.generateTestHeaderString({ payload: body.toString('utf8'), secret: options.secret ?? SECRET, timestamp: options.timestamp ?? nowSeconds });
}

function request(body: Buffer, headers: Record<string, string> = { 'stripe-signature': signed(body), 'content-type': 'application/json; charset=utf-8' }, receivedAt = NOW): WebhookRequest {
  return { method: 'POST', path: '/webhooks/stripe', routeKey: 'POST /webhooks/stripe', pathParameters: {}, headers, rawQuery: '', body, receivedAt, requestId: 'r1' };
}

async function deliver(req: WebhookRequest, options: { secrets?: Record<string, string>; catalog?: Catalog } = {}) {
  const queue = new MemoryQueue();
  const secrets = testSecrets(options.secrets ?? { KEYSMITH_STRIPE_WEBHOOK_SECRET: SECRET });
  const answer = await runIngress(stripe, req, { queue, catalog: options.catalog ?? exampleCatalog(), secrets: async () => secrets, log: silentLogger() });
  return { answer, events: queue.sent };
}

describe('Stripe signature', () => {
  const body = fixture('checkout-session-completed.json');

  it('accepts what the Stripe SDK signs', async () => {
    const { answer, events } = await deliver(request(body));
    expect(answer.status).toBe(200);
    expect(events).toHaveLength(1);
  });

  it('accepts any of several v1 signatures (secret roll) and the previous secret', async () => {
    const old = signed(body, { secret: OLD_SECRET });
    const current = signed(body);
    const both = `${old},v1=${current.split('v1=')[1]}`;
    expect((await deliver(request(body, { 'stripe-signature': both }))).answer.status).toBe(200);
    const previousOnly = { KEYSMITH_STRIPE_WEBHOOK_SECRET: 'whsec_new_one_not_yet_used_by_stripe', KEYSMITH_STRIPE_WEBHOOK_SECRET_PREVIOUS: OLD_SECRET };
    expect((await deliver(request(body, { 'stripe-signature': old }), { secrets: previousOnly })).answer.status).toBe(200);
  });

  const tampered = Buffer.from(body.toString('utf8').replace('"payment_status": "paid"', '"payment_status": "paid" '));
  it.each([
    ['a wrong secret', () => request(body, { 'stripe-signature': signed(body, { secret: 'whsec_wrong' }) })],
    ['a tampered body', () => request(tampered, { 'stripe-signature': signed(body) })],
    ['no header', () => request(body, {})],
    ['a stale timestamp (301 s old)', () => request(body, { 'stripe-signature': signed(body, { timestamp: nowSeconds - 301 }) })],
    ['a timestamp 301 s in the future', () => request(body, { 'stripe-signature': signed(body, { timestamp: nowSeconds + 301 }) })],
    ['a signature moved to another timestamp', () => request(body, { 'stripe-signature': signed(body).replace(`t=${nowSeconds}`, `t=${nowSeconds - 1}`) })],
    ['two t= values', () => request(body, { 'stripe-signature': `t=${nowSeconds - 1000},${signed(body)}` })],
    ['only a v0 signature', () => request(body, { 'stripe-signature': signed(body).replace('v1=', 'v0=') })],
    ['a signature over re-serialized JSON', () => request(body, { 'stripe-signature': signed(Buffer.from(JSON.stringify(JSON.parse(body.toString())))) })],
  ])('refuses %s with 401 and enqueues nothing', async (_name, make) => {
    const { answer, events } = await deliver(make());
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/^UNAUTHORIZED/);
    expect(events).toHaveLength(0);
  });

  it('says NOT_CONFIGURED (401) without a secret', async () => {
    const { answer, events } = await deliver(request(body), { secrets: {} });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/KEYSMITH_STRIPE_WEBHOOK_SECRET is not set/);
    expect(events).toHaveLength(0);
  });

  it('accepts exactly the tolerance, and a configured wider one', () => {
    expect(() => verifyStripeSignature(signed(body, { timestamp: nowSeconds - 300 }), body, [SECRET], NOW)).not.toThrow();
    const old = signed(body, { timestamp: nowSeconds - 900 });
    expect(() => verifyStripeSignature(old, body, [SECRET], NOW)).toThrow(/900 s away/);
    expect(() => verifyStripeSignature(old, body, [SECRET], NOW, { toleranceSeconds: toleranceFromEnv({ KEYSMITH_STRIPE_TOLERANCE_SECONDS: '1000' }) })).not.toThrow();
  });

  it('reads the tolerance from the environment, ignoring nonsense', () => {
    expect(toleranceFromEnv({})).toBe(300);
    expect(toleranceFromEnv({ KEYSMITH_STRIPE_TOLERANCE_SECONDS: '600' })).toBe(600);
    expect(toleranceFromEnv({ KEYSMITH_STRIPE_TOLERANCE_SECONDS: '0' })).toBe(300);
    expect(toleranceFromEnv({ KEYSMITH_STRIPE_TOLERANCE_SECONDS: '-5' })).toBe(300);
    expect(toleranceFromEnv({ KEYSMITH_STRIPE_TOLERANCE_SECONDS: 'ten' })).toBe(300);
  });
});

describe('Stripe events', () => {
  it('a one-time Checkout purchase grants the product its session metadata names, scoped by payment intent', async () => {
    const { answer, events } = await deliver(request(fixture('checkout-session-completed.json')));
    expect(answer).toMatchObject({ status: 200, body: 'OK\n' });
    expect(events).toEqual([
      expect.objectContaining({
        provider: 'stripe',
        eventId: 'evt_1QJ7m2LkdIwHu7ixW2vG0bRk',
        businessKey: 'grant#cs_test_a1Yk3r0c5nQ2Qe8yJbP4tW6uXz9LmN0oPqRsTuVwXyZ',
        action: 'grant',
        reason: 'checkout.session.completed',
        scope: 'pi_3QJ7lzLkdIwHu7ix0kT1bH5s',
        orderId: 'cs_test_a1Yk3r0c5nQ2Qe8yJbP4tW6uXz9LmN0oPqRsTuVwXyZ',
        live: false,
        occurredAt: new Date(1764662400 * 1000).toISOString(),
        customer: { email: 'jenny.rosen@example.com', name: 'Jenny Rosen' },
        items: [{ productId: 'prod_RbYq8yZ4sE2kLm', quantity: 1 }],
      }),
    ]);
  });

  it('without metadata, the Payment Link names the product; without either, only defaultProduct can', async () => {
    const session = JSON.parse(fixture('checkout-session-completed.json').toString('utf8'));
    session.data.object.metadata = { keysmith_quantity: '3' };
    let body = Buffer.from(JSON.stringify(session));
    expect((await deliver(request(body))).events[0]!.items).toEqual([{ productId: 'plink_1QJ7j8LkdIwHu7ixq9XxkM3a', quantity: 3 }]);
    session.data.object.payment_link = null;
    body = Buffer.from(JSON.stringify(session));
    expect((await deliver(request(body))).events[0]!.items).toEqual([{ productId: 'checkout', quantity: 3 }]);
  });

  it('an unpaid (delayed payment) session is recorded; async_payment_succeeded grants it with the same business key', async () => {
    const session = JSON.parse(fixture('checkout-session-completed.json').toString('utf8'));
    session.data.object.payment_status = 'unpaid';
    const unpaid = (await deliver(request(Buffer.from(JSON.stringify(session))))).events[0]!;
    expect(unpaid).toMatchObject({ action: 'record', scope: 'pi_3QJ7lzLkdIwHu7ix0kT1bH5s', items: [] });
    session.data.object.payment_status = 'paid';
    session.type = 'checkout.session.async_payment_succeeded';
    session.id = 'evt_async';
    const paid = (await deliver(request(Buffer.from(JSON.stringify(session))))).events[0]!;
    expect(paid).toMatchObject({ action: 'grant', businessKey: `grant#${session.data.object.id}`, scope: 'pi_3QJ7lzLkdIwHu7ix0kT1bH5s' });
  });

  it('a subscription Checkout only names the order; its first invoice grants', async () => {
    const session = (await deliver(request(fixture('checkout-session-completed-subscription.json')))).events[0]!;
    expect(session).toMatchObject({ action: 'record', scope: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp', orderId: 'cs_test_b1Sub4r0c5nQ2Qe8yJbP4tW6uXz9LmN0oPqRsTuVwXy', items: [] });
    const invoice = (await deliver(request(fixture('invoice-paid.json')))).events[0]!;
    expect(invoice).toMatchObject({
      action: 'grant',
      businessKey: 'grant#in_1QJ8ZxLkdIwHu7ixkWq2Jr8f',
      scope: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp',
      orderId: 'in_1QJ8ZxLkdIwHu7ixkWq2Jr8f',
      customer: { email: 'jenny.rosen@example.com', name: 'Jenny Rosen' },
      items: [{ productId: 'prod_RbYq8yZ4sE2kLm', sku: 'price_1QJ8Y9LkdIwHu7ixMonthly', quantity: 3, name: '3 × Sample Pro (at $5.00 / month)' }],
      subscription: { id: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp', periodEnd: new Date(1767340855 * 1000).toISOString() },
    });
  });

  it('reads the pre-2025 invoice shape (lines[].price, invoice.subscription) the same way: a renewal extends', async () => {
    const event = (await deliver(request(fixture('invoice-paid-legacy.json')))).events[0]!;
    expect(event).toMatchObject({
      action: 'extend',
      businessKey: 'extend#in_1PbRjzLkdIwHu7ixRenew001',
      scope: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp',
      subscription: { id: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp', periodEnd: new Date(1769932855 * 1000).toISOString() },
    });
    // Both shapes name the same item when it grants.
    const legacy = JSON.parse(fixture('invoice-paid-legacy.json').toString('utf8'));
    legacy.data.object.billing_reason = 'subscription_create';
    const granted = (await deliver(request(Buffer.from(JSON.stringify(legacy))))).events[0]!;
    expect(granted.items).toEqual([{ productId: 'prod_RbYq8yZ4sE2kLm', sku: 'price_1QJ8Y9LkdIwHu7ixMonthly', quantity: 3, name: '3 × Sample Pro (at $5.00 / month)' }]);
  });

  it('names the price instead of the product when the catalog lists the price', async () => {
    const catalog = catalogWith({ products: { pro: { name: 'Pro', match: { stripe: ['price_1QJ8Y9LkdIwHu7ixMonthly'] } } }, defaultProduct: 'pro' });
    const event = (await deliver(request(fixture('invoice-paid.json')), { catalog })).events[0]!;
    expect(event.items[0]!.productId).toBe('price_1QJ8Y9LkdIwHu7ixMonthly');
  });

  it('skips proration lines, and records a one-off invoice unless its metadata asks for a grant', async () => {
    const invoice = JSON.parse(fixture('invoice-paid.json').toString('utf8'));
    invoice.data.object.lines.data.push({
      ...invoice.data.object.lines.data[0],
      id: 'il_proration',
      parent: { subscription_item_details: { proration: true, subscription: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp' } },
    });
    expect((await deliver(request(Buffer.from(JSON.stringify(invoice))))).events[0]!.items).toHaveLength(1);

    invoice.data.object.parent = null;
    invoice.data.object.lines.data = [{ ...invoice.data.object.lines.data[0], parent: null }];
    invoice.data.object.billing_reason = 'manual';
    const recorded = (await deliver(request(Buffer.from(JSON.stringify(invoice))))).events[0]!;
    expect(recorded).toMatchObject({ action: 'record', scope: 'in_1QJ8ZxLkdIwHu7ixkWq2Jr8f', items: [] });
    invoice.data.object.metadata = { keysmith_grant: 'true' };
    const granted = (await deliver(request(Buffer.from(JSON.stringify(invoice))))).events[0]!;
    expect(granted).toMatchObject({ action: 'grant', scope: 'in_1QJ8ZxLkdIwHu7ixkWq2Jr8f', items: [{ productId: 'prod_RbYq8yZ4sE2kLm', quantity: 3 }] });
  });

  it('a full refund revokes the payment intent; a partial one is recorded', async () => {
    const refund = (await deliver(request(fixture('charge-refunded.json')))).events[0]!;
    expect(refund).toMatchObject({ action: 'revoke', scope: 'pi_3QJ7lzLkdIwHu7ix0kT1bH5s', businessKey: 'refund#ch_3QJ7lzLkdIwHu7ix0sQ1wE2r', items: [] });
    expect(refund.hold).toBeUndefined();
    const partial = JSON.parse(fixture('charge-refunded.json').toString('utf8'));
    partial.data.object.refunded = false;
    partial.data.object.amount_refunded = 1000;
    expect((await deliver(request(Buffer.from(JSON.stringify(partial))))).events[0]).toMatchObject({ action: 'record' });
  });

  it('a dispute sets the reversible dispute hold; won lifts it, lost makes it final', async () => {
    const created = (await deliver(request(fixture('charge-dispute-created.json')))).events[0]!;
    expect(created).toMatchObject({ action: 'revoke', hold: 'disputed', scope: 'pi_3QJ7lzLkdIwHu7ix0kT1bH5s' });
    const won = (await deliver(request(fixture('charge-dispute-closed.json')))).events[0]!;
    expect(won).toMatchObject({ action: 'reinstate', hold: 'disputed', scope: 'pi_3QJ7lzLkdIwHu7ix0kT1bH5s', customer: { email: 'jenny.rosen@example.com' } });
    const lost = JSON.parse(fixture('charge-dispute-closed.json').toString('utf8'));
    lost.data.object.status = 'lost';
    const final = (await deliver(request(Buffer.from(JSON.stringify(lost))))).events[0]!;
    expect(final).toMatchObject({ action: 'revoke', scope: 'pi_3QJ7lzLkdIwHu7ix0kT1bH5s' });
    expect(final.hold).toBeUndefined();
  });

  it('links the payment that paid a subscription invoice to the subscription, in both API shapes', async () => {
    // Before 2025-03-31 the invoice names its payment intent and charge.
    const legacy = (await deliver(request(fixture('invoice-paid-legacy.json')))).events[0]!;
    expect(legacy).toMatchObject({ scope: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp', links: ['pi_3PbRk0LkdIwHu7ix0Renew01', 'ch_3PbRk0LkdIwHu7ix1aBcDeFg', 'in_1PbRjzLkdIwHu7ixRenew001'] });
    expect(legacy.followLinks).toBeUndefined();
    // Since then only the invoice itself: invoice_payment.paid links the payment to it.
    const current = (await deliver(request(fixture('invoice-paid.json')))).events[0]!;
    expect(current).toMatchObject({ scope: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp', links: ['in_1QJ8ZxLkdIwHu7ixkWq2Jr8f'] });
    const payment = (await deliver(request(fixture('invoice-payment-paid.json')))).events;
    expect(payment).toEqual([
      expect.objectContaining({ action: 'record', reason: 'invoice_payment.paid', scope: 'in_1QJ8ZxLkdIwHu7ixkWq2Jr8f', followLinks: true, links: ['pi_3QJ8a0LkdIwHu7ix0Sub0001'], items: [] }),
    ]);
  });

  it('reads an invoice payment whose ids sit on the object (preview versions) or that names a bare charge; ignores an unpaid one', async () => {
    const body = JSON.parse(fixture('invoice-payment-paid.json').toString('utf8'));
    const variant = async (object: Record<string, unknown>) => {
      const copy = structuredClone(body);
      copy.data.object = { ...copy.data.object, ...object };
      return (await deliver(request(Buffer.from(JSON.stringify(copy))))).events;
    };
    expect((await variant({ payment: undefined, payment_intent: null, charge: 'ch_Bare01' }))[0]).toMatchObject({ links: ['ch_Bare01'] });
    expect((await variant({ payment: { type: 'charge', charge: 'ch_Bare02' } }))[0]).toMatchObject({ links: ['ch_Bare02'] });
    expect(await variant({ status: 'open' })).toEqual([]);
    expect(await variant({ payment: { type: 'payment_record', payment_record: 'pr_1' } })).toEqual([]);
  });

  it('refunds and disputes follow the links from the payment they name', async () => {
    for (const name of ['charge-refunded.json', 'charge-dispute-created.json', 'charge-dispute-closed.json']) {
      expect((await deliver(request(fixture(name)))).events[0]).toMatchObject({ scope: 'pi_3QJ7lzLkdIwHu7ix0kT1bH5s', followLinks: true });
    }
  });

  it('cancel at period end revokes effective at the end; un-cancelling reinstates', async () => {
    const [cancel, ...rest] = (await deliver(request(fixture('customer-subscription-updated.json')))).events;
    expect(rest).toHaveLength(0);
    expect(cancel).toMatchObject({ action: 'revoke', eventId: 'evt_1QJCe1LkdIwHu7ixSubUpd01', scope: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp', effectiveAt: new Date(1767340855 * 1000).toISOString() });
    const uncancel = JSON.parse(fixture('customer-subscription-updated.json').toString('utf8'));
    uncancel.data.object.cancel_at = null;
    uncancel.data.object.cancel_at_period_end = false;
    uncancel.data.previous_attributes = { cancel_at: 1767340855, cancel_at_period_end: true };
    expect((await deliver(request(Buffer.from(JSON.stringify(uncancel))))).events).toEqual([expect.objectContaining({ action: 'reinstate', scope: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp' })]);
  });

  it('one update that changes quantity and status gives one canonical event per change, ids kept unique', async () => {
    const update = JSON.parse(fixture('customer-subscription-updated.json').toString('utf8'));
    update.data.object.cancel_at = null;
    update.data.object.cancel_at_period_end = false;
    update.data.object.status = 'past_due';
    update.data.object.items.data[0].quantity = 5;
    update.data.previous_attributes = { items: { data: [{ quantity: 3 }] }, status: 'active' };
    const events = (await deliver(request(Buffer.from(JSON.stringify(update))))).events;
    expect(events.map((e) => [e.action, e.eventId])).toEqual([
      ['change', 'evt_1QJCe1LkdIwHu7ixSubUpd01'],
      ['suspend', 'evt_1QJCe1LkdIwHu7ixSubUpd01#suspend'],
    ]);
    expect(events[0]!.items).toEqual([{ productId: 'prod_RbYq8yZ4sE2kLm', sku: 'price_1QJ8Y9LkdIwHu7ixMonthly', quantity: 5 }]);
  });

  it('back to active from past_due reinstates, and keeps a scheduled cancellation', async () => {
    const update = JSON.parse(fixture('customer-subscription-updated.json').toString('utf8'));
    update.data.previous_attributes = { status: 'past_due' };
    const events = (await deliver(request(Buffer.from(JSON.stringify(update))))).events;
    expect(events.map((e) => e.action)).toEqual(['reinstate', 'revoke']);
    expect(events[1]!.effectiveAt).toBe(new Date(1767340855 * 1000).toISOString());
  });

  it('an update that changes nothing keysmith tracks is recorded', async () => {
    const update = JSON.parse(fixture('customer-subscription-updated.json').toString('utf8'));
    update.data.previous_attributes = { metadata: {} };
    expect((await deliver(request(Buffer.from(JSON.stringify(update))))).events).toEqual([expect.objectContaining({ action: 'record' })]);
  });

  it('a deleted subscription is revoked for good', async () => {
    const event = (await deliver(request(fixture('customer-subscription-deleted.json')))).events[0]!;
    expect(event).toMatchObject({ action: 'revoke', scope: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp', subscription: { id: 'sub_1QJ8ZxLkdIwHu7ixa4Vt7cLp' } });
    expect(event.effectiveAt).toBeUndefined();
  });

  it('answers 200 and enqueues nothing for a type it does not handle', async () => {
    const other = Buffer.from(
      JSON.stringify({ id: 'evt_other', object: 'event', type: 'customer.created', created: nowSeconds, livemode: true, data: { object: { id: 'cus_1', object: 'customer' } } }),
    );
    const { answer, events } = await deliver(request(other));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/customer\.created ignored/);
    expect(events).toHaveLength(0);
  });

  it.each([
    ['not JSON', Buffer.from('not json')],
    ['no event id', Buffer.from(JSON.stringify({ type: 'invoice.paid', created: 1, livemode: false, data: { object: {} } }))],
    ['an invoice without lines', Buffer.from(JSON.stringify({ id: 'evt_x', type: 'invoice.paid', created: 1, livemode: false, data: { object: { id: 'in_1' } } }))],
  ])('refuses %s with 400 and a reason', async (_name, body) => {
    const { answer, events } = await deliver(request(body));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/^MALFORMED: /);
    expect(events).toHaveLength(0);
  });
});

describe('Stripe samples', () => {
  it.each(stripeSample.events.map((e) => [e]))('%s is signed so that the Stripe SDK accepts it, and is accepted', async (event) => {
    const sample = stripeSample.build({
      secrets: { KEYSMITH_STRIPE_WEBHOOK_SECRET: SECRET },
      event,
      orderId: event.includes('subscription') || event.startsWith('invoice') ? 'sub_Sample1' : 'cs_test_Sample1',
    });
    // Stripe's own verifier, with its default tolerance.
    const parsed = sdk.webhooks.constructEvent(sample.body, sample.headers['stripe-signature']!, SECRET);
    expect(parsed.id).toBe(sample.eventIds[0]);
    const { answer, events } = await deliver(request(sample.body, sample.headers, new Date()));
    expect(answer.status).toBe(200);
    expect(events.map((e) => e.eventId)).toEqual(sample.eventIds);
    expect(events[0]!.live).toBe(false);
  });

  it('ties one-time events to the order by the Checkout Session id, subscription events by the subscription id', async () => {
    const secrets = { KEYSMITH_STRIPE_WEBHOOK_SECRET: SECRET };
    const purchase = stripeSample.build({ secrets, event: 'checkout.session.completed', orderId: 'cs_test_Tie1' });
    const refund = stripeSample.build({ secrets, event: 'charge.refunded', orderId: 'cs_test_Tie1' });
    const [grant] = (await deliver(request(purchase.body, purchase.headers, new Date()))).events;
    const [revoke] = (await deliver(request(refund.body, refund.headers, new Date()))).events;
    expect(grant).toMatchObject({ action: 'grant', orderId: 'cs_test_Tie1' });
    expect(revoke).toMatchObject({ action: 'revoke', scope: grant!.scope });
    const first = stripeSample.build({ secrets, event: 'invoice.paid', orderId: 'sub_Tie2' });
    const deleted = stripeSample.build({ secrets, event: 'customer.subscription.deleted', orderId: 'sub_Tie2' });
    expect((await deliver(request(first.body, first.headers, new Date()))).events[0]).toMatchObject({ action: 'grant', scope: 'sub_Tie2' });
    expect((await deliver(request(deleted.body, deleted.headers, new Date()))).events[0]).toMatchObject({ action: 'revoke', scope: 'sub_Tie2' });
    expect(first.orderId).toBe('sub_Tie2');
    // A subscription payment's refund names the payment intent its invoice and invoice payment name.
    const payment = stripeSample.build({ secrets, event: 'invoice_payment.paid', orderId: 'sub_Tie2' });
    const refunded = stripeSample.build({ secrets, event: 'charge.refunded', orderId: 'sub_Tie2' });
    const [link] = (await deliver(request(payment.body, payment.headers, new Date()))).events;
    const [subRefund] = (await deliver(request(refunded.body, refunded.headers, new Date()))).events;
    expect(link!.links).toEqual([subRefund!.scope]);
    expect(refunded.orderId).toBe('sub_Tie2');
  });
});
