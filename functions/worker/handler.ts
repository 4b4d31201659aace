import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Deadline, DeadlineHttpHandler, withDeadline } from '../aws/deadline';
import { DynamoFailureLog, type FailureLog } from '../aws/failureLog';
import { type Mailer, SesMailer, sesClient } from '../aws/mailer';
import { loadSecrets, type Secrets } from '../aws/secrets';
import { DynamoEntitlementStore, type EntitlementStore } from '../aws/store';
import { applyContextFactory } from '../config/applyContext';
import { loadCatalog } from '../config/loadCatalog';
import { canonicalEvent } from '../domain/canonicalEvent';
import type { AppliedEvent, ApplyContext } from '../domain/entitlement';
import type { FulfillmentEvent } from '../domain/events';
import { type Logger, logger } from '../log/logger';
import { METRIC, type Metrics, metrics } from '../log/metrics';
import { FUNCTIONS, QUEUE } from '../settings';
import { type Checkpoint, EmailInFlight, processEvent } from './processEvent';

/**
 * The worker: an SQS FIFO batch in, per-message failures out.
 *
 * Messages of one group (one entitlement) are applied strictly in order; when one fails, the
 * rest of its group in this batch are returned unprocessed so nothing overtakes it. Different
 * groups run side by side. A failed message's visibility is pushed out with exponential backoff,
 * so a throttle storm spends the `maxReceiveCount` budget over minutes, not seconds.
 *
 * Time: the invocation's deadline (`context.getRemainingTimeInMillis()`) bounds every AWS call of
 * the work (SES and DynamoDB through functions/aws/deadline.ts), and the last seconds are kept for
 * reporting. A message is not begun when too little time is left; it and the rest of its group go
 * back as batch item failures, visible again at once, having cost a receive but no retry backoff.
 */

/** Kept at the end of an invocation for what follows the work: backoffs, failure records, the answer. */
export const REPORT_RESERVE_MS = 3_000;
/** The very end is not used at all: the answer must reach Lambda before it stops the function. */
export const FINAL_MARGIN_MS = 500;
/** A message is not begun with less work time than this left. */
export const MIN_MESSAGE_MS = 2_000;
/**
 * An email must be sent this long before the work deadline, so that marking it sent (a store
 * write) still has time: an email sent but not marked is sent again by the retry.
 */
export const MARK_RESERVE_MS = 2_000;

export interface WorkerDeps {
  store: EntitlementStore;
  mailer: Mailer;
  secrets: () => Promise<Secrets>;
  log: Logger;
  /** Sets a message's visibility timeout (backoff); absent in unit tests. */
  delay?: (record: SQSRecord, seconds: number) => Promise<void>;
  now?: () => Date;
  checkpoint?: (point: Checkpoint, event: FulfillmentEvent) => void | Promise<void>;
  /** EMF metrics, flushed once per batch; absent in unit tests. */
  metrics?: Metrics;
  /** Keeps the last error of a failed message for `keysmith dlq list`; absent in unit tests. */
  failures?: FailureLog;
}

/** What the worker needs of the Lambda context: its deadline. */
export type WorkerContext = Pick<Context, 'getRemainingTimeInMillis'>;

/** Deadlines of one invocation: `work` for processing messages, `end` for reporting on them. */
interface Budget {
  work: Deadline;
  end: Deadline;
}

