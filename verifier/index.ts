/**
 * keysmith's offline license verifier — import this from your app:
 *
 *   import { verifyLicense } from 'keysmith/verifier';
 *   const check = await verifyLicense(token, publicKeyPem, { product: 'pro' });
 *   if (!check.valid) showError(check.code, check.detail);
 *
 * Depends only on `jose`. Revocation needs the online lookup; see the README.
 */
export { type LicenseCheck, type LicenseClaimsView, type LicenseCode, type PublicKeyInput, type VerifyOptions, verifyLicense } from '../functions/domain/verifyLicense';
export { type LicenseFileCheck, type LicenseFileClaimsView, type LicenseFileCode, type VerifyLicenseFileOptions, verifyLicenseFile } from '../functions/domain/verifyLicenseFile';
export { createLicenseClient, type LicenseClient, type LicenseClientOptions, type LicenseResult, type LicenseStorage, memoryStorage, type StoredLicense } from './client';
