import type { FulfillmentEvent } from '../../domain/events';
import type { WebhookRequest } from '../../ingress/types';
import { isoTime, parseWith } from '../shared/json';
import { orderSchema, type FastSpringEvent, type FastSpringOrder } from './schema';

/**
 * FastSpring events → canonical events. `order.completed` grants; every other type is recorded
 * on its order for now. The scope is the order id (for subscription events, the subscription's
 * initial order when FastSpring names it), so all events about one purchase share a FIFO group.
 */

export function normalizeEvent(event: FastSpringEvent, request: WebhookRequest): FulfillmentEvent {
  const data = event.data as Record<string, unknown>;
  const occurredAt = isoTime(event.created, request.receivedAt);
  const live = event.live ?? (typeof data.live === 'boolean' ? data.live : false);
  if (event.type === 'order.completed') return orderCompleted(event, parseWith(orderSchema, data), occurredAt, live);
  const scope = firstString(data.initialOrderId, data.order, data.id) ?? event.id;
  return {
    provider: 'fastspring',
    eventId: event.id,
    occurredAt,
    action: 'record',
    reason: event.type,
    scope,
    live,
    customer: { email: contactOf(data)?.email ?? '' },
    items: [],
  };
}

function orderCompleted(event: FastSpringEvent, order: FastSpringOrder, occurredAt: string, live: boolean): FulfillmentEvent {
  const contact = contactOf(order as Record<string, unknown>);
  const name = [contact?.first, contact?.last].filter((p) => typeof p === 'string' && p.trim() !== '').join(' ');
  return {
    provider: 'fastspring',
    eventId: event.id,
    // Manual resends from the FastSpring dashboard carry a new event id but the same order.
    businessKey: `order.completed#${order.id}`,
    occurredAt,
    action: 'grant',
    reason: event.type,
    scope: order.id,
    orderId: order.reference ?? order.id,
    live,
    customer: {
      email: contact?.email ?? '',
      ...(name ? { name } : {}),
      ...(contact?.company ? { company: contact.company } : {}),
      ...(order.language ? { locale: order.language } : {}),
    },
    items: order.items.map((item) => ({
      productId: typeof item.product === 'string' ? item.product : (item.product.product ?? item.product.id ?? ''),
      quantity: item.quantity,
      ...(item.sku ? { sku: item.sku } : {}),
      ...(item.display ? { name: item.display } : {}),
    })),
  };
}

interface Contact {
  email?: string | null;
  first?: string | null;
  last?: string | null;
  company?: string | null;
}

/** The buyer: `customer` on orders, else the expanded account's contact. */
function contactOf(data: Record<string, unknown>): Contact | undefined {
  const customer = data.customer as Contact | undefined | null;
  if (customer && typeof customer === 'object' && customer.email) return customer;
  const account = data.account as { contact?: Contact } | string | undefined | null;
  if (account && typeof account === 'object' && account.contact?.email) return account.contact;
  return undefined;
}

function firstString(...values: unknown[]): string | undefined {
  for (const value of values) {
    if (typeof value === 'string' && value.length > 0) return value;
    if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') return (value as { id: string }).id;
  }
  return undefined;
}
