import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { constantTimeEqual, hmacSha256 } from '../shared/crypto';

/**
 * FastSpring signs each POST with `X-FS-Signature` = base64(HMAC-SHA256(secret, raw body)).
 * The header's case varies (headers arrive lower-cased here). The HMAC is computed over the exact
 * bytes received — never over re-serialized JSON — and compared in constant time. During a secret
 * rotation the previous secret (`KEYSMITH_FASTSPRING_SECRET_PREVIOUS`) is accepted too.
 */
export function verifyFastSpring(request: WebhookRequest, ctx: ProviderContext): Buffer {
  const secrets = ctx.secrets.candidates('KEYSMITH_FASTSPRING_SECRET');
  if (secrets.length === 0) throw new WebhookRejection('NOT_CONFIGURED', 'KEYSMITH_FASTSPRING_SECRET is not set; no request can be verified');
  const header = request.headers['x-fs-signature'];
  if (!header) throw new WebhookRejection('UNAUTHORIZED', 'missing X-FS-Signature header');
  const given = Buffer.from(header.trim(), 'base64');
  let valid = false;
  for (const secret of secrets) valid = constantTimeEqual(given, hmacSha256(secret, request.body)) || valid;
  if (!valid) throw new WebhookRejection('UNAUTHORIZED', 'X-FS-Signature does not match the body');
  return request.body;
}
