import type { FulfillmentEvent } from '../../domain/events';
import type { Provider } from '../../ingress/types';
import { fulfillmentAnswer } from './answer';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { alertEvent, fulfillmentEvent } from './normalize';
import { parseAlert, parseFulfillment } from './schema';
import { type PaddleEndpoint, type VerifiedForm, verifyPaddle } from './verify';

/**
 * Paddle Classic: product fulfillment webhooks and alerts (docs/providers/paddle.md).
 *
 * routes  GET|POST /webhooks/paddle (fulfillment, the method the seller chose per product)
 *         POST /webhooks/paddle/alerts (refunds, disputes, …); dispatched on the path
 * verify  p_signature = RSA-SHA1 over PHP serialize(ksort(fields)); live or sandbox key    → ./verify.ts, ./php.ts
 * parse   form fields; fulfillment needs p_order_id, p_product_id, p_quantity             → ./form.ts, ./schema.ts
 * map     fulfillment → grant; full refund → revoke; dispute → suspend / reinstate;
 *         any other alert → record. Scope: the order id                                   → ./normalize.ts
 * answer  fulfillment: 200 with the license keys (Paddle emails them), computed with the
 *         worker's own apply(); alerts: 200, empty. 503 when the event is not in the queue. → ./answer.ts
 */

interface Parsed {
  endpoint: PaddleEndpoint;
  event: FulfillmentEvent;
}

export const paddle: Provider<VerifiedForm, Parsed> = {
  name: 'paddle',
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: (request, ctx) => verifyPaddle(request, ctx, MAX_BODY_BYTES),

  parse({ endpoint, fields, live }, request) {
    // A prototype-free record: a custom field called `constructor` is just a field.
    const record: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries(fields));
    const event = endpoint === 'alert' ? alertEvent(parseAlert(record), live, request) : fulfillmentEvent(parseFulfillment(record), live, request);
    return { endpoint, event };
  },

  normalize: (parsed) => [parsed.event],

  answer({ accepted }, parsed, ctx) {
    // Only what SQS holds is answered as done; Paddle retries anything else.
    const event = accepted[0];
    if (!event) return { status: 503, body: 'the order could not be queued, please retry\n' };
    if (parsed.endpoint === 'alert') return { status: 200, body: '' };
    return fulfillmentAnswer(event, ctx);
  },
};
