import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Every storefront keysmith speaks to. Adding one adds a name here and a registry line. */
export const PROVIDERS = ['paddle', 'fastspring', 'hotmart', 'selldone', 'elements'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** What an event does to an entitlement. `record` stores it and changes nothing. */
export const ACTIONS = ['grant', 'revoke', 'suspend', 'reinstate', 'extend', 'change', 'record'] as const;
export type Action = (typeof ACTIONS)[number];

export const fulfillmentEventSchema = z.object({
  provider: z.enum(PROVIDERS),
  /** The provider's unique id; if it has none, a hash of the verified payload. */
  eventId: z.string().min(1).max(512),
  occurredAt: z.string().min(1),
  action: z.enum(ACTIONS),
  /** The provider's own event name, e.g. "order.completed". */
  reason: z.string().min(1).max(200),
  /**
   * A second dedupe key for providers whose manual resends carry new event ids
   * (FastSpring: order id + event type).
   */
  businessKey: z.string().min(1).max(512).optional(),
  /** Entitlement scope: order id or subscription id. Also the FIFO message group. */
  scope: z.string().min(1).max(200),
  /** The provider's order id when it differs from the scope (subscriptions). */
  orderId: z.string().max(200).optional(),
  /** A customer-facing order reference, when the provider has one (FastSpring `reference`). */
  reference: z.string().max(200).optional(),
  /**
   * When the action takes effect, if later than `occurredAt`: a subscription cancelled "at the
   * end of the period" is a `revoke` effective then; until then its licenses stay valid.
   */
  effectiveAt: z.string().optional(),
  /**
   * A revoke that a later `reinstate` may undo (a payment dispute that can still be won).
   * Ordinary revocations are final.
   */
  reversible: z.boolean().optional(),
  /**
   * License ids whose lookup items the ingress already wrote (it predicts a grant's licenses,
   * which are derived); the worker writes only the ones missing from this list.
   */
  indexed: z.array(z.string().max(64)).max(200).optional(),
  /** Manual operations (CLI): the license ids the action is limited to. */
  targets: z.array(z.string().max(64)).max(1000).optional(),
  /** Manual operations (CLI): with `record`, email the customer their active licenses again. */
  resendEmail: z.boolean().optional(),
  /** false for provider test orders. */
  live: z.boolean(),
  customer: z.object({
    email: z.string().max(320),
    name: z.string().max(300).optional(),
    company: z.string().max(300).optional(),
    locale: z.string().max(35).optional(),
  }),
  items: z
    .array(
      z.object({
        productId: z.string().min(1).max(300),
        sku: z.string().max(300).optional(),
        quantity: z.number().int().min(0).max(10_000),
        /** Display name the provider gave the item, when it gave one. */
        name: z.string().max(300).optional(),
      }),
    )
    .max(200),
  subscription: z
    .object({
      id: z.string().min(1).max(200),
      periodEnd: z.string().optional(),
    })
    .optional(),
});

/** The canonical event every provider is normalized into (DESIGN.md §2). */
export type FulfillmentEvent = z.infer<typeof fulfillmentEventSchema>;

/** The FIFO message group: all events of one entitlement are applied in order. */
export function messageGroupId(event: Pick<FulfillmentEvent, 'provider' | 'scope'>): string {
  return sqsSafeId(`${event.provider}#${event.scope}`);
}

/** The FIFO deduplication id: the same provider event enqueued twice is dropped by SQS. */
export function deduplicationId(event: Pick<FulfillmentEvent, 'provider' | 'eventId'>): string {
  return sqsSafeId(`${event.provider}#${event.eventId}`);
}

/**
 * SQS accepts up to 128 printable ASCII characters in group and deduplication ids. Provider ids
 * usually fit; anything else is replaced by a stable hash so it still groups and dedupes.
 */
function sqsSafeId(id: string): string {
  if (id.length <= 128 && /^[\x21-\x7e]+$/.test(id)) return id;
  return `sha256:${createHash('sha256').update(id).digest('base64url')}`;
}
