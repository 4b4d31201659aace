import type { Catalog } from '../../domain/catalog';
import { EVENT_BOUNDS } from '../../domain/eventBounds';
import type { FulfillmentEvent } from '../../domain/events';
import { catalogNames } from '../shared/catalog';
import { parseWith } from '../shared/json';
import { PROVIDER } from './names';
import {
  chargeSchema,
  checkoutSessionSchema,
  disputeSchema,
  invoicePaymentSchema,
  invoiceSchema,
  type Ref,
  type StripeCharge,
  type StripeCheckoutSession,
  type StripeDispute,
  type StripeEnvelope,
  type StripeInvoice,
  type StripeInvoiceLine,
  type StripeInvoicePayment,
  type StripeSubscription,
  subscriptionSchema,
} from './schema';

/**
 * Stripe events → canonical events (docs/providers/stripe.md has the reasons).
 *
 * | event                                   | action                                              | scope              |
 * |-----------------------------------------|-----------------------------------------------------|--------------------|
 * | checkout.session.completed / .async_payment_succeeded, mode=payment, paid | grant     | payment intent     |
 * | … mode=payment, not yet paid            | record (the async_payment_succeeded event grants)   | payment intent     |
 * | … mode=subscription                     | record (the first invoice grants); names the order  | subscription       |
 * | invoice.paid, billing_reason=subscription_create | grant the invoice's lines                  | subscription       |
 * | invoice.paid, subscription_cycle        | extend to the lines' period end                     | subscription       |
 * | invoice.paid, other subscription reasons | record (plan changes come as subscription.updated) | subscription       |
 * | invoice.paid, no subscription           | grant only with metadata keysmith_grant=true, else record | invoice      |
 * | charge.refunded, fully refunded         | revoke (final)                                      | payment intent     |
 * | charge.refunded, partly refunded        | record                                              | payment intent     |
 * | charge.dispute.created                  | revoke, hold `disputed` (reversible)                | payment intent     |
 * | charge.dispute.closed won/warning_closed | reinstate, lifts `disputed`                        | payment intent     |
 * | charge.dispute.closed lost              | revoke (final)                                      | payment intent     |
 * | customer.subscription.updated           | one event per change: change (items, quantity,      | subscription       |
 * |                                         | plan), revoke at period end / reinstate (cancel at  |                    |
 * |                                         | period end set / cleared), suspend / reinstate      |                    |
 * |                                         | (past_due, unpaid, paused ↔ active)                 |                    |
 * | customer.subscription.deleted           | revoke (final)                                      | subscription       |
 * | any other type                          | nothing (200, ignored)                              |                    |
 *
 * The order id (`keysmith licenses --order`) is the Checkout Session id, or for a subscription
 * bought without Checkout, its first invoice id; the subscription id always works as well.
 */

export const HANDLED_TYPES = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'invoice.paid',
  'invoice_payment.paid',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
  'customer.subscription.updated',
  'customer.subscription.deleted',
] as const;

/** Session metadata naming the product of a one-time Checkout purchase (and its quantity). */
export const PRODUCT_METADATA = 'keysmith_product';
export const QUANTITY_METADATA = 'keysmith_quantity';
/** Invoice metadata that makes a one-off (non-subscription) invoice issue licenses. */
export const GRANT_METADATA = 'keysmith_grant';
/** The product id of a one-time Checkout purchase that names none: only `defaultProduct` covers it. */
export const UNNAMED_CHECKOUT_PRODUCT = 'checkout';

type Base = Pick<FulfillmentEvent, 'provider' | 'eventId' | 'occurredAt' | 'reason' | 'live'>;

/** The canonical events of one Stripe event (none for a type keysmith does not handle). */
export function normalizeEvent(envelope: StripeEnvelope, catalog: Catalog): FulfillmentEvent[] {
  const base: Base = {
    provider: PROVIDER,
    eventId: envelope.id,
    occurredAt: new Date(envelope.created * 1000).toISOString(),
    reason: envelope.type,
    live: envelope.livemode,
  };
  const object = envelope.data.object;
  switch (envelope.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return [checkoutSession(base, parseWith(checkoutSessionSchema, object), catalog)];
    case 'invoice.paid':
      return [invoicePaid(base, parseWith(invoiceSchema, object), catalog)];
    case 'invoice_payment.paid':
      return invoicePaymentPaid(base, parseWith(invoicePaymentSchema, object));
    case 'charge.refunded':
      return [chargeRefunded(base, parseWith(chargeSchema, object))];
    case 'charge.dispute.created':
    case 'charge.dispute.closed':
      return [dispute(base, parseWith(disputeSchema, object))];
    case 'customer.subscription.updated':
      return subscriptionUpdated(base, parseWith(subscriptionSchema, object), envelope.data.previous_attributes ?? {}, catalog);
    case 'customer.subscription.deleted':
      return [subscriptionDeleted(base, parseWith(subscriptionSchema, object))];
    default:
      return [];
  }
}

