import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { itemBytes } from '../../../functions/aws/itemSize';
import { SqsEventQueue } from '../../../functions/aws/queue';
import { appliedEvents } from '../../../functions/aws/store';
import type { Entitlement } from '../../../functions/domain/entitlement';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import type { SampleRequest } from '../../../functions/providers/sample';
import { manualEvent } from '../../../lib/cli/manual';
import { fastspringTraffic, type Subscription, writeSubscriptionCatalog } from '../../../scripts/soak/fastspringTraffic';
import { type Harness, startHarness } from '../e2e/support';

/**
 * The second year, not the first day: long-lived orders through the local stack (real handlers,
 * emulators, genuine signed FastSpring and Paddle traffic), where every event still lands and
 * no item grows with the order's age.
 */

jest.setTimeout(600_000);

describe('long-lived orders through the local stack', () => {
  let h: Harness;
  let configDir: string;
  let traffic: ReturnType<typeof fastspringTraffic>;

  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'keysmith-lifecycle-'));
    h = await startHarness({ configPath: writeSubscriptionCatalog(configDir), worker: () => ({}) });
    traffic = fastspringTraffic(h.secrets.KEYSMITH_FASTSPRING_SECRET!);
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  const subscription = (tag: string): Subscription => ({ order: `${tag}-${Date.now()}`, subscription: `SUB-${tag}-${Date.now()}`, product: 'sub-pro', email: `${tag}-${Date.now()}@example.com` });

  async function deliver(request: SampleRequest): Promise<void> {
    const res = await h.send(request);
    expect(res.status).toBe(200);
    await h.stack.poller.drain(120_000);
  }

  async function order(sub: Subscription): Promise<Entitlement> {
    const stored = await h.store.get('fastspring', sub.order);
    expect(stored).toBeDefined();
    return stored!.state;
  }

  async function largestItemInTable(): Promise<{ bytes: number; key: string }> {
    let largest = { bytes: 0, key: '' };
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await h.dynamo.send(new ScanCommand({ TableName: h.stack.tableName, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const bytes = itemBytes(item);
        if (bytes > largest.bytes) largest = { bytes, key: `${item.pk?.S}/${item.sk?.S}` };
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return largest;
  }

  it('100 units × 60 subscription events, then a full refund → 100 revoked, DLQ empty', async () => {
    const sub = subscription('hundred');
    await deliver(traffic.order(sub, 100));
    // Renewals, cancellations and un-cancellations for five years.
    for (let n = 1; n <= 60; n++) {
      const kind = n % 6;
      await deliver(kind === 3 ? traffic.canceled(sub, n + 1) : kind === 4 ? traffic.uncanceled(sub) : traffic.charge(sub, n));
    }
    await deliver(traffic.refund(sub));
    const state = await order(sub);
    expect(state.licenses).toHaveLength(100);
    expect(state.licenses.every((l) => l.status === 'revoked')).toBe(true);
    expect(await appliedEvents(h.store, state)).toHaveLength(62);
    expect(state.pending.length).toBeLessThanOrEqual(1);
    expect(await h.queueDepth(h.stack.dlqUrl)).toBe(0);
    expect(await h.emails(sub.email)).toHaveLength(1);
  });

  it('500 units × 24 monthly renewals, then a refund → all revoked; the largest item written stays under 100 KB', async () => {
    const sub = subscription('five-hundred');
    await deliver(traffic.order(sub, 500));
    for (let n = 1; n <= 24; n++) await deliver(traffic.charge(sub, n));
    const renewed = await order(sub);
    expect(renewed.licenses).toHaveLength(500);
    expect(new Set(renewed.licenses.map((l) => l.expiresAt))).toEqual(new Set([new Date(Date.parse('2026-02-01T00:00:00Z') + 24 * 30 * 86_400_000).toISOString()]));
    await deliver(traffic.refund(sub));
    const state = await order(sub);
    expect(state.licenses.every((l) => l.status === 'revoked')).toBe(true);
    expect(await h.queueDepth(h.stack.dlqUrl)).toBe(0);
    // Every write the worker made went through its store, which measures each item it writes.
    expect(h.workerStore!.largestWrite.bytes).toBeGreaterThan(1_000);
    expect(h.workerStore!.largestWrite.bytes).toBeLessThan(100 * 1024);
    expect((await largestItemInTable()).bytes).toBeLessThan(100 * 1024);
  });

  it('1,000 distinct events on one order, then the first purchase again → no new license, no email', async () => {
    const sub = subscription('thousand');
    const purchase = traffic.order(sub, 2);
    await deliver(purchase);
    const before = await order(sub);
    // 1,000 distinct events: the first 50 genuine signed rebills through the API, the rest
    // straight onto the queue as the ingress would enqueue them (same FIFO group, applied in order).
    for (let n = 1; n <= 50; n++) expect((await h.send(traffic.charge(sub, n))).status).toBe(200);
    const queue = new SqsEventQueue(h.sqs, h.stack.queueUrl);
    const rebill = (n: number): FulfillmentEvent => ({
      provider: 'fastspring',
      eventId: `rebill-${sub.order}-${n}`,
      businessKey: `subscription.charge.completed#${sub.order}-R${n}`,
      occurredAt: new Date(Date.parse('2026-02-01T00:00:00Z') + n * 86_400_000).toISOString(),
      action: 'extend',
      reason: 'subscription.charge.completed',
      scope: sub.order,
      live: true,
      customer: { email: sub.email },
      items: [],
      subscription: { id: sub.subscription, periodEnd: new Date(Date.parse('2026-03-01T00:00:00Z') + n * 86_400_000).toISOString() },
    });
    for (let n = 51; n <= 1000; n += 50) {
      const { failed } = await queue.send(Array.from({ length: 50 }, (_, i) => rebill(n + i)));
      expect(failed).toEqual([]);
    }
    await h.stack.poller.drain(300_000);
    await deliver(purchase);
    const after = await order(sub);
    expect(after.licenses.map((l) => [l.licenseId, l.key])).toEqual(before.licenses.map((l) => [l.licenseId, l.key]));
    expect(await h.emails(sub.email)).toHaveLength(1);
    expect(await appliedEvents(h.store, after)).toHaveLength(1001);
    expect(await h.queueDepth(h.stack.dlqUrl)).toBe(0);
  });

  describe('Paddle disputes and seller operations', () => {
    async function paddleOrder(tag: string): Promise<string> {
      const email = `${tag}-${Date.now()}@example.com`;
      const request = await h.sample('paddle', { email });
      await deliver(request);
      return request.orderId;
    }
    const alert = async (event: string, orderId: string) => deliver(await h.sample('paddle', { event, orderId }));
    const statuses = async (orderId: string) => (await h.store.get('paddle', orderId))!.state.licenses.map((l) => l.status);
    async function sellerRevoke(orderId: string): Promise<void> {
      const state = (await h.store.get('paddle', orderId))!.state;
      const event = manualEvent(state, 'revoke', 'fraud confirmed by phone', { targets: state.licenses.map((l) => l.licenseId) });
      await new SqsEventQueue(h.sqs, h.stack.queueUrl).send([event]);
      await h.stack.poller.drain(60_000);
    }

    it('dispute → refund → dispute won: revoked', async () => {
      const orderId = await paddleOrder('dispute-refund-won');
      await alert('payment_dispute_created', orderId);
      expect(await statuses(orderId)).toEqual(['suspended']);
      await alert('payment_refunded', orderId);
      await alert('payment_dispute_closed', orderId);
      expect(await statuses(orderId)).toEqual(['revoked']);
    });

    it('dispute → seller revoke → dispute won: revoked', async () => {
      const orderId = await paddleOrder('dispute-manual-won');
      await alert('payment_dispute_created', orderId);
      await sellerRevoke(orderId);
      await alert('payment_dispute_closed', orderId);
      expect(await statuses(orderId)).toEqual(['revoked']);
    });

    it('dispute → dispute won → refund: active in between, revoked at the end', async () => {
      const orderId = await paddleOrder('dispute-won-refund');
      await alert('payment_dispute_created', orderId);
      await alert('payment_dispute_closed', orderId);
      expect(await statuses(orderId)).toEqual(['active']);
      await alert('payment_refunded', orderId);
      expect(await statuses(orderId)).toEqual(['revoked']);
    });
  });

  it('a seller suspension survives the customer cancelling and un-cancelling', async () => {
    const sub = subscription('manual-vs-uncancel');
    await deliver(traffic.order(sub, 2));
    const granted = await order(sub);
    const suspend = manualEvent(granted, 'suspend', 'chargeback threatened', { targets: [granted.licenses[0]!.licenseId] });
    await new SqsEventQueue(h.sqs, h.stack.queueUrl).send([suspend]);
    await h.stack.poller.drain(60_000);
    await deliver(traffic.canceled(sub, 3));
    await deliver(traffic.uncanceled(sub));
    const state = await order(sub);
    expect(state.licenses.map((l) => l.status)).toEqual(['suspended', 'active']);
    expect(state.licenses[0]!.holds?.map((h) => h.kind)).toEqual(['seller-suspended']);
    expect(state.holds).toEqual([]);
  });
});
