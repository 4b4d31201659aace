import { createPublicKey } from 'node:crypto';
import { type SecretName, secretsFrom } from '../../functions/aws/secrets';
import { applyContextFactory } from '../../functions/config/applyContext';
import type { Catalog } from '../../functions/domain/catalog';
import { signLicense } from '../../functions/domain/signedLicense';
import { verifyLicense } from '../../functions/domain/verifyLicense';
import { WebhookRejection } from '../../functions/ingress/types';
import { offerKeyTable } from '../../functions/providers/elements/keys';
import { verifyPaddle } from '../../functions/providers/paddle/verify';

/**
 * `doctor`'s key checks: each configured key is put to the use the stack puts it to, through the
 * stack's own code — the signing key signs a license the way the worker does and its public half
 * verifies it the way `keysmith verify` and a seller's app do; Paddle's public keys are loaded by
 * the Paddle ingress's verifier; the Elements offer table by the Elements ingress's parser. A
 * value that is merely well-formed text but cannot do its job fails here, naming the secret.
 * One function per key, so other checks can be added beside them.
 */

export type KeyVerdict = 'ok' | 'fail';

export interface KeyCheck {
  name: SecretName;
  status: KeyVerdict;
  detail: string;
}

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

/** A Paddle public key, loaded by the Paddle ingress's own verifier. */
export function checkPaddleKey(name: 'KEYSMITH_PADDLE_PUBLIC_KEY' | 'KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY', values: Values, catalog: Catalog): KeyCheck {
  // Only this key configured, and a form with a signature no key matches: a usable key ends in
  // UNAUTHORIZED, an unusable one in NOT_CONFIGURED before any signature is checked.
  const only = name === 'KEYSMITH_PADDLE_PUBLIC_KEY' ? { [name]: values[name] } : { KEYSMITH_PADDLE_PUBLIC_KEY: values[name], [name]: values[name] };
  const request = {
    method: 'POST',
    path: '/webhooks/paddle',
    routeKey: 'POST /webhooks/paddle',
    pathParameters: {},
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawQuery: '',
    body: Buffer.from('p_order_id=doctor&p_signature=AAAA'),
    receivedAt: new Date(),
    requestId: 'doctor',
  };
  try {
    verifyPaddle(request, { secrets: secretsFrom(only), catalog }, 64 * 1024);
    return { name, status: 'fail', detail: `${name} accepted a forged signature` };
  } catch (error) {
    if (error instanceof WebhookRejection && error.code === 'UNAUTHORIZED') return { name, status: 'ok', detail: `${name} loads as an RSA public key (Paddle signatures can be checked)` };
    return { name, status: 'fail', detail: `${name} cannot check Paddle signatures: ${firstLine(error)}` };
  }
}

/** KEYSMITH_ELEMENTS_OFFER_KEYS: the table the Elements ingress reads, every offer with usable keys. */
export function checkOfferKeys(values: Values): KeyCheck {
  const name = 'KEYSMITH_ELEMENTS_OFFER_KEYS';
  const table = offerKeyTable(values[name] ?? '');
  if ('problem' in table) return { name, status: 'fail', detail: `${name} cannot be read: ${table.problem}` };
  const broken = [...table.offers].filter(([, entry]) => 'problem' in entry);
  if (broken.length > 0) {
    const [offer, entry] = broken[0]!;
    return {
      name,
      status: 'fail',
      detail: `${name}: offer "${offer.slice(0, 60)}" has no usable key (${(entry as { problem: string }).problem})${broken.length > 1 ? ` and ${broken.length - 1} more offer(s)` : ''}`,
    };
  }
  return { name, status: 'ok', detail: `${name}: ${table.offers.size} offer(s), every key usable` };
}

/** The key check for `name`, or undefined when the secret is a plain shared value. */
export async function keyCheck(name: SecretName, values: Values, catalog: Catalog): Promise<KeyCheck | undefined> {
  switch (name) {
    case 'KEYSMITH_LICENSE_SECRET':
      return checkLicenseSecret(values, catalog);
    case 'KEYSMITH_LICENSE_SIGNING_KEY':
      return checkSigningKey(values, catalog);
    case 'KEYSMITH_PADDLE_PUBLIC_KEY':
    case 'KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY':
      return checkPaddleKey(name, values, catalog);
    case 'KEYSMITH_ELEMENTS_OFFER_KEYS':
      return checkOfferKeys(values);
    default:
      return undefined;
  }
}

function firstLine(error: unknown): string {
  return ((error as Error).message ?? String(error)).split('\n')[0]!;
}