function checkoutSession(base: Base, session: StripeCheckoutSession, catalog: Catalog): FulfillmentEvent {
  const customer = contact(session.customer_details?.email ?? session.customer_email, session.customer_details?.name, session.locale);
  const subscriptionId = refId(session.subscription);
  if (session.mode === 'subscription' && subscriptionId) {
    // The session carries no line items; the subscription's first invoice (invoice.paid,
    // billing_reason subscription_create) does, and grants. This event only names the order.
    return { ...base, action: 'record', scope: subscriptionId, orderId: session.id, customer, items: [], subscription: { id: subscriptionId } };
  }
  const scope = refId(session.payment_intent) ?? session.id;
  const paid = session.payment_status === 'paid' || session.payment_status === 'no_payment_required';
  if (session.mode !== 'payment' || !paid) {
    // Delayed payment methods complete the session unpaid; async_payment_succeeded follows.
    return { ...base, action: 'record', scope, orderId: session.id, customer, items: [] };
  }
  const named = session.metadata?.[PRODUCT_METADATA]?.trim();
  const productId = named || refId(session.payment_link) || UNNAMED_CHECKOUT_PRODUCT;
  return {
    ...base,
    // completed and async_payment_succeeded both grant the same session: whichever comes first.
    businessKey: `grant#${session.id}`,
    action: 'grant',
    scope,
    orderId: session.id,
    customer,
    items: [{ productId: catalogProductId(catalog, productId, undefined), quantity: quantityOf(session.metadata?.[QUANTITY_METADATA]) }],
  };
}

function invoicePaid(base: Base, invoice: StripeInvoice, catalog: Catalog): FulfillmentEvent {
  const customer = contact(invoice.customer_email, invoice.customer_name);
  const lines = invoice.lines.data.filter((line) => !isProration(line));
  const items = lines.flatMap((line) => {
    const item = lineItem(line, catalog);
    return item ? [item] : [];
  });
  const subscriptionId =
    refId(invoice.parent?.subscription_details?.subscription) ?? refId(invoice.subscription) ?? firstDefined(invoice.lines.data.map((l) => refId(l.parent?.subscription_item_details?.subscription)));
  // The payment (named here before 2025-03-31) and, for a subscription, the invoice itself lead a
  // later refund or dispute of this payment to the order (see invoicePaymentPaid).
  const paidWith = [refId(invoice.payment_intent), refId(invoice.charge)].filter((id): id is string => !!id);
  if (!subscriptionId) {
    const grant = invoice.metadata?.[GRANT_METADATA]?.trim().toLowerCase() === 'true';
    return {
      ...base,
      ...(grant ? { businessKey: `grant#${invoice.id}` } : {}),
      action: grant ? 'grant' : 'record',
      scope: invoice.id,
      orderId: invoice.id,
      customer,
      items: grant ? items : [],
      ...linksTo(paidWith),
    };
  }
  const periodEnd = latest(lines.map((line) => line.period?.end));
  const subscription = { id: subscriptionId, ...(periodEnd ? { periodEnd } : {}) };
  const common = { ...base, scope: subscriptionId, orderId: invoice.id, customer, subscription, ...linksTo([...paidWith, invoice.id]) };
  switch (invoice.billing_reason) {
    case 'subscription_create':
      return { ...common, businessKey: `grant#${invoice.id}`, action: 'grant', items };
    case 'subscription_cycle':
    case 'subscription':
      return { ...common, businessKey: `extend#${invoice.id}`, action: 'extend', items: [] };
    default:
      // subscription_update (prorations of a plan change), subscription_threshold, manual …
      return { ...common, action: 'record', items: [] };
  }
}

/**
 * Since 2025-03-31 neither an invoice nor a charge names the other; this event says which payment
 * paid which invoice. It links the payment to the invoice's order: through the invoice's own link
 * (written by its invoice.paid) to the subscription, whichever of the two events comes first.
 */
