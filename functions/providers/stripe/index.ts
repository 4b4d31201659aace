import type { Provider } from '../../ingress/types';
import { parseJson } from '../shared/json';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { PROVIDER } from './names';
import { HANDLED_TYPES, normalizeEvent } from './normalize';
import { envelopeSchema, type StripeEnvelope } from './schema';
import { verifyStripe } from './verify';

/**
 * Stripe (https://docs.stripe.com/webhooks), `POST /webhooks/stripe` — docs/providers/stripe.md.
 *
 * verify  Stripe-Signature `t=…,v1=…`: HMAC-SHA256 over "{t}.{raw body}" with the endpoint's
 *         `whsec_…` secret, any v1 of any configured secret, constant time; `t` within 300 s
 *         (KEYSMITH_STRIPE_TOLERANCE_SECONDS)                                       → ./verify.ts
 * parse   the event envelope `{id, type, created, livemode, data.object}`           → ./schema.ts
 * map     Checkout and invoice.paid grant or renew, refunds revoke, disputes hold, subscription
 *         changes change/cancel/suspend, other types are ignored                   → ./normalize.ts
 * answer  200 once the events are in SQS (503 otherwise: Stripe retries for up to three days).
 */
export const stripe: Provider<Buffer, StripeEnvelope> = {
  name: PROVIDER,
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: verifyStripe,

  parse: (body) => parseJson(body, envelopeSchema),

  normalize: (envelope, _request, ctx) => normalizeEvent(envelope, ctx.catalog),

  answer({ events, failed }, envelope) {
    if (failed.length > 0) return { status: 503, body: 'the event could not be queued, please retry\n' };
    if (events.length === 0) return { status: 200, body: `OK: ${envelope.type} ignored; keysmith handles ${HANDLED_TYPES.join(', ')}\n` };
    return { status: 200, body: 'OK\n' };
  },
};
