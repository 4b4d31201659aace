import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLicense } from '../../../verifier';
import { type Harness, startHarness } from '../e2e/support';

/**
 * Test mode end to end: a storefront's test order (`live: false`, as FastSpring's samples are)
 * through the local stack gives a signed license that says so, which an app refuses unless it
 * opts in — and the customer's email says TEST.
 */

jest.setTimeout(120_000);

describe('test orders through the local stack', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-testmode-'));
    const configPath = join(dir, 'keysmith.json');
    writeFileSync(
      configPath,
      JSON.stringify({ sender: { from: 'licenses@example.com' }, products: { signed: { name: 'Signed App', license: { format: 'signed', duration: { days: 365 } } } }, defaultProduct: 'signed' }),
    );
    h = await startHarness({ configPath });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a live:false order gives TEST licenses: the token carries test, the verifier refuses it unless allowTest, the email says [TEST]', async () => {
    const email = `test-mode-${Date.now()}@example.com`;
    const request = await h.sample('fastspring', { email });
    expect((await h.send(request)).status).toBe(200);
    await h.stack.poller.drain(30_000);
    const order = (await h.store.get('fastspring', request.orderId))!.state;
    expect(order.live).toBe(false);
    const token = order.licenses[0]!.key;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { test?: boolean };
    expect(claims.test).toBe(true);
    const publicKey = h.secrets.KEYSMITH_DEV_LICENSE_PUBLIC_KEY!.replace(/\\n/g, '\n');
    expect(await verifyLicense(token, publicKey)).toMatchObject({ valid: false, code: 'TEST_LICENSE' });
    expect(await verifyLicense(token, publicKey, { allowTest: true })).toMatchObject({ valid: true, license: { test: true } });
    const mails = await h.emails(email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/^\[TEST\] /);
  });
});
