import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { toleranceFrom } from '../shared/settings';
import { checkSignatureAge, parseTimestampedSignatures, signedByAny, type TimestampedScheme, type TimestampedSignatures } from '../shared/timestampedSignature';
import { SECRET } from './names';

/**
 * Stripe signs every delivery (https://docs.stripe.com/webhooks#verify-manually):
 *
 *   Stripe-Signature: t=1700000000,v1=<hex>[,v1=<hex>…][,v0=…]
 *   v1 = hex( HMAC-SHA256( endpoint secret `whsec_…` as UTF-8, "{t}.{raw body}" ) )
 *
 * Several `v1` appear while the endpoint's secret is being rolled (Stripe signs with the old and
 * the new one): any of them may match, and any of our configured secrets (the current one and
 * `KEYSMITH_STRIPE_WEBHOOK_SECRET_PREVIOUS`) may be the one. Every pair is compared, in constant
 * time, whatever matched first. `v0` (test-mode legacy scheme) is ignored, as the SDK does.
 *
 * Replay protection: `t` is signed, so a request whose `t` is more than the tolerance away from our
 * clock is refused — in the past (as the SDK does: a captured request cannot be replayed later)
 * and, beyond the SDK, in the future (a clock that far off is a misconfiguration we want to see).
 * Stripe's own retries are signed afresh, so they are never stale. Within the window a replayed
 * request is a duplicate event id, which the queue and the worker drop.
 */

import { DEFAULT_TOLERANCE_SECONDS, TOLERANCE_SETTING } from './constants';

export { DEFAULT_TOLERANCE_SECONDS };

export interface VerifyOptions {
  /** Accepted clock difference in seconds. @default DEFAULT_TOLERANCE_SECONDS */
  toleranceSeconds?: number;
}

/** `Stripe-Signature: t=…,v1=…[,v1=…]`, signing `"{t}.{raw body}"`. */
const SCHEME: TimestampedScheme = { separator: ',', timestampKey: 't', signatureKey: 'v1', joiner: '.' };

/** The parsed header: the signed timestamp and every v1 signature (bytes). */
export type StripeSignatureHeader = TimestampedSignatures;

/** Parse `t=…,v1=…`; undefined when there is no single numeric `t` or no well-formed `v1`. */
export function parseSignatureHeader(header: string): StripeSignatureHeader | undefined {
  return parseTimestampedSignatures(header, SCHEME);
}

/** Check a Stripe-Signature header against the raw body; throws WebhookRejection('UNAUTHORIZED'). */
export function verifyStripeSignature(header: string | undefined, body: Buffer, secrets: readonly string[], now: Date, options: VerifyOptions = {}): void {
  if (!header) throw new WebhookRejection('UNAUTHORIZED', 'missing Stripe-Signature header');
  const parsed = parseSignatureHeader(header);
  if (!parsed) throw new WebhookRejection('UNAUTHORIZED', 'Stripe-Signature must carry one t= timestamp and at least one v1= signature');
  if (!signedByAny(parsed, body, secrets, SCHEME)) throw new WebhookRejection('UNAUTHORIZED', 'no v1 signature in Stripe-Signature matches the body');
  checkSignatureAge('Stripe-Signature', parsed.timestamp, now, options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
}

/** The provider's verify step: the configured secrets, the header, the tolerance from the environment. */
export function verifyStripe(request: WebhookRequest, ctx: ProviderContext): Buffer {
  const secrets = ctx.secrets.candidates(SECRET);
  if (secrets.length === 0) throw new WebhookRejection('NOT_CONFIGURED', `${SECRET} is not set; no request can be verified`);
  verifyStripeSignature(request.headers['stripe-signature'], request.body, secrets, request.receivedAt, { toleranceSeconds: toleranceFromEnv() });
  return request.body;
}

/** `KEYSMITH_STRIPE_TOLERANCE_SECONDS` (a whole number of seconds, 1–86400), else the default. */
export function toleranceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return toleranceFrom(env[TOLERANCE_SETTING], DEFAULT_TOLERANCE_SECONDS);
}
