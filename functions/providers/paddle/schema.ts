import * as z from 'zod/mini';
import '../../domain/zodLocale';
import { WebhookRejection } from '../../ingress/types';
import { parseWith } from '../shared/json';

/**
 * What Paddle Classic sends. Every value is a string (form fields). Only what fulfillment needs is
 * required; every other field — Paddle's own (`p_price`, `p_earnings`, …) and the seller's custom
 * fields — passes through untouched.
 *
 * Fulfillment (https://developer.paddle.com/classic/webhook-reference/product-fulfillment/fulfillment-webhook):
 * `p_order_id`, `p_product_id`, `p_quantity` (older setups: the deprecated `quantity`), and
 * `event_time` (some integrations see `p_event_time`), "YYYY-MM-DD HH:MM:SS" UTC.
 *
 * Alerts (https://developer.paddle.com/classic/webhook-reference/intro): `alert_name`, `alert_id`
 * (unique per alert, kept across Paddle's retries), `order_id`, `email`, `event_time`, and per alert
 * e.g. `refund_type` (`full`, `vat`, `partial`) on `payment_refunded`.
 */

const required = (max: number) => z.string({ error: 'is required' }).check(z.minLength(1, 'is required'), z.maxLength(max, `must be at most ${max} characters`));

export const MAX_QUANTITY = 10_000;

const quantitySchema = z.pipe(
  z.pipe(z.string({ error: 'is required' }).check(z.regex(/^[0-9]{1,9}$/, 'must be a whole number')), z.transform(Number)),
  z.number().check(z.int(), z.minimum(1, 'must be at least 1'), z.maximum(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`)),
);

export const fulfillmentSchema = z.looseObject({
  p_order_id: required(200),
  p_product_id: required(200),
  event_time: z.optional(z.string()),
  p_event_time: z.optional(z.string()),
});

export interface PaddleFulfillment {
  orderId: string;
  productId: string;
  quantity: number;
  /** `event_time`, else `p_event_time`, as sent. */
  eventTime: string | undefined;
  fields: Record<string, string>;
}

export function parseFulfillment(fields: Record<string, string>): PaddleFulfillment {
  const order = parseWith(fulfillmentSchema, fields);
  // `p_quantity` is current; `quantity` is the deprecated name some product setups still send.
  const name = fields.p_quantity === undefined && fields.quantity !== undefined ? 'quantity' : 'p_quantity';
  const quantity = z.safeParse(quantitySchema, fields[name]);
  if (!quantity.success) throw new WebhookRejection('MALFORMED', `${name}: ${quantity.error.issues[0]!.message}`);
  return {
    orderId: order.p_order_id,
    productId: order.p_product_id,
    quantity: quantity.data,
    eventTime: nonEmpty(order.event_time) ?? nonEmpty(order.p_event_time),
    fields,
  };
}

export const alertSchema = z.looseObject({
  alert_name: required(100),
  alert_id: required(200),
  order_id: z.optional(z.string().check(z.maxLength(200, 'must be at most 200 characters'))),
  event_time: z.optional(z.string()),
});
export type PaddleAlert = z.infer<typeof alertSchema> & Record<string, string | undefined>;

export function parseAlert(fields: Record<string, string>): PaddleAlert {
  return parseWith(alertSchema, fields) as PaddleAlert;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}
