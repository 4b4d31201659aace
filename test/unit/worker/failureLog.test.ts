import type { SQSRecord } from 'aws-lambda';
import type { FailureLog, FailureRecord } from '../../../functions/aws/failureLog';
import { failurePk } from '../../../functions/aws/failureLog';
import { createWorker } from '../../../functions/worker/handler';
import { grantEvent, testSecrets } from '../../helpers/fixtures';
import { MemoryMailer, MemoryStore, silentLogger } from '../../helpers/memory';

/** The worker keeps the last error of a failed message, for `keysmith dlq list`; only on failure. */

function record(body: string, messageId = 'm-1', receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: 'rh',
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: 'g' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:keysmith-events.fifo',
    awsRegion: 'us-east-1',
  };
}

function setup(failPut: boolean) {
  const store = new MemoryStore();
  if (failPut) store.put = () => Promise.reject(new Error('table unavailable for customer@example.com'));
  const recorded: FailureRecord[] = [];
  const failures: FailureLog = { record: async (f) => void recorded.push(f) };
  const worker = createWorker({ store, mailer: new MemoryMailer(), secrets: async () => testSecrets(), log: silentLogger(), failures, now: () => new Date('2026-02-01T00:00:00Z') });
  return { worker, recorded };
}

describe('worker failure log', () => {
  it('records the event, the delivery count and the error when a message fails', async () => {
    // Prepare
    const { worker, recorded } = setup(true);
    const event = grantEvent();

    // Act
    const result = await worker({ Records: [record(JSON.stringify(event), 'm-7', 3)] });

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-7' }]);
    expect(recorded).toEqual([
      {
        messageId: 'm-7',
        provider: event.provider,
        eventId: event.eventId,
        scope: event.scope,
        receiveCount: 3,
        error: { name: 'Error', message: 'table unavailable for customer@example.com' },
        at: new Date('2026-02-01T00:00:00Z'),
      },
    ]);
  });

  it('keys a body that is not an event by its message id, and writes nothing when all is well', async () => {
    const failing = setup(false);
    await failing.worker({ Records: [record('not json', 'm-9')] });
    expect(failing.recorded).toHaveLength(1);
    expect(failing.recorded[0]).toMatchObject({ messageId: 'm-9', receiveCount: 1 });
    expect(failurePk(failing.recorded[0]!)).toBe('FAIL#msg#m-9');
    expect(failurePk({ messageId: 'm', provider: 'fastspring', eventId: 'e1' })).toBe('FAIL#fastspring#e1');

    const healthy = setup(false);
    const result = await healthy.worker({ Records: [record(JSON.stringify(grantEvent()))] });
    expect(result.batchItemFailures).toEqual([]);
    expect(healthy.recorded).toEqual([]);
  });
});
