import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SignJWT } from 'jose';
import { toWebhookRequest } from '../../../functions/ingress/handler';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { elements } from '../../../functions/providers/elements';
import { elementsSample } from '../../../functions/providers/elements/sample';
import { ELEMENTS_ACTIONS } from '../../../functions/providers/elements/schema';
import { exampleCatalog, fixture, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

/**
 * Marketplace Elements ingress, end to end through runIngress: tokens are signed by jose and,
 * independently, by PyJWT + cryptography (/usr/bin/python3), never by the code under test.
 */

const PYTHON = '/usr/bin/python3';

type Pair = { privateKey: KeyObject; publicKey: KeyObject };
const spki = (pair: Pair) => pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const pkcs8 = (pair: Pair) => pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const jwk = (pair: Pair) => pair.publicKey.export({ format: 'jwk' });

const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const OFFER_KEYS = {
  'offer-ec': spki(ec256),
  'offer-rsa': spki(rsa),
  'offer-p384': spki(ec384),
  'offer-ed': spki(ed),
  'offer-jwk': jwk(ec256),
  'offer-jwk-string': JSON.stringify(jwk(ec256)),
  'offer-rsa-jwk': { ...jwk(rsa), alg: 'PS256' },
  'offer-other': spki(other),
  'offer-one-line': spki(ec256).replace(/\n/g, '\\n'),
  'offer-rotating': [spki(other), spki(ec256)],
};
const SECRETS = testSecrets({ KEYSMITH_ELEMENTS_OFFER_KEYS: JSON.stringify(OFFER_KEYS) });

const ACTIONS = JSON.parse(fixture('elements-actions.json').toString('utf8')) as Record<string, Record<string, unknown>>;
const documented = JSON.parse(fixture('marketplace-elements-createaccount.json').toString('utf8')) as {
  decoded_jwt_action_example_CreateAccount: Record<string, unknown>;
};
const CREATE_ACCOUNT = Object.fromEntries(Object.entries(documented.decoded_jwt_action_example_CreateAccount).filter(([k]) => k !== '...'));
const SUB = 'ee437b7e-e388-4f63-a604-45b44d6e684b';

const nowS = () => Math.floor(Date.now() / 1000);

async function joseSign(claims: Record<string, unknown>, key: KeyObject, alg: string, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...header }).sign(key);
}

/** PyJWT + cryptography: an implementation that shares no code with jose or node:crypto's JWS handling. */
function pySign(claims: Record<string, unknown>, privatePem: string, alg: string): string {
  const script = 'import sys, json, jwt\na = json.load(sys.stdin)\nsys.stdout.write(jwt.encode(a["claims"], a["key"], algorithm=a["alg"]))';
  return execFileSync(PYTHON, ['-c', script], { input: JSON.stringify({ claims, key: privatePem, alg }) })
    .toString('utf8')
    .trim();
}

function pyVerify(token: string, publicPem: string, algorithms: string[]): Record<string, unknown> {
  const script = 'import sys, json, jwt\na = json.load(sys.stdin)\nprint(json.dumps(jwt.decode(a["token"], a["key"], algorithms=a["algs"])))';
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: JSON.stringify({ token, key: publicPem, algs: algorithms }) }).toString('utf8')) as Record<string, unknown>;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const envelope = (token: string) => Buffer.from(JSON.stringify({ payload: token }));

function request(body: Buffer, offerId = 'offer-ec', headers: Record<string, string> = { 'content-type': 'application/json' }): WebhookRequest {
  return {
    method: 'POST',
    path: `/webhooks/elements/${offerId}`,
    routeKey: 'POST /webhooks/elements/{offerId}',
    pathParameters: offerId ? { offerId } : {},
    headers,
    rawQuery: '',
    body,
    receivedAt: new Date(),
    requestId: 'r1',
  };
}

async function deliver(req: WebhookRequest, queue = new MemoryQueue(), secrets = SECRETS) {
  const answer = await runIngress(elements, req, { queue, catalog: exampleCatalog(), secrets: async () => secrets, log: silentLogger() });
  return { answer, queue };
}

const claims = (overrides: Record<string, unknown> = {}) => ({ ...CREATE_ACCOUNT, iat: nowS(), exp: nowS() + 300, ...overrides });

