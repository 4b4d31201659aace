import { jwtVerify } from 'jose';
import { LICENSE_ISSUER } from './signedLicense';
import { classify, importKey, type LicenseCode, type PublicKeyInput } from './verifyLicense';

/**
 * Offline check of a license file — what the license API returns with every successful activation
 * and validation (functions/domain/licenseFile.ts). The app keeps one and, while the API cannot be
 * reached, trusts it until its `exp`: the product's refresh window, never past the license's own
 * end. Bound to a machine: pass the app's `fingerprint`, and a file activated for another machine
 * (or for none) is refused. Needs only `jose` and the license public key.
 */

/** The JWS `typ` of a license file (a license itself is `keysmith-license+jwt`). */
export const LICENSE_FILE_TYPE = 'keysmith-license-file+jwt';

export type LicenseFileCode = LicenseCode | 'WRONG_MACHINE' | 'WRONG_LICENSE';

export interface LicenseFileClaimsView {
  licenseId: string;
  product: string;
  /** license_key.status when it was issued: `active` or `inactive`. */
  status: string;
  seats: number;
  instanceId?: string;
  fingerprint?: string;
  /** The license's own end (ISO), or null. */
  licenseExpiresAt: string | null;
  test: boolean;
  issuedAt: string;
  /** Until when the app may rely on this file offline. */
  expiresAt: string;
}

export type LicenseFileCheck = { valid: true; code: 'VALID'; detail: string; file: LicenseFileClaimsView } | { valid: false; code: Exclude<LicenseFileCode, 'VALID'>; detail: string };

export interface VerifyLicenseFileOptions {
  /** This machine's fingerprint: the file must carry the same one. */
  fingerprint?: string;
  /** The license the app holds (its id, `lic_…`): the file must be for it. */
  licenseId?: string;
  /** Require this product id. */
  product?: string;
  /** @default now */
  now?: Date;
  /** @default 60 */
  clockToleranceSeconds?: number;
}

export async function verifyLicenseFile(file: string, publicKey: PublicKeyInput, options: VerifyLicenseFileOptions = {}): Promise<LicenseFileCheck> {
  let key: Awaited<ReturnType<typeof importKey>>;
  try {
    key = await importKey(publicKey);
  } catch (error) {
    return { valid: false, code: 'BAD_KEY', detail: `the public key cannot be used: ${(error as Error).message}` };
  }
  const compact = file.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(compact)) return { valid: false, code: 'MALFORMED', detail: 'not a compact JWS (three base64url parts)' };
  try {
    const { payload } = await jwtVerify(compact, key, {
      algorithms: ['EdDSA'],
      issuer: LICENSE_ISSUER,
      typ: LICENSE_FILE_TYPE,
      requiredClaims: ['exp', 'iat', 'sub'],
      currentDate: options.now ?? new Date(),
      clockTolerance: options.clockToleranceSeconds ?? 60,
    });
    const view: LicenseFileClaimsView = {
      licenseId: String(payload.sub),
      product: String(payload.product ?? ''),
      status: String(payload.status ?? ''),
      seats: Number(payload.seats ?? 0),
      ...(typeof payload.instance_id === 'string' ? { instanceId: payload.instance_id } : {}),
      ...(typeof payload.fingerprint === 'string' ? { fingerprint: payload.fingerprint } : {}),
      licenseExpiresAt: typeof payload.license_expires_at === 'number' ? new Date(payload.license_expires_at * 1000).toISOString() : null,
      test: payload.test === true,
      issuedAt: new Date(payload.iat! * 1000).toISOString(),
      expiresAt: new Date(payload.exp! * 1000).toISOString(),
    };
    if (options.licenseId !== undefined && view.licenseId !== options.licenseId) return { valid: false, code: 'WRONG_LICENSE', detail: `the file is for ${view.licenseId}, not ${options.licenseId}` };
    if (options.fingerprint !== undefined && view.fingerprint !== options.fingerprint) return { valid: false, code: 'WRONG_MACHINE', detail: 'the file was issued for another machine' };
    if (options.product !== undefined && view.product !== options.product) return { valid: false, code: 'WRONG_PRODUCT', detail: `the file is for "${view.product}", not "${options.product}"` };
    return { valid: true, code: 'VALID', detail: `valid offline until ${view.expiresAt}`, file: view };
  } catch (error) {
    const failed = classify(error);
    return failed.code === 'EXPIRED' ? { ...failed, detail: 'the license file has expired: the app must reach the license API again' } : failed;
  }
}
