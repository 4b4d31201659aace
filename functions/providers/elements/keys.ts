import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/**
 * The offers' public keys, from the secret `KEYSMITH_ELEMENTS_OFFER_KEYS`: a JSON object
 * `{ "<offerId>": <key> }` where `<key>` is
 *   - a PEM string (SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY` or an X.509 `CERTIFICATE`;
 *     `\n` escapes are accepted for one-line pastes),
 *   - bare base64 of a DER SPKI key (what a UI that shows "the public key" often displays),
 *   - a public JWK, as an object or as a JSON string, or a JWK Set `{ "keys": [...] }`,
 *   - or an array of the above while the seller rotates a key (any of them verifies).
 *
 * The value is parsed once per distinct secret value (the pipeline re-reads secrets after a
 * failed verification, and a new value must take effect, so the cache is keyed by the value).
 * An offer whose key cannot be used keeps the reason, so its requests are answered
 * NOT_CONFIGURED with an actionable message, while the other offers keep working.
 *
 * Each key carries the algorithms it accepts, pinned by key type (never by the token's header):
 * RSA → RS256/384/512 and PS256/384/512; EC → only its curve's ES256 (P-256), ES384 (P-384) or
 * ES512 (P-521); Ed25519 → EdDSA (and its RFC 9864 name Ed25519). `none` and every HS* can never
 * be in such a list, which is what defeats the classic "HS256 with the public key as the HMAC
 * secret" confusion. A JWK that declares `alg` narrows its list to that one algorithm.
 */

export interface OfferKey {
  key: KeyObject;
  /** The only `alg` header values a token verified with this key may carry. */
  algorithms: readonly string[];
  /** e.g. "EC P-256", for messages; never key material. */
  kind: string;
}

export type OfferEntry = { keys: OfferKey[] } | { problem: string };
export type OfferKeyTable = { offers: ReadonlyMap<string, OfferEntry> } | { problem: string };

const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
const EC_ALGORITHM_BY_CURVE: Record<string, { alg: string; name: string }> = {
  prime256v1: { alg: 'ES256', name: 'P-256' },
  secp384r1: { alg: 'ES384', name: 'P-384' },
  secp521r1: { alg: 'ES512', name: 'P-521' },
};
/** jose refuses shorter RSA keys at verification time; say so when the secret is read instead. */
const MIN_RSA_BITS = 2048;
/** More keys than this for one offer is a configuration mistake, not a rotation. */
const MAX_KEYS_PER_OFFER = 5;

let cached: { raw: string; table: OfferKeyTable } | undefined;

/** The parsed key table for this secret value (parsed once per distinct value). */
export function offerKeyTable(raw: string): OfferKeyTable {
  if (cached?.raw === raw) return cached.table;
  const table = parseOfferKeys(raw);
  cached = { raw, table };
  return table;
}

export function parseOfferKeys(raw: string): OfferKeyTable {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { problem: 'is not JSON; expected {"<offerId>": "<PEM public key or JWK>"}' };
  }
  if (!isPlainObject(json) || Object.keys(json).length === 0) {
    return { problem: 'must be a non-empty JSON object {"<offerId>": "<PEM public key or JWK>"}' };
  }
  // A Map, so an offer id from the URL such as "__proto__" or "constructor" finds nothing.
  const offers = new Map<string, OfferEntry>();
  for (const [offerId, value] of Object.entries(json)) offers.set(offerId, parseEntry(value));
  return { offers };
}

function parseEntry(value: unknown): OfferEntry {
  const candidates = keyCandidates(value);
  if (candidates.length === 0) return { problem: 'no key given (expected a PEM public key or a JWK)' };
  if (candidates.length > MAX_KEYS_PER_OFFER) return { problem: `more than ${MAX_KEYS_PER_OFFER} keys for one offer` };
  const keys: OfferKey[] = [];
  for (const candidate of candidates) {
    const parsed = parseKey(candidate);
    if ('problem' in parsed) return parsed;
    keys.push(parsed);
  }
  return { keys };
}

/** Flatten arrays, JWK Sets and JSON-encoded JWKs into single key values. */
function keyCandidates(value: unknown, depth = 0): unknown[] {
  if (depth > 2) return [value];
  if (Array.isArray(value)) return value.flatMap((v) => keyCandidates(v, depth + 1));
  if (typeof value === 'string' && value.trim().startsWith('{')) {
    try {
      return keyCandidates(JSON.parse(value), depth + 1);
    } catch {
      return [value];
    }
  }
  if (isPlainObject(value) && Array.isArray(value.keys)) return keyCandidates(value.keys, depth + 1);
  return [value];
}

function parseKey(value: unknown): OfferKey | { problem: string } {
  let key: KeyObject;
  let declaredAlg: string | undefined;
  try {
    if (typeof value === 'string') {
      const text = value.replace(/\\n/g, '\n').trim();
      // Never echo the value: it may be a private key pasted by mistake.
      if (/PRIVATE KEY/.test(text)) return { problem: 'is a private key; configure the Offer Public Key shown in Marketplace Elements' };
      if (text.startsWith('-----BEGIN')) key = createPublicKey(text);
      else if (/^[A-Za-z0-9+/=\s]+$/.test(text)) key = createPublicKey({ key: Buffer.from(text.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
      else return { problem: 'is neither a PEM public key, base64 DER nor a JWK' };
    } else if (isPlainObject(value)) {
      if ('d' in value || 'p' in value || 'k' in value || value.kty === 'oct') {
        return { problem: 'is a private or symmetric JWK; configure the public key only' };
      }
      if (typeof value.alg === 'string') declaredAlg = value.alg;
      key = createPublicKey({ key: value as JsonWebKey, format: 'jwk' });
    } else {
      return { problem: 'is neither a PEM public key nor a JWK' };
    }
  } catch {
    return { problem: 'could not be read as a public key (PEM, base64 DER SPKI or JWK)' };
  }
  const pinned = algorithmsFor(key);
  if ('problem' in pinned) return pinned;
  if (declaredAlg !== undefined) {
    if (!pinned.algorithms.includes(declaredAlg)) return { problem: `its JWK "alg" ${sanitize(declaredAlg)} does not fit a ${pinned.kind} key` };
    return { key, algorithms: [declaredAlg], kind: pinned.kind };
  }
  return { key, ...pinned };
}

/** The algorithms a key's type allows — the only place algorithms are chosen. */
export function algorithmsFor(key: KeyObject): { algorithms: readonly string[]; kind: string } | { problem: string } {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) return { problem: `RSA keys must have at least ${MIN_RSA_BITS} bits (this one has ${bits})` };
      return { algorithms: RSA_ALGORITHMS, kind: `RSA ${bits}` };
    }
    case 'ec': {
      const curve = EC_ALGORITHM_BY_CURVE[details.namedCurve ?? ''];
      if (!curve) return { problem: `EC curve ${details.namedCurve ?? '(unknown)'} is not supported; use P-256, P-384 or P-521` };
      return { algorithms: [curve.alg], kind: `EC ${curve.name}` };
    }
    case 'ed25519':
      return { algorithms: ['EdDSA', 'Ed25519'], kind: 'Ed25519' };
    default:
      // rsa-pss-only SPKI keys: jose on Node 20 cannot export them as JWK, so they cannot verify.
      return { problem: `${key.asymmetricKeyType ?? 'this'} keys are not supported; use an RSA, EC (P-256/384/521) or Ed25519 public key` };
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sanitize(value: string): string {
  return JSON.stringify(value.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 20));
}
