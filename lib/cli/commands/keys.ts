import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { CliError, type Output } from '../output';

/**
 * `keysmith keys generate [--out PREFIX]`: a fresh Ed25519 key pair for signed licenses (the
 * private half goes into KEYSMITH_LICENSE_SIGNING_KEY, the public half into your app) and a
 * random KEYSMITH_LICENSE_SECRET. Nothing is sent anywhere.
 */
export async function keysGenerate(options: { out?: string }, out: Output): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const result = {
    signingKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    licenseSecret: randomBytes(32).toString('base64url'),
  };
  if (options.out) {
    try {
      writeFileSync(`${options.out}.private.pem`, result.signingKey, { mode: 0o600 });
      writeFileSync(`${options.out}.public.pem`, result.publicKey);
    } catch (error) {
      throw new CliError(`cannot write key files: ${(error as Error).message}`);
    }
  }
  out.result(options.out ? { ...result, signingKey: `${options.out}.private.pem`, files: [`${options.out}.private.pem`, `${options.out}.public.pem`] } : result, () =>
    options.out
      ? `wrote ${options.out}.private.pem (mode 0600; KEYSMITH_LICENSE_SIGNING_KEY) and ${options.out}.public.pem (ship it in your app)\nKEYSMITH_LICENSE_SECRET=${result.licenseSecret}`
      : `KEYSMITH_LICENSE_SIGNING_KEY (keep secret):\n${result.signingKey}\npublic key (ship it in your app):\n${result.publicKey}\nKEYSMITH_LICENSE_SECRET=${result.licenseSecret}`,
  );
}
