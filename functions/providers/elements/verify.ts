import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { parseJson } from '../shared/json';
import { type OfferKey, offerKeyTable } from './keys';
import { envelopeSchema } from './schema';

/**
 * Marketplace Elements signs each request's JWT "with a Private Key specific for your offer";
 * the seller copies the Offer Public Key into `KEYSMITH_ELEMENTS_OFFER_KEYS` under the offer id
 * that also ends the webhook URL (`/webhooks/elements/{offerId}`). So the URL picks the key,
 * the key's type picks the algorithms (./keys.ts), and the token's header picks nothing.
 *
 * Order: configuration (401 NOT_CONFIGURED) → the envelope, the one thing read before
 * verification because the token is inside it (400) → the offer's key (401) → jose's
 * `jwtVerify` with pinned algorithms, `exp`/`nbf` honored with 60 s of clock skew (401).
 * Claims are returned only from a verified token; nothing in them is trusted before.
 */

export interface VerifiedToken {
  /** The offer named by the URL, whose key verified the token. */
  offerId: string;
  /** The verified token's algorithm. */
  alg: string;
  /** The token's payload segment (base64url) exactly as signed: the basis of the event id. */
  payloadSegment: string;
  /** The verified claims set, not yet schema-checked. */
  claims: JWTPayload;
}

/** Allowed clock difference for `exp` and `nbf`, in seconds. */
export const CLOCK_TOLERANCE_S = 60;

export async function verifyElements(request: WebhookRequest, ctx: ProviderContext): Promise<VerifiedToken> {
  const raw = ctx.secrets.get('KEYSMITH_ELEMENTS_OFFER_KEYS');
  if (!raw) throw new WebhookRejection('NOT_CONFIGURED', 'KEYSMITH_ELEMENTS_OFFER_KEYS is not set; no request can be verified');
  const table = offerKeyTable(raw);
  if ('problem' in table) throw new WebhookRejection('NOT_CONFIGURED', `KEYSMITH_ELEMENTS_OFFER_KEYS ${table.problem}`);

  const offerId = request.pathParameters.offerId;
  if (!offerId) throw new WebhookRejection('NOT_FOUND', 'the webhook URL must name the offer: /webhooks/elements/{offerId}');

  const { payload: token } = parseJson(request.body, envelopeSchema);

  const entry = table.offers.get(offerId);
  // Neutral on purpose: the answer does not describe the configured offers.
  if (!entry) throw new WebhookRejection('UNAUTHORIZED', 'no key is configured for this offer');
  if ('problem' in entry) throw new WebhookRejection('NOT_CONFIGURED', `the key configured for this offer cannot be used: it ${entry.problem}`);

  const failures: errors.JOSEError[] = [];
  // More than one key only while the seller rotates; each key is tried with its own algorithms.
  for (const key of entry.keys) {
    try {
      const { payload, protectedHeader } = await jwtVerify(token, key.key, {
        algorithms: [...key.algorithms],
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: request.receivedAt,
      });
      return { offerId, alg: protectedHeader.alg ?? '', payloadSegment: token.split('.')[1] ?? '', claims: payload };
    } catch (error) {
      // Anything but a JOSE error is a bug or a key jose cannot use: a 5xx, so the provider retries.
      if (!(error instanceof errors.JOSEError)) throw error;
      failures.push(error);
    }
  }
  throw refusal(failures, entry.keys, token);
}

/**
 * Why the token was refused, as useful as is safe. Expiry and `nbf` are reported because jose
 * checks claims only after the signature held: saying "expired" tells a forger nothing. An
 * algorithm the key does not accept is named (the header is the sender's own data) to settle the
 * UNKNOWN algorithm quickly; every other failure reads the same.
 */
function refusal(failures: errors.JOSEError[], keys: readonly OfferKey[], token: string): WebhookRejection {
  const has = (code: string, claim?: string) => failures.some((f) => f.code === code && (claim === undefined || (f as errors.JWTClaimValidationFailed).claim === claim));
  if (has('ERR_JWT_EXPIRED')) return new WebhookRejection('UNAUTHORIZED', 'token expired');
  if (has('ERR_JWT_CLAIM_VALIDATION_FAILED', 'nbf')) return new WebhookRejection('UNAUTHORIZED', 'token is not valid yet (nbf)');
  if (has('ERR_JWT_CLAIM_VALIDATION_FAILED')) return new WebhookRejection('UNAUTHORIZED', 'token claims are not valid (iat/exp/nbf must be numbers)');
  if (failures.length > 0 && failures.every((f) => f.code === 'ERR_JOSE_ALG_NOT_ALLOWED')) {
    const accepted = [...new Set(keys.flatMap((k) => k.algorithms))].join(', ');
    return new WebhookRejection('UNAUTHORIZED', `token algorithm ${headerAlg(token)} is not accepted for this offer's key (accepted: ${accepted})`);
  }
  return new WebhookRejection('UNAUTHORIZED', 'payload signature is not valid for this offer');
}

function headerAlg(token: string): string {
  try {
    const alg = decodeProtectedHeader(token).alg;
    return typeof alg === 'string' ? JSON.stringify(alg.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 20)) : '(none given)';
  } catch {
    return '(unreadable)';
  }
}
