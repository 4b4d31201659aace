import type { Catalog } from '../../domain/catalog';
import type { Action, FulfillmentEvent } from '../../domain/events';
import type { WebhookRequest } from '../../ingress/types';
import { catalogNames } from '../shared/catalog';
import { isoTime } from '../shared/json';
import type { SelldoneBasketItem, SelldoneOnlineOrder } from './schema';

/**
 * Selldone OnlineOrder actions → canonical events (README §3 "Idempotency and fulfillment
 * meaning", §8).
 *
 * | action         | basket.status  | action                                                   |
 * |----------------|----------------|----------------------------------------------------------|
 * | PaymentOrder   | Payed          | grant, one unit per `count` of every item                |
 * | ToCustomer     | COD (or Payed) | grant — cash on delivery is paid when it arrives          |
 * | CancelProduct  | any            | revoke the items the delivery names, else the whole order|
 * | ReturnOrder    | any            | revoke the items with a return request, else the order   |
 * | anything else  |                | record (CheckoutOrder is not paid yet; shipping states)  |
 *
 * Both grants carry the business key `grant#{shop}:{basket}`, so an order is granted once: a
 * prepaid order's later ToCustomer, or a COD order whose status already reads Payed, is a
 * duplicate the worker skips. ToCustomer with Payed is the safety net when PaymentOrder was
 * lost.
 *
 * Scope: `{shop.id}:{basket.id}` (basket ids cannot collide across shops that way); `orderId`
 * is the plain basket id, so `keysmith licenses --order <basket id>` finds it through the order
 * index. Selldone sends no event id: the event id is `{shop}:{basket}:{action}`, plus
 * `basket.updated_at` when present (an action can repeat after the basket changed), plus the
 * named item ids for a CancelProduct that names items.
 *
 * Product ids: `{product_id}:{variant_id}` when the catalog names that variant, else the plain
 * `product_id` — a seller maps a product once and only lists variants that are different
 * products (e.g. a "Team" edition). The variant id is kept as the item's `sku` either way.
 */

/** A CancelProduct/ReturnOrder item whose count is unknown or 0: every unit of its product. */
const ALL_UNITS = 10_000;

export function normalizeOrder(order: SelldoneOnlineOrder, request: WebhookRequest, catalog: Catalog): FulfillmentEvent {
  const shopId = idString(order.shop.id);
  const basketId = idString(order.basket.id);
  const status = (order.basket.status ?? '').trim().toLowerCase();
  const named = namedItems(order);
  const basketItems = order.basket.items ?? [];

  let action: Action = 'record';
  let items: FulfillmentEvent['items'] = basketItems.filter((i) => i.count > 0).map((i) => toItem(catalog, i, i.count));
  switch (order.action) {
    case 'PaymentOrder':
      if (PAID.has(status)) action = 'grant';
      break;
    case 'ToCustomer':
      if (status === 'cod' || PAID.has(status)) action = 'grant';
      break;
    case 'CancelProduct':
      action = 'revoke';
      items = named ? named.map((i) => toItem(catalog, i, i.count > 0 ? i.count : ALL_UNITS)) : [];
      break;
    case 'ReturnOrder': {
      action = 'revoke';
      const returned = basketItems.filter((i) => returnRequestOf(i) !== undefined);
      items = returned.map((i) => {
        const units = returnRequestOf(i)?.count ?? i.count;
        return toItem(catalog, i, units > 0 ? units : ALL_UNITS);
      });
      break;
    }
  }

  const updatedAt = order.basket.updated_at;
  const eventId = [
    shopId,
    basketId,
    order.action,
    ...(updatedAt !== undefined && updatedAt !== null && String(updatedAt) !== '' ? [String(updatedAt)] : []),
    ...(order.action === 'CancelProduct' && named ? [`items=${named.map((i) => idString(i.id ?? i.product_id)).join(',')}`] : []),
  ].join(':');

  return {
    provider: 'selldone',
    eventId: eventId.slice(0, 512),
    ...(action === 'grant' ? { businessKey: `grant#${shopId}:${basketId}` } : {}),
    occurredAt: isoTime(updatedAt, request.receivedAt),
    action,
    reason: order.action.slice(0, 200),
    scope: `${shopId}:${basketId}`,
    orderId: basketId,
    // Selldone marks no test orders; the dashboard's test lab is the only source of fakes.
    live: true,
    customer: customerOf(order),
    items: items.slice(0, 200),
  };
}

/** Selldone spells it "Payed"; "Paid" is accepted in case that is ever fixed. */
const PAID = new Set(['payed', 'paid']);

function toItem(catalog: Catalog, item: SelldoneBasketItem, quantity: number): FulfillmentEvent['items'][number] {
  const productId = idString(item.product_id);
  const variantId = item.variant_id === null || item.variant_id === undefined ? undefined : idString(item.variant_id);
  const variantKey = variantId === undefined ? undefined : `${productId}:${variantId}`;
  const name = text(item.product?.title) ?? text(item.product?.name);
  return {
    productId: variantKey !== undefined && catalogNames(catalog, 'selldone', variantKey) ? variantKey : productId,
    quantity: Math.min(quantity, ALL_UNITS),
    ...(variantId !== undefined ? { sku: variantId } : {}),
    ...(name ? { name } : {}),
  };
}

/** Items a CancelProduct names on the envelope (undocumented; see ./schema.ts), if any. */
function namedItems(order: SelldoneOnlineOrder): SelldoneBasketItem[] | undefined {
  for (const value of [order.item, order.basket_item, order.items]) {
    if (value === undefined || value === null) continue;
    const list = Array.isArray(value) ? value : [value];
    if (list.length > 0) return list;
  }
  return undefined;
}

function returnRequestOf(item: SelldoneBasketItem): { count?: number | null } | undefined {
  return item.returnRequest ?? item.return_request ?? undefined;
}

/** The buyer: the Selldone user, else the shop's customer record, else the order's receiver. */
function customerOf(order: SelldoneOnlineOrder): FulfillmentEvent['customer'] {
  for (const contact of [order.user, order.customer, order.basket.receiver_info]) {
    const email = text(contact?.email);
    if (!email) continue;
    const name = text(contact?.name);
    return { email, ...(name ? { name } : {}) };
  }
  return { email: '' };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function idString(value: number | string): string {
  return String(value).trim().slice(0, 100);
}
