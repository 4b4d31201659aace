import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Annotations, type App, type CfnElement, CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { HttpApi, HttpStage, ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';
import { EXAMPLE_CONFIG_PATH, readCatalogFile } from '../functions/config/loadCatalog';
import type { Catalog } from '../functions/domain/catalog';
import { PROVIDER_REGISTRY, type ProviderRegistration, type WebhookRegistration } from '../functions/providers/registry';
import { isWebhookProvider } from '../functions/providers/types';
import { exampleCatalogProblem, PROJECT_CONFIG_FILE, projectConfigPath, unknownCatalogProviders } from './catalogWarnings';
import { alarmList, type KeysmithAlarmSet, KeysmithAlerting } from './constructs/KeysmithAlerting';
import { KeysmithDashboard } from './constructs/KeysmithDashboard';
import { KeysmithEventPipeline } from './constructs/KeysmithEventPipeline';
import type { KeysmithFunction } from './constructs/KeysmithFunction';
import { KeysmithLicensingApi } from './constructs/KeysmithLicensingApi';
import { KeysmithMailFeedback } from './constructs/KeysmithMailFeedback';
import { capitalize, KeysmithStore } from './constructs/KeysmithStore';
import { KeysmithWebhookApi, validateProviders } from './constructs/KeysmithWebhookApi';
import { stableLogicalId } from './constructs/stableIds';

export { DLQ_MAX_AGE } from './constructs/KeysmithAlerting';
export { WORKER_ENTRY, WORKER_TABLE_ACTIONS } from './constructs/KeysmithEventPipeline';
export { LICENSING_LEADING_KEYS, LICENSING_TABLE_ACTIONS } from './constructs/KeysmithLicensingApi';
export { FEEDBACK_ENTRY, FEEDBACK_FUNCTION } from './constructs/KeysmithMailFeedback';
export { DEFAULT_THROTTLE, INGRESS_LEADING_KEYS, INGRESS_TABLE_ACTIONS } from './constructs/KeysmithWebhookApi';

/** Rejected webhooks (all providers, 5 minutes) above which the rejection-spike alarm fires. */
export const DEFAULT_REJECTION_ALARM_THRESHOLD = 50;

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
   * Throttling of the license API (its own HTTP API): app launches, not webhooks.
   * @default LICENSING_THROTTLE (200 requests/s, bursts of 400)
   */
  readonly licensingThrottle?: ThrottleSettings;
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
   * Providers' non-secret ingress settings by name (e.g. `KEYSMITH_STRIPE_TOLERANCE_SECONDS`:
   * '600'); each is set on its own provider's ingress function only. A name no provider declares,
   * or a value its provider refuses, fails synth. `buildKeysmithApp` reads them from context
   * (`-c NAME=value`) or the environment.
   * @default none: every provider's defaults
   */
  readonly providerSettings?: Readonly<Record<string, string>>;
  /**
   * The folder holding `functions/`, `tsconfig.json` and `package-lock.json`.
   * @default - the nearest ancestor of this file that has a `package.json` and `functions/`
   */
  readonly projectRoot?: string;
}

/** Every alarm of the stack; each notifies `alarmTopic`. */
export type KeysmithAlarms = KeysmithAlarmSet;

/**
 * The whole keysmith pipeline, one construct per concern (lib/constructs/):
 * - `KeysmithStore`: the table and the secrets (license secret + one per provider), retained;
 * - `KeysmithMailFeedback`: SES configuration set → SNS → feedback Lambda (+ failure queue);
 * - `KeysmithEventPipeline`: SQS FIFO queue + DLQ → worker Lambda → DynamoDB + SES;
 * - `KeysmithWebhookApi`: HTTP API → one ingress Lambda per provider → the queue;
 * - `KeysmithAlarms`: alarms → SNS topic that CloudWatch may publish to;
 * - `KeysmithDashboard`: one CloudWatch dashboard (docs/observability.md).
 *
 * Minimal use: `new KeysmithStack(app, 'Keysmith', { catalog })`. Every resource is encrypted,
 * TLS-only where the service allows a policy, each function may do exactly what its code calls
 * (docs/security.md), and the table and license secret survive a stack delete. Logical IDs are
 * those of the single-file stack this was split from (`constructs/stableIds.ts`), so upgrading
 * replaces nothing stateful.
 */
