import { createServer } from 'node:net';
import { createLicenseClient, memoryStorage, verifyLicenseFile } from '../../../verifier';
import type { Harness } from '../e2e/support';
import { buyOrder, publicKeyPem, startLicensingHarness } from './support';

/**
 * The client a seller ships in the app (verifier/client.ts) against the local stack: activate,
 * validate online, keep working offline from the license file until it expires, and never outlive
 * a definite answer (a refund) with the cached file.
 */

/** A URL nothing listens on: the API "down". */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('license client (verifier/client.ts) on the local stack', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startLicensingHarness();
  }, 60_000);
  afterAll(async () => h?.stop());

  it('activates, validates online, then offline from the license file until it expires; the file is bound to the machine', async () => {
    const license = (await buyOrder(h, 'ks-seats', 2)).licenses[0]!;
    const storage = memoryStorage();
    const publicKey = publicKeyPem(h);
    const client = createLicenseClient({ baseUrl: h.stack.licensingUrl, publicKey, fingerprint: 'machine-A', storage });
    const activated = await client.activate(license.key, 'Ada’s laptop');
    expect(activated).toMatchObject({ valid: true, code: 'VALID', offline: false });
    const online = await client.validate();
    expect(online).toMatchObject({ valid: true, code: 'VALID', offline: false, response: { instance: { id: activated.response!.instance.id } } });

    const stored = (await storage.get())!;
    expect((await verifyLicenseFile(stored.licenseFile, publicKey, { fingerprint: 'machine-A' })).valid).toBe(true);
    expect(await verifyLicenseFile(stored.licenseFile, publicKey, { fingerprint: 'machine-B' })).toMatchObject({ valid: false, code: 'WRONG_MACHINE' });

    // The API is unreachable: the file carries the app for its 14 days, and not a day more.
    const down = await deadUrl();
    const offline = createLicenseClient({ baseUrl: down, publicKey, fingerprint: 'machine-A', storage, timeoutMs: 2000 });
    expect(await offline.validate()).toMatchObject({ valid: true, code: 'VALID', offline: true });
    const later = createLicenseClient({ baseUrl: down, publicKey, fingerprint: 'machine-A', storage, timeoutMs: 2000, now: () => new Date(Date.now() + 15 * 86_400_000) });
    expect(await later.validate()).toMatchObject({ valid: false, code: 'OFFLINE_EXPIRED', offline: true });
    // Copied to another machine, the file is worth nothing.
    const elsewhere = createLicenseClient({ baseUrl: down, publicKey, fingerprint: 'machine-B', storage, timeoutMs: 2000 });
    expect(await elsewhere.validate()).toMatchObject({ valid: false, code: 'WRONG_MACHINE', offline: true });
  });

  it('a refund: the next online validate says REVOKED and drops the file, so going offline does not bring it back', async () => {
    const order = await buyOrder(h, 'ks-seats', 1);
    const storage = memoryStorage();
    const publicKey = publicKeyPem(h);
    const client = createLicenseClient({ baseUrl: h.stack.licensingUrl, publicKey, fingerprint: 'm', storage });
    expect((await client.activate(order.licenses[0]!.key, 'pc')).valid).toBe(true);
    const refund = await h.sample('fastspring', { event: 'return.created', orderId: order.scope });
    expect((await h.send(refund)).status).toBe(200);
    await h.stack.poller.drain(60_000);
    expect(await client.validate()).toMatchObject({ valid: false, code: 'REVOKED', offline: false });
    expect(await storage.get()).toBeUndefined();
    const offline = createLicenseClient({ baseUrl: await deadUrl(), publicKey, fingerprint: 'm', storage, timeoutMs: 2000 });
    expect(await offline.validate()).toMatchObject({ valid: false, code: 'NO_LICENSE', offline: false });
  });

  it('deactivate frees the seat and forgets the license', async () => {
    const license = (await buyOrder(h, 'ks-seats', 1)).licenses[0]!;
    const storage = memoryStorage();
    const client = createLicenseClient({ baseUrl: h.stack.licensingUrl, publicKey: publicKeyPem(h), fingerprint: 'm1', storage });
    expect((await client.activate(license.key, 'first')).valid).toBe(true);
    const other = createLicenseClient({ baseUrl: h.stack.licensingUrl, publicKey: publicKeyPem(h), fingerprint: 'm2' });
    expect(await other.activate(license.key, 'second')).toMatchObject({ valid: false, code: 'ACTIVATION_LIMIT_REACHED' });
    expect(await client.deactivate()).toMatchObject({ valid: true });
    expect(await storage.get()).toBeUndefined();
    expect((await other.activate(license.key, 'second')).valid).toBe(true);
  });
});
