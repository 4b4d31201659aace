import { createPrivateKey, createPublicKey } from 'node:crypto';
import { SECRET_NAMES, SECRET_OWNER, type SecretName } from '../../functions/aws/secrets';
import { parseOfferKeys } from '../../functions/providers/elements/keys';
import { MIN_PATH_SECRET_LENGTH } from '../../functions/providers/selldone/verify';

/**
 * What each secret must look like, checked before `secrets set` stores it and by `doctor` for
 * what is stored. Messages never contain the value.
 */

/** The shared secrets that accept a `<NAME>_PREVIOUS` during a rotation (see functions/aws/secrets.ts). */
export const ROTATABLE: readonly SecretName[] = ['KEYSMITH_FASTSPRING_SECRET', 'KEYSMITH_HOTMART_HOTTOK', 'KEYSMITH_SELLDONE_PATH_SECRET'];

/** Which provider a secret belongs to (the rest are the license keys): SECRET_OWNER without them. */
export const SECRET_PROVIDER: Partial<Record<SecretName, string>> = Object.fromEntries(Object.entries(SECRET_OWNER).filter(([, owner]) => owner !== 'license'));

/** A name `secrets set` accepts: one of SECRET_NAMES, or `<NAME>_PREVIOUS` of a rotatable one. */
export function secretBaseName(name: string): SecretName | undefined {
  if ((SECRET_NAMES as readonly string[]).includes(name)) return name as SecretName;
  const base = name.endsWith('_PREVIOUS') ? name.slice(0, -'_PREVIOUS'.length) : undefined;
  return base && (ROTATABLE as readonly string[]).includes(base) ? (base as SecretName) : undefined;
}

/** The problem with a value for `name`, or undefined when it is fine. */
export function secretProblem(name: SecretName, value: string): string | undefined {
  if (value.trim() === '') return 'is empty';
  switch (name) {
    case 'KEYSMITH_PADDLE_PUBLIC_KEY':
    case 'KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY':
      return publicKeyProblem(value, 'rsa', 'the RSA public key from Paddle → Developer Tools → Public Key');
    case 'KEYSMITH_LICENSE_SIGNING_KEY':
      return privateKeyProblem(value);
    case 'KEYSMITH_ELEMENTS_OFFER_KEYS': {
      const table = parseOfferKeys(value);
      if ('problem' in table) return table.problem;
      for (const [offer, entry] of table.offers) if ('problem' in entry) return `offer "${offer.slice(0, 60)}": the key ${entry.problem}`;
      return undefined;
    }
    case 'KEYSMITH_SELLDONE_PATH_SECRET':
      if (value.length < MIN_PATH_SECRET_LENGTH) return `must be at least ${MIN_PATH_SECRET_LENGTH} characters (it is the only thing that authenticates Selldone)`;
      if (!/^[A-Za-z0-9._~-]+$/.test(value)) return 'must be URL-safe (letters, digits, . _ ~ -): it is a path segment of the webhook URL';
      return undefined;
    case 'KEYSMITH_LICENSE_SECRET':
      return value.length < 16 ? 'must be at least 16 characters (keys are derived from it)' : undefined;
    default:
      return undefined;
  }
}

function unescapePemText(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\r\\n|\\n/g, '\n').trim() : pem.trim();
}

function publicKeyProblem(value: string, type: 'rsa', what: string): string | undefined {
  const text = unescapePemText(value);
  if (/PRIVATE KEY/.test(text)) return `is a private key; use ${what}`;
  if (!text.startsWith('-----BEGIN')) return `is not PEM (-----BEGIN PUBLIC KEY-----…); use ${what}`;
  try {
    const key = createPublicKey(text);
    if (key.asymmetricKeyType !== type) return `is a ${key.asymmetricKeyType} key, not ${type.toUpperCase()}; use ${what}`;
  } catch {
    return `could not be read as a PEM public key; use ${what}`;
  }
  return undefined;
}

function privateKeyProblem(value: string): string | undefined {
  const text = unescapePemText(value);
  if (!/-----BEGIN PRIVATE KEY-----/.test(text)) return 'must be an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----); `keysmith keys generate` makes one';
  try {
    const key = createPrivateKey(text);
    if (key.asymmetricKeyType !== 'ed25519') return `is a ${key.asymmetricKeyType} key; signed licenses need Ed25519 (\`keysmith keys generate\`)`;
  } catch {
    return 'could not be read as a PKCS#8 private key';
  }
  return undefined;
}