export class KeysmithStack extends Stack {
  public readonly api: HttpApi;
  public readonly stage: HttpStage;
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly table: TableV2;
  /** The license secret (output `SecretArn`). */
  public readonly secret: Secret;
  /** Each provider's own webhook secret. */
  public readonly providerSecrets: ReadonlyMap<string, Secret>;
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
  /** Feedback invocations that failed after Lambda's retries. */
  public readonly feedbackFailureQueue: Queue;
  /** The license API for the seller's apps (output `LicensingUrl`). */
  public readonly licensingApi: HttpApi;
  public readonly licensing: KeysmithFunction;

  constructor(scope: Construct, id: string, props: KeysmithStackProps) {
    super(scope, id, props);

    // ── validate ────────────────────────────────────────────────────────────────────────────
    const providers = props.providers ?? PROVIDER_REGISTRY;
    validateProviders(providers);
    const webhookProviders = providers.filter(isWebhookProvider);
    const settings = checkProviderSettings(webhookProviders, props.providerSettings ?? {});
    const projectRoot = props.projectRoot ?? findProjectRoot(__dirname);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;
    const unknownProviders = unknownCatalogProviders(
      props.catalog,
      providers.map((p) => p.name),
    );
    if (unknownProviders.length > 0) {
      Annotations.of(this).addWarningV2(
        'keysmith:catalog-providers',
        `Catalog: products match ids of ${unknownProviders.join(', ')}, which no registered provider is (one of ${providers.map((p) => p.name).join(', ')}); those entries match no order.`,
      );
    }
    const exampleProblem = exampleCatalogProblem(props.catalog);
    if (exampleProblem) {
      Annotations.of(this).addWarningV2('keysmith:example-catalog', `Catalog: ${exampleProblem}. Deployed, every order would get an "Example App" license mailed from an address nobody owns.`);
    }

    // ── build ───────────────────────────────────────────────────────────────────────────────
    const store = new KeysmithStore(this, 'Store', { stackName: this.stackName, providers: providers.map((p) => ({ name: p.name, secretNames: p.secrets.map((s) => s.name) })) });
    // Settings (never secrets) every function gets; each construct adds the ARNs its functions need.
    const environment = {
      KEYSMITH_TABLE_NAME: store.table.tableName,
      KEYSMITH_LOG_LEVEL: props.logLevel ?? 'info',
      // The `Service` dimension of every metric: two stacks in one account never mix their numbers.
      KEYSMITH_SERVICE: this.stackName,
    };
    const shared = { store, catalog: props.catalog, projectRoot, logRetention, environment };
    const mail = new KeysmithMailFeedback(this, 'MailFeedback', { ...shared, ...(props.sesConfigurationSetName ? { sesConfigurationSetName: props.sesConfigurationSetName } : {}) });
    const pipeline = new KeysmithEventPipeline(this, 'Pipeline', { ...shared, sesConfigurationSetName: mail.configurationSet.configurationSetName });
    const webhooks = new KeysmithWebhookApi(this, 'WebhookApi', { ...shared, providers: webhookProviders, settings, queue: pipeline.queue, ...(props.throttle ? { throttle: props.throttle } : {}) });
    const licensing = new KeysmithLicensingApi(this, 'LicenseApi', { ...shared, ...(props.licensingThrottle ? { throttle: props.licensingThrottle } : {}) });
    const alarms = new KeysmithAlerting(this, 'Alerting', {
      service: this.stackName,
      providers: webhookProviders.map((p) => p.name),
      deadLetterQueue: pipeline.deadLetterQueue,
      worker: pipeline.worker,
      ingressFunctions: webhooks.ingressFunctions,
      api: webhooks.api,
      feedback: mail.function,
      feedbackFailureQueue: mail.failureQueue,
      rejectionThreshold: props.rejectionAlarmThreshold ?? DEFAULT_REJECTION_ALARM_THRESHOLD,
      licensing: { api: licensing.api, function: licensing.function },
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });
    this.dashboard = new KeysmithDashboard(this, 'Dashboard', {
      // Dashboards are global: the region keeps two deployments of one stack name apart.
      dashboardName: `${this.stackName}-${this.region}`,
      service: this.stackName,
      providers: webhookProviders.map((p) => p.name),
      api: webhooks.api,
      queue: pipeline.queue,
      deadLetterQueue: pipeline.deadLetterQueue,
      worker: pipeline.worker,
      ingressFunctions: webhooks.ingressFunctions,
      feedback: mail.function,
      licensing: { api: licensing.api, function: licensing.function },
      alarms: alarmList(alarms.alarms),
    });

    this.table = store.table;
    this.secret = store.licenseSecret;
    this.providerSecrets = store.providerSecrets;
    this.sesConfigurationSet = mail.configurationSet;
    this.feedbackTopic = mail.topic;
    this.feedback = mail.function;
    this.feedbackFailureQueue = mail.failureQueue;
    this.queue = pipeline.queue;
    this.deadLetterQueue = pipeline.deadLetterQueue;
    this.worker = pipeline.worker;
    this.api = webhooks.api;
    this.stage = webhooks.stage;
    this.ingressFunctions = webhooks.ingressFunctions;
    this.licensingApi = licensing.api;
    this.licensing = licensing.function;
    this.alarmTopic = alarms.topic;
    this.alarms = alarms.alarms;
    this.dlqAlarm = this.alarms.deadLetterQueue;

    // ── wire ────────────────────────────────────────────────────────────────────────────────
    this.acknowledgeNagFindings();
    const endpoint = this.api.apiEndpoint;
    new CfnOutput(this, 'ApiUrl', { value: endpoint, description: 'HTTP API base URL (no trailing slash)' });
    for (const provider of webhookProviders) {
      const paths = [...new Set(provider.routes.map((r) => r.path))];
      new CfnOutput(this, `WebhookUrl${capitalize(provider.name)}`, { value: paths.map((path) => `${endpoint}${path}`).join(' '), description: `Webhook URL to configure at ${provider.name}` });
    }
    new CfnOutput(this, 'LicensingUrl', {
      value: this.licensingApi.apiEndpoint,
      description: "License API base URL for the seller's app: POST {LicensingUrl}/v1/licenses/activate|validate|deactivate",
    });
    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'DlqUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'SecretArn', {
      value: this.secret.secretArn,
      description: 'The license secret (KEYSMITH_LICENSE_SECRET, KEYSMITH_LICENSE_SIGNING_KEY); retained. Set values with `keysmith secrets set --stack`',
    });
    for (const [provider, secret] of this.providerSecrets) {
      new CfnOutput(this, `SecretArn${capitalize(provider)}`, { value: secret.secretArn, description: `${provider} webhook secrets; set them with \`keysmith secrets set --stack\`` });
    }
    new CfnOutput(this, 'WorkerFunctionName', { value: this.worker.functionName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn, description: 'Subscribe to alarms: context alarmEmail, or an SNS subscription of your own' });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName, description: 'CloudWatch dashboard of this stack' });
    new CfnOutput(this, 'SesConfigurationSetName', {
      value: this.sesConfigurationSet.configurationSetName,
      description: 'Every keysmith email is sent with this SES configuration set (bounces and complaints are recorded on the order)',
    });
    new CfnOutput(this, 'FeedbackFailureQueueUrl', { value: this.feedbackFailureQueue.queueUrl, description: 'SES feedback that could not be recorded after retries (docs/observability.md)' });
  }

  /** The logical IDs of the single-file stack, whatever construct a resource now lives in. */
  protected override allocateLogicalId(element: CfnElement): string {
    return stableLogicalId(element);
  }

  /** Every cdk-nag finding this design accepts, each on the narrowest construct, with the reason. */
  private acknowledgeNagFindings(): void {
    for (const fn of [this.worker, ...this.ingressFunctions.values(), this.feedback, this.licensing]) {
      acknowledge(
        fn,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        "AWSLambdaBasicExecutionRole only allows writing this function's CloudWatch logs; an inline copy would say the same.",
      );
    }
    acknowledge(
      this.api,
      'AwsSolutions-APIG4',
      "Webhook routes are called by storefronts that cannot carry AWS or JWT credentials; each ingress function authenticates the request by the provider's signature, token or shared secret before anything is stored.",
    );
    acknowledge(
      this.licensingApi,
      'AwsSolutions-APIG4',
      "The license API is called by the seller's apps on customers' machines, which hold a license key, not AWS or JWT credentials; the key is the credential, checked by the licensing function, and the API is throttled on its own.",
    );
    for (const secret of [this.secret, ...this.providerSecrets.values()]) {
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'Provider secrets are rotated at the provider, then set with `keysmith secrets set` (a _PREVIOUS value covers the switch); the license secret must never change or issued keys stop verifying.',
      );
    }
    acknowledge(
      this.feedbackFailureQueue,
      'AwsSolutions-SQS3',
      "This queue is itself the dead-letter destination of the feedback function's failed invocations (alarmed, kept 14 days); a DLQ of a DLQ would only hide them further.",
    );
  }
}

