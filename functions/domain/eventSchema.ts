import * as z from 'zod/mini';
import { ACTIONS, PROVIDERS } from './events';
import './zodLocale';

/** A string of `min`..`max` characters. */
const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));

/**
 * The event as it travels through the queue (`FulfillmentEvent`, ./events.ts), validated by the
 * worker and the CLI. zod/mini, like every schema keysmith ships in a Lambda.
 */
export const fulfillmentEventSchema = z.object({
  provider: z.enum(PROVIDERS),
  /** The provider's unique id; if it has none, a hash of the verified payload. */
  eventId: text(1, 512),
  occurredAt: z.string().check(z.minLength(1)),
  action: z.enum(ACTIONS),
  /** The provider's own event name, e.g. "order.completed". */
  reason: text(1, 200),
  /**
   * A second dedupe key for providers whose manual resends carry new event ids
   * (FastSpring: order id + event type).
   */
  businessKey: z.optional(text(1, 512)),
  /** Entitlement scope: order id or subscription id. Also the FIFO message group. */
  scope: text(1, 200),
  /** The provider's order id when it differs from the scope (subscriptions). */
  orderId: z.optional(z.string().check(z.maxLength(200))),
  /** A customer-facing order reference, when the provider has one (FastSpring `reference`). */
  reference: z.optional(z.string().check(z.maxLength(200))),
  /**
   * When the action takes effect, if later than `occurredAt`: a subscription cancelled "at the
   * end of the period" is a `revoke` effective then; until then its licenses stay valid.
   */
  effectiveAt: z.optional(z.string()),
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
  indexed: z.optional(z.array(z.string().check(z.maxLength(64))).check(z.maxLength(200))),
  /** Manual operations (CLI): the license ids the action is limited to. */
  targets: z.optional(z.array(z.string().check(z.maxLength(64))).check(z.maxLength(1000))),
  /** Manual operations (CLI): with `record`, email the customer their active licenses again. */
  resendEmail: z.optional(z.boolean()),
  /** false for provider test orders. */
  live: z.boolean(),
  customer: z.object({
    email: z.string().check(z.maxLength(320)),
    name: z.optional(z.string().check(z.maxLength(300))),
    company: z.optional(z.string().check(z.maxLength(300))),
    locale: z.optional(z.string().check(z.maxLength(35))),
  }),
  items: z
    .array(
      z.object({
        productId: text(1, 300),
        sku: z.optional(z.string().check(z.maxLength(300))),
        quantity: z.number().check(z.int(), z.minimum(0), z.maximum(10_000)),
        /** Display name the provider gave the item, when it gave one. */
        name: z.optional(z.string().check(z.maxLength(300))),
      }),
    )
    .check(z.maxLength(200)),
  subscription: z.optional(
    z.object({
      id: text(1, 200),
      periodEnd: z.optional(z.string()),
    }),
  ),
});
