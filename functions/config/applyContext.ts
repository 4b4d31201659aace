import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Secrets } from '../aws/secrets';
import type { Catalog } from '../domain/catalog';
import type { ApplyContext } from '../domain/entitlement';

/**
 * Builds the context `apply` needs from the secrets and the catalog. Shared by the worker and by
 * ingresses that must compute licenses synchronously (Paddle), so both derive identical keys.
 * The signing key is parsed when a signed license first needs it — most catalogs issue only
 * `key` licenses, and a cold start should not pay for parsing a key it never uses — then reused
 * until the secret changes.
 */
export function applyContextFactory(): (secrets: Secrets, catalog: Catalog, now?: Date) => ApplyContext {
  let signing: { pem: string; key: KeyObject } | undefined;
  const keyFor = (pem: string): KeyObject => {
    if (signing?.pem !== pem) signing = { pem, key: createPrivateKey(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem) };
    return signing.key;
  };
  return (secrets, catalog, now = new Date()) => {
    const licenseSecret = secrets.get('KEYSMITH_LICENSE_SECRET');
    if (!licenseSecret) throw new Error('KEYSMITH_LICENSE_SECRET is not set; no license can be issued');
    const pem = secrets.get('KEYSMITH_LICENSE_SIGNING_KEY');
    const context: ApplyContext = { catalog, licenseSecret, now };
    if (pem) Object.defineProperty(context, 'signingKey', { enumerable: true, get: () => keyFor(pem) });
    return context;
  };
}
