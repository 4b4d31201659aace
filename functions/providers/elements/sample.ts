import { createPrivateKey, type KeyObject, randomUUID, sign } from 'node:crypto';
import { SAMPLE_EMAIL, type SampleBuilder } from '../sample';
import createAccount from './fixtures/create-account.json';
import { eventIdFor } from './normalize';
import { ELEMENTS_ACTIONS, type ElementsAction } from './schema';

/**
 * Marketplace Elements samples: one action's claims, signed as a JWT with the dev private key of
 * an offer (`KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS` = `{"<offerId>":"<PKCS#8 PEM>"}`; the local
 * stack generates an EC P-256 pair for `dev-offer`) and wrapped as `{"payload":"<jwt>"}`.
 *
 * A fresh subscription id each time unless `orderId` is given, so a sequence of
 * `keysmith send elements --event <Action> --order <subscriptionId>` walks one subscription
 * through its lifecycle. `file` is either claims JSON (signed byte for byte as the payload
 * segment) or a ready `{"payload":"<jwt>"}` body (sent as it is).
 *
 * Signing uses node:crypto rather than jose's async `SignJWT` because `SampleBuilder.build` is
 * synchronous; the ingress verifies these tokens with jose, and the tests prove they pass.
 */

const TOKEN_LIFETIME_S = 5 * 60;
const DAY_S = 86_400;

export const elementsSample: SampleBuilder = {
  events: ELEMENTS_ACTIONS,
  refundEvent: 'Unsubscribe',
  soakOrderId: (n, run) => `soak-${run}-${n}`,
  build({ secrets, event, file, email = SAMPLE_EMAIL, orderId, validForSeconds }) {
    const { offerId, key } = devKey(secrets.KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS);
    let token: string;
    let subscriptionId: string;
    if (file) {
      const parsed = JSON.parse(file.toString('utf8')) as { payload?: unknown; subscriptionId?: unknown };
      if (typeof parsed.payload === 'string') {
        token = parsed.payload;
        subscriptionId = readSubscriptionId(token);
        return request(offerId, Buffer.from(file), subscriptionId, token, false);
      }
      subscriptionId = typeof parsed.subscriptionId === 'string' ? parsed.subscriptionId : '';
      token = signJwt(file, key);
    } else {
      subscriptionId = orderId ?? randomUUID();
      const claims = sampleClaims((event as ElementsAction | undefined) ?? 'CreateAccount', subscriptionId, email);
      if (validForSeconds !== undefined) claims.exp = (claims.iat as number) + validForSeconds;
      // Elements' test flag (normalize.ts reads `isTest`): a sample is never a live order.
      token = signJwt(Buffer.from(JSON.stringify({ ...claims, isTest: true })), key);
    }
    return request(offerId, Buffer.from(JSON.stringify({ payload: token })), subscriptionId, token, !file);
  },
};

function request(offerId: string, body: Buffer, subscriptionId: string, token: string, testFlag: boolean) {
  return {
    method: 'POST' as const,
    path: `/webhooks/elements/${encodeURIComponent(offerId)}`,
    headers: { 'content-type': 'application/json' },
    body,
    orderId: subscriptionId,
    eventIds: [eventIdFor(offerId, token.split('.')[1] ?? '')],
    testFlag,
  };
}

/** The claims one action would carry. Fields beyond CreateAccount's are guesses (UNKNOWN). */
export function sampleClaims(action: ElementsAction, subscriptionId: string, email?: string, now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const base: Record<string, unknown> = { action, subscriptionId, planIdentifier: createAccount.planIdentifier, iat: now, exp: now + TOKEN_LIFETIME_S };
  const day = (offset: number) => new Date((now + offset * DAY_S) * 1000).toISOString().slice(0, 10);
  switch (action) {
    case 'CreateAccount':
      return { ...createAccount, ...base, ...(email ? { email } : {}) };
    case 'UpdateAccount':
      return { ...base, email: email ?? createAccount.email, firstName: 'Jane', lastName: createAccount.lastName };
    case 'TermsUpdate':
      return { ...base, termStartDate: day(0), termEndDate: day(30) };
    case 'Renew':
      return { ...base, termStartDate: day(30), termEndDate: day(60) };
    case 'ChangePlan':
      return { ...base, planIdentifier: 'plan02', quantity: 1 };
    case 'ChangeQuantity':
      return { ...base, quantity: 5 };
    default:
      return base;
  }
}

function devKey(raw: string | undefined): { offerId: string; key: KeyObject } {
  if (!raw) {
    throw new Error(
      'KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS is not set: cannot sign a Marketplace Elements request ' + '(the local stack generates it; elsewhere set it to {"<offerId>":"<PKCS#8 PEM private key>"})',
    );
  }
  let keys: Record<string, unknown>;
  try {
    keys = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new Error('KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS is not JSON: expected {"<offerId>":"<PKCS#8 PEM private key>"}');
  }
  const offerId = 'dev-offer' in keys ? 'dev-offer' : Object.keys(keys)[0];
  const pem = offerId === undefined ? undefined : keys[offerId];
  if (offerId === undefined || typeof pem !== 'string') throw new Error('KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS names no offer with a PEM private key');
  return { offerId, key: createPrivateKey(pem.replace(/\\n/g, '\n')) };
}

/** A compact JWS over `payload` (the exact bytes), with the algorithm the key type implies. */
export function signJwt(payload: Buffer, key: KeyObject): string {
  const { alg, hash } = signingAlgorithm(key);
  const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
  const input = `${header}.${payload.toString('base64url')}`;
  const signature = sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function signingAlgorithm(key: KeyObject): { alg: string; hash: string | null } {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return { alg: 'ES384', hash: 'sha384' };
      if (curve === 'secp521r1') return { alg: 'ES512', hash: 'sha512' };
      return { alg: 'ES256', hash: 'sha256' };
    }
    case 'rsa':
      return { alg: 'RS256', hash: 'sha256' };
    case 'ed25519':
      return { alg: 'EdDSA', hash: null };
    default:
      throw new Error(`cannot sign a sample with a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
}

function readSubscriptionId(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { subscriptionId?: unknown };
    return typeof claims.subscriptionId === 'string' ? claims.subscriptionId : '';
  } catch {
    return '';
  }
}
