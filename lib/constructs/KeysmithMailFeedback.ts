import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigurationSet, ConfigurationSetEventDestination, EmailSendingEvent, EventDestination, type IConfigurationSet, SuppressionReasons } from 'aws-cdk-lib/aws-ses';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Catalog } from '../../functions/domain/catalog';
import { WORKER_TABLE_ACTIONS } from './KeysmithEventPipeline';
import { KeysmithFunction } from './KeysmithFunction';
import type { KeysmithStore } from './KeysmithStore';
import { groupOnly, stableUniqueId } from './stableIds';

/** The SES feedback function's Lambda entry (bounces and complaints onto the order). */
export const FEEDBACK_ENTRY = 'functions/feedback/handler.ts';

/** The feedback function handles one small SNS notification at a time. */
export const FEEDBACK_FUNCTION = { timeoutSeconds: 10, memoryMb: 256 } as const;

/** Lambda's retries of a failed asynchronous invocation before it goes to the failure queue. */
export const FEEDBACK_RETRY_ATTEMPTS = 2;

export interface KeysmithMailFeedbackProps {
  readonly store: KeysmithStore;
  readonly catalog: Catalog;
  readonly projectRoot: string;
  readonly logRetention: RetentionDays;
  /** Non-secret settings (table, log level, service). */
  readonly environment: Record<string, string>;
  /** An existing configuration set to add the feedback destination to. @default - one is created */
  readonly sesConfigurationSetName?: string;
}

/**
 * SES feedback: the configuration set every email is sent with → SNS topic (bounces, complaints,
 * rejects) → the feedback Lambda, which records them on the order.
 *
 * Secure defaults: the topic takes only TLS publishes, and only from SES for this configuration
 * set; the function reads and conditionally replaces entitlements (GetItem, PutItem on the table
 * itself) and reads no secret. An invocation that still fails after Lambda's retries lands in
 * `failureQueue` (kept 14 days, alarmed), never nowhere.
 */
export class KeysmithMailFeedback extends Construct {
  public readonly configurationSet: IConfigurationSet;
  public readonly topic: Topic;
  public readonly function: KeysmithFunction;
  /** Failed feedback invocations (the SNS event and the error), for inspection and re-invoking. */
  public readonly failureQueue: Queue;

  constructor(scope: Construct, id: string, props: KeysmithMailFeedbackProps) {
    super(scope, id);
    groupOnly(this);
    const stack = Stack.of(this);

    // ── validate ──
    // Offline synth cannot ask SES about the account; `keysmith doctor` can, after deploy. Once
    // the account has production access, context `sesProductionAccess=true` says so.
    const productionAccess = [true, 'true'].includes(this.node.tryGetContext('sesProductionAccess') as never);
    if (!productionAccess) {
      Annotations.of(stack).addWarningV2(
        'keysmith:ses-sandbox',
        `New SES accounts are in the sandbox: they can send only to verified addresses, at most 200 emails a day. Verify ${props.catalog.sender.from} (or its domain), ` +
          "request production access in the SES console, and run `npx keysmith doctor` after deploy to see the account's sandbox status and quota " +
          '(offline synth cannot ask SES). With production access, set context sesProductionAccess=true to silence this.',
      );
    }

    // ── build ──
    this.configurationSet = props.sesConfigurationSetName
      ? ConfigurationSet.fromConfigurationSetName(this, 'SesConfigurationSet', props.sesConfigurationSetName)
      : new ConfigurationSet(this, 'SesConfigurationSet', {
          // Addresses that bounced or complained are not mailed again (protects the sender's reputation).
          suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
          reputationMetrics: true,
        });
    // No SSE, like the alarm topic: SES (and CloudWatch) cannot publish to a topic encrypted with
    // the AWS-managed SNS key, and a customer-managed key would add a monthly charge and a key
    // policy for notifications that live seconds. Publishing requires TLS.
    this.topic = new Topic(this, 'SesFeedbackTopic', { displayName: `keysmith ${stack.stackName} SES feedback`, enforceSSL: true });
    new ConfigurationSetEventDestination(this, 'SesFeedbackDestination', {
      configurationSet: this.configurationSet,
      // Not delivery delays: transient, noisy, and SES retries them on its own.
      events: [EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT, EmailSendingEvent.REJECT],
      destination: EventDestination.snsTopic(this.topic),
    });
    this.failureQueue = new Queue(this, 'FeedbackFailureQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.function = new KeysmithFunction(this, 'Feedback', {
      entry: FEEDBACK_ENTRY,
      projectRoot: props.projectRoot,
      catalog: props.catalog,
      timeoutSeconds: FEEDBACK_FUNCTION.timeoutSeconds,
      memoryMb: FEEDBACK_FUNCTION.memoryMb,
      description: 'keysmith feedback: records SES bounces and complaints on the order',
      logRetention: props.logRetention,
      // Only what it uses: no secret, no queue.
      environment: props.environment,
    });

    // ── wire ──
    // SNS invokes Lambda asynchronously: after Lambda's own retries the event goes to the queue.
    // Not aws-lambda-destinations' SqsDestination: it also grants GetQueueAttributes and
    // GetQueueUrl, which Lambda does not need to deliver a failure record.
    const failureQueue = this.failureQueue;
    this.function.configureAsyncInvoke({ retryAttempts: FEEDBACK_RETRY_ATTEMPTS, onFailure: { bind: () => ({ destination: failureQueue.queueArn }) } });
    this.function.addToRolePolicy(new PolicyStatement({ sid: 'ParkFailedFeedback', actions: ['sqs:SendMessage'], resources: [failureQueue.queueArn] }));
    // What LambdaSubscription does, with the permission id of the single-file stack (an in-place update).
    this.function.addPermission(`AllowInvoke:${stableUniqueId(this.topic)}`, { sourceArn: this.topic.topicArn, principal: new ServicePrincipal('sns.amazonaws.com') });
    new Subscription(this.function, this.topic.node.id, { topic: this.topic, endpoint: this.function.functionArn, protocol: SubscriptionProtocol.LAMBDA });
    // It records feedback through the worker's processEvent: the same actions, the table itself (no index).
    props.store.grantTable('RecordFeedbackOnEntitlement', [...WORKER_TABLE_ACTIONS], this.function);
  }
}
