import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSEvent } from 'aws-lambda';
import type { Mailer } from '../aws/mailer';
import { DynamoEntitlementStore, type EntitlementStore } from '../aws/store';
import { loadCatalog } from '../config/loadCatalog';
import type { Catalog } from '../domain/catalog';
import { type Logger, logger } from '../log/logger';
import { METRIC, type MetricName, type Metrics, metrics as processMetrics } from '../log/metrics';
import { processEvent } from '../worker/processEvent';
import { FEEDBACK_REASONS, type FeedbackKind, parseSesEvent } from './sesEvent';

/**
 * SES feedback: bounces, complaints and rejects of keysmith emails, recorded on their order.
 *
 * SES → configuration set event destination → SNS → this function. Each notification becomes a
 * `record` event (see `sesEvent.ts`) and goes through the worker's own `processEvent`: a versioned
 * write on the entitlement, deduplicated by the SES feedback id, so SNS redelivering a
 * notification records it once. Support sees "ses.bounce" next to the order's other events.
 *
 * What is not ours (no keysmith tags, another event type, malformed JSON) is logged and skipped;
 * a store failure throws, and Lambda's asynchronous retries (twice) try again.
 */

export interface FeedbackDeps {
  store: EntitlementStore;
  catalog: () => Catalog;
  log: Logger;
  /** @default noMetrics */
  metrics?: Metrics;
  now?: () => Date;
}

const COUNTERS: Record<FeedbackKind, MetricName> = {
  bounce: METRIC.emailsBounced,
  complaint: METRIC.emailsComplained,
  reject: METRIC.emailsRejected,
};

/** A `record` event owes no email; if one ever did, failing loudly beats mailing from here. */
const NO_MAIL: Mailer = {
  send: () => Promise.reject(new Error('the feedback handler sends no email')),
};

export function createFeedbackHandler(deps: FeedbackDeps): (event: SNSEvent) => Promise<void> {
  return async (snsEvent) => {
    try {
      for (const record of snsEvent.Records) await handleMessage(record.Sns.Message, record.Sns.MessageId, deps);
    } finally {
      deps.metrics?.flush();
    }
  };
}

async function handleMessage(body: string, snsMessageId: string, deps: FeedbackDeps): Promise<void> {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    deps.log.warn('feedback skipped', { snsMessageId, skip: 'message is not JSON' });
    return;
  }
  const parsed = parseSesEvent(message);
  if (!parsed.ok) {
    deps.log.info('feedback skipped', { snsMessageId, skip: parsed.skip });
    return;
  }
  const { kind, event, emailEventId, recipients, detail } = parsed.feedback;
  const fields = { provider: event.provider, scope: event.scope, eventId: event.eventId, emailEventId, kind, detail, recipients };
  // Tags only come from our worker, which sends for existing entitlements; never create one here.
  if (!(await deps.store.get(event.provider, event.scope))) {
    deps.log.warn('feedback for an unknown entitlement skipped', fields);
    return;
  }
  const now = deps.now?.() ?? new Date();
  const result = await processEvent(
    event,
    {
      store: deps.store,
      mailer: NO_MAIL,
      // A `record` event derives no license, so no license secret is needed (or granted).
      context: () => ({ catalog: deps.catalog(), licenseSecret: '', now }),
      log: deps.log,
    },
    { firstDelivery: false, claimToken: snsMessageId },
  );
  if (result.outcome === 'applied') deps.metrics?.count(COUNTERS[kind], 1, { provider: event.provider });
  deps.log[event.reason === FEEDBACK_REASONS.transientBounce ? 'info' : 'warn']('email feedback recorded', { ...fields, outcome: result.outcome });
}

function fromEnvironment(): FeedbackDeps {
  const table = process.env.KEYSMITH_TABLE_NAME;
  if (!table) throw new Error('KEYSMITH_TABLE_NAME is not set');
  return { store: new DynamoEntitlementStore(new DynamoDBClient({}), table), catalog: loadCatalog, log: logger, metrics: processMetrics };
}

let feedback: ((event: SNSEvent) => Promise<void>) | undefined;
/** Lambda entry; clients are built once per process, on the first invocation. */
export const handler = async (event: SNSEvent): Promise<void> => {
  feedback ??= createFeedbackHandler(fromEnvironment());
  return feedback(event);
};
