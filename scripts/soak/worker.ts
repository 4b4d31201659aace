import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoFailureLog } from '../../functions/aws/failureLog';
import { type Mailer, type MailTags, type SendOptions, SesMailer } from '../../functions/aws/mailer';
import { loadSecrets } from '../../functions/aws/secrets';
import { DynamoEntitlementStore } from '../../functions/aws/store';
import { loadCatalog } from '../../functions/config/loadCatalog';
import type { RenderedEmail } from '../../functions/domain/email';
import type { Logger } from '../../functions/log/logger';
import { createWorker, queueUrlOf, workerClients } from '../../functions/worker/handler';
import type { Checkpoint } from '../../functions/worker/processEvent';
import type { WorkerHandler } from '../../lib/local/poller';
import { injectSdkFaults, type SdkFaultCounters } from './faults';
import { type Random, sleep } from './random';

/**
 * The worker of the soak: the production worker (`createWorker`) with the production adapters —
 * DynamoEntitlementStore and DynamoFailureLog over a DynamoDB client, SesMailer over the SES
 * client `sesClient()` (workerClients) — built from the same environment the Lambda gets, plus faults:
 *
 * - SDK level: throttling responses on a fraction of DynamoDB and SES attempts (./faults.ts).
 * - Crashes: each delivery of a message is doomed with probability `crashRate`; it crashes at a
 *   checkpoint of the state machine drawn uniformly from the four (`processEvent`'s `checkpoint`
 *   hook throws there, so that message fails and SQS delivers it again). A delivery that never
 *   reaches its checkpoint (no email owed, lookups already written by the ingress) crashes at the
 *   end instead, after all its work and before its ack (`before-ack`: reported as a failed item,
 *   like a Lambda that dies before returning). So every doomed delivery crashes exactly once.
 * - Random delays of a few ms at every checkpoint and before every SDK attempt.
 *
 * The worker's retry backoff (ChangeMessageVisibility with QUEUE.retryBackoff) runs as in
 * production, scaled by `backoffScale` so a run takes minutes, not hours.
 */

export type CrashPoint = Checkpoint | 'before-ack';
export const CHECKPOINTS: readonly Checkpoint[] = ['after-flush', 'after-state-write', 'after-views', 'after-lookups', 'after-email-sent', 'after-email-marked'];

export interface WorkerFaultOptions {
  /** Fraction of SES attempts answered with SES's throttling error. */
  sesThrottleRate: number;
  /** Fraction of DynamoDB attempts answered with DynamoDB's throttling error. */
  dynamoThrottleRate: number;
  /** Fraction of deliveries that crash (once, at a random checkpoint). */
  crashRate: number;
  /** Random delay bound at checkpoints and SDK attempts, ms. */
  maxDelayMs: number;
  /** Multiplies the worker's retry backoff (seconds, rounded up, at least 1). */
  backoffScale: number;
}

export interface WorkerStats {
  invocations: number;
  /** Records handed to the worker (redeliveries included). */
  records: number;
  /** Records the worker reported as failed (including injected crashes). */
  failedRecords: number;
  /** Deliveries per receive count: how far into the `maxReceiveCount` budget messages went. */
  receiveCounts: Record<number, number>;
  doomed: number;
  crashes: Record<CrashPoint, number>;
  /** Crashes between a successful SES send and its mark, per recipient address. */
  windowCrashes: Map<string, number>;
  /** SesMailer.send calls that returned a message id (SES accepted the email). */
  emailsAccepted: number;
  /** SesMailer.send calls that threw (after the SDK's own retries). */
  emailFailures: number;
  /** ChangeMessageVisibility backoffs the worker set. */
  backoffs: number;
  ses: SdkFaultCounters;
  dynamodb: SdkFaultCounters;
  log: LogCounts;
}

export interface LogCounts {
  warn: number;
  error: number;
  /** The first error lines (JSON), for the report. */
  errors: string[];
}

export interface SoakWorker {
  handler: WorkerHandler;
  stats: WorkerStats;
  /** The largest item the worker wrote (every write goes through its store, which measures it). */
  largestWrite(): { bytes: number; key: string };
  destroy(): void;
}

interface CrashPlan {
  messageId: string;
  point: Checkpoint;
  fired: boolean;
}

