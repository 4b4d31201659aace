import { type AttributeValue, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { ProviderName } from '../domain/events';
import { maskEmail } from '../log/logger';
import { QUEUE, TABLE } from '../settings';

/**
 * The last error of a queue message that failed, so `keysmith dlq list` can say why a message
 * ended up in the DLQ — SQS keeps no error with a message, and the logs are in another service.
 *
 * One small item per event (`FAIL#{provider}#{eventId}`), overwritten on every failed attempt,
 * expiring with the DLQ's retention. Keyed by the event rather than the SQS message id: a DLQ
 * redrive gives the message a new id, the event id stays. A body that is not an event at all is
 * keyed by its message id. Written only on the failure path, never when things work.
 */

export interface FailureRecord {
  messageId: string;
  provider?: ProviderName;
  eventId?: string;
  scope?: string;
  /** Deliveries so far, including this one. */
  receiveCount: number;
  error: { name: string; message: string };
  at: Date;
}

export interface StoredFailure {
  messageId: string;
  provider?: string;
  eventId?: string;
  scope?: string;
  receiveCount: number;
  error: { name: string; message: string };
  at: string;
}

export interface FailureLog {
  /** Record the failure; resolves either way (the caller is already handling an error). */
  record(failure: FailureRecord): Promise<void>;
}

const SK = 'FAIL';
/** Error text kept per failure: enough for a stack-less message, small enough to never matter. */
const MAX_MESSAGE = 1000;

export function failurePk(key: { provider?: string; eventId?: string; messageId: string }): string {
  return key.provider && key.eventId ? `FAIL#${key.provider}#${key.eventId}` : `FAIL#msg#${key.messageId}`;
}

export class DynamoFailureLog implements FailureLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  async record(failure: FailureRecord): Promise<void> {
    const item: Record<string, AttributeValue> = {
      [TABLE.partitionKey]: { S: failurePk(failure) },
      [TABLE.sortKey]: { S: SK },
      [TABLE.ttlAttribute]: { N: String(Math.floor(failure.at.getTime() / 1000) + QUEUE.retentionSeconds) },
      messageId: { S: failure.messageId },
      receiveCount: { N: String(failure.receiveCount) },
      errorName: { S: failure.error.name.slice(0, 100) || 'Error' },
      // Masked like the logs: an error message could quote a customer address.
      errorMessage: { S: maskEmail(failure.error.message).slice(0, MAX_MESSAGE) || '(no message)' },
      at: { S: failure.at.toISOString() },
      ...(failure.provider ? { provider: { S: failure.provider } } : {}),
      ...(failure.eventId ? { eventId: { S: failure.eventId } } : {}),
      ...(failure.scope ? { scope: { S: failure.scope } } : {}),
    };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
    } catch (error) {
      this.onError(error);
    }
  }

  /** The last failure recorded for an event (or, for an unreadable body, a message id). */
  async get(key: { provider?: string; eventId?: string; messageId: string }): Promise<StoredFailure | undefined> {
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { [TABLE.partitionKey]: { S: failurePk(key) }, [TABLE.sortKey]: { S: SK } } }));
    const item = result.Item;
    if (!item) return undefined;
    return {
      messageId: item.messageId?.S ?? '',
      ...(item.provider?.S ? { provider: item.provider.S } : {}),
      ...(item.eventId?.S ? { eventId: item.eventId.S } : {}),
      ...(item.scope?.S ? { scope: item.scope.S } : {}),
      receiveCount: Number(item.receiveCount?.N ?? 0),
      error: { name: item.errorName?.S ?? 'Error', message: item.errorMessage?.S ?? '' },
      at: item.at?.S ?? '',
    };
  }
}
