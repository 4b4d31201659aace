import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { DynamoFailureLog, type StoredFailure } from '../../../functions/aws/failureLog';
import { canonicalEvent, InvalidEvent } from '../../../functions/domain/canonicalEvent';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { queueDepth } from '../../queueDepth';
import { sleep } from '../manual';
import { CliError, EXIT, notFound, type Output, shortTime, table, usageError } from '../output';
import type { Target } from '../target';
import { parseLimit } from './deliveries';

/**
 * The dead-letter queue: what is in it, why, and back to the event queue once the cause is fixed.
 *
 * Reading a queue means receiving, which hides messages: `list` and `show` receive with a short
 * hold and give every message back at once (visibility 0), so the worker-facing state is
 * unchanged and a redrive right after sees everything. On a FIFO queue SQS hands out only the
 * first messages of a group while others of the group are held, so a listing may show fewer
 * messages than `count` when one order has many in the DLQ; `count` comes from the queue's
 * attributes and is exact.
 *
 * The "last error" comes from the worker's failure log (functions/aws/failureLog.ts): SQS keeps
 * no error with a message.
 */

/** One DLQ message, decoded (`dlq list --json` prints `{ count, messages: DlqEntry[] }`). */
export interface DlqEntry {
  messageId: string;
  /** When it was first sent to the event queue (SQS keeps it through the redrive to the DLQ). */
  sentAt: string | null;
  group: string | null;
  /** False when the body is not a FulfillmentEvent (then `problem` says why). */
  valid: boolean;
  problem?: string;
  provider?: string;
  eventId?: string;
  action?: string;
  reason?: string;
  scope?: string;
  order?: string;
  customer?: string;
  /** The worker's last error for this event, when it recorded one. */
  lastError: { name: string; message: string; at: string; receiveCount: number } | null;
}

export interface DlqShowResult extends DlqEntry {
  /** The full event (or, when not valid, the raw body). */
  event?: FulfillmentEvent;
  body?: string;
  attributes: Record<string, string>;
}

/** How long a listing holds messages before handing them back (it hands them back at once when done). */
const HOLD_SECONDS = 30;

export async function dlqList(options: { limit?: string }, target: () => Promise<Target>, out: Output): Promise<void> {
  const limit = parseLimit(options.limit, 100);
  const t = await target();
  const count = await depth(t, t.dlqUrl);
  const messages = count === 0 ? [] : await peek(t, limit, out);
  const entries = await Promise.all(messages.map((m) => decode(t, m)));
  out.result({ count, messages: entries }, () =>
    count === 0
      ? `the DLQ is empty (${t.label})`
      : [
          `${count} message(s) in the DLQ (${t.label})${entries.length < count ? `; showing ${entries.length}` : ''}`,
          table([
            ['MESSAGE', 'SENT', 'PROVIDER', 'ACTION', 'ORDER', 'LAST ERROR'],
            ...entries.map((e) => [
              e.messageId,
              shortTime(e.sentAt),
              e.provider ?? '?',
              e.valid ? `${e.action}:${e.reason}` : 'INVALID',
              e.order ?? '-',
              e.lastError ? `${e.lastError.name}: ${oneLine(e.lastError.message, 80)} (${e.lastError.receiveCount}×)` : (e.problem ?? '(none recorded)'),
            ]),
          ]),
          '',
          'Fix the cause, then: keysmith dlq redrive --all   (or --id MESSAGE)',
        ].join('\n'),
  );
}

