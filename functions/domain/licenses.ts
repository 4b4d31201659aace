import { createHash, createHmac } from 'node:crypto';
import type { ProviderName } from './events';

/**
 * License keys. A key is derived, not random: HMAC-SHA256(licenseSecret, provider|scope|product|unit)
 * read as 25 Crockford base32 characters in 5 groups of 5 (125 bits). The same unit of the same
 * order always gets the same key, so a retry — or Paddle's synchronous answer computed in the
 * ingress — agrees with what the worker stores, without a database read.
 */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export interface LicenseUnit {
  provider: ProviderName;
  /** The entitlement scope (order or subscription id). */
  scope: string;
  /** The provider's product id (stable even if the catalog is renamed). */
  providerProductId: string;
  /** 0-based index of this unit among the entitlement's units of that product. */
  unit: number;
}

function unitMessage(unit: LicenseUnit): string {
  // Length-prefixed fields: no provider id can contain a separator that makes two units collide.
  return [unit.provider, unit.scope, unit.providerProductId, String(unit.unit)].map((f) => `${f.length}:${f}`).join('|');
}

/** Crockford base32 of the first `chars × 5` bits of `bytes`. */
export function crockford(bytes: Uint8Array, chars: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += CROCKFORD[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= chars) break;
  }
  return out;
}

/** The human-typable key for one unit: `XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`. */
export function deriveKey(licenseSecret: string, unit: LicenseUnit): string {
  if (licenseSecret.length < 16) throw new Error('KEYSMITH_LICENSE_SECRET must be at least 16 characters');
  const mac = createHmac('sha256', licenseSecret).update(unitMessage(unit)).digest();
  const chars = crockford(mac, 25);
  return chars.match(/.{5}/g)!.join('-');
}

/** A stable, public license id for one unit; safe to show in logs and support tools. */
export function licenseIdFor(unit: LicenseUnit): string {
  return `lic_${crockford(createHash('sha256').update(unitMessage(unit)).digest(), 20).toLowerCase()}`;
}

/**
 * Normalize what a customer typed: case-insensitive, dashes and spaces ignored, and Crockford's
 * look-alikes (O→0, I/L→1) folded, so "abcde-fghjk…" finds "ABCDE-FGHJK…".
 */
export function normalizeKey(typed: string): string {
  const compact = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{25}$/.test(compact) ? compact.match(/.{5}/g)!.join('-') : typed.trim();
}

/** The lookup key of a license: never the raw key as a key attribute (DESIGN.md "Data"). */
export function keyHash(key: string): string {
  return createHash('sha256').update(normalizeKey(key)).digest('hex');
}
