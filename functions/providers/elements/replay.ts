import { decodeJwt, decodeProtectedHeader } from 'jose';
import { WebhookRejection } from '../../ingress/types';
import { parseJson } from '../shared/json';
import type { ReplayRebuild } from '../types';
import { eventIdFor } from './normalize';
import { envelopeSchema } from './schema';

/**
 * `keysmith replay`: what `verify` returned for a logged Marketplace Elements delivery. The token
 * was verified when it arrived; the offer id came from the URL, which is not logged, so it is the
 * offer of `KEYSMITH_ELEMENTS_OFFER_KEYS` that gives the recorded event ids.
 */
export const rebuildVerified: ReplayRebuild = (request, ctx, recordedEventIds) => {
  const { payload: token } = parseJson(request.body, envelopeSchema);
  const payloadSegment = token.split('.')[1] ?? '';
  const claims = decodeJwt(token);
  const jti = typeof claims.jti === 'string' && claims.jti.trim() ? claims.jti.trim() : undefined;
  const offers = Object.keys(jsonObject(ctx.secrets.get('KEYSMITH_ELEMENTS_OFFER_KEYS')));
  const offerId = offers.find((offer) => recordedEventIds.has(eventIdFor(offer, payloadSegment, jti)));
  if (!offerId)
    throw new WebhookRejection('NOT_CONFIGURED', 'cannot tell which Marketplace Elements offer this delivery was for: no offer in KEYSMITH_ELEMENTS_OFFER_KEYS gives its recorded event id');
  return { offerId, alg: decodeProtectedHeader(token).alg ?? '', payloadSegment, claims };
};

function jsonObject(text: string | undefined): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text ?? '{}') as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
