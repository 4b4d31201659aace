import { AwsJsonClient, type AwsJsonClientOptions, type CallOptions } from './AwsJsonClient';

/**
 * DynamoDB BatchWriteItem over its JSON protocol. Items use DynamoDB's attribute-value shape
 * (`{ S }`, `{ N }`, `{ B }`, …) — the SDK's `AttributeValue` — with binary values as bytes; on
 * the wire they are base64, which is what this module converts.
 */

/** The SDK's `WriteRequest`, structurally. */
export type WriteRequestLike = { PutRequest?: { Item?: Record<string, unknown> }; DeleteRequest?: { Key?: Record<string, unknown> } };

interface BatchWriteItemOutput {
  UnprocessedItems?: Record<string, WriteRequestLike[]>;
}

export function dynamodbClient(options: Partial<AwsJsonClientOptions> = {}): AwsJsonClient {
  return new AwsJsonClient({ service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', ...options });
}

/** One attribute value with bytes (`B`, `BS`, nested in `M`/`L`) as base64 strings. */
export function toWire(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  if (v.B !== undefined) return { B: typeof v.B === 'string' ? v.B : Buffer.from(v.B as Uint8Array).toString('base64') };
  if (Array.isArray(v.BS)) return { BS: v.BS.map((b: unknown) => (typeof b === 'string' ? b : Buffer.from(b as Uint8Array).toString('base64'))) };
  if (v.M && typeof v.M === 'object') return { M: toWireItem(v.M as Record<string, unknown>) };
  if (Array.isArray(v.L)) return { L: v.L.map(toWire) };
  return value;
}

export function toWireItem(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) out[name] = toWire(value);
  return out;
}

function toWireRequest(request: WriteRequestLike): WriteRequestLike {
  if (request.PutRequest?.Item) return { PutRequest: { Item: toWireItem(request.PutRequest.Item) } };
  if (request.DeleteRequest?.Key) return { DeleteRequest: { Key: toWireItem(request.DeleteRequest.Key) } };
  return request;
}

/** DynamoDB takes 25 writes per BatchWriteItem. */
const BATCH = 25;
/** Rounds for what DynamoDB leaves unprocessed (same budget as store.ts's SDK path). */
const MAX_ROUNDS = 8;

/**
 * BatchWriteItem in chunks of 25, writing again what DynamoDB leaves unprocessed (it does so
 * under throttling instead of failing the call), with a growing pause, at most 8 times — and
 * never past `options.deadline`.
 */
export async function batchWriteItems(
  client: AwsJsonClient,
  tableName: string,
  requests: WriteRequestLike[],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  options: CallOptions = {},
): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH) {
    let pending: WriteRequestLike[] = requests.slice(i, i + BATCH).map(toWireRequest);
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) {
        const pause = Math.min(50 * 2 ** round, 2000);
        if (round > MAX_ROUNDS || (options.deadline && options.deadline.remainingMs() <= pause)) throw new Error(`DynamoDB left ${pending.length} writes unprocessed`);
        await sleep(pause);
      }
      const output = await client.call<BatchWriteItemOutput>('BatchWriteItem', { RequestItems: { [tableName]: pending } }, options);
      // Unprocessed items come back in wire form (binary already base64).
      pending = output.UnprocessedItems?.[tableName] ?? [];
    }
  }
}
