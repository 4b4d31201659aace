import { join } from 'node:path';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { deliveryItem } from '../../functions/aws/deliveryLog';
import { secretsFrom } from '../../functions/aws/secrets';
import { batchWrite, viewItem } from '../../functions/aws/store';
import { applyContextFactory } from '../../functions/config/applyContext';
import { EXAMPLE_CONFIG_PATH, readCatalogFile } from '../../functions/config/loadCatalog';
import { type AppliedEvent, apply, type Entitlement } from '../../functions/domain/entitlement';
import type { FulfillmentEvent } from '../../functions/domain/events';
import { apiPartition, licenseView } from '../../functions/domain/licenseView';
import { toWebhookRequest } from '../../functions/ingress/handler';
import { fastspring } from '../../functions/providers/fastspring';
import { TABLE } from '../../functions/settings';
import { type LocalStackInfo, localTarget, type Target } from '../../lib/cli/target';
import { startConsole } from '../../lib/console/server';
import { startBenchStack } from './benchStack';
import { benchSecrets, liveFastspringOrder, toApiEvent } from './fixtures';
import { rawRequest } from './http';
import { SEARCH_KINDS, type SearchKind } from './names';
import { ROOT } from './paths';
import { msSince, percentile } from './stats';

/**
 * Issue 13: "Search over 10,000 orders answers in under 200 ms on the local stack; the first page
 * paints in under 1 s." The local stack as `npm start` runs it, seeded with `orders` orders as the
 * worker stores them, and `keysmith console`'s own server (startConsole) over it, asked over HTTP
 * with its token like a browser.
 */

export interface Latency {
  p50: number;
  p99: number;
  samples: number;
}

export interface ConsoleResult {
  orders: number;
  seedSeconds: number;
  search: Record<SearchKind, Latency & { hits: number }>;
  overview: {
    /** The first `/` of a fresh console: its cache is empty. */
    firstMs: number;
    /**
     * `/?refresh=1`: every request reads the table again (the page's cache bypassed). The page
     * answers whole if the read takes under OVERVIEW_WAIT_MS, else at once without its figures.
     */
    uncached: Latency;
    /** The same, until the figures are there too: the page, then `/overview/figures` (what console.js fetches). */
    complete: Latency;
    /** `/` within the page's 10 s cache. */
    cached: Latency;
    bytes: number;
    scanned: number;
    /**
     * The floor: a keys-only Scan of the same table with the overview's 4 parallel segments and
     * nothing else (no console, no filter, no documents) — no page that reads the table can beat it.
     */
    scanFloor: Latency;
  };
}

export interface ConsoleOptions {
  orders: number;
  /** Requests per search kind. */
  searches: number;
  /** Uncached overview requests. */
  overviews: number;
}

export const DEFAULT_CONSOLE: ConsoleOptions = { orders: 10_000, searches: 50, overviews: 10 };

/** Parallel writers while seeding (each order is two writes, as the worker makes them). */
const SEED_LANES = 32;

