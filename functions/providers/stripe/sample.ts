import { createHash, createHmac } from 'node:crypto';
import { randomId, SAMPLE_EMAIL, type SampleBuilder } from '../sample';
import disputeClosed from './fixtures/charge-dispute-closed.json';
import disputeCreated from './fixtures/charge-dispute-created.json';
import chargeRefunded from './fixtures/charge-refunded.json';
import sessionCompleted from './fixtures/checkout-session-completed.json';
import subscriptionSession from './fixtures/checkout-session-completed-subscription.json';
import subscriptionUpdated from './fixtures/customer-subscription-updated.json';
import invoicePaid from './fixtures/invoice-paid.json';
import invoicePaidLegacy from './fixtures/invoice-paid-legacy.json';
import invoicePaymentPaid from './fixtures/invoice-payment-paid.json';
import { SECRET } from './names';

/**
 * Stripe samples, signed as Stripe signs (`t=…,v1=…` over "{t}.{body}"). Each `--event` is one of
 * the documented event types; a `:variant` picks another case of the same type.
 *
 * `--order` ties samples together: one-time events take a Checkout Session id (`cs_…`; the
 * payment intent that refunds and disputes name is derived from it), subscription events a
 * subscription id (`sub_…`; anything else is turned into one). So
 * `send checkout.session.completed --order cs_1` then `send charge.refunded --order cs_1`, or
 * `send invoice.paid --order sub_1` then `send customer.subscription.deleted --order sub_1`, land
 * on the same order. A subscription's first payment is the payment intent derived from its id:
 * `send invoice.paid --order sub_1`, `send invoice_payment.paid --order sub_1` (the link since
 * API 2025-03-31), then `send charge.refunded --order sub_1` refunds the subscription.
 */

const SAMPLE_PRODUCT = 'prod_KeysmithSample01';
const SAMPLE_PRICE = 'price_KeysmithSampleMonthly';
const DAY_S = 86_400;

type Build = (ids: Ids, email: string, now: number) => { object: Record<string, unknown>; previous?: Record<string, unknown> };
interface Ids {
  order: string;
  session: string;
  paymentIntent: string;
  subscription: string;
}

