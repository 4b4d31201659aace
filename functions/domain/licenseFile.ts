import { type KeyObject, sign } from 'node:crypto';
import { LICENSE_ISSUER } from './signedLicense';
import { LICENSE_FILE_TYPE } from './verifyLicenseFile';

/**
 * The license file the license API hands an app with every successful activation and
 * validation: a compact JWS (`alg: EdDSA`, Ed25519, the license signing key) that lets the app
 * keep working offline until `exp` — the product's refresh window (docs/license-api.md), never
 * past the license's own expiry. `verifier/` checks it offline, bound to the machine's
 * fingerprint.
 *
 * Signed with node:crypto, not jose: the licensing Lambda stays small, and the format is the same
 * three base64url parts any JWS library verifies (the tests verify it with jose).
 */

export interface LicenseFileClaims {
  licenseId: string;
  product: string;
  /** license_key.status as the API reports it: active or inactive (a file is only issued for a valid license). */
  status: string;
  seats: number;
  instanceId?: string;
  fingerprint?: string;
  /** The license's own expiry (ISO), or null. */
  licenseExpiresAt: string | null;
  test: boolean;
  issuedAt: Date;
  /** Days the file is good for, capped by the license's expiry. */
  refreshDays: number;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: LICENSE_FILE_TYPE })).toString('base64url');

/** When a file issued at `issuedAt` stops being good: the refresh window, or the license's end if sooner. */
export function licenseFileExpiry(issuedAt: Date, refreshDays: number, licenseExpiresAt: string | null): number {
  const window = Math.floor(issuedAt.getTime() / 1000) + refreshDays * 86_400;
  if (licenseExpiresAt === null) return window;
  return Math.min(window, Math.floor(Date.parse(licenseExpiresAt) / 1000));
}

export function signLicenseFile(privateKey: KeyObject, claims: LicenseFileClaims): string {
  const iat = Math.floor(claims.issuedAt.getTime() / 1000);
  const payload = {
    iss: LICENSE_ISSUER,
    sub: claims.licenseId,
    product: claims.product,
    status: claims.status,
    seats: claims.seats,
    ...(claims.instanceId !== undefined ? { instance_id: claims.instanceId } : {}),
    ...(claims.fingerprint !== undefined ? { fingerprint: claims.fingerprint } : {}),
    license_expires_at: claims.licenseExpiresAt === null ? null : Math.floor(Date.parse(claims.licenseExpiresAt) / 1000),
    ...(claims.test ? { test: true } : {}),
    iat,
    exp: licenseFileExpiry(claims.issuedAt, claims.refreshDays, claims.licenseExpiresAt),
  };
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signingInput}.${sign(null, Buffer.from(signingInput), privateKey).toString('base64url')}`;
}
