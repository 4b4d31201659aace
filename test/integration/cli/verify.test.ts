import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signLicense } from '../../../functions/domain/signedLicense';
import { buildCli, cli } from './support';

/**
 * `keysmith verify` as a user runs it (child process): a license issued for a provider test order
 * is refused with exit 3 and the word TEST unless --allow-test, and even then it says TEST.
 */
describe('keysmith verify and TEST licenses', () => {
  let dir: string;
  let keyFile: string;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const claims = { licenseId: 'lic_t1', product: 'pro', seats: 1, customer: 'ada@example.com', issuedAt: '2026-01-01T00:00:00.000Z', expiresAt: null };
  const live = signLicense(privateKey, claims);
  const test = signLicense(privateKey, { ...claims, test: true });

  beforeAll(() => {
    buildCli();
    dir = mkdtempSync(join(tmpdir(), 'keysmith-verify-'));
    keyFile = join(dir, 'public.pem');
    writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a TEST license (exit 3, code TEST_LICENSE) and says how to accept it', async () => {
    // Act
    const [text, json] = await Promise.all([cli(['verify', test, '--public-key', keyFile]), cli(['verify', test, '--public-key', keyFile, '--json'])]);
    // Assess
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(/invalid \(TEST_LICENSE\): a TEST license/);
    expect(text.stdout).toContain('--allow-test');
    expect(json.code).toBe(3);
    expect(json.json()).toMatchObject({ valid: false, code: 'TEST_LICENSE' });
  });

  it('accepts it with --allow-test and still says TEST', async () => {
    const [text, json] = await Promise.all([cli(['verify', test, '--public-key', keyFile, '--allow-test']), cli(['verify', test, '--public-key', keyFile, '--allow-test', '--json'])]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^TEST license, valid \(VALID\): pro, 1 seat\(s\)/);
    expect(json.json()).toMatchObject({ valid: true, code: 'VALID', license: { licenseId: 'lic_t1', test: true } });
  });

  it('a live license is VALID without the flag and never says TEST', async () => {
    const run = await cli(['verify', live, '--public-key', keyFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^valid \(VALID\): pro/);
    expect(run.stdout).not.toMatch(/TEST/);
  });
});
