import { z } from 'zod';

/**
 * Hotmart webhook (postback) 2.0. The envelope is the same for every event:
 * `{id, creation_date | creationDate, event, version, data, hottok?}`; `data` differs per event
 * family. Unknown fields pass through everywhere (Hotmart adds fields).
 *
 * Only the envelope can make a delivery malformed (400). The `data` schemas below state what an
 * event that *changes a license* must carry; an event whose data does not fit is recorded, not
 * refused, because Hotmart switches off a webhook that keeps failing (see ./index.ts).
 */

/** Hotmart ids are numbers (product, plan, subscription); strings are tolerated. */
export const idValue = z.union([z.number().int().nonnegative(), z.string().trim().min(1).max(100)]);
/** Milliseconds since the epoch; ISO strings are tolerated (`UPDATE_SUBSCRIPTION_CHARGE_DATE`). */
const timestamp = z.union([z.number(), z.string()]);

export const envelopeSchema = z.looseObject({
  id: z.union([z.string().trim().min(1).max(200), z.number().int().nonnegative()]).transform(String),
  event: z.string().trim().min(1).max(100),
  version: z.union([z.string(), z.number()]).nullish(),
  creation_date: timestamp.nullish(),
  // CLUB_* test payloads spell it in camelCase.
  creationDate: timestamp.nullish(),
  data: z.unknown().optional(),
});
export type HotmartEnvelope = z.infer<typeof envelopeSchema>;

const product = z.looseObject({ id: idValue, name: z.string().nullish() });

/** PURCHASE_APPROVED / REFUNDED / CHARGEBACK: the transaction and the product are required. */
export const purchaseDataSchema = z.looseObject({
  product,
  purchase: z.looseObject({
    transaction: z.string().trim().min(1).max(100),
    recurrence_number: z.union([z.number().int(), z.string().regex(/^\d+$/)]).nullish(),
    date_next_charge: timestamp.nullish(),
  }),
});

/** SUBSCRIPTION_CANCELLATION: no buyer, no transaction; the subscriber and product instead. */
export const subscriptionCancellationDataSchema = z.looseObject({
  product,
  subscriber: z.looseObject({ code: z.string().trim().min(1).max(100) }),
  date_next_charge: timestamp.nullish(),
});

/** SWITCH_PLAN: the subscription, its product, and the plans with the new one marked `current`. */
export const switchPlanDataSchema = z.looseObject({
  subscription: z.looseObject({ product, subscriber_code: z.string().trim().min(1).max(100).nullish() }),
  plans: z
    .array(z.looseObject({ id: idValue, current: z.boolean().nullish() }))
    .max(50)
    .refine((plans) => plans.some((p) => p.current === true), 'no plan is marked current'),
});