const SAMPLES: Record<string, { type: string; subscription: boolean; build: Build }> = {
  'checkout.session.completed': { type: 'checkout.session.completed', subscription: false, build: (ids, email) => ({ object: session(ids, email) }) },
  'checkout.session.async_payment_succeeded': { type: 'checkout.session.async_payment_succeeded', subscription: false, build: (ids, email) => ({ object: session(ids, email) }) },
  'checkout.session.completed:subscription': {
    type: 'checkout.session.completed',
    subscription: true,
    build: (ids, email) => ({
      object: {
        ...subscriptionSession.data.object,
        id: ids.session,
        subscription: ids.subscription,
        invoice: firstInvoice(ids),
        customer_details: { ...subscriptionSession.data.object.customer_details, email },
      },
    }),
  },
  'invoice.paid': { type: 'invoice.paid', subscription: true, build: (ids, email, now) => ({ object: invoice(ids, email, now, 'subscription_create') }) },
  'invoice.paid:renewal': { type: 'invoice.paid', subscription: true, build: (ids, email, now) => ({ object: invoice(ids, email, now, 'subscription_cycle') }) },
  'invoice.paid:legacy-renewal': { type: 'invoice.paid', subscription: true, build: (ids, email, now) => ({ object: legacyInvoice(ids, email, now) }) },
  'invoice_payment.paid': {
    type: 'invoice_payment.paid',
    subscription: true,
    build: (ids, _email, now) => ({
      object: {
        ...invoicePaymentPaid.data.object,
        id: derived('inpay_', firstInvoice(ids)),
        created: now,
        invoice: firstInvoice(ids),
        payment: { type: 'payment_intent', payment_intent: ids.paymentIntent },
        status_transitions: { canceled_at: null, paid_at: now },
      },
    }),
  },
  'charge.refunded': {
    type: 'charge.refunded',
    subscription: false,
    build: (ids, email) => ({
      object: { ...chargeRefunded.data.object, id: derived('ch_', ids.paymentIntent), payment_intent: ids.paymentIntent, billing_details: { ...chargeRefunded.data.object.billing_details, email } },
      previous: chargeRefunded.data.previous_attributes,
    }),
  },
  'charge.dispute.created': { type: 'charge.dispute.created', subscription: false, build: (ids) => ({ object: disputeOf(ids, disputeCreated.data.object, 'needs_response') }) },
  'charge.dispute.closed': { type: 'charge.dispute.closed', subscription: false, build: (ids) => ({ object: disputeOf(ids, disputeClosed.data.object, 'won'), previous: { status: 'under_review' } }) },
  'charge.dispute.closed:lost': {
    type: 'charge.dispute.closed',
    subscription: false,
    build: (ids) => ({ object: disputeOf(ids, disputeClosed.data.object, 'lost'), previous: { status: 'under_review' } }),
  },
  'customer.subscription.updated': {
    type: 'customer.subscription.updated',
    subscription: true,
    build: (ids, _email, now) => ({ object: subscription(ids, now, { cancel_at_period_end: true, cancel_at: periodEnd(now) }), previous: { cancel_at_period_end: false, cancel_at: null } }),
  },
  'customer.subscription.updated:uncancel': {
    type: 'customer.subscription.updated',
    subscription: true,
    build: (ids, _email, now) => ({ object: subscription(ids, now, { cancel_at_period_end: false, cancel_at: null }), previous: { cancel_at_period_end: true, cancel_at: periodEnd(now) } }),
  },
  'customer.subscription.updated:quantity': {
    type: 'customer.subscription.updated',
    subscription: true,
    build: (ids, _email, now) => ({ object: subscription(ids, now, {}, 5), previous: { items: { data: [{ quantity: 3 }] }, quantity: 3 } }),
  },
  'customer.subscription.updated:past_due': {
    type: 'customer.subscription.updated',
    subscription: true,
    build: (ids, _email, now) => ({ object: subscription(ids, now, { status: 'past_due' }), previous: { status: 'active' } }),
  },
  'customer.subscription.updated:active': {
    type: 'customer.subscription.updated',
    subscription: true,
    build: (ids, _email, now) => ({ object: subscription(ids, now, { status: 'active' }), previous: { status: 'past_due' } }),
  },
  'customer.subscription.deleted': {
    type: 'customer.subscription.deleted',
    subscription: true,
    build: (ids, _email, now) => ({ object: subscription(ids, now, { status: 'canceled', ended_at: now }) }),
  },
};

export const stripeSample: SampleBuilder = {
  events: Object.keys(SAMPLES),
  refundEvent: 'charge.refunded',
  // A Checkout Session id: the default sample and its refund both take it.
  soakOrderId: (n, run) => `cs_test_soak${run}n${n}`,
  build({ secrets, event = 'checkout.session.completed', file, email = SAMPLE_EMAIL, orderId }) {
    const secret = secrets[SECRET];
    if (!secret) throw new Error(`${SECRET} is not set: cannot sign a Stripe request`);
    let body: Buffer;
    let order: string;
    let eventId: string;
    let testFlag: boolean;
    if (file) {
      body = file;
      const parsed = JSON.parse(file.toString('utf8')) as { id?: unknown; data?: { object?: { id?: unknown } } };
      eventId = String(parsed.id ?? '');
      order = String(parsed.data?.object?.id ?? '');
      testFlag = false;
    } else {
      const sample = SAMPLES[event];
      if (!sample) throw new Error(`unknown Stripe sample event "${event}"; one of ${Object.keys(SAMPLES).join(', ')}`);
      const ids = idsFor(orderId ?? (sample.subscription ? randomId('sub_') : randomId('cs_test_')));
      const now = Math.floor(Date.now() / 1000);
      const { object, previous } = sample.build(ids, email, now);
      eventId = randomId('evt_');
      body = Buffer.from(
        JSON.stringify({
          id: eventId,
          object: 'event',
          api_version: invoicePaid.api_version,
          created: now,
          data: { object, ...(previous ? { previous_attributes: previous } : {}) },
          // Stripe's test-mode flag: samples are test events.
          livemode: false,
          pending_webhooks: 1,
          request: { id: null, idempotency_key: null },
          type: sample.type,
        }),
      );
      // A refund or dispute of a subscription's payment (`--order sub_…`) belongs to the subscription.
      order = sample.subscription || ids.order.startsWith('sub_') ? ids.subscription : ids.session;
      testFlag = true;
    }
    return {
      method: 'POST',
      path: '/webhooks/stripe',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signatureHeader(body, secret) },
      body,
      orderId: order,
      eventIds: [eventId],
      testFlag,
    };
  },
};

