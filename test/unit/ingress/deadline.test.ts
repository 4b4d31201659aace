import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { Deadline } from '../../../functions/aws/deadline';
import { LightDeliveryLog } from '../../../functions/aws/deliveryLog';
import { dynamodbClient } from '../../../functions/aws/light/dynamodb';
import { sqsClient } from '../../../functions/aws/light/sqs';
import { type EventQueue, LightSqsEventQueue } from '../../../functions/aws/queue';
import { forgetSecrets } from '../../../functions/aws/secrets';
import { createIngressHandler } from '../../../functions/ingress/handler';
import { DELIVERY_LOG_MS, LAST_MOMENT_MS, runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { fastspring } from '../../../functions/providers/fastspring';
import { exampleCatalog, fixture, testSecrets } from '../../helpers/fixtures';
import { type HangingServer, startHangingServer } from '../../helpers/hangingServer';
import { MemoryQueue, silentLogger } from '../../helpers/memory';

/**
 * The ingress answers before its Lambda ends, whatever hangs: a hung delivery-log write costs at
 * most DELIVERY_LOG_MS and the event is still enqueued; a hung SQS gives a 503 with Retry-After
 * before the deadline, never a 2xx and never a timed-out invocation (API Gateway's bare 500).
 */

const SECRET = 'fs-secret';
const body = fixture('fastspring-order-completed.json');
const signature = createHmac('sha256', SECRET).update(body).digest('base64');
const request = (): WebhookRequest => ({
  method: 'POST',
  path: '/webhooks/fastspring',
  routeKey: 'POST /webhooks/fastspring',
  pathParameters: {},
  headers: { 'content-type': 'application/json', 'x-fs-signature': signature },
  rawQuery: '',
  body,
  receivedAt: new Date(),
  requestId: 'req-deadline',
});
const CREDENTIALS = () => ({ accessKeyId: 'test', secretAccessKey: 'test' });

describe('ingress deadlines against endpoints that never answer', () => {
  let hang: HangingServer;
  beforeEach(async () => {
    hang = await startHangingServer();
  });
  afterEach(async () => {
    await hang.stop();
  });

  it('a hung delivery-log write: still 2xx within the log budget, and the events are enqueued', async () => {
    // Prepare: the production delivery log (light client, 3 attempts × 3 s) against a hung DynamoDB.
    const deliveries = new LightDeliveryLog(dynamodbClient({ endpoint: hang.url, region: 'us-east-1', credentials: CREDENTIALS }), 'keysmith');
    const queue = new MemoryQueue();

    // Act
    const started = Date.now();
    const answer = await runIngress(fastspring, request(), {
      queue,
      deliveries,
      catalog: exampleCatalog(),
      secrets: async () => testSecrets({ KEYSMITH_FASTSPRING_SECRET: SECRET }),
      log: silentLogger(),
    });
    const took = Date.now() - started;

    // Assess
    expect(hang.requests.some((r) => r.target === 'DynamoDB_20120810.BatchWriteItem')).toBe(true);
    expect(answer.status).toBe(200);
    expect(took).toBeLessThan(DELIVERY_LOG_MS + 700);
    expect(queue.sent.length).toBeGreaterThan(0);
    // The log was not written, so the events do not claim their lookups are indexed.
    expect(queue.sent.every((e) => e.indexed === undefined)).toBe(true);
  });

  it('a hung SQS: 503 with Retry-After and a reason before the Lambda deadline, through the handler and its context', async () => {
    // Prepare: the production queue adapter against a hung SQS; an invocation with 4 s left.
    forgetSecrets();
    process.env.KEYSMITH_FASTSPRING_SECRET = SECRET;
    process.env.KEYSMITH_LICENSE_SECRET ??= 'test-license-secret-0123456789abcdef';
    const queue = new LightSqsEventQueue(sqsClient({ endpoint: hang.url, region: 'us-east-1', credentials: CREDENTIALS }), `${hang.url}/000000000000/keysmith-events.fifo`);
    const handler = createIngressHandler(fastspring, { queue: () => queue, deliveries: () => ({ record: async () => true }) });
    const invocationMs = 4_000;
    const end = Date.now() + invocationMs;
    const event = {
      version: '2.0',
      routeKey: 'POST /webhooks/fastspring',
      rawPath: '/webhooks/fastspring',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', 'x-fs-signature': signature },
      body: body.toString('utf8'),
      isBase64Encoded: false,
      requestContext: { requestId: 'req-sqs-hang', http: { method: 'POST', path: '/webhooks/fastspring' } },
    } as unknown as APIGatewayProxyEventV2;

    // Act
    const result = await handler(event, { getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) });
    const leftMs = end - Date.now();
    delete process.env.KEYSMITH_FASTSPRING_SECRET;
    forgetSecrets();

    // Assess: SQS was tried, nothing was acknowledged, and the answer came with time to spare.
    expect(hang.requests.some((r) => r.target === 'AmazonSQS.SendMessageBatch')).toBe(true);
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toMatch(/^\d+$/);
    expect(result.headers?.['x-keysmith-reason']).toBe('DEADLINE');
    expect(leftMs).toBeGreaterThan(LAST_MOMENT_MS);
  });

  it('whatever still runs near the end is abandoned: 503 before the deadline, not a timed-out invocation', async () => {
    // Prepare: a queue that ignores its deadline and never settles.
    const stuck: EventQueue = { send: () => new Promise(() => undefined) };
    const invocationMs = 2_500;
    const end = Date.now() + invocationMs;

    // Act
    const answer = await runIngress(fastspring, request(), {
      queue: stuck,
      catalog: exampleCatalog(),
      secrets: async () => testSecrets({ KEYSMITH_FASTSPRING_SECRET: SECRET }),
      log: silentLogger(),
      deadline: Deadline.in(invocationMs),
    });
    const leftMs = end - Date.now();

    // Assess
    expect(answer.status).toBe(503);
    expect(answer.headers).toMatchObject({ 'retry-after': expect.stringMatching(/^\d+$/), 'x-keysmith-reason': 'DEADLINE' });
    expect(leftMs).toBeGreaterThan(0);
  });
});
