import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { toWebhookRequest } from '../../../functions/ingress/handler';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { fastspring } from '../../../functions/providers/fastspring';
import { exampleCatalog, fixture, testSecrets } from '../../helpers/fixtures';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

const SECRET = 'fs-test-secret';
const sign = (body: Buffer, secret = SECRET) => createHmac('sha256', secret).update(body).digest('base64');

function request(body: Buffer, headers: Record<string, string> = { 'x-fs-signature': sign(body), 'content-type': 'application/json' }): WebhookRequest {
  return {
    method: 'POST',
    path: '/webhooks/fastspring',
    routeKey: 'POST /webhooks/fastspring',
    pathParameters: {},
    headers,
    rawQuery: '',
    body,
    receivedAt: new Date('2026-01-01T00:00:00Z'),
    requestId: 'r1',
  };
}

async function deliver(req: WebhookRequest, queue = new MemoryQueue(), secrets = testSecrets({ KEYSMITH_FASTSPRING_SECRET: SECRET })) {
  const answer = await runIngress(fastspring, req, { queue, catalog: exampleCatalog(), secrets: async () => secrets, log: silentLogger() });
  return { answer, queue };
}

describe('FastSpring ingress', () => {
  const sample = fixture('fastspring-order-completed.json');

  it('accepts the shared sample and normalizes order.completed into one grant', async () => {
    const { answer, queue } = await deliver(request(sample));
    expect(answer.status).toBe(200);
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]).toMatchObject({
      provider: 'fastspring',
      eventId: 'tLJjFi6CQYyQPFRfFOqKig',
      action: 'grant',
      reason: 'order.completed',
      scope: 'EBRltgSoSOu5sOHc-xn-wQ',
      reference: 'FALCONSOFTWA190413-7806-51197',
      businessKey: 'order.completed#EBRltgSoSOu5sOHc-xn-wQ',
      live: false,
      occurredAt: new Date(1555170640394).toISOString(),
      customer: { email: 'john.doe@gmail.com', name: 'John Doe', locale: 'en' },
      items: [
        { productId: 'falcon-plus-bonus-package-annual-subscription-individual-license', quantity: 1 },
        { productId: 'falcon-plus-bonus-package-individual-license', quantity: 1 },
      ],
    });
  });

  it('matches the signature header in any case, over base64-encoded bodies too', async () => {
    const event = {
      version: '2.0',
      rawPath: '/webhooks/fastspring',
      rawQueryString: '',
      headers: { 'X-Fs-SIGNATURE': sign(sample), 'Content-Type': 'application/json' },
      body: sample.toString('base64'),
      isBase64Encoded: true,
      requestContext: { http: { method: 'POST', path: '/webhooks/fastspring' }, requestId: 'r' },
    } as unknown as APIGatewayProxyEventV2;
    const { answer, queue } = await deliver(toWebhookRequest(event));
    expect(answer.status).toBe(200);
    expect(queue.sent).toHaveLength(1);
  });

  it.each([
    ['a tampered byte', () => request(Buffer.concat([sample.subarray(0, 100), Buffer.from([sample[100]! ^ 1]), sample.subarray(101)]), { 'x-fs-signature': sign(sample) })],
    ['a wrong secret', () => request(sample, { 'x-fs-signature': sign(sample, 'other') })],
    ['a missing signature', () => request(sample, {})],
    ['a hex digest instead of base64', () => request(sample, { 'x-fs-signature': createHmac('sha256', SECRET).update(sample).digest('hex') })],
    ['a signature over re-serialized JSON', () => request(sample, { 'x-fs-signature': sign(Buffer.from(JSON.stringify(JSON.parse(sample.toString())))) })],
  ])('rejects %s with 401 and enqueues nothing', async (_name, make) => {
    const { answer, queue } = await deliver(make());
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/X-FS-Signature/);
    expect(answer.body).not.toContain(SECRET);
    expect(queue.sent).toHaveLength(0);
  });

  it('rejects every request with 401 while the secret is not configured', async () => {
    const { answer, queue } = await deliver(request(sample), new MemoryQueue(), testSecrets());
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/KEYSMITH_FASTSPRING_SECRET is not set/);
    expect(queue.sent).toHaveLength(0);
  });

  it('accepts the previous secret during a rotation', async () => {
    const secrets = testSecrets({ KEYSMITH_FASTSPRING_SECRET: 'new-secret', KEYSMITH_FASTSPRING_SECRET_PREVIOUS: SECRET });
    const { answer } = await deliver(request(sample), new MemoryQueue(), secrets);
    expect(answer.status).toBe(200);
  });

  it.each([
    ['not JSON', Buffer.from('{"events": [')],
    ['no events', Buffer.from('{"events": []}')],
    ['an order without items', Buffer.from(JSON.stringify({ events: [{ id: 'e1', type: 'order.completed', data: { id: 'o1' } }] }))],
    ['a negative quantity', Buffer.from(JSON.stringify({ events: [{ id: 'e1', type: 'order.completed', data: { id: 'o1', items: [{ product: 'p', quantity: -1 }] } }] }))],
  ])('rejects a signed but malformed body (%s) with 400 and enqueues nothing', async (_name, body) => {
    const { answer, queue } = await deliver(request(body));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/^MALFORMED: /);
    expect(queue.sent).toHaveLength(0);
  });

  it('answers 413 for an oversized body before verifying it', async () => {
    const big = Buffer.alloc(fastspring.maxBodyBytes + 1, 0x20);
    const { answer, queue } = await deliver(request(big, {}));
    expect(answer.status).toBe(413);
    expect(queue.sent).toHaveLength(0);
  });

  it('answers 415 for a wrong content type', async () => {
    const { answer } = await deliver(request(sample, { 'x-fs-signature': sign(sample), 'content-type': 'text/html' }));
    expect(answer.status).toBe(415);
  });

  it('reads every event of a batch and tolerates expansion off (ids instead of objects)', async () => {
    const body = Buffer.from(
      JSON.stringify({
        events: [
          {
            id: 'e1',
            type: 'order.completed',
            live: true,
            created: 1,
            data: { id: 'o1', account: 'acc1', customer: { email: 'x@y.co', first: 'X' }, items: [{ product: 'p1', quantity: 2, subscription: 'sub1' }] },
          },
          { id: 'e2', type: 'order.canceled', data: { id: 'o2' } },
          { id: 'e3', type: 'subscription.charge.completed', data: { order: 'rebill-1', subscription: 'sub1' } },
        ],
      }),
    );
    const { answer, queue } = await deliver(request(body));
    expect(answer.status).toBe(200);
    expect(queue.sent.map((e) => [e.eventId, e.action, e.scope])).toEqual([
      ['e1', 'grant', 'o1'],
      ['e2', 'record', 'o2'],
      // Expansion off: only the subscription id is known; the worker follows the subscription link.
      ['e3', 'extend', 'sub1'],
    ]);
    expect(queue.sent[0]!.subscription).toEqual({ id: 'sub1' });
  });

  it('maps the subscription and return lifecycle', async () => {
    const sub = { id: 'sub1', initialOrderId: 'o1', next: 1767225600000, account: { contact: { email: 'x@y.co' } } };
    const events = [
      { id: 'a', type: 'subscription.activated', data: sub },
      { id: 'b', type: 'subscription.charge.completed', data: { order: { id: 'rebill-7' }, subscription: { ...sub, next: 1769904000000 } } },
      { id: 'c', type: 'subscription.canceled', data: { ...sub, deactivationDate: 1772323200000 } },
      { id: 'd', type: 'subscription.uncanceled', data: sub },
      { id: 'e', type: 'subscription.deactivated', data: sub },
      { id: 'f', type: 'return.created', data: { return: 'r1', original: { id: 'o1' }, items: [{ product: 'p1', quantity: 1 }] } },
      { id: 'g', type: 'return.created', data: { return: 'r2', original: 'o2' } },
      { id: 'h', type: 'order.failed', data: { id: 'o3' } },
    ];
    const { answer, queue } = await deliver(request(Buffer.from(JSON.stringify({ events }))));
    expect(answer.status).toBe(200);
    const byId = Object.fromEntries(queue.sent.map((e) => [e.eventId, e]));
    expect(byId.a).toMatchObject({ action: 'change', scope: 'o1', items: [], subscription: { id: 'sub1', periodEnd: '2026-01-01T00:00:00.000Z' } });
    expect(byId.b).toMatchObject({ action: 'extend', scope: 'o1', businessKey: 'subscription.charge.completed#rebill-7', subscription: { periodEnd: '2026-02-01T00:00:00.000Z' } });
    expect(byId.c).toMatchObject({ action: 'revoke', scope: 'o1', effectiveAt: '2026-03-01T00:00:00.000Z' });
    expect(byId.d).toMatchObject({ action: 'reinstate', scope: 'o1' });
    expect(byId.e).toMatchObject({ action: 'revoke', scope: 'o1' });
    expect(byId.e!.effectiveAt).toBeUndefined();
    expect(byId.f).toMatchObject({ action: 'revoke', scope: 'o1', businessKey: 'return.created#r1', items: [{ productId: 'p1', quantity: 1 }] });
    expect(byId.g).toMatchObject({ action: 'revoke', scope: 'o2', items: [] });
    expect(byId.h).toMatchObject({ action: 'record', scope: 'o3' });
  });

  it('answers 202 with the enqueued ids when SQS refuses some, and 503 when it takes none', async () => {
    const body = Buffer.from(JSON.stringify({ events: [1, 2, 3].map((n) => ({ id: `e${n}`, type: 'order.completed', data: { id: `o${n}`, items: [] } })) }));
    const partial = new MemoryQueue();
    partial.failWith = (e) => e.eventId === 'e2';
    const some = await deliver(request(body), partial);
    expect(some.answer.status).toBe(202);
    expect(some.answer.body).toBe('e1\ne3\n');
    const none = new MemoryQueue();
    none.failWith = () => true;
    expect((await deliver(request(body), none)).answer.status).toBe(503);
  });

  it('leaves an unreadable event of a batch unacknowledged (202 without it)', async () => {
    const body = Buffer.from(
      JSON.stringify({
        events: [
          { id: 'good', type: 'order.canceled', data: { id: 'o' } },
          { id: 'bad', type: 'order.completed', data: { id: 'o2' } },
        ],
      }),
    );
    const { answer, queue } = await deliver(request(body));
    expect(answer.status).toBe(202);
    expect(answer.body).toBe('good\n');
    expect(queue.sent.map((e) => e.eventId)).toEqual(['good']);
  });
});
