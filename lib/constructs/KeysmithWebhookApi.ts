import { Stack } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, PayloadFormatVersion, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Catalog } from '../../functions/domain/catalog';
import type { ProviderRegistration, WebhookRegistration } from '../../functions/providers/registry';
import { FUNCTIONS } from '../../functions/settings';
import { accessLogSettings } from './accessLogs';
import { KeysmithFunction } from './KeysmithFunction';
import { capitalize, type KeysmithStore } from './KeysmithStore';
import { groupOnly } from './stableIds';

/** Stage throttling when `throttle` is not given: generous for webhooks, a cap on abuse. */
export const DEFAULT_THROTTLE: Required<ThrottleSettings> = { rateLimit: 50, burstLimit: 100 };

/**
 * The DynamoDB actions an ingress calls: one BatchWriteItem with the delivery record and the
 * predicted lookup items (functions/aws/deliveryLog.ts through functions/aws/light/dynamodb.ts).
 * Public-facing code reads nothing back: no Get, Query, Scan, Update or Delete, no index.
 */
export const INGRESS_TABLE_ACTIONS = ['dynamodb:BatchWriteItem'] as const;
/**
 * The partitions an ingress writes (functions/aws/deliveryLog.ts `deliveryWrites`): its delivery
 * log, the lookups of the licenses it predicts, and payment links. Never an order (`ENT#…`), so a
 * compromised ingress cannot rewrite what anyone bought.
 */
export const INGRESS_LEADING_KEYS = ['DLV#*', 'KEY#*', 'LIC#*', 'SUB#*'] as const;

export interface KeysmithWebhookApiProps {
  /** The providers that receive webhooks (each has routes and an entry). */
  readonly providers: readonly WebhookRegistration[];
  readonly store: KeysmithStore;
  readonly queue: IQueue;
  readonly catalog: Catalog;
  readonly projectRoot: string;
  readonly logRetention: RetentionDays;
  /** Non-secret settings (table, log level, service). */
  readonly environment: Record<string, string>;
  /** Providers' own settings by name, checked; each function gets those its provider declares. @default none */
  readonly settings?: Readonly<Record<string, string>>;
  /** @default DEFAULT_THROTTLE */
  readonly throttle?: ThrottleSettings;
}

/**
 * The webhook API: an HTTP API with one route per provider route, each provider's routes going to
 * that provider's own ingress Lambda (payload format 2.0).
 *
 * Secure defaults: stage throttling, access logs by route key (never the raw path, which may carry
 * Selldone's secret). Each ingress may read its own provider's secret and the license secret
 * (to predict license keys), send to the event queue, and BatchWriteItem on the table — nothing
 * else. Routes have no authorizer: providers cannot carry AWS or JWT credentials, so each ingress
 * authenticates the request by the provider's signature or shared secret.
 */
export class KeysmithWebhookApi extends Construct {
  public readonly api: HttpApi;
  public readonly stage: HttpStage;
  /** Ingress function per provider name. */
  public readonly ingressFunctions: ReadonlyMap<string, KeysmithFunction>;

  constructor(scope: Construct, id: string, props: KeysmithWebhookApiProps) {
    super(scope, id);
    groupOnly(this);
    const stack = Stack.of(this);

    // ── validate ──
    validateProviders(props.providers);

    // ── build ──
    const ingressFunctions = new Map<string, KeysmithFunction>();
    for (const provider of props.providers) {
      ingressFunctions.set(
        provider.name,
        new KeysmithFunction(this, `Ingress${capitalize(provider.name)}`, {
          entry: provider.entry,
          projectRoot: props.projectRoot,
          catalog: props.catalog,
          timeoutSeconds: FUNCTIONS.ingress.timeoutSeconds,
          memoryMb: FUNCTIONS.ingress.memoryMb,
          description: `keysmith ingress for ${provider.name} webhooks`,
          logRetention: props.logRetention,
          environment: {
            KEYSMITH_SECRET_ARN: props.store.licenseSecret.secretArn,
            // A provider without secrets has no secret of its own to read.
            ...(props.store.providerSecrets.has(provider.name) ? { KEYSMITH_PROVIDER_SECRET_ARN: props.store.providerSecrets.get(provider.name)!.secretArn } : {}),
            ...props.environment,
            ...ownSettings(provider, props.settings ?? {}),
            KEYSMITH_QUEUE_URL: props.queue.queueUrl,
          },
        }),
      );
    }
    this.ingressFunctions = ingressFunctions;

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: props.logRetention });
    this.api = new HttpApi(this, 'Api', { description: `keysmith (${stack.stackName}): storefront webhooks`, createDefaultStage: false });
    this.stage = new HttpStage(this, 'ApiDefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_THROTTLE,
      accessLogSettings: accessLogSettings(accessLogs),
    });

    // ── wire ──
    for (const provider of props.providers) {
      const fn = ingressFunctions.get(provider.name)!;
      // SendMessageBatch is authorized as sqs:SendMessage; the queue URL comes from the environment.
      fn.addToRolePolicy(new PolicyStatement({ sid: 'EnqueueEvents', actions: ['sqs:SendMessage'], resources: [props.queue.queueArn] }));
      props.store.grantTable('WriteDeliveryLog', INGRESS_TABLE_ACTIONS, fn, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...INGRESS_LEADING_KEYS] } });
      if (props.store.providerSecrets.has(provider.name)) props.store.grantReadProviderSecret(provider.name, fn);
      props.store.grantReadLicenseSecret(fn);
      const integration = new HttpLambdaIntegration(`Ingress${capitalize(provider.name)}Integration`, fn, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
      for (const route of provider.routes) this.api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration });
    }
  }
}

export function validateProviders(providers: readonly ProviderRegistration[]): void {
  const names = new Set<string>();
  const routes = new Set<string>();
  for (const provider of providers) {
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(provider.name))
      throw new Error(`provider name "${provider.name}" must be lowercase letters and digits, words joined by - (it names constructs and outputs)`);
    if (names.has(provider.name)) throw new Error(`provider "${provider.name}" is registered twice`);
    names.add(provider.name);
    if ('entry' in provider && provider.routes.length === 0) throw new Error(`provider "${provider.name}" has an ingress entry but no routes`);
    for (const route of provider.routes) {
      const key = `${route.method} ${route.path}`;
      if (routes.has(key)) throw new Error(`route ${key} is registered twice`);
      routes.add(key);
    }
  }
}

/** The settings `provider` declares that are set. */
function ownSettings(provider: WebhookRegistration, settings: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries((provider.settings ?? []).flatMap(({ name }) => (settings[name] !== undefined ? [[name, settings[name]!]] : [])));
}
