import { generateKeyPairSync } from 'node:crypto';
import { checkLicenseSecret, checkSigningKey, keyCheck } from '../../../lib/cli/keyChecks';
import { secretProblem } from '../../../lib/cli/secretChecks';
import { exampleCatalog } from '../../helpers/fixtures';

/**
 * doctor's key checks put each key to its use through the stack's own code: a value that only
 * looks right (and passes the text checks of `secrets set`) must still fail when it cannot work.
 */

const ed25519 = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('doctor key checks', () => {
  const catalog = exampleCatalog();

  it('a working Ed25519 signing key signs a license and its public key verifies it', async () => {
    expect(await checkSigningKey({ KEYSMITH_LICENSE_SIGNING_KEY: ed25519() }, catalog)).toMatchObject({ status: 'ok' });
  });

  it('a signing key the worker cannot load fails, although it looks well-formed', async () => {
    // Prepare: a PEM pasted with literal \r\n escapes — the format check accepts it, the worker's
    // key loader (applyContext) does not, so every signed-license order would fail.
    const crlf = ed25519().trim().split('\n').join('\\r\\n');
    expect(secretProblem('KEYSMITH_LICENSE_SIGNING_KEY', crlf)).toBeUndefined();

    // Act
    const check = await checkSigningKey({ KEYSMITH_LICENSE_SIGNING_KEY: crlf }, catalog);

    // Assess
    expect(check).toMatchObject({ name: 'KEYSMITH_LICENSE_SIGNING_KEY', status: 'fail', detail: expect.stringMatching(/^KEYSMITH_LICENSE_SIGNING_KEY cannot sign a license/) });
  });

  it('a private key of another type cannot sign keysmith licenses', async () => {
    const pem = rsa().privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(await checkSigningKey({ KEYSMITH_LICENSE_SIGNING_KEY: pem }, catalog)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/Ed25519/) });
  });

  it('Paddle public keys are loaded by the Paddle verifier: RSA passes, anything else names the key', async () => {
    const good = rsa().publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const notRsa = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(await keyCheck('KEYSMITH_PADDLE_PUBLIC_KEY', { KEYSMITH_PADDLE_PUBLIC_KEY: good }, catalog)).toMatchObject({ status: 'ok' });
    expect(await keyCheck('KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY', { KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY: good.replace(/\n/g, '\\n') }, catalog)).toMatchObject({ status: 'ok' });
    expect(await keyCheck('KEYSMITH_PADDLE_PUBLIC_KEY', { KEYSMITH_PADDLE_PUBLIC_KEY: notRsa }, catalog)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^KEYSMITH_PADDLE_PUBLIC_KEY cannot check Paddle signatures/),
    });
    expect(await keyCheck('KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY', { KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }, catalog)).toMatchObject({
      status: 'fail',
    });
  });

  it('the Elements offer table is read by the Elements parser, naming the offer without a usable key', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(await keyCheck('KEYSMITH_ELEMENTS_OFFER_KEYS', { KEYSMITH_ELEMENTS_OFFER_KEYS: JSON.stringify({ 'offer-a': ec }) }, catalog)).toMatchObject({ status: 'ok' });
    expect(await keyCheck('KEYSMITH_ELEMENTS_OFFER_KEYS', { KEYSMITH_ELEMENTS_OFFER_KEYS: JSON.stringify({ 'offer-a': ec, 'offer-b': 'not a key' }) }, catalog)).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('offer "offer-b"'),
    });
    expect(await keyCheck('KEYSMITH_ELEMENTS_OFFER_KEYS', { KEYSMITH_ELEMENTS_OFFER_KEYS: '{not json' }, catalog)).toMatchObject({ status: 'fail' });
  });

  it('the license secret must be present for any license to be issued', () => {
    expect(checkLicenseSecret({}, catalog)).toMatchObject({ status: 'fail', name: 'KEYSMITH_LICENSE_SECRET' });
    expect(checkLicenseSecret({ KEYSMITH_LICENSE_SECRET: 'x'.repeat(32) }, catalog)).toMatchObject({ status: 'ok' });
  });
});
