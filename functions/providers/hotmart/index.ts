import type { Provider } from '../../ingress/types';
import { parseJson, parseWith } from '../shared/json';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { dataProblem, type HotmartDelivery, normalizeDelivery, TEST_PRODUCT_ID } from './normalize';
import { envelopeSchema } from './schema';
import { type VerifiedHotmart, verifyHotmart, withoutHottok } from './verify';

/**
 * Hotmart webhook (postback) 2.0 (README §5), `POST /webhooks/hotmart`.
 *
 * verify  X-HOTMART-HOTTOK (or, without the header, the body's `hottok`) equals the account's
 *         hottok, constant time                                                    → ./verify.ts
 * parse   the v2 envelope `{id, creation_date, event, version, data}`               → ./schema.ts
 * map     purchase → grant / extend, refund and chargeback → revoke, plan switch → change,
 *         everything else recorded                                                 → ./normalize.ts
 * answer  200 once the event is in SQS (503 otherwise, so Hotmart retries).
 *
 * Hotmart switches a webhook configuration off when its URL keeps failing, so every verified
 * delivery with a readable envelope gets 200 — an unknown event type is recorded, a known one
 * whose data lacks what its action needs is recorded too (the 200 body says why, and Hotmart's
 * History tab shows it). Only a body that is not a v2 envelope at all (not JSON, no id or
 * event) gets 400.
 */
export const hotmart: Provider<VerifiedHotmart, HotmartDelivery> = {
  name: 'hotmart',
  // A purchase payload is a few KB; anything near this is not from Hotmart.
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: verifyHotmart,
  // The body's hottok is the account's credential: the delivery log keeps the body for 30 days.
  // Replay never needs it (it enqueues; nothing re-verifies a logged delivery).
  logPayload: withoutHottok,

  parse(verified) {
    const envelope = verified.document === undefined ? parseJson(verified.body, envelopeSchema) : parseWith(envelopeSchema, verified.document);
    const problem = dataProblem(envelope);
    return problem ? { envelope, problem } : { envelope };
  },

  normalize(delivery, request, ctx) {
    const event = normalizeDelivery(delivery, request, ctx.catalog);
    return event ? [event] : [];
  },

  answer({ events, failed }, delivery) {
    if (failed.length > 0) return { status: 503, body: 'the event could not be queued, please retry\n' };
    if (events.length === 0) {
      return { status: 200, body: `OK: Hotmart test event (product ${TEST_PRODUCT_ID}) ignored; set "hotmartAcceptTestProduct": true in the keysmith config to process test events\n` };
    }
    if (delivery.problem) return { status: 200, body: `OK: ${delivery.envelope.event} recorded only, no license changed (${delivery.problem})\n` };
    return { status: 200, body: 'OK\n' };
  },
};
