import { createHmac } from 'node:crypto';
import { WebhookRejection } from '../../ingress/types';
import { constantTimeEqual } from './crypto';

/**
 * The signature scheme Stripe (`t=…,v1=…`) and Paddle Billing (`ts=…;h1=…`) share: one signed
 * timestamp and one or more hex HMAC-SHA256 signatures of `"{timestamp}{joiner}{raw body}"`.
 */
export interface TimestampedScheme {
  /** Between the header's parts: `,` (Stripe) or `;` (Paddle Billing). */
  separator: string;
  /** The timestamp's key: `t` or `ts`. */
  timestampKey: string;
  /** The signatures' key: `v1` or `h1`. */
  signatureKey: string;
  /** Between the timestamp and the body in what is signed: `.` or `:`. */
  joiner: string;
}

/** The parsed header: the signed timestamp and every well-formed signature (bytes). */
export interface TimestampedSignatures {
  timestamp: number;
  signatures: Buffer[];
}

/**
 * Parse the header; undefined without exactly one numeric timestamp or with no well-formed
 * signature. Two timestamps would make "which one was signed" ambiguous: refuse rather than guess.
 */
export function parseTimestampedSignatures(header: string, scheme: TimestampedScheme): TimestampedSignatures | undefined {
  let timestamp: number | undefined;
  let timestamps = 0;
  const signatures: Buffer[] = [];
  for (const part of header.split(scheme.separator)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === scheme.timestampKey) {
      timestamps++;
      if (/^\d{1,12}$/.test(value)) timestamp = Number(value);
    } else if (key === scheme.signatureKey && /^[0-9a-fA-F]{64}$/.test(value)) {
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamps !== 1 || timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

/** Whether any signature is the HMAC of the body under any secret; every pair is compared in constant time. */
export function signedByAny(parsed: TimestampedSignatures, body: Buffer, secrets: readonly string[], scheme: Pick<TimestampedScheme, 'joiner'>): boolean {
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(`${parsed.timestamp}${scheme.joiner}`).update(body).digest();
    for (const given of parsed.signatures) valid = constantTimeEqual(given, expected) || valid;
  }
  return valid;
}

/** Refuse a signed timestamp more than `toleranceSeconds` from `now`, past or future (401). */
export function checkSignatureAge(header: string, timestamp: number, now: Date, toleranceSeconds: number): void {
  const skew = Math.abs(Math.floor(now.getTime() / 1000) - timestamp);
  if (skew > toleranceSeconds) {
    throw new WebhookRejection('UNAUTHORIZED', `${header} timestamp is ${skew} s away from now; at most ${toleranceSeconds} s is accepted (stale or replayed request)`);
  }
}
