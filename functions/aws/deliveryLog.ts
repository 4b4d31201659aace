import { gzipSync } from 'node:zlib';
import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import type { Entitlement, License } from '../domain/entitlement';
import type { FulfillmentEvent, ProviderName } from '../domain/events';
import { DELIVERY_LOG, TABLE } from '../settings';
import type { Deadline } from './deadline';
import type { AwsJsonClient } from './light/AwsJsonClient';
import { batchWriteItems, dynamodbClient } from './light/dynamodb';
import { batchWrite, linkRequests, lookupRequests } from './store';

/**
 * The delivery log: one item per verified webhook request — who called, when, which events it
 * carried, and the raw payload (gzip) for forensics and `keysmith replay`. Rejected requests are
 * never stored (they are counted in metrics and logged without payload).
 *
 * The ingress writes it in the same BatchWriteItem as the lookup items of the licenses a grant
 * will produce (they are derived, so the ingress can compute them exactly), before it enqueues:
 * one call that saves the worker its own lookup write.
 */

export interface DeliveryRecord {
  provider: ProviderName;
  deliveryId: string;
  receivedAt: Date;
  /** The route, never the raw path (Selldone's path carries its secret). */
  route: string;
  /** GET query string or POST body as received, less any credential in it (Provider.logPayload). */
  payload: Buffer;
  contentType?: string;
  events: FulfillmentEvent[];
}

/** Licenses a grant will issue, as the ingress predicted them. */
export interface PredictedLicenses {
  state: Pick<Entitlement, 'provider' | 'scope' | 'subscription'>;
  licenses: Pick<License, 'licenseId' | 'key'>[];
}

export interface DeliveryLog {
  /**
   * Write the record and the predicted lookups; resolves false (never throws) when it could not,
   * at the latest at `options.deadline`.
   */
  record(record: DeliveryRecord, predicted: PredictedLicenses[], options?: RecordOptions): Promise<boolean>;
}

export interface RecordOptions {
  deadline?: Deadline;
}

export const deliveryPk = (provider: ProviderName, deliveryId: string): string => `DLV#${provider}#${deliveryId}`;

export function deliveryItem(record: DeliveryRecord, retentionDays: number = DELIVERY_LOG.retentionDays): Record<string, AttributeValue> {
  const receivedAt = record.receivedAt.toISOString();
  return {
    [TABLE.partitionKey]: { S: deliveryPk(record.provider, record.deliveryId) },
    [TABLE.sortKey]: { S: 'DLV' },
    [TABLE.deliveryIndex.partitionKey]: { S: `DLV#${receivedAt.slice(0, 10)}` },
    [TABLE.deliveryIndex.sortKey]: { S: `${receivedAt}#${record.provider}#${record.deliveryId}` },
    [TABLE.ttlAttribute]: { N: String(Math.floor(record.receivedAt.getTime() / 1000) + retentionDays * 86_400) },
    provider: { S: record.provider },
    deliveryId: { S: record.deliveryId },
    receivedAt: { S: receivedAt },
    route: { S: record.route },
    ...(record.contentType ? { contentType: { S: record.contentType } } : {}),
    // Event ids, actions and scopes: what support needs to follow a delivery to its orders; and
    // whether each was live, which `keysmith replay` cannot always tell again from the payload
    // (Paddle Billing: only which secret signed says sandbox, and the signature is not logged).
    events: { S: JSON.stringify(record.events.map((e) => ({ eventId: e.eventId, action: e.action, reason: e.reason, scope: e.scope, live: e.live }))) },
    payload: { B: gzipSync(record.payload) },
  };
}

/** The delivery record and the predicted lookup items: one BatchWriteItem's worth (≤ 25 unless a grant is huge). */
export function deliveryWrites(record: DeliveryRecord, predicted: PredictedLicenses[], retentionDays: number = DELIVERY_LOG.retentionDays): WriteRequest[] {
  const requests: WriteRequest[] = [{ PutRequest: { Item: deliveryItem(record, retentionDays) } }];
  for (const p of predicted) requests.push(...lookupRequests(p.state, p.licenses));
  requests.push(...linkRequests(record.events));
  return requests;
}

export class DynamoDeliveryLog implements DeliveryLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionDays: number = DELIVERY_LOG.retentionDays,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  async record(record: DeliveryRecord, predicted: PredictedLicenses[], options: RecordOptions = {}): Promise<boolean> {
    try {
      const write = batchWrite(this.client, this.tableName, deliveryWrites(record, predicted, this.retentionDays));
      // store.ts's batchWrite takes no signal; a late write is harmless (the same items, idempotent).
      await (options.deadline ? options.deadline.race(write, 'the delivery log write') : write);
      return true;
    } catch (error) {
      // The log is for people; the event still goes to the queue and the worker writes lookups.
      this.onError(error);
      return false;
    }
  }
}

/**
 * The same log through keysmith's light AWS client (functions/aws/light) instead of
 * @aws-sdk/client-dynamodb: what the ingress Lambdas use, so their bundles carry no SDK.
 */
export class LightDeliveryLog implements DeliveryLog {
  constructor(
    private readonly client: AwsJsonClient,
    private readonly tableName: string,
    private readonly retentionDays: number = DELIVERY_LOG.retentionDays,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  async record(record: DeliveryRecord, predicted: PredictedLicenses[], options: RecordOptions = {}): Promise<boolean> {
    try {
      await batchWriteItems(this.client, this.tableName, deliveryWrites(record, predicted, this.retentionDays), undefined, options);
      return true;
    } catch (error) {
      this.onError(error);
      return false;
    }
  }
}

let defaultLog: DeliveryLog | undefined;
/** The delivery log in the table named by `KEYSMITH_TABLE_NAME` (light client); a no-op without one. */
export function deliveryLogFromEnv(onError?: (error: unknown) => void): DeliveryLog {
  if (!defaultLog) {
    const table = process.env.KEYSMITH_TABLE_NAME;
    const days = Number(process.env.KEYSMITH_DELIVERY_LOG_DAYS ?? DELIVERY_LOG.retentionDays);
    defaultLog = table ? new LightDeliveryLog(dynamodbClient(), table, Number.isFinite(days) && days > 0 ? days : DELIVERY_LOG.retentionDays, onError) : { record: async () => false };
  }
  return defaultLog;
}

export function forgetDeliveryLog(): void {
  defaultLog = undefined;
}
