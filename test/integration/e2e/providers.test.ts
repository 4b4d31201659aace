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
      provider === 'selldone'
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
