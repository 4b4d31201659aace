import { createHash } from 'node:crypto';
import type { Catalog } from '../../domain/catalog';
import type { Action, FulfillmentEvent } from '../../domain/events';
import type { WebhookRequest } from '../../ingress/types';
import { catalogNames } from '../shared/catalog';
import { isoTime, parseTime, parseWith } from '../shared/json';
import { type GumroadPing, type GumroadSale, type GumroadSubscription, SALE_RESOURCES, SUBSCRIPTION_RESOURCES, saleSchema, subscriptionSchema } from './schema';

/**
 * Gumroad pings → canonical events (docs/providers/gumroad.md).
 *
 * | ping                                      | action                                            |
 * |-------------------------------------------|---------------------------------------------------|
 * | legacy Ping / `sale`                      | grant; `extend` for a recurring charge            |
 * | `refund` (or `refunded=true`)             | revoke (final); a partial refund (`refunded=false`) is recorded |
 * | `dispute` (or `disputed=true`)            | revoke, reversibly: the `disputed` hold           |
 * | `dispute_won` (or `dispute_won=true`)     | reinstate: lifts the `disputed` hold              |
 * | `cancellation`, `cancelled_at` ahead      | revoke at `cancelled_at` (period-end hold)        |
 * | `cancellation`, `cancelled_at` passed     | suspend (payment failures, or cancelled at once)  |
 * | `subscription_restarted`                  | reinstate (lifts the suspension or the scheduled end) |
 * | `subscription_ended`                      | revoke (final)                                    |
 * | `subscription_updated`                    | record                                            |
 *
 * Scope: the subscription id for anything about a membership (its first sale, its recurring
 * charges, their refunds and disputes, and the subscription pings, which name nothing else),
 * else the sale id. The first sale's id is the entitlement's `orderId`, so `keysmith licenses
 * --order <sale_id>` finds a membership by the sale that started it.
 *
 * Event identity: Gumroad sends no event id, and the same `sale_id` comes back in the sale, refund,
 * dispute and dispute_won pings, so the id says what happened to it: `sale:{sale_id}`,
 * `refund:{sale_id}`, … A legacy Ping and a `sale` resource ping of one sale are the same event.
 * Subscription pings: `{resource}:{subscription_id}:{digest}`, the digest over every flat field
 * but `retry_count` (which Gumroad adds to a retried ping), so a retry is the same event and a
 * second cancellation after a restart is a new one.
 *
 * Test orders: `test=true` (the seller buying their own product, or Gumroad's "Send test ping",
 * which resends the seller's *latest real sale* with `test=true`). They are processed with
 * `live: false` under the scope `test:{…}`, so they never touch the real sale's entitlement, and
 * without the customer's address, so a test ping never emails a real customer.
 */

export type GumroadKind = (typeof SALE_RESOURCES)[number] | (typeof SUBSCRIPTION_RESOURCES)[number];

/** What a ping is about, or undefined for a resource keysmith does not know. */
export function kindOf(ping: GumroadPing): GumroadKind | undefined {
  const resource = ping.fields.resource_name?.trim().toLowerCase();
  if (resource && (SUBSCRIPTION_RESOURCES as readonly string[]).includes(resource)) return resource as GumroadKind;
  if (resource && !(SALE_RESOURCES as readonly string[]).includes(resource)) return undefined;
  if (resource && resource !== 'sale') return resource as GumroadKind;
  // The legacy Ping (no resource_name) and the `sale` resource: the flags say what it reports.
  if (truthy(ping.fields.dispute_won)) return 'dispute_won';
  if (truthy(ping.fields.disputed)) return 'dispute';
  if (truthy(ping.fields.refunded)) return 'refund';
  return 'sale';
}

/**
 * The event id of a ping (see above), or undefined for a resource keysmith ignores. Sale kinds
 * need `sale_id`; a ping without one is refused by the schema before this matters.
 */
export function eventIdOf(ping: GumroadPing): string | undefined {
  const kind = kindOf(ping);
  if (kind === undefined) return undefined;
  if ((SUBSCRIPTION_RESOURCES as readonly string[]).includes(kind)) return `${kind}:${ping.fields.subscription_id?.trim()}:${digest(ping)}`;
  return `${truthy(ping.fields.test) ? 'test:' : ''}${kind}:${ping.fields.sale_id?.trim()}`;
}

export function normalizeGumroad(ping: GumroadPing, request: WebhookRequest, catalog: Catalog): FulfillmentEvent | undefined {
  const kind = kindOf(ping);
  if (kind === undefined) return undefined;
  if ((SUBSCRIPTION_RESOURCES as readonly string[]).includes(kind)) return subscriptionEvent(kind, ping, parseWith(subscriptionSchema, ping.fields), request);
  return saleEvent(kind, ping, parseWith(saleSchema, ping.fields), request, catalog);
}

