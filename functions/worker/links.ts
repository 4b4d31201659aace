import type { EntitlementStore } from '../aws/store';
import type { FulfillmentEvent } from '../domain/events';

/** Payment → invoice → subscription: the longest chain of links an event follows. */
const MAX_LINK_HOPS = 2;

/**
 * The order an event belongs to, when its scope may not be that order's own id.
 *
 * - An event that names only a subscription (the provider did not say which order started it)
 *   belongs to the entitlement granted with that subscription, when there is one.
 * - An event that names only a payment (`followLinks`: a Stripe refund or dispute names its
 *   payment intent) belongs to an order scoped by that payment when one holds licenses (a
 *   one-time purchase), else to the order an earlier event linked the payment to (`links`),
 *   through at most two links; else it stays on the payment. An order under the payment that
 *   holds no licenses is only where such an event was stored before the link existed: once the
 *   link is there, the link wins, so `keysmith replay` of that event applies it to the order.
 *
 * The worker runs it before anything else (its `get` is the worker's step-0 read, kept for the
 * state write when the event stays on its scope); `keysmith replay` runs it to report the right order.
 */
export async function followLinks(event: FulfillmentEvent, store: Pick<EntitlementStore, 'get' | 'findSubscriptionScope'>): Promise<FulfillmentEvent> {
  if (event.followLinks) {
    const own = await store.get(event.provider, event.scope);
    if (own && own.state.licenses.length > 0) return event;
    const scope = await linkedScope(store, event.provider, event.scope);
    return scope !== event.scope ? { ...event, scope } : event;
  }
  if (event.action === 'grant' || !event.subscription || event.scope !== event.subscription.id) return event;
  const scope = await store.findSubscriptionScope(event.provider, event.subscription.id);
  return scope && scope !== event.scope ? { ...event, scope } : event;
}

/** Where the links from `scope` lead (at most two), or `scope` itself when none does. */
export async function linkedScope(store: Pick<EntitlementStore, 'findSubscriptionScope'>, provider: string, scope: string): Promise<string> {
  let current = scope;
  const seen = new Set([current]);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    const next = await store.findSubscriptionScope(provider, current);
    if (!next || seen.has(next)) break;
    seen.add(next);
    current = next;
  }
  return current;
}
