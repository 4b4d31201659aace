import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { AppliedEvent, Entitlement, License } from '../domain/entitlement';
import type { FulfillmentEvent, ProviderName } from '../domain/events';
import { keyHash } from '../domain/licenses';
import type { PlacedView } from '../domain/licenseView';
import { TABLE } from '../settings';
import { checkItemBudget } from './itemSize';
import { VIEW_SK } from './storeKeys';

/**
 * The DynamoDB adapter. Under an entitlement's partition (`ENT#{provider}#{scope}`):
 *
 * | sort key          | what                                                                    |
 * |-------------------|-------------------------------------------------------------------------|
 * | `ENT`             | the current state (gzip JSON in `doc`), `version`, GSI keys              |
 * | `EVT#{hash(id)}`  | one applied event's record: what it changed, its email (`claim` mirrored)|
 * | `EVT#bk#{hash}`   | a business key applied (FastSpring resends): points at its event         |
 *
 * Every write of the state is conditional on the version it was computed from, so two writers
 * can never both win: the loser re-reads and re-applies (functions/worker/processEvent.ts). The
 * records are written after the state and never before; docs/data-model.md has the timeline.
 * Global lookups (`KEY#{sha256(key)}`, `LIC#{id}`, `SUB#…`) lead from a key to its order.
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

/** The order and an event's record, read together. */
export interface EventView {
  stored?: StoredEntitlement;
  /** The event's record item, if it has one. */
  record?: AppliedEvent;
  /** Set when the event's business key was applied by another event id. */
  businessKeyOf?: string;
}

export interface EntitlementStore {
  get(provider: ProviderName, scope: string): Promise<StoredEntitlement | undefined>;
  /** One consistent read of the order, the event's record and its business-key marker. */
  getForEvent(provider: ProviderName, scope: string, eventId: string, businessKey?: string): Promise<EventView>;
  /** Write `state` as version `expected + 1` (or as a new item when `expected` is 0). */
  put(state: Entitlement, expected: number): Promise<StoredEntitlement>;
  /**
   * The event's record (as it stands now), its business-key marker and the lookups of these
   * licenses, in one idempotent batch. Used by the delivery that applied the event.
   */
  putRecord(state: Entitlement, record: AppliedEvent, lookups: License[]): Promise<void>;
  /**
   * Write the record only if the event has none yet. True when written; false when a record was
   * already there (then the one there is newer and wins).
   */
  flushRecord(state: Entitlement, record: AppliedEvent): Promise<boolean>;
  /** Replace the record if its email claim is still `expectedClaim` (null: unclaimed). */
  replaceRecord(state: Entitlement, record: AppliedEvent, expectedClaim: string | null): Promise<boolean>;
  getRecord(provider: ProviderName, scope: string, eventId: string): Promise<AppliedEvent | undefined>;
  /** Every record of the order, oldest first (for support tools; reads the whole partition). */
  records(provider: ProviderName, scope: string): Promise<AppliedEvent[]>;
  /** Idempotently write the key-hash and license-id lookup items of these licenses. */
  putLookups(state: Entitlement, licenses: License[]): Promise<void>;
  /**
   * Write these license views (functions/domain/licenseView.ts), each unless a view of the same
   * or a newer order version is already there: an older writer can never undo a newer one.
   */
  putViews(views: PlacedView[]): Promise<void>;
  /**
   * Idempotently link these ids (an event's `links`: payment ids) to the order's scope, in the
   * same items as the subscription link; an id that is the scope itself is skipped.
   */
  putLinks(provider: ProviderName, scope: string, ids: string[]): Promise<void>;
  /** The scope a subscription, or a linked payment id, leads to (see `putLookups`, `putLinks`). */
  findSubscriptionScope(provider: ProviderName, subscriptionId: string): Promise<string | undefined>;
  findByKey(key: string): Promise<LicenseRef | undefined>;
  findByLicenseId(licenseId: string): Promise<LicenseRef | undefined>;
  findByEmail(email: string): Promise<StoredEntitlement[]>;
  findByOrder(provider: ProviderName, orderId: string): Promise<StoredEntitlement[]>;
}

