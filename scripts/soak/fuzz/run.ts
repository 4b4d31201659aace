import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { type EventQueue, queueFromEnv } from '../../../functions/aws/queue';
import { secretsFrom } from '../../../functions/aws/secrets';
import { loadCatalog } from '../../../functions/config/loadCatalog';
import type { FulfillmentEvent, ProviderName } from '../../../functions/domain/events';
import { createIngressHandler } from '../../../functions/ingress/handler';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { TABLE } from '../../../functions/settings';
import type { HttpApiHandler } from '../../../lib/local/apiServer';
import { readDevSecrets } from '../../../lib/local/devSecrets';
import { startLocalStack } from '../../../lib/local/stack';
import { queueDepth } from '../../../lib/queueDepth';
import { HttpClient, pool } from '../http';
import type { Check } from '../ordersPhase';
import { FAMILIES, type FuzzCase, fuzzCases } from './cases';
import { fuzzContext } from './context';
import { judge } from './oracle';

/**
 * The fuzz phase over HTTP: a local stack whose ingress functions are the real provider modules
 * behind the real `createIngressHandler` and the real SQS queue — with one addition: the queue
 * port notes, per request (AsyncLocalStorage, keyed by API Gateway's request id), which events
 * SQS accepted. That is what lets the oracle pin every enqueued event on the request that caused
 * it. The worker only records what it receives (the fuzz is about the ingress).
 *
 * Cases are drawn with fast-check from the seed, in chunks (seed + chunk number), so 50,000 of
 * them never sit in memory at once and any one can be regenerated from the seed.
 */

export interface FuzzOptions {
  cases: number;
  seed: number;
  concurrency: number;
  progress?: (line: string) => void;
}

export interface FuzzFailure {
  index: number;
  family: string;
  label: string;
  base?: string;
  expect: string;
  status: number;
  problem: string;
}

export interface FuzzReport {
  cases: number;
  seed: number;
  ms: number;
  /** Per family: cases, and answers by status. */
  families: Record<string, { cases: number; statuses: Record<string, number> }>;
  /** Cases per expectation. */
  expectations: Record<string, number>;
  statuses: Record<string, number>;
  /** Answers ≥ 500. */
  fivexx: number;
  /** Events enqueued, by the expectation of the request that caused them. */
  enqueued: { reject: number; genuine: number; authentic: number; unattributed: number };
  /** Messages the worker received, and how many of them no request of the run accounts for. */
  workerReceived: number;
  workerUnaccounted: number;
  /** Delivery-log records (verified requests) written for requests that had to be refused. */
  deliveryLogForRefused: number;
  dlq: number;
  failures: FuzzFailure[];
  checks: Check[];
}