export function createWorker(deps: WorkerDeps): (event: SQSEvent, context?: WorkerContext) => Promise<SQSBatchResponse> {
  const applyContext = applyContextFactory();
  const contextFor = (secrets: Secrets): ApplyContext => applyContext(secrets, loadCatalog(), deps.now?.() ?? new Date());

  return async (sqsEvent, lambdaContext) => {
    // Without a context (tests, old harnesses) the function timeout stands in for it.
    const end = Deadline.fromContext(lambdaContext, FUNCTIONS.worker.timeoutSeconds * 1000, FINAL_MARGIN_MS);
    const budget: Budget = { end, work: end.earlier(REPORT_RESERVE_MS) };
    const secrets = await withDeadline(budget.work, () => deps.secrets());
    const groups = new Map<string, SQSRecord[]>();
    for (const record of sqsEvent.Records) {
      const group = record.attributes.MessageGroupId ?? record.messageId;
      groups.set(group, [...(groups.get(group) ?? []), record]);
    }
    const failures: string[] = [];
    const unstarted: SQSRecord[] = [];
    await Promise.all(
      [...groups.values()].map(async (records) => {
        for (let i = 0; i < records.length; i++) {
          const record = records[i]!;
          if (budget.work.remainingMs() < MIN_MESSAGE_MS) {
            // Too late to begin: the rest of the group goes back untouched, to be received again at once.
            for (const rest of records.slice(i)) {
              failures.push(rest.messageId);
              unstarted.push(rest);
            }
            return;
          }
          const failed = await handleRecord(record, deps, () => contextFor(secrets), budget);
          if (failed !== undefined) {
            // Nothing of this group may overtake the failed message: the rest come back with it,
            // after the same backoff (else they would hold the group for a full visibility timeout).
            for (const rest of records.slice(i)) {
              failures.push(rest.messageId);
              if (rest !== record) await withDeadline(budget.end, async () => deps.delay?.(rest, failed)).catch(() => undefined);
            }
            return;
          }
        }
      }),
    );
    if (unstarted.length > 0) {
      deps.log.warn('messages not started: the invocation is running out of time', { messages: unstarted.length, remainingMs: budget.end.remainingMs() });
      await withDeadline(budget.end, () => Promise.all(unstarted.map((record) => deps.delay?.(record, 0)))).catch((e: unknown) =>
        deps.log.warn('could not return unstarted messages early', { error: e }),
      );
    }
    deps.metrics?.flush();
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** Process one message; resolves undefined on success, or the backoff in seconds it was given. */
async function handleRecord(record: SQSRecord, deps: WorkerDeps, context: () => ApplyContext, budget: Budget): Promise<number | undefined> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  let event: FulfillmentEvent | undefined;
  try {
    event = parseQueuedEvent(record.body);
    const started = Date.now();
    // The mailer gets the work deadline explicitly; the store's DynamoDB calls get it from the
    // async context (withDeadline), as processEvent passes no deadline along.
    const mailer: Mailer = { send: (to, email, tags, options) => deps.mailer.send(to, email, tags, { deadline: budget.work.earlier(MARK_RESERVE_MS), ...options }) };
    const result = await withDeadline(budget.work, () =>
      processEvent(
        event!,
        { store: deps.store, mailer, context, log: deps.log, metrics: deps.metrics, ...(deps.checkpoint ? { checkpoint: deps.checkpoint } : {}) },
        {
          firstDelivery: receiveCount <= 1,
          claimToken: record.messageId,
        },
      ),
    );
    deps.log.info('event processed', {
      provider: event.provider,
      scope: event.scope,
      eventId: event.eventId,
      action: event.action,
      outcome: result.outcome,
      email: result.applied.email?.status ?? 'none',
      problem: result.applied.problem?.code,
      receiveCount,
      ms: Date.now() - started,
    });
    if (deps.metrics) countProcessed(deps.metrics, event.provider, result.outcome === 'applied' ? result.applied : undefined, Date.now() - started);
    return undefined;
  } catch (error) {
    const seconds = backoffSeconds(receiveCount);
    if (!(error instanceof EmailInFlight)) deps.metrics?.count(METRIC.eventsFailed, 1, { provider: event?.provider ?? 'unknown' });
    deps.log[error instanceof EmailInFlight ? 'info' : 'warn']('event failed; will retry', {
      messageId: record.messageId,
      provider: event?.provider,
      scope: event?.scope,
      eventId: event?.eventId,
      receiveCount,
      retryInSeconds: seconds,
      error,
    });
    await withDeadline(budget.end, async () => deps.delay?.(record, seconds)).catch((e: unknown) => deps.log.warn('could not set retry backoff', { error: e }));
    // Another delivery sending the email is coordination, not a fault worth keeping.
    if (deps.failures && !(error instanceof EmailInFlight)) {
      const failures = deps.failures;
      await withDeadline(budget.end, () =>
        failures.record({
          messageId: record.messageId,
          ...(event ? { provider: event.provider, eventId: event.eventId, scope: event.scope } : {}),
          receiveCount,
          error: { name: (error as Error)?.name ?? 'Error', message: (error as Error)?.message ?? String(error) },
          at: deps.now?.() ?? new Date(),
        }),
      );
    }
    return seconds;
  }
}

/**
 * A queue message as the event to apply: the same gate the ingress ran before enqueuing it
 * (`canonicalEvent`), so what the ingress acked is accepted here — and a message enqueued before
 * the gate existed (a long name in the DLQ) is made to fit on redrive instead of failing again.
 */
export function parseQueuedEvent(body: string): FulfillmentEvent {
  try {
    return canonicalEvent(JSON.parse(body));
  } catch (error) {
    throw new Error(`queue message is not a FulfillmentEvent: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Latency of every processed event; licenses issued and revoked only by the delivery that applied
 * the event (a duplicate changed nothing). Read from the applied event's own record: grants and
 * plan changes list the licenses they created, revocations the ones they revoked.
 */
function countProcessed(metrics: Metrics, provider: string, applied: AppliedEvent | undefined, ms: number): void {
  const dimensions = { provider };
  metrics.timing(METRIC.processingLatency, ms, dimensions);
  const changed = applied?.licenseIds?.length ?? 0;
  if (changed === 0) return;
  if (applied!.action === 'grant' || applied!.action === 'change') metrics.count(METRIC.licensesIssued, changed, dimensions);
  else if (applied!.action === 'revoke') metrics.count(METRIC.licensesRevoked, changed, dimensions);
}

/**
 * min(base × 2^(n−1), max) seconds — also when another delivery owns the email (EmailInFlight):
 * that delivery may itself be backing off (an SES storm), and a duplicate on a shorter schedule
 * would spend its receives first and land in the DLQ while the owner is still retrying.
 */
export function backoffSeconds(receiveCount: number): number {
  const { baseSeconds, maxSeconds } = QUEUE.retryBackoff;
  return Math.min(baseSeconds * 2 ** Math.max(0, receiveCount - 1), maxSeconds);
}

/** The queue URL for visibility changes: configured, or derived from the event source ARN. */
export function queueUrlOf(record: SQSRecord): string {
  if (process.env.KEYSMITH_QUEUE_URL) return process.env.KEYSMITH_QUEUE_URL;
  const [, , , region, account, name] = record.eventSourceARN.split(':');
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

/**
 * The worker's SDK clients. Each call is bounded by the deadline of the invocation in progress
 * (DeadlineHttpHandler); SES also by its own request timeout. The soak builds the same ones.
 */
export function workerClients(): { sqs: SQSClient; dynamodb: DynamoDBClient; ses: ReturnType<typeof sesClient> } {
  return {
    // No timeouts of their own (as before): the invocation's deadline is the bound. A shorter one
    // would fail calls that are merely slow, and a failed mark after a sent email means a second email.
    sqs: new SQSClient({ requestHandler: new DeadlineHttpHandler() }),
    dynamodb: new DynamoDBClient({ requestHandler: new DeadlineHttpHandler() }),
    ses: sesClient(),
  };
}

function fromEnvironment(): WorkerDeps {
  const table = process.env.KEYSMITH_TABLE_NAME;
  if (!table) throw new Error('KEYSMITH_TABLE_NAME is not set');
  const { sqs, dynamodb, ses } = workerClients();
  const catalog = loadCatalog();
  return {
    store: new DynamoEntitlementStore(dynamodb, table),
    failures: new DynamoFailureLog(dynamodb, table, (error) => logger.warn('could not record the failure', { error })),
    mailer: new SesMailer(ses, {
      ...catalog.sender,
      ...(process.env.KEYSMITH_SES_CONFIGURATION_SET ? { configurationSet: process.env.KEYSMITH_SES_CONFIGURATION_SET } : {}),
    }),
    secrets: loadSecrets,
    log: logger,
    metrics,
    delay: async (record, seconds) => {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrlOf(record), ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }));
    },
  };
}

let worker: ReturnType<typeof createWorker> | undefined;
/** Drop the cached clients (tests and the local stack restart against new endpoints). */
export function forgetWorker(): void {
  worker = undefined;
}
/** Lambda entry; clients are built once per process, on the first invocation. */
export const handler = async (event: SQSEvent, context?: WorkerContext): Promise<SQSBatchResponse> => {
  worker ??= createWorker(fromEnvironment());
  return worker(event, context);
};