export async function consoleBench(options: ConsoleOptions = DEFAULT_CONSOLE, say: (line: string) => void = () => {}): Promise<ConsoleResult> {
  const bench = await startBenchStack({ countCalls: false });
  try {
    const target = localTarget(bench.stack.info() as LocalStackInfo);
    const seedStart = process.hrtime.bigint();
    const seeded = await seed(target, options.orders, bench.secrets);
    const seedSeconds = msSince(seedStart) / 1000;
    say(`console: seeded ${options.orders} orders in ${seedSeconds.toFixed(1)} s`);
    const running = await startConsole({ target });
    try {
      const get = async (path: string): Promise<{ ms: number; body: string }> => {
        const url = `http://127.0.0.1:${running.port}${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(running.token)}`;
        const start = process.hrtime.bigint();
        const res = await rawRequest(url);
        const ms = msSince(start);
        if (res.status !== 200) throw new Error(`console ${path.split('?')[0]} answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
        return { ms, body: res.body.toString('utf8') };
      };

      // The overview first: a fresh console, nothing cached, the figures waited for (`?wait=1`, the
      // page as a browser without JavaScript gets it).
      const first = await get('/?wait=1');
      const scanned = Number(/from (\d+) items/.exec(first.body)?.[1] ?? Number.NaN);
      const orderCount = Number(/id="orders-count">(\d+)</.exec(first.body)?.[1] ?? Number.NaN);
      if (orderCount !== options.orders) throw new Error(`the overview counted ${orderCount} orders, ${options.orders} were seeded`);
      const uncached: number[] = [];
      const complete: number[] = [];
      for (let i = 0; i < options.overviews; i++) {
        const page = await get('/?refresh=1');
        uncached.push(page.ms);
        // Painted without its figures: they follow from the same scan, as console.js fetches them.
        const rest = page.body.includes('id="overview-figures"') ? await get('/overview/figures') : undefined;
        if (rest && !/id="orders-count">\d+</.test(rest.body)) throw new Error('/overview/figures did not answer the figures');
        complete.push(page.ms + (rest?.ms ?? 0));
      }
      const cached: number[] = [];
      for (let i = 0; i < options.overviews; i++) cached.push((await get('/')).ms);
      const floor: number[] = [];
      for (let i = 0; i < Math.min(options.overviews, 5); i++) floor.push(await keysOnlyScan(target, scanned));

      // Each kind asks for orders spread over the table, one request at a time (one operator).
      const search = {} as ConsoleResult['search'];
      for (const kind of SEARCH_KINDS) {
        const times: number[] = [];
        let hits = 0;
        for (let i = 0; i < options.searches; i++) {
          const order = seeded[Math.floor((i * seeded.length) / options.searches + kind.length * 37) % seeded.length]!;
          const q = order[kind];
          const { ms, body } = await get(`/search?q=${encodeURIComponent(q)}`);
          // The order searched for must be on the page, or the figure measures a miss.
          if (!body.includes(`data-order="${order.orderId}"`)) throw new Error(`search by ${kind} did not find order ${order.orderId}`);
          hits += Number(/(\d+) order\(s\) match/.exec(body)?.[1] ?? 0);
          times.push(ms);
        }
        search[kind] = { p50: percentile(times, 50), p99: percentile(times, 99), samples: times.length, hits };
      }
      return {
        orders: options.orders,
        seedSeconds,
        search,
        overview: {
          firstMs: first.ms,
          uncached: { p50: percentile(uncached, 50), p99: percentile(uncached, 99), samples: uncached.length },
          complete: { p50: percentile(complete, 50), p99: percentile(complete, 99), samples: complete.length },
          cached: { p50: percentile(cached, 50), p99: percentile(cached, 99), samples: cached.length },
          bytes: Buffer.byteLength(first.body),
          scanned,
          scanFloor: { p50: percentile(floor, 50), p99: percentile(floor, 99), samples: floor.length },
        },
      };
    } finally {
      await running.close();
    }
  } finally {
    await bench.stop();
  }
}

/** Milliseconds for a keys-only Scan of the whole table, 4 segments in parallel (as lib/console/overview.ts). */
async function keysOnlyScan(target: Target, expected: number): Promise<number> {
  const segments = 4;
  let items = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let from: Record<string, AttributeValue> | undefined;
      do {
        const page = await target.dynamodb.send(
          new ScanCommand({
            TableName: target.tableName,
            Segment: segment,
            TotalSegments: segments,
            ProjectionExpression: '#pk',
            ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
            ExclusiveStartKey: from,
          }),
        );
        items += page.ScannedCount ?? 0;
        from = page.LastEvaluatedKey;
      } while (from);
    }),
  );
  const ms = msSince(start);
  if (items !== expected) throw new Error(`the floor Scan read ${items} items, the overview ${expected}`);
  return ms;
}

type Seeded = Record<SearchKind, string> & { orderId: string };

/**
 * `count` orders as the worker leaves a new FastSpring order in the table: FastSpring's signed
 * sample, verified, parsed and normalized by the provider module, made `count` distinct orders
 * (ids, email); each applied with the domain's `apply` (licenses, keys) and written with the real
 * store — the order item (`put`, conditional insert), then its event record (email sent), business-
 * key marker and license lookups in one batch (`putRecord`), as the worker writes them; and the
 * items the console does not read but its overview's Scan reads through: the ingress's delivery
 * record (deliveryItem) and one license view per license (viewItem). Orders are spread over the
 * overview's 14 days.
 */
async function seed(target: Target, count: number, stackSecrets: Record<string, string | undefined>): Promise<Seeded[]> {
  const secrets = benchSecrets();
  const catalog = readCatalogFile(join(ROOT, EXAMPLE_CONFIG_PATH));
  const handlerSecrets = secretsFrom({ ...secrets.handler, ...definedOnly(stackSecrets) });
  const sample = await liveFastspringOrder(secrets.all, 'bench-console@example.com');
  const request = toWebhookRequest(toApiEvent(sample, 'bench-console'));
  const verifyCtx = { secrets: secretsFrom(secrets.handler), catalog };
  const template = fastspring.normalize(fastspring.parse(await fastspring.verify(request, verifyCtx), request), request, verifyCtx)[0];
  if (!template) throw new Error('the FastSpring sample normalized to no event');
  const context = applyContextFactory();
  const store = target.store;
  const now = Date.now();
  const out: Seeded[] = new Array(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const event = variant(template, i);
      const at = new Date(now - (i % 14) * 86_400_000 - (i % 997) * 1000);
      const result = apply(undefined, event, context(handlerSecrets, catalog, at));
      if (result.duplicate) throw new Error('a fresh order applied as a duplicate');
      const stored = await store.put(result.state, 0);
      const { views: _views, ...applied } = result.applied;
      const record: AppliedEvent = {
        ...applied,
        ...(applied.lookups === 'pending' ? { lookups: 'done' as const } : {}),
        ...(applied.email ? { email: { ...applied.email, status: 'sent' as const, sentAt: at.toISOString() } } : {}),
      };
      await store.putRecord(stored.state, record, stored.state.licenses);
      // The ingress's delivery record of the webhook, and the license views the worker writes
      // (conditional PutItems there; plain puts here: a fresh table has nothing to overwrite).
      const delivery = deliveryItem({
        provider: 'fastspring',
        deliveryId: `bench-console-${i}`,
        receivedAt: at,
        route: request.routeKey,
        payload: sample.body,
        contentType: sample.headers['content-type'] ?? 'application/json',
        events: [event],
      });
      const views = stored.state.licenses.map((license) => viewItem({ partition: apiPartition(license), view: licenseView(stored.state, license) }));
      await batchWrite(
        target.dynamodb,
        target.tableName,
        [delivery, ...views].map((Item) => ({ PutRequest: { Item } })),
      );
      out[i] = seededOf(stored.state, event);
    }
  };
  await Promise.all(Array.from({ length: SEED_LANES }, lane));
  return out;
}

function variant(template: FulfillmentEvent, i: number): FulfillmentEvent {
  const id = `BENCH${String(i).padStart(6, '0')}`;
  const event: FulfillmentEvent = structuredClone(template);
  event.eventId = `${template.eventId}-${id}`;
  event.scope = `${template.scope}-${id}`;
  if (template.orderId !== undefined) event.orderId = `${template.orderId}-${id}`;
  if (template.reference !== undefined) event.reference = `${template.reference}-${id}`;
  if (template.businessKey !== undefined) event.businessKey = `${template.businessKey}-${id}`;
  event.customer = { ...template.customer, email: `customer-${i}@example.com` };
  return event;
}

function seededOf(state: Entitlement, event: FulfillmentEvent): Seeded {
  const license = state.licenses.find((l) => l.format === 'key') ?? state.licenses[0];
  if (!license) throw new Error('a seeded order issued no license');
  const orderId = state.orderId ?? state.scope;
  return { orderId, email: event.customer.email ?? '', 'order id': orderId, 'license key': license.key, 'license id': license.licenseId };
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = v;
  return out;
}