/** `t=…,v1=…` for `body`, signed now (what Stripe sends). */
export function signatureHeader(body: Buffer, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

function idsFor(order: string): Ids {
  const subscription = order.startsWith('sub_') ? order : derived('sub_', order);
  const paymentIntent = order.startsWith('pi_') ? order : derived('pi_', order);
  return { order, session: order.startsWith('cs_') ? order : derived('cs_test_', order), paymentIntent, subscription };
}

/** A stable id of another kind for the same order. */
function derived(prefix: string, from: string): string {
  return prefix + createHash('sha256').update(from).digest('base64url').replace(/[-_]/g, '').slice(0, 24);
}

function firstInvoice(ids: Ids): string {
  return derived('in_', ids.subscription);
}

function periodEnd(now: number): number {
  return now + 30 * DAY_S;
}

function session(ids: Ids, email: string): Record<string, unknown> {
  const object = sessionCompleted.data.object;
  return { ...object, id: ids.session, payment_intent: ids.paymentIntent, metadata: { keysmith_product: SAMPLE_PRODUCT }, customer_details: { ...object.customer_details, email } };
}

function invoice(ids: Ids, email: string, now: number, reason: string): Record<string, unknown> {
  const object = invoicePaid.data.object;
  const id = reason === 'subscription_create' ? firstInvoice(ids) : randomId('in_');
  const line = object.lines.data[0]!;
  return {
    ...object,
    id,
    billing_reason: reason,
    created: now,
    customer_email: email,
    parent: { ...object.parent, subscription_details: { metadata: {}, subscription: ids.subscription } },
    lines: {
      ...object.lines,
      data: [
        {
          ...line,
          invoice: id,
          parent: { ...line.parent, subscription_item_details: { ...line.parent.subscription_item_details, subscription: ids.subscription } },
          period: { start: now, end: periodEnd(now) },
          pricing: { ...line.pricing, price_details: { price: SAMPLE_PRICE, product: SAMPLE_PRODUCT } },
        },
      ],
      url: `/v1/invoices/${id}/lines`,
    },
  };
}

/** A renewal in the shape of API versions before 2025-03-31 (`price` on lines, `subscription` on the invoice). */
function legacyInvoice(ids: Ids, email: string, now: number): Record<string, unknown> {
  const object = invoicePaidLegacy.data.object;
  const id = randomId('in_');
  const line = object.lines.data[0]!;
  return {
    ...object,
    id,
    created: now,
    customer_email: email,
    subscription: ids.subscription,
    // Before 2025-03-31 the invoice names its payment: the one `--order`'s refund sample names.
    payment_intent: ids.paymentIntent,
    charge: derived('ch_', ids.paymentIntent),
    lines: {
      ...object.lines,
      data: [{ ...line, invoice: id, subscription: ids.subscription, period: { start: now, end: periodEnd(now) }, price: { ...line.price, id: SAMPLE_PRICE, product: SAMPLE_PRODUCT } }],
    },
  };
}

function disputeOf(ids: Ids, template: Record<string, unknown>, status: string): Record<string, unknown> {
  return { ...template, id: derived('dp_', ids.paymentIntent), charge: derived('ch_', ids.paymentIntent), payment_intent: ids.paymentIntent, status };
}

function subscription(ids: Ids, now: number, overrides: Record<string, unknown>, quantity = 3): Record<string, unknown> {
  const object = subscriptionUpdated.data.object;
  const item = object.items.data[0]!;
  return {
    ...object,
    id: ids.subscription,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    status: 'active',
    latest_invoice: firstInvoice(ids),
    items: {
      ...object.items,
      data: [{ ...item, current_period_start: now, current_period_end: periodEnd(now), quantity, subscription: ids.subscription, price: { ...item.price, id: SAMPLE_PRICE, product: SAMPLE_PRODUCT } }],
      url: `/v1/subscription_items?subscription=${ids.subscription}`,
    },
    ...overrides,
  };
}
