import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { LightDeliveryLog } from '../../../functions/aws/deliveryLog';
import { dynamodbClient } from '../../../functions/aws/light/dynamodb';
import { sqsClient } from '../../../functions/aws/light/sqs';
import { LightSqsEventQueue } from '../../../functions/aws/queue';
import { forgetSecrets } from '../../../functions/aws/secrets';
import { createIngressHandler } from '../../../functions/ingress/handler';
import { fastspring } from '../../../functions/providers/fastspring';
import { createApiServer } from '../../../lib/local/apiServer';
import { closeServer, listen } from '../../../lib/local/emulators';
import { fixture } from '../../helpers/fixtures';
import { type HangingServer, startHangingServer } from '../../helpers/hangingServer';

/**
 * Why the soak once saw 500s: the local API server, like API Gateway, answers 500 when the
 * function times out — and a delivery-log write plus an enqueue on an overloaded machine could
 * take the whole 10 s. The real ingress handler behind the local API server, with DynamoDB and
 * SQS that never answer and a 6 s function timeout: the caller gets the ingress's own 503 with
 * Retry-After before the timeout, never the timed-out invocation's 500.
 */

const SECRET = 'fs-secret';
const body = fixture('fastspring-order-completed.json');

describe('local API server + ingress handler against hung AWS endpoints', () => {
  let dynamo: HangingServer;
  let sqs: HangingServer;
  let server: Server;
  let url: string;
  const credentials = () => ({ accessKeyId: 'test', secretAccessKey: 'test' });

  beforeAll(async () => {
    forgetSecrets();
    process.env.KEYSMITH_FASTSPRING_SECRET = SECRET;
    process.env.KEYSMITH_LICENSE_SECRET ??= 'test-license-secret-0123456789abcdef';
    [dynamo, sqs] = await Promise.all([startHangingServer(), startHangingServer()]);
    const queue = new LightSqsEventQueue(sqsClient({ endpoint: sqs.url, region: 'us-east-1', credentials }), `${sqs.url}/000000000000/keysmith-events.fifo`);
    const deliveries = new LightDeliveryLog(dynamodbClient({ endpoint: dynamo.url, region: 'us-east-1', credentials }), 'keysmith');
    const handler = createIngressHandler(fastspring, { queue: () => queue, deliveries: () => deliveries });
    server = createApiServer({ routes: [{ provider: 'fastspring', method: 'POST', path: '/webhooks/fastspring', handler }], timeoutSeconds: 6 });
    url = `http://127.0.0.1:${await listen(server, 0)}/webhooks/fastspring`;
  });
  afterAll(async () => {
    delete process.env.KEYSMITH_FASTSPRING_SECRET;
    forgetSecrets();
    await closeServer(server);
    await Promise.all([dynamo.stop(), sqs.stop()]);
  });

  it('answers 503 with Retry-After before the function timeout, not a 500', async () => {
    // Prepare
    const signature = createHmac('sha256', SECRET).update(body).digest('base64');

    // Act
    const started = Date.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fs-signature': signature }, body });
    const took = Date.now() - started;
    const text = await res.text();

    // Assess: both were tried; the answer is the ingress's, in time.
    expect(dynamo.requests.length).toBeGreaterThan(0);
    expect(sqs.requests.length).toBeGreaterThan(0);
    expect({ status: res.status, retryAfter: res.headers.get('retry-after'), reason: res.headers.get('x-keysmith-reason') }).toEqual({
      status: 503,
      retryAfter: expect.stringMatching(/^\d+$/),
      reason: 'DEADLINE',
    });
    expect(text).toMatch(/could not be queued/);
    expect(took).toBeLessThan(6_000);
  });
});
