import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB refuses an item over 400 KB, and an entitlement that cannot be written can no longer
 * be refunded. Every item keysmith writes for an order is bounded by design (docs/data-model.md);
 * this checks it before each write, so a breach is a clear, permanent error naming the item
 * instead of a ValidationException on every retry.
 */

/** DynamoDB's own limit. */
export const DYNAMODB_ITEM_LIMIT = 400 * 1024;
/** What keysmith allows itself per item: a margin under the limit. */
export const ITEM_BUDGET_BYTES = 350 * 1024;

export class ItemBudgetExceeded extends Error {
  constructor(
    readonly itemKey: string,
    readonly bytes: number,
  ) {
    super(`item ${itemKey} would be ${bytes} bytes; keysmith's budget is ${ITEM_BUDGET_BYTES} (DynamoDB's limit ${DYNAMODB_ITEM_LIMIT})`);
    this.name = 'ItemBudgetExceeded';
  }
}

/** The size DynamoDB counts: attribute names plus values (UTF-8 strings, raw binary, numbers ~ digits). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name) + valueBytes(value);
  return total;
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.N !== undefined) return Math.ceil(value.N.length / 2) + 1;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueBytes(v), 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + valueBytes(v), 0);
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  return 0;
}

export function checkItemBudget(item: Record<string, AttributeValue>, itemKey: string): number {
  const bytes = itemBytes(item);
  if (bytes > ITEM_BUDGET_BYTES) throw new ItemBudgetExceeded(itemKey, bytes);
  return bytes;
}
