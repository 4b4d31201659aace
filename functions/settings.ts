/**
 * The one source of queue, table and function settings.
 *
 * The CDK stack (`lib/`) and the local stack (`lib/local/`) both read these values, so what a
 * seller tries on a laptop behaves like what they deploy. Change a number here, never a copy.
 */

/** Lambda function settings shared by the stack and the local runner. */
export const FUNCTIONS = {
  ingress: {
    /** Providers expect answers within 10–30 s; ours should take milliseconds. */
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  licensing: {
    /** Apps wait on it at launch: a validate takes one read; past a few seconds the app uses its license file. */
    timeoutSeconds: 5,
    memoryMb: 512,
  },
  worker: {
    /** Long enough for a batch of SES sends with retries inside the SDK. */
    timeoutSeconds: 30,
    memoryMb: 512,
  },
} as const;

/** The SQS FIFO queue between ingress and worker, and its dead-letter queue. */
export const QUEUE = {
  /** Base names; FIFO queues must end in `.fifo`. The stack lets CloudFormation prefix them. */
  name: 'keysmith-events.fifo',
  dlqName: 'keysmith-events-dlq.fifo',
  /** Receives before a message is moved to the DLQ. */
  maxReceiveCount: 5,
  /** AWS asks for at least 6 × the function timeout on an SQS event source. */
  visibilityTimeoutSeconds: FUNCTIONS.worker.timeoutSeconds * 6,
  /** 14 days: the longest SQS allows, so a stuck pipeline loses nothing while someone looks. */
  retentionSeconds: 14 * 24 * 60 * 60,
  /** Event source mapping: messages handed to one worker invocation. */
  batchSize: 10,
  /** Event source mapping: at most this many concurrent worker invocations (caps SES rate). */
  maxConcurrency: 2,
  /**
   * Backoff for transient failures: the worker pushes a failed message's visibility out to
   * `min(base × 2^(receiveCount-1), max)` seconds, so a throttle storm spends the receive budget
   * slowly instead of racing into the DLQ: 10 + 20 + 40 + 80 s = 150 s of outage are survived
   * before the fifth and last receive.
   */
  retryBackoff: { baseSeconds: 10, maxSeconds: 300 },
} as const;

/** The single DynamoDB table (see DESIGN.md "Data"). */
export const TABLE = {
  name: 'keysmith',
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Lookup by customer email: `EMAIL#{lowercased email}` → `ENT#…`. */
  emailIndex: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /**
   * Lookup by the provider's order id when the entitlement is scoped by something else
   * (a subscription): `ORDER#{provider}#{orderId}` → `ENT#…`.
   */
  orderIndex: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** Delivery log by day: `DLV#{yyyy-mm-dd}` → `{receivedAt}#{provider}#{deliveryId}`. */
  deliveryIndex: { name: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  /** Epoch seconds after which DynamoDB may delete an item (delivery log). */
  ttlAttribute: 'ttl',
} as const;

/** The delivery log (every verified webhook request). */
export const DELIVERY_LOG = {
  /** Days a delivery record is kept before DynamoDB's TTL removes it. */
  retentionDays: 30,
} as const;

/** The local stack's default HTTP port; `PORT` overrides it. */
export const LOCAL = {
  defaultPort: 3000,
  region: 'us-east-1',
  accountId: '000000000000',
} as const;