export interface KeysmithAppOptions {
  /** Config file; relative paths resolve from the working directory. @default context `config`, env `KEYSMITH_CONFIG`, `keysmith.config.json`, then the example */
  readonly configPath?: string;
  /** Where `keysmith.config.json` is looked for. @default process.cwd() (where cdk.json is) */
  readonly projectDir?: string;
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
 * The config is the first of: option `configPath`, context `config`, env `KEYSMITH_CONFIG`,
 * `keysmith.config.json` in the project folder — so a plain `cdk deploy` keeps deploying the
 * seller's catalog — and only then the example, with a synth warning.
 *
 * Deployment settings outside the catalog: context `alarmEmail` (`-c alarmEmail=ops@shop.com`),
 * else env `KEYSMITH_ALARM_EMAIL`, subscribes that address to the alarm topic.
 */
export function buildKeysmithApp(app: App, options: KeysmithAppOptions = {}): KeysmithStack {
  const contextConfig = app.node.tryGetContext('config') as string | undefined;
  const chosen = options.configPath ?? contextConfig ?? (process.env.KEYSMITH_CONFIG || undefined) ?? projectConfigPath(options.projectDir ?? process.cwd());
  const path = resolve(chosen ?? EXAMPLE_CONFIG_PATH);
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
  const providerSettings = settingsFromContext(app, options.stackProps?.providers ?? PROVIDER_REGISTRY);
  const stack = new KeysmithStack(app, stackName, {
    description: 'keysmith: storefront webhooks in, license keys and emails out',
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(Object.keys(providerSettings).length > 0 ? { providerSettings } : {}),
    ...options.stackProps,
    catalog,
  });
  if (chosen === undefined) {
    Annotations.of(stack).addWarningV2(
      'keysmith:config-fallback',
      `No catalog given: no -c config=…, no KEYSMITH_CONFIG, no ${PROJECT_CONFIG_FILE} in ${options.projectDir ?? process.cwd()}. Falling back to ${EXAMPLE_CONFIG_PATH}. ` +
        `Put your catalog in ${PROJECT_CONFIG_FILE} and every later \`cdk deploy\` uses it (docs/deploying.md).`,
    );
  }
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

/** Every declared provider setting set in context (`-c NAME=value`) or, else, the environment. */
function settingsFromContext(app: App, providers: readonly ProviderRegistration[]): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const provider of providers.filter(isWebhookProvider)) {
    for (const { name } of provider.settings ?? []) {
      const value = (app.node.tryGetContext(name) as string | number | undefined) ?? process.env[name];
      if (value !== undefined && String(value).trim() !== '') settings[name] = String(value).trim();
    }
  }
  return settings;
}

/** The settings, checked: each declared by a provider, each value one its provider accepts. */
function checkProviderSettings(providers: readonly WebhookRegistration[], settings: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const declared = new Map(providers.flatMap((p) => (p.settings ?? []).map((s) => [s.name, s] as const)));
  const problems = Object.entries(settings).flatMap(([name, value]) => {
    const setting = declared.get(name);
    if (!setting) return [`${name} is not a setting of any provider (known: ${[...declared.keys()].join(', ') || 'none'})`];
    const problem = setting.problem(value);
    return problem ? [`${name} (${setting.about}) ${problem}`] : [];
  });
  if (problems.length > 0) throw new Error(`provider settings: ${problems.join('; ')}`);
  return settings;
}

function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}

/** Walk up from `start` to the folder with `package.json` and `functions/` (works from lib/ and from the bundled .build/). */
export function findProjectRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'functions'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the keysmith project root above ${start}`);
  }
}
