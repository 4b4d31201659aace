import { createPublicKey } from 'node:crypto';
import { secretsFrom } from '../../functions/aws/secrets';
import { applyContextFactory } from '../../functions/config/applyContext';
import type { Catalog } from '../../functions/domain/catalog';
import { signLicense } from '../../functions/domain/signedLicense';
import { verifyLicense } from '../../functions/domain/verifyLicense';
import { secretSpec } from '../../functions/providers/registry';
import type { KeyCheck } from '../../functions/providers/types';

/**
 * `doctor`'s key checks: each configured key is put to the use the stack puts it to, through the
 * stack's own code — the signing key signs a license the way the worker does and its public half
 * verifies it the way `keysmith verify` and a seller's app do; a provider's keys are tried by its
 * registration (`SecretSpec.tryValue`), e.g. Paddle's public keys by the Paddle ingress's verifier. A
 * value that is merely well-formed text but cannot do its job fails here, naming the secret.
 * One function per key, so other checks can be added beside them.
 */

export type KeyVerdict = KeyCheck['status'];
export type { KeyCheck };

type Values = Record<string, string | undefined>;

/** KEYSMITH_LICENSE_SECRET: present, as the worker requires to derive any key. */
export function checkLicenseSecret(values: Values, catalog: Catalog): KeyCheck {
  const name = 'KEYSMITH_LICENSE_SECRET';
  try {
    applyContextFactory()(secretsFrom(values), catalog);
    return { name, status: 'ok', detail: `${name} set (keys are derived from it)` };
  } catch (error) {
    return { name, status: 'fail', detail: `${name}: ${(error as Error).message}` };
  }
}

/**
 * KEYSMITH_LICENSE_SIGNING_KEY: the worker's own context signs a sample license, and the public
 * key derived from it verifies the token as a seller's app would.
 */
export async function checkSigningKey(values: Values, catalog: Catalog): Promise<KeyCheck> {
  const name = 'KEYSMITH_LICENSE_SIGNING_KEY';
  let token: string;
  let publicPem: string;
  try {
    // A stand-in license secret: only the signing key is under test here.
    const context = applyContextFactory()(secretsFrom({ KEYSMITH_LICENSE_SECRET: 'doctor-check', ...values }), catalog);
    const key = context.signingKey;
    if (!key) return { name, status: 'fail', detail: `${name} is empty` };
    token = signLicense(key, { licenseId: 'lic_doctor', product: 'doctor-check', seats: 1, customer: 'doctor@example.com', issuedAt: new Date().toISOString(), expiresAt: null });
    publicPem = createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString();
  } catch (error) {
    return { name, status: 'fail', detail: `${name} cannot sign a license: ${firstLine(error)}; every signed-license order would fail (\`keysmith keys generate\` makes a working one)` };
  }
  const check = await verifyLicense(token, publicPem);
  if (!check.valid) return { name, status: 'fail', detail: `${name} signs, but its public key does not verify the result (${check.code}: ${check.detail})` };
  return { name, status: 'ok', detail: `${name} signs a license and its public key verifies it` };
}

/** The key check for `name`, or undefined when the secret is a plain shared value. */
export async function keyCheck(name: string, values: Values, catalog: Catalog): Promise<KeyCheck | undefined> {
  if (name === 'KEYSMITH_LICENSE_SECRET') return checkLicenseSecret(values, catalog);
  if (name === 'KEYSMITH_LICENSE_SIGNING_KEY') return checkSigningKey(values, catalog);
  // A provider's key is tried by its own registration, through the ingress's own code.
  return secretSpec(name)?.tryValue?.(values, catalog);
}

function firstLine(error: unknown): string {
  return ((error as Error).message ?? String(error)).split('\n')[0]!;
}
