import type { Harness } from '../e2e/support';
import { licenseApi, startLicensingHarness } from './support';

/**
 * App traffic and webhook traffic do not share a throttle: the license API has its own (in AWS,
 * its own HTTP API and stage; locally, the same bucket settings in the local API server). Here
 * the license API's bucket is tiny, so a burst of validations is cut — and webhooks sent in the
 * middle of that burst are still accepted.
 */
describe('license API throttling on the local stack', () => {
  let h: Harness;
  beforeAll(async () => {
    // One token per minute after a burst of 5: nothing refills during the test, however slow the machine.
    h = await startLicensingHarness({ licensingThrottle: { rateLimit: 1 / 60, burstLimit: 5 } });
  }, 60_000);
  afterAll(async () => h?.stop());

  it('a burst of 20 validations: 5 answered, 15 throttled with 429; webhooks in the same burst all accepted', async () => {
    const orders = await Promise.all(Array.from({ length: 3 }, (_, i) => h.sample('fastspring', { email: `throttle-${i}@example.com` })));
    const [validations, webhooks] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, (_, i) => licenseApi(h, 'validate', { license_key: `GUESS-${String(i).padStart(5, '0')}-AAAAA-BBBBB-CCCCC` }))),
      Promise.all(orders.map((o) => h.send(o))),
    ]);
    const throttled = validations.filter((v) => v.status === 429);
    expect(throttled).toHaveLength(15);
    expect(throttled[0]!.body).toEqual({ message: 'Too Many Requests' });
    expect(validations.filter((v) => v.status === 404)).toHaveLength(5);
    expect(webhooks.map((w) => w.status)).toEqual([200, 200, 200]);
    await h.stack.poller.drain(60_000);
    for (const o of orders) expect(await h.store.findByOrder('fastspring', o.orderId)).toHaveLength(1);
  });
});
