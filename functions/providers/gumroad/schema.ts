import * as z from 'zod/mini';
import '../../domain/zodLocale';
import { WebhookRejection } from '../../ingress/types';

/**
 * Gumroad pings (antiwork/gumroad `Purchase::PingNotification`, `Subscription::PingNotification`,
 * `PostToIndividualPingEndpointWorker`). A ping is `application/x-www-form-urlencoded` by default
 * and JSON when the seller (or Zapier) chose it; both are read into the same flat field map.
 *
 * - Flat fields are what keysmith reads. Nested ones (`card[visual]`, `url_params[…]`,
 *   `custom_fields[…]`, `purchase_ids[]`) are skipped, except `variants[…]`, which names the
 *   option the customer bought.
 * - Values are strings as in the form: JSON booleans and numbers become "true"/"42".
 * - `retry_count` is added by Gumroad to a retried ping; it is kept out of the event identity.
 */

export interface GumroadPing {
  fields: Record<string, string>;
  /** `variants[Tier]=Pro` → `{ Tier: 'Pro' }`. */
  variants: Record<string, string>;
}

const MAX_FIELDS = 500;

export function readPing(body: Buffer, contentType: string | undefined): GumroadPing {
  const json = (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
  const ping: GumroadPing = { fields: Object.create(null), variants: Object.create(null) };
  let count = 0;
  const add = (name: string, value: string) => {
    if (++count > MAX_FIELDS) throw new WebhookRejection('MALFORMED', `more than ${MAX_FIELDS} fields`);
    const variant = /^variants\[(.+)\]$/.exec(name);
    if (variant) ping.variants[variant[1]!] = value;
    else if (!name.includes('[')) ping.fields[name] = value;
  };
  if (json) {
    let document: unknown;
    try {
      document = JSON.parse(body.toString('utf8'));
    } catch {
      throw new WebhookRejection('MALFORMED', 'body is not valid JSON');
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new WebhookRejection('MALFORMED', 'body: must be a JSON object');
    for (const [name, value] of Object.entries(document)) {
      if (name === 'variants' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const [option, choice] of Object.entries(value)) if (isScalar(choice)) add(`variants[${option}]`, String(choice));
      } else if (isScalar(value)) add(name, String(value));
    }
  } else {
    // The form reader refuses a repeated flat name; repeated list entries (`purchase_ids[]`) are
    // how Gumroad encodes arrays, so bracketed names are allowed to repeat.
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
      if (!name.includes('[') && Object.hasOwn(ping.fields, name)) throw new WebhookRejection('MALFORMED', `field "${printable(name)}" occurs more than once`);
      add(name, value);
    }
  }
  return ping;
}

/** A field name fit for an error message: short, no control characters. */
function printable(name: string): string {
  const clean = name.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

const id = () => z.string().check(z.trim(), z.minLength(1), z.maxLength(200));
const flag = () => z.optional(z.string());
const units = z.optional(z.string().check(z.trim(), z.regex(/^\d{1,5}$/, 'must be a whole number of units')));

/** The resource names Gumroad subscribes to (`ResourceSubscription::VALID_RESOURCE_NAMES`). */
export const SALE_RESOURCES = ['sale', 'refund', 'dispute', 'dispute_won'] as const;
export const SUBSCRIPTION_RESOURCES = ['cancellation', 'subscription_ended', 'subscription_restarted', 'subscription_updated'] as const;

/** A purchase ping: the legacy Ping and the sale, refund, dispute and dispute_won resources. */
export const saleSchema = z.looseObject({
  sale_id: id(),
  product_id: id(),
  short_product_id: z.optional(z.string()),
  product_name: z.optional(z.string()),
  email: z.optional(z.string()),
  full_name: z.optional(z.string()),
  quantity: units,
  sale_timestamp: z.optional(z.string()),
  subscription_id: z.optional(z.string()),
  recurrence: z.optional(z.string()),
  is_recurring_charge: flag(),
  refunded: flag(),
  disputed: flag(),
  dispute_won: flag(),
  test: flag(),
});
export type GumroadSale = z.infer<typeof saleSchema>;

/** A subscription ping: cancellation, subscription_ended, _restarted, _updated. */
export const subscriptionSchema = z.looseObject({
  subscription_id: id(),
  product_id: z.optional(z.string()),
  product_name: z.optional(z.string()),
  user_email: z.optional(z.string()),
  cancelled_at: z.optional(z.string()),
  ended_at: z.optional(z.string()),
  recurrence: z.optional(z.string()),
});
export type GumroadSubscription = z.infer<typeof subscriptionSchema>;
