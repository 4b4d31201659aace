import * as z from 'zod/mini';
import { EVENT_BOUNDS as B, utf8Bytes } from './eventBounds';
import { ACTIONS, PROVIDER_NAME_PATTERN } from './events';
import './zodLocale';

/** A string of `min`..`max` characters. */
const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));
/** A provider id: non-empty, at most `EVENT_BOUNDS.idBytes` UTF-8 bytes (longer ones are hashed by `canonicalEvent`). */
const id = () =>
  z.string().check(
    z.minLength(1),
    z.refine((s) => utf8Bytes(s) <= B.idBytes, `must be at most ${B.idBytes} UTF-8 bytes`),
  );
/** Like `id`, and possibly empty. */
const optionalId = () => z.optional(z.string().check(z.refine((s) => utf8Bytes(s) <= B.idBytes, `must be at most ${B.idBytes} UTF-8 bytes`)));
const display = () => z.optional(text(0, B.displayChars));
const time = () => text(1, B.timeChars);
const licenseIds = (max: number) => z.optional(z.array(text(0, B.licenseIdChars)).check(z.maxLength(max)));

/**
 * The event as it travels through the queue (`FulfillmentEvent`, ./events.ts). The ingress runs
 * it (through `canonicalEvent`, ./canonicalEvent.ts) before it enqueues, the worker and the CLI
 * when they read a message: one schema at both ends, its bounds in ./eventBounds.ts.
 * zod/mini, like every schema keysmith ships in a Lambda.
 */
export const fulfillmentEventSchema = z.object({
  provider: z.string().check(z.regex(PROVIDER_NAME_PATTERN)),
  /** The provider's unique id; if it has none, a hash of the verified payload. */
  eventId: id(),
  occurredAt: time(),
  action: z.enum(ACTIONS),
  /** The provider's own event name, e.g. "order.completed". */
  reason: text(1, B.displayChars),
  /**
   * A second dedupe key for providers whose manual resends carry new event ids
   * (FastSpring: order id + event type).
   */
  businessKey: z.optional(id()),
  /** Entitlement scope: order id or subscription id. Also the FIFO message group. */
  scope: id(),
  /** The provider's order id when it differs from the scope (subscriptions). */
  orderId: optionalId(),
  /** A customer-facing order reference, when the provider has one (FastSpring `reference`). */
  reference: optionalId(),
  /**
   * When the action takes effect, if later than `occurredAt`: a subscription cancelled "at the
   * end of the period" is a `revoke` effective then; until then its licenses stay valid.
   */
  effectiveAt: z.optional(time()),
  /**
   * A revoke that a later `reinstate` may undo (a payment dispute that can still be won).
   * Ordinary revocations are final.
   */
  reversible: z.optional(z.boolean()),
  /**
   * Which hold a revoke sets or a reinstate lifts, where the action alone does not say: `disputed`
   * for a dispute opened (revoke) or closed in the seller's favour (reinstate). See holds.ts.
   */
  hold: z.optional(z.enum(['disputed'])),
  /** `seller` for keysmith's own operations (CLI, console); absent for a storefront's events. */
  by: z.optional(z.enum(['seller'])),
  /**
   * License ids whose lookup items the ingress already wrote (it predicts a grant's licenses,
   * which are derived); the worker writes only the ones missing from this list.
   */
  indexed: licenseIds(B.indexed),
  /** Manual operations (CLI): the license ids the action is limited to. */
  targets: licenseIds(B.targets),
  /** Manual operations (CLI): with `record`, email the customer their active licenses again. */
  resendEmail: z.optional(z.boolean()),
  /**
   * A seller's grant (`keysmith grant`, provider `manual`): one license with these seats and, if
   * given, this many days to run — instead of the product policy's. Ignored on any other event.
   */
  terms: z.optional(
    z.object({
      seats: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(B.quantity))),
      days: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(36_500))),
    }),
  ),
  /**
   * Other ids this event's order was paid under (Stripe: an invoice's payment intent, and the
   * invoice of a subscription). The worker links each to the order, so a later refund or dispute
   * that names only the payment finds it (`followLinks`).
   */
  links: z.optional(z.array(id()).check(z.maxLength(B.links))),
  /**
   * The scope may be such a payment id: the worker follows the links to the order (two at most:
   * payment → invoice → subscription), and stays on the scope where there is none.
   */
  followLinks: z.optional(z.boolean()),
  /** The ingress already wrote this event's `links` (with the delivery log); the worker need not. */
  linked: z.optional(z.boolean()),
  /** false for provider test orders. */
  live: z.boolean(),
  customer: z.object({
    /** Kept whole (never shortened); "" when there is none. Over 320 characters it cannot be mailed. */
    email: z.string().check(z.refine((s) => utf8Bytes(s) <= B.emailBytes, `must be at most ${B.emailBytes} UTF-8 bytes`)),
    name: display(),
    company: display(),
    locale: z.optional(text(0, B.localeChars)),
  }),
  items: z
    .array(
      z.object({
        productId: id(),
        sku: optionalId(),
        quantity: z.number().check(z.int(), z.minimum(0), z.maximum(B.quantity)),
        /** Display name the provider gave the item, when it gave one. */
        name: display(),
      }),
    )
    .check(z.maxLength(B.items)),
  subscription: z.optional(
    z.object({
      id: id(),
      periodEnd: z.optional(time()),
    }),
  ),
});
