import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { constantTimeEqual, hmacSha256 } from '../shared/crypto';

/**
 * Lemon Squeezy signs each POST with `X-Signature` = hex(HMAC-SHA256(signing secret, raw body))
 * (docs.lemonsqueezy.com/help/webhooks/signing-requests). The HMAC is computed over the exact
 * bytes received and compared in constant time with the current secret and, during a rotation,
 * `KEYSMITH_LEMONSQUEEZY_SECRET_PREVIOUS`.
 *
 * There is no timestamp in the scheme, so nothing can be refused as stale: a replayed delivery is
 * recognized by its event identity instead (./normalize.ts) and applied once.
 */
export function verifyLemonSqueezy(request: WebhookRequest, ctx: ProviderContext): Buffer {
  const secrets = ctx.secrets.candidates('KEYSMITH_LEMONSQUEEZY_SECRET');
  if (secrets.length === 0) throw new WebhookRejection('NOT_CONFIGURED', 'KEYSMITH_LEMONSQUEEZY_SECRET is not set; no request can be verified');
  const header = request.headers['x-signature']?.trim();
  if (!header) throw new WebhookRejection('UNAUTHORIZED', 'missing X-Signature header');
  // A hex digest of SHA-256 is 64 characters; anything else cannot match (Buffer.from would
  // silently drop the non-hex tail, so check the shape first).
  if (!/^[0-9a-fA-F]{64}$/.test(header)) throw new WebhookRejection('UNAUTHORIZED', 'X-Signature is not a hex HMAC-SHA256 digest');
  const given = Buffer.from(header, 'hex');
  let valid = false;
  for (const secret of secrets) valid = constantTimeEqual(given, hmacSha256(secret, request.body)) || valid;
  if (!valid) throw new WebhookRejection('UNAUTHORIZED', 'X-Signature does not match the body');
  return request.body;
}
