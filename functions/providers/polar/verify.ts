import { createHmac } from 'node:crypto';
import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { constantTimeEqual } from '../shared/crypto';
import { POLAR_TOLERANCE_SECONDS } from './constants';

export { POLAR_TOLERANCE_SECONDS };

/**
 * Polar sends Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (unix
 * seconds) and `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` over
 * `"{id}.{timestamp}.{raw body}"`.
 *
 * The key: Polar shows its endpoint secret (`whsec_…`, older endpoints `polar_whs_…`) and signs
 * with the UTF-8 bytes of that whole string. Its server and its SDK both base64-encode the shown
 * secret before handing it to the `standardwebhooks` library, which decodes it right back
 * (polarsource/polar `server/polar/webhook/tasks.py`, polarsource/polar-js `src/webhooks.ts`).
 * So the `whsec_` here is *not* the Standard Webhooks prefix of a base64 key: it is part of the
 * key, and `KEYSMITH_POLAR_WEBHOOK_SECRET` is the value exactly as Polar shows it.
 *
 * Order of checks: the headers, then the timestamp (±300 s of when the request arrived: a stale
 * or future-dated request is refused before any HMAC), then every `v1` signature against every
 * configured secret (the current one and, during a rotation, `…_PREVIOUS`), in constant time.
 * Other signature versions (`v1a` asymmetric) are skipped, as the reference library does.
 */
/** What verification established: the signed body and the event id it was signed with. */
export interface VerifiedPolar {
  body: Buffer;
  /** `webhook-id`: Polar's id of the event, covered by the signature. */
  webhookId: string;
}

export function verifyPolar(request: WebhookRequest, ctx: ProviderContext): VerifiedPolar {
  const secrets = ctx.secrets.candidates('KEYSMITH_POLAR_WEBHOOK_SECRET');
  if (secrets.length === 0) throw new WebhookRejection('NOT_CONFIGURED', 'KEYSMITH_POLAR_WEBHOOK_SECRET is not set; no request can be verified');
  const id = request.headers['webhook-id']?.trim();
  const timestamp = request.headers['webhook-timestamp']?.trim();
  const signature = request.headers['webhook-signature']?.trim();
  if (!id || !timestamp || !signature) throw new WebhookRejection('UNAUTHORIZED', 'missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookRejection('UNAUTHORIZED', 'webhook-timestamp is not a unix time in seconds');
  const skew = Math.floor(request.receivedAt.getTime() / 1000) - Number(timestamp);
  if (Math.abs(skew) > POLAR_TOLERANCE_SECONDS) {
    throw new WebhookRejection('UNAUTHORIZED', `webhook-timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'} (tolerance ${POLAR_TOLERANCE_SECONDS} s); a stale request is refused`);
  }
  const given = signature
    .split(' ')
    .map((entry) => entry.split(','))
    .filter(([version, value]) => version === 'v1' && value !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(value))
    .map(([, value]) => Buffer.from(value!, 'base64'));
  if (given.length === 0) throw new WebhookRejection('UNAUTHORIZED', 'webhook-signature has no v1 signature');
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${id}.${timestamp}.`).update(request.body).digest();
    for (const candidate of given) valid = constantTimeEqual(candidate, expected) || valid;
  }
  if (!valid) throw new WebhookRejection('UNAUTHORIZED', 'webhook-signature does not match the body');
  return { body: request.body, webhookId: id };
}
