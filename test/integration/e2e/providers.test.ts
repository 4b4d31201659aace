import { createHmac, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { appliedEvents } from '../../../functions/aws/store';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { type Harness, startHarness } from './support';

/** Change the alphanumeric byte nearest the middle of the body (inside the signed content). */
function flipMiddleCharacter(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  for (let offset = 0; offset < copy.length; offset++) {
    const at = Math.floor(copy.length / 2) + (offset % 2 === 0 ? offset / 2 : -(offset + 1) / 2);
    const c = String.fromCharCode(copy[at]!);
    if (/[A-Za-z0-9]/.test(c)) {
      copy[at] = (c === 'a' ? 'b' : 'a').charCodeAt(0);
      return copy;
    }
  }
  throw new Error('no alphanumeric byte to flip');
}

/**
 * Every provider through the local stack: a signed sample delivered twice gets the identical
 * answer and has one effect; a tampered copy is refused and leaves nothing behind.
 */
describe.each(WEBHOOK_PROVIDERS.map((r) => r.name))('%s on the local stack', (provider) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  it('the identical delivery twice → identical answer, one license set, at most one email', async () => {
    const email = `twice-${provider}-${Date.now()}@example.com`;
    const request = await h.sample(provider, { email });
    const first = await h.send(request);
    await h.stack.poller.drain();
    const second = await h.send(request);
    await h.stack.poller.drain();
    expect(first.status).toBeLessThan(300);
    expect(second.status).toBe(first.status);
    expect(second.body.equals(first.body)).toBe(true);
    const found = await h.store.findByEmail(email);
    expect(found).toHaveLength(1);
    expect(found[0]!.state.licenses.length).toBeGreaterThan(0);
    expect(await appliedEvents(h.store, found[0]!.state)).toHaveLength(1);
    // Paddle mails our answer itself; everyone else gets exactly one keysmith email.
    expect(await h.emails(email)).toHaveLength(provider === 'paddle' ? 0 : 1);
  });

  it('a tampered delivery → 4xx, nothing queued or stored', async () => {
    const email = `tampered-${provider}-${Date.now()}@example.com`;
    const request = await h.sample(provider, { email });
    // Flip one byte of the signed material: the body, or for a GET/path-secret/header-token
    // provider the credential itself.
    const tampered =
      provider === 'selldone' || provider === 'gumroad'
        ? { ...request, path: request.path.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')) }
        : provider === 'hotmart'
          ? { ...request, headers: { ...request.headers, 'x-hotmart-hottok': `${request.headers['x-hotmart-hottok']}x` } }
          : request;
    const answer = await h.send(tampered, tampered === request ? flipMiddleCharacter : undefined);
    expect(answer.status).toBe(401);
    expect(await h.queueDepth(h.stack.queueUrl)).toBe(0);
    await h.stack.poller.drain();
    expect(await h.store.findByEmail(email)).toHaveLength(0);
  });
});

/**
 * The newer storefronts through the local stack with signers that are not keysmith's code, and
 * the refusals each scheme allows — forged, tampered and, where the scheme has a timestamp,
 * stale. A refusal leaves nothing queued or stored.
 */
describe('independent signers, forged and stale requests', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  /** Send, let the worker finish, and say what the stack did with it. */
  async function outcome(request: { path: string; headers: Record<string, string>; body: Buffer; method: 'POST' }, email: string) {
    const answer = await h.send({ ...request, orderId: '', eventIds: [], testFlag: false });
    const queued = await h.queueDepth(h.stack.queueUrl);
    await h.stack.poller.drain();
    const found = await h.store.findByEmail(email);
    return { status: answer.status, queued, licenses: found.flatMap((e) => e.state.licenses) };
  }

  it('Lemon Squeezy: signed with node:crypto → 200 and a license; another secret → 401, nothing stored', async () => {
    const email = `ls-${Date.now()}@example.com`;
    const built = await h.sample('lemonsqueezy', { email });
    const sign = (secret: string) => createHmac('sha256', secret).update(built.body).digest('hex');
    const forged = await outcome({ ...built, method: 'POST', headers: { ...built.headers, 'x-signature': sign('not-the-secret') } }, email);
    expect(forged).toEqual({ status: 401, queued: 0, licenses: [] });
    const good = await outcome({ ...built, method: 'POST', headers: { ...built.headers, 'x-signature': sign(h.secrets.KEYSMITH_LEMONSQUEEZY_SECRET!) } }, email);
    expect(good.status).toBe(200);
    expect(good.licenses.length).toBeGreaterThan(0);
  });

  it('Polar: signed by standardwebhooks → 200 and a license; stale, future or forged → 401, nothing stored', async () => {
    const email = `polar-${Date.now()}@example.com`;
    const built = await h.sample('polar', { email });
    // As Polar's server signs: the shown secret's UTF-8 bytes, base64-encoded, as the library's key.
    const key = Buffer.from(h.secrets.KEYSMITH_POLAR_WEBHOOK_SECRET!, 'utf8').toString('base64');
    const signedAt = (at: Date, webhookKey = key) => {
      const id = `msg_${randomUUID()}`;
      const headers = {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(webhookKey).sign(id, at, built.body.toString()),
      };
      return { ...built, method: 'POST' as const, headers };
    };
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    expect(await outcome(signedAt(minutes(-10)), email)).toEqual({ status: 401, queued: 0, licenses: [] });
    expect(await outcome(signedAt(minutes(10)), email)).toEqual({ status: 401, queued: 0, licenses: [] });
    expect(await outcome(signedAt(new Date(), Buffer.from('whsec_someone-else').toString('base64')), email)).toEqual({ status: 401, queued: 0, licenses: [] });
    const good = await outcome(signedAt(new Date()), email);
    expect(good.status).toBe(200);
    expect(good.licenses.length).toBeGreaterThan(0);
  });

  it('Gumroad: a ping to the secret URL → 200 and a license; to another URL → 401, nothing stored', async () => {
    const email = `gumroad-${Date.now()}@example.com`;
    const built = await h.sample('gumroad', { email });
    const wrong = await outcome({ ...built, method: 'POST', path: '/webhooks/gumroad/not-the-secret-0123456789012345678901234' }, email);
    expect(wrong).toEqual({ status: 401, queued: 0, licenses: [] });
    const good = await outcome({ ...built, method: 'POST' }, email);
    expect(good.status).toBe(200);
    expect(good.licenses.length).toBeGreaterThan(0);
  });
});