function saleEvent(kind: GumroadKind, ping: GumroadPing, sale: GumroadSale, request: WebhookRequest, catalog: Catalog): FulfillmentEvent {
  const test = truthy(sale.test);
  const subscriptionId = nonEmpty(sale.subscription_id);
  const recurring = truthy(sale.is_recurring_charge);
  let action: Action;
  switch (kind) {
    case 'refund':
      // `refunded` is Gumroad's "fully refunded"; a partial refund leaves it false.
      action = truthy(sale.refunded) ? 'revoke' : 'record';
      break;
    case 'dispute':
      action = 'revoke';
      break;
    case 'dispute_won':
      action = 'reinstate';
      break;
    default:
      action = recurring ? 'extend' : 'grant';
  }
  const prefix = test ? 'test:' : '';
  const scope = prefix + (subscriptionId ?? sale.sale_id);
  const saleTime = parseTime(sale.sale_timestamp);
  const periodEnd = subscriptionId && saleTime ? periodEndOf(saleTime, sale.recurrence) : undefined;
  const variants = Object.entries(ping.variants)
    .map(([option, choice]) => `${option}: ${choice}`)
    .join(', ');
  const name = [nonEmpty(sale.product_name), nonEmpty(variants)].filter(Boolean).join(' – ');
  return {
    provider: 'gumroad',
    eventId: eventIdOf(ping)!,
    // The sale (or charge) is granted or renewed once, whichever ping reported it.
    ...(action === 'grant' || action === 'extend' ? { businessKey: `${prefix}${action}#${sale.sale_id}` } : {}),
    occurredAt: kind === 'sale' ? isoTime(sale.sale_timestamp, request.receivedAt) : request.receivedAt.toISOString(),
    action,
    reason: kind === 'sale' && !ping.fields.resource_name ? 'ping' : kind,
    scope: scope.slice(0, 256),
    orderId: sale.sale_id,
    live: !test,
    customer: {
      email: test ? '' : (nonEmpty(sale.email) ?? ''),
      ...(nonEmpty(sale.full_name) ? { name: nonEmpty(sale.full_name)! } : {}),
    },
    items:
      action === 'grant'
        ? [
            {
              productId: productIdOf(catalog, sale, variants),
              quantity: sale.quantity === undefined ? 1 : Number(sale.quantity),
              ...(variants ? { sku: variants.slice(0, 200) } : {}),
              ...(name ? { name } : {}),
            },
          ]
        : [],
    ...(subscriptionId ? { subscription: { id: subscriptionId, ...(periodEnd ? { periodEnd } : {}) } } : {}),
    ...(kind === 'dispute' || kind === 'dispute_won' ? { hold: 'disputed' as const } : {}),
    ...(kind === 'dispute' ? { reversible: true } : {}),
  };
}

function subscriptionEvent(kind: GumroadKind, ping: GumroadPing, sub: GumroadSubscription, request: WebhookRequest): FulfillmentEvent {
  const now = request.receivedAt.toISOString();
  let action: Action = 'record';
  let effectiveAt: string | undefined;
  let occurredAt = now;
  switch (kind) {
    case 'cancellation': {
      // Gumroad sets `cancelled_at` to the end of the paid period when the customer or seller
      // cancels, and to the moment itself for an immediate cancellation or payment failures.
      const end = parseTime(sub.cancelled_at);
      if (end !== undefined && Date.parse(end) > request.receivedAt.getTime()) {
        action = 'revoke';
        effectiveAt = end;
      } else {
        // Already over, but a restart can still bring it back: a hold that reinstate lifts.
        action = 'suspend';
      }
      break;
    }
    case 'subscription_restarted':
      action = 'reinstate';
      break;
    case 'subscription_ended':
      action = 'revoke';
      occurredAt = isoTime(sub.ended_at, request.receivedAt);
      break;
  }
  return {
    provider: 'gumroad',
    eventId: eventIdOf(ping)!,
    occurredAt,
    action,
    reason: kind,
    scope: sub.subscription_id.slice(0, 256),
    live: true,
    customer: { email: nonEmpty(sub.user_email) ?? '' },
    items: [],
    subscription: { id: sub.subscription_id },
    ...(effectiveAt ? { effectiveAt } : {}),
  };
}

/**
 * The catalog's name for the product: `{product_id}:{variants}` when it names that option (tiers
 * sold as variants of one product), else the product id when it names it, else the short
 * permalink (`gumroad.com/l/<permalink>`) when it names that, else the product id.
 */
export function productIdOf(catalog: Catalog, sale: GumroadSale, variants: string): string {
  const productId = sale.product_id;
  if (variants && catalogNames(catalog, 'gumroad', `${productId}:${variants}`)) return `${productId}:${variants}`;
  if (catalogNames(catalog, 'gumroad', productId)) return productId;
  const permalink = nonEmpty(sale.short_product_id);
  if (permalink && catalogNames(catalog, 'gumroad', permalink)) return permalink;
  return productId;
}

const RECURRENCE_MONTHS: Record<string, number> = { monthly: 1, quarterly: 3, biannually: 6, yearly: 12, every_two_years: 24 };

/**
 * Gumroad sends no period end. A membership charge pays for one `recurrence` from its
 * `sale_timestamp`, so that is the end of the period it pays for.
 */
export function periodEndOf(saleTime: string, recurrence: string | undefined): string | undefined {
  const months = RECURRENCE_MONTHS[recurrence?.trim().toLowerCase() ?? ''];
  if (months === undefined) return undefined;
  const at = new Date(saleTime);
  const day = at.getUTCDate();
  at.setUTCDate(1);
  at.setUTCMonth(at.getUTCMonth() + months);
  // Jan 31 + 1 month is the last day of February, not March 3.
  const lastDay = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 0)).getUTCDate();
  at.setUTCDate(Math.min(day, lastDay));
  return at.toISOString();
}

/** A stable digest of a ping's flat fields and variants, without Gumroad's `retry_count`. */
function digest(ping: GumroadPing): string {
  const entries = [
    ...Object.entries(ping.fields).filter(([name]) => name !== 'retry_count'),
    ...Object.entries(ping.variants).map(([option, choice]) => [`variants[${option}]`, choice] as const),
  ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64url').slice(0, 22);
}

function truthy(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}
