import type { Provider } from '../../ingress/types';
import { parseJson } from '../shared/json';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { normalizePolar, type PolarDelivery } from './normalize';
import { envelopeSchema } from './schema';
import { type VerifiedPolar, verifyPolar } from './verify';

/**
 * Polar (docs.polar.sh, Standard Webhooks), `POST /webhooks/polar`.
 *
 * verify  webhook-signature `v1,<base64 HMAC-SHA256("{id}.{ts}.{body}")>` keyed with the UTF-8
 *         bytes of the secret as Polar shows it; webhook-timestamp within ±300 s    → ./verify.ts
 * parse   `{type, timestamp, data}`                                                → ./schema.ts
 * map     order.paid → grant (renewals extend), order.refunded → revoke, subscription.canceled
 *         → period-end hold, uncanceled/active → reinstate, revoked → revoke     → ./normalize.ts
 * answer  200 once the event is in SQS; 503 otherwise (Polar retries with backoff, and disables
 *         an endpoint after repeated failures — so unknown event types get 200 too).
 */
export const polar: Provider<VerifiedPolar, PolarDelivery> = {
  name: 'polar',
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: verifyPolar,

  parse: ({ body, webhookId }) => ({ envelope: parseJson(body, envelopeSchema), webhookId }),

  normalize(delivery, request) {
    const event = normalizePolar(delivery, request);
    return event ? [event] : [];
  },

  answer({ events, failed }, { envelope }) {
    if (failed.length > 0) return { status: 503, body: 'the event could not be queued, please retry\n' };
    if (events.length === 0) return { status: 200, body: `OK: "${envelope.type.slice(0, 100)}" events are ignored; keysmith handles order.*, subscription.* and refund.*\n` };
    return { status: 200, body: 'OK\n' };
  },
};
