import * as z from 'zod/mini';
import '../../domain/zodLocale';

/**
 * Lemon Squeezy webhook bodies are JSON:API documents: `{meta: {event_name, test_mode,
 * custom_data, webhook_id}, data: {type, id, attributes, relationships}}`. `data` is the object
 * the event is about — an order (`orders`), a subscription (`subscriptions`), a subscription
 * invoice (`subscription-invoices`) or a license key (`license-keys`) — with the attributes of the
 * API's object of that type (`lmsqueezy/lemonsqueezy.js` `src/orders/types.ts`,
 * `src/subscriptions/types.ts`, `src/subscriptionInvoices/types.ts`). Only what fulfillment reads
 * is required; unknown fields pass through.
 */

/** Lemon Squeezy ids: numbers in attributes, strings in `data.id`; either is accepted. */
const idValue = () => z.union([z.number().check(z.int(), z.nonnegative()), z.string().check(z.trim(), z.minLength(1), z.maxLength(100))]);
const units = () => z.number().check(z.int(), z.minimum(0), z.maximum(10_000));
const time = () => z.nullish(z.string().check(z.maxLength(64)));
const text = () => z.nullish(z.string());

export const envelopeSchema = z.looseObject({
  meta: z.looseObject({
    event_name: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
    test_mode: z.nullish(z.boolean()),
  }),
  data: z.looseObject({
    type: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
    id: idValue(),
    attributes: z.looseObject({ test_mode: z.nullish(z.boolean()), created_at: time(), updated_at: time() }),
  }),
});
export type LemonSqueezyEnvelope = z.infer<typeof envelopeSchema>;

/** `data.attributes` of an order (`order_created`, `order_refunded`). */
export const orderSchema = z.looseObject({
  identifier: text(),
  order_number: z.nullish(z.union([z.number(), z.string()])),
  user_name: text(),
  user_email: text(),
  status: z.string().check(z.maxLength(50)),
  refunded: z.nullish(z.boolean()),
  refunded_amount: z.nullish(z.number()),
  first_order_item: z.looseObject({
    product_id: idValue(),
    variant_id: z.nullish(idValue()),
    quantity: z.nullish(units()),
    product_name: text(),
    variant_name: text(),
  }),
  created_at: time(),
  updated_at: time(),
});
export type LemonSqueezyOrder = z.infer<typeof orderSchema>;

/** `data.attributes` of a subscription (`subscription_*` except the payment events). */
export const subscriptionSchema = z.looseObject({
  order_id: idValue(),
  product_id: idValue(),
  variant_id: z.nullish(idValue()),
  product_name: text(),
  variant_name: text(),
  user_name: text(),
  user_email: text(),
  status: z.string().check(z.maxLength(50)),
  cancelled: z.nullish(z.boolean()),
  pause: z.nullish(z.looseObject({ mode: text(), resumes_at: time() })),
  renews_at: time(),
  ends_at: time(),
  first_subscription_item: z.nullish(z.looseObject({ quantity: z.nullish(units()) })),
  created_at: time(),
  updated_at: time(),
});
export type LemonSqueezySubscription = z.infer<typeof subscriptionSchema>;

/** `data.attributes` of a subscription invoice (`subscription_payment_*`). */
export const invoiceSchema = z.looseObject({
  subscription_id: idValue(),
  billing_reason: text(),
  status: text(),
  user_name: text(),
  user_email: text(),
  refunded: z.nullish(z.boolean()),
  created_at: time(),
  updated_at: time(),
});
export type LemonSqueezyInvoice = z.infer<typeof invoiceSchema>;