export function createSoakWorker(options: WorkerFaultOptions, random: Random): SoakWorker {
  const table = process.env.KEYSMITH_TABLE_NAME;
  if (!table) throw new Error('KEYSMITH_TABLE_NAME is not set: start the local stack first');
  const faults = random.fork();
  const crashes = random.fork();

  // Exactly the clients the production worker builds (fromEnvironment in functions/worker/handler.ts).
  const { dynamodb: dynamo, ses, sqs } = workerClients();
  const stats: WorkerStats = {
    invocations: 0,
    records: 0,
    failedRecords: 0,
    receiveCounts: {},
    doomed: 0,
    crashes: { 'after-flush': 0, 'after-state-write': 0, 'after-views': 0, 'after-lookups': 0, 'after-email-sent': 0, 'after-email-marked': 0, 'before-ack': 0 },
    windowCrashes: new Map(),
    emailsAccepted: 0,
    emailFailures: 0,
    backoffs: 0,
    dynamodb: injectSdkFaults(dynamo, { rate: options.dynamoThrottleRate, response: 'dynamodb', maxDelayMs: options.maxDelayMs, random: faults.fork() }),
    ses: injectSdkFaults(ses, { rate: options.sesThrottleRate, response: 'ses', maxDelayMs: options.maxDelayMs, random: faults.fork() }),
    log: { warn: 0, error: 0, errors: [] },
  };

  /**
   * Emails SES accepted whose mark has not happened yet: event id (from the SES tags the worker
   * sends with every email) → recipient. processEvent sends at most one email per event, between
   * its state write and 'after-email-sent', and one event is processed by one delivery at a time.
   */
  const unmarked = new Map<string, string>();
  const plans = new Map<string, CrashPlan>();
  const sesMailer = new SesMailer(ses, loadCatalog().sender);
  const mailer: Mailer = {
    async send(to: string, email: RenderedEmail, tags?: MailTags, sendOptions?: SendOptions) {
      try {
        const result = await sesMailer.send(to, email, tags, sendOptions);
        stats.emailsAccepted++;
        unmarked.set(tags?.eventId ?? `to:${to.toLowerCase()}`, to.toLowerCase());
        return result;
      } catch (error) {
        stats.emailFailures++;
        throw error;
      }
    },
  };

  const store = new DynamoEntitlementStore(dynamo, table);
  const worker = createWorker({
    store,
    failures: new DynamoFailureLog(dynamo, table, () => undefined),
    mailer,
    secrets: loadSecrets,
    log: countingLogger(stats.log),
    delay: async (record, seconds) => {
      stats.backoffs++;
      const scaled = Math.max(1, Math.ceil(seconds * options.backoffScale));
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrlOf(record), ReceiptHandle: record.receiptHandle, VisibilityTimeout: scaled }));
    },
    checkpoint: async (point, event) => {
      if (options.maxDelayMs > 0) await sleep(crashes.int(0, options.maxDelayMs));
      let recipient: string | undefined;
      if (point === 'after-email-sent') {
        const key = unmarked.has(event.eventId) ? event.eventId : `to:${event.customer.email.toLowerCase()}`;
        recipient = unmarked.get(key);
        unmarked.delete(key);
      }
      const plan = plans.get(event.eventId);
      if (!plan || plan.fired || plan.point !== point) return;
      plan.fired = true;
      stats.crashes[point]++;
      if (recipient !== undefined) stats.windowCrashes.set(recipient, (stats.windowCrashes.get(recipient) ?? 0) + 1);
      throw Object.assign(new Error(`injected crash at ${point}`), { name: 'InjectedCrash' });
    },
  });

  const handler: WorkerHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    stats.invocations++;
    const doomed: CrashPlan[] = [];
    for (const record of event.Records) {
      stats.records++;
      const count = Number(record.attributes.ApproximateReceiveCount ?? '1');
      stats.receiveCounts[count] = (stats.receiveCounts[count] ?? 0) + 1;
      if (!crashes.chance(options.crashRate)) continue;
      const eventId = eventIdOf(record.body);
      if (eventId === undefined) continue;
      const plan = { messageId: record.messageId, point: crashes.pick(CHECKPOINTS), fired: false };
      plans.set(eventId, plan);
      doomed.push(plan);
      stats.doomed++;
    }
    let response: SQSBatchResponse;
    try {
      response = await worker(event, context);
    } finally {
      for (const [eventId, plan] of plans) if (doomed.includes(plan)) plans.delete(eventId);
    }
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    for (const plan of doomed) {
      if (plan.fired || failed.has(plan.messageId)) continue;
      // Its checkpoint never came: it dies after doing everything, before the ack.
      stats.crashes['before-ack']++;
      failed.add(plan.messageId);
    }
    stats.failedRecords += failed.size;
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  };

  return {
    handler,
    stats,
    largestWrite: () => ({ ...store.largestWrite }),
    destroy: () => {
      dynamo.destroy();
      ses.destroy();
      sqs.destroy();
    },
  };
}

function eventIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { eventId?: unknown };
    return typeof parsed.eventId === 'string' ? parsed.eventId : undefined;
  } catch {
    return undefined;
  }
}

export function countingLogger(counts: LogCounts): Logger {
  const keep = (level: 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) => {
    counts[level]++;
    if (level === 'error' && counts.errors.length < 20) counts.errors.push(JSON.stringify({ message, ...fields }, errorReplacer));
  };
  return { debug: () => undefined, info: () => undefined, warn: keep('warn'), error: keep('error') };
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}
