import type { Catalog } from '../../domain/catalog';
import type { Action, FulfillmentEvent } from '../../domain/events';
import type { WebhookRequest } from '../../ingress/types';
import { catalogNames } from '../shared/catalog';
import { isoTime } from '../shared/json';
import { type HotmartEnvelope, purchaseDataSchema, subscriptionCancellationDataSchema, switchPlanDataSchema } from './schema';

/**
 * Hotmart events → canonical events (README §5, "Idempotency and meaning").
 *
 * | event                                   | action                                         |
 * |-----------------------------------------|------------------------------------------------|
 * | PURCHASE_APPROVED                       | grant; `extend` when recurrence_number > 1     |
 * | PURCHASE_REFUNDED, PURCHASE_CHARGEBACK  | revoke (the whole entitlement)                 |
 * | SWITCH_PLAN                             | change to the new plan                         |
 * | SUBSCRIPTION_CANCELLATION               | revoke effective at date_next_charge (access until then) |
 * | UPDATE_SUBSCRIPTION_CHARGE_DATE         | record, with the new periodEnd                 |
 * | PURCHASE_PROTEST                        | record (see below)                             |
 * | everything else, known or not           | record                                         |
 *
 * Scope — which entitlement an event lands on:
 * - A subscription is `sub:{subscriber code}:{product id}`. Purchase events of subscription
 *   products carry `data.subscription.subscriber.code`, SUBSCRIPTION_CANCELLATION carries
 *   `data.subscriber.code`, SWITCH_PLAN `data.subscription.subscriber_code`; each recurring charge
 *   has a new transaction, so only the subscriber code ties them together. The product id is part
 *   of it because Hotmart gives one buyer different codes on different products.
 * - Anything else is its transaction (`HP…`), and an event with neither gets a scope of its own.
 * The transaction is also the `orderId`, so `keysmith licenses --order HP…` finds a subscription
 * by the transaction of its first charge.
 *
 * PURCHASE_PROTEST (a refund request or a dispute) is recorded, not suspended: a refund request
 * that Hotmart grants arrives as PURCHASE_REFUNDED and a lost dispute as PURCHASE_CHARGEBACK,
 * both of which revoke; but Hotmart sends nothing when a protest is withdrawn or won, so a
 * suspension would strand a paying customer until the seller steps in.
 *
 * Test events: Hotmart's "send test" uses product id 0 and transaction HP16015479281022. They are
 * ignored (no event) unless the catalog sets `hotmartAcceptTestProduct`; then they are processed
 * with `live: false` and without a business key (every test reuses that transaction, and each
 * test should still do something).
 */

export const TEST_PRODUCT_ID = '0';
export const TEST_TRANSACTION = 'HP16015479281022';

/** A parsed delivery: the envelope, and why a license-changing event is only recorded. */
export interface HotmartDelivery {
  envelope: HotmartEnvelope;
  problem?: string;
}

/**
 * The fields of `data` that mapping reads, wherever the event family keeps them. Reading is
 * tolerant: a field of an unexpected type is simply absent.
 */
interface View {
  productId?: string;
  productName?: string;
  transaction?: string;
  subscriberCode?: string;
  /** The plan the subscription is (or, for SWITCH_PLAN, now is) on. */
  planId?: string;
  recurrence?: number;
  nextCharge?: unknown;
  customer: FulfillmentEvent['customer'];
}

/**
 * Why an event that would change a license cannot be mapped as such, or `undefined`. Such an
 * event is recorded (200), never refused: see ./index.ts.
 */
export function dataProblem(envelope: HotmartEnvelope): string | undefined {
  const schema =
    envelope.event === 'PURCHASE_APPROVED' || envelope.event === 'PURCHASE_REFUNDED' || envelope.event === 'PURCHASE_CHARGEBACK'
      ? purchaseDataSchema
      : envelope.event === 'SUBSCRIPTION_CANCELLATION'
        ? subscriptionCancellationDataSchema
        : envelope.event === 'SWITCH_PLAN'
          ? switchPlanDataSchema
          : undefined;
  if (!schema) return undefined;
  const result = schema.safeParse(envelope.data);
  if (result.success) {
    if (envelope.event === 'SWITCH_PLAN' && !readView(envelope).subscriberCode) return 'data.subscription.subscriber_code: missing';
    return undefined;
  }
  const issue = result.error.issues[0]!;
  return `data${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`;
}

