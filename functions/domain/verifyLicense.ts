import { errors, importJWK, importSPKI, type JWK, jwtVerify } from 'jose';

type VerificationKey = Awaited<ReturnType<typeof importSPKI>> | Uint8Array;

import { LICENSE_ISSUER, type LicenseClaims } from './signedLicense';

/**
 * Offline verification of keysmith `signed` licenses, for the seller's own app. No AWS, no
 * network: the public key alone decides. Import it from `keysmith/verifier` (see README).
 *
 * What is checked offline: the Ed25519 signature (alg pinned to EdDSA — `none`, HS* and RSA are
 * refused), the issuer, the token type, the expiry (`exp`, with `clockToleranceSeconds`), and
 * optionally the product; a license issued for a provider test order (claim `test: true`) is
 * refused with `TEST_LICENSE` unless `allowTest` is set. What needs the online lookup: revocation and suspension after issue
 * (`keysmith licenses --key`), because a signed token cannot be recalled.
 */

export type LicenseCode = 'VALID' | 'MALFORMED' | 'BAD_SIGNATURE' | 'EXPIRED' | 'NOT_YET_VALID' | 'WRONG_ISSUER' | 'WRONG_PRODUCT' | 'TEST_LICENSE' | 'BAD_KEY';

/** What a verified license says: the claims it was signed with (see signedLicense.ts). */
export type LicenseClaimsView = LicenseClaims;

export type LicenseCheck = { valid: true; code: 'VALID'; detail: string; license: LicenseClaimsView } | { valid: false; code: Exclude<LicenseCode, 'VALID'>; detail: string };

export interface VerifyOptions {
  /** Require this product id. */
  product?: string;
  /** The time to check expiry against. @default now */
  now?: Date;
  /** Allowed clock skew in seconds. @default 60 */
  clockToleranceSeconds?: number;
  /**
   * Accept licenses issued for provider test orders (claim `test: true`); the result then says
   * `license.test: true`. Off by default: a test purchase must not unlock the real product.
   * @default false
   */
  allowTest?: boolean;
}

/** The public key as PEM (SPKI), a JWK object, or a JWK JSON string. */
export type PublicKeyInput = string | JWK;

export async function verifyLicense(token: string, publicKey: PublicKeyInput, options: VerifyOptions = {}): Promise<LicenseCheck> {
  let key: VerificationKey;
  try {
    key = await importKey(publicKey);
  } catch (error) {
    return { valid: false, code: 'BAD_KEY', detail: `the public key cannot be used: ${(error as Error).message}` };
  }
  const compact = token.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(compact)) {
    return { valid: false, code: 'MALFORMED', detail: 'not a compact JWS (three base64url parts)' };
  }
  try {
    const { payload } = await jwtVerify(compact, key, {
      algorithms: ['EdDSA'],
      issuer: LICENSE_ISSUER,
      typ: 'keysmith-license+jwt',
      currentDate: options.now ?? new Date(),
      clockTolerance: options.clockToleranceSeconds ?? 60,
    });
    const license: LicenseClaimsView = {
      licenseId: String(payload.jti ?? ''),
      product: String(payload.product ?? ''),
      seats: Number(payload.seats ?? 0),
      customer: String(payload.sub ?? ''),
      issuedAt: new Date((payload.iat ?? 0) * 1000).toISOString(),
      expiresAt: payload.exp === undefined ? null : new Date(payload.exp * 1000).toISOString(),
      ...(payload.test === true ? { test: true } : {}),
    };
    if (license.test && options.allowTest !== true) {
      return { valid: false, code: 'TEST_LICENSE', detail: 'a TEST license, issued for a provider test order; accepted only with allowTest' };
    }
    if (options.product !== undefined && license.product !== options.product) {
      return { valid: false, code: 'WRONG_PRODUCT', detail: `license is for "${license.product}", not "${options.product}"` };
    }
    const validity = license.expiresAt ? `valid until ${license.expiresAt}` : 'valid, perpetual';
    return { valid: true, code: 'VALID', detail: license.test ? `TEST license, ${validity}` : validity, license };
  } catch (error) {
    return classify(error);
  }
}

export async function importKey(input: PublicKeyInput): Promise<VerificationKey> {
  if (typeof input === 'string') {
    const text = input.trim();
    if (text.startsWith('{')) return importJWK(JSON.parse(text) as JWK, 'EdDSA');
    return importSPKI(text.includes('\\n') ? text.replace(/\\n/g, '\n') : text, 'EdDSA');
  }
  return importJWK(input, 'EdDSA');
}

export function classify(error: unknown): Extract<LicenseCheck, { valid: false }> {
  if (error instanceof errors.JWTExpired) return { valid: false, code: 'EXPIRED', detail: 'the license has expired' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return { valid: false, code: 'WRONG_ISSUER', detail: 'not issued by keysmith' };
    if (error.claim === 'nbf' || error.claim === 'iat') return { valid: false, code: 'NOT_YET_VALID', detail: 'the license is not valid yet' };
    return { valid: false, code: 'MALFORMED', detail: `claim ${error.claim} is not valid` };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return { valid: false, code: 'BAD_SIGNATURE', detail: 'the signature does not match this public key' };
  if (error instanceof errors.JOSEAlgNotAllowed) return { valid: false, code: 'BAD_SIGNATURE', detail: 'only EdDSA-signed licenses are accepted' };
  return { valid: false, code: 'MALFORMED', detail: (error as Error).message };
}
