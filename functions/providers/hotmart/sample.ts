import { createHash, randomInt, randomUUID } from 'node:crypto';
import { SAMPLE_EMAIL, type SampleBuilder } from '../sample';
import purchaseApproved from './fixtures/purchase-approved.json';
import subscriptionCancellation from './fixtures/subscription-cancellation.json';

/**
 * Hotmart samples, built from the documented v2 payloads with a fresh event id and transaction
 * and a real product id (Hotmart's own tests use product 0, which keysmith ignores by default).
 *
 * All events for one `--order` (the transaction) share a subscriber code derived from it, so
 * `send PURCHASE_APPROVED --order HP1`, then `send SUBSCRIPTION_CANCELLATION --order HP1` (or a
 * refund) land on the same subscription entitlement.
 */

const SAMPLE_PRODUCT = { id: 3526906, name: 'keysmith sample product' };
const DAY_MS = 86_400_000;

/** `--event` value → purchase status Hotmart reports with it. */
const PURCHASE_STATUS: Record<string, string> = {
  PURCHASE_APPROVED: 'APPROVED',
  PURCHASE_REFUNDED: 'REFUNDED',
  PURCHASE_CHARGEBACK: 'CHARGEBACK',
  PURCHASE_PROTEST: 'DISPUTE',
  PURCHASE_COMPLETE: 'COMPLETE',
};

export const hotmartSample: SampleBuilder = {
  events: ['PURCHASE_APPROVED', 'PURCHASE_REFUNDED', 'PURCHASE_CHARGEBACK', 'SUBSCRIPTION_CANCELLATION', 'PURCHASE_PROTEST', 'PURCHASE_COMPLETE', 'SWITCH_PLAN'],
  refundEvent: 'PURCHASE_REFUNDED',
  soakOrderId: (n, run) => `HP${run.toUpperCase()}${String(n).padStart(8, '0')}`,
  build({ secrets, event = 'PURCHASE_APPROVED', file, email = SAMPLE_EMAIL, orderId }) {
    const hottok = secrets.KEYSMITH_HOTMART_HOTTOK;
    if (!hottok) throw new Error('KEYSMITH_HOTMART_HOTTOK is not set: cannot authenticate a Hotmart request');
    let body: Buffer;
    let order: string;
    let eventId: string;
    if (file) {
      body = file;
      const parsed = JSON.parse(file.toString('utf8')) as { id?: unknown; data?: { purchase?: { transaction?: string }; subscriber?: { code?: string } } };
      eventId = String(parsed.id ?? '');
      order = parsed.data?.purchase?.transaction ?? parsed.data?.subscriber?.code ?? '';
    } else {
      order = orderId ?? `HP${randomInt(1e9, 1e10 - 1)}${randomInt(1e5, 1e6 - 1)}`;
      eventId = randomUUID();
      body = Buffer.from(JSON.stringify(buildEvent(event, eventId, order, email)));
    }
    return {
      method: 'POST',
      path: '/webhooks/hotmart',
      headers: { 'content-type': 'application/json', 'x-hotmart-hottok': hottok },
      body,
      orderId: order,
      eventIds: [eventId],
      // Hotmart's only test marker is product 0 / its fixed test transaction, which keysmith
      // ignores by design (normalize.ts): a sample with it would do nothing.
      testFlag: false,
    };
  },
};

function buildEvent(event: string, id: string, transaction: string, email: string | undefined): unknown {
  const now = Date.now();
  const subscriberCode = `KS${createHash('sha256').update(transaction).digest('hex').slice(0, 6).toUpperCase()}`;
  const status = PURCHASE_STATUS[event];
  if (status) {
    const data = purchaseApproved.data;
    return {
      ...purchaseApproved,
      id,
      creation_date: now,
      event,
      data: {
        ...data,
        product: { ...data.product, ...SAMPLE_PRODUCT },
        buyer: { ...data.buyer, ...(email ? { email } : {}) },
        purchase: {
          ...data.purchase,
          transaction,
          status,
          order_date: now,
          approved_date: now,
          order_bump: { is_order_bump: false },
          recurrence_number: 1,
          date_next_charge: now + 30 * DAY_MS,
        },
        subscription: { ...data.subscription, subscriber: { code: subscriberCode } },
      },
    };
  }
  if (event === 'SUBSCRIPTION_CANCELLATION') {
    const data = subscriptionCancellation.data;
    return {
      ...subscriptionCancellation,
      id,
      creation_date: now,
      data: {
        ...data,
        product: { ...SAMPLE_PRODUCT },
        subscriber: { ...data.subscriber, code: subscriberCode, ...(email ? { email } : {}) },
        date_next_charge: now + 30 * DAY_MS,
        cancellation_date: now,
      },
    };
  }
  if (event === 'SWITCH_PLAN') {
    // Shape of Hotmart's SWITCH_PLAN (third-party transcriptions; no captured delivery yet).
    return {
      id,
      creation_date: now,
      event,
      version: '2.0.0',
      data: {
        switch_plan_date: now,
        subscription: {
          subscriber_code: subscriberCode,
          status: 'ACTIVE',
          product: { ...SAMPLE_PRODUCT },
          user: { email: email ?? purchaseApproved.data.buyer.email },
        },
        plans: [
          { id: 460806, name: 'Pro plan', offer: { key: 'ks-pro' }, current: true },
          { id: 123, name: purchaseApproved.data.subscription.plan.name, offer: { key: 'ks-basic' }, current: false },
        ],
      },
    };
  }
  throw new Error(`unknown Hotmart sample event "${event}"`);
}