function invoicePaymentPaid(base: Base, payment: StripeInvoicePayment): FulfillmentEvent[] {
  const paidWith = [refId(payment.payment?.payment_intent ?? payment.payment_intent), refId(payment.payment?.charge ?? payment.charge)].filter((id): id is string => !!id);
  if (payment.status !== 'paid' || paidWith.length === 0) return [];
  return [{ ...base, action: 'record', scope: refId(payment.invoice)!, followLinks: true, customer: { email: '' }, items: [], links: paidWith }];
}

/** The `links` of an event: at most the bound, in order, without repeats. */
function linksTo(ids: string[]): Pick<FulfillmentEvent, 'links'> {
  const links = [...new Set(ids)].slice(0, EVENT_BOUNDS.links);
  return links.length > 0 ? { links } : {};
}

function chargeRefunded(base: Base, charge: StripeCharge): FulfillmentEvent {
  return {
    ...base,
    // A subscription's payment is scoped by the payment intent no subscription event names: the
    // worker follows the link its invoice wrote (invoice.paid, invoice_payment.paid).
    followLinks: true,
    // Partial refunds send charge.refunded too; only a full one ends the licenses.
    ...(charge.refunded ? { businessKey: `refund#${charge.id}` } : {}),
    action: charge.refunded ? 'revoke' : 'record',
    scope: refId(charge.payment_intent) ?? charge.id,
    customer: contact(charge.billing_details?.email ?? charge.receipt_email, charge.billing_details?.name),
    items: [],
  };
}

function dispute(base: Base, disputed: StripeDispute): FulfillmentEvent {
  const common = {
    ...base,
    scope: refId(disputed.payment_intent) ?? refId(disputed.charge)!,
    followLinks: true,
    customer: contact(disputed.evidence?.customer_email_address, disputed.evidence?.customer_name),
    items: [],
  };
  if (base.reason === 'charge.dispute.created') return { ...common, businessKey: `dispute#${disputed.id}#created`, action: 'revoke', hold: 'disputed' };
  switch (disputed.status) {
    case 'won':
    case 'warning_closed':
      // Closed in the seller's favour (or an inquiry that never became a chargeback).
      return { ...common, businessKey: `dispute#${disputed.id}#closed`, action: 'reinstate', hold: 'disputed' };
    case 'lost':
      return { ...common, businessKey: `dispute#${disputed.id}#closed`, action: 'revoke' };
    default:
      return { ...common, action: 'record' };
  }
}

/** Statuses in which a subscription's licenses are suspended. */
const SUSPENDED_STATUSES = new Set(['past_due', 'unpaid', 'paused']);
const ACTIVE_STATUSES = new Set(['active', 'trialing']);

function subscriptionUpdated(base: Base, sub: StripeSubscription, previous: Record<string, unknown>, catalog: Catalog): FulfillmentEvent[] {
  const periodEnd = subscriptionPeriodEnd(sub);
  const common = {
    ...base,
    scope: sub.id,
    customer: { email: '' },
    subscription: { id: sub.id, ...(periodEnd ? { periodEnd } : {}) },
  };
  const aspects: { aspect: string; event: Omit<FulfillmentEvent, 'eventId'> }[] = [];

  if ('items' in previous || 'quantity' in previous || 'plan' in previous) {
    // keysmith moves a subscription's licenses to one product: the first item is the plan.
    const item = sub.items.data[0];
    if (item) aspects.push({ aspect: 'change', event: { ...common, action: 'change', items: [subscriptionItem(item, catalog)] } });
  }

  const scheduled = cancellation(sub);
  const cancelChanged = 'cancel_at_period_end' in previous || 'cancel_at' in previous;
  const wasScheduled = cancelChanged && (previous.cancel_at_period_end === true || typeof previous.cancel_at === 'number');
  const statusChanged = typeof previous.status === 'string';
  const resumed = statusChanged && SUSPENDED_STATUSES.has(previous.status as string) && ACTIVE_STATUSES.has(sub.status);

  if (statusChanged && SUSPENDED_STATUSES.has(sub.status) && !SUSPENDED_STATUSES.has(previous.status as string)) {
    aspects.push({ aspect: 'suspend', event: { ...common, action: 'suspend', items: [] } });
  } else if (resumed) {
    aspects.push({ aspect: 'reinstate', event: { ...common, action: 'reinstate', items: [] } });
  }
  if (scheduled && (cancelChanged || resumed)) {
    // A provider reinstate also lifts a scheduled end: a subscription that is still set to
    // cancel gets its end back right after.
    aspects.push({ aspect: 'cancel', event: { ...common, action: 'revoke', effectiveAt: scheduled, items: [] } });
  } else if (!scheduled && wasScheduled) {
    aspects.push({ aspect: 'uncancel', event: { ...common, action: 'reinstate', items: [] } });
  }

  if (aspects.length === 0) return [{ ...common, eventId: base.eventId, action: 'record', items: [] }];
  // One Stripe event may change several things: each is its own canonical event (same FIFO
  // group, applied in this order); the first keeps Stripe's id.
  return aspects.map(({ aspect, event }, index) => ({ ...event, eventId: index === 0 ? base.eventId : `${base.eventId}#${aspect}` }));
}

