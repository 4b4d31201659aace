import * as z from 'zod/mini';
import '../../domain/zodLocale';

/**
 * Stripe event objects (https://docs.stripe.com/api/events/object), only the fields keysmith reads;
 * unknown fields pass through everywhere. Field shapes were read from `stripe-node`'s types
 * (API 2026-10-28 and, for the older invoice shape, releases before 2025-03-31 "basil").
 *
 * The envelope decides whether a delivery is well-formed (400 otherwise). The object schemas below
 * state what an event that changes a license must carry; `normalize.ts` applies the one its
 * `type` needs.
 */

const id = z.string().check(z.trim(), z.minLength(1), z.maxLength(255));
/** An expandable reference: the id, or the expanded object with its id. */
export const ref = z.union([id, z.looseObject({ id })]);
export type Ref = z.infer<typeof ref>;
const text = z.nullish(z.string());
const metadata = z.nullish(z.record(z.string(), z.string()));
const unixSeconds = z.number().check(z.int(), z.nonnegative());

export const envelopeSchema = z.looseObject({
  id,
  object: z.optional(z.literal('event')),
  type: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
  created: unixSeconds,
  livemode: z.boolean(),
  api_version: text,
  data: z.looseObject({
    object: z.looseObject({ id: z.optional(z.string()), object: z.optional(z.string()) }),
    /** `*.updated` events: the changed fields' previous values. */
    previous_attributes: z.optional(z.record(z.string(), z.unknown())),
  }),
});
export type StripeEnvelope = z.infer<typeof envelopeSchema>;

export const checkoutSessionSchema = z.looseObject({
  id,
  mode: z.string(),
  payment_status: z.string(),
  payment_intent: z.nullish(ref),
  invoice: z.nullish(ref),
  subscription: z.nullish(ref),
  payment_link: z.nullish(ref),
  customer_email: text,
  customer_details: z.nullish(z.looseObject({ email: text, name: text })),
  metadata,
  locale: text,
});
export type StripeCheckoutSession = z.infer<typeof checkoutSessionSchema>;

/** An invoice line, in either shape: `price` (before 2025-03-31) or `pricing.price_details`. */
const invoiceLineSchema = z.looseObject({
  id: z.optional(z.string()),
  quantity: z.nullish(z.number().check(z.int(), z.nonnegative())),
  description: text,
  // Before 2025-03-31 ("basil"): the price object (product id or expanded product) and `proration`.
  price: z.nullish(z.looseObject({ id, product: z.nullish(ref), nickname: text })),
  proration: z.nullish(z.boolean()),
  // Since 2025-03-31: price and product ids under `pricing`, proration under `parent`.
  pricing: z.nullish(z.looseObject({ price_details: z.nullish(z.looseObject({ price: z.nullish(ref), product: z.nullish(ref) })) })),
  parent: z.nullish(
    z.looseObject({
      subscription_item_details: z.nullish(z.looseObject({ proration: z.nullish(z.boolean()), subscription: z.nullish(ref) })),
      invoice_item_details: z.nullish(z.looseObject({ proration: z.nullish(z.boolean()) })),
    }),
  ),
  period: z.nullish(z.looseObject({ start: z.nullish(unixSeconds), end: z.nullish(unixSeconds) })),
});
export type StripeInvoiceLine = z.infer<typeof invoiceLineSchema>;

export const invoiceSchema = z.looseObject({
  id,
  billing_reason: text,
  customer_email: text,
  customer_name: text,
  // Before 2025-03-31 the subscription is on the invoice; since then under `parent`.
  subscription: z.nullish(ref),
  parent: z.nullish(z.looseObject({ subscription_details: z.nullish(z.looseObject({ subscription: z.nullish(ref) })) })),
  lines: z.looseObject({ data: z.array(invoiceLineSchema).check(z.maxLength(1000)) }),
  metadata,
  // Before 2025-03-31 the invoice names the payment that paid it; since then an
  // `invoice_payment` object does (event `invoice_payment.paid`).
  payment_intent: z.nullish(ref),
  charge: z.nullish(ref),
});
export type StripeInvoice = z.infer<typeof invoiceSchema>;

/** Since 2025-03-31: which payment paid which invoice (`invoice_payment.paid`). */
export const invoicePaymentSchema = z.looseObject({
  id,
  invoice: ref,
  status: z.string(),
  payment: z.nullish(z.looseObject({ type: z.optional(z.string()), payment_intent: z.nullish(ref), charge: z.nullish(ref) })),
  // Preview API versions put the payment's ids on the object itself.
  payment_intent: z.nullish(ref),
  charge: z.nullish(ref),
});
export type StripeInvoicePayment = z.infer<typeof invoicePaymentSchema>;

export const chargeSchema = z.looseObject({
  id,
  payment_intent: z.nullish(ref),
  refunded: z.boolean(),
  amount: z.optional(z.number()),
  amount_refunded: z.optional(z.number()),
  receipt_email: text,
  billing_details: z.nullish(z.looseObject({ email: text, name: text })),
});
export type StripeCharge = z.infer<typeof chargeSchema>;

export const disputeSchema = z.looseObject({
  id,
  charge: ref,
  payment_intent: z.nullish(ref),
  status: z.string(),
  reason: text,
  evidence: z.nullish(z.looseObject({ customer_email_address: text, customer_name: text })),
});
export type StripeDispute = z.infer<typeof disputeSchema>;

const subscriptionItemSchema = z.looseObject({
  id: z.optional(z.string()),
  quantity: z.nullish(z.number().check(z.int(), z.nonnegative())),
  price: z.looseObject({ id, product: z.nullish(ref), nickname: text }),
  // Since 2025-03-31 the billing period lives on each item.
  current_period_end: z.nullish(unixSeconds),
});

export const subscriptionSchema = z.looseObject({
  id,
  status: z.string(),
  cancel_at_period_end: z.nullish(z.boolean()),
  cancel_at: z.nullish(unixSeconds),
  ended_at: z.nullish(unixSeconds),
  // Before 2025-03-31 the period is on the subscription.
  current_period_end: z.nullish(unixSeconds),
  items: z.looseObject({ data: z.array(subscriptionItemSchema).check(z.maxLength(100)) }),
  metadata,
});
export type StripeSubscription = z.infer<typeof subscriptionSchema>;
