import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';

/**
 * Checks and development values for the kinds of secret providers use, for the registrations'
 * `SecretSpec`s. CLI and local-stack code only: no handler imports this file. Messages never
 * contain the value.
 */

/** A fresh random shared secret (32 bytes, base64url). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random string of letters and digits (URL-safe as a path segment). */
export function alphanumeric(length: number): string {
  let out = '';
  // 62 does not divide 256: reject the top bytes so every character is equally likely.
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

/** A key pair as PEM text (SPKI public, PKCS#8 private). */
export function pemKeyPair(type: 'rsa' | 'ec-p256' | 'ed25519'): { publicPem: string; privatePem: string } {
  const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : type === 'ec-p256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** PEM pasted into a single-line field often arrives with literal `\n`s. */
export function unescapePemText(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\r\\n|\\n/g, '\n').trim() : pem.trim();
}

/** The problem with a PEM public key of `type`; `what` tells the seller where to get the right one. */
export function publicKeyProblem(value: string, type: 'rsa', what: string): string | undefined {
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

/** The problem with an Ed25519 PKCS#8 private key (the license signing key). */
export function ed25519PrivateKeyProblem(value: string): string | undefined {
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

/** The problem with a secret that is a path segment of the webhook URL. */
export function pathSecretProblem(value: string, minLength: number, provider: string): string | undefined {
  if (value.length < minLength) return `must be at least ${minLength} characters (it is the only thing that authenticates ${provider})`;
  if (!/^[A-Za-z0-9._~-]+$/.test(value)) return 'must be URL-safe (letters, digits, . _ ~ -): it is a path segment of the webhook URL';
  return undefined;
}

export function firstLine(error: unknown): string {
  return ((error as Error).message ?? String(error)).split('\n')[0]!;
}
