import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { matchesAnySecret } from '../shared/crypto';
import { MIN_PATH_SECRET_LENGTH } from './constants';

export { MIN_PATH_SECRET_LENGTH };

/**
 * Selldone documents no signature for OnlineOrder webhooks (README §3, §8), so the webhook URL
 * carries an unguessable secret: `/webhooks/selldone/{secret}`. It is compared in constant time
 * with `KEYSMITH_SELLDONE_PATH_SECRET` and, during a rotation, `…_PREVIOUS`, before a byte of the
 * body is read. A configured value shorter than 32 characters is not used at all.
 *
 * Messages never contain the secret — neither the configured one nor the one in the URL.
 */
export function verifySelldone(request: WebhookRequest, ctx: ProviderContext): Buffer {
  const configured = ctx.secrets.candidates('KEYSMITH_SELLDONE_PATH_SECRET');
  const usable = configured.filter((s) => s.length >= MIN_PATH_SECRET_LENGTH);
  const tooShort = configured.length > usable.length;
  if (usable.length === 0) {
    throw new WebhookRejection(
      'NOT_CONFIGURED',
      tooShort
        ? `KEYSMITH_SELLDONE_PATH_SECRET is shorter than ${MIN_PATH_SECRET_LENGTH} characters and is not used; set a longer random value`
        : 'KEYSMITH_SELLDONE_PATH_SECRET is not set; no request can be verified',
    );
  }
  const given = request.pathParameters.secret;
  if (!given) throw new WebhookRejection('UNAUTHORIZED', 'the webhook URL has no secret; use /webhooks/selldone/<secret>');
  if (!matchesAnySecret(given, usable)) {
    const note = tooShort ? ` (a configured value shorter than ${MIN_PATH_SECRET_LENGTH} characters is ignored)` : '';
    throw new WebhookRejection('UNAUTHORIZED', `the secret in the webhook URL does not match${note}`);
  }
  return request.body;
}
