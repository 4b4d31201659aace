import * as z from 'zod/mini';
import '../../domain/zodLocale';

/**
 * Selldone "Online Order" webhook: `{event, action, shop, basket, user, customer}` (README §3).
 * The basket is Selldone's order object (selldone/core `basket.model.ts`); only the fields
 * fulfillment reads are required, unknown ones pass through.
 */

/** Selldone ids are integers; strings are tolerated. */
const idValue = z.union([z.number().check(z.int(), z.nonnegative()), z.string().check(z.trim(), z.minLength(1), z.maxLength(100))]);
/** Units of an item; a numeric string is tolerated. */
const units = () => z.number().check(z.int(), z.minimum(0), z.maximum(10_000));
const count = z.pipe(z.union([units(), z.pipe(z.string().check(z.regex(/^\d{1,5}$/)), z.transform(Number))]), units());
const contact = z.looseObject({ name: z.nullish(z.string()), email: z.nullish(z.string()) });

/** Only `event` and `action` are read before knowing what kind of webhook this is. */
export const headerSchema = z.looseObject({
  event: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
});

export const basketItemSchema = z.looseObject({
  id: z.nullish(idValue),
  product_id: idValue,
  variant_id: z.nullish(idValue),
  count,
  product: z.nullish(z.looseObject({ title: z.nullish(z.string()), name: z.nullish(z.string()) })),
  // Laravel serializes the relation as `returnRequest` (selldone/core) or `return_request`.
  returnRequest: z.nullish(z.looseObject({ count: z.nullish(count) })),
  return_request: z.nullish(z.looseObject({ count: z.nullish(count) })),
});
export type SelldoneBasketItem = z.infer<typeof basketItemSchema>;

const itemOrItems = z.union([basketItemSchema, z.array(basketItemSchema).check(z.maxLength(500))]);

export const onlineOrderSchema = z.looseObject({
  event: z.literal('OnlineOrder'),
  action: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
  shop: z.looseObject({ id: idValue }),
  basket: z.looseObject({
    id: idValue,
    status: z.nullish(z.string()),
    type: z.nullish(z.string()),
    items: z.nullish(z.array(basketItemSchema).check(z.maxLength(500))),
    updated_at: z.nullish(z.union([z.string(), z.number()])),
    receiver_info: z.nullish(contact),
  }),
  user: z.nullish(contact),
  customer: z.nullish(contact),
  // Not documented: a CancelProduct delivery that names the cancelled item(s) on the envelope.
  item: z.nullish(itemOrItems),
  basket_item: z.nullish(itemOrItems),
  items: z.nullish(itemOrItems),
});
export type SelldoneOnlineOrder = z.infer<typeof onlineOrderSchema>;