function expectRefused(answer: { status: number; body: string; headers?: Record<string, string> }, status: number, code: string, message?: RegExp) {
  expect(answer.status).toBe(status);
  expect(answer.headers?.['content-type']).toBe('application/json');
  const body = JSON.parse(answer.body) as { success: boolean; message: string };
  expect(body.success).toBe(false);
  expect(body.message.startsWith(`${code}: `)).toBe(true);
  if (message) expect(body.message).toMatch(message);
  return body;
}

describe('Marketplace Elements ingress', () => {
  describe('accepts validly signed tokens', () => {
    it('accepts an ES256 token (jose) against a PEM key and answers {"success":true} as JSON', async () => {
      // Prepare
      const token = await joseSign(claims(), ec256.privateKey, 'ES256');
      // Act
      const { answer, queue } = await deliver(request(envelope(token)));
      // Assess
      expect(answer).toEqual({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"success":true}' });
      expect(queue.sent).toHaveLength(1);
      expect(queue.sent[0]).toMatchObject({
        provider: 'elements',
        action: 'grant',
        reason: 'CreateAccount',
        scope: SUB,
        orderId: SUB,
        live: true,
        customer: { email: 'example@example.com', name: 'John Doe' },
        items: [{ productId: 'plan01', quantity: 1 }],
        subscription: { id: SUB },
      });
      expect(queue.sent[0]!.eventId).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
      expect(queue.sent[0]!.businessKey).toMatch(new RegExp(`^${SUB}#CreateAccount#[A-Za-z0-9_-]{32}$`));
    });

    it('accepts an RS256 token signed by PyJWT (an independent implementation)', async () => {
      const token = pySign(claims(), pkcs8(rsa), 'RS256');
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'RS256' });
      const { answer, queue } = await deliver(request(envelope(token), 'offer-rsa'));
      expect(answer.status).toBe(200);
      expect(queue.sent).toHaveLength(1);
    });

    it.each([
      ['PS512 (PyJWT) against an RSA PEM', 'offer-rsa', () => pySign(claims(), pkcs8(rsa), 'PS512')],
      ['PS256 (PyJWT) against an RSA JWK that declares alg PS256', 'offer-rsa-jwk', () => pySign(claims(), pkcs8(rsa), 'PS256')],
      ['ES256 (PyJWT) against a PEM key', 'offer-ec', () => pySign(claims(), pkcs8(ec256), 'ES256')],
      ['ES384 (jose) against a P-384 key', 'offer-p384', () => joseSign(claims(), ec384.privateKey, 'ES384')],
      ['EdDSA (jose) against an Ed25519 key', 'offer-ed', () => joseSign(claims(), ed.privateKey, 'EdDSA')],
      ['EdDSA (PyJWT) against an Ed25519 key', 'offer-ed', () => pySign(claims(), pkcs8(ed), 'EdDSA')],
      ['ES256 against a JWK object', 'offer-jwk', () => joseSign(claims(), ec256.privateKey, 'ES256')],
      ['ES256 against a JWK given as a JSON string', 'offer-jwk-string', () => joseSign(claims(), ec256.privateKey, 'ES256')],
      ['ES256 against a PEM pasted on one line with \\n escapes', 'offer-one-line', () => joseSign(claims(), ec256.privateKey, 'ES256')],
      ['ES256 against the second key of a rotation', 'offer-rotating', () => joseSign(claims(), ec256.privateKey, 'ES256')],
    ])('accepts %s', async (_name, offerId, make) => {
      const { answer, queue } = await deliver(request(envelope(await make()), offerId));
      expect(answer.status).toBe(200);
      expect(queue.sent).toHaveLength(1);
    });

    it('accepts a key given as bare base64 DER (no PEM armour)', async () => {
      const der = ec256.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      const secrets = testSecrets({ KEYSMITH_ELEMENTS_OFFER_KEYS: JSON.stringify({ 'offer-ec': der }) });
      const { answer } = await deliver(request(envelope(await joseSign(claims(), ec256.privateKey, 'ES256'))), new MemoryQueue(), secrets);
      expect(answer.status).toBe(200);
    });

    it('honors exp with 60 s of clock skew', async () => {
      const token = await joseSign(claims({ exp: nowS() - 30 }), ec256.privateKey, 'ES256');
      expect((await deliver(request(envelope(token)))).answer.status).toBe(200);
    });

    it('works through the Lambda event conversion (path parameter, base64 body, header case)', async () => {
      const body = envelope(await joseSign(claims(), ec256.privateKey, 'ES256'));
      const event = {
        version: '2.0',
        rawPath: '/webhooks/elements/offer-ec',
        rawQueryString: '',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        pathParameters: { offerId: 'offer-ec' },
        body: body.toString('base64'),
        isBase64Encoded: true,
        requestContext: { http: { method: 'POST', path: '/webhooks/elements/offer-ec' }, requestId: 'r' },
      } as unknown as APIGatewayProxyEventV2;
      const { answer, queue } = await deliver(toWebhookRequest(event));
      expect(answer.status).toBe(200);
      expect(queue.sent).toHaveLength(1);
    });
  });

  describe('refuses what it cannot verify, with 401 and nothing enqueued', () => {
    const forge = (header: Record<string, unknown>, payload: Record<string, unknown>, signature = '') => `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${signature}`;

    it.each(['offer-ec', 'offer-rsa', 'offer-ed'])('refuses alg "none" (%s)', async (offerId) => {
      const { answer, queue } = await deliver(request(envelope(forge({ alg: 'none', typ: 'JWT' }, claims())), offerId));
      expectRefused(answer, 401, 'UNAUTHORIZED', /algorithm "none" is not accepted/);
      expect(queue.sent).toHaveLength(0);
    });

    it.each([
      ['RSA', 'offer-rsa', () => spki(rsa)],
      ['EC', 'offer-ec', () => spki(ec256)],
      ['a one-line PEM', 'offer-one-line', () => spki(ec256).replace(/\n/g, '\\n')],
    ])('refuses HS256 signed with the %s public key PEM as the HMAC secret (algorithm confusion)', async (_name, offerId, secret) => {
      for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
        const input = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(claims()))}`;
        const mac = createHmac(`sha${alg.slice(2)}`, secret())
          .update(input)
          .digest('base64url');
        const { answer, queue } = await deliver(request(envelope(`${input}.${mac}`), offerId));
        expectRefused(answer, 401, 'UNAUTHORIZED', new RegExp(`algorithm "${alg}" is not accepted`));
        expect(queue.sent).toHaveLength(0);
      }
    });

    it('pins EC algorithms to the curve: an ES256 token is refused by a P-384 key', async () => {
      const token = await joseSign(claims(), ec256.privateKey, 'ES256');
      const { answer, queue } = await deliver(request(envelope(token), 'offer-p384'));
      expectRefused(answer, 401, 'UNAUTHORIZED', /accepted: ES384\)/);
      expect(queue.sent).toHaveLength(0);
    });

    it("narrows to the JWK's declared alg: RS256 is refused by a key that declares PS256", async () => {
      const { answer } = await deliver(request(envelope(pySign(claims(), pkcs8(rsa), 'RS256')), 'offer-rsa-jwk'));
      expectRefused(answer, 401, 'UNAUTHORIZED', /accepted: PS256\)/);
    });

    it('refuses an expired token (beyond the 60 s skew)', async () => {
      const token = await joseSign(claims({ exp: nowS() - 120 }), ec256.privateKey, 'ES256');
      const { answer, queue } = await deliver(request(envelope(token)));
      expectRefused(answer, 401, 'UNAUTHORIZED', /token expired/);
      expect(queue.sent).toHaveLength(0);
    });

    it('refuses a token whose nbf is in the future (beyond the skew)', async () => {
      const token = pySign(claims({ nbf: nowS() + 600 }), pkcs8(rsa), 'RS256');
      const { answer, queue } = await deliver(request(envelope(token), 'offer-rsa'));
      expectRefused(answer, 401, 'UNAUTHORIZED', /not valid yet/);
      expect(queue.sent).toHaveLength(0);
    });

    it("refuses a token signed with another offer's key", async () => {
      const token = await joseSign(claims(), other.privateKey, 'ES256');
      const { answer, queue } = await deliver(request(envelope(token), 'offer-ec'));
      const body = expectRefused(answer, 401, 'UNAUTHORIZED');
      expect(body.message).toBe('UNAUTHORIZED: payload signature is not valid for this offer');
      expect(queue.sent).toHaveLength(0);
    });

    it.each(['offer-nope', '__proto__', 'constructor'])('refuses an offer with no configured key (%s) without listing offers', async (offerId) => {
      const token = await joseSign(claims(), ec256.privateKey, 'ES256');
      const { answer, queue } = await deliver(request(envelope(token), offerId));
      const body = expectRefused(answer, 401, 'UNAUTHORIZED');
      expect(body.message).toBe('UNAUTHORIZED: no key is configured for this offer');
      expect(queue.sent).toHaveLength(0);
    });

    it('refuses a token whose claims were changed after signing, and one with a flipped byte', async () => {
      const token = await joseSign(claims(), ec256.privateKey, 'ES256');
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const altered = b64url(JSON.stringify({ ...claims(), subscriptionId: 'someone-else' }));
      const flipped = payload.slice(0, 20) + (payload[20] === 'A' ? 'B' : 'A') + payload.slice(21);
      const badSignature = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
      for (const forged of [`${header}.${altered}.${signature}`, `${header}.${flipped}.${signature}`, `${header}.${payload}.${badSignature}`]) {
        const { answer, queue } = await deliver(request(envelope(forged)));
        expectRefused(answer, 401, 'UNAUTHORIZED', /payload signature is not valid for this offer/);
        expect(queue.sent).toHaveLength(0);
      }
    });

    it('answers 401, not 400, for an unverifiable token whose claims are also invalid (claims are read only after verification)', async () => {
      const token = await joseSign({ action: 'CreateAccount' }, other.privateKey, 'ES256');
      const { answer, queue } = await deliver(request(envelope(token)));
      expectRefused(answer, 401, 'UNAUTHORIZED');
      expect(queue.sent).toHaveLength(0);
    });

    it.each([['not-a-jwt'], ['a.b.c'], ['a.b'], ['...']])('refuses a payload that is not a JWT (%s) with 401', async (payload) => {
      const { answer, queue } = await deliver(request(envelope(payload)));
      expectRefused(answer, 401, 'UNAUTHORIZED');
      expect(queue.sent).toHaveLength(0);
    });

    it('refuses everything with 401 NOT_CONFIGURED while KEYSMITH_ELEMENTS_OFFER_KEYS is unset', async () => {
      const token = await joseSign(claims(), ec256.privateKey, 'ES256');
      const { answer, queue } = await deliver(request(envelope(token)), new MemoryQueue(), testSecrets());
      expectRefused(answer, 401, 'NOT_CONFIGURED', /KEYSMITH_ELEMENTS_OFFER_KEYS is not set/);
      expect(queue.sent).toHaveLength(0);
    });

    it.each([
      ['not JSON', 'PEM-without-json', /is not JSON/],
      ['an array', '[]', /non-empty JSON object/],
    ])('answers NOT_CONFIGURED when the secret is %s', async (_name, value, message) => {
      const token = await joseSign(claims(), ec256.privateKey, 'ES256');
      const { answer } = await deliver(request(envelope(token)), new MemoryQueue(), testSecrets({ KEYSMITH_ELEMENTS_OFFER_KEYS: value }));
      expectRefused(answer, 401, 'NOT_CONFIGURED', message);
    });

    it.each([
      ['a private key PEM', () => pkcs8(ec256), /is a private key/],
      ['a private JWK', () => ec256.privateKey.export({ format: 'jwk' }), /private or symmetric JWK/],
      ['a symmetric JWK', () => ({ kty: 'oct', k: b64url('secret') }), /private or symmetric JWK/],
      ['garbage', () => 'hello world!', /neither a PEM public key/],
      ['a 1024-bit RSA key', () => spki(generateKeyPairSync('rsa', { modulusLength: 1024 })), /at least 2048 bits/],
      ['a secp256k1 key', () => spki(generateKeyPairSync('ec', { namedCurve: 'secp256k1' })), /curve secp256k1 is not supported/],
      ['a JWK whose alg does not fit', () => ({ ...jwk(ec256), alg: 'HS256' }), /"HS256" does not fit/],
    ])('answers NOT_CONFIGURED for an offer configured with %s, never echoing the key', async (_name, key, message) => {
      const value = key();
      const secrets = testSecrets({ KEYSMITH_ELEMENTS_OFFER_KEYS: JSON.stringify({ 'offer-ec': value, 'offer-rsa': spki(rsa) }) });
      const { answer, queue } = await deliver(request(envelope(await joseSign(claims(), ec256.privateKey, 'ES256'))), new MemoryQueue(), secrets);
      const body = expectRefused(answer, 401, 'NOT_CONFIGURED', message);
      const material = typeof value === 'string' ? value : JSON.stringify(value);
      expect(body.message).not.toContain(material.length > 80 ? material.slice(40, 80) : material);
      expect(queue.sent).toHaveLength(0);
      // The other offers keep working.
      const ok = await deliver(request(envelope(pySign(claims(), pkcs8(rsa), 'RS256')), 'offer-rsa'), new MemoryQueue(), secrets);
      expect(ok.answer.status).toBe(200);
    });
  });

  describe('refuses malformed requests', () => {
    it.each([
      ['not JSON', Buffer.from('{"payload": ')],
      ['an empty body', Buffer.alloc(0)],
      ['no payload', Buffer.from('{"token":"x"}')],
      ['a non-string payload', Buffer.from('{"payload":{"alg":"none"}}')],
      ['an empty payload', Buffer.from('{"payload":""}')],
      ['a JSON array', Buffer.from('[]')],
    ])('answers 400 for an envelope that is %s', async (_name, body) => {
      const { answer, queue } = await deliver(request(body));
      expectRefused(answer, 400, 'MALFORMED');
      expect(queue.sent).toHaveLength(0);
    });

    it('answers 400 for a validly signed token without subscriptionId', async () => {
      const unsigned: Record<string, unknown> = claims();
      delete unsigned.subscriptionId;
      const { answer, queue } = await deliver(request(envelope(await joseSign(unsigned, ec256.privateKey, 'ES256'))));
      expectRefused(answer, 400, 'MALFORMED', /subscriptionId/);
      expect(queue.sent).toHaveLength(0);
    });

    it.each([
      ['no action', { action: undefined }, /action/],
      ['a negative quantity', { quantity: -1 }, /quantity/],
      ['a non-numeric quantity', { quantity: 'many' }, /quantity/],
      ['an unreadable term end', { action: 'Renew', termEndDate: 'next tuesday' }, /termEndDate is not a date/],
      ['ChangePlan without planIdentifier', { action: 'ChangePlan', planIdentifier: undefined }, /ChangePlan without planIdentifier/],
      ['ChangeQuantity without quantity', { action: 'ChangeQuantity' }, /ChangeQuantity without quantity/],
    ])('answers 400 for a validly signed token with %s', async (_name, overrides, message) => {
      const token = await joseSign(claims(overrides), ec256.privateKey, 'ES256');
      const { answer, queue } = await deliver(request(envelope(token)));
      expectRefused(answer, 400, 'MALFORMED', message);
      expect(queue.sent).toHaveLength(0);
    });

    it('answers 413 for an oversized body before anything else', async () => {
      const { answer, queue } = await deliver(request(Buffer.alloc(elements.maxBodyBytes + 1, 0x20)));
      expectRefused(answer, 413, 'TOO_LARGE');
      expect(queue.sent).toHaveLength(0);
    });

    it('answers 415 for a wrong content type', async () => {
      const token = await joseSign(claims(), ec256.privateKey, 'ES256');
      const { answer, queue } = await deliver(request(envelope(token), 'offer-ec', { 'content-type': 'text/html' }));
      expectRefused(answer, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(queue.sent).toHaveLength(0);
    });

    it('answers 404 when the URL names no offer', async () => {
      const { answer } = await deliver(request(envelope('x'), ''));
      expectRefused(answer, 404, 'NOT_FOUND', /\/webhooks\/elements\/\{offerId\}/);
    });
  });

  describe('maps the actions', () => {
    const mapped = async (action: string, extra: Record<string, unknown> = {}) => {
      const token = await joseSign({ ...ACTIONS[action], iat: 1767225600, exp: nowS() + 300, ...extra }, ec256.privateKey, 'ES256');
      const { answer, queue } = await deliver(request(envelope(token)));
      expect(answer.status).toBe(200);
      expect(queue.sent).toHaveLength(1);
      return queue.sent[0]!;
    };

    it.each([
      ['CreateAccount', { action: 'grant', items: [{ productId: 'plan01', quantity: 1 }], customer: { email: 'example@example.com', name: 'John Doe' }, subscription: { id: SUB } }],
      ['TermsUpdate', { action: 'extend', items: [], subscription: { id: SUB, periodEnd: '2026-02-01T00:00:00.000Z' } }],
      ['Renew', { action: 'extend', items: [], subscription: { id: SUB, periodEnd: '2026-03-01T00:00:00.000Z' } }],
      ['ChangePlan', { action: 'change', items: [{ productId: 'plan02', quantity: 1 }] }],
      ['ChangeQuantity', { action: 'change', items: [{ productId: 'plan01', quantity: 7 }] }],
      ['UpdateAccount', { action: 'change', items: [], customer: { email: 'new@example.com', name: 'Jane Doe' } }],
      ['Suspend', { action: 'suspend', items: [] }],
      ['Reinstate', { action: 'reinstate', items: [] }],
      ['Unsubscribe', { action: 'revoke', items: [] }],
    ])('%s', async (action, expected) => {
      const event = await mapped(action);
      expect(event).toMatchObject({ provider: 'elements', reason: action, scope: SUB, orderId: SUB, live: true, occurredAt: '2026-01-01T00:00:00.000Z', ...expected });
      // Only actions whose replay would do harm carry a business key.
      expect(event.businessKey !== undefined).toBe(['CreateAccount', 'TermsUpdate', 'Renew'].includes(action));
    });

    it('covers exactly the nine documented actions', () => {
      expect([...ELEMENTS_ACTIONS].sort()).toEqual(
        Object.keys(ACTIONS)
          .filter((k) => !k.startsWith('_'))
          .sort(),
      );
    });

    it('falls back to the offer id for the product and notificationEmail for the customer; quantity from the claims', async () => {
      const event = await mapped('CreateAccount', { planIdentifier: undefined, email: ' ', quantity: 3 });
      expect(event.items).toEqual([{ productId: 'offer-ec', quantity: 3 }]);
      expect(event.customer.email).toBe('notification@example.com');
    });

    it('records TermsUpdate without a term date instead of guessing, and Renew without one as a plain extend', async () => {
      expect(await mapped('TermsUpdate', { termStartDate: undefined, termEndDate: undefined })).toMatchObject({ action: 'record', items: [] });
      const renew = await mapped('Renew', { term: undefined });
      expect(renew).toMatchObject({ action: 'extend', subscription: { id: SUB } });
      expect(renew.subscription?.periodEnd).toBeUndefined();
      expect(renew.businessKey).toBeUndefined();
    });

    it('accepts and records an action it does not know (it verified; Elements may add actions)', async () => {
      const event = await mapped('Suspend', { action: 'Transfer' });
      expect(event).toMatchObject({ action: 'record', reason: 'Transfer', scope: SUB, items: [] });
    });

    it('matches action names without regard to case', async () => {
      expect(await mapped('Suspend', { action: 'suspend' })).toMatchObject({ action: 'suspend', reason: 'Suspend' });
    });

    it('marks the event as a test when a test claim says so', async () => {
      expect((await mapped('CreateAccount', { isTest: true })).live).toBe(false);
    });
  });

  describe('identity and answers', () => {
    it('gives an identical delivery the same event id and the same answer', async () => {
      const body = envelope(await joseSign(claims(), ec256.privateKey, 'ES256'));
      const first = await deliver(request(body));
      const second = await deliver(request(body));
      expect(second.answer).toEqual(first.answer);
      expect(second.queue.sent[0]!.eventId).toBe(first.queue.sent[0]!.eventId);
      expect(second.queue.sent[0]!.businessKey).toBe(first.queue.sent[0]!.businessKey);
    });

    it('gives a re-signed copy (new iat/exp/jti) a new event id but the same business key', async () => {
      const a = await deliver(request(envelope(await joseSign(claims({ iat: 1, jti: 'one' }), ec256.privateKey, 'ES256'))));
      const b = await deliver(request(envelope(await joseSign(claims({ iat: 2, jti: 'two' }), ec256.privateKey, 'ES256'))));
      expect(a.queue.sent[0]!.eventId).toMatch(/^jti:one#/);
      expect(b.queue.sent[0]!.eventId).not.toBe(a.queue.sent[0]!.eventId);
      expect(b.queue.sent[0]!.businessKey).toBe(a.queue.sent[0]!.businessKey);
    });

    it('answers 503 with {"success":false} JSON when the queue does not take the event', async () => {
      const queue = new MemoryQueue();
      queue.failWith = () => true;
      const { answer } = await deliver(request(envelope(await joseSign(claims(), ec256.privateKey, 'ES256'))), queue);
      expect(answer.status).toBe(503);
      expect(answer.headers?.['content-type']).toBe('application/json');
      expect(JSON.parse(answer.body)).toEqual({ success: false, message: expect.stringMatching(/retry/) });
      expect(queue.sent).toHaveLength(0);
    });
  });

  describe('sample builder', () => {
    const dev = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const devSecrets = {
      KEYSMITH_ELEMENTS_OFFER_KEYS: JSON.stringify({ 'dev-offer': spki(dev) }),
      KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS: JSON.stringify({ 'dev-offer': pkcs8(dev) }),
    };
    const asRequest = (sample: ReturnType<typeof elementsSample.build>): WebhookRequest => ({
      ...request(sample.body, decodeURIComponent(sample.path.split('/').pop()!), sample.headers),
      path: sample.path,
    });

    it('offers the nine actions, CreateAccount first', () => {
      expect(elementsSample.events).toEqual(ELEMENTS_ACTIONS);
      expect(elementsSample.events[0]).toBe('CreateAccount');
    });

    it('walks one subscription through every action, each accepted by the ingress and verifiable by PyJWT', async () => {
      const first = elementsSample.build({ secrets: devSecrets, email: 'buyer@example.com' });
      expect(first.path).toBe('/webhooks/elements/dev-offer');
      const subscription = first.orderId;
      const sent = [];
      for (const event of ELEMENTS_ACTIONS) {
        const sample = event === 'CreateAccount' ? first : elementsSample.build({ secrets: devSecrets, event, orderId: subscription });
        const token = (JSON.parse(sample.body.toString()) as { payload: string }).payload;
        expect(pyVerify(token, spki(dev), ['ES256'])).toMatchObject({ action: event, subscriptionId: subscription });
        const { answer, queue } = await deliver(asRequest(sample), new MemoryQueue(), testSecrets(devSecrets));
        expect(answer.status).toBe(200);
        expect(queue.sent.map((e) => e.eventId)).toEqual(sample.eventIds);
        sent.push(...queue.sent);
      }
      expect(new Set(sent.map((e) => e.scope))).toEqual(new Set([subscription]));
      expect(sent[0]!.customer.email).toBe('buyer@example.com');
      expect(sent.map((e) => e.action)).toEqual(['grant', 'extend', 'change', 'change', 'change', 'extend', 'suspend', 'revoke', 'reinstate']);
    });

    it('signs a claims file byte for byte, and sends a ready envelope as it is', async () => {
      const file = Buffer.from(JSON.stringify({ action: 'Suspend', subscriptionId: 'sub-file' }, null, 2));
      const signed = elementsSample.build({ secrets: devSecrets, file });
      const token = (JSON.parse(signed.body.toString()) as { payload: string }).payload;
      expect(Buffer.from(token.split('.')[1]!, 'base64url')).toEqual(file);
      expect(signed.orderId).toBe('sub-file');
      expect((await deliver(asRequest(signed), new MemoryQueue(), testSecrets(devSecrets))).answer.status).toBe(200);
      const resent = elementsSample.build({ secrets: devSecrets, file: signed.body });
      expect(resent.body).toEqual(signed.body);
      expect(resent.eventIds).toEqual(signed.eventIds);
    });

    it('says what is missing when the dev key is not set', () => {
      expect(() => elementsSample.build({ secrets: {} })).toThrow(/KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS is not set/);
    });
  });
});
