import { DeleteMessageBatchCommand, DeleteMessageCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { Logger } from '../../functions/log/logger';
import { FUNCTIONS, LOCAL } from '../../functions/settings';
import { queueDepth } from '../queueDepth';
import type { EffectiveQueueSettings } from './definitions';
import { type FunctionSpec, invoke } from './invoke';

/**
 * A Lambda SQS event source mapping for a FIFO queue, against local-aws-sqs.
 *
 * What Lambda does, and what this does:
 * - Receives up to `batchSize` messages and invokes the worker at once (no batching window),
 *   with up to `maxConcurrency` invocations at a time.
 * - Deletes the messages the worker did not report in `batchItemFailures`. A failed invocation
 *   (throws, times out, or reports an unknown item) fails the whole batch. Failed messages come
 *   back after their visibility timeout — whatever the worker set with ChangeMessageVisibility.
 * - FIFO: a message group with a message in flight is not handed out again, and within a batch a
 *   group's messages are in order. If one fails, the group's later messages in that batch are not
 *   deleted either, even if the worker reported them as done: nothing overtakes a failure.
 * - After `maxReceiveCount` deliveries a message goes to the DLQ instead of the worker.
 *
 * What the emulator gets wrong, and how it is handled here:
 * - It hands out every visible message regardless of its group. The poller keeps per-group
 *   state: messages received while their group is busy are held (invisible in the emulator) and
 *   delivered in first-seen order once the group is free. A group is busy while a batch holding
 *   it runs, and after a failure until every failed or unprocessed message has come back.
 * - It counts ChangeMessageVisibility calls as receives, so its ApproximateReceiveCount and its
 *   own redrive are wrong. The poller counts deliveries per message id itself, reports that count
 *   as `ApproximateReceiveCount`, and moves messages to the DLQ itself (the emulator's check is
 *   switched off in emulators.ts).
 * - A long poll with MaxNumberOfMessages > 1 waits the full WaitTimeSeconds, so the poller asks
 *   with WaitTimeSeconds 0 and sleeps briefly when idle, backing off to `maxIdleSleepMs`.
 *
 * Group state lives in this process only. A message deleted behind the poller's back (by hand,
 * or a purge) while it is failed-and-waiting keeps its group locked until the stack restarts.
 */

export type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface PollerOptions {
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: WorkerHandler;
  settings: EffectiveQueueSettings;
  /** Moves a message to the DLQ (the poller deletes it from the queue afterwards). */
  moveToDeadLetterQueue: (message: Message) => void | Promise<void>;
  log?: Logger;
  /** @default FUNCTIONS.worker.timeoutSeconds */
  timeoutSeconds?: number;
  /** @default 20 */
  minIdleSleepMs?: number;
  /** @default 250 */
  maxIdleSleepMs?: number;
}

export interface PollerStats {
  /** Worker invocations. */
  batches: number;
  /** Records handed to the worker (a redelivery counts again). */
  delivered: number;
  deleted: number;
  /** Records not deleted after an invocation (failed or unprocessed). */
  failed: number;
  deadLettered: number;
  /** Worker invocations running now. */
  running: number;
  /** Messages received and waiting for their group. */
  held: number;
}

interface Held {
  message: Message;
  ordinal: number;
  /** When this receipt handle stops being valid, as far as we know. */
  visibleAt: number;
}

interface GroupState {
  running: boolean;
  /** Delivered and not deleted, not yet received again: the group is locked until they are. */
  outstanding: Set<string>;
  held: Held[];
}

const DELETE_BATCH = 10;

export class QueuePoller {
  private readonly options: PollerOptions;
  private readonly spec: FunctionSpec;
  private readonly groups = new Map<string, GroupState>();
  /** Deliveries to the worker per message id: the receive count the emulator cannot give us. */
  private readonly deliveries = new Map<string, number>();
  /** First-seen order per message id: the emulator's SequenceNumbers do not sort. */
  private readonly ordinals = new Map<string, number>();
  private nextOrdinal = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly counters = { batches: 0, delivered: 0, deleted: 0, failed: 0, deadLettered: 0 };
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private nudged = false;
  private quiet = false;
  private idleWaiters: Array<() => void> = [];

  constructor(options: PollerOptions) {
    this.options = options;
    this.spec = {
      functionName: 'keysmith-worker',
      timeoutSeconds: options.timeoutSeconds ?? FUNCTIONS.worker.timeoutSeconds,
      memoryMb: FUNCTIONS.worker.memoryMb,
    };
  }

  start(): void {
    if (this.state !== 'new') throw new Error(`the poller is ${this.state}`);
    this.state = 'running';
    this.loopDone = this.loop();
  }

  /** Stops receiving and waits for running invocations (and their deletes) to finish. */
  async stop(): Promise<void> {
    if (this.state === 'new') this.state = 'stopped';
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    this.wake?.();
    await this.loopDone;
    await Promise.all([...this.running]);
    this.state = 'stopped';
    this.resolveIdle();
  }

  /**
   * Resolves once the poller has nothing to do: no invocation running, nothing held, and a
   * receive came back empty. Failed messages may still be waiting out their visibility timeout.
   */
  idle(): Promise<void> {
    if (this.state !== 'running' || (this.quiet && this.running.size === 0 && this.heldCount() === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves once the queue holds no message at all (visible or not) and the poller is idle. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await withDeadline(this.idle(), deadline, 'the poller did not become idle');
      // Visible, in flight and delayed: a message that was just sent is briefly only in the last.
      const { total: left } = await queueDepth(this.options.client, this.options.queueUrl, 'local');
      if (left === 0 && this.running.size === 0 && this.heldCount() === 0) return;
      if (Date.now() >= deadline) throw new Error(`queue not drained after ${timeoutMs} ms: ${left} message(s) left`);
      await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
    }
  }

  /**
   * New messages were just sent: poll now instead of finishing the idle sleep. Stands in for the
   * long poll of the real event source mapping, which picks a message up within milliseconds.
   */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  stats(): PollerStats {
    return { ...this.counters, running: this.running.size, held: this.heldCount() };
  }

  // ---- the loop ---------------------------------------------------------------------------

  private async loop(): Promise<void> {
    const minSleep = this.options.minIdleSleepMs ?? 20;
    const maxSleep = this.options.maxIdleSleepMs ?? 250;
    let idleSleep = minSleep;
    while (this.state === 'running') {
      if (this.running.size >= this.options.settings.maxConcurrency) {
        await this.sleep(maxSleep);
        continue;
      }
      let received: Message[];
      try {
        received = await this.receive();
      } catch (error) {
        if (this.state !== 'running') break;
        this.options.log?.error('local poller: ReceiveMessage failed', { error });
        await this.sleep(maxSleep);
        continue;
      }
      const dead = this.accept(received);
      for (const message of dead) await this.deadLetter(message);
      const dispatched = this.dispatch();
      if (received.length === 0 && dispatched === 0) {
        this.quiet = true;
        this.resolveIdle();
        await this.sleep(idleSleep);
        idleSleep = this.nudged ? minSleep : Math.min(idleSleep * 2, maxSleep);
        this.nudged = false;
      } else {
        this.quiet = false;
        idleSleep = minSleep;
      }
    }
  }

  private async receive(): Promise<Message[]> {
    const { Messages = [] } = await this.options.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: this.options.settings.batchSize,
        VisibilityTimeout: this.options.settings.visibilityTimeoutSeconds,
        WaitTimeSeconds: 0,
        // The emulator ignores MessageSystemAttributeNames; AttributeNames still works.
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages;
  }

  /** Files received messages under their groups; returns those that used up their deliveries. */
  private accept(messages: Message[]): Message[] {
    const now = Date.now();
    const dead: Message[] = [];
    for (const message of messages) {
      const id = message.MessageId!;
      const group = this.group(groupOf(message));
      group.outstanding.delete(id);
      const visibleAt = now + this.options.settings.visibilityTimeoutSeconds * 1000;
      const already = group.held.find((h) => h.message.MessageId === id);
      if (already) {
        // Its visibility ran out while it waited; only the newest receipt handle is valid.
        already.message = message;
        already.visibleAt = visibleAt;
        continue;
      }
      if ((this.deliveries.get(id) ?? 0) >= this.options.settings.maxReceiveCount) {
        dead.push(message);
        continue;
      }
      let ordinal = this.ordinals.get(id);
      if (ordinal === undefined) {
        ordinal = this.nextOrdinal++;
        this.ordinals.set(id, ordinal);
      }
      group.held.push({ message, ordinal, visibleAt });
      group.held.sort((a, b) => a.ordinal - b.ordinal);
    }
    return dead;
  }

  private async deadLetter(message: Message): Promise<void> {
    const id = message.MessageId!;
    try {
      await this.options.moveToDeadLetterQueue(message);
      await this.options.client.send(new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      this.counters.deadLettered++;
      this.forget(id, groupOf(message));
      this.options.log?.warn('local poller: message moved to the DLQ', { messageId: id, deliveries: this.deliveries.get(id), maxReceiveCount: this.options.settings.maxReceiveCount });
    } catch (error) {
      // It stays in the queue and is tried again when it next comes back.
      this.group(groupOf(message)).outstanding.add(id);
      this.options.log?.error('local poller: could not move a message to the DLQ', { messageId: id, error });
    }
  }

  /** Starts invocations for free groups' held messages; returns how many records went out. */
  private dispatch(): number {
    let dispatched = 0;
    const now = Date.now();
    // A record must leave the worker its whole timeout before its receipt handle runs out.
    const margin = Math.min(this.spec.timeoutSeconds * 1000, (this.options.settings.visibilityTimeoutSeconds * 1000) / 2);
    while (this.running.size < this.options.settings.maxConcurrency) {
      const batch: Held[] = [];
      const free = [...this.groups.entries()].filter(([, g]) => !g.running && g.outstanding.size === 0 && g.held.length > 0).sort(([, a], [, b]) => a.held[0]!.ordinal - b.held[0]!.ordinal);
      const taken = new Set<string>();
      for (const [name, group] of free) {
        while (group.held.length > 0 && batch.length < this.options.settings.batchSize) {
          const next = group.held[0]!;
          if (next.visibleAt - now < margin) {
            // Too close to visible again: let it come back with a fresh handle; the group waits.
            group.held.shift();
            group.outstanding.add(next.message.MessageId!);
            break;
          }
          batch.push(group.held.shift()!);
          taken.add(name);
        }
        if (batch.length >= this.options.settings.batchSize) break;
      }
      if (batch.length === 0) break;
      for (const name of taken) this.group(name).running = true;
      dispatched += batch.length;
      const run = this.runBatch(
        batch.sort((a, b) => a.ordinal - b.ordinal).map((h) => h.message),
        taken,
      ).finally(() => {
        this.running.delete(run);
        this.wake?.();
      });
      this.running.add(run);
    }
    return dispatched;
  }

  private async runBatch(messages: Message[], groups: Set<string>): Promise<void> {
    this.counters.batches++;
    const records = messages.map((message) => {
      const id = message.MessageId!;
      const count = (this.deliveries.get(id) ?? 0) + 1;
      this.deliveries.set(id, count);
      return toSqsRecord(message, count, this.options.queueArn);
    });
    this.counters.delivered += records.length;

    let failed: Set<string>;
    try {
      const response = await invoke(this.spec, this.options.handler, { Records: records });
      failed = failedItems(response, records);
    } catch (error) {
      this.options.log?.error('worker invocation failed; the whole batch will be retried', { records: records.length, error });
      failed = new Set(records.map((r) => r.messageId));
    }

    // FIFO: after a group's first failure nothing later in that group may be deleted.
    const stopped = new Set<string>();
    const toDelete: SQSRecord[] = [];
    const notDeleted: SQSRecord[] = [];
    for (const record of records) {
      const group = record.attributes.MessageGroupId ?? record.messageId;
      if (stopped.has(group) || failed.has(record.messageId)) {
        stopped.add(group);
        notDeleted.push(record);
      } else {
        toDelete.push(record);
      }
    }

    const undeletable = await this.deleteRecords(toDelete);
    for (const record of [...notDeleted, ...undeletable]) {
      const group = this.group(record.attributes.MessageGroupId ?? record.messageId);
      // Unless it already came back while the worker ran, the group waits for it.
      if (!group.held.some((h) => h.message.MessageId === record.messageId)) group.outstanding.add(record.messageId);
    }
    this.counters.failed += notDeleted.length;
    for (const name of groups) {
      const group = this.group(name);
      group.running = false;
      if (group.outstanding.size === 0 && group.held.length === 0) this.groups.delete(name);
    }
  }

  /** Deletes records; returns those whose delete failed (they will be delivered again). */
  private async deleteRecords(records: SQSRecord[]): Promise<SQSRecord[]> {
    const failed: SQSRecord[] = [];
    for (let i = 0; i < records.length; i += DELETE_BATCH) {
      const chunk = records.slice(i, i + DELETE_BATCH);
      try {
        const result = await this.options.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
          }),
        );
        const bad = new Set((result.Failed ?? []).map((f) => f.Id));
        for (const [index, record] of chunk.entries()) {
          if (bad.has(String(index))) failed.push(record);
          else this.forget(record.messageId, record.attributes.MessageGroupId ?? record.messageId);
        }
        if (result.Failed?.length) this.options.log?.warn('local poller: some deletes failed; those messages will be delivered again', { failed: result.Failed });
      } catch (error) {
        failed.push(...chunk);
        this.options.log?.error('local poller: DeleteMessageBatch failed; the messages will be delivered again', { error });
      }
    }
    this.counters.deleted += records.length - failed.length;
    return failed;
  }

  // ---- bookkeeping ------------------------------------------------------------------------

  private group(name: string): GroupState {
    let group = this.groups.get(name);
    if (!group) {
      group = { running: false, outstanding: new Set(), held: [] };
      this.groups.set(name, group);
    }
    return group;
  }

  /** A message left the queue: drop what we knew about it. */
  private forget(id: string, groupName: string): void {
    this.deliveries.delete(id);
    this.ordinals.delete(id);
    const group = this.groups.get(groupName);
    if (!group) return;
    group.outstanding.delete(id);
    if (!group.running && group.outstanding.size === 0 && group.held.length === 0) this.groups.delete(groupName);
  }

  private heldCount(): number {
    let held = 0;
    for (const group of this.groups.values()) held += group.held.length;
    return held;
  }

  private resolveIdle(): void {
    if (this.state === 'running' && !(this.quiet && this.running.size === 0 && this.heldCount() === 0)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Sleeps up to `ms`; a finished invocation or stop() wakes it early. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

function groupOf(message: Message): string {
  return message.Attributes?.MessageGroupId ?? message.MessageId!;
}

/**
 * Lambda's reading of a partial batch response: no response or an empty list means all
 * succeeded; an item that names no record of the batch makes the whole batch a failure.
 */
export function failedItems(response: SQSBatchResponse | void, records: SQSRecord[]): Set<string> {
  const all = new Set(records.map((r) => r.messageId));
  if (response === undefined || response === null) return new Set();
  const items = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return all;
  const failed = new Set<string>();
  for (const item of items) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

/** The record Lambda builds from a received message. */
export function toSqsRecord(message: Message, receiveCount: number, queueArn: string): SQSRecord {
  const a = message.Attributes ?? {};
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? LOCAL.accountId,
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.SequenceNumber !== undefined ? { SequenceNumber: a.SequenceNumber } : {}),
      ...(a.MessageGroupId !== undefined ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId !== undefined ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
      ...(a.AWSTraceHeader !== undefined ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? LOCAL.region,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withDeadline<T>(promise: Promise<T>, deadline: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(message)), Math.max(0, deadline - Date.now()));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
