import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Catalog } from '../../functions/domain/catalog';
import { FUNCTIONS, QUEUE } from '../../functions/settings';
import { KeysmithFunction } from './KeysmithFunction';
import type { KeysmithStore } from './KeysmithStore';
import { groupOnly, stableUniqueId } from './stableIds';

/** The worker's Lambda entry, relative to the project root. */
export const WORKER_ENTRY = 'functions/worker/handler.ts';

/**
 * The DynamoDB actions processEvent (functions/worker/processEvent.ts through
 * functions/aws/store.ts) and the failure log call, on the table itself: one consistent
 * BatchGetItem of an order with an event's record, conditional PutItem of the order and of
 * records, BatchWriteItem of records and lookups, GetItem of records, links and failures. It
 * queries nothing, updates nothing in place and deletes nothing. The SES feedback function runs
 * the same processEvent (it records bounces as events), so it gets the same list.
 */
export const WORKER_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem'] as const;

export interface KeysmithEventPipelineProps {
  readonly store: KeysmithStore;
  readonly catalog: Catalog;
  readonly projectRoot: string;
  readonly logRetention: RetentionDays;
  /** Non-secret settings every function gets (table, log level, service). */
  readonly environment: Record<string, string>;
  /** The SES configuration set every email is sent with. */
  readonly sesConfigurationSetName: string;
}

/**
 * The event pipeline: SQS FIFO queue (+ FIFO DLQ) → worker Lambda → DynamoDB + SES.
 *
 * Secure defaults: both queues SSE-SQS encrypted and TLS-only; the worker may read the license
 * secret (not the provider secrets), call exactly `WORKER_TABLE_ACTIONS` on the table, consume
 * the queue, and send mail only as the catalog's sender with the configuration set.
 */
export class KeysmithEventPipeline extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly worker: KeysmithFunction;

  constructor(scope: Construct, id: string, props: KeysmithEventPipelineProps) {
    super(scope, id);
    groupOnly(this);
    const stack = Stack.of(this);

    // ── build ──
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: queueName(stack.stackName, QUEUE.dlqName),
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'EventQueue', {
      queueName: queueName(stack.stackName, QUEUE.name),
      fifo: true,
      // Ingress sets MessageDeduplicationId = provider + event id; body hashes would differ on retries.
      contentBasedDeduplication: false,
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(QUEUE.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(QUEUE.retentionSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: QUEUE.maxReceiveCount },
    });
    this.worker = new KeysmithFunction(this, 'Worker', {
      entry: WORKER_ENTRY,
      projectRoot: props.projectRoot,
      catalog: props.catalog,
      timeoutSeconds: FUNCTIONS.worker.timeoutSeconds,
      memoryMb: FUNCTIONS.worker.memoryMb,
      description: 'keysmith worker: applies fulfillment events, stores licenses, sends emails',
      logRetention: props.logRetention,
      environment: {
        KEYSMITH_SECRET_ARN: props.store.licenseSecret.secretArn,
        ...props.environment,
        KEYSMITH_QUEUE_URL: this.queue.queueUrl,
        KEYSMITH_SES_CONFIGURATION_SET: props.sesConfigurationSetName,
      },
    });

    // ── wire ──
    // What SqsEventSource does, under the construct id the single-file stack had: Lambda refuses
    // a second mapping of one queue to one function, so a replaced mapping would fail the deploy.
    this.worker.addEventSourceMapping(`SqsEventSource:${stableUniqueId(this.queue)}`, {
      eventSourceArn: this.queue.queueArn,
      batchSize: QUEUE.batchSize,
      reportBatchItemFailures: true,
      maxConcurrency: QUEUE.maxConcurrency,
    });
    // Receive, delete, ChangeMessageVisibility (the worker's backoff), GetQueueAttributes.
    this.queue.grantConsumeMessages(this.worker);
    props.store.grantTable('WorkerTable', WORKER_TABLE_ACTIONS, this.worker);
    props.store.grantReadLicenseSecret(this.worker);
    this.worker.addToRolePolicy(
      new PolicyStatement({
        sid: 'SendFromConfiguredSender',
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: sesResources(stack, props.catalog.sender.from, props.sesConfigurationSetName),
      }),
    );
  }
}

/** `<stack>-<base>.fifo`, or a CloudFormation-generated name when that would exceed 80 chars. */
function queueName(stackName: string, base: string): string | undefined {
  const name = `${stackName}-${base}`;
  return name.length <= 80 ? name : undefined;
}

/**
 * SES checks the identity the From address belongs to: the domain identity if the seller
 * verified the domain, the address identity if they verified the address. Grant both, nothing
 * else; plus the configuration set every email is sent with.
 */
function sesResources(stack: Stack, from: string, configurationSet: string): string[] {
  const arn = (resource: string, name: string) => stack.formatArn({ service: 'ses', resource, resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const domain = from.slice(from.lastIndexOf('@') + 1);
  return [arn('identity', domain), arn('identity', from), arn('configuration-set', configurationSet)];
}
