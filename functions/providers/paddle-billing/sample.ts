import { createHash, createHmac } from 'node:crypto';
import { randomId, SAMPLE_EMAIL, type SampleBuilder } from '../sample';
import adjustmentUpdated from './fixtures/adjustment-updated.json';
import subscriptionActivated from './fixtures/subscription-activated.json';
import subscriptionCanceled from './fixtures/subscription-canceled.json';
import subscriptionCreated from './fixtures/subscription-created.json';
import subscriptionPastDue from './fixtures/subscription-past-due.json';
import subscriptionPaused from './fixtures/subscription-paused.json';
import subscriptionResumed from './fixtures/subscription-resumed.json';
import subscriptionUpdated from './fixtures/subscription-updated.json';
import transactionCompleted from './fixtures/transaction-completed.json';
import { SANDBOX_SECRET, SECRET } from './names';

/**
 * Paddle Billing samples, built from the notification payloads of Paddle's own SDK tests with fresh
 * ids, and signed as Paddle signs (`ts=…;h1=…` over "{ts}:{body}"). The customer's email travels
 * in `custom_data.email`, as a checkout that passes Paddle.js `customData` sends it.
 *
 * `--order` ties samples together: a transaction id (`txn_…`) for one-time purchases, a
 * subscription id (`sub_…`) for subscription events (its first transaction is derived from it).
 * `send transaction.completed --order txn_1` then `send adjustment.updated --order txn_1` refunds
 * that purchase; `send transaction.completed:subscription --order sub_1` then
 * `send subscription.canceled --order sub_1` ends that subscription.
 *
 * Signed with the sandbox destination's secret when it is set (then the orders are test orders),
 * else with the live one.
 */

const SAMPLE_PRODUCT = 'pro_01keysmithsample0000000000';
const SAMPLE_PRICE = 'pri_01keysmithsample0000000000';
const DAY_MS = 86_400_000;

interface Ids {
  transaction: string;
  subscription: string;
  /** Whether `--order` named a subscription (subscription flows) or a transaction. */
  bySubscription: boolean;
}
type Build = (ids: Ids, email: string, now: Date) => Record<string, unknown>;

const subscriptionSample = (template: { data: Record<string, unknown> }, overrides: (now: Date) => Record<string, unknown> = () => ({})) => ({
  type: '',
  subscription: true,
  build: ((ids, email, now) => subscriptionData(template.data, ids, email, now, overrides(now))) as Build,
});

const SAMPLES: Record<string, { type: string; subscription: boolean; build: Build }> = {
  'transaction.completed': { type: 'transaction.completed', subscription: false, build: (ids, email, now) => transaction(ids, email, now, 'web', false) },
  'transaction.completed:subscription': { type: 'transaction.completed', subscription: true, build: (ids, email, now) => transaction(ids, email, now, 'web', true) },
  'transaction.completed:renewal': {
    type: 'transaction.completed',
    subscription: true,
    build: (ids, email, now) => transaction({ ...ids, transaction: randomId('txn_') }, email, now, 'subscription_recurring', true),
  },
  'subscription.created': { ...subscriptionSample(subscriptionCreated), type: 'subscription.created' },
  'subscription.activated': { ...subscriptionSample(subscriptionActivated), type: 'subscription.activated' },
  'subscription.updated': {
    ...subscriptionSample(subscriptionUpdated, (now) => ({ scheduled_change: { action: 'cancel', effective_at: new Date(now.getTime() + 30 * DAY_MS).toISOString(), resume_at: null } })),
    type: 'subscription.updated',
  },
  'subscription.updated:quantity': { ...subscriptionSample(subscriptionUpdated, () => ({ quantity: 5 })), type: 'subscription.updated' },
  'subscription.canceled': { ...subscriptionSample(subscriptionCanceled), type: 'subscription.canceled' },
  'subscription.past_due': { ...subscriptionSample(subscriptionPastDue), type: 'subscription.past_due' },
  'subscription.paused': { ...subscriptionSample(subscriptionPaused), type: 'subscription.paused' },
  'subscription.resumed': { ...subscriptionSample(subscriptionResumed), type: 'subscription.resumed' },
  'adjustment.updated': { type: 'adjustment.updated', subscription: false, build: (ids, _email, now) => adjustment(ids, now, 'refund', 'approved') },
  'adjustment.created': { type: 'adjustment.created', subscription: false, build: (ids, _email, now) => adjustment(ids, now, 'refund', 'pending_approval') },
  'adjustment.created:chargeback': { type: 'adjustment.created', subscription: false, build: (ids, _email, now) => adjustment(ids, now, 'chargeback', 'approved') },
  'adjustment.created:chargeback_reverse': { type: 'adjustment.created', subscription: false, build: (ids, _email, now) => adjustment(ids, now, 'chargeback_reverse', 'approved') },
};

