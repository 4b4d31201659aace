import type { Provider, ProviderContext } from '../../ingress/types';
import { parseJson } from '../shared/json';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { type CustomerLookup, lookupCustomer } from './customer';
import { PADDLE_BILLING_SECRETS, PROVIDER } from './names';
import { customDataContact, HANDLED_TYPES, type NormalizeInput, normalizeNotification } from './normalize';
import { envelopeSchema } from './schema';
import { type VerifiedPaddleBilling, verifyPaddleBilling } from './verify';

/**
 * Paddle Billing (https://developer.paddle.com/webhooks/overview), `POST /webhooks/paddle-billing`
 * — docs/providers/paddle-billing.md. (Paddle Classic is `../paddle`.)
 *
 * verify  Paddle-Signature `ts=…;h1=…`: HMAC-SHA256 over "{ts}:{raw body}" with the destination's
 *         secret, any h1 of any configured secret, constant time; `ts` within 300 s
 *         (KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS); the sandbox secret marks test orders.
 *         Then, only for an authentic transaction.completed without an email in custom_data and
 *         only when an API key is configured, the customer's email is looked up  → ./verify.ts,
 *                                                                                    ./customer.ts
 * parse   the notification envelope `{event_id, event_type, occurred_at, data}`  → ./schema.ts
 * map     transaction.completed grants or renews, subscription.* and adjustment.* map onto the
 *         lifecycle, other types are ignored                                      → ./normalize.ts
 * answer  200 once the events are in SQS (503 otherwise: Paddle retries with backoff).
 */

export interface VerifiedWithCustomer extends VerifiedPaddleBilling {
  customer?: CustomerLookup;
}

export const paddleBilling: Provider<VerifiedWithCustomer, NormalizeInput> = {
  name: PROVIDER,
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: (request, ctx) => enrich(verifyPaddleBilling(request, ctx), ctx),

  parse: (verified) => ({ envelope: parseJson(verified.body, envelopeSchema), live: verified.live, ...(verified.customer ? { customer: verified.customer } : {}) }),

  normalize: (input, request, ctx) => normalizeNotification(input, ctx.catalog, request.receivedAt),

  answer({ events, failed }, input) {
    if (failed.length > 0) return { status: 503, body: 'the event could not be queued, please retry\n' };
    if (events.length === 0) return { status: 200, body: `OK: ${input.envelope.event_type} ignored; keysmith handles ${HANDLED_TYPES.join(', ')}\n` };
    const noEmail = events.some((e) => e.action === 'grant' && e.customer.email === '');
    if (noEmail) return { status: 200, body: `OK: licensed, but no email to send it to (${input.customer?.problem ?? 'no custom_data email and no KEYSMITH_PADDLE_BILLING_API_KEY'})\n` };
    return { status: 200, body: 'OK\n' };
  },
};

/**
 * After authentication: the customer's email for a transaction that does not name it, when an API
 * key is configured (./customer.ts). Anything else passes through untouched.
 */
export async function enrich(verified: VerifiedPaddleBilling, ctx: ProviderContext): Promise<VerifiedWithCustomer> {
  const apiKey = ctx.secrets.get(PADDLE_BILLING_SECRETS.apiKey);
  const customerId = apiKey ? customerToLookUp(verified.body) : undefined;
  if (!apiKey || !customerId) return verified;
  return { ...verified, customer: await lookupCustomer(customerId, apiKey) };
}

/**
 * The customer id of a transaction.completed whose custom_data names no email; undefined for
 * anything else (no lookup). Runs only after the signature was verified.
 */
function customerToLookUp(body: Buffer): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const envelope = json as { event_type?: unknown; data?: { customer_id?: unknown; custom_data?: unknown } };
  if (envelope?.event_type !== 'transaction.completed') return undefined;
  const customData = envelope.data?.custom_data;
  if (customDataContact(typeof customData === 'object' && customData !== null ? (customData as Record<string, unknown>) : undefined).email) return undefined;
  return typeof envelope.data?.customer_id === 'string' ? envelope.data.customer_id : undefined;
}
