import { Stack } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, PayloadFormatVersion, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Catalog } from '../../functions/domain/catalog';
import { LICENSING_ENTRY, LICENSING_ROUTES, LICENSING_THROTTLE } from '../../functions/licensing/routes';
import { FUNCTIONS } from '../../functions/settings';
import { accessLogSettings } from './accessLogs';
import { KeysmithFunction } from './KeysmithFunction';
import type { KeysmithStore } from './KeysmithStore';
import { groupOnly } from './stableIds';

/**
 * The DynamoDB actions the licensing function calls (functions/aws/licenseApiStore.ts): one Query
 * of a license's partition, and UpdateItem on its activations. Limited to the license partitions
 * (`KEY#…`, `LIC#…`) by `dynamodb:LeadingKeys`: app traffic can never read an order or a delivery.
 */
export const LICENSING_TABLE_ACTIONS = ['dynamodb:Query', 'dynamodb:UpdateItem'] as const;
export const LICENSING_LEADING_KEYS = ['KEY#*', 'LIC#*'] as const;

export interface KeysmithLicensingApiProps {
  readonly store: KeysmithStore;
  readonly catalog: Catalog;
  readonly projectRoot: string;
  readonly logRetention: RetentionDays;
  /** Non-secret settings (table, log level, service). */
  readonly environment: Record<string, string>;
  /** @default LICENSING_THROTTLE */
  readonly throttle?: ThrottleSettings;
}

/**
 * The license API (docs/license-api.md): an HTTP API of its own, apart from the webhooks — app
 * launches and storefront webhooks never share a throttle — with the three POST routes going to
 * one small `licensing` function. The function may read the license secret (it signs license files
 * with the signing key), Query and UpdateItem the license partitions, and nothing else.
 */
export class KeysmithLicensingApi extends Construct {
  public readonly api: HttpApi;
  public readonly stage: HttpStage;
  public readonly function: KeysmithFunction;

  constructor(scope: Construct, id: string, props: KeysmithLicensingApiProps) {
    super(scope, id);
    groupOnly(this);
    const stack = Stack.of(this);

    this.function = new KeysmithFunction(this, 'Licensing', {
      entry: LICENSING_ENTRY,
      projectRoot: props.projectRoot,
      catalog: props.catalog,
      timeoutSeconds: FUNCTIONS.licensing.timeoutSeconds,
      memoryMb: FUNCTIONS.licensing.memoryMb,
      description: 'keysmith license API: activate, validate, deactivate',
      logRetention: props.logRetention,
      environment: { KEYSMITH_SECRET_ARN: props.store.licenseSecret.secretArn, ...props.environment },
    });

    const accessLogs = new LogGroup(this, 'LicensingApiAccessLogs', { retention: props.logRetention });
    this.api = new HttpApi(this, 'LicensingApi', { description: `keysmith (${stack.stackName}): license API for the seller's apps`, createDefaultStage: false });
    this.stage = new HttpStage(this, 'LicensingApiDefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? LICENSING_THROTTLE,
      accessLogSettings: accessLogSettings(accessLogs),
    });

    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'LicensePartitions',
        actions: [...LICENSING_TABLE_ACTIONS],
        resources: [props.store.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...LICENSING_LEADING_KEYS] } },
      }),
    );
    props.store.grantReadLicenseSecret(this.function);
    const integration = new HttpLambdaIntegration('LicensingIntegration', this.function, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
    for (const path of LICENSING_ROUTES) this.api.addRoutes({ path, methods: [HttpMethod.POST], integration });
  }
}
