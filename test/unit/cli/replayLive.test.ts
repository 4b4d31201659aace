import { randomBytes } from 'node:crypto';
import { paddleBillingSample } from '../../../functions/providers/paddle-billing/sample';
import type { StoredDelivery } from '../../../lib/cli/commands/deliveries';
import { rebuildDelivery } from '../../../lib/cli/commands/replay';
import type { Target } from '../../../lib/cli/target';

/**
 * `keysmith replay` of a Paddle Billing delivery: only the secret that signed it says sandbox,
 * and the signature is not logged. The delivery log records the ingress's verdict per event.
 */
describe('replay keeps the live/test verdict the ingress made', () => {
  const secrets = { KEYSMITH_PADDLE_BILLING_SECRET: `pdl_ntfset_${randomBytes(16).toString('hex')}`, KEYSMITH_PADDLE_BILLING_SANDBOX_SECRET: `pdl_ntfset_${randomBytes(16).toString('hex')}` };
  const target = { readSecrets: async () => secrets } as unknown as Target;
  const logged = (live: boolean | undefined): StoredDelivery => {
    const sample = paddleBillingSample.build({ secrets, orderId: 'txn_replaylive' });
    return {
      provider: 'paddle-billing',
      deliveryId: 'd1',
      receivedAt: new Date(),
      route: 'POST /webhooks/paddle-billing',
      contentType: 'application/json',
      payload: sample.body,
      events: sample.eventIds.map((eventId) => ({ eventId, action: 'grant' as const, reason: 'transaction.completed', scope: 'txn_replaylive', ...(live === undefined ? {} : { live }) })),
    };
  };

  it('a sandbox order stays a test order, though the live secret is configured too', async () => {
    const { events } = await rebuildDelivery(target, logged(false));
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.live === false)).toBe(true);
  });

  it('a live order stays live', async () => {
    const { events } = await rebuildDelivery(target, logged(true));
    expect(events.every((e) => e.live === true)).toBe(true);
  });

  it('a delivery logged before the verdict was recorded falls back to the configured secrets (live when the live secret is set)', async () => {
    const { events } = await rebuildDelivery(target, logged(undefined));
    expect(events.every((e) => e.live === true)).toBe(true);
  });
});
