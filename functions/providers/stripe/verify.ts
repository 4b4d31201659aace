import { createHmac } from 'node:crypto';
import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { constantTimeEqual } from '../shared/crypto';
import { toleranceFrom } from '../shared/settings';
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

/** The parsed header: the signed timestamp and every v1 signature (bytes). */
export interface StripeSignatureHeader {
  timestamp: number;
  signatures: Buffer[];
}

/** Parse `t=…,v1=…`; undefined when there is no single numeric `t` or no well-formed `v1`. */
export function parseSignatureHeader(header: string): StripeSignatureHeader | undefined {
  let timestamp: number | undefined;
  let timestamps = 0;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      timestamps++;
      if (/^\d{1,12}$/.test(value)) timestamp = Number(value);
    } else if (key === 'v1' && /^[0-9a-fA-F]{64}$/.test(value)) {
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  // Two `t` values would make "which one was signed" ambiguous: refuse rather than guess.
  if (timestamps !== 1 || timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

/** Check a Stripe-Signature header against the raw body; throws WebhookRejection('UNAUTHORIZED'). */
export function verifyStripeSignature(header: string | undefined, body: Buffer, secrets: readonly string[], now: Date, options: VerifyOptions = {}): void {
  if (!header) throw new WebhookRejection('UNAUTHORIZED', 'missing Stripe-Signature header');
  const parsed = parseSignatureHeader(header);
  if (!parsed) throw new WebhookRejection('UNAUTHORIZED', 'Stripe-Signature must carry one t= timestamp and at least one v1= signature');
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(`${parsed.timestamp}.`).update(body).digest();
    for (const given of parsed.signatures) valid = constantTimeEqual(given, expected) || valid;
  }
  if (!valid) throw new WebhookRejection('UNAUTHORIZED', 'no v1 signature in Stripe-Signature matches the body');
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const skew = Math.abs(Math.floor(now.getTime() / 1000) - parsed.timestamp);
  if (skew > tolerance) throw new WebhookRejection('UNAUTHORIZED', `Stripe-Signature timestamp is ${skew} s away from now; at most ${tolerance} s is accepted (stale or replayed request)`);
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
