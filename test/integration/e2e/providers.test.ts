import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
