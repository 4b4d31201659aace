import { canonicalEvent, InvalidEvent } from '../../domain/canonicalEvent';
import type { FulfillmentEvent } from '../../domain/events';
import { type Provider, WebhookRejection } from '../../ingress/types';
import { parseJson, parseWith } from '../shared/json';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { normalizeEvent } from './normalize';
import { envelopeSchema, eventSchema, type FastSpringEvent } from './schema';
import { verifyFastSpring } from './verify';

/**
 * FastSpring (https://developer.fastspring.com/docs/webhooks-overview).
 *
 * verify  X-FS-Signature = base64(HMAC-SHA256(secret, raw body)), constant time   → ./verify.ts
 * parse   {"events":[…]}; each event checked on its own                          → ./schema.ts
 * map     order.completed → grant; other types → record                         → ./normalize.ts
 * answer  200 when every event is in SQS; else 202 with the enqueued ids, one per line, so
 *         FastSpring retries only the others; 503 when none could be enqueued.
 */

interface Parsed {
  events: FulfillmentEvent[];
  /** Event ids whose content we could not read; left unacknowledged so they show as failed. */
  rejected: { id: string; problem: string }[];
  /** FastSpring's own id of each event whose canonical id differs (hashed: see eventBounds.ts). */
  sourceIds: Map<string, string>;
}

export const fastspring: Provider<Buffer, Parsed> = {
  name: 'fastspring',
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: verifyFastSpring,

  parse(body, request) {
    const envelope = parseJson(body, envelopeSchema);
    const parsed: Parsed = { events: [], rejected: [], sourceIds: new Map() };
    envelope.events.forEach((raw, index) => {
      let event: FastSpringEvent | undefined;
      try {
        event = parseWith(eventSchema, raw);
        // Made canonical here, event by event, so one event the worker could not take is left
        // unacknowledged on its own instead of failing the whole delivery (the pipeline's own
        // pass over the result is then a no-op).
        const canonical = canonicalEvent(normalizeEvent(event, request));
        if (canonical.eventId !== event.id) parsed.sourceIds.set(canonical.eventId, event.id);
        parsed.events.push(canonical);
      } catch (error) {
        if (!(error instanceof WebhookRejection) && !(error instanceof InvalidEvent)) throw error;
        parsed.rejected.push({ id: event?.id ?? `#${index}`, problem: error.message });
      }
    });
    if (parsed.events.length === 0) {
      const first = parsed.rejected[0]!;
      throw new WebhookRejection('MALFORMED', `event ${first.id}: ${first.problem}`);
    }
    return parsed;
  },

  normalize: (parsed) => parsed.events,

  answer({ accepted, failed }, parsed) {
    if (accepted.length === 0) return { status: 503, body: 'events could not be queued, please retry\n' };
    if (failed.length === 0 && parsed.rejected.length === 0) return { status: 200, body: '' };
    return { status: 202, body: `${accepted.map((e) => parsed.sourceIds.get(e.eventId) ?? e.eventId).join('\n')}\n` };
  },
};
