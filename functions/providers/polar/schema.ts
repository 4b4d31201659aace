import * as z from 'zod/mini';
import '../../domain/zodLocale';

/**
 * Polar webhook bodies: `{type, timestamp, data}` (polarsource/polar-js
 * `src/models/components/webhook*payload.ts`). `data` is an Order for `order.*`, a Subscription
 * for `subscription.*`, a Refund for `refund.*` (`src/models/components/order.ts`,
 * `subscription.ts`, `refund.ts`). Only what fulfillment reads is required; unknown fields pass.
 */

const id = () => z.string().check(z.trim(), z.minLength(1), z.maxLength(100));
const time = () => z.nullish(z.string().check(z.maxLength(64)));
const text = () => z.nullish(z.string());
const seats = () => z.nullish(z.number().check(z.int(), z.minimum(0), z.maximum(10_000)));

const customer = z.looseObject({ email: text(), name: text(), locale: text() });
const product = z.looseObject({ id: id(), name: text() });

export const envelopeSchema = z.looseObject({
  type: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
  timestamp: time(),
  data: z.looseObject({}),
});
export type PolarEnvelope = z.infer<typeof envelopeSchema>;

export const orderSchema = z.looseObject({
  id: id(),
  created_at: time(),
  status: z.string().check(z.maxLength(50)),
  billing_reason: z.string().check(z.maxLength(50)),
  seats: seats(),
  product_id: z.nullish(id()),
  subscription_id: z.nullish(id()),
  customer,
  product: z.nullish(product),
  subscription: z.nullish(z.looseObject({ id: id(), current_period_end: time() })),
});
export type PolarOrder = z.infer<typeof orderSchema>;

export const subscriptionSchema = z.looseObject({
  id: id(),
  status: z.string().check(z.maxLength(50)),
  current_period_end: time(),
  cancel_at_period_end: z.nullish(z.boolean()),
  ends_at: time(),
  ended_at: time(),
  seats: seats(),
  product_id: id(),
  customer,
  product: z.nullish(product),
});
export type PolarSubscription = z.infer<typeof subscriptionSchema>;

export const refundSchema = z.looseObject({
  id: id(),
  order_id: z.nullish(id()),
  subscription_id: z.nullish(id()),
});
