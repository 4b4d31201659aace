import { createHmac } from 'node:crypto';
import { PermanentMailError } from '../../../functions/aws/mailer';
import type { RenderedEmail } from '../../../functions/domain/email';
import { runIngress } from '../../../functions/ingress/pipeline';
import type { WebhookRequest } from '../../../functions/ingress/types';
import { EmfMetrics, METRIC, metricsFromEnv, noMetrics } from '../../../functions/log/metrics';
import { fastspring } from '../../../functions/providers/fastspring';
import { createWorker } from '../../../functions/worker/handler';
import { exampleCatalog, fixture, grantEvent, testSecrets } from '../../helpers/fixtures';
import { MemoryMailer, MemoryQueue, MemoryStore, silentLogger } from '../../helpers/memory';
import { capturedMetrics, readAll, readEmf, sqsEvent } from './support';

describe('EMF metrics', () => {
  it('writes nothing until flushed, then one document per provider with every metric', () => {
    // Prepare
    const { metrics, docs } = capturedMetrics();
    // Act
    metrics.count(METRIC.received, 1, { provider: 'fastspring' });
    metrics.count(METRIC.received, 1, { provider: 'fastspring' });
    metrics.count(METRIC.enqueued, 3, { provider: 'fastspring' });
    metrics.timing(METRIC.ingressLatency, 12.5, { provider: 'fastspring' });
    metrics.timing(METRIC.ingressLatency, 7, { provider: 'fastspring' });
    expect(docs).toHaveLength(0);
    metrics.flush();
    metrics.flush(); // nothing new: nothing written
    // Assess
    expect(docs).toHaveLength(1);
    const [doc] = docs;
    expect(doc!._aws).toEqual({
      Timestamp: 1_767_225_600_000,
      CloudWatchMetrics: [
        {
          Namespace: 'Keysmith',
          Dimensions: [['Service', 'Provider']],
          Metrics: [
            { Name: 'Received', Unit: 'Count' },
            { Name: 'Enqueued', Unit: 'Count' },
            { Name: 'IngressLatency', Unit: 'Milliseconds' },
          ],
        },
      ],
    });
    expect(readEmf(doc!)).toEqual({ 'Service=TestStack|Provider=fastspring': { Received: 2, Enqueued: 3, IngressLatency: [12.5, 7] } });
  });

  it('publishes a reasoned metric under [Service, Provider] and [Service, Provider, Reason], on the same line; Rejected under [Service] too', () => {
    const { metrics, docs } = capturedMetrics();
    metrics.count(METRIC.received, 1, { provider: 'hotmart' });
    metrics.count(METRIC.rejected, 1, { provider: 'hotmart', reason: 'UNAUTHORIZED' });
    metrics.timing(METRIC.ingressLatency, 3, { provider: 'hotmart' });
    metrics.flush();

    expect(docs).toHaveLength(1);
    expect(docs[0]!._aws.CloudWatchMetrics.map((d) => d.Dimensions)).toEqual([[['Service', 'Provider']], [['Service', 'Provider', 'Reason']], [['Service']]]);
    expect(readEmf(docs[0]!)).toEqual({
      'Service=TestStack|Provider=hotmart': { Received: 1, IngressLatency: 3, Rejected: 1 },
      'Service=TestStack|Provider=hotmart|Reason=UNAUTHORIZED': { Rejected: 1 },
      // The rejection alarm's one metric, however many providers there are.
      'Service=TestStack': { Rejected: 1 },
    });
  });

  it('sums Rejected over providers and reasons under [Service], and nothing else', () => {
    const { metrics, docs } = capturedMetrics();
    metrics.count(METRIC.rejected, 2, { provider: 'stripe', reason: 'UNAUTHORIZED' });
    metrics.count(METRIC.rejected, 1, { provider: 'stripe', reason: 'MALFORMED' });
    metrics.count(METRIC.rejected, 4, { provider: 'polar', reason: 'UNAUTHORIZED' });
    metrics.count(METRIC.received, 7, { provider: 'polar' });
    metrics.flush();

    // CloudWatch sums the [Service] values of every line.
    const totals = docs.filter((d) => d._aws.CloudWatchMetrics.some((c) => c.Dimensions.some((set) => set.length === 1)));
    expect(totals.map((d) => d._aws.CloudWatchMetrics.find((c) => c.Dimensions[0]!.length === 1)!.Metrics.map((m) => m.Name))).toEqual([['Rejected'], ['Rejected'], ['Rejected']]);
    expect(totals.reduce((sum, d) => sum + (d.Rejected as number), 0)).toBe(7);
  });

  it('splits what cannot share a line: two providers, two reasons', () => {
    const { metrics, docs } = capturedMetrics();
    metrics.count(METRIC.emailsSent, 1, { provider: 'fastspring' });
    metrics.count(METRIC.emailsSent, 1, { provider: 'paddle' });
    metrics.count(METRIC.emailsFailed, 1, { provider: 'paddle', reason: 'INVALID_ADDRESS' });
    metrics.count(METRIC.emailsFailed, 2, { provider: 'paddle', reason: 'MessageRejected' });
    metrics.flush();

    expect(docs).toHaveLength(4);
    expect(readAll(docs)).toEqual({
      'Service=TestStack|Provider=fastspring': { EmailsSent: 1 },
      // The per-provider total is CloudWatch's sum over the two reasoned documents.
      'Service=TestStack|Provider=paddle': { EmailsSent: 1, EmailsFailed: 3 },
      'Service=TestStack|Provider=paddle|Reason=INVALID_ADDRESS': { EmailsFailed: 1 },
      'Service=TestStack|Provider=paddle|Reason=MessageRejected': { EmailsFailed: 2 },
    });
  });

  it('flushes early before a timing exceeds the 100 values EMF allows', () => {
    const { metrics, docs } = capturedMetrics();
    for (let i = 0; i < 250; i++) metrics.timing(METRIC.processingLatency, i, { provider: 'selldone' });
    metrics.flush();
    expect(docs.map((d) => (d.ProcessingLatency as number[]).length)).toEqual([100, 100, 50]);
    for (const doc of docs) readEmf(doc);
  });

  it('ignores values that are not finite numbers', () => {
    const { metrics, docs } = capturedMetrics();
    metrics.timing(METRIC.ingressLatency, Number.NaN, { provider: 'fastspring' });
    metrics.flush();
    expect(docs).toHaveLength(0);
  });

  it('is on inside Lambda, off elsewhere, and KEYSMITH_METRICS overrides either way', () => {
    expect(metricsFromEnv({})).toBe(noMetrics);
    expect(metricsFromEnv({ AWS_LAMBDA_FUNCTION_NAME: 'f' })).toBeInstanceOf(EmfMetrics);
    expect(metricsFromEnv({ AWS_LAMBDA_FUNCTION_NAME: 'f', KEYSMITH_METRICS: 'off' })).toBe(noMetrics);
    const lines: string[] = [];
    const on = metricsFromEnv({ KEYSMITH_METRICS: 'on', KEYSMITH_SERVICE: 'Shop' }, (line) => lines.push(line));
    on.count(METRIC.received, 1, { provider: 'paddle' });
    on.flush();
    expect(JSON.parse(lines[0]!)).toMatchObject({ Service: 'Shop', Provider: 'paddle', Received: 1 });
  });
});

