import { RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ProviderName } from '../../functions/domain/events';
import { TABLE } from '../../functions/settings';
import { groupOnly } from './stableIds';

export interface KeysmithStoreProps {
  /** For the secrets' descriptions. */
  readonly stackName: string;
  /** Every provider, with the names of its secrets (the JSON keys of its own secret; none: no secret). */
  readonly providers: readonly { name: ProviderName; secretNames: readonly string[] }[];
}

/**
 * What keysmith keeps: the table (entitlements, licenses, lookups, the delivery log) and the
 * secrets. The table and the license secret are retained on stack delete and replacement: every
 * issued key is derived from the license secret, so losing it orphans them all.
 *
 * Secrets are split for least privilege (docs/security.md): the license secret holds
 * `KEYSMITH_LICENSE_SECRET` (generated at first deploy) and `KEYSMITH_LICENSE_SIGNING_KEY`; each
 * provider has its own secret, readable only by that provider's ingress. Grants are explicit
 * statements (`GetSecretValue` only, no `DescribeSecret`; table actions listed one by one).
 */
export class KeysmithStore extends Construct {
  public readonly table: TableV2;
  /** The license secret (`KEYSMITH_SECRET_ARN`, output `SecretArn`). */
  public readonly licenseSecret: Secret;
  /** Each provider's own secret (`KEYSMITH_PROVIDER_SECRET_ARN` of its ingress, output `SecretArn<Provider>`). */
  public readonly providerSecrets: ReadonlyMap<ProviderName, Secret>;

  constructor(scope: Construct, id: string, props: KeysmithStoreProps) {
    super(scope, id);
    groupOnly(this);

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

    // Construct id, description and generator are those of the single secret this stack had before
    // the split, byte for byte: CloudFormation generates a NEW value whenever GenerateSecretString
    // changes, which would orphan every issued key. Stacks deployed before the split keep their
    // provider values in here until `keysmith secrets set --stack` moves them (docs/deploying.md).
    this.licenseSecret = new Secret(this, 'Secret', {
      description: `keysmith (${props.stackName}): provider webhook secrets and license keys, as one JSON object`,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'KEYSMITH_LICENSE_SECRET',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const providerSecrets = new Map<ProviderName, Secret>();
    for (const { name: provider, secretNames: names } of props.providers) {
      // A provider with no secrets (e.g. operator grants) gets no secret of its own.
      if (names.length === 0) continue;
      providerSecrets.set(
        provider,
        new Secret(this, `Secret${capitalize(provider)}`, {
          description: `keysmith (${props.stackName}): ${provider} webhook secrets (${names.join(', ')}), as one JSON object`,
          // An empty JSON object, not a secret: the operator fills it with `keysmith secrets set`.
          // CloudFormation writes it only at creation (the template value never changes).
          secretStringValue: SecretValue.unsafePlainText('{}'),
          // A copy of what the provider's dashboard shows; the license secret is what must survive.
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      );
    }
    this.providerSecrets = providerSecrets;
  }

  /** `secretsmanager:GetSecretValue` on the license secret, nothing else. */
  grantReadLicenseSecret(grantee: IGrantable & { addToRolePolicy(statement: PolicyStatement): void }): void {
    grantee.addToRolePolicy(new PolicyStatement({ sid: 'ReadLicenseSecret', actions: ['secretsmanager:GetSecretValue'], resources: [this.licenseSecret.secretArn] }));
  }

  /** `secretsmanager:GetSecretValue` on one provider's secret, nothing else. */
  grantReadProviderSecret(provider: ProviderName, grantee: IGrantable & { addToRolePolicy(statement: PolicyStatement): void }): void {
    const secret = this.providerSecrets.get(provider);
    if (!secret) throw new Error(`no secret for provider ${provider}`);
    grantee.addToRolePolicy(new PolicyStatement({ sid: 'ReadOwnProviderSecret', actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
  }

  /** Exactly `actions` on the table itself — never its indexes, never another table. */
  grantTable(sid: string, actions: readonly `dynamodb:${string}`[], grantee: { addToRolePolicy(statement: PolicyStatement): void }, conditions?: Record<string, unknown>): void {
    grantee.addToRolePolicy(new PolicyStatement({ sid, actions: [...actions], resources: [this.table.tableArn], ...(conditions ? { conditions } : {}) }));
  }
}

/** A provider name as a construct id part: `paddle` → `Paddle`, `paddle-billing` → `PaddleBilling`. */
export function capitalize(name: string): string {
  return name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
