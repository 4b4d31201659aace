import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Catalog } from '../domain/catalog';
import type { ApplyContext } from '../domain/entitlement';
import type { Secrets } from '../aws/secrets';

/**
 * Builds the context `apply` needs from the secrets and the catalog. Shared by the worker and by
 * ingresses that must compute licenses synchronously (Paddle), so both derive identical keys.
 * The signing key is parsed once and reused until the secret changes.
 */
export function applyContextFactory(): (secrets: Secrets, catalog: Catalog, now?: Date) => ApplyContext {
  let signing: { pem: string; key: KeyObject } | undefined;
  return (secrets, catalog, now = new Date()) => {
    const licenseSecret = secrets.get('KEYSMITH_LICENSE_SECRET');
    if (!licenseSecret) throw new Error('KEYSMITH_LICENSE_SECRET is not set; no license can be issued');
    const pem = secrets.get('KEYSMITH_LICENSE_SIGNING_KEY');
    if (pem && signing?.pem !== pem) signing = { pem, key: createPrivateKey(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem) };
    return { catalog, licenseSecret, ...(pem ? { signingKey: signing!.key } : {}), now };
  };
}
