import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { Entitlement, License } from '../domain/entitlement';
import type { ProviderName } from '../domain/events';
import { keyHash } from '../domain/licenses';
import { TABLE } from '../settings';

/**
 * The DynamoDB adapter. One entitlement = one item; its state is one JSON document (`doc`) next
 * to the attributes DynamoDB itself needs (keys, GSI keys, `version`). Every write of an
 * entitlement is conditional on the version it was computed from, so two writers can never both
 * win: the loser re-reads and re-applies (see `functions/worker/processEvent.ts`).
 */

export interface StoredEntitlement {
  state: Entitlement;
  version: number;
}

/** Another writer changed the entitlement since we read it. `current` is its state if DynamoDB returned it. */
export class VersionConflict extends Error {
  constructor(readonly current?: StoredEntitlement) {
    super('entitlement changed concurrently');
    this.name = 'VersionConflict';
  }
}

export interface LicenseRef {
  provider: ProviderName;
  scope: string;
  licenseId: string;
}

export interface EntitlementStore {
  get(provider: ProviderName, scope: string): Promise<StoredEntitlement | undefined>;
  /** Write `state` as version `expected + 1` (or as a new item when `expected` is 0). */
  put(state: Entitlement, expected: number): Promise<StoredEntitlement>;
  /** Idempotently write the key-hash and license-id lookup items of these licenses. */
  putLookups(state: Entitlement, licenses: License[]): Promise<void>;
  /** The scope an entitlement with this subscription was granted under (see `putLookups`). */
  findSubscriptionScope(provider: ProviderName, subscriptionId: string): Promise<string | undefined>;
  findByKey(key: string): Promise<LicenseRef | undefined>;
  findByLicenseId(licenseId: string): Promise<LicenseRef | undefined>;
  findByEmail(email: string): Promise<StoredEntitlement[]>;
  findByOrder(provider: ProviderName, orderId: string): Promise<StoredEntitlement[]>;
}

export const entitlementPk = (provider: ProviderName, scope: string): string => `ENT#${provider}#${scope}`;
const ENT_SK = 'ENT';

