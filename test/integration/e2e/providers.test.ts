import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { appliedEvents } from '../../../functions/aws/store';
import { findWebhookProvider, WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import type { SampleRequest } from '../../../functions/providers/sample';
import type { FuzzKit } from '../../../functions/providers/types';
import { parseEnvFile } from '../../../lib/local/devSecrets';
import { rawFromSample } from '../../../scripts/soak/apiEvent';
import { type Harness, startHarness } from './support';

/** An attacker's own keys (for the forgeries that sign with a wrong key). */
function attackerKeys(): FuzzKit['attacker'] {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, ec: ec.privateKey, ecPublicJwk: ec.publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
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
    // The provider's own first forgery (its fuzz.ts): a wrong key, a wrong token or URL secret, a
    // JWT with alg none — whatever its authentication is, the request no longer carries it.
    const hooks = await findWebhookProvider(provider)!.fuzz();
    const dev = parseEnvFile(readFileSync(h.stack.secretsFile, 'utf8'));
    const forged = hooks.forged(rawFromSample(request), [], 0, 'not-the-secret', { secrets: dev, attacker: attackerKeys() }).request;
    const tampered: SampleRequest = {
      ...request,
      method: forged.method as SampleRequest['method'],
      path: forged.target,
      headers: Object.fromEntries(forged.headers.map(([n, v]) => [n.toLowerCase(), v])),
      body: forged.body,
    };
    const answer = await h.send(tampered);
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
