import { z } from 'zod';

/**
 * Selldone "Online Order" webhook: `{event, action, shop, basket, user, customer}` (README §3).
 * The basket is Selldone's order object (selldone/core `basket.model.ts`); only the fields
 * fulfillment reads are required, unknown ones pass through.
 */

/** Selldone ids are integers; strings are tolerated. */
const idValue = z.union([z.number().int().nonnegative(), z.string().trim().min(1).max(100)]);
/** Units of an item; a numeric string is tolerated. */
const count = z.union([z.number().int().min(0).max(10_000), z.string().regex(/^\d{1,5}$/).transform(Number)]).pipe(z.number().int().min(0).max(10_000));
const contact = z.looseObject({ name: z.string().nullish(), email: z.string().nullish() });

/** Only `event` and `action` are read before knowing what kind of webhook this is. */
export const headerSchema = z.looseObject({
  event: z.string().trim().min(1).max(100),
});

export const basketItemSchema = z.looseObject({
  id: idValue.nullish(),
  product_id: idValue,
  variant_id: idValue.nullish(),
  count,
  product: z.looseObject({ title: z.string().nullish(), name: z.string().nullish() }).nullish(),
  // Laravel serializes the relation as `returnRequest` (selldone/core) or `return_request`.
  returnRequest: z.looseObject({ count: count.nullish() }).nullish(),
  return_request: z.looseObject({ count: count.nullish() }).nullish(),
});
export type SelldoneBasketItem = z.infer<typeof basketItemSchema>;

const itemOrItems = z.union([basketItemSchema, z.array(basketItemSchema).max(500)]);

export const onlineOrderSchema = z.looseObject({
  event: z.literal('OnlineOrder'),
  action: z.string().trim().min(1).max(100),
  shop: z.looseObject({ id: idValue }),
  basket: z.looseObject({
    id: idValue,
    status: z.string().nullish(),
    type: z.string().nullish(),
    items: z.array(basketItemSchema).max(500).nullish(),
    updated_at: z.union([z.string(), z.number()]).nullish(),
    receiver_info: contact.nullish(),
  }),
  user: contact.nullish(),
  customer: contact.nullish(),
  // Not documented: a CancelProduct delivery that names the cancelled item(s) on the envelope.
  item: itemOrItems.nullish(),
  basket_item: itemOrItems.nullish(),
  items: itemOrItems.nullish(),
});
export type SelldoneOnlineOrder = z.infer<typeof onlineOrderSchema>;
