import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { fromItem } from '../../functions/aws/store';
import type { Entitlement } from '../../functions/domain/entitlement';
import { TABLE } from '../../functions/settings';

/**
 * Every order in the table, a page at a time (a Scan: it reads the whole table once). For the
 * commands that must see all of them: `export` and `migrate`.
 */
export async function scanOrders(dynamodb: DynamoDBClient, tableName: string, page: (orders: Entitlement[]) => Promise<void> | void): Promise<void> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const result = await dynamodb.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#sk = :ent',
        ExpressionAttributeNames: { '#sk': TABLE.sortKey },
        ExpressionAttributeValues: { ':ent': { S: 'ENT' } },
        ExclusiveStartKey: start,
      }),
    );
    await page((result.Items ?? []).map((item) => fromItem(item).state));
    start = result.LastEvaluatedKey;
  } while (start);
}