export const paddleBillingSample: SampleBuilder = {
  events: Object.keys(SAMPLES),
  // An approved full refund of the purchase.
  refundEvent: 'adjustment.updated',
  // A transaction id: the default sample and its refund both take it.
  soakOrderId: (n, run) => `txn_soak${run}n${n}`,
  build({ secrets, event = 'transaction.completed', file, email = SAMPLE_EMAIL, orderId }) {
    const sandbox = secrets[SANDBOX_SECRET];
    const secret = sandbox ?? secrets[SECRET];
    if (!secret) throw new Error(`${SECRET} is not set: cannot sign a Paddle Billing request`);
    let body: Buffer;
    let order: string;
    let eventId: string;
    const extraIds: string[] = [];
    if (file) {
      body = file;
      const parsed = JSON.parse(file.toString('utf8')) as { event_id?: unknown; data?: { id?: unknown; transaction_id?: unknown } };
      eventId = String(parsed.event_id ?? '');
      order = String(parsed.data?.transaction_id ?? parsed.data?.id ?? '');
    } else {
      const sample = SAMPLES[event];
      if (!sample) throw new Error(`unknown Paddle Billing sample event "${event}"; one of ${Object.keys(SAMPLES).join(', ')}`);
      const ids = idsFor(orderId ?? (sample.subscription ? randomId('sub_') : randomId('txn_')));
      const now = new Date();
      eventId = randomId('evt_');
      const data = sample.build(ids, email, now);
      body = Buffer.from(JSON.stringify({ event_id: eventId, event_type: sample.type, occurred_at: now.toISOString(), notification_id: randomId('ntf_'), data }));
      order = ids.bySubscription ? ids.subscription : ids.transaction;
      // subscription.updated becomes two canonical events (normalize.ts): the plan, then the status.
      if (sample.type === 'subscription.updated') extraIds.push(`${eventId}#${(data.scheduled_change as { action?: string } | undefined)?.action === 'cancel' ? 'revoke' : 'reinstate'}`);
    }
    return {
      method: 'POST',
      path: '/webhooks/paddle-billing',
      headers: { 'content-type': 'application/json', 'paddle-signature': signatureHeader(body, secret) },
      body,
      orderId: order,
      eventIds: [eventId, ...extraIds],
      // Paddle Billing has no test flag in its payloads: the sandbox account's secret is the mark.
      testFlag: sandbox !== undefined && !file,
    };
  },
};

/** `ts=…;h1=…` for `body`, signed now (what Paddle sends). */
export function signatureHeader(body: Buffer, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `ts=${timestamp};h1=${createHmac('sha256', secret).update(`${timestamp}:`).update(body).digest('hex')}`;
}

function idsFor(order: string): Ids {
  const bySubscription = order.startsWith('sub_');
  return { bySubscription, subscription: bySubscription ? order : derived('sub_', order), transaction: order.startsWith('txn_') ? order : derived('txn_', order) };
}

function derived(prefix: string, from: string): string {
  return prefix + createHash('sha256').update(from).digest('hex').slice(0, 26);
}

function transaction(ids: Ids, email: string, now: Date, origin: string, subscription: boolean): Record<string, unknown> {
  const data = transactionCompleted.data;
  const item = data.items[0]!;
  const line = data.details.line_items[0]!;
  const ends = new Date(now.getTime() + 30 * DAY_MS).toISOString();
  return {
    ...data,
    id: ids.transaction,
    origin,
    items: [{ ...item, price: { ...item.price, id: SAMPLE_PRICE, product_id: SAMPLE_PRODUCT, name: 'keysmith sample (per seat)' }, quantity: 1 }],
    details: { ...data.details, line_items: [{ ...line, price_id: SAMPLE_PRICE, quantity: 1, product: { ...line.product, id: SAMPLE_PRODUCT, name: 'keysmith sample product' } }] },
    billed_at: now.toISOString(),
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    custom_data: { email },
    subscription_id: subscription ? ids.subscription : null,
    billing_period: subscription ? { starts_at: now.toISOString(), ends_at: ends } : null,
  };
}

function subscriptionData(template: Record<string, unknown>, ids: Ids, email: string, now: Date, overrides: Record<string, unknown>): Record<string, unknown> {
  const items = template.items as Record<string, unknown>[];
  const item = items[0]!;
  const { quantity, ...rest } = overrides;
  const ends = new Date(now.getTime() + 30 * DAY_MS).toISOString();
  return {
    ...template,
    id: ids.subscription,
    ...(template.transaction_id !== undefined ? { transaction_id: ids.transaction } : {}),
    items: [
      {
        ...item,
        price: { ...(item.price as Record<string, unknown>), id: SAMPLE_PRICE, product_id: SAMPLE_PRODUCT },
        product: { ...(item.product as Record<string, unknown>), id: SAMPLE_PRODUCT, name: 'keysmith sample product' },
        quantity: typeof quantity === 'number' ? quantity : 1,
      },
    ],
    custom_data: { email },
    updated_at: now.toISOString(),
    current_billing_period: template.current_billing_period === null ? null : { starts_at: now.toISOString(), ends_at: ends },
    ...rest,
  };
}

function adjustment(ids: Ids, now: Date, action: string, status: string): Record<string, unknown> {
  const data = adjustmentUpdated.data;
  return {
    ...data,
    id: derived('adj_', `${ids.transaction}#${action}`),
    action,
    type: 'full',
    status,
    items: data.items.map((item) => ({ ...item, type: 'full' })),
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    transaction_id: ids.transaction,
    subscription_id: ids.bySubscription ? ids.subscription : null,
  };
}
