import { randomBytes, randomUUID } from 'node:crypto';
import { QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { parseActivations } from '../../../functions/aws/licenseApiStore';
import { INSTANCES_SK } from '../../../functions/aws/storeKeys';
import { loadCatalog } from '../../../functions/config/loadCatalog';
import type { Entitlement, License } from '../../../functions/domain/entitlement';
import { fulfillmentEventSchema } from '../../../functions/domain/eventSchema';
import { apiPartition } from '../../../functions/domain/licenseView';
import { type Activations, activationLimit } from '../../../functions/licensing/api';
import { TABLE } from '../../../functions/settings';
import { enqueue, waitForEvents } from '../manual';
import { CliError, EXIT, notFound, type Output, shortTime, table, usageError } from '../output';
import { scanOrders } from '../scanOrders';
import type { Target } from '../target';
import { type LicenseRow, licenseRow } from './licenses';
import { findLicense } from './show';

/**
 * The seller's side of the license API: a license's activations (and freeing them), licenses
 * granted by hand, and an export of every license with its status. Activations live in the
 * license's API partition (functions/aws/licenseApiStore.ts); grants go through the queue like
 * any other event, so they are recorded, emailed and exactly once.
 */

export interface InstanceRow {
  id: string;
  name: string;
  createdAt: string;
  /** Whether it was activated with a fingerprint (only its hash is kept). */
  fingerprint: boolean;
}

/** `keysmith activations <license-id> --json`. */
export interface ActivationsResult {
  licenseId: string;
  status: LicenseRow['status'];
  activationLimit: number;
  activationUsage: number;
  instances: InstanceRow[];
}

async function readActivations(t: Target, license: License): Promise<Activations> {
  const result = await t.dynamodb.send(
    new QueryCommand({
      TableName: t.tableName,
      KeyConditionExpression: '#pk = :pk AND #sk = :sk',
      ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
      ExpressionAttributeValues: { ':pk': { S: apiPartition(license) }, ':sk': { S: INSTANCES_SK } },
      ConsistentRead: true,
    }),
  );
  const item = result.Items?.[0];
  return item ? parseActivations(item) : { instances: {}, usage: 0, exists: false };
}

function instanceRows(activations: Activations): InstanceRow[] {
  return Object.values(activations.instances)
    .sort((a, b) => a.created - b.created || a.id.localeCompare(b.id))
    .map((i) => ({ id: i.id, name: i.name, createdAt: new Date(i.created * 1000).toISOString(), fingerprint: i.fp !== undefined }));
}

/** `keysmith activations <license-id>`: the machines a license is activated on. */
export async function activations(licenseId: string, target: () => Promise<Target>, out: Output): Promise<void> {
  const t = await target();
  const { stored, license } = await findLicense(t, licenseId);
  const found = await readActivations(t, license);
  const row = licenseRow(stored.state, license);
  const result: ActivationsResult = { licenseId: license.licenseId, status: row.status, activationLimit: activationLimit(license), activationUsage: found.usage, instances: instanceRows(found) };
  out.result(result, () => {
    const head = `${license.licenseId}: ${result.activationUsage} of ${result.activationLimit} seat(s) in use (${row.status})`;
    if (result.instances.length === 0) return `${head}\nno activations`;
    return `${head}\n${table([['INSTANCE', 'NAME', 'ACTIVATED', 'FINGERPRINT'], ...result.instances.map((i) => [i.id, i.name, shortTime(i.createdAt), i.fingerprint ? 'yes' : 'no'])])}`;
  });
}

/** `keysmith deactivate <license-id> --json`. */
export interface DeactivateResult {
  licenseId: string;
  deactivated: string[];
  activationUsage: number;
}

/** `keysmith deactivate <license-id> (--instance ID | --all)`: free seats (the app's next validate of that instance fails). */
export async function deactivate(licenseId: string, options: { instance?: string; all: boolean }, target: () => Promise<Target>, out: Output): Promise<void> {
  if ((options.instance === undefined) === !options.all) throw usageError('deactivate needs exactly one of --instance ID or --all');
  const t = await target();
  const { license } = await findLicense(t, licenseId);
  const before = await readActivations(t, license);
  const key = { [TABLE.partitionKey]: { S: apiPartition(license) }, [TABLE.sortKey]: { S: INSTANCES_SK } };
  // Each removal is conditional on its instance, so one running at the same time as an app's
  // activation never loses a count; instances added meanwhile stay.
  const remove = (id: string) =>
    conditional(() =>
      t.dynamodb.send(
        new UpdateItemCommand({
          TableName: t.tableName,
          Key: key,
          UpdateExpression: 'REMOVE #i.#id SET #n = #n - :one',
          ConditionExpression: 'attribute_exists(#i.#id)',
          ExpressionAttributeNames: { '#i': 'i', '#n': 'n', '#id': id },
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      ),
    );
  if (options.instance !== undefined && !before.instances[options.instance]) {
    throw notFound(`${license.licenseId} has no activation ${options.instance} (\`keysmith activations ${license.licenseId}\` lists them)`);
  }
  const removed: string[] = [];
  for (const id of options.instance !== undefined ? [options.instance] : Object.keys(before.instances)) if (await remove(id)) removed.push(id);
  const after = await readActivations(t, license);
  const result: DeactivateResult = { licenseId: license.licenseId, deactivated: removed, activationUsage: after.usage };
  out.result(result, () => (removed.length === 0 ? `${license.licenseId}: nothing to deactivate` : `${license.licenseId}: deactivated ${removed.join(', ')}; ${after.usage} seat(s) still in use`));
}

/** True when the write happened; false when its condition did not hold. */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

export interface GrantOptions {
  email?: string;
  product?: string;
  seats?: string;
  days?: string;
  note?: string;
  name?: string;
  wait: boolean;
  timeoutSeconds: number;
}

/** `keysmith grant --json`: the order the grant made and its licenses (absent with --no-wait). */
export interface GrantResult {
  order: string;
  eventId: string;
  applied: boolean;
  licenses?: LicenseRow[];
  email?: string;
}

const MAX_NOTE = 170;

/**
 * `keysmith grant --email E --product P [--seats N] [--days D] --note TEXT`: a license the seller
 * gives (a reviewer, a replacement). It is an order of the `manual` provider, applied by the worker
 * like any storefront's — recorded with the note, emailed with the product's template, exactly once.
 */
export async function grant(options: GrantOptions, target: () => Promise<Target>, out: Output): Promise<void> {
  const email = options.email?.trim();
  if (!email || !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(email)) throw usageError('grant needs --email ADDRESS (where the license is sent)');
  if (!options.note?.trim()) throw usageError('grant needs --note TEXT (why it was given; kept in the license history)');
  const catalog = loadCatalog();
  const product = options.product;
  if (!product || !Object.hasOwn(catalog.products, product)) throw usageError(`grant needs --product with a product id of the catalog: ${Object.keys(catalog.products).join(', ')}`);
  const seats = wholeNumber(options.seats, '--seats', 100_000);
  const days = wholeNumber(options.days, '--days', 36_500);
  const t = await target();
  const scope = `grant-${randomBytes(6).toString('hex')}`;
  const event = fulfillmentEventSchema.parse({
    provider: 'manual',
    eventId: `manual#grant#${randomUUID()}`,
    occurredAt: new Date().toISOString(),
    action: 'grant',
    reason: `manual: grant: ${options.note.trim().slice(0, MAX_NOTE)}`,
    scope,
    live: true,
    customer: { email, ...(options.name?.trim() ? { name: options.name.trim() } : {}) },
    items: [{ productId: product, quantity: 1 }],
    by: 'seller',
    terms: { ...(seats !== undefined ? { seats } : {}), ...(days !== undefined ? { days } : {}) },
  });
  await enqueue(t, [event]);
  out.note(`grant of ${product} to ${email} enqueued as order ${scope} (${t.label})`);
  const base: GrantResult = { order: scope, eventId: event.eventId, applied: false };
  if (!options.wait) {
    out.result(base, () => `grant enqueued as order ${scope}; not waiting (--no-wait)`);
    return;
  }
  const [done] = await waitForEvents(t, [{ provider: 'manual', scope, eventId: event.eventId }], { timeoutSeconds: options.timeoutSeconds }, out);
  const state: Entitlement = done!.state;
  const rows = state.licenses.map((l) => licenseRow(state, l));
  const result: GrantResult = { ...base, applied: true, licenses: rows, ...(done!.applied.email ? { email: done!.applied.email.status } : {}) };
  if (rows.length === 0) {
    out.result(result, () => `grant of order ${scope} was recorded but issued nothing: ${done!.applied.problem?.message ?? 'see keysmith show'}`);
    throw new CliError(`no license issued (${done!.applied.problem?.code ?? 'unknown'})`, EXIT.failed);
  }
  out.result(result, () =>
    [
      `granted ${rows.length} license(s) in order ${scope} (email ${result.email ?? 'none'})`,
      table([
        ['LICENSE', 'PRODUCT', 'SEATS', 'EXPIRES', 'KEY'],
        ...rows.map((r) => [r.licenseId, r.product, String(r.seats), r.expiresAt?.slice(0, 10) ?? 'never', r.key.length > 40 ? `${r.key.slice(0, 37)}...` : r.key]),
      ]),
    ].join('\n'),
  );
}

function wholeNumber(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > max) throw usageError(`${name} must be a whole number from 1 to ${max}`);
  return n;
}

export const EXPORT_COLUMNS = ['license_id', 'provider', 'order', 'product', 'status', 'seats', 'issued_at', 'expires_at', 'customer_email', 'live', 'key'] as const;

/**
 * `keysmith export [--format csv|json]`: every license with its status, on stdout. Reads every
 * order of the table (a Scan: on a large deployed table it takes a while and reads the table once).
 */
export async function exportLicenses(options: { format?: string }, target: () => Promise<Target>, out: Output): Promise<void> {
  const format = options.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw usageError('--format must be csv or json');
  const t = await target();
  const rows: LicenseRow[] = [];
  const progress = out.progress('reading orders');
  await scanOrders(t.dynamodb, t.tableName, (states) => {
    for (const state of states) for (const license of state.licenses) rows.push(licenseRow(state, license));
    progress.tick(states.length);
  });
  progress.done(`${rows.length} license(s)`);
  rows.sort((a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.licenseId.localeCompare(b.licenseId));
  if (format === 'json' || out.json) {
    out.result(rows, () => JSON.stringify(rows, null, 2));
    return;
  }
  process.stdout.write(toCsv(rows));
}

/** RFC 4180 CSV; a cell that a spreadsheet would run as a formula is prefixed with `'`. */
export function toCsv(rows: LicenseRow[]): string {
  const cell = (value: string): string => {
    const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [r.licenseId, r.provider, r.order, r.product, r.status, String(r.seats), r.issuedAt, r.expiresAt ?? '', r.customer, String(r.live), r.key]
        // Control characters never reach the file (a terminal or a spreadsheet could act on them).
        .map((v) => cell(v.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '')))
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