describe('metrics of the ingress pipeline', () => {
  const SECRET = 'fs-metrics-secret';
  const sample = fixture('fastspring-order-completed.json');
  const request = (signature: string): WebhookRequest => ({
    method: 'POST',
    path: '/webhooks/fastspring',
    routeKey: 'POST /webhooks/fastspring',
    pathParameters: {},
    headers: { 'x-fs-signature': signature, 'content-type': 'application/json' },
    rawQuery: '',
    body: sample,
    receivedAt: new Date('2026-01-01T00:00:00Z'),
    requestId: 'r1',
  });
  const deliver = async (req: WebhookRequest, queue = new MemoryQueue()) => {
    const { metrics, docs } = capturedMetrics();
    const answer = await runIngress(fastspring, req, { queue, catalog: exampleCatalog(), secrets: async () => testSecrets({ KEYSMITH_FASTSPRING_SECRET: SECRET }), log: silentLogger(), metrics });
    return { answer, docs };
  };

  it('counts an accepted webhook: received, enqueued, latency — one line per request', async () => {
    const { answer, docs } = await deliver(request(createHmac('sha256', SECRET).update(sample).digest('base64')));
    expect(answer.status).toBe(200);
    expect(docs).toHaveLength(1);
    const values = readEmf(docs[0]!)['Service=TestStack|Provider=fastspring']!;
    expect(values).toEqual({ Received: 1, Enqueued: 1, IngressLatency: expect.any(Number) });
  });

  it('counts a rejection with its code as the reason', async () => {
    const { answer, docs } = await deliver(request('forged'));
    expect(answer.status).toBe(401);
    expect(docs).toHaveLength(1);
    expect(readEmf(docs[0]!)).toEqual({
      'Service=TestStack|Provider=fastspring': { Received: 1, IngressLatency: expect.any(Number), Rejected: 1 },
      'Service=TestStack|Provider=fastspring|Reason=UNAUTHORIZED': { Rejected: 1 },
      'Service=TestStack': { Rejected: 1 },
    });
  });

  it('counts events the queue refused', async () => {
    const queue = new MemoryQueue();
    queue.failWith = () => true;
    const { answer, docs } = await deliver(request(createHmac('sha256', SECRET).update(sample).digest('base64')), queue);
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect(readEmf(docs[0]!)['Service=TestStack|Provider=fastspring']).toEqual({ Received: 1, Enqueued: 0, EnqueueFailed: 1, IngressLatency: expect.any(Number) });
  });
});