export async function dlqShow(id: string, target: () => Promise<Target>, out: Output): Promise<void> {
  const t = await target();
  const message = (await peek(t, Number.POSITIVE_INFINITY, out, id))[0];
  if (!message) throw notFound(`no message ${id} in the DLQ (${t.label}); \`keysmith dlq list\` shows the ids`);
  const entry = await decode(t, message);
  const parsed = parseEvent(message.Body);
  const result: DlqShowResult = {
    ...entry,
    ...(parsed.event ? { event: parsed.event } : { body: message.Body ?? '' }),
    attributes: { ...(message.Attributes ?? {}) },
  };
  out.result(result, () =>
    [
      `message   ${result.messageId}   sent ${shortTime(result.sentAt)}   group ${result.group ?? '-'}`,
      result.valid
        ? `event     ${result.provider} ${result.action} (${result.reason})  order ${result.order}  customer ${result.customer || '-'}\n          ${result.eventId}`
        : `body      not a keysmith event: ${result.problem}`,
      `last error ${result.lastError ? `${result.lastError.name}: ${result.lastError.message}\n          at ${result.lastError.at}, delivery ${result.lastError.receiveCount}` : '(none recorded)'}`,
      '',
      result.event ? JSON.stringify(result.event, null, 2) : (result.body ?? ''),
    ].join('\n'),
  );
}

export interface RedriveOptions {
  all: boolean;
  id?: string;
  rate?: string;
  wait: boolean;
  timeoutSeconds: number;
}

/** `dlq redrive --json`. */
export interface RedriveResult {
  /** `move-task`: SQS moved them (StartMessageMoveTask); `resend`: receive → send → delete by the CLI. */
  method: 'move-task' | 'resend';
  /** Messages moved back to the event queue. */
  moved: number;
  /** Messages the DLQ held when the redrive started. */
  total: number;
  /** `move-task`: the task's last status (RUNNING with --no-wait); `resend`: COMPLETED. */
  status: string;
  taskHandle?: string;
  failureReason?: string;
  /** `resend`: the messages, with their id in the DLQ and their new id in the event queue. */
  messages?: { messageId: string; newMessageId: string; group: string | null }[];
}

const DEFAULT_RATE = 10;

export async function dlqRedrive(options: RedriveOptions, target: () => Promise<Target>, out: Output): Promise<void> {
  if (options.all === (options.id !== undefined)) throw usageError('dlq redrive needs exactly one of --all or --id MESSAGE');
  const rate = options.rate === undefined ? DEFAULT_RATE : Number(options.rate);
  if (!Number.isInteger(rate) || rate < 1 || rate > 500) throw usageError(`--rate must be a whole number of messages per second from 1 to 500, not "${options.rate}"`);
  const t = await target();
  const total = await depth(t, t.dlqUrl);
  if (total === 0 && options.all) {
    const empty: RedriveResult = { method: 'move-task', moved: 0, total: 0, status: 'COMPLETED' };
    out.result(empty, () => `the DLQ is empty (${t.label}); nothing to redrive`);
    return;
  }
  let result: RedriveResult;
  if (options.all) {
    result = (await moveTask(t, rate, total, options, out)) ?? (await resend(t, rate, total, undefined, out));
  } else {
    result = await resend(t, rate, total, options.id, out);
  }
  out.result(result, () =>
    result.status === 'RUNNING'
      ? `redrive started (SQS move task, ${rate}/s): ${result.moved}/${result.total} moved so far; \`keysmith dlq list\` shows what is left`
      : `${result.moved} message(s) moved back to the event queue (${result.method === 'move-task' ? 'SQS move task' : 'receive → send → delete'}, ${result.status.toLowerCase()})`,
  );
  if (result.status === 'FAILED' || result.status === 'CANCELLED') throw new CliError(`the redrive ${result.status.toLowerCase()}${result.failureReason ? `: ${result.failureReason}` : ''}`);
}

/**
 * `--all` through SQS's own DLQ redrive (StartMessageMoveTask, FIFO included since 2023): SQS
 * keeps group order and rate. Returns undefined where the API is not available, so the caller
 * falls back to resending.
 */
