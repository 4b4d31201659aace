import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { signLicense } from '../../../functions/domain/signedLicense';
import { verifyLicense } from '../../../verifier';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const claims = { licenseId: 'lic_1', product: 'pro', seats: 3, customer: 'ada@example.com', issuedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2027-01-01T00:00:00.000Z' };
const at = new Date('2026-06-01T00:00:00Z');
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('signed licenses, verified offline', () => {
  const token = signLicense(privateKey, claims);

  it('verify with the public key alone and expose the claims', async () => {
    const check = await verifyLicense(token, publicPem, { now: at });
    expect(check).toEqual({ valid: true, code: 'VALID', detail: 'valid until 2027-01-01T00:00:00.000Z', license: claims });
  });

  it('are byte-identical when re-issued for the same unit', () => {
    expect(signLicense(privateKey, { ...claims })).toBe(token);
  });

  it('verify with the public key as a JWK too', async () => {
    const jwk = publicKey.export({ format: 'jwk' });
    expect((await verifyLicense(token, JSON.stringify(jwk), { now: at })).valid).toBe(true);
  });

  it.each([0, 10, 40, token.length - 5])('fail with a flipped byte at %i', async (index) => {
    const chars = token.split('');
    chars[index] = chars[index] === 'A' ? 'B' : 'A';
    const check = await verifyLicense(chars.join(''), publicPem, { now: at });
    expect(check.valid).toBe(false);
  });

  it('fail with another key', async () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await verifyLicense(token, other, { now: at })).toMatchObject({ valid: false, code: 'BAD_SIGNATURE' });
  });

  it('report EXPIRED after the expiry and WRONG_PRODUCT for another product', async () => {
    expect(await verifyLicense(token, publicPem, { now: new Date('2027-02-01T00:00:00Z') })).toMatchObject({ valid: false, code: 'EXPIRED' });
    expect(await verifyLicense(token, publicPem, { now: at, product: 'basic' })).toMatchObject({ valid: false, code: 'WRONG_PRODUCT' });
  });

  it('refuse alg none and an HS256 token keyed with the public key', async () => {
    const payload = token.split('.')[1]!;
    const none = `${b64({ alg: 'none', typ: 'keysmith-license+jwt' })}.${payload}.`;
    expect((await verifyLicense(none, publicPem, { now: at })).valid).toBe(false);
    const header = b64({ alg: 'HS256', typ: 'keysmith-license+jwt' });
    const mac = createHmac('sha256', publicPem).update(`${header}.${payload}`).digest('base64url');
    expect(await verifyLicense(`${header}.${payload}.${mac}`, publicPem, { now: at })).toMatchObject({ valid: false });
  });

  it('report MALFORMED for garbage and BAD_KEY for a bad key', async () => {
    expect(await verifyLicense('not a token', publicPem)).toMatchObject({ valid: false, code: 'MALFORMED' });
    expect(await verifyLicense(token, 'not a key')).toMatchObject({ valid: false, code: 'BAD_KEY' });
  });

  it('verify with an independent JWT implementation (PyJWT)', () => {
    const script = [
      'import jwt, sys',
      'claims = jwt.decode(sys.argv[1], sys.argv[2], algorithms=["EdDSA"], issuer="keysmith", options={"verify_exp": False})',
      'print(claims["jti"], claims["product"], claims["seats"])',
    ].join('\n');
    const out = execFileSync('/usr/bin/python3', ['-c', script, token, publicPem], { encoding: 'utf8' });
    expect(out.trim()).toBe('lic_1 pro 3');
  });

  describe('test licenses (issued for a provider test order, live: false)', () => {
    const test = signLicense(privateKey, { ...claims, test: true });
    const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

    it('carry the claim test: true; live licenses carry no test claim at all (byte-identical to before)', () => {
      expect(payloadOf(test).test).toBe(true);
      expect(payloadOf(token)).not.toHaveProperty('test');
      expect(signLicense(privateKey, { ...claims, test: false })).toBe(token);
    });

    it('are refused with TEST_LICENSE unless the caller opts in', async () => {
      // Act
      const refused = await verifyLicense(test, publicPem, { now: at });
      const allowed = await verifyLicense(test, publicPem, { now: at, allowTest: true });
      // Assess
      expect(refused).toMatchObject({ valid: false, code: 'TEST_LICENSE', detail: expect.stringMatching(/TEST license.*allowTest/) });
      expect(allowed).toEqual({ valid: true, code: 'VALID', detail: 'TEST license, valid until 2027-01-01T00:00:00.000Z', license: { ...claims, test: true } });
    });

    it('allowTest changes nothing for a live license', async () => {
      expect(await verifyLicense(token, publicPem, { now: at, allowTest: true })).toEqual(await verifyLicense(token, publicPem, { now: at }));
    });

    it('the claim is covered by the signature: stripping it breaks the token', async () => {
      const [header, , signature] = test.split('.');
      const { test: _dropped, ...rest } = payloadOf(test);
      const stripped = `${header}.${Buffer.from(JSON.stringify(rest)).toString('base64url')}.${signature}`;
      expect(await verifyLicense(stripped, publicPem, { now: at })).toMatchObject({ valid: false, code: 'BAD_SIGNATURE' });
    });
  });
});
