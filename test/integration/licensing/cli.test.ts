import { readCatalogFile } from '../../../functions/config/loadCatalog';
import { apply } from '../../../functions/domain/entitlement';
import { grantEvent } from '../../helpers/fixtures';
import { buildCli, cli } from '../cli/support';
import type { Harness } from '../e2e/support';
import { buyOrder, LICENSING_CONFIG, licenseApi, startLicensingHarness } from './support';

/**
 * The operator's side of the license API, as the seller runs it: `keysmith activations`,
 * `deactivate`, `grant` and `export` in a child process against the local stack, checked against
 * what the license API itself then answers.
 */
describe('keysmith CLI: activations, deactivate, grant, export', () => {
  let h: Harness;
  const run = (...args: string[]) => cli(args, { port: h.stack.port, env: { KEYSMITH_CONFIG: LICENSING_CONFIG } });

  beforeAll(async () => {
    buildCli();
    h = await startLicensingHarness();
  }, 90_000);
  afterAll(async () => h?.stop());

  it('activations lists the machines; deactivate --instance frees one (its next validate fails), --all the rest', async () => {
    const license = (await buyOrder(h, 'ks-seats', 3)).licenses[0]!;
    const a = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'Office PC', fingerprint: 'f1' });
    const b = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'Laptop' });
    const listed = await run('activations', license.licenseId, '--json');
    expect(listed.code).toBe(0);
    expect(listed.json()).toEqual({
      licenseId: license.licenseId,
      status: 'active',
      activationLimit: 3,
      activationUsage: 2,
      instances: expect.arrayContaining([
        { id: a.body.instance.id, name: 'Office PC', createdAt: a.body.instance.created_at, fingerprint: true },
        { id: b.body.instance.id, name: 'Laptop', createdAt: b.body.instance.created_at, fingerprint: false },
      ]),
    });
    const human = await run('activations', license.licenseId);
    expect(human.stdout).toContain('2 of 3 seat(s) in use');
    expect(human.stdout).toContain('Office PC');

    const one = await run('deactivate', license.licenseId, '--instance', a.body.instance.id, '--json');
    expect(one.code).toBe(0);
    expect(one.json()).toEqual({ licenseId: license.licenseId, deactivated: [a.body.instance.id], activationUsage: 1 });
    expect((await licenseApi(h, 'validate', { license_key: license.key, instance_id: a.body.instance.id })).body.code).toBe('INSTANCE_NOT_FOUND');
    expect((await run('deactivate', license.licenseId, '--instance', a.body.instance.id)).code).toBe(4);

    const all = await run('deactivate', license.licenseId, '--all', '--json');
    expect(all.json()).toMatchObject({ deactivated: [b.body.instance.id], activationUsage: 0 });
    expect((await licenseApi(h, 'validate', { license_key: license.key })).body.license_key).toMatchObject({ status: 'inactive', activation_usage: 0 });
    expect((await run('deactivate', license.licenseId)).code).toBe(2);
  });

  it('grant: a license with the given seats and days, recorded with the note, emailed once, valid in the license API', async () => {
    const email = `reviewer-${Date.now()}@example.com`;
    const granted = await run('grant', '--email', email, '--product', 'strict', '--seats', '5', '--days', '30', '--note', 'press review copy', '--json');
    expect(granted.code).toBe(0);
    const result = granted.json<{
      order: string;
      applied: boolean;
      email: string;
      licenses: { licenseId: string; key: string; seats: number; expiresAt: string; live: boolean; provider: string }[];
    }>();
    expect(result).toMatchObject({ applied: true, email: 'sent' });
    expect(result.licenses).toHaveLength(1);
    const [license] = result.licenses;
    expect(license).toMatchObject({ provider: 'manual', seats: 5, live: true });
    const days = (Date.parse(license!.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(await h.emails(email)).toHaveLength(1);
    // A live license (grants are not test orders): valid even for a product that refuses test licenses.
    const validated = await licenseApi(h, 'validate', { license_key: license!.key });
    expect(validated.body).toMatchObject({ valid: true, license_key: { activation_limit: 5, test_mode: false }, meta: { order_id: result.order, provider: 'manual' } });
    // The note is in the license's history.
    const shown = await run('show', license!.licenseId, '--json');
    expect(shown.stdout).toContain('press review copy');
    // And the order is found like any other.
    expect((await run('licenses', '--order', result.order, '--json')).json<unknown[]>()).toHaveLength(1);
  });

  it('grant refuses what it cannot honour, before anything is enqueued', async () => {
    expect((await run('grant', '--email', 'a@example.com', '--product', 'seats')).code).toBe(2); // no note
    expect((await run('grant', '--email', 'a@example.com', '--product', 'nope', '--note', 'x')).code).toBe(2);
    expect((await run('grant', '--email', 'not-an-address', '--product', 'seats', '--note', 'x')).code).toBe(2);
    const badSeats = await run('grant', '--email', 'a@example.com', '--product', 'seats', '--seats', '0', '--note', 'x');
    expect(badSeats.code).toBe(2);
    expect(badSeats.stderr).toContain('--seats must be a whole number');
    expect(await h.queueDepth(h.stack.queueUrl)).toBe(0);
  });

  it('migrate: an order stored by a keysmith without license views answers NOT_FOUND until `keysmith migrate` writes them', async () => {
    // What an older worker left: the order and its lookups, no views.
    const ctx = { catalog: readCatalogFile(LICENSING_CONFIG), licenseSecret: h.secrets.KEYSMITH_LICENSE_SECRET!, now: new Date() };
    const state = apply(undefined, grantEvent({ scope: `legacy-${Date.now()}`, live: true, items: [{ productId: 'ks-seats', quantity: 2 }] }), ctx).state;
    const stored = await h.store.put(state, 0);
    await h.store.putLookups(stored.state, stored.state.licenses);
    const key = stored.state.licenses[0]!.key;
    expect((await licenseApi(h, 'validate', { license_key: key })).status).toBe(404);
    const migrated = await run('migrate', '--json');
    expect(migrated.code).toBe(0);
    expect(migrated.json<{ orders: number; views: number }>().views).toBeGreaterThanOrEqual(1);
    expect((await licenseApi(h, 'validate', { license_key: key })).body).toMatchObject({ valid: true, license_key: { activation_limit: 2 } });
    // Again: nothing changes (each write is conditional on the order's version).
    expect((await run('migrate', '--json')).code).toBe(0);
  });

  it('export: every license with its status, as CSV (spreadsheet-safe) or JSON', async () => {
    const order = await buyOrder(h, 'ks-seats', 1);
    const csv = await run('export');
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('license_id,provider,order,product,status,seats,issued_at,expires_at,customer_email,live,key');
    const line = lines.find((l) => l.startsWith(order.licenses[0]!.licenseId));
    expect(line).toContain(`,fastspring,${order.scope},seats,active,1,`);
    const json = (await run('export', '--format', 'json')).json<{ licenseId: string }[]>();
    expect(json.length).toBe(lines.length - 1);
    expect(json.map((r) => r.licenseId)).toContain(order.licenses[0]!.licenseId);
    expect((await run('export', '--format', 'xml')).code).toBe(2);
  });
});