export const entitlementPk = (provider: ProviderName, scope: string): string => `ENT#${provider}#${scope}`;
const ENT_SK = 'ENT';
const hash = (value: string): string => createHash('sha256').update(value).digest('base64url');
export const recordSk = (eventId: string): string => `EVT#${hash(eventId)}`;
export const businessKeySk = (businessKey: string): string => `EVT#bk#${hash(businessKey)}`;

/** Every event an order applied, oldest first: the record items, plus the ones not finished yet. */
export async function appliedEvents(store: Pick<EntitlementStore, 'records'>, state: Entitlement): Promise<AppliedEvent[]> {
  const recorded = await store.records(state.provider, state.scope);
  const ids = new Set(recorded.map((r) => r.eventId));
  return [...recorded, ...state.pending.filter((p) => !ids.has(p.eventId))].sort((a, b) => a.seq - b.seq);
}

export class DynamoEntitlementStore implements EntitlementStore {
  /** The largest item this store wrote, in bytes (tests and the soak report it). */
  largestWrite = { bytes: 0, key: '' };

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(provider: ProviderName, scope: string): Promise<StoredEntitlement | undefined> {
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(entitlementPk(provider, scope), ENT_SK), ConsistentRead: true }));
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async getForEvent(provider: ProviderName, scope: string, eventId: string, businessKey?: string): Promise<EventView> {
    const pk = entitlementPk(provider, scope);
    const keys = [key(pk, ENT_SK), key(pk, recordSk(eventId)), ...(businessKey !== undefined ? [key(pk, businessKeySk(businessKey))] : [])];
    const items: Record<string, AttributeValue>[] = [];
    await untilProcessed(keys, 'reads', async (request) => {
      const result = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: request, ConsistentRead: true } } }));
      items.push(...(result.Responses?.[this.tableName] ?? []));
      return result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    });
    const view: EventView = {};
    for (const item of items) {
      const sk = item[TABLE.sortKey]?.S;
      if (sk === ENT_SK) view.stored = fromItem(item);
      else if (sk === recordSk(eventId)) view.record = recordFromItem(item);
      else if (item.eventId?.S) view.businessKeyOf = item.eventId.S;
    }
    return view;
  }

  async put(state: Entitlement, expected: number): Promise<StoredEntitlement> {
    const version = expected + 1;
    const stored: Entitlement = { ...state, version };
    const item = this.budgeted(toItem(stored));
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ...(expected === 0
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': TABLE.partitionKey } }
            : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': { N: String(expected) } } }),
          // Real DynamoDB returns the winner's item with the failure: saves the re-read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        const old = (error as ConditionalCheckFailedException).Item;
        throw new VersionConflict(old ? fromItem(old) : undefined);
      }
      throw error;
    }
    return { state: stored, version };
  }

  async putRecord(state: Entitlement, record: AppliedEvent, lookups: License[]): Promise<void> {
    const requests: WriteRequest[] = [{ PutRequest: { Item: this.budgeted(recordItem(state, record)) } }];
    if (record.businessKey !== undefined) requests.push({ PutRequest: { Item: businessKeyItem(state, record) } });
    requests.push(...lookupRequests(state, lookups));
    await batchWrite(this.client, this.tableName, requests);
  }

  async flushRecord(state: Entitlement, record: AppliedEvent): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: this.budgeted(recordItem(state, record)),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    // The marker is content-addressed and written by every path that writes a record: idempotent.
    if (record.businessKey !== undefined) await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: businessKeyItem(state, record) }));
    return true;
  }

  async replaceRecord(state: Entitlement, record: AppliedEvent, expectedClaim: string | null): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: this.budgeted(recordItem(state, record)),
          ...(expectedClaim === null
            ? { ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#claim)', ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#claim': 'claim' } }
            : { ConditionExpression: '#claim = :claim', ExpressionAttributeNames: { '#claim': 'claim' }, ExpressionAttributeValues: { ':claim': { S: expectedClaim } } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getRecord(provider: ProviderName, scope: string, eventId: string): Promise<AppliedEvent | undefined> {
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(entitlementPk(provider, scope), recordSk(eventId)), ConsistentRead: true }));
    return result.Item ? recordFromItem(result.Item) : undefined;
  }

  async records(provider: ProviderName, scope: string): Promise<AppliedEvent[]> {
    const out: AppliedEvent[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :evt)',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': { S: entitlementPk(provider, scope) }, ':evt': { S: 'EVT#' } },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of result.Items ?? []) if (item.rec?.S) out.push(recordFromItem(item));
      start = result.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.seq - b.seq);
  }

  async putLookups(state: Entitlement, licenses: License[]): Promise<void> {
    await batchWrite(this.client, this.tableName, lookupRequests(state, licenses));
  }

  async putLinks(provider: ProviderName, scope: string, ids: string[]): Promise<void> {
    const requests = linkRequests([{ provider, scope, links: ids }]);
    if (requests.length > 0) await batchWrite(this.client, this.tableName, requests);
  }

  async putViews(views: PlacedView[]): Promise<void> {
    // Independent conditional writes, a few at a time (an order holds at most 500 licenses).
    const queue = [...views];
    const writeNext = async (): Promise<void> => {
      for (let placed = queue.shift(); placed; placed = queue.shift()) {
        try {
          await this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: this.budgeted(viewItem(placed)),
              ConditionExpression: 'attribute_not_exists(#v) OR #v < :v',
              ExpressionAttributeNames: { '#v': 'v' },
              ExpressionAttributeValues: { ':v': { N: String(placed.view.v) } },
            }),
          );
        } catch (error) {
          // A view of this version or a newer one is there already: nothing to do.
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(VIEW_WRITERS, views.length) }, writeNext));
  }

  async findSubscriptionScope(provider: ProviderName, subscriptionId: string): Promise<string | undefined> {
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(`SUB#${provider}#${subscriptionId}`, 'SUB') }));
    return result.Item?.scope?.S;
  }

  async findByKey(licenseKey: string): Promise<LicenseRef | undefined> {
    return this.getRef(`KEY#${keyHash(licenseKey)}`, 'KEY');
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
    return direct ? [direct, ...indexed.filter((e) => e.state.scope !== direct.state.scope)] : indexed;
  }

  /** Check the budget and remember the largest item written. */
  private budgeted(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
    const itemKey = `${item[TABLE.partitionKey]?.S}/${item[TABLE.sortKey]?.S}`;
    const bytes = checkItemBudget(item, itemKey);
    if (bytes > this.largestWrite.bytes) this.largestWrite = { bytes, key: itemKey };
    return item;
  }

  private async getRef(pk: string, sk: string): Promise<LicenseRef | undefined> {
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(pk, sk) }));
    const item = result.Item;
    if (!item?.provider?.S || !item.scope?.S || !item.licenseId?.S) return undefined;
    return { provider: item.provider.S as ProviderName, scope: item.scope.S, licenseId: item.licenseId.S };
  }

  private async query(index: string, attribute: string, value: string): Promise<StoredEntitlement[]> {
    const out: StoredEntitlement[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: '#k = :v',
          ExpressionAttributeNames: { '#k': attribute },
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

/** Parallel writers for license views. */
const VIEW_WRITERS = 8;

/** A license's VIEW item as the worker writes it (exported for the benchmark's AWS stub). */
export function viewItem({ partition, view }: PlacedView): Record<string, AttributeValue> {
  return { [TABLE.partitionKey]: { S: partition }, [TABLE.sortKey]: { S: VIEW_SK }, v: { N: String(view.v) }, view: { S: JSON.stringify(view) } };
}

function key(pk: string, sk: string): Record<string, AttributeValue> {
  return { [TABLE.partitionKey]: { S: pk }, [TABLE.sortKey]: { S: sk } };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException';
}

/**
 * The state is stored gzip-compressed: an order's licenses repeat most of their fields (product,
 * dates), so a 500-license order takes a few dozen KB instead of a few hundred.
 */
export function toItem(state: Entitlement): Record<string, AttributeValue> {
  const pk = entitlementPk(state.provider, state.scope);
  const item: Record<string, AttributeValue> = {
    ...key(pk, ENT_SK),
    version: { N: String(state.version) },
    status: { S: state.status },
    updatedAt: { S: state.updatedAt },
    doc: { B: gzipSync(JSON.stringify(state)) },
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

export function fromItem(item: Record<string, AttributeValue>): StoredEntitlement {
  const doc = item.doc;
  const json = doc?.B ? gunzipSync(doc.B).toString('utf8') : (doc?.S ?? '{}');
  const state = JSON.parse(json) as Entitlement;
  const version = Number(item.version?.N ?? state.version ?? 0);
  return { state: { ...state, version }, version };
}

function recordItem(state: Pick<Entitlement, 'provider' | 'scope'>, record: AppliedEvent): Record<string, AttributeValue> {
  return {
    ...key(entitlementPk(state.provider, state.scope), recordSk(record.eventId)),
    eventId: { S: record.eventId },
    seq: { N: String(record.seq) },
    // Mirrors `rec.email.claim`, so a claim can be taken over with a condition on it.
    ...(record.email?.claim ? { claim: { S: record.email.claim } } : {}),
    rec: { S: JSON.stringify(record) },
  };
}

function businessKeyItem(state: Pick<Entitlement, 'provider' | 'scope'>, record: AppliedEvent): Record<string, AttributeValue> {
  return { ...key(entitlementPk(state.provider, state.scope), businessKeySk(record.businessKey!)), eventId: { S: record.eventId }, seq: { N: String(record.seq) } };
}

function recordFromItem(item: Record<string, AttributeValue>): AppliedEvent {
  return JSON.parse(item.rec?.S ?? '{}') as AppliedEvent;
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
  // Later events may name only the subscription: this link leads them to the order.
  if (subscription && subscription !== state.scope) requests.push({ PutRequest: { Item: linkItem(state.provider, subscription, state.scope) } });
  return requests;
}

/**
 * The payment links of these events (their `links`, each to the event's own scope), as the ingress
 * writes them with the delivery log. A scope the worker will resolve further (an invoice that
 * leads to a subscription) is one more hop for `followLinks`: the same order in the end.
 */
export function linkRequests(events: readonly Pick<FulfillmentEvent, 'provider' | 'scope' | 'links'>[]): WriteRequest[] {
  return events.flatMap((event) => [...new Set(event.links ?? [])].filter((id) => id !== event.scope).map((id): WriteRequest => ({ PutRequest: { Item: linkItem(event.provider, id, event.scope) } })));
}

/** `SUB#{provider}#{id}` → the order: from a subscription id, or from a payment id (`putLinks`). */
function linkItem(provider: ProviderName, id: string, scope: string): Record<string, AttributeValue> {
  return { [TABLE.partitionKey]: { S: `SUB#${provider}#${id}` }, [TABLE.sortKey]: { S: 'SUB' }, ent: { S: entitlementPk(provider, scope) }, provider: { S: provider }, scope: { S: scope } };
}

/** BatchWriteItem in chunks of 25, retrying what DynamoDB leaves unprocessed. */
export async function batchWrite(client: DynamoDBClient, tableName: string, requests: WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    await untilProcessed(requests.slice(i, i + 25), 'writes', async (pending) => {
      const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      return result.UnprocessedItems?.[tableName] ?? [];
    });
  }
}

/** Call `batch` with `first`, then with what DynamoDB left unprocessed, backing off, up to 8 retries. */
async function untilProcessed<T>(first: T[], what: string, batch: (request: T[]) => Promise<T[]>): Promise<void> {
  let request = first;
  for (let attempt = 0; request.length > 0; attempt++) {
    if (attempt > 0) {
      if (attempt > 8) throw new Error(`DynamoDB left ${request.length} ${what} unprocessed`);
      await sleep(Math.min(50 * 2 ** attempt, 2000));
    }
    request = await batch(request);
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
