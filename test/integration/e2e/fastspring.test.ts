import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { appliedEvents, fromItem } from '../../../functions/aws/store';
import { keyHash } from '../../../functions/domain/licenses';
import { type Harness, startHarness } from './support';

/**
 * The walking skeleton's promise, end to end on the emulators with the code that ships: a signed
 * FastSpring order becomes licenses and one email; the same request again changes nothing; one
 * changed byte is refused with 401 and leaves no trace.
 */
describe('FastSpring order → license → email, on the local stack', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  it('a signed order.completed becomes one license per unit and one email containing them', async () => {
    // Prepare
    const email = `ada-${Date.now()}@example.com`;
    const request = await h.sample('fastspring', { email });
    // Act
    const answer = await h.send(request);
    await h.stack.poller.drain();
    // Assess
    expect(answer.status).toBe(200);
    const [entitlement] = await h.store.findByOrder('fastspring', request.orderId);
    expect(entitlement).toBeDefined();
    const licenses = entitlement!.state.licenses;
    expect(licenses).toHaveLength(2); // the sample has two items of quantity 1
    expect(licenses.every((l) => /^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/.test(l.key) && l.status === 'active')).toBe(true);
    const mails = await h.emails(email);
    expect(mails).toHaveLength(1);
    for (const license of licenses) {
      expect(mails[0]!.text).toContain(license.key);
      expect(mails[0]!.html).toContain(license.key);
      expect(await h.store.findByKey(license.key)).toMatchObject({ licenseId: license.licenseId });
    }
    expect((await appliedEvents(h.store, entitlement!.state))[0]!.email).toMatchObject({ status: 'sent', messageId: mails[0]!.messageId });
  });

  it('the identical signed request again: still exactly one license set and one email', async () => {
    const email = `twice-${Date.now()}@example.com`;
    const request = await h.sample('fastspring', { email });
    const first = await h.send(request);
    await h.stack.poller.drain();
    const second = await h.send(request);
    await h.stack.poller.drain();
    expect([first.status, second.status]).toEqual([200, 200]);
    const found = await h.store.findByOrder('fastspring', request.orderId);
    expect(found).toHaveLength(1);
    expect(found[0]!.state.licenses).toHaveLength(2);
    expect(await h.emails(email)).toHaveLength(1);
  });

  it('a manual resend from the dashboard (new event id, same order) changes nothing either', async () => {
    const email = `resent-${Date.now()}@example.com`;
    const request = await h.sample('fastspring', { email });
    await h.send(request);
    const body = JSON.parse(request.body.toString()) as { events: { id: string }[] };
    body.events[0]!.id = `${body.events[0]!.id}-resend`;
    const resent = await h.sample('fastspring', { file: Buffer.from(JSON.stringify(body)) });
    expect((await h.send(resent)).status).toBe(200);
    await h.stack.poller.drain();
    expect((await h.store.findByOrder('fastspring', request.orderId))[0]!.state.licenses).toHaveLength(2);
    expect(await h.emails(email)).toHaveLength(1);
  });

  it('one changed byte → 401, nothing queued or stored', async () => {
    const email = `forged-${Date.now()}@example.com`;
    const request = await h.sample('fastspring', { email });
    const itemsBefore = (await h.dynamo.send(new ScanCommand({ TableName: h.stack.tableName, Select: 'COUNT' }))).Count;
    const answer = await h.send(request, (body) => {
      const copy = Buffer.from(body);
      const at = copy.indexOf('"quantity":1') + '"quantity":'.length;
      copy[at] = '9'.charCodeAt(0); // quantity 1 → 9
      return copy;
    });
    expect(answer.status).toBe(401);
    expect(answer.body.toString()).toMatch(/X-FS-Signature/);
    expect(await h.queueDepth(h.stack.queueUrl)).toBe(0);
    await h.stack.poller.drain();
    expect((await h.dynamo.send(new ScanCommand({ TableName: h.stack.tableName, Select: 'COUNT' }))).Count).toBe(itemsBefore);
    expect(await h.store.findByOrder('fastspring', request.orderId)).toHaveLength(0);
    expect(await h.emails(email)).toHaveLength(0);
  });

  it('stores no raw key as a key attribute', async () => {
    const { Items = [] } = await h.dynamo.send(new ScanCommand({ TableName: h.stack.tableName }));
    const keys = Items.filter((i) => i.pk?.S?.startsWith('ENT#') && i.sk?.S === 'ENT').flatMap((i) => fromItem(i).state.licenses.map((l) => l.key));
    expect(keys.length).toBeGreaterThan(0);
    const keyAttributes = new Set(Items.map((i) => i.pk!.S!));
    for (const key of keys) {
      expect([...keyAttributes].some((pk) => pk.includes(key))).toBe(false);
      expect(keyAttributes.has(`KEY#${keyHash(key)}`)).toBe(true);
    }
  });
});