const CHUNK = 1000;

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const progress = options.progress ?? (() => undefined);
  const started = Date.now();
  const stateDir = mkdtempSync(join(tmpdir(), 'keysmith-fuzz-'));
  const attribution = new AsyncLocalStorage<string>();
  const enqueuedBy = new Map<string, FulfillmentEvent[]>();
  const unattributed: FulfillmentEvent[] = [];
  const attributing: EventQueue = {
    async send(events, sendOptions) {
      const result = await queueFromEnv().send(events, sendOptions);
      const id = attribution.getStore();
      if (id === undefined) unattributed.push(...result.accepted);
      else enqueuedBy.set(id, [...(enqueuedBy.get(id) ?? []), ...result.accepted]);
      return result;
    },
  };
  const ingress: Partial<Record<ProviderName, HttpApiHandler>> = {};
  for (const registration of WEBHOOK_PROVIDERS) {
    const handler = createIngressHandler(await registration.provider(), { queue: () => attributing });
    ingress[registration.name] = (event, context) => attribution.run(event.requestContext.requestId, () => handler(event, context));
  }
  const received: string[] = [];
  const stack = await startLocalStack({
    port: 0,
    stateDir,
    log: false,
    queueOverrides: { visibilityTimeoutSeconds: 1 },
    handlers: {
      ingress,
      worker: async (event) => {
        for (const record of event.Records) received.push(record.body);
        return { batchItemFailures: [] };
      },
    },
  });
  const client = new HttpClient(stack.url, options.concurrency * 2);
  const report: FuzzReport = {
    cases: 0,
    seed: options.seed,
    ms: 0,
    families: Object.fromEntries(FAMILIES.map((f) => [f, { cases: 0, statuses: {} }])),
    expectations: { reject: 0, genuine: 0, authentic: 0 },
    statuses: {},
    fivexx: 0,
    enqueued: { reject: 0, genuine: 0, authentic: 0, unattributed: 0 },
    workerReceived: 0,
    workerUnaccounted: 0,
    deliveryLogForRefused: 0,
    dlq: 0,
    failures: [],
    checks: [],
  };
  const refusedRequestIds = new Set<string>();
  let problems = 0;
  try {
    const secrets = { ...readDevSecrets(stateDir), ...stack.env };
    const ctx = await fuzzContext(secrets, { secrets: secretsFrom(stack.env), catalog: loadCatalog() });
    const arbitrary = fuzzCases(ctx, { apiLimit: true });
    const acceptedKeys = new Set<string>();
    for (let chunk = 0; chunk * CHUNK < options.cases; chunk++) {
      const count = Math.min(CHUNK, options.cases - chunk * CHUNK);
      const cases = fc.sample(arbitrary, { seed: options.seed + chunk, numRuns: count });
      await pool(cases, options.concurrency, async (c: FuzzCase, i: number) => {
        const index = chunk * CHUNK + i;
        let status = 0;
        let error: string | undefined;
        let requestId: string | undefined;
        try {
          const answer = await client.send(c.request, 60_000);
          status = answer.status;
          const id = answer.headers['apigw-requestid'];
          requestId = typeof id === 'string' ? id : undefined;
        } catch (e) {
          error = (e as Error).message;
        }
        const enqueued = requestId ? (enqueuedBy.get(requestId) ?? []) : [];
        if (requestId) enqueuedBy.delete(requestId);
        report.cases++;
        report.statuses[String(status)] = (report.statuses[String(status)] ?? 0) + 1;
        const family = report.families[c.family]!;
        family.cases++;
        family.statuses[String(status)] = (family.statuses[String(status)] ?? 0) + 1;
        report.expectations[c.expect.kind] = (report.expectations[c.expect.kind] ?? 0) + 1;
        if (status >= 500) report.fivexx++;
        report.enqueued[c.expect.kind] += enqueued.length;
        for (const e of enqueued) acceptedKeys.add(`${e.provider}#${e.eventId}`);
        if (c.expect.kind === 'reject' && requestId) refusedRequestIds.add(requestId);
        const problem = judge(c, { status, enqueued, ...(error ? { error } : {}) });
        if (problem) {
          problems++;
          if (report.failures.length < 50) {
            report.failures.push({
              index,
              family: c.family,
              label: c.label,
              ...(c.base ? { base: c.base } : {}),
              expect: c.expect.kind === 'reject' ? `reject (${c.expect.why})` : c.expect.kind,
              status,
              problem,
            });
          }
        }
      });
      progress(`  fuzz: ${Math.min(options.cases, (chunk + 1) * CHUNK)}/${options.cases} cases, ${report.fivexx} × 5xx, ${problems} problem(s)`);
    }
    // Requests whose answer never came back still may have enqueued.
    for (const events of enqueuedBy.values()) report.enqueued.unattributed += events.length;
    report.enqueued.unattributed += unattributed.length;
    await stack.poller.drain(120_000);
    report.workerReceived = received.length;
    report.workerUnaccounted = received.filter((body) => {
      const e = JSON.parse(body) as FulfillmentEvent;
      return !acceptedKeys.has(`${e.provider}#${e.eventId}`);
    }).length;
    report.deliveryLogForRefused = (await deliveryIds(stack.tableName)).filter((id) => refusedRequestIds.has(id)).length;
    const sqs = new SQSClient({});
    report.dlq = (await queueDepth(sqs, stack.dlqUrl, 'local')).total;
    sqs.destroy();
  } finally {
    client.close();
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  report.ms = Date.now() - started;
  const examples = (filter: (f: FuzzFailure) => boolean) =>
    report.failures.filter(filter).map((f) => `#${f.index} ${f.family} "${f.label}" on ${f.base ?? 'no base'} (expected ${f.expect}): ${f.problem}`);
  const check = (name: string, required: string, found: string, ok: boolean, ex: string[] = []): void => {
    report.checks.push({ name, required, found, ok, ...(ok ? {} : { examples: ex.slice(0, 10) }) });
  };
  check(
    'fuzz: no answer ≥ 500',
    '0',
    String(report.fivexx),
    report.fivexx === 0,
    examples((f) => f.status >= 500),
  );
  check(
    'fuzz: nothing enqueued for a request that must be refused',
    '0 events',
    String(report.enqueued.reject + report.enqueued.unattributed),
    report.enqueued.reject + report.enqueued.unattributed === 0,
    examples((f) => f.problem.startsWith('enqueued')),
  );
  check(
    'fuzz: every case judged as its expectation requires (4xx for refusals, only genuine events for signed requests)',
    '0 problems',
    String(problems),
    problems === 0,
    examples(() => true),
  );
  check('fuzz: the worker received only events some accepted request enqueued', '0 unaccounted', String(report.workerUnaccounted), report.workerUnaccounted === 0);
  check('fuzz: no delivery-log record for a refused request', '0', String(report.deliveryLogForRefused), report.deliveryLogForRefused === 0);
  check('fuzz: DLQ empty', '0', String(report.dlq), report.dlq === 0);
  return report;
}

async function deliveryIds(tableName: string): Promise<string[]> {
  const client = new DynamoDBClient({});
  const ids: string[] = [];
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: tableName, ProjectionExpression: '#pk', ExpressionAttributeNames: { '#pk': TABLE.partitionKey }, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const pk = item[TABLE.partitionKey]?.S ?? '';
        if (pk.startsWith('DLV#')) ids.push(pk.split('#').slice(2).join('#'));
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return ids;
}
