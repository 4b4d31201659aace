import { crockford, deriveKey, keyHash, licenseIdFor, normalizeKey } from '../../../functions/domain/licenses';

const unit = { provider: 'fastspring' as const, scope: 'order-1', providerProductId: 'app', unit: 0 };
const SECRET = 'a-license-secret-of-enough-length';

describe('license keys', () => {
  it('are 5 groups of 5 Crockford base32 characters', () => {
    expect(deriveKey(SECRET, unit)).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);
  });

  it('are deterministic for the same unit and differ per unit, scope, product, provider and secret', () => {
    const key = deriveKey(SECRET, unit);
    expect(deriveKey(SECRET, { ...unit })).toBe(key);
    const others = [
      deriveKey(SECRET, { ...unit, unit: 1 }),
      deriveKey(SECRET, { ...unit, scope: 'order-2' }),
      deriveKey(SECRET, { ...unit, providerProductId: 'app2' }),
      deriveKey(SECRET, { ...unit, provider: 'paddle' }),
      deriveKey(`${SECRET}x`, unit),
    ];
    expect(new Set([key, ...others]).size).toBe(6);
  });

  it('cannot be made to collide by moving separators between fields', () => {
    expect(deriveKey(SECRET, { ...unit, scope: 'a|b', providerProductId: 'c' })).not.toBe(deriveKey(SECRET, { ...unit, scope: 'a', providerProductId: 'b|c' }));
  });

  it('refuses a short secret', () => {
    expect(() => deriveKey('short', unit)).toThrow(/at least 16/);
  });

  it('license ids are stable and public-safe', () => {
    expect(licenseIdFor(unit)).toBe(licenseIdFor({ ...unit }));
    expect(licenseIdFor(unit)).toMatch(/^lic_[0-9a-hjkmnp-tv-z]{20}$/);
  });

  it('normalizes what customers type before hashing', () => {
    const key = deriveKey(SECRET, unit);
    const typed = ` ${key.toLowerCase().replace(/-/g, '')} `.replace(/0/g, 'o').replace(/1/g, 'l');
    expect(normalizeKey(typed)).toBe(key);
    expect(keyHash(typed)).toBe(keyHash(key));
    expect(keyHash(key)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('crockford encodes bits most significant first', () => {
    expect(crockford(Uint8Array.from([0xff, 0xff]), 3)).toBe('ZZZ');
    expect(crockford(Uint8Array.from([0x00, 0x00]), 3)).toBe('000');
    expect(crockford(Uint8Array.from([0b00001000, 0b10000000]), 3)).toBe('120');
  });
});
