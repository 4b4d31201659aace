import * as z from 'zod/mini';
import '../../domain/zodLocale';

/**
 * Paddle Billing notifications (https://developer.paddle.com/webhooks/overview): only the fields
 * keysmith reads; unknown fields pass through. Shapes were read from `@paddle/paddle-node-sdk`'s
 * notification types and its test payloads (src/__tests__/mocks/notifications).
 */

const id = z.string().check(z.trim(), z.minLength(1), z.maxLength(255));
const time = z.string().check(z.minLength(1), z.maxLength(64));
const customData = z.nullish(z.record(z.string(), z.unknown()));

export const envelopeSchema = z.looseObject({
  event_id: id,
  event_type: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
  occurred_at: time,
  notification_id: z.nullish(z.string()),
  data: z.record(z.string(), z.unknown()),
});
export type PaddleBillingEnvelope = z.infer<typeof envelopeSchema>;

const price = z.looseObject({ id, product_id: z.nullish(id), name: z.nullish(z.string()), description: z.nullish(z.string()) });

export const transactionSchema = z.looseObject({
  id,
  status: z.string(),
  origin: z.nullish(z.string()),
  customer_id: z.nullish(id),
  subscription_id: z.nullish(id),
  custom_data: customData,
  items: z.array(z.looseObject({ price, quantity: z.number().check(z.int(), z.nonnegative()) })).check(z.maxLength(1000)),
  details: z.nullish(
    z.looseObject({
      line_items: z.nullish(z.array(z.looseObject({ price_id: z.nullish(z.string()), product: z.nullish(z.looseObject({ id: z.nullish(z.string()), name: z.nullish(z.string()) })) }))),
    }),
  ),
  billing_period: z.nullish(z.looseObject({ starts_at: z.nullish(time), ends_at: z.nullish(time) })),
});
export type PaddleTransaction = z.infer<typeof transactionSchema>;

export const subscriptionSchema = z.looseObject({
  id,
  status: z.string(),
  customer_id: z.nullish(id),
  transaction_id: z.nullish(id),
  custom_data: customData,
  items: z
    .array(
      z.looseObject({
        price,
        quantity: z.number().check(z.int(), z.nonnegative()),
        product: z.nullish(z.looseObject({ id: z.nullish(z.string()), name: z.nullish(z.string()) })),
      }),
    )
    .check(z.maxLength(100)),
  scheduled_change: z.nullish(z.looseObject({ action: z.string(), effective_at: z.nullish(time), resume_at: z.nullish(time) })),
  current_billing_period: z.nullish(z.looseObject({ starts_at: z.nullish(time), ends_at: z.nullish(time) })),
  canceled_at: z.nullish(time),
});
export type PaddleSubscription = z.infer<typeof subscriptionSchema>;

export const adjustmentSchema = z.looseObject({
  id,
  action: z.string(),
  type: z.nullish(z.string()),
  status: z.string(),
  transaction_id: id,
  subscription_id: z.nullish(id),
  customer_id: z.nullish(id),
});
export type PaddleAdjustment = z.infer<typeof adjustmentSchema>;
