import type { Provider } from '../../ingress/types';
import { parseJson } from '../shared/json';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { MAPPED_TYPES, normalizeLemonSqueezy } from './normalize';
import { envelopeSchema, type LemonSqueezyEnvelope } from './schema';
import { verifyLemonSqueezy } from './verify';

/**
 * Lemon Squeezy (docs.lemonsqueezy.com/help/webhooks), `POST /webhooks/lemonsqueezy`.
 *
 * verify  X-Signature = hex(HMAC-SHA256(signing secret, raw body)), constant time → ./verify.ts
 * parse   the JSON:API envelope `{meta: {event_name, test_mode}, data}`              → ./schema.ts
 * map     order_created → grant, order_refunded → revoke, subscription_* onto the holds
 *         (cancelled → period end, paused → suspended, expired → revoked)         → ./normalize.ts
 * answer  200 once the event is in SQS; 503 otherwise (Lemon Squeezy retries up to three
 *         times with exponential backoff).
 *
 * The event name is read from the signed body (`meta.event_name`); the `X-Event-Name` header
 * says the same thing but is not covered by the signature, so it is not used.
 */
export const lemonsqueezy: Provider<Buffer, LemonSqueezyEnvelope> = {
  name: 'lemonsqueezy',
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: verifyLemonSqueezy,

  parse: (body) => parseJson(body, envelopeSchema),

  normalize(envelope, request, ctx) {
    const event = normalizeLemonSqueezy(envelope, request, ctx.catalog);
    return event ? [event] : [];
  },

  answer({ events, failed }, envelope) {
    if (failed.length > 0) return { status: 503, body: 'the event could not be queued, please retry\n' };
    if (events.length === 0) {
      return { status: 200, body: `OK: "${envelope.data.type.slice(0, 100)}" events are ignored; keysmith handles ${MAPPED_TYPES.join(', ')}\n` };
    }
    return { status: 200, body: 'OK\n' };
  },
};
