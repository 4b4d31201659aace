import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import type { SQSRecord } from 'aws-lambda';
import { DeadlineHttpHandler } from '../../../functions/aws/deadline';
import type { FailureRecord } from '../../../functions/aws/failureLog';
import { type Mailer, SES_TIMEOUT_MS, SesMailer } from '../../../functions/aws/mailer';
import { DynamoEntitlementStore } from '../../../functions/aws/store';
import { createWorker, FINAL_MARGIN_MS } from '../../../functions/worker/handler';
import { grantEvent, testSecrets } from '../../helpers/fixtures';
import { type HangingServer, startHangingServer } from '../../helpers/hangingServer';
import { MemoryMailer, MemoryStore, silentLogger } from '../../helpers/memory';

/**
 * The worker budgets its batch from the Lambda context: a hung SES or DynamoDB call costs the time
 * that is left, never the invocation, and no message is begun without time to finish it.
 */

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

function record(messageId: string, group: string, event = grantEvent({ scope: `order-${messageId}` })): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify(event),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: group },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:keysmith-events.fifo',
    awsRegion: 'us-east-1',
  };
}

/** A Lambda context whose invocation ends `ms` from now. */
function contextEndingIn(ms: number) {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) };
}

describe('worker deadlines', () => {
  let hang: HangingServer;
  beforeEach(async () => {
    hang = await startHangingServer();
  });
  afterEach(async () => {
    await hang.stop();
  });

  it('a hung SES call ends before the invocation does, and the message comes back as a failure', async () => {
    // Prepare: the production SES client shape (request timeout 10 s) against an endpoint that never answers.
    const ses = new SESClient({
      endpoint: hang.url,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      requestHandler: new DeadlineHttpHandler({ requestTimeout: SES_TIMEOUT_MS, throwOnRequestTimeout: true }),
    });
    const failures: FailureRecord[] = [];
    const delays: [string, number][] = [];
    const worker = createWorker({
      store: new MemoryStore(),
      mailer: new SesMailer(ses, { from: 'shop@example.com' }),
      secrets: async () => testSecrets(),
      log: silentLogger(),
      failures: { record: async (f) => void failures.push(f) },
      delay: async (r, seconds) => void delays.push([r.messageId, seconds]),
    });
    const invocationMs = 7_000;

    // Act
    const started = Date.now();
    const result = await worker({ Records: [record('m-1', 'g-1')] }, contextEndingIn(invocationMs));
    const took = Date.now() - started;
    ses.destroy();

    // Assess: SES was called, abandoned at the work deadline, and the answer came in time.
    expect(hang.requests.length).toBeGreaterThan(0);
    expect(took).toBeLessThan(invocationMs - FINAL_MARGIN_MS);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(failures).toHaveLength(1);
    expect(delays).toEqual([['m-1', 10]]);
  });

  it('a hung DynamoDB call (through the unchanged store) is cut off at the deadline too', async () => {
    // Prepare
    const dynamodb = new DynamoDBClient({ endpoint: hang.url, region: 'us-east-1', credentials: CREDENTIALS, requestHandler: new DeadlineHttpHandler({ connectionTimeout: 3000 }) });
    const worker = createWorker({ store: new DynamoEntitlementStore(dynamodb, 'keysmith'), mailer: new MemoryMailer(), secrets: async () => testSecrets(), log: silentLogger() });
    const invocationMs = 6_000;

    // Act
    const started = Date.now();
    const result = await worker({ Records: [record('m-1', 'g-1')] }, contextEndingIn(invocationMs));
    const took = Date.now() - started;
    dynamodb.destroy();

    // Assess
    expect(hang.requests.some((r) => r.target?.startsWith('DynamoDB_20120810.'))).toBe(true);
    expect(took).toBeLessThan(invocationMs - FINAL_MARGIN_MS);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
  });

  it('begins no message without time for it: the rest of the batch goes back at once, untouched', async () => {
    // Prepare: each email takes 2 s; the invocation has 7 s (3.5 s of work after the reserves).
    const store = new MemoryStore();
    const sent: string[] = [];
    const slowMailer: Mailer = {
      send: async (to) => {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        sent.push(to);
        return { messageId: `msg-${sent.length}` };
      },
    };
    const delays: [string, number][] = [];
    const worker = createWorker({ store, mailer: slowMailer, secrets: async () => testSecrets(), log: silentLogger(), delay: async (r, seconds) => void delays.push([r.messageId, seconds]) });
    const records = ['m-1', 'm-2', 'm-3'].map((id) => record(id, 'one-group'));

    // Act
    const result = await worker({ Records: records }, contextEndingIn(7_000));

    // Assess: the first is done; the others were never begun and come back without backoff.
    expect(sent).toHaveLength(1);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }, { itemIdentifier: 'm-3' }]);
    expect([...store.items.keys()]).toEqual(['fastspring#order-m-1']);
    expect(delays).toEqual([
      ['m-2', 0],
      ['m-3', 0],
    ]);
  });

  it('with plenty of time the same batch is processed whole', async () => {
    // Prepare
    const mailer = new MemoryMailer();
    const worker = createWorker({ store: new MemoryStore(), mailer, secrets: async () => testSecrets(), log: silentLogger() });

    // Act
    const result = await worker({ Records: ['m-1', 'm-2', 'm-3'].map((id) => record(id, 'one-group')) }, contextEndingIn(30_000));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(mailer.sent).toHaveLength(3);
  });
});
