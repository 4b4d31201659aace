import { createHmac, timingSafeEqual } from 'node:crypto';

/** Constant-time equality of two byte strings; unequal lengths are unequal without early exit on content. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    // Still spend a comparison so the length check is the only thing timing can reveal.
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** Whether `given` equals any of `candidates`, comparing every candidate in constant time. */
export function matchesAnySecret(given: string, candidates: readonly string[]): boolean {
  const givenBytes = Buffer.from(given, 'utf8');
  let match = false;
  for (const candidate of candidates) match = constantTimeEqual(givenBytes, Buffer.from(candidate, 'utf8')) || match;
  return match;
}

/** base64(HMAC-SHA256(secret, body)) as bytes. */
export function hmacSha256(secret: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}