async function moveTask(t: Target, rate: number, total: number, options: RedriveOptions, out: Output): Promise<RedriveResult | undefined> {
  const [dlqArn, queueArn] = await Promise.all([arnOf(t, t.dlqUrl), arnOf(t, t.queueUrl)]);
  let taskHandle: string | undefined;
  try {
    taskHandle = (await t.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: queueArn, MaxNumberOfMessagesPerSecond: rate }))).TaskHandle;
  } catch (error) {
    const e = error as Error;
    if (/already a task running|only one active/i.test(e.message)) throw new CliError(`a redrive of this DLQ is already running (${t.label}); wait for it, or cancel it in the SQS console`);
    if (/UnsupportedOperation|not supported|InvalidAction|UnknownOperation/i.test(`${e.name} ${e.message}`)) {
      out.note(`SQS move tasks are not available here (${e.message}); resending the messages one by one instead`);
      return undefined;
    }
    throw new CliError(`could not start the redrive: ${e.name}: ${e.message}`);
  }
  out.note(`redrive started: SQS move task at ${rate} message(s)/s`);
  const result: RedriveResult = { method: 'move-task', moved: 0, total, status: 'RUNNING', ...(taskHandle ? { taskHandle } : {}) };
  if (!options.wait) return result;
  const progress = out.progress('redriving the DLQ', total);
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  for (;;) {
    await sleep(500);
    const tasks = (await t.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 1 }))).Results ?? [];
    const task = tasks[0];
    if (task) {
      result.moved = task.ApproximateNumberOfMessagesMoved ?? result.moved;
      result.total = task.ApproximateNumberOfMessagesToMove ?? result.total;
      result.status = task.Status ?? result.status;
      if (task.FailureReason) result.failureReason = task.FailureReason;
      progress.update(result.moved, result.total);
    }
    if (result.status !== 'RUNNING' && result.status !== 'CANCELLING') break;
    if (Date.now() >= deadline) {
      progress.done();
      throw new CliError(`the redrive is still running after ${options.timeoutSeconds} s (${result.moved}/${result.total} moved); SQS carries on without the CLI`, EXIT.timeout);
    }
  }
  progress.done(`redriving the DLQ: ${result.moved}/${result.total} moved, ${result.status.toLowerCase()}`);
  return result;
}

/**
 * Receive → send → delete, rate-limited, keeping each message's group (so an order's events stay
 * in order). The deduplication id is new but stable per DLQ message, `redrive-<messageId>`:
 * the original (provider + event id) would be silently dropped by SQS when the original was sent
 * less than 5 minutes ago, and a stable one makes a retried redrive of the same message (the CLI
 * died between send and delete) a duplicate SQS drops. The worker is idempotent either way.
 */
