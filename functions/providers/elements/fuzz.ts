import { createHmac, createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { unescapePemText } from '../shared/secretForms';
import type { FuzzHooks, FuzzRequest, SecretValues } from '../types';
import { signJwt } from './sample';

/**
 * The fuzzer's view of Marketplace Elements (scripts/soak/fuzz): a JWT per offer inside a JSON
 * envelope. Structural changes work on the claims (`body: 'jwt'`); the forgeries are the classic
 * JWT attacks, all of which must be refused.
 */

export function envelope(token: string, offerId: string): FuzzRequest {
  return { method: 'POST', target: `/webhooks/elements/${encodeURIComponent(offerId)}`, headers: [['Content-Type', 'application/json']], body: Buffer.from(JSON.stringify({ payload: token })) };
}

/** The dev offer the local stack generated (its id, private key and stored public key). */
export function devOffer(secrets: SecretValues): { offerId: string; key: KeyObject; publicPem: string } {
  const [offerId, pem] = Object.entries(JSON.parse(secrets.KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS ?? '{}') as Record<string, string>)[0] ?? [];
  if (!offerId || !pem) throw new Error('KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS is not set: only the local stack has an Elements private key');
  const publicPem = (JSON.parse(secrets.KEYSMITH_ELEMENTS_OFFER_KEYS ?? '{}') as Record<string, string>)[offerId] ?? '';
  return { offerId, key: createPrivateKey(unescapePemText(pem)), publicPem };
}

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function flipB64(s: string, n: number): string {
  const bytes = Buffer.from(s, 'base64url');
  bytes[n % bytes.length] = bytes[n % bytes.length]! ^ 0x01;
  return bytes.toString('base64url');
}

export const elementsFuzz: FuzzHooks = {
  body: 'jwt',
  classify: (request, base, secrets) => {
    if (base?.provider !== 'elements') return { kind: 'reject', why: 'not a signed Elements request' };
    if (request.pathParameters.offerId !== devOffer(secrets).offerId) return { kind: 'reject', why: 'another offer' };
    return { kind: 'genuine' };
  },
  // `request.body` holds the claims text to be signed.
  resign: (request, secrets) => {
    const { offerId, key } = devOffer(secrets);
    return envelope(signJwt(request.body, key), offerId);
  },
  targets: (secrets) => [`/webhooks/elements/${devOffer(secrets).offerId}`, '/webhooks/elements/some-other-offer'],
  forged: (base, _others, n, _junk, { secrets, attacker }) => {
    const { offerId: offer, key: realKey, publicPem: pemEscaped } = devOffer(secrets);
    const token = (JSON.parse(base.body.toString('utf8')) as { payload: string }).payload;
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    const hs256 = (secret: string | Buffer, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, payload: string = p) => {
      const input = `${b64(header)}.${payload}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    const withHeader = (header: Record<string, unknown>, key: KeyObject, alg = 'sha256', payload = p) => {
      const input = `${b64(header)}.${payload}`;
      const sig = sign(alg, Buffer.from(input), key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key);
      return `${input}.${sig.toString('base64url')}`;
    };
    const resignedClaims = (extra: Record<string, unknown>) => signJwt(Buffer.from(JSON.stringify({ ...claims, ...extra })), realKey);
    const pem = pemEscaped.replace(/\\n/g, '\n');
    const attacks: [string, string, string?][] = [
      ['alg none, no signature', `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`],
      ['alg none, original signature', `${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}`],
      ['alg "None"', `${b64({ alg: 'None' })}.${p}.`],
      ['HS256 keyed with the offer public key PEM', hs256(pem)],
      ['HS256 keyed with the PEM as stored (escaped)', hs256(pemEscaped)],
      ['HS256 keyed with the DER of the public key', hs256(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'))],
      ['HS256 keyed with the empty string', hs256('')],
      ['expired an hour ago (real key)', resignedClaims({ iat: now - 7200, exp: now - 3600 })],
      ['not valid for an hour (real key)', resignedClaims({ nbf: now + 3600 })],
      ['exp as a string (real key)', resignedClaims({ exp: String(now + 600) })],
      ['signed by another EC key', withHeader({ alg: 'ES256', typ: 'JWT' }, attacker.ec)],
      ['embedded jwk of the signer', withHeader({ alg: 'ES256', jwk: attacker.ecPublicJwk }, attacker.ec)],
      ['kid path traversal', withHeader({ alg: 'ES256', kid: '../../../../dev/null' }, attacker.ec)],
      ['jku to a foreign key set', withHeader({ alg: 'ES256', jku: 'http://127.0.0.1:1/jwks.json', kid: 'x' }, attacker.ec)],
      ['RS256 by an attacker key', withHeader({ alg: 'RS256' }, attacker.rsa)],
      ['PS256 header, ES256 signature', `${b64({ alg: 'PS256' })}.${p}.${s}`],
      ['ES384 header, ES256 signature', `${b64({ alg: 'ES384' })}.${p}.${s}`],
      ['payload swapped under the real signature', `${h}.${b64({ ...claims, action: 'CreateAccount', subscriptionId: 'stolen', quantity: 1000 })}.${s}`],
      ['signature bytes flipped', `${h}.${p}.${flipB64(s, n)}`],
      ['signature removed', `${h}.${p}.`],
      ['two segments', `${h}.${p}`],
      ['five segments (JWE shape)', `${h}.${p}.${s}.${s}.${s}`],
      ['DER-encoded ECDSA signature (real key)', `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), realKey).toString('base64url')}`],
      ['crit extension (real key)', withHeader({ alg: 'ES256', crit: ['exp'], exp: 1 }, realKey)],
      ['b64:false (real key)', withHeader({ alg: 'ES256', b64: false, crit: ['b64'] }, realKey)],
      ['right token, another offer in the URL', token, 'other-offer'],
      ['right token, offer id in another case', token, offer.toUpperCase()],
      ['whitespace inside the token', `${h}. ${p}.${s}`],
    ];
    const [label, jwt, otherOffer] = attacks[n % attacks.length]!;
    return { label, request: envelope(jwt, otherOffer ?? offer) };
  },
};
