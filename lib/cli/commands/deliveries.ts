import { gunzipSync } from 'node:zlib';
import { type AttributeValue, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { deliveryPk } from '../../../functions/aws/deliveryLog';
import type { AppliedEvent, Entitlement } from '../../../functions/domain/entitlement';
import type { Action, ProviderName } from '../../../functions/domain/events';
import { PROVIDER_NAMES } from '../../../functions/providers/registry';
import { DELIVERY_LOG, TABLE } from '../../../functions/settings';
import { findEntitlement } from '../manual';
import { CliError, EXIT, notFound, type Output, shortTime, table, usageError } from '../output';
import type { Target } from '../target';
import { checkProvider } from './licenses';

/**
 * The delivery log: every verified webhook request (functions/aws/deliveryLog.ts), found by day
 * through the `gsi3` index, with a status derived from the entitlements its events went to.
 *
 * Status of one event:
 *   applied  the worker recorded it (its id is in the entitlement), and its email — if it owed
 *            one — was sent
 *   pending  not recorded yet, or its email is not sent yet: still in the queue, retrying, or in
 *            the DLQ (`keysmith dlq list`). A provider resend that the worker dropped as a
 *            duplicate of an earlier delivery (same business key, new event id) also stays here.
 *   problem  recorded, with a permanent problem (e.g. UNKNOWN_PRODUCT) or a failed email
 * Status of a delivery: `pending` if any event is pending, else `problem` if any has a problem,
 * else `applied`; `empty` for a delivery that carried no event (an ignored webhook type).
 */

export const DELIVERY_STATUSES = ['applied', 'pending', 'problem', 'empty'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type EventStatus = Exclude<DeliveryStatus, 'empty'>;

/** One delivery (`deliveries --json` prints an array of these). */
export interface DeliveryRow {
  deliveryId: string;
  provider: ProviderName;
  receivedAt: string;
  /** The route, e.g. `POST /webhooks/fastspring` (never a raw path: Selldone's carries its secret). */
  route: string;
  status: DeliveryStatus;
  /** Problem codes of its events (UNKNOWN_PRODUCT, INVALID_ADDRESS, …). */
  problems: string[];
  events: DeliveryEvent[];
}

export interface DeliveryEvent {
  eventId: string;
  action: Action;
  reason: string;
  scope: string;
  status: EventStatus;
  /** The order the event went to (differs from scope when a subscription led to its order). */
  order?: string;
  problem?: { code: string; message: string };
  email?: { status: string; messageId?: string; error?: string };
}

export interface DeliveriesOptions {
  provider?: string;
  since?: string;
  until?: string;
  status?: string;
  limit?: string;
  order?: string;
}

/** Attributes read for a listing: everything but the payload. */
const LIST_ATTRIBUTES = ['provider', 'deliveryId', 'receivedAt', 'route', 'events'];

/** What `readDeliveries` selects. */
export interface DeliveryFilter {
  provider?: ProviderName;
  since: Date;
  until: Date;
  statuses?: DeliveryStatus[];
  limit: number;
  /** Only deliveries with an event for this order (its id, or the scope it went to). */
  order?: string;
  /**
   * Only deliveries with an event on one of these scopes, checked before anything else is read
   * (the console's order page: an order's scope, order id and subscription id).
   */
  scopes?: ReadonlySet<string>;
  /** Read only these UTC days (`yyyy-mm-dd`) instead of every day from `since` to `until`. */
  days?: string[];
}

/** `keysmith deliveries [--provider P] [--since 24h|ISO] [--until ISO] [--status S] [--order ID] [--limit N]`. */
export async function deliveries(options: DeliveriesOptions, target: () => Promise<Target>, out: Output): Promise<void> {
  const provider = checkProvider(options.provider);
  const now = new Date();
  const since = parseSince(options.since ?? '24h', now, '--since');
  const until = options.until ? parseSince(options.until, now, '--until') : now;
  if (since > until) throw usageError('--since is after --until');
  const statuses = parseStatuses(options.status);
  const limit = parseLimit(options.limit, 50);
  const t = await target();

  const progress = out.progress('reading the delivery log');
  const rows = await readDeliveries(t, { since, until, limit, ...(provider ? { provider } : {}), ...(statuses ? { statuses } : {}), ...(options.order ? { order: options.order } : {}) }, () =>
    progress.tick(),
  );
  progress.done(`reading the delivery log: ${rows.length} matching deliveries`);
  out.result(rows, () =>
    rows.length === 0
      ? `no deliveries ${describeFilter(options, since, until)}`
      : table([
          ['RECEIVED', 'PROVIDER', 'STATUS', 'EVENTS', 'ORDER', 'DELIVERY'],
          ...rows.map((r) => [
            shortTime(r.receivedAt),
            r.provider,
            r.status + (r.problems.length ? ` (${r.problems.join(',')})` : ''),
            r.events.map((e) => `${e.action}:${e.reason}`).join(' ') || '-',
            [...new Set(r.events.map((e) => e.order ?? e.scope))].join(' ') || '-',
            r.deliveryId,
          ]),
        ]),
  );
}

/** The delivery log, newest first, with each delivery's status (the CLI's `deliveries` and the console). */
export async function readDeliveries(t: Target, filter: DeliveryFilter, onItem: () => void = () => undefined): Promise<DeliveryRow[]> {
  const { since, until, provider, statuses, limit } = filter;
  const rows: DeliveryRow[] = [];
  const cache = new Map<string, Promise<Entitlement | undefined>>();
  const days = filter.days ? [...new Set(filter.days)].sort() : daysBetween(since, until);
  // Newest day first; within a day newest first; stop as soon as `limit` rows matched.
  outer: for (const day of days.reverse()) {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await t.dynamodb.send(
        new QueryCommand({
          TableName: t.tableName,
          IndexName: TABLE.deliveryIndex.name,
          KeyConditionExpression: '#pk = :day AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': TABLE.deliveryIndex.partitionKey, '#sk': TABLE.deliveryIndex.sortKey, ...names(LIST_ATTRIBUTES) },
          ExpressionAttributeValues: { ':day': { S: `DLV#${day}` }, ':from': { S: since.toISOString() }, ':to': { S: `${until.toISOString()}~` } },
          ProjectionExpression: LIST_ATTRIBUTES.map((_, i) => `#a${i}`).join(', '),
          ScanIndexForward: false,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        onItem();
        if (provider && item.provider?.S !== provider) continue;
        if (filter.scopes && !parseEvents(item.events?.S).some((e) => filter.scopes!.has(e.scope))) continue;
        const row = await deliveryRow(t, item, cache);
        if (filter.order && !row.events.some((e) => e.scope === filter.order || e.order === filter.order)) continue;
        if (statuses && !statuses.includes(row.status)) continue;
        rows.push(row);
        if (rows.length >= limit) break outer;
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return rows;
}

/** A stored delivery with the full payload, for `replay`. */
export interface StoredDelivery {
  provider: ProviderName;
  deliveryId: string;
  receivedAt: Date;
  route: string;
  contentType?: string;
  payload: Buffer;
  /** `live` is absent in deliveries logged before it was recorded. */
  events: { eventId: string; action: Action; reason: string; scope: string; live?: boolean }[];
}

/** Reads one delivery by id; without `provider`, tries each provider (one GetItem each). */
export async function getDelivery(t: Target, deliveryId: string, provider?: ProviderName): Promise<StoredDelivery> {
  for (const p of provider ? [provider] : PROVIDER_NAMES) {
    const { Item } = await t.dynamodb.send(new GetItemCommand({ TableName: t.tableName, Key: { [TABLE.partitionKey]: { S: deliveryPk(p, deliveryId) }, [TABLE.sortKey]: { S: 'DLV' } } }));
    if (!Item) continue;
    const raw = Item.payload?.B;
    return {
      provider: p,
      deliveryId,
      receivedAt: new Date(Item.receivedAt?.S ?? 0),
      route: Item.route?.S ?? '',
      ...(Item.contentType?.S ? { contentType: Item.contentType.S } : {}),
      payload: raw ? gunzipSync(Buffer.from(raw)) : Buffer.alloc(0),
      events: parseEvents(Item.events?.S),
    };
  }
  throw notFound(`no delivery ${deliveryId} in the ${t.label} (the log keeps ${DELIVERY_LOG.retentionDays} days; \`keysmith deliveries\` lists them)`);
}

async function deliveryRow(t: Target, item: Record<string, AttributeValue>, cache: Map<string, Promise<Entitlement | undefined>>): Promise<DeliveryRow> {
  const provider = item.provider?.S as ProviderName;
  const events: DeliveryEvent[] = [];
  for (const e of parseEvents(item.events?.S)) {
    const key = `${provider}#${e.scope}`;
    if (!cache.has(key))
      cache.set(
        key,
        findEntitlement(t, provider, e.scope).then((s) => s?.state),
      );
    const state = await cache.get(key)!;
    const record = state ? ((await t.store.getRecord(state.provider, state.scope, e.eventId)) ?? state.pending.find((p) => p.eventId === e.eventId)) : undefined;
    events.push(eventStatus(e, state, record));
  }
  const problems = [...new Set(events.flatMap((e) => (e.problem ? [e.problem.code] : [])))];
  const status: DeliveryStatus = events.length === 0 ? 'empty' : events.some((e) => e.status === 'pending') ? 'pending' : events.some((e) => e.status === 'problem') ? 'problem' : 'applied';
  return { deliveryId: item.deliveryId?.S ?? '', provider, receivedAt: item.receivedAt?.S ?? '', route: item.route?.S ?? '', status, problems, events };
}

export function eventStatus(e: StoredDelivery['events'][number], state: Entitlement | undefined, applied: AppliedEvent | undefined): DeliveryEvent {
  const base = { eventId: e.eventId, action: e.action, reason: e.reason, scope: e.scope };
  if (!state || !applied) return { ...base, status: 'pending' };
  const order = state.orderId ?? state.scope;
  const email = applied.email
    ? { status: applied.email.status, ...(applied.email.messageId ? { messageId: applied.email.messageId } : {}), ...(applied.email.error ? { error: applied.email.error } : {}) }
    : undefined;
  const problem = applied.problem ?? (applied.email?.status === 'failed' ? { code: 'EMAIL_FAILED', message: applied.email.error ?? 'the email was not sent' } : undefined);
  const status: EventStatus = problem ? 'problem' : applied.email?.status === 'pending' ? 'pending' : 'applied';
  return { ...base, status, order, ...(problem ? { problem } : {}), ...(email ? { email } : {}) };
}

function parseEvents(text: string | undefined): StoredDelivery['events'] {
  try {
    const parsed = JSON.parse(text ?? '[]') as StoredDelivery['events'];
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

function names(attributes: string[]): Record<string, string> {
  return Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a]));
}

/** `30m`, `24h`, `7d` back from now, or an ISO date/time. */
export function parseSince(value: string, now: Date, flag: string): Date {
  const relative = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/.exec(value.trim());
  if (relative) {
    const ms = Number(relative[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - ms);
  }
  const at = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(at)) throw usageError(`${flag} must be like 30m, 24h, 7d or an ISO date (2024-05-01 or 2024-05-01T10:00:00Z), not "${value}"`);
  return new Date(at);
}

export function parseStatuses(value: string | undefined): DeliveryStatus[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((s) => !(DELIVERY_STATUSES as readonly string[]).includes(s));
  if (bad.length > 0 || list.length === 0) throw usageError(`--status must be one or more of ${DELIVERY_STATUSES.join(', ')} (comma-separated), not "${value}"`);
  return list as DeliveryStatus[];
}

export function parseLimit(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usageError(`--limit must be a positive whole number, not "${value}"`);
  return n;
}

/** UTC days `yyyy-mm-dd` from `since` to `until`, oldest first (at most a year: the log keeps far less). */
export function daysBetween(since: Date, until: Date): string[] {
  const days: string[] = [];
  const start = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate());
  for (let t = start; t <= until.getTime() && days.length < 366; t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  if (days.length >= 366) throw new CliError('--since reaches back more than a year; the delivery log keeps 30 days', EXIT.usage);
  return days;
}

function describeFilter(options: DeliveriesOptions, since: Date, until: Date): string {
  const parts = [`between ${shortTime(since.toISOString())} and ${shortTime(until.toISOString())} UTC`];
  if (options.provider) parts.push(`from ${options.provider}`);
  if (options.status) parts.push(`with status ${options.status}`);
  if (options.order) parts.push(`for order ${options.order}`);
  return parts.join(' ');
}
