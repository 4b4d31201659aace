import { type ProviderContext, WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { toleranceFrom } from '../shared/settings';
import { checkSignatureAge, parseTimestampedSignatures, signedByAny, type TimestampedScheme, type TimestampedSignatures } from '../shared/timestampedSignature';
import { PADDLE_BILLING_SECRETS, SANDBOX_SECRET, SECRET } from './names';

/**
 * Paddle Billing signs every notification
 * (https://developer.paddle.com/webhooks/signature-verification):
 *
 *   Paddle-Signature: ts=1700000000;h1=<hex>[;h1=<hex>…]
 *   h1 = hex( HMAC-SHA256( destination secret key `pdl_ntfset_…`, "{ts}:{raw body}" ) )
 *
 * Several `h1` appear while a secret is being rotated; any may match, against any configured
 * secret: the live destination's (and `…_PREVIOUS`), then the sandbox destination's. Which one
 * matched says whether the order is live. Every pair is compared in constant time.
 *
 * Replay protection: `ts` is signed; it must be within the tolerance of our clock (300 s by
 * default, `KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS`). Paddle's SDK allows 5 s, which refuses
 * any retry that resends the original `ts` and any machine whose clock is a few seconds off;
 * within the window a replay carries an event id already seen, which the queue and worker drop.
 */

import { DEFAULT_TOLERANCE_SECONDS, TOLERANCE_SETTING } from './constants';

export { DEFAULT_TOLERANCE_SECONDS };

export interface VerifiedPaddleBilling {
  body: Buffer;
  /** Signed with the live destination's secret (true) or the sandbox one's (false). */
  live: boolean;
}

/** `Paddle-Signature: ts=…;h1=…[;h1=…]`, signing `"{ts}:{raw body}"`. */
const SCHEME: TimestampedScheme = { separator: ';', timestampKey: 'ts', signatureKey: 'h1', joiner: ':' };

export type PaddleSignatureHeader = TimestampedSignatures;

/** Parse `ts=…;h1=…`; undefined without one numeric `ts` or a well-formed `h1`. */
export function parseSignatureHeader(header: string): PaddleSignatureHeader | undefined {
  return parseTimestampedSignatures(header, SCHEME);
}

/**
 * Which secret list signed the body: 'live', 'sandbox', or a thrown WebhookRejection('UNAUTHORIZED').
 * Both lists are always computed, so timing does not tell which one matched.
 */
export function verifyPaddleBillingSignature(
  header: string | undefined,
  body: Buffer,
  secrets: { live: readonly string[]; sandbox: readonly string[] },
  now: Date,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): 'live' | 'sandbox' {
  if (!header) throw new WebhookRejection('UNAUTHORIZED', 'missing Paddle-Signature header');
  const parsed = parseSignatureHeader(header);
  if (!parsed) throw new WebhookRejection('UNAUTHORIZED', 'Paddle-Signature must carry one ts= timestamp and at least one h1= signature');
  const live = signedByAny(parsed, body, secrets.live, SCHEME);
  const sandbox = signedByAny(parsed, body, secrets.sandbox, SCHEME);
  if (!live && !sandbox) throw new WebhookRejection('UNAUTHORIZED', 'no h1 signature in Paddle-Signature matches the body');
  checkSignatureAge('Paddle-Signature', parsed.timestamp, now, toleranceSeconds);
  return live ? 'live' : 'sandbox';
}

export function verifyPaddleBilling(request: WebhookRequest, ctx: ProviderContext): VerifiedPaddleBilling {
  const live = ctx.secrets.candidates(PADDLE_BILLING_SECRETS.live);
  const sandbox = ctx.secrets.candidates(PADDLE_BILLING_SECRETS.sandbox);
  if (live.length === 0 && sandbox.length === 0) throw new WebhookRejection('NOT_CONFIGURED', `${SECRET} (or ${SANDBOX_SECRET}) is not set; no request can be verified`);
  const which = verifyPaddleBillingSignature(request.headers['paddle-signature'], request.body, { live, sandbox }, request.receivedAt, toleranceFromEnv());
  return { body: request.body, live: which === 'live' };
}

/** `KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS` (whole seconds, 1–86400), else the default. */
export function toleranceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return toleranceFrom(env[TOLERANCE_SETTING], DEFAULT_TOLERANCE_SECONDS);
}
