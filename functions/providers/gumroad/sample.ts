import { createHash, randomBytes } from 'node:crypto';
import { SAMPLE_EMAIL, type SampleBuilder } from '../sample';
import cancellation from './fixtures/cancellation.json';
import sale from './fixtures/sale.json';
import { eventIdOf } from './normalize';
import { readPing } from './schema';

/**
 * Gumroad samples: form-encoded pings as Gumroad sends them, to `/webhooks/gumroad/<secret>`.
 * Gumroad signs nothing; the URL secret is the authentication.
 *
 * Events: `ping` (the legacy Ping of a sale), the resources `sale`, `refund`, `dispute`,
 * `dispute_won` (of a one-time sale), `sale:membership` (a membership's first sale),
 * `sale:recurring_charge` (a renewal of it) and the subscription resources `cancellation`,
 * `subscription_updated`, `subscription_restarted`, `subscription_ended`. `--order` is the
 * `sale_id`; a membership's subscription id is derived from it, so
 * `send sale:membership --order X` then `send cancellation --order X` cancel what X started.
 * Samples are live sales (a `test=true` ping is kept away from email, see ./normalize.ts).
 * `--file` takes a form body, or a JSON object, which is sent as a JSON ping.
 */

const EVENTS = [
  'ping',
  'sale',
  'refund',
  'dispute',
  'dispute_won',
  'sale:membership',
  'sale:recurring_charge',
  'cancellation',
  'subscription_updated',
  'subscription_restarted',
  'subscription_ended',
] as const;

const YEAR_MS = 365 * 86_400_000;

// biome-ignore lint/suspicious/noExplicitAny: fixture documents are edited field by field; their types are the fixtures'
type Json = Record<string, any>;

export const gumroadSample: SampleBuilder = {
  events: EVENTS,
  refundEvent: 'refund',
  soakOrderId: (n, run) => `KS${run}${String(n).padStart(8, '0')}==`,
  build({ secrets, event = 'ping', file, email = SAMPLE_EMAIL, orderId }) {
    const secret = secrets.KEYSMITH_GUMROAD_PATH_SECRET;
    if (!secret) throw new Error('KEYSMITH_GUMROAD_PATH_SECRET is not set: cannot build the Gumroad webhook URL');
    let body: Buffer;
    let order: string;
    let contentType = 'application/x-www-form-urlencoded';
    if (file) {
      // A JSON object is sent as a JSON ping (a resource subscription can ask for JSON); anything
      // else as the form body it is.
      body = file;
      const text = file.toString('utf8');
      let fields: Json;
      if (text.trimStart().startsWith('{')) {
        contentType = 'application/json';
        fields = JSON.parse(text) as Json;
      } else {
        fields = Object.fromEntries(new URLSearchParams(text));
      }
      order = String(fields.sale_id ?? fields.subscription_id ?? '');
    } else {
      order = orderId ?? randomBytes(16).toString('base64');
      const fields = sampleFields(event, order, email, new Date());
      body = Buffer.from(encodeRails(fields));
    }
    // The ingress's own reading of the ping names the event (subscription pings end in a digest).
    const eventId = eventIdOf(readPing(body, contentType));
    return {
      method: 'POST',
      path: `/webhooks/gumroad/${encodeURIComponent(secret)}`,
      headers: { 'content-type': contentType },
      body,
      orderId: order,
      eventIds: eventId === undefined ? [] : [eventId],
      testFlag: false,
    };
  },
};

/** The sample subscription id of a sale id. */
export function sampleSubscriptionId(saleId: string): string {
  return `${createHash('sha256').update(`keysmith-sample-subscription:${saleId}`).digest('base64').slice(0, 22)}==`;
}

function sampleFields(event: string, order: string, email: string, now: Date): Json {
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const [kind, variant] = event.split(':') as [string, string?];
  if (['cancellation', 'subscription_updated', 'subscription_restarted', 'subscription_ended'].includes(kind)) {
    const { _source: _ignored, ...template } = structuredClone(cancellation) as Json;
    const periodEnd = new Date(now.getTime() + YEAR_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const base: Json = { ...template, subscription_id: sampleSubscriptionId(order), user_email: email, purchase_ids: [order], resource_name: kind };
    if (kind === 'cancellation') return { ...base, cancelled_at: periodEnd };
    const { cancelled: _c, cancelled_at: _a, cancelled_by_buyer: _b, ...rest } = base;
    if (kind === 'subscription_ended') return { ...rest, ended_at: at, ended_reason: 'cancelled' };
    if (kind === 'subscription_updated') return { ...rest, type: 'upgrade', effective_as_of: at, old_plan: { tier: 'Pro', recurrence: 'monthly' }, new_plan: { tier: 'Pro', recurrence: 'yearly' } };
    return { ...rest, charge_occurrence_count: '2' };
  }
  const { _source: _ignored, ...template } = structuredClone(sale) as Json;
  const fields: Json = { ...template, sale_id: order, sale_timestamp: at, email, order_number: String(Number.parseInt(createHash('sha256').update(order).digest('hex').slice(0, 8), 16)) };
  if (variant === 'membership' || variant === 'recurring_charge') {
    Object.assign(fields, { subscription_id: sampleSubscriptionId(order), recurrence: 'yearly' });
    if (variant === 'recurring_charge') Object.assign(fields, { sale_id: `${order}-r${now.getTime()}`, is_recurring_charge: 'true' });
  }
  if (kind === 'refund') fields.refunded = 'true';
  if (kind === 'dispute') fields.disputed = 'true';
  if (kind === 'dispute_won') Object.assign(fields, { disputed: 'true', dispute_won: 'true' });
  if (kind !== 'ping') fields.resource_name = kind;
  return fields;
}

/** Form-encode like Rails/HTTParty: `card[visual]=…`, `purchase_ids[]=…`. */
export function encodeRails(fields: Json): string {
  const params = new URLSearchParams();
  const add = (name: string, value: unknown): void => {
    if (Array.isArray(value)) for (const entry of value) add(`${name}[]`, entry);
    else if (value !== null && typeof value === 'object') for (const [key, entry] of Object.entries(value)) add(`${name}[${key}]`, entry);
    else params.append(name, String(value ?? ''));
  };
  for (const [name, value] of Object.entries(fields)) add(name, value);
  return params.toString();
}