function subscriptionDeleted(base: Base, sub: StripeSubscription): FulfillmentEvent {
  return { ...base, action: 'revoke', scope: sub.id, customer: { email: '' }, items: [], subscription: { id: sub.id } };
}

/** When a subscription set to cancel ends: `cancel_at`, else the end of the current period. */
function cancellation(sub: StripeSubscription): string | undefined {
  if (typeof sub.cancel_at === 'number') return iso(sub.cancel_at);
  if (sub.cancel_at_period_end === true) return subscriptionPeriodEnd(sub);
  return undefined;
}

function subscriptionPeriodEnd(sub: StripeSubscription): string | undefined {
  return iso(sub.current_period_end ?? undefined) ?? latest(sub.items.data.map((item) => item.current_period_end));
}

function subscriptionItem(item: StripeSubscription['items']['data'][number], catalog: Catalog): FulfillmentEvent['items'][number] {
  const productId = catalogProductId(catalog, refId(item.price.product), item.price.id);
  return { productId, sku: item.price.id, quantity: item.quantity ?? 1, ...(item.price.nickname ? { name: item.price.nickname } : {}) };
}

/** An invoice line as an item: price and product from whichever shape the API version used. */
function lineItem(line: StripeInvoiceLine, catalog: Catalog): FulfillmentEvent['items'][number] | undefined {
  const details = line.pricing?.price_details;
  const priceId = refId(details?.price) ?? line.price?.id;
  const product = refId(details?.product) ?? refId(line.price?.product ?? undefined);
  if (!priceId && !product) return undefined;
  return {
    productId: catalogProductId(catalog, product, priceId),
    ...(priceId ? { sku: priceId } : {}),
    quantity: line.quantity ?? 1,
    ...(line.description ? { name: line.description } : {}),
  };
}

function isProration(line: StripeInvoiceLine): boolean {
  return line.proration === true || line.parent?.subscription_item_details?.proration === true || line.parent?.invoice_item_details?.proration === true;
}

/**
 * The id the catalog sees: the price id when a catalog product lists it (a seller selling tiers as
 * prices of one Stripe product), else the product id, else the price id.
 */
export function catalogProductId(catalog: Catalog, productId: string | undefined, priceId: string | undefined): string {
  if (priceId && catalogNames(catalog, PROVIDER, priceId)) return priceId;
  return productId ?? priceId ?? UNNAMED_CHECKOUT_PRODUCT;
}

function refId(value: Ref | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : value.id;
}

function contact(email: string | null | undefined, name?: string | null, locale?: string | null): FulfillmentEvent['customer'] {
  const trimmedName = name?.trim();
  const trimmedLocale = locale?.trim();
  return {
    email: email?.trim() ?? '',
    ...(trimmedName ? { name: trimmedName } : {}),
    ...(trimmedLocale && trimmedLocale !== 'auto' ? { locale: trimmedLocale } : {}),
  };
}

function quantityOf(raw: string | undefined): number {
  const n = raw === undefined ? Number.NaN : Number(raw.trim());
  return Number.isInteger(n) && n >= 1 && n <= 10_000 ? n : 1;
}

function iso(seconds: number | undefined): string | undefined {
  return seconds === undefined ? undefined : new Date(seconds * 1000).toISOString();
}

function latest(values: (number | null | undefined)[]): string | undefined {
  const numbers = values.filter((v): v is number => typeof v === 'number');
  return numbers.length > 0 ? iso(Math.max(...numbers)) : undefined;
}

function firstDefined<T>(values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}
