import { readFileSync } from 'node:fs';
import { verifyLicense } from '../../../verifier';
import { CliError, type Output, usageError } from '../output';

/**
 * `keysmith verify <token> [--public-key F] [--product P] [--allow-test]`: the same offline check a
 * seller's app runs. Without --public-key it uses KEYSMITH_LICENSE_PUBLIC_KEY, else the local
 * stack's dev key. Offline it can say VALID, EXPIRED, BAD_SIGNATURE, WRONG_PRODUCT, TEST_LICENSE…;
 * REVOKED needs `licenses --key`. A license from a provider test order is refused (exit 3) unless
 * --allow-test, and then still printed as TEST.
 */
export async function verify(options: { token: string; publicKey?: string; product?: string; allowTest?: boolean }, out: Output): Promise<void> {
  let key: string | undefined;
  if (options.publicKey) {
    try {
      key = readFileSync(options.publicKey, 'utf8');
    } catch (error) {
      throw usageError(`cannot read --public-key ${options.publicKey}: ${(error as Error).message}`);
    }
  } else {
    key = process.env.KEYSMITH_LICENSE_PUBLIC_KEY;
    if (!key) {
      // The local stack's dev key; target.ts (and the AWS SDK with it) loads only on this path.
      const { findLocalStack, signingSecrets } = await import('../target');
      const info = await findLocalStack().catch(() => undefined);
      key = info ? signingSecrets(info).KEYSMITH_DEV_LICENSE_PUBLIC_KEY : undefined;
    }
    if (!key) throw usageError('no public key: pass --public-key FILE or set KEYSMITH_LICENSE_PUBLIC_KEY');
  }
  const check = await verifyLicense(options.token, key, { ...(options.product ? { product: options.product } : {}), ...(options.allowTest ? { allowTest: true } : {}) });
  out.result(check, () =>
    check.valid
      ? `${check.license.test ? 'TEST license, ' : ''}valid (${check.code}): ${check.license.product}, ${check.license.seats} seat(s), ${check.detail}; license ${check.license.licenseId}\n(offline check: revocation needs \`keysmith licenses --key\`)`
      : `invalid (${check.code}): ${check.detail}${check.code === 'TEST_LICENSE' ? '\n(a TEST license: pass --allow-test to accept it)' : ''}`,
  );
  if (!check.valid) throw new CliError(`license is invalid: ${check.code}`, 3);
}