/** The canonical event for a delivery, or `undefined` for an ignored Hotmart test event. */
export function normalizeDelivery(delivery: HotmartDelivery, request: WebhookRequest, catalog: Catalog): FulfillmentEvent | undefined {
  const { envelope, problem } = delivery;
  const view = readView(envelope);
  const test = view.productId === TEST_PRODUCT_ID || view.transaction === TEST_TRANSACTION;
  if (test && !catalog.hotmartAcceptTestProduct) return undefined;

  const action: Action = problem ? 'record' : actionFor(envelope.event, view);
  const productId = view.productId === undefined ? undefined : itemProductId(catalog, view.productId, view.planId);
  const periodEnd = isoOrUndefined(view.nextCharge);
  const businessKey = view.transaction && !test ? [envelope.event, view.transaction, ...(view.recurrence ? [view.recurrence] : [])].join('#') : undefined;

  return {
    provider: 'hotmart',
    eventId: envelope.id,
    // A resend from Hotmart's History tab may carry a new id; the transaction (and the charge's
    // recurrence number: each renewal is its own transaction, but be safe) still identify it.
    ...(businessKey ? { businessKey } : {}),
    occurredAt: isoTime(envelope.creation_date ?? envelope.creationDate, request.receivedAt),
    action,
    reason: envelope.event.slice(0, 200),
    scope: scopeOf(view, envelope.id),
    ...(view.transaction ? { orderId: view.transaction } : {}),
    live: !test,
    customer: view.customer,
    // A refund or chargeback ends the whole purchase (or subscription) the scope stands for.
    items: action === 'revoke' || productId === undefined ? [] : [{ productId, quantity: 1, ...(view.productName ? { name: view.productName } : {}) }],
    ...(view.subscriberCode ? { subscription: { id: view.subscriberCode, ...(periodEnd ? { periodEnd } : {}) } } : {}),
    // Hotmart advises keeping access until the next charge would have happened.
    ...(action === 'revoke' && envelope.event === 'SUBSCRIPTION_CANCELLATION' && periodEnd ? { effectiveAt: periodEnd } : {}),
  };
}

function actionFor(event: string, view: View): Action {
  switch (event) {
    case 'PURCHASE_APPROVED':
      // Recurring charges of a subscription: the first (1) grants, later ones renew.
      return view.recurrence !== undefined && view.recurrence > 1 ? 'extend' : 'grant';
    case 'PURCHASE_REFUNDED':
    case 'PURCHASE_CHARGEBACK':
    case 'SUBSCRIPTION_CANCELLATION':
      return 'revoke';
    case 'SWITCH_PLAN':
      return 'change';
    default:
      return 'record';
  }
}

function scopeOf(view: View, eventId: string): string {
  if (view.subscriberCode && view.productId !== undefined) return `sub:${view.subscriberCode}:${view.productId}`.slice(0, 200);
  if (view.transaction) return view.transaction;
  return `event:${eventId}`.slice(0, 200);
}

/**
 * The provider product id the catalog sees: `plan:{planId}` when the catalog names that plan (a
 * seller selling tiers as plans of one Hotmart product), otherwise the Hotmart product id.
 */
export function itemProductId(catalog: Catalog, productId: string, planId: string | undefined): string {
  if (planId !== undefined && catalogNames(catalog, 'hotmart', `plan:${planId}`)) return `plan:${planId}`;
  return productId;
}

function readView(envelope: HotmartEnvelope): View {
  const data = envelope.data;
  const subscription = field(data, 'subscription');
  const plans = field(data, 'plans');
  const currentPlan = Array.isArray(plans) ? plans.find((p) => field(p, 'current') === true) : undefined;
  const recurrence = Number(idString(field(data, 'purchase', 'recurrence_number')));
  return {
    productId: idString(field(data, 'product', 'id')) ?? idString(field(subscription, 'product', 'id')),
    productName: text(field(data, 'product', 'name')) ?? text(field(subscription, 'product', 'name')),
    transaction: idString(field(data, 'purchase', 'transaction')),
    subscriberCode: idString(field(data, 'subscriber', 'code')) ?? idString(field(subscription, 'subscriber', 'code')) ?? idString(field(subscription, 'subscriber_code')),
    planId: envelope.event === 'SWITCH_PLAN' ? idString(field(currentPlan, 'id')) : (idString(field(subscription, 'plan', 'id')) ?? idString(field(data, 'plan', 'id'))),
    ...(Number.isInteger(recurrence) && recurrence > 0 ? { recurrence } : {}),
    nextCharge: field(data, 'purchase', 'date_next_charge') ?? field(data, 'date_next_charge') ?? field(subscription, 'date_next_charge'),
    customer: customerOf([field(data, 'buyer'), field(data, 'subscriber'), field(subscription, 'user'), field(data, 'user')]),
  };
}

/** The first contact with an email: the buyer (purchases), subscriber (subscriptions), user (club). */
function customerOf(candidates: unknown[]): FulfillmentEvent['customer'] {
  for (const contact of candidates) {
    const email = text(field(contact, 'email'));
    if (!email) continue;
    const first = text(field(contact, 'first_name'));
    const last = text(field(contact, 'last_name'));
    const name = text(field(contact, 'name')) ?? ([first, last].filter(Boolean).join(' ') || undefined);
    return { email, ...(name ? { name } : {}) };
  }
  return { email: '' };
}

function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Ids arrive as numbers or strings; both become strings (capped: they end up in keys). */
function idString(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  const s = text(value);
  return s === undefined ? undefined : s.slice(0, 100);
}

const NO_DATE = new Date(0);
function isoOrUndefined(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const iso = isoTime(value, NO_DATE);
  return iso === NO_DATE.toISOString() ? undefined : iso;
}