describe('metrics of the worker', () => {
  const setup = (mailer = new MemoryMailer()) => {
    const { metrics, docs } = capturedMetrics();
    const store = new MemoryStore();
    const worker = createWorker({ store, mailer, secrets: async () => testSecrets(), log: silentLogger(), metrics, now: () => new Date('2026-01-10T12:00:00Z') });
    return { worker, docs, store };
  };

  it('counts licenses issued and revoked, emails sent and latency per event, flushed once per batch', async () => {
    // Prepare
    const { worker, docs } = setup();
    const grant = grantEvent({ scope: 'metrics-1' }); // two units → two licenses
    const refund = grantEvent({ scope: 'metrics-1', action: 'revoke', reason: 'order.refunded', items: [] });
    // Act
    await worker(sqsEvent([grant]));
    await worker(sqsEvent([refund]));
    await worker(sqsEvent([grant], 2)); // a redelivered duplicate changes nothing
    // Assess
    expect(docs).toHaveLength(3);
    const [first, second, third] = docs.map((d) => readEmf(d)['Service=TestStack|Provider=fastspring']);
    expect(first).toEqual({ ProcessingLatency: expect.any(Number), LicensesIssued: 2, EmailsSent: 1 });
    expect(second).toEqual({ ProcessingLatency: expect.any(Number), LicensesRevoked: 2 });
    expect(third).toEqual({ ProcessingLatency: expect.any(Number) });
  });

  it('counts a permanent mail failure with its code, and a transient one as a retried event', async () => {
    const failing = new (class extends MemoryMailer {
      fail: Error = new PermanentMailError('INVALID_ADDRESS', 'bad');
      override async send(_to: string, _email: RenderedEmail): Promise<{ messageId: string }> {
        throw this.fail;
      }
    })();
    const { worker, docs } = setup(failing);
    await worker(sqsEvent([grantEvent({ scope: 'metrics-2' })]));
    failing.fail = Object.assign(new Error('throttled'), { name: 'Throttling' });
    const result = await worker(sqsEvent([grantEvent({ scope: 'metrics-3' })]));
    expect(result.batchItemFailures).toHaveLength(1);
    expect(readAll(docs.slice(0, 1))).toEqual({
      'Service=TestStack|Provider=fastspring': { ProcessingLatency: expect.any(Number), LicensesIssued: 2, EmailsFailed: 1 },
      'Service=TestStack|Provider=fastspring|Reason=INVALID_ADDRESS': { EmailsFailed: 1 },
    });
    expect(readEmf(docs[1]!)['Service=TestStack|Provider=fastspring']).toEqual({ EventsFailed: 1 });
  });
});
