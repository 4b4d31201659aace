import type { Provider } from '../../ingress/types';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { normalizeGumroad } from './normalize';
import { type GumroadPing, readPing } from './schema';
import { verifyGumroad } from './verify';

/**
 * Gumroad Ping and resource subscriptions (gumroad.com/ping), `POST /webhooks/gumroad/{secret}`.
 *
 * verify  the `{secret}` path segment equals KEYSMITH_GUMROAD_PATH_SECRET (≥ 32 characters),
 *         constant time, before the body is read                                  → ./verify.ts
 * parse   form fields (or JSON) into one flat field map                            → ./schema.ts
 * map     sale → grant (recurring charge → extend), refund → revoke, dispute → disputed hold,
 *         dispute_won → lift it, cancellation → period end, subscription_ended → revoke,
 *         subscription_restarted → reinstate                                      → ./normalize.ts
 * answer  200 once the event is in SQS; 503 otherwise (Gumroad retries 499/500/502–504 after
 *         1, 3, 10 and 60 minutes; nothing else is retried).
 */
export const gumroad: Provider<Buffer, GumroadPing> = {
  name: 'gumroad',
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: verifyGumroad,

  parse: (body, request) => readPing(body, request.headers['content-type']),

  normalize(ping, request, ctx) {
    const event = normalizeGumroad(ping, request, ctx.catalog);
    return event ? [event] : [];
  },

  answer({ events, failed }, ping) {
    if (failed.length > 0) return { status: 503, body: 'the event could not be queued, please retry\n' };
    if (events.length === 0) return { status: 200, body: `OK: resource "${String(ping.fields.resource_name).slice(0, 100)}" is ignored\n` };
    return { status: 200, body: 'OK\n' };
  },
};
