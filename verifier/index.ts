/**
 * keysmith's offline license verifier — import this from your app:
 *
 *   import { verifyLicense } from 'keysmith/verifier';
 *   const check = await verifyLicense(token, publicKeyPem, { product: 'pro' });
 *   if (!check.valid) showError(check.code, check.detail);
 *
 * Depends only on `jose`. Revocation needs the online lookup; see the README.
 */
export { verifyLicense, type LicenseCheck, type LicenseCode, type LicenseClaimsView, type VerifyOptions, type PublicKeyInput } from '../functions/domain/verifyLicense';
