import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { matchesAnySecret } from './crypto';

/** A path secret shorter than this is not used at all. */
export const MIN_PATH_SECRET_LENGTH = 32;

/**
 * For storefronts that sign nothing (Selldone, Gumroad): the webhook URL carries an unguessable
 * secret, `{route}/{secret}`, compared in constant time with the configured value and, during a
 * rotation, `…_PREVIOUS`, before a byte of the body is read. A configured value shorter than
 * MIN_PATH_SECRET_LENGTH characters is not used. Messages never contain the secret — neither the
 * configured one nor the one in the URL.
 */
export function verifyPathSecret(request: WebhookRequest, ctx: ProviderContext, name: `KEYSMITH_${string}`, route: string): Buffer {
  const configured = ctx.secrets.candidates(name);
  const usable = configured.filter((s) => s.length >= MIN_PATH_SECRET_LENGTH);
  const tooShort = configured.length > usable.length;
  if (usable.length === 0) {
    throw new WebhookRejection(
      'NOT_CONFIGURED',
      tooShort ? `${name} is shorter than ${MIN_PATH_SECRET_LENGTH} characters and is not used; set a longer random value` : `${name} is not set; no request can be verified`,
    );
  }
  const given = request.pathParameters.secret;
  if (!given) throw new WebhookRejection('UNAUTHORIZED', `the webhook URL has no secret; use ${route}/<secret>`);
  if (!matchesAnySecret(given, usable)) {
    const note = tooShort ? ` (a configured value shorter than ${MIN_PATH_SECRET_LENGTH} characters is ignored)` : '';
    throw new WebhookRejection('UNAUTHORIZED', `the secret in the webhook URL does not match${note}`);
  }
  return request.body;
}
