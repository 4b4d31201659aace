import { z } from 'zod';

/**
 * FastSpring's webhook envelope: `{"events":[…]}`, several events per POST. Only the fields
 * fulfillment needs are required; unknown fields pass through (FastSpring adds fields over time).
 * With webhook expansion off, `account`, `subscription` and `product` are id strings; with it on,
 * objects — both are accepted.
 */

const contact = z.looseObject({
  email: z.string().nullish(),
  first: z.string().nullish(),
  last: z.string().nullish(),
  company: z.string().nullish(),
});

const idOrObject = <T extends z.ZodRawShape>(shape: T) => z.union([z.string(), z.looseObject(shape)]);

const time = z.union([z.number(), z.string()]).nullish();

/** A subscription object (expansion on); also the `data` of subscription.* events. */
export const subscriptionSchema = z.looseObject({
  id: z.string().optional(),
  subscription: z.string().optional(),
  initialOrderId: z.string().nullish(),
  next: time,
  nextChargeDate: time,
  deactivationDate: time,
});

export const orderItemSchema = z.looseObject({
  product: idOrObject({ product: z.string().optional(), id: z.string().optional() }),
  quantity: z.number().int().min(0).max(10_000),
  sku: z.string().nullish(),
  display: z.string().nullish(),
  subscription: z.union([z.string(), subscriptionSchema]).nullish(),
});

export const orderSchema = z.looseObject({
  id: z.string().min(1),
  order: z.string().optional(),
  reference: z.string().nullish(),
  live: z.boolean().optional(),
  language: z.string().nullish(),
  customer: contact.nullish(),
  account: idOrObject({ id: z.string().optional(), contact: contact.nullish() }).nullish(),
  items: z.array(orderItemSchema).max(200),
});
export type FastSpringOrder = z.infer<typeof orderSchema>;

/** `return.created`: the original order and, for a partial return, the items returned. */
export const returnSchema = z.looseObject({
  id: z.string().optional(),
  return: z.string().optional(),
  order: idOrObject({ id: z.string().optional(), order: z.string().optional() }).nullish(),
  original: idOrObject({ id: z.string().optional(), order: z.string().optional() }).nullish(),
  items: z
    .array(
      z.looseObject({
        product: idOrObject({ product: z.string().optional(), id: z.string().optional() }),
        quantity: z.number().int().min(0).max(10_000).optional(),
      }),
    )
    .max(200)
    .optional(),
});

export const eventSchema = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  live: z.boolean().optional(),
  created: z.number().optional(),
  data: z.looseObject({}),
});
export type FastSpringEvent = z.infer<typeof eventSchema>;

export const envelopeSchema = z.looseObject({
  events: z.array(z.unknown()).min(1).max(500),
});
