import { gunzipSync } from 'node:zlib';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AppliedEvent, Entitlement } from '../../functions/domain/entitlement';
import type { ProviderName } from '../../functions/domain/events';
import { PROVIDER_NAMES } from '../../functions/providers/registry';
import { TABLE } from '../../functions/settings';
import { depth } from '../cli/commands/dlq';
import type { Target } from '../cli/target';

/**
 * The overview's numbers: orders, licenses and emails per UTC day and provider, and what needs
 * attention. The table has no index by date for orders (nothing in the pipeline needs one), so
 * this reads the order and event-record items with one paginated Scan, projected to the few
 * attributes it needs and capped at SCAN_LIMIT items (the page says when it stopped early). On
 * the local stack that is a fraction of a second for thousands of orders; on AWS it costs about
 * one read unit per 8 KB scanned (cents for a large table) and only when the page is opened.
 */

export const SCAN_LIMIT = 200_000;
const SEGMENTS = 4;

export type Counts = Record<string, Record<ProviderName, number>>;

export interface AttentionItem {
  kind: 'email failed' | 'bounce' | 'complaint' | 'problem';
  at: string;
  provider: ProviderName;
  scope: string;
  order: string;
  detail: string;
}

export interface Overview {
  /** The days shown, oldest first (`yyyy-mm-dd`). */
  days: string[];
  orders: Counts;
  licenses: Counts;
  emails: Counts;
  /** Per provider with at least one order. */
  totals: Record<ProviderName, { orders: number; licenses: number; emails: number; active: number }>;
  attention: AttentionItem[];
  dlqDepth: number;
  queueDepth: number;
  rejected: { since?: string; byProvider: { provider: string; status: number; count: number }[]; note?: string };
  scanned: number;
  truncated: boolean;
}

export async function readOverview(t: Target, now: Date, dayCount = 14): Promise<Overview> {
  const days = Array.from({ length: dayCount }, (_, i) => new Date(now.getTime() - (dayCount - 1 - i) * 86_400_000).toISOString().slice(0, 10));
  const shown = new Set(days);
  const overview: Overview = {
    days,
    orders: {},
    licenses: {},
    emails: {},
    totals: {},
    attention: [],
    dlqDepth: 0,
    queueDepth: 0,
    rejected: { byProvider: [] },
    scanned: 0,
    truncated: false,
  };
  const add = (counts: Counts, at: string | undefined, provider: ProviderName, n = 1): void => {
    const day = at?.slice(0, 10);
    if (!day || !shown.has(day)) return;
    const row = (counts[day] ??= {});
    row[provider] = (row[provider] ?? 0) + n;
  };
  const orders = new Map<string, Entitlement>();
  const records: { provider: ProviderName; scope: string; record: AppliedEvent }[] = [];
  const read = (item: Record<string, AttributeValue>): void => {
    const pk = item[TABLE.partitionKey]?.S ?? '';
    const [, provider, ...rest] = pk.split('#');
    const scope = rest.join('#');
    if (!provider || !PROVIDER_NAMES.includes(provider)) return;
    try {
      if (item.doc) {
        orders.set(pk, JSON.parse(item.doc.B ? gunzipSync(item.doc.B).toString('utf8') : (item.doc.S ?? '{}')) as Entitlement);
      } else if (item.rec?.S) {
        records.push({ provider: provider as ProviderName, scope, record: JSON.parse(item.rec.S) as AppliedEvent });
      }
    } catch {
      // An item this version cannot read is left out of the counts, not a failed page.
    }
  };

  // Segments in parallel: the table's reads and this process's unzipping overlap.
  await Promise.all(
    Array.from({ length: SEGMENTS }, async (_, segment) => {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await t.dynamodb.send(
          new ScanCommand({
            TableName: t.tableName,
            Segment: segment,
            TotalSegments: SEGMENTS,
            FilterExpression: '#sk = :ent OR (begins_with(#sk, :evt) AND attribute_exists(#rec))',
            ProjectionExpression: '#pk, #sk, #doc, #rec',
            ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey, '#doc': 'doc', '#rec': 'rec' },
            ExpressionAttributeValues: { ':ent': { S: 'ENT' }, ':evt': { S: 'EVT#' } },
            ExclusiveStartKey: start,
          }),
        );
        overview.scanned += page.ScannedCount ?? 0;
        for (const item of page.Items ?? []) read(item);
        start = page.LastEvaluatedKey;
        if (start && overview.scanned >= SCAN_LIMIT) {
          overview.truncated = true;
          break;
        }
      } while (start);
    }),
  );

  for (const state of orders.values()) {
    add(overview.orders, state.createdAt, state.provider);
    const total = (overview.totals[state.provider] ??= { orders: 0, licenses: 0, emails: 0, active: 0 });
    total.orders++;
    for (const license of state.licenses) {
      add(overview.licenses, license.issuedAt, state.provider);
      total.licenses++;
      if (license.status === 'active') total.active++;
    }
    // Events not yet written as their own record item are still in `pending`.
    for (const record of state.pending) records.push({ provider: state.provider, scope: state.scope, record });
  }
  const seen = new Set<string>();
  for (const { provider, scope, record } of records) {
    const key = `${provider}#${scope}#${record.eventId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const state = orders.get(`ENT#${provider}#${scope}`);
    const order = state?.orderId ?? scope;
    if (record.email?.status === 'sent') {
      add(overview.emails, record.email.sentAt ?? record.appliedAt, provider);
      const total = (overview.totals[provider] ??= { orders: 0, licenses: 0, emails: 0, active: 0 });
      total.emails++;
    }
    const base = { at: record.appliedAt, provider, scope, order };
    if (record.email?.status === 'failed') overview.attention.push({ ...base, kind: 'email failed', detail: record.email.error ?? 'the email was not sent' });
    if (record.problem) overview.attention.push({ ...base, kind: 'problem', detail: `${record.problem.code}: ${record.problem.message}` });
    if (record.reason === 'ses.bounce') overview.attention.push({ ...base, kind: 'bounce', detail: `permanent bounce (${record.occurredAt})` });
    if (record.reason === 'ses.complaint') overview.attention.push({ ...base, kind: 'complaint', detail: 'the customer marked the email as spam' });
  }
  overview.attention.sort((a, b) => b.at.localeCompare(a.at));

  [overview.dlqDepth, overview.queueDepth] = await Promise.all([depth(t, t.dlqUrl), depth(t, t.queueUrl)]);
  overview.rejected = await readRejections(t);
  return overview;
}

/**
 * Rejected webhooks are never stored (nothing unverified is). The local stack counts them since it
 * started; on AWS they are the `Rejected` metric of the stack's CloudWatch dashboard.
 */
async function readRejections(t: Target): Promise<Overview['rejected']> {
  if (t.kind !== 'local') return { byProvider: [], note: 'rejected webhooks are the Keysmith/Rejected metric: see the stack’s CloudWatch dashboard' };
  try {
    const response = await fetch(`${t.apiUrl}/_local/rejections`, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) return { byProvider: [], note: 'this local stack does not count rejections (an older version?)' };
    const body = (await response.json()) as { since: string; rejections: { provider: string; status: number; count: number }[] };
    return { since: body.since, byProvider: body.rejections };
  } catch {
    return { byProvider: [], note: 'the local stack did not answer' };
  }
}
