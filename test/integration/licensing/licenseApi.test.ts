import { importSPKI, jwtVerify } from 'jose';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { createLicensingHandler } from '../../../functions/licensing/handler';
import { enqueue } from '../../../lib/cli/manual';
import { localTarget } from '../../../lib/cli/target';
import type { Harness } from '../e2e/support';
import { buyOrder, licenseApi, publicKeyPem, sellerAction, startLicensingHarness } from './support';

/**
 * The license API through the local stack: real HTTP, the real licensing handler, the real worker
 * writing license views, dynalite underneath. Orders are genuine signed FastSpring webhooks.
 * The handler runs on a clock the tests can move (for EXPIRED), otherwise exactly as deployed.
 */

let clockOffsetMs = 0;
const now = () => new Date(Date.now() + clockOffsetMs);

describe('license API on the local stack', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startLicensingHarness({ handlers: { licensing: createLicensingHandler({ now }) } });
  }, 60_000);
  afterAll(async () => h?.stop());
  beforeEach(() => {
    clockOffsetMs = 0;
  });

  it('validate: a new license is valid and inactive, with Lemon Squeezy fields, meta and a license file that jose verifies', async () => {
    const order = await buyOrder(h, 'ks-seats', 3);
    const license = order.licenses[0]!;
    const { status, body } = await licenseApi(h, 'validate', { license_key: license.key });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      valid: true,
      error: null,
      code: 'VALID',
      license_key: { id: license.licenseId, status: 'inactive', key: license.key, activation_limit: 3, activation_usage: 0, expires_at: null, test_mode: true },
      instance: null,
      meta: { order_id: order.scope, product_id: 'seats', product_name: 'Seats App', customer_email: order.customer.email },
    });
    // The file, checked by an independent JWT library with the license public key.
    const key = await importSPKI(publicKeyPem(h), 'EdDSA');
    const { payload, protectedHeader } = await jwtVerify(body.license_file, key, { algorithms: ['EdDSA'], issuer: 'keysmith' });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'keysmith-license-file+jwt' });
    expect(payload).toMatchObject({ sub: license.licenseId, product: 'seats', status: 'inactive', seats: 3 });
    // Default refresh window: 14 days.
    expect(payload.exp! - payload.iat!).toBe(14 * 86_400);
  });

  it('a key typed in lower case with spaces validates the same; JSON bodies work like forms', async () => {
    const order = await buyOrder(h, 'ks-seats', 1);
    const typed = order.licenses[0]!.key.toLowerCase().replace(/-/g, ' ');
    const { status, body } = await licenseApi(h, 'validate', { license_key: typed }, true);
    expect(status).toBe(200);
    expect(body.valid).toBe(true);
    expect(body.license_key.id).toBe(order.licenses[0]!.licenseId);
  });

  it('unknown key → 404 NOT_FOUND; malformed requests → 400 BAD_REQUEST with a reason', async () => {
    const unknown = await licenseApi(h, 'validate', { license_key: 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE' });
    expect(unknown).toEqual({ status: 404, body: { valid: false, error: 'license_key not found', code: 'NOT_FOUND', license_key: null, instance: null, meta: null } });
    const notAKey = await licenseApi(h, 'activate', { license_key: 'hello', instance_name: 'laptop' });
    expect(notAKey.status).toBe(404);
    expect(notAKey.body).toMatchObject({ activated: false, code: 'NOT_FOUND' });

    const missing = await licenseApi(h, 'validate', {});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ valid: false, code: 'BAD_REQUEST', error: 'license_key is required' });
    const noName = await licenseApi(h, 'activate', { license_key: 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE' });
    expect(noName.body).toMatchObject({ activated: false, code: 'BAD_REQUEST', error: 'instance_name is required' });
    const noInstance = await licenseApi(h, 'deactivate', { license_key: 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE' });
    expect(noInstance.body).toMatchObject({ deactivated: false, code: 'BAD_REQUEST', error: 'instance_id is required' });
    const tooLong = await licenseApi(h, 'validate', { license_key: 'x'.repeat(5000) });
    expect(tooLong.status).toBe(400);
    const badJson = await fetch(`${h.stack.licensingUrl}/v1/licenses/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"license_key":' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ code: 'BAD_REQUEST', error: 'the body is not valid JSON' });
    const xml = await fetch(`${h.stack.licensingUrl}/v1/licenses/validate`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<a/>' });
    expect(xml.status).toBe(400);
  });

  it('activate → instance; the same name and fingerprint again → the same instance; validate with it; deactivate frees the seat', async () => {
    const license = (await buyOrder(h, 'ks-seats', 2)).licenses[0]!;
    const first = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'Ada’s laptop', fingerprint: 'fp-1' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ activated: true, code: 'VALID', error: null, license_key: { status: 'active', activation_limit: 2, activation_usage: 1 }, instance: { name: 'Ada’s laptop' } });
    const instanceId = first.body.instance.id as string;
    const key = await importSPKI(publicKeyPem(h), 'EdDSA');
    const { payload } = await jwtVerify(first.body.license_file, key, { algorithms: ['EdDSA'] });
    expect(payload).toMatchObject({ sub: license.licenseId, instance_id: instanceId, fingerprint: 'fp-1', status: 'active', seats: 2 });

    const again = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'Ada’s laptop', fingerprint: 'fp-1' });
    expect(again.body).toMatchObject({ activated: true, instance: { id: instanceId }, license_key: { activation_usage: 1 } });

    const checked = await licenseApi(h, 'validate', { license_key: license.key, instance_id: instanceId, fingerprint: 'fp-1' });
    expect(checked.body).toMatchObject({ valid: true, code: 'VALID', instance: { id: instanceId } });
    const wrongMachine = await licenseApi(h, 'validate', { license_key: license.key, instance_id: instanceId, fingerprint: 'fp-2' });
    expect(wrongMachine.body).toMatchObject({ valid: false, code: 'INSTANCE_NOT_FOUND' });
    const unknownInstance = await licenseApi(h, 'validate', { license_key: license.key, instance_id: 'inst_nope' });
    expect(unknownInstance).toMatchObject({ status: 200, body: { valid: false, code: 'INSTANCE_NOT_FOUND' } });

    const second = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'desktop' });
    expect(second.body).toMatchObject({ activated: true, license_key: { activation_usage: 2 } });
    const third = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'tablet' });
    expect(third).toMatchObject({ status: 200, body: { activated: false, code: 'ACTIVATION_LIMIT_REACHED', license_key: { activation_usage: 2 } } });
    expect(third.body.license_file).toBeUndefined();

    const freed = await licenseApi(h, 'deactivate', { license_key: license.key, instance_id: instanceId });
    expect(freed.body).toMatchObject({ deactivated: true, error: null, license_key: { activation_usage: 1 } });
    const twice = await licenseApi(h, 'deactivate', { license_key: license.key, instance_id: instanceId });
    expect(twice).toMatchObject({ status: 200, body: { deactivated: false, code: 'INSTANCE_NOT_FOUND' } });
    const now = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'tablet' });
    expect(now.body).toMatchObject({ activated: true, license_key: { activation_usage: 2 } });
  });

  it('ten concurrent activations of a 3-seat license → exactly 3 succeed, and usage says 3', async () => {
    const license = (await buyOrder(h, 'ks-seats', 3)).licenses[0]!;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => licenseApi(h, 'activate', { license_key: license.key, instance_name: `machine-${i}`, fingerprint: `fp-${i}` })));
    const won = answers.filter((a) => a.body.activated === true);
    expect(won).toHaveLength(3);
    expect(new Set(won.map((a) => a.body.instance.id)).size).toBe(3);
    expect(answers.filter((a) => a.body.code === 'ACTIVATION_LIMIT_REACHED')).toHaveLength(7);
    const after = await licenseApi(h, 'validate', { license_key: license.key });
    expect(after.body.license_key).toMatchObject({ status: 'active', activation_usage: 3, activation_limit: 3 });
  });

  it('the same machine activating ten times at once takes one seat', async () => {
    const license = (await buyOrder(h, 'ks-seats', 3)).licenses[0]!;
    const answers = await Promise.all(Array.from({ length: 10 }, () => licenseApi(h, 'activate', { license_key: license.key, instance_name: 'one', fingerprint: 'same' })));
    expect(answers.every((a) => a.body.activated === true)).toBe(true);
    expect(new Set(answers.map((a) => a.body.instance.id)).size).toBe(1);
    expect((await licenseApi(h, 'validate', { license_key: license.key })).body.license_key.activation_usage).toBe(1);
  });

  it('the storefront raises the seats (a quantity change): the new limit applies at the next activation', async () => {
    const order = await buyOrder(h, 'ks-seats', 1);
    const license = order.licenses[0]!;
    expect((await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'one' })).body.activated).toBe(true);
    expect((await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'two' })).body.code).toBe('ACTIVATION_LIMIT_REACHED');
    const change: FulfillmentEvent = {
      provider: 'fastspring',
      eventId: `change-${order.scope}`,
      occurredAt: new Date().toISOString(),
      action: 'change',
      reason: 'subscription.updated',
      scope: order.scope,
      live: order.live,
      customer: order.customer,
      items: [{ productId: 'ks-seats', quantity: 3 }],
    };
    await enqueue(localTarget(h.stack.info()), [change]);
    await h.stack.poller.drain(60_000);
    const two = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'two' });
    expect(two.body).toMatchObject({ activated: true, license_key: { activation_limit: 3, activation_usage: 2 } });
  });

  it('refund → REVOKED on the next validate, and it cannot activate; the app sees status disabled', async () => {
    const order = await buyOrder(h, 'ks-seats', 1);
    const license = order.licenses[0]!;
    expect((await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'pc' })).body.activated).toBe(true);
    const refund = await h.sample('fastspring', { event: 'return.created', orderId: order.scope });
    expect((await h.send(refund)).status).toBe(200);
    await h.stack.poller.drain(60_000);
    const after = await licenseApi(h, 'validate', { license_key: license.key });
    expect(after).toMatchObject({ status: 200, body: { valid: false, code: 'REVOKED', error: 'This license key has been revoked.', license_key: { status: 'disabled' } } });
    expect(after.body.license_file).toBeUndefined();
    expect((await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'other' })).body).toMatchObject({ activated: false, code: 'REVOKED' });
  });

  it('seller suspension → SUSPENDED; reinstated → VALID again', async () => {
    const order = await buyOrder(h, 'ks-seats', 1);
    const license = order.licenses[0]!;
    await sellerAction(h, order, 'suspend', license.licenseId);
    expect((await licenseApi(h, 'validate', { license_key: license.key })).body).toMatchObject({ valid: false, code: 'SUSPENDED', license_key: { status: 'disabled' } });
    expect((await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'pc' })).body).toMatchObject({ activated: false, code: 'SUSPENDED' });
    const [current] = await h.store.findByOrder('fastspring', order.scope);
    await sellerAction(h, current!.state, 'reinstate', license.licenseId);
    expect((await licenseApi(h, 'validate', { license_key: license.key })).body).toMatchObject({ valid: true, code: 'VALID' });
  });

  it('a 30-day license → EXPIRED once its time is up; the license file never outlives the license', async () => {
    const license = (await buyOrder(h, 'ks-month', 1)).licenses[0]!;
    const fresh = await licenseApi(h, 'validate', { license_key: license.key });
    expect(fresh.body.valid).toBe(true);
    const { payload } = await jwtVerify(fresh.body.license_file, await importSPKI(publicKeyPem(h), 'EdDSA'), { algorithms: ['EdDSA'] });
    clockOffsetMs = 25 * 86_400_000;
    const late = await licenseApi(h, 'validate', { license_key: license.key });
    const { payload: latePayload } = await jwtVerify(late.body.license_file, await importSPKI(publicKeyPem(h), 'EdDSA'), { algorithms: ['EdDSA'], currentDate: now() });
    expect(latePayload.exp).toBe(Math.floor(Date.parse(license.expiresAt!) / 1000));
    expect(payload.exp! - payload.iat!).toBe(14 * 86_400);
    clockOffsetMs = 31 * 86_400_000;
    expect((await licenseApi(h, 'validate', { license_key: license.key })).body).toMatchObject({ valid: false, code: 'EXPIRED', license_key: { status: 'expired' } });
    expect((await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'pc' })).body).toMatchObject({ activated: false, code: 'EXPIRED' });
  });

  it('a test-order license of a product that does not allow test → TEST_LICENSE; a live order of it → VALID; the email stays masked', async () => {
    const test = (await buyOrder(h, 'ks-strict', 1)).licenses[0]!;
    expect((await licenseApi(h, 'validate', { license_key: test.key })).body).toMatchObject({ valid: false, code: 'TEST_LICENSE', license_key: { test_mode: true } });
    expect((await licenseApi(h, 'activate', { license_key: test.key, instance_name: 'pc' })).body).toMatchObject({ activated: false, code: 'TEST_LICENSE' });
    const liveOrder = await buyOrder(h, 'ks-strict', 1, { live: true });
    const live = await licenseApi(h, 'validate', { license_key: liveOrder.licenses[0]!.key });
    expect(live.body).toMatchObject({ valid: true, code: 'VALID', license_key: { test_mode: false } });
    expect(live.body.meta.customer_email).not.toBe(liveOrder.customer.email);
    expect(live.body.meta.customer_email).toContain('***');
  });

  it('a signed license: its token is the license_key; activations follow the license id; the file expires with the refresh window', async () => {
    const license = (await buyOrder(h, 'ks-signed', 2)).licenses[0]!;
    expect(license.format).toBe('signed');
    const activated = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'pc', fingerprint: 'f' }, true);
    expect(activated.body).toMatchObject({ activated: true, license_key: { id: license.licenseId, activation_limit: 2, activation_usage: 1 } });
    const { payload } = await jwtVerify(activated.body.license_file, await importSPKI(publicKeyPem(h), 'EdDSA'), { algorithms: ['EdDSA'] });
    expect(payload.exp! - payload.iat!).toBe(7 * 86_400);
    // A token altered by one character is not a key keysmith issued.
    const flipped = license.key.at(-2) === 'A' ? 'B' : 'A';
    const forged = `${license.key.slice(0, -2)}${flipped}${license.key.slice(-1)}`;
    expect(forged).not.toBe(license.key);
    expect((await licenseApi(h, 'validate', { license_key: forged })).status).toBe(404);
  });

  it('per-key activation budget: the fourth activation in a day → 429 RATE_LIMITED; the next day it works', async () => {
    const license = (await buyOrder(h, 'ks-budget', 1)).licenses[0]!;
    for (let i = 0; i < 3; i++) expect((await licenseApi(h, 'activate', { license_key: license.key, instance_name: `m${i}` })).body.activated).toBe(true);
    // Deactivating frees seats, not the day's budget.
    const fourth = await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'm3' });
    expect(fourth).toMatchObject({ status: 429, body: { activated: false, code: 'RATE_LIMITED' } });
    clockOffsetMs = 86_400_000;
    expect((await licenseApi(h, 'activate', { license_key: license.key, instance_name: 'm3' })).body).toMatchObject({ activated: true, license_key: { activation_usage: 4 } });
  });
});
