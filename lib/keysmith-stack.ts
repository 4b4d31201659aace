import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Annotations, App, ArnFormat, CfnElement, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, PayloadFormatVersion, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, MathExpression, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { ConfigurationSet, ConfigurationSetEventDestination, EmailSendingEvent, EventDestination, SuppressionReasons, type IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';
import { EXAMPLE_CONFIG_PATH, readCatalogFile } from '../functions/config/loadCatalog';
import type { Catalog } from '../functions/domain/catalog';
import { PROVIDER_REGISTRY, type ProviderRegistration } from '../functions/providers/registry';
import { METRIC } from '../functions/log/metrics';
import { FUNCTIONS, QUEUE, TABLE } from '../functions/settings';
import { KeysmithDashboard, keysmithMetric, METRIC_PERIOD } from './constructs/KeysmithDashboard';
import { KeysmithFunction } from './constructs/KeysmithFunction';

/** The worker's Lambda entry, relative to the project root. */
export const WORKER_ENTRY = 'functions/worker/handler.ts';

/** The SES feedback function's Lambda entry (bounces and complaints onto the order). */
export const FEEDBACK_ENTRY = 'functions/feedback/handler.ts';

/** The feedback function handles one small SNS notification at a time. */
export const FEEDBACK_FUNCTION = { timeoutSeconds: 10, memoryMb: 256 } as const;

/** Rejected webhooks (all providers, 5 minutes) above which the rejection-spike alarm fires. */
export const DEFAULT_REJECTION_ALARM_THRESHOLD = 50;

/** A message older than this in the DLQ means nobody looked at it: alarm again. */
export const DLQ_MAX_AGE = Duration.hours(1);

/** Stage throttling when `throttle` is not given: generous for webhooks, a cap on abuse. */
export const DEFAULT_THROTTLE: Required<ThrottleSettings> = { rateLimit: 50, burstLimit: 100 };

export interface KeysmithStackProps extends StackProps {
  /** The validated product catalog; inlined into every Lambda bundle at synth time. */
  readonly catalog: Catalog;
  /**
   * An address subscribed to the alarm topic (the subscription must be confirmed by mail).
   * @default - no subscription; subscribe to the `AlarmTopicArn` output later
   */
  readonly alarmEmail?: string;
  /**
   * Throttling on the API's default stage, applied to every webhook route.
   * @default DEFAULT_THROTTLE (50 requests/s, bursts of 100)
   */
  readonly throttle?: ThrottleSettings;
  /**
   * Retention of the Lambda logs and the API access logs.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * An existing SES configuration set to send with (dedicated IPs, your own event destinations)
   * instead of the one the stack creates. keysmith adds its bounce/complaint destination to it.
   * Either way the set is passed to the worker as `KEYSMITH_SES_CONFIGURATION_SET` and added to
   * its send permission.
   * @default - the stack creates a configuration set
   */
  readonly sesConfigurationSetName?: string;
  /**
   * Rejected webhooks, summed over every provider in 5 minutes, above which the rejection-spike
   * alarm fires (forged traffic, or a provider secret that no longer matches).
   * @default DEFAULT_REJECTION_ALARM_THRESHOLD (50)
   */
  readonly rejectionAlarmThreshold?: number;
  /**
   * Log level for every function (`KEYSMITH_LOG_LEVEL`).
   * @default 'info'
   */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * The providers to route. Tests pass their own list; deployments use the registry.
   * @default PROVIDER_REGISTRY
   */
  readonly providers?: readonly ProviderRegistration[];
  /**
   * The folder holding `functions/`, `tsconfig.json` and `package-lock.json`.
   * @default - the nearest ancestor of this file that has a `package.json` and `functions/`
   */
  readonly projectRoot?: string;
}

/** Every alarm of the stack; each notifies `alarmTopic`. */
export interface KeysmithAlarms {
  /** The DLQ holds a message. */
  readonly deadLetterQueue: Alarm;
  /** A DLQ message has waited longer than `DLQ_MAX_AGE`. */
  readonly deadLetterQueueAge: Alarm;
  /** The worker Lambda itself failed (crash, timeout) — not an event it handed back for retry. */
  readonly workerErrors: Alarm;
  /** Any ingress Lambda failed (crash, timeout, bad config at cold start). */
  readonly ingressErrors: Alarm;
  /** API Gateway answered 5xx: the queue could not take events, or an ingress failed. */
  readonly apiServerErrors: Alarm;
  /** More webhooks rejected than `rejectionAlarmThreshold` in 5 minutes. */
  readonly rejections: Alarm;
  /** The SES feedback Lambda failed (its retries may not record a bounce). */
  readonly feedbackErrors: Alarm;
}

/**
 * The whole keysmith pipeline: HTTP API → one ingress Lambda per provider → SQS FIFO → worker
 * Lambda → DynamoDB + SES, with one Secrets Manager secret; SES bounces and complaints come back
 * through a configuration set → SNS → the feedback Lambda onto the order; alarms notify an SNS
 * topic, and a CloudWatch dashboard shows it all (docs/observability.md).
 *
 * Minimal use: `new KeysmithStack(app, 'Keysmith', { catalog })`. Every resource is encrypted,
 * TLS-only where the service allows a policy, and the table and secret survive a stack delete.
 * Queue, table and function numbers come from `functions/settings.ts`, shared with the local stack.
 */
export class KeysmithStack extends Stack {
  public readonly api: HttpApi;
  public readonly stage: HttpStage;
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly table: TableV2;
  public readonly secret: Secret;
  public readonly worker: KeysmithFunction;
  /** Ingress function per provider name. */
  public readonly ingressFunctions: ReadonlyMap<string, KeysmithFunction>;
  public readonly alarmTopic: Topic;
  /** Same as `alarms.deadLetterQueue`. */
  public readonly dlqAlarm: Alarm;
  public readonly alarms: KeysmithAlarms;
  public readonly dashboard: KeysmithDashboard;
  /** The configuration set every keysmith email is sent with. */
  public readonly sesConfigurationSet: IConfigurationSet;
  /** Where SES publishes bounces, complaints and rejects of keysmith emails. */
  public readonly feedbackTopic: Topic;
  /** Records SES feedback on the order (`functions/feedback/handler.ts`). */
  public readonly feedback: KeysmithFunction;

  constructor(scope: Construct, id: string, props: KeysmithStackProps) {
    super(scope, id, props);

    // ── validate ────────────────────────────────────────────────────────────────────────────
    const providers = props.providers ?? PROVIDER_REGISTRY;
    validateProviders(providers);
    const projectRoot = props.projectRoot ?? findProjectRoot(__dirname);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;
    const sender = props.catalog.sender.from;
    const rejectionThreshold = props.rejectionAlarmThreshold ?? DEFAULT_REJECTION_ALARM_THRESHOLD;
    if (!(rejectionThreshold >= 0)) throw new Error(`rejectionAlarmThreshold must be a number ≥ 0, got ${rejectionThreshold}`);
    // CloudWatch evaluates at most 10 metrics in one alarm expression (one per provider here).
    if (providers.length > 10) throw new Error(`at most 10 providers can share the stack's alarms; got ${providers.length}`);

    // ── build: storage ──────────────────────────────────────────────────────────────────────
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: this.queueName(QUEUE.dlqName),
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'EventQueue', {
      queueName: this.queueName(QUEUE.name),
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

    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: TableEncryptionV2.awsManagedKey(),
      timeToLiveAttribute: TABLE.ttlAttribute,
      globalSecondaryIndexes: [TABLE.emailIndex, TABLE.orderIndex, TABLE.deliveryIndex].map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      })),
    });

    // Provider secrets and the license keys. The license secret is generated here so keys work
    // from the first deploy; everything else the operator sets with `keysmith secrets set`.
    // Retained: losing KEYSMITH_LICENSE_SECRET would make every issued key unverifiable.
    this.secret = new Secret(this, 'Secret', {
      description: `keysmith (${this.stackName}): provider webhook secrets and license keys, as one JSON object`,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'KEYSMITH_LICENSE_SECRET',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ── build: mail feedback ────────────────────────────────────────────────────────────────
    this.sesConfigurationSet = props.sesConfigurationSetName
      ? ConfigurationSet.fromConfigurationSetName(this, 'SesConfigurationSet', props.sesConfigurationSetName)
      : new ConfigurationSet(this, 'SesConfigurationSet', {
          // Addresses that bounced or complained are not mailed again (protects the sender's reputation).
          suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
          reputationMetrics: true,
        });
    // No SSE, like the alarm topic: SES (and CloudWatch) cannot publish to a topic encrypted with
    // the AWS-managed SNS key, and a customer-managed key would add a monthly charge and a key
    // policy for notifications that live seconds. Publishing requires TLS.
    this.feedbackTopic = new Topic(this, 'SesFeedbackTopic', { displayName: `keysmith ${this.stackName} SES feedback`, enforceSSL: true });
    new ConfigurationSetEventDestination(this, 'SesFeedbackDestination', {
      configurationSet: this.sesConfigurationSet,
      // Not delivery delays: transient, noisy, and SES retries them on its own.
      events: [EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT, EmailSendingEvent.REJECT],
      destination: EventDestination.snsTopic(this.feedbackTopic),
    });
    // Offline synth cannot ask SES about the account; `keysmith doctor` can, after deploy. Once
    // the account has production access, context `sesProductionAccess=true` says so.
    const productionAccess = [true, 'true'].includes(this.node.tryGetContext('sesProductionAccess') as never);
    if (!productionAccess) {
      Annotations.of(this).addWarningV2(
        'keysmith:ses-sandbox',
        `New SES accounts are in the sandbox: they can send only to verified addresses, at most 200 emails a day. Verify ${sender} (or its domain), ` +
          'request production access in the SES console, and run `npx keysmith doctor` after deploy to see the account\'s sandbox status and quota ' +
          '(offline synth cannot ask SES). With production access, set context sesProductionAccess=true to silence this.',
      );
    }

    // ── build: compute ──────────────────────────────────────────────────────────────────────
    const common = {
      KEYSMITH_SECRET_ARN: this.secret.secretArn,
      KEYSMITH_TABLE_NAME: this.table.tableName,
      KEYSMITH_QUEUE_URL: this.queue.queueUrl,
      KEYSMITH_LOG_LEVEL: props.logLevel ?? 'info',
      // The `Service` dimension of every metric: two stacks in one account never mix their numbers.
      KEYSMITH_SERVICE: this.stackName,
    };
    this.worker = new KeysmithFunction(this, 'Worker', {
      entry: WORKER_ENTRY,
      projectRoot,
      catalog: props.catalog,
      timeoutSeconds: FUNCTIONS.worker.timeoutSeconds,
      memoryMb: FUNCTIONS.worker.memoryMb,
      description: 'keysmith worker: applies fulfillment events, stores licenses, sends emails',
      logRetention,
      environment: { ...common, KEYSMITH_SES_CONFIGURATION_SET: this.sesConfigurationSet.configurationSetName },
    });
    this.feedback = new KeysmithFunction(this, 'Feedback', {
      entry: FEEDBACK_ENTRY,
      projectRoot,
      catalog: props.catalog,
      timeoutSeconds: FEEDBACK_FUNCTION.timeoutSeconds,
      memoryMb: FEEDBACK_FUNCTION.memoryMb,
      description: 'keysmith feedback: records SES bounces and complaints on the order',
      logRetention,
      // Only what it uses: no secret, no queue.
      environment: { KEYSMITH_TABLE_NAME: common.KEYSMITH_TABLE_NAME, KEYSMITH_LOG_LEVEL: common.KEYSMITH_LOG_LEVEL, KEYSMITH_SERVICE: common.KEYSMITH_SERVICE },
    });

    const ingressFunctions = new Map<string, KeysmithFunction>();
    for (const provider of providers) {
      ingressFunctions.set(
        provider.name,
        new KeysmithFunction(this, `Ingress${capitalize(provider.name)}`, {
          entry: provider.entry,
          projectRoot,
          catalog: props.catalog,
          timeoutSeconds: FUNCTIONS.ingress.timeoutSeconds,
          memoryMb: FUNCTIONS.ingress.memoryMb,
          description: `keysmith ingress for ${provider.name} webhooks`,
          logRetention,
          environment: common,
        }),
      );
    }
    this.ingressFunctions = ingressFunctions;

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: logRetention });
    this.api = new HttpApi(this, 'Api', {
      description: `keysmith (${this.stackName}): storefront webhooks`,
      createDefaultStage: false,
    });
    this.stage = new HttpStage(this, 'ApiDefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // routeKey, never the path: a path may carry a shared secret (Selldone), a route key never.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTimeEpoch',
            ip: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });

    // ── build: alarms ───────────────────────────────────────────────────────────────────────
    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: `keysmith ${this.stackName} alarms`, enforceSSL: true });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    const alarm = (id: string, description: string, metric: IMetric, threshold: number): Alarm => {
      const created = new Alarm(this, id, {
        alarmDescription: `keysmith: ${description}`,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // Every metric here reports only when something happens: no data is good news.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.alarmTopic));
      return created;
    };
    const sumOf = (label: string, metrics: Record<string, IMetric>) =>
      new MathExpression({ expression: `SUM([${Object.keys(metrics).join(',')}])`, usingMetrics: metrics, label, period: METRIC_PERIOD });
    const fiveMinuteSum = { period: METRIC_PERIOD, statistic: 'Sum' } as const;
    this.alarms = {
      deadLetterQueue: alarm(
        'DeadLetterQueueAlarm',
        'events failed processing and wait in the DLQ. Inspect with `keysmith dlq list`, redrive with `keysmith dlq redrive`.',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        0,
      ),
      deadLetterQueueAge: alarm(
        'DeadLetterQueueAgeAlarm',
        `a DLQ message has waited over ${DLQ_MAX_AGE.toHumanString()}; SQS drops it after 14 days. Inspect with \`keysmith dlq list\`.`,
        this.deadLetterQueue.metricApproximateAgeOfOldestMessage({ period: METRIC_PERIOD, statistic: 'Maximum' }),
        DLQ_MAX_AGE.toSeconds(),
      ),
      workerErrors: alarm('WorkerErrorsAlarm', 'the worker Lambda failed (crash or timeout); its batch is retried. See the worker logs.', this.worker.metricErrors(fiveMinuteSum), 0),
      ingressErrors: alarm(
        'IngressErrorsAlarm',
        'an ingress Lambda failed (crash, timeout or bad config at cold start); providers see 5xx and retry.',
        sumOf('ingress errors', Object.fromEntries(providers.map((p) => [p.name, ingressFunctions.get(p.name)!.metricErrors(fiveMinuteSum)]))),
        0,
      ),
      apiServerErrors: alarm('ApiServerErrorsAlarm', 'the webhook API answered 5xx (queue unavailable or an ingress failed); providers retry.', this.api.metricServerError(fiveMinuteSum), 0),
      rejections: alarm(
        'RejectionsAlarm',
        `more than ${rejectionThreshold} webhooks rejected in 5 minutes: forged traffic, or a provider secret that no longer matches (\`keysmith secrets set\`).`,
        sumOf('rejected webhooks', Object.fromEntries(providers.map((p) => [p.name, keysmithMetric(this.stackName, METRIC.rejected, p.name)]))),
        rejectionThreshold,
      ),
      feedbackErrors: alarm('FeedbackErrorsAlarm', 'the SES feedback Lambda failed; a bounce or complaint may not be on its order.', this.feedback.metricErrors(fiveMinuteSum), 0),
    };
    this.dlqAlarm = this.alarms.deadLetterQueue;

    this.dashboard = new KeysmithDashboard(this, 'Dashboard', {
      // Dashboards are global: the region keeps two deployments of one stack name apart.
      dashboardName: `${this.stackName}-${this.region}`,
      service: this.stackName,
      providers: providers.map((p) => p.name),
      api: this.api,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      worker: this.worker,
      ingressFunctions,
      feedback: this.feedback,
      alarms: Object.values(this.alarms),
    });

    // ── wire ────────────────────────────────────────────────────────────────────────────────
    this.worker.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: QUEUE.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: QUEUE.maxConcurrency,
      }),
    );
    // The event source grants receive/delete/ChangeMessageVisibility (the worker's backoff).
    this.table.grantReadWriteData(this.worker);
    this.secret.grantRead(this.worker);
    this.worker.addToRolePolicy(
      new PolicyStatement({
        sid: 'SendFromConfiguredSender',
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: this.sesResources(sender, this.sesConfigurationSet.configurationSetName),
      }),
    );
    this.feedbackTopic.addSubscription(new LambdaSubscription(this.feedback));
    // Read and conditionally replace the entitlement: the table itself (no index), nothing else.
    this.feedback.addToRolePolicy(
      new PolicyStatement({ sid: 'RecordFeedbackOnEntitlement', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [this.table.tableArn] }),
    );

    for (const provider of providers) {
      const fn = ingressFunctions.get(provider.name)!;
      this.queue.grantSendMessages(fn);
      this.table.grantReadWriteData(fn);
      this.secret.grantRead(fn);
      const integration = new HttpLambdaIntegration(`Ingress${capitalize(provider.name)}Integration`, fn, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      });
      for (const route of provider.routes) {
        this.api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration });
      }
    }

    this.acknowledgeNagFindings();

    // ── outputs ─────────────────────────────────────────────────────────────────────────────
    const endpoint = this.api.apiEndpoint;
    new CfnOutput(this, 'ApiUrl', { value: endpoint, description: 'HTTP API base URL (no trailing slash)' });
    for (const provider of providers) {
      const paths = [...new Set(provider.routes.map((r) => r.path))];
      new CfnOutput(this, `WebhookUrl${capitalize(provider.name)}`, {
        value: paths.map((path) => `${endpoint}${path}`).join(' '),
        description: `Webhook URL to configure at ${provider.name}`,
      });
    }
    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'DlqUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn, description: 'Set provider secrets with `keysmith secrets set`' });
    new CfnOutput(this, 'WorkerFunctionName', { value: this.worker.functionName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn, description: 'Subscribe to alarms: context alarmEmail, or an SNS subscription of your own' });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName, description: 'CloudWatch dashboard of this stack' });
    new CfnOutput(this, 'SesConfigurationSetName', {
      value: this.sesConfigurationSet.configurationSetName,
      description: 'Every keysmith email is sent with this SES configuration set (bounces and complaints are recorded on the order)',
    });
  }

  /** `<stack>-<base>.fifo`, or a CloudFormation-generated name when that would exceed 80 chars. */
  private queueName(base: string): string | undefined {
    const name = `${this.stackName}-${base}`;
    return name.length <= 80 ? name : undefined;
  }

  /**
   * SES checks the identity the From address belongs to: the domain identity if the seller
   * verified the domain, the address identity if they verified the address. Grant both, nothing
   * else; plus the configuration set every email is sent with.
   */
  private sesResources(from: string, configurationSet: string): string[] {
    const identity = (name: string) =>
      this.formatArn({ service: 'ses', resource: 'identity', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const domain = from.slice(from.lastIndexOf('@') + 1);
    const set = this.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: configurationSet, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    return [identity(domain), identity(from), set];
  }

  /** Every cdk-nag finding this design accepts, each on the narrowest construct, with the reason. */
  private acknowledgeNagFindings(): void {
    const tableArn = `<${this.getLogicalId(this.table.node.defaultChild as CfnElement)}.Arn>`;
    for (const fn of [this.worker, ...this.ingressFunctions.values(), this.feedback]) {
      acknowledge(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'AWSLambdaBasicExecutionRole only allows writing this function\'s CloudWatch logs; an inline copy would say the same.');
    }
    for (const fn of [this.worker, ...this.ingressFunctions.values()]) {
      // Grants on a TableV2 name its indexes as `<table arn>/index/*`; the functions query both GSIs.
      acknowledge(fn, `AwsSolutions-IAM5[Resource::${tableArn}/index/*]`,
        'Read/write grant covers only this table\'s own GSIs (email and order lookups), never another table.');
    }
    acknowledge(this.api, 'AwsSolutions-APIG4',
      'Webhook routes are called by storefronts that cannot carry AWS or JWT credentials; each ingress function authenticates the request by the provider\'s signature, token or shared secret before anything is stored.');
    acknowledge(this.secret, 'AwsSolutions-SMG4',
      'The secret holds third-party provider secrets (rotated at the provider, then set with `keysmith secrets set`) and the license secret, which must not change or issued keys stop verifying.');
  }
}

export interface KeysmithAppOptions {
  /** Config file; relative paths resolve from the working directory. @default context `config`, env `KEYSMITH_CONFIG`, then the example */
  readonly configPath?: string;
  /** @default context `stackName`, then 'Keysmith' */
  readonly stackName?: string;
  /** @default true */
  readonly nag?: boolean;
  /** Extra stack props (env, alarmEmail, …); they win over context and environment. */
  readonly stackProps?: Omit<KeysmithStackProps, 'catalog'>;
}

/**
 * Build the keysmith app: read and validate the config (a bad one fails synth with the file name
 * and every problem), add the stack, and run cdk-nag's AWS Solutions checks on synth.
 *
 * Deployment settings outside the catalog: context `alarmEmail` (`-c alarmEmail=ops@shop.com`),
 * else env `KEYSMITH_ALARM_EMAIL`, subscribes that address to the alarm topic.
 */
export function buildKeysmithApp(app: App, options: KeysmithAppOptions = {}): KeysmithStack {
  const contextConfig = app.node.tryGetContext('config') as string | undefined;
  const path = resolve(options.configPath ?? contextConfig ?? process.env.KEYSMITH_CONFIG ?? EXAMPLE_CONFIG_PATH);
  let catalog: Catalog;
  try {
    catalog = readCatalogFile(path);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.includes(path) ? message : `${path}: ${message}`);
  }
  const stackName = options.stackName ?? (app.node.tryGetContext('stackName') as string | undefined) ?? 'Keysmith';
  const alarmEmail = ((app.node.tryGetContext('alarmEmail') as string | undefined) ?? process.env.KEYSMITH_ALARM_EMAIL)?.trim() || undefined;
  if (alarmEmail !== undefined && !/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(alarmEmail)) {
    throw new Error(`alarmEmail (context \`alarmEmail\` or KEYSMITH_ALARM_EMAIL) must be an email address, got "${alarmEmail}"`);
  }
  const stack = new KeysmithStack(app, stackName, {
    description: 'keysmith: storefront webhooks in, license keys and emails out',
    ...(alarmEmail ? { alarmEmail } : {}),
    ...options.stackProps,
    catalog,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function validateProviders(providers: readonly ProviderRegistration[]): void {
  const names = new Set<string>();
  const routes = new Set<string>();
  for (const provider of providers) {
    if (!/^[a-z][a-z0-9]*$/.test(provider.name)) throw new Error(`provider name "${provider.name}" must be lowercase letters and digits (it names constructs and outputs)`);
    if (names.has(provider.name)) throw new Error(`provider "${provider.name}" is registered twice`);
    names.add(provider.name);
    if (provider.routes.length === 0) throw new Error(`provider "${provider.name}" has no routes`);
    for (const route of provider.routes) {
      const key = `${route.method} ${route.path}`;
      if (routes.has(key)) throw new Error(`route ${key} is registered twice`);
      routes.add(key);
    }
  }
}

/** Walk up from `start` to the folder with `package.json` and `functions/` (works from lib/ and from the bundled .build/). */
export function findProjectRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'functions'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the keysmith project root above ${start}`);
  }
}
