import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoEntitlementStore } from '../../../functions/aws/store';
import { viewsToWrite } from '../../../functions/domain/licenseView';
import type { Output } from '../output';
import { scanOrders } from '../scanOrders';
import type { Target } from '../target';

/**
 * Upgrades what a table written by an older keysmith lacks. Today: the license API's view of
 * every license (functions/domain/licenseView.ts), which the worker writes only when a license
 * changes — so licenses issued before the license API existed would answer NOT_FOUND until then.
 * Every write is conditional on the order's version, so running it again, or while orders keep
 * arriving, changes nothing the worker wrote since.
 */
export async function backfillViews(
  dynamodb: DynamoDBClient,
  tableName: string,
  store: DynamoEntitlementStore,
  onPage?: (orders: number, views: number) => void,
): Promise<{ orders: number; views: number }> {
  let orders = 0;
  let views = 0;
  await scanOrders(dynamodb, tableName, async (states) => {
    for (const state of states) {
      const placed = viewsToWrite(undefined, state, true);
      await store.putViews(placed);
      orders++;
      views += placed.length;
    }
    onPage?.(orders, views);
  });
  return { orders, views };
}

/** `keysmith migrate`: run after upgrading a deployed stack (docs/deploying.md). */
export async function migrate(target: () => Promise<Target>, out: Output): Promise<void> {
  const t = await target();
  const progress = out.progress('writing license views');
  const result = await backfillViews(t.dynamodb, t.tableName, t.store, (orders) => progress.update(orders));
  progress.done(`${result.orders} order(s) checked`);
  out.result(result, () => `license views: ${result.views} license(s) in ${result.orders} order(s) checked (${t.label}); the license API now answers for all of them`);
}
