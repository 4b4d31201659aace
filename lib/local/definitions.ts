import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { QueueAttributeName } from '@aws-sdk/client-sqs';
import { LOCAL, QUEUE, TABLE } from '../../functions/settings';

/**
 * The local queue and table, derived from `functions/settings.ts` and nothing else — the same
 * numbers the CDK stack deploys. Tests may shorten timings through {@link QueueOverrides}; the
 * defaults are always the settings.
 */

/**
 * Test knobs: a 1-second visibility timeout turns a 3-minute retry into a 1-second one.
 *
 * Careful: AWS refuses a visibility timeout below the worker's timeout, and for good reason. Below
 * it, a message whose invocation runs long (a busy machine) is handed out again while still being
 * processed, and each such hand-out counts toward `maxReceiveCount`. Use it only where messages
 * are meant to fail (the DLQ tests); the worker's own retries set their delay explicitly.
 */
export interface QueueOverrides {
  /** @default QUEUE.visibilityTimeoutSeconds */
  visibilityTimeoutSeconds?: number;
  /** @default QUEUE.maxReceiveCount */
  maxReceiveCount?: number;
  /** @default QUEUE.batchSize */
  batchSize?: number;
  /** @default QUEUE.maxConcurrency */
  maxConcurrency?: number;
}

/** The effective event-source settings: {@link QUEUE} with any overrides applied. */
export interface EffectiveQueueSettings {
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  batchSize: number;
  maxConcurrency: number;
}

export function effectiveQueueSettings(overrides: QueueOverrides = {}): EffectiveQueueSettings {
  return {
    visibilityTimeoutSeconds: overrides.visibilityTimeoutSeconds ?? QUEUE.visibilityTimeoutSeconds,
    maxReceiveCount: overrides.maxReceiveCount ?? QUEUE.maxReceiveCount,
    batchSize: overrides.batchSize ?? QUEUE.batchSize,
    maxConcurrency: overrides.maxConcurrency ?? QUEUE.maxConcurrency,
  };
}

export function queueArn(name: string, region: string = LOCAL.region, accountId: string = LOCAL.accountId): string {
  return `arn:aws:sqs:${region}:${accountId}:${name}`;
}

export interface QueueDefinition {
  QueueName: string;
  Attributes: Partial<Record<QueueAttributeName, string>>;
}

/** The FIFO event queue and its FIFO dead-letter queue, as CreateQueue inputs (DLQ first). */
export function queueDefinitions(overrides: QueueOverrides = {}): { dlq: QueueDefinition; queue: QueueDefinition } {
  const settings = effectiveQueueSettings(overrides);
  const fifo = {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'false',
    // High-throughput FIFO: deduplication and throughput are per message group.
    DeduplicationScope: 'messageGroup',
    FifoThroughputLimit: 'perMessageGroupId',
    MessageRetentionPeriod: String(QUEUE.retentionSeconds),
  } as const;
  return {
    dlq: { QueueName: QUEUE.dlqName, Attributes: { ...fifo } },
    queue: {
      QueueName: QUEUE.name,
      Attributes: {
        ...fifo,
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn(QUEUE.dlqName), maxReceiveCount: settings.maxReceiveCount }),
      },
    },
  };
}

interface IndexSettings {
  name: string;
  partitionKey: string;
  sortKey: string;
}

/** Every global secondary index declared in {@link TABLE}: each `{ name, partitionKey, sortKey }`. */
export function tableIndexes(): IndexSettings[] {
  const values: readonly unknown[] = Object.values(TABLE);
  return values.filter((value): value is IndexSettings => typeof value === 'object' && value !== null && 'name' in value && 'partitionKey' in value && 'sortKey' in value);
}

/** The single table: pk/sk, every index declared in the settings, on-demand capacity. */
export function tableDefinition(): CreateTableCommandInput {
  const indexes = tableIndexes();
  const keyNames = [TABLE.partitionKey, TABLE.sortKey, ...indexes.flatMap((index) => [index.partitionKey, index.sortKey])];
  return {
    TableName: TABLE.name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyNames.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}
