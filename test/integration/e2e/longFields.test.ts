import { emailAccounting } from '../../../scripts/emailAccounting';
import { type Harness, startHarness } from './support';

/**
 * Issue 9, item 5, through the local stack (real ingress, poller, worker, emulators), asserted on
 * public behaviour only — the webhook's answer, the licenses the store finds for the order, the
 * SES emulator's mailbox, and the "every email accounted for" check the bench and the soak run.
 */
describe('long genuine fields: acked, licensed and emailed (local stack)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  /** A FastSpring order.completed, changed by `edit`, signed as FastSpring signs. */
  const fastspringOrder = async (edit: (data: Record<string, any>) => void) => {
    const base = await h.sample('fastspring');
    const document = JSON.parse(base.body.toString('utf8')) as { events: { data: Record<string, any> }[] };
    edit(document.events[0]!.data);
    return h.sample('fastspring', { file: Buffer.from(JSON.stringify(document)) });
  };

  it('a 400-character name, a 320-character email and a 300-character product id: licensed and emailed', async () => {
    // Prepare
    const email = `${`${Date.now()}`.padEnd(64, 'a')}@${'b'.repeat(251)}.com`;
    expect(email).toHaveLength(320);
    const request = await fastspringOrder((data) => {
      data.customer.first = 'F'.repeat(400);
      data.customer.email = email;
      data.items[0].product = 'p'.repeat(300);
    });
    // Act
    const answer = await h.send(request);
    await h.stack.poller.drain();
    // Assess
    expect(answer.status).toBe(200);
    const [order] = await h.store.findByOrder('fastspring', request.orderId);
    expect(order).toBeDefined();
    expect(order!.state.customer.email).toBe(email);
    expect(order!.state.licenses.length).toBeGreaterThan(0);
    expect(order!.state.licenses.map((l) => l.providerProductId)).toContain('p'.repeat(300));
    const mails = await h.emails(email);
    expect(mails).toHaveLength(1);
    for (const license of order!.state.licenses) expect(mails[0]!.text).toContain(license.key);
    expect(mails[0]!.text).toContain(`Hello ${'F'.repeat(299)}…`);
    expect(await h.queueDepth(h.stack.dlqUrl)).toBe(0);
    const account = await emailAccounting(
      [{ provider: 'fastspring', orderId: request.orderId, to: email }],
      h.store,
      (await h.emails()).map((m) => ({ messageId: m.messageId, destination: { to: [m.to] } })),
    );
    expect(account).toMatchObject({ owed: 1, sent: 1, unaccounted: [] });
  });

  it('an address longer than any address can be: licensed, the email recorded as failed with its reason, nothing dead-lettered', async () => {
    // Prepare
    const email = `${'c'.repeat(400)}${Date.now()}@example.com`;
    const request = await fastspringOrder((data) => {
      data.customer.email = email;
    });
    // Act
    const answer = await h.send(request);
    await h.stack.poller.drain();
    // Assess
    expect(answer.status).toBe(200);
    const [order] = await h.store.findByOrder('fastspring', request.orderId);
    expect(order!.state.licenses.length).toBeGreaterThan(0);
    expect(await h.emails(email)).toHaveLength(0);
    expect(await h.queueDepth(h.stack.dlqUrl)).toBe(0);
    const account = await emailAccounting([{ provider: 'fastspring', orderId: request.orderId, to: email }], h.store, []);
    expect(account.unaccounted).toEqual([]);
    expect(account.failed).toEqual([{ email: expect.anything(), reason: expect.stringMatching(/^INVALID_ADDRESS: .*at most 320/) }]);
  });
});
