import * as z from 'zod/mini';
import '../../domain/zodLocale';

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
export const idValue = z.union([z.number().check(z.int(), z.nonnegative()), z.string().check(z.trim(), z.minLength(1), z.maxLength(100))]);
/** Milliseconds since the epoch; ISO strings are tolerated (`UPDATE_SUBSCRIPTION_CHARGE_DATE`). */
const timestamp = z.union([z.number(), z.string()]);

export const envelopeSchema = z.looseObject({
  id: z.pipe(z.union([z.string().check(z.trim(), z.minLength(1), z.maxLength(200)), z.number().check(z.int(), z.nonnegative())]), z.transform(String)),
  event: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
  version: z.nullish(z.union([z.string(), z.number()])),
  creation_date: z.nullish(timestamp),
  // CLUB_* test payloads spell it in camelCase.
  creationDate: z.nullish(timestamp),
  data: z.optional(z.unknown()),
});
export type HotmartEnvelope = z.infer<typeof envelopeSchema>;

const product = z.looseObject({ id: idValue, name: z.nullish(z.string()) });

/** PURCHASE_APPROVED / REFUNDED / CHARGEBACK: the transaction and the product are required. */
export const purchaseDataSchema = z.looseObject({
  product,
  purchase: z.looseObject({
    transaction: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
    recurrence_number: z.nullish(z.union([z.number().check(z.int()), z.string().check(z.regex(/^\d+$/))])),
    date_next_charge: z.nullish(timestamp),
  }),
});

/** SUBSCRIPTION_CANCELLATION: no buyer, no transaction; the subscriber and product instead. */
export const subscriptionCancellationDataSchema = z.looseObject({
  product,
  subscriber: z.looseObject({ code: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)) }),
  date_next_charge: z.nullish(timestamp),
});

/** SWITCH_PLAN: the subscription, its product, and the plans with the new one marked `current`. */
export const switchPlanDataSchema = z.looseObject({
  subscription: z.looseObject({ product, subscriber_code: z.nullish(z.string().check(z.trim(), z.minLength(1), z.maxLength(100))) }),
  plans: z.array(z.looseObject({ id: idValue, current: z.nullish(z.boolean()) })).check(
    z.maxLength(50),
    z.refine((plans) => plans.some((p) => p.current === true), 'no plan is marked current'),
  ),
});
