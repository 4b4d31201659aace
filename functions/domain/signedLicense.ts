import { type KeyObject, sign } from 'node:crypto';

/**
 * Signed licenses: a compact JWS (RFC 7515) with `alg: EdDSA` over Ed25519. Ed25519 signatures
 * are deterministic, and every claim comes from the entitlement (never the clock), so issuing the
 * same unit twice yields byte-identical tokens. Verification lives in `verifyLicense.ts` (jose,
 * no AWS) so a seller's app can check a license offline with the public key alone.
 */

export interface LicenseClaims {
  licenseId: string;
  product: string;
  seats: number;
  customer: string;
  issuedAt: string;
  expiresAt: string | null;
  /**
   * Issued for a provider test order (`live: false`): the token carries `test: true`, and
   * `verifyLicense` refuses it (`TEST_LICENSE`) unless the caller passes `allowTest`. Absent —
   * not `false` — on live licenses, so every live token stays byte-identical to before.
   */
  test?: boolean;
}

/** The issuer claim every keysmith license carries. */
export const LICENSE_ISSUER = 'keysmith';

const HEADER = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'keysmith-license+jwt' })).toString('base64url');

export function signLicense(privateKey: KeyObject, claims: LicenseClaims): string {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('KEYSMITH_LICENSE_SIGNING_KEY must be an Ed25519 private key');
  const payload = {
    iss: LICENSE_ISSUER,
    jti: claims.licenseId,
    sub: claims.customer,
    product: claims.product,
    seats: claims.seats,
    iat: Math.floor(Date.parse(claims.issuedAt) / 1000),
    ...(claims.expiresAt !== null ? { exp: Math.floor(Date.parse(claims.expiresAt) / 1000) } : {}),
    ...(claims.test === true ? { test: true } : {}),
  };
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = sign(null, Buffer.from(signingInput), privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}
