import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { deduplicationId, type FulfillmentEvent, messageGroupId } from '../domain/events';
import type { Deadline } from './deadline';
import type { AwsJsonClient } from './light/AwsJsonClient';
import { type SqsBatchEntry, sendMessageBatch, sqsClient } from './light/sqs';

/** The port the ingress enqueues through; tests and benchmarks substitute it. */
export interface EventQueue {
  /**
   * Send events; resolves with which ones SQS accepted. Never throws for a partial failure. What
   * could not be sent by `options.deadline` counts as failed.
   */
  send(events: FulfillmentEvent[], options?: SendOptions): Promise<{ accepted: FulfillmentEvent[]; failed: FulfillmentEvent[] }>;
}

export interface SendOptions {
  deadline?: Deadline;
}

/** SQS allows 10 entries per batch. */
const BATCH_ENTRIES = 10;
/** SQS allows 256 KiB per batch (sum of bodies); keep a margin for attributes. */
const BATCH_BYTES = 250 * 1024;

/** One queue message per event: group = entitlement scope, dedupe = provider event id. */
export function toQueueEntry(event: FulfillmentEvent, index: number): SendMessageBatchRequestEntry {
  return {
    Id: String(index),
    MessageBody: JSON.stringify(event),
    MessageGroupId: messageGroupId(event),
    MessageDeduplicationId: deduplicationId(event),
  };
}

export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(events: FulfillmentEvent[], options: SendOptions = {}): Promise<{ accepted: FulfillmentEvent[]; failed: FulfillmentEvent[] }> {
    return sendInBatches(events, async (chunk) => {
      const result = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: chunk }), options.deadline ? { abortSignal: options.deadline.abortSignal() } : {});
      return new Set((result.Successful ?? []).map((s) => s.Id!));
    });
  }
}

/**
 * The same queue through keysmith's light AWS client (functions/aws/light) instead of
 * @aws-sdk/client-sqs: what the ingress Lambdas use, so their bundles carry no SDK.
 */
export class LightSqsEventQueue implements EventQueue {
  constructor(
    private readonly client: AwsJsonClient,
    private readonly queueUrl: string,
  ) {}

  async send(events: FulfillmentEvent[], options: SendOptions = {}): Promise<{ accepted: FulfillmentEvent[]; failed: FulfillmentEvent[] }> {
    return sendInBatches(events, (chunk) => sendMessageBatch(this.client, this.queueUrl, chunk as SqsBatchEntry[], options));
  }
}

/** Sends the events' entries in SQS-sized batches; `sendBatch` resolves with the accepted entry ids. */
async function sendInBatches(
  events: FulfillmentEvent[],
  sendBatch: (entries: SendMessageBatchRequestEntry[]) => Promise<Set<string>>,
): Promise<{ accepted: FulfillmentEvent[]; failed: FulfillmentEvent[] }> {
  const accepted: FulfillmentEvent[] = [];
  const failed: FulfillmentEvent[] = [];
  for (const chunk of chunks(events.map(toQueueEntry))) {
    try {
      const ok = await sendBatch(chunk);
      for (const entry of chunk) (ok.has(entry.Id!) ? accepted : failed).push(events[Number(entry.Id)]!);
    } catch {
      // The whole call failed (network, throttling after retries): none of these is durable.
      for (const entry of chunk) failed.push(events[Number(entry.Id)]!);
    }
  }
  return { accepted, failed };
}

function* chunks(entries: SendMessageBatchRequestEntry[]): Generator<SendMessageBatchRequestEntry[]> {
  let chunk: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.MessageBody ?? '');
    if (chunk.length === BATCH_ENTRIES || (chunk.length > 0 && bytes + size > BATCH_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

let defaultQueue: EventQueue | undefined;
/**
 * The queue named by `KEYSMITH_QUEUE_URL`, with one client per process: the light client, so the
 * ingress bundles no SDK. Like the SDK, it sends to the queue URL's own host unless
 * `AWS_ENDPOINT_URL_SQS` (or `AWS_ENDPOINT_URL`) says otherwise.
 */
export function queueFromEnv(): EventQueue {
  if (!defaultQueue) {
    const url = process.env.KEYSMITH_QUEUE_URL;
    if (!url) throw new Error('KEYSMITH_QUEUE_URL is not set');
    const override = process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
    defaultQueue = new LightSqsEventQueue(sqsClient(override ? {} : { endpoint: new URL(url).origin }), url);
  }
  return defaultQueue;
}

/** Drop the cached queue (tests and the local stack restart against new endpoints). */
export function forgetQueue(): void {
  defaultQueue = undefined;
}