async function resend(t: Target, rate: number, total: number, id: string | undefined, out: Output): Promise<RedriveResult> {
  const moved: NonNullable<RedriveResult['messages']> = [];
  const progress = out.progress('redriving the DLQ', id ? 1 : total);
  const interval = 1000 / rate;
  let found = false;
  for (;;) {
    const batch = id ? await peek(t, Number.POSITIVE_INFINITY, out, id, 60) : await receive(t, t.dlqUrl, 60);
    if (batch.length === 0) break;
    for (const message of batch) {
      if (id && message.MessageId !== id) continue;
      found = true;
      const started = Date.now();
      const group = message.Attributes?.MessageGroupId ?? null;
      const sent = await t.sqs.send(
        new SendMessageCommand({
          QueueUrl: t.queueUrl,
          MessageBody: message.Body ?? '',
          ...(group ? { MessageGroupId: group, MessageDeduplicationId: `redrive-${message.MessageId}` } : {}),
          ...(message.MessageAttributes && Object.keys(message.MessageAttributes).length > 0 ? { MessageAttributes: copyAttributes(message.MessageAttributes) } : {}),
        }),
      );
      await t.sqs.send(new DeleteMessageCommand({ QueueUrl: t.dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
      moved.push({ messageId: message.MessageId!, newMessageId: sent.MessageId ?? '', group });
      progress.tick();
      const wait = interval - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    }
    if (id) break;
  }
  if (id && !found) {
    progress.done();
    throw notFound(`no message ${id} in the DLQ (${t.label}); \`keysmith dlq list\` shows the ids`);
  }
  progress.done(`redriving the DLQ: ${moved.length} moved`);
  return { method: 'resend', moved: moved.length, total, status: 'COMPLETED', messages: moved };
}

// ---- reading the DLQ -----------------------------------------------------------------------

async function receive(t: Target, queueUrl: string, holdSeconds: number): Promise<Message[]> {
  const { Messages = [] } = await t.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: holdSeconds,
      // Local: the emulator waits the full time when asking for more than one message. AWS: a
      // one-second poll asks every server, so a short queue is not reported empty by chance.
      WaitTimeSeconds: t.kind === 'aws' ? 1 : 0,
      // Both: the emulator reads only the deprecated AttributeNames; SQS accepts both.
      AttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

/**
 * Receives up to `limit` DLQ messages (or until `id` shows up), then makes them visible again.
 * With `keepId`, that message stays held (for `resend`, which deletes it) and the others go back.
 */
async function peek(t: Target, limit: number, out: Output, id?: string, keepIdSeconds?: number): Promise<Message[]> {
  const seen = new Map<string, Message>();
  const progress = out.progress('reading the DLQ');
  try {
    let empty = 0;
    while (seen.size < limit) {
      const batch = await receive(t, t.dlqUrl, keepIdSeconds ?? HOLD_SECONDS);
      const fresh = batch.filter((m) => !seen.has(m.MessageId!));
      for (const m of fresh) seen.set(m.MessageId!, m);
      progress.update(seen.size);
      if (id && seen.has(id)) break;
      if (fresh.length === 0 && ++empty >= 2) break;
      if (fresh.length > 0) empty = 0;
    }
  } finally {
    const back = [...seen.values()].filter((m) => !(keepIdSeconds !== undefined && m.MessageId === id));
    await release(t, back).catch((error: unknown) => out.note(`warning: could not hand ${back.length} message(s) back at once (${(error as Error).message}); they reappear after ${HOLD_SECONDS} s`));
    progress.done(`reading the DLQ: ${seen.size} message(s)`);
  }
  const all = [...seen.values()];
  return id ? all.filter((m) => m.MessageId === id) : all.slice(0, limit);
}

async function release(t: Target, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await t.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: t.dlqUrl,
        Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  }
}

async function decode(t: Target, message: Message): Promise<DlqEntry> {
  const a = message.Attributes ?? {};
  const sent = Number(a.SentTimestamp);
  const base = {
    messageId: message.MessageId!,
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : null,
    group: a.MessageGroupId ?? null,
  };
  const { event, problem } = parseEvent(message.Body);
  const failures = new DynamoFailureLog(t.dynamodb, t.tableName);
  let failure: StoredFailure | undefined;
  try {
    failure = await failures.get({ messageId: message.MessageId!, ...(event ? { provider: event.provider, eventId: event.eventId } : {}) });
  } catch {
    failure = undefined;
  }
  const lastError = failure ? { name: failure.error.name, message: failure.error.message, at: failure.at, receiveCount: failure.receiveCount } : null;
  if (!event) return { ...base, valid: false, problem: problem!, lastError };
  return {
    ...base,
    valid: true,
    provider: event.provider,
    eventId: event.eventId,
    action: event.action,
    reason: event.reason,
    scope: event.scope,
    order: event.orderId ?? event.scope,
    customer: event.customer.email,
    lastError,
  };
}

function parseEvent(body: string | undefined): { event?: FulfillmentEvent; problem?: string } {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { problem: 'the body is not JSON' };
  }
  // Read as the worker will read it on redrive (the same gate), so a message enqueued before long
  // values were made to fit is shown as it will be applied, not as broken.
  try {
    return { event: canonicalEvent(json) };
  } catch (error) {
    if (!(error instanceof InvalidEvent)) throw error;
    return { problem: `not a FulfillmentEvent: ${error.message}` };
  }
}

/** Messages in a queue: visible, in flight and delayed, each counted once (see queueDepth.ts). */
export async function depth(t: Target, queueUrl: string): Promise<number> {
  return (await queueDepth(t.sqs, queueUrl, t.kind === 'local' ? 'local' : 'aws')).total;
}

async function arnOf(t: Target, queueUrl: string): Promise<string> {
  const { Attributes = {} } = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  if (!Attributes.QueueArn) throw new CliError(`SQS did not give the ARN of ${queueUrl}`);
  return Attributes.QueueArn;
}

function copyAttributes(attributes: Record<string, MessageAttributeValue>): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    out[name] = {
      DataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  return out;
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
