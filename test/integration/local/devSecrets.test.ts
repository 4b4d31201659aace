import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_ELEMENTS_OFFER } from '../../../functions/providers/elements/registration';
import { SECRET_NAMES } from '../../../functions/providers/registry';
import { DEV_ONLY_NAMES, ensureDevSecrets, readDevSecrets } from '../../../lib/local/devSecrets';

describe('local dev secrets', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = join(mkdtempSync(join(tmpdir(), 'keysmith-secrets-')), 'state');
  });
  afterEach(() => rmSync(join(stateDir, '..'), { recursive: true, force: true }));

  it('generates every secret once, in a 0600 file, and reuses it', () => {
    // Act
    const first = ensureDevSecrets(stateDir, {});
    const second = ensureDevSecrets(stateDir, {});

    // Assess
    expect(first.file).toBe(join(stateDir, 'dev-secrets.env'));
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    for (const name of [...SECRET_NAMES, ...DEV_ONLY_NAMES]) expect(first.values[name]).toEqual(expect.any(String));
    expect(second.values).toEqual(first.values);
    expect(readDevSecrets(stateDir)).toEqual(first.values);
    expect(readDevSecrets(join(stateDir, 'elsewhere'))).toBeUndefined();
  });

  it('generates usable values and matching key pairs', () => {
    const { values: v } = ensureDevSecrets(stateDir, {});

    for (const name of ['KEYSMITH_FASTSPRING_SECRET', 'KEYSMITH_HOTMART_HOTTOK', 'KEYSMITH_LICENSE_SECRET'] as const) {
      expect(Buffer.from(v[name]!, 'base64url')).toHaveLength(32);
    }
    expect(v.KEYSMITH_SELLDONE_PATH_SECRET!).toMatch(/^[A-Za-z0-9]{32,}$/);

    const data = Buffer.from('signed by the dev sender');
    const paddle = createPublicKey(v.KEYSMITH_PADDLE_PUBLIC_KEY!);
    expect(paddle.asymmetricKeyType).toBe('rsa');
    expect(paddle.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(verify('sha1', data, paddle, sign('sha1', data, createPrivateKey(v.KEYSMITH_DEV_PADDLE_PRIVATE_KEY!)))).toBe(true);
    expect(v.KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY!).toBe(v.KEYSMITH_PADDLE_PUBLIC_KEY!);

    const offerPublic = createPublicKey(JSON.parse(v.KEYSMITH_ELEMENTS_OFFER_KEYS!)[DEV_ELEMENTS_OFFER]);
    const offerPrivate = createPrivateKey(JSON.parse(v.KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS!)[DEV_ELEMENTS_OFFER]);
    expect(offerPublic.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(verify('sha256', data, offerPublic, sign('sha256', data, offerPrivate))).toBe(true);

    expect(v.KEYSMITH_LICENSE_SIGNING_KEY!).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const license = createPrivateKey(v.KEYSMITH_LICENSE_SIGNING_KEY!);
    expect(license.asymmetricKeyType).toBe('ed25519');
    expect(verify(null, data, createPublicKey(v.KEYSMITH_DEV_LICENSE_PUBLIC_KEY!), sign(null, data, license))).toBe(true);
  });

  it('prefers the environment and fills in secrets missing from an older file', () => {
    // Prepare: a file from before a secret existed.
    const original = ensureDevSecrets(stateDir, {});
    const text = readFileSync(original.file, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('KEYSMITH_HOTMART_HOTTOK='))
      .join('\n');
    writeFileSync(original.file, text, { mode: 0o644 });

    // Act
    const again = ensureDevSecrets(stateDir, { KEYSMITH_FASTSPRING_SECRET: 'from-env' });

    // Assess
    expect(again.values.KEYSMITH_FASTSPRING_SECRET).toBe('from-env');
    expect(again.fromEnvironment).toEqual(['KEYSMITH_FASTSPRING_SECRET']);
    expect(readDevSecrets(stateDir)?.KEYSMITH_FASTSPRING_SECRET).toBe(original.values.KEYSMITH_FASTSPRING_SECRET);
    expect(again.values.KEYSMITH_HOTMART_HOTTOK).toEqual(expect.any(String));
    expect(again.values.KEYSMITH_HOTMART_HOTTOK).not.toBe(original.values.KEYSMITH_HOTMART_HOTTOK);
    expect(again.values.KEYSMITH_PADDLE_PUBLIC_KEY).toBe(original.values.KEYSMITH_PADDLE_PUBLIC_KEY);
    expect(statSync(original.file).mode & 0o777).toBe(0o600);
  });

  it('replaces a key pair as a pair when either half is missing, and keeps the rest', () => {
    // Prepare: a file that lost the Paddle sender's private half.
    const original = ensureDevSecrets(stateDir, {});
    const text = readFileSync(original.file, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('KEYSMITH_DEV_PADDLE_PRIVATE_KEY='))
      .join('\n');
    writeFileSync(original.file, text);

    // Act
    const { values: v } = ensureDevSecrets(stateDir, {});

    // Assess: a new pair, the sandbox key follows the live one locally, the private half signs for it.
    expect(v.KEYSMITH_PADDLE_PUBLIC_KEY).not.toBe(original.values.KEYSMITH_PADDLE_PUBLIC_KEY);
    expect(v.KEYSMITH_PADDLE_SANDBOX_PUBLIC_KEY).toBe(v.KEYSMITH_PADDLE_PUBLIC_KEY);
    const data = Buffer.from('signed by the dev sender');
    expect(verify('sha1', data, createPublicKey(v.KEYSMITH_PADDLE_PUBLIC_KEY!), sign('sha1', data, createPrivateKey(v.KEYSMITH_DEV_PADDLE_PRIVATE_KEY!)))).toBe(true);
    // Every other value stays what it was.
    for (const name of Object.keys(original.values).filter((n) => !n.includes('PADDLE'))) expect(v[name]).toBe(original.values[name]);
  });

  it('writes a file that node --env-file reads to the same values', () => {
    const { file, values } = ensureDevSecrets(stateDir, {});
    const script = `process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(Object.keys(values))}.map((k) => [k, process.env[k]]))))`;

    const seen = JSON.parse(execFileSync(process.execPath, [`--env-file=${file}`, '-e', script], { env: {}, encoding: 'utf8' }));

    expect(seen).toEqual(values);
  });
});
