import * as z from 'zod/mini';
import '../../domain/zodLocale';

/**
 * FastSpring's webhook envelope: `{"events":[…]}`, several events per POST. Only the fields
 * fulfillment needs are required; unknown fields pass through (FastSpring adds fields over time).
 * With webhook expansion off, `account`, `subscription` and `product` are id strings; with it on,
 * objects — both are accepted.
 */

const contact = z.looseObject({
  email: z.nullish(z.string()),
  first: z.nullish(z.string()),
  last: z.nullish(z.string()),
  company: z.nullish(z.string()),
});

const idOrObject = <T extends z.core.$ZodLooseShape>(shape: T) => z.union([z.string(), z.looseObject(shape)]);

const time = z.nullish(z.union([z.number(), z.string()]));

/** A unit count: a whole number from 0 to 10,000. */
const quantity = () => z.number().check(z.int(), z.minimum(0), z.maximum(10_000));

/** A subscription object (expansion on); also the `data` of subscription.* events. */
export const subscriptionSchema = z.looseObject({
  id: z.optional(z.string()),
  subscription: z.optional(z.string()),
  initialOrderId: z.nullish(z.string()),
  next: time,
  nextChargeDate: time,
  deactivationDate: time,
});

export const orderItemSchema = z.looseObject({
  product: idOrObject({ product: z.optional(z.string()), id: z.optional(z.string()) }),
  quantity: quantity(),
  sku: z.nullish(z.string()),
  display: z.nullish(z.string()),
  subscription: z.nullish(z.union([z.string(), subscriptionSchema])),
});

export const orderSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  order: z.optional(z.string()),
  reference: z.nullish(z.string()),
  live: z.optional(z.boolean()),
  language: z.nullish(z.string()),
  customer: z.nullish(contact),
  account: z.nullish(idOrObject({ id: z.optional(z.string()), contact: z.nullish(contact) })),
  items: z.array(orderItemSchema).check(z.maxLength(200)),
});
export type FastSpringOrder = z.infer<typeof orderSchema>;

/** `return.created`: the original order and, for a partial return, the items returned. */
export const returnSchema = z.looseObject({
  id: z.optional(z.string()),
  return: z.optional(z.string()),
  order: z.nullish(idOrObject({ id: z.optional(z.string()), order: z.optional(z.string()) })),
  original: z.nullish(idOrObject({ id: z.optional(z.string()), order: z.optional(z.string()) })),
  items: z.optional(
    z
      .array(
        z.looseObject({
          product: idOrObject({ product: z.optional(z.string()), id: z.optional(z.string()) }),
          quantity: z.optional(quantity()),
        }),
      )
      .check(z.maxLength(200)),
  ),
});

export const eventSchema = z.looseObject({
  id: z.string().check(z.minLength(1), z.maxLength(200)),
  type: z.string().check(z.minLength(1), z.maxLength(100)),
  live: z.optional(z.boolean()),
  created: z.optional(z.number()),
  data: z.looseObject({}),
});
export type FastSpringEvent = z.infer<typeof eventSchema>;

export const envelopeSchema = z.looseObject({
  events: z.array(z.unknown()).check(z.minLength(1), z.maxLength(500)),
});
