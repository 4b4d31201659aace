import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';

/** Benchmark-only stand-in for functions/aws/light/dynamodb.ts, backed by @aws-sdk/client-dynamodb. */

export function dynamodbClient(): DynamoDBClient {
  return new DynamoDBClient({});
}

export async function batchWriteItems(client: DynamoDBClient, tableName: string, requests: WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending = requests.slice(i, i + 25);
    for (let round = 0; pending.length > 0 && round <= 8; round++) {
      const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = result.UnprocessedItems?.[tableName] ?? [];
    }
  }
}