export class DynamoEntitlementStore implements EntitlementStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(provider: ProviderName, scope: string): Promise<StoredEntitlement | undefined> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [TABLE.partitionKey]: { S: entitlementPk(provider, scope) }, [TABLE.sortKey]: { S: ENT_SK } },
        ConsistentRead: true,
      }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async put(state: Entitlement, expected: number): Promise<StoredEntitlement> {
    const version = expected + 1;
    const stored: Entitlement = { ...state, version };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(stored),
          ...(expected === 0
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': TABLE.partitionKey } }
            : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': { N: String(expected) } } }),
          // Real DynamoDB returns the winner's item with the failure: saves the re-read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
        const item = (error as ConditionalCheckFailedException).Item;
        throw new VersionConflict(item ? fromItem(item) : undefined);
      }
      throw error;
    }
    return { state: stored, version };
  }

  async putLookups(state: Entitlement, licenses: License[]): Promise<void> {
    await batchWrite(this.client, this.tableName, lookupRequests(state, licenses));
  }

  async findSubscriptionScope(provider: ProviderName, subscriptionId: string): Promise<string | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { [TABLE.partitionKey]: { S: `SUB#${provider}#${subscriptionId}` }, [TABLE.sortKey]: { S: 'SUB' } } }),
    );
    return result.Item?.scope?.S;
  }

  async findByKey(key: string): Promise<LicenseRef | undefined> {
    return this.getRef(`KEY#${keyHash(key)}`, 'KEY');
  }

  async findByLicenseId(licenseId: string): Promise<LicenseRef | undefined> {
    return this.getRef(`LIC#${licenseId}`, 'LIC');
  }

  async findByEmail(email: string): Promise<StoredEntitlement[]> {
    return this.query(TABLE.emailIndex.name, TABLE.emailIndex.partitionKey, `EMAIL#${email.trim().toLowerCase()}`);
  }

  async findByOrder(provider: ProviderName, orderId: string): Promise<StoredEntitlement[]> {
    const direct = await this.get(provider, orderId);
    const indexed = await this.query(TABLE.orderIndex.name, TABLE.orderIndex.partitionKey, `ORDER#${provider}#${orderId}`);
    const all = direct ? [direct, ...indexed.filter((e) => e.state.scope !== direct.state.scope)] : indexed;
    return all;
  }

  private async getRef(pk: string, sk: string): Promise<LicenseRef | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { [TABLE.partitionKey]: { S: pk }, [TABLE.sortKey]: { S: sk } } }),
    );
    const item = result.Item;
    if (!item?.provider?.S || !item.scope?.S || !item.licenseId?.S) return undefined;
    return { provider: item.provider.S as ProviderName, scope: item.scope.S, licenseId: item.licenseId.S };
  }

  private async query(index: string, key: string, value: string): Promise<StoredEntitlement[]> {
    const out: StoredEntitlement[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: '#k = :v',
          ExpressionAttributeNames: { '#k': key },
          ExpressionAttributeValues: { ':v': { S: value } },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of result.Items ?? []) out.push(fromItem(item));
      start = result.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

function toItem(state: Entitlement): Record<string, AttributeValue> {
  const pk = entitlementPk(state.provider, state.scope);
  const item: Record<string, AttributeValue> = {
    [TABLE.partitionKey]: { S: pk },
    [TABLE.sortKey]: { S: ENT_SK },
    version: { N: String(state.version) },
    status: { S: state.status },
    updatedAt: { S: state.updatedAt },
    doc: { S: JSON.stringify(state) },
  };
  if (state.customer.email) {
    item[TABLE.emailIndex.partitionKey] = { S: `EMAIL#${state.customer.email.trim().toLowerCase()}` };
    item[TABLE.emailIndex.sortKey] = { S: pk };
  }
  // A second way to find the order: its id when the scope is something else (a subscription),
  // else its customer-facing reference.
  const alias = state.orderId !== undefined && state.orderId !== state.scope ? state.orderId : state.reference;
  if (alias !== undefined && alias !== state.scope) {
    item[TABLE.orderIndex.partitionKey] = { S: `ORDER#${state.provider}#${alias}` };
    item[TABLE.orderIndex.sortKey] = { S: pk };
  }
  return item;
}

function fromItem(item: Record<string, AttributeValue>): StoredEntitlement {
  const state = JSON.parse(item.doc?.S ?? '{}') as Entitlement;
  const version = Number(item.version?.N ?? state.version ?? 0);
  return { state: { ...state, version }, version };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The lookup items of licenses: key hash and license id → entitlement, and the subscription link.
 * Their content depends only on the licenses (which are derived), so writing them twice — or
 * ahead of the entitlement, from the ingress — always writes the same bytes.
 */
export function lookupRequests(state: Pick<Entitlement, 'provider' | 'scope' | 'subscription'>, licenses: Pick<License, 'licenseId' | 'key'>[]): WriteRequest[] {
  const pk = entitlementPk(state.provider, state.scope);
  const requests: WriteRequest[] = [];
  for (const license of licenses) {
    const ref = { ent: { S: pk }, provider: { S: state.provider }, scope: { S: state.scope }, licenseId: { S: license.licenseId } };
    requests.push({ PutRequest: { Item: { [TABLE.partitionKey]: { S: `KEY#${keyHash(license.key)}` }, [TABLE.sortKey]: { S: 'KEY' }, ...ref } } });
    requests.push({ PutRequest: { Item: { [TABLE.partitionKey]: { S: `LIC#${license.licenseId}` }, [TABLE.sortKey]: { S: 'LIC' }, ...ref } } });
  }
  const subscription = state.subscription?.id;
  if (subscription && subscription !== state.scope) {
    // Later events may name only the subscription: this link leads them to the order.
    requests.push({
      PutRequest: {
        Item: { [TABLE.partitionKey]: { S: `SUB#${state.provider}#${subscription}` }, [TABLE.sortKey]: { S: 'SUB' }, ent: { S: pk }, provider: { S: state.provider }, scope: { S: state.scope } },
      },
    });
  }
  return requests;
}

/** BatchWriteItem in chunks of 25, retrying what DynamoDB leaves unprocessed. */
export async function batchWrite(client: DynamoDBClient, tableName: string, requests: WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending: WriteRequest[] = requests.slice(i, i + 25);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        if (attempt > 8) throw new Error(`DynamoDB left ${pending.length} writes unprocessed`);
        await sleep(Math.min(50 * 2 ** attempt, 2000));
      }
      const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = result.UnprocessedItems?.[tableName] ?? [];
    }
  }
}

let defaultStore: DynamoEntitlementStore | undefined;
/** The table named by `KEYSMITH_TABLE_NAME`, with one client per process. */
export function storeFromEnv(client?: DynamoDBClient): DynamoEntitlementStore {
  if (!defaultStore) {
    const table = process.env.KEYSMITH_TABLE_NAME;
    if (!table) throw new Error('KEYSMITH_TABLE_NAME is not set');
    defaultStore = new DynamoEntitlementStore(client ?? new DynamoDBClient({}), table);
  }
  return defaultStore;
}
