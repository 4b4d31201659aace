import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoEntitlementStore, fromItem } from '../../functions/aws/store';
import type { AppliedEvent, Entitlement } from '../../functions/domain/entitlement';
import { keyHash } from '../../functions/domain/licenses';
import { TABLE } from '../../functions/settings';
import { queueDepth } from '../../lib/queueDepth';
import { emailAccounting } from '../emailAccounting';
import { HttpClient, pool, type RawAnswer } from './http';
import { type DeliveryKind, type OrderPlan, requestFor } from './orders';
import type { WorkerStats } from './worker';

/** One assertion of the run: what was required, what was found, and the first offenders. */
export interface Check {
  name: string;
  required: string;
  found: string;
  ok: boolean;
  /** Up to 10 examples when it failed. */
  examples?: string[];
}

export interface DeliveryLogEntry {
  order: number;
  kind: DeliveryKind;
  status: number;
  body: string;
}

export interface SendResult {
  requests: number;
  concurrentPairs: number;
  statuses: Record<string, number>;
  /** Answers that were not 2xx (first 20). */
  unexpected: DeliveryLogEntry[];
  /** Paddle purchase answers by order index (the license text Paddle mails). */
  paddleAnswers: Map<number, string[]>;
  /**
   * 503s with Retry-After (the ingress could not make the events durable in time, e.g. on an
   * overloaded machine), sent again as every provider does; by `x-keysmith-reason`. Only the
   * final answer of a delivery counts in `statuses`.
   */
  unavailable: { retried: number; reasons: Record<string, number> };
  ms: number;
}

/** A delivery answered 503 with Retry-After is sent again, at most this many times in all. */
const MAX_ATTEMPTS = 6;
/** The soak does not wait the Retry-After seconds a provider would: this much per attempt. */
const RETRY_PAUSE_MS = 200;

/** Sends every order's deliveries: orders in parallel (`concurrency` clients), each order's steps in sequence. */
export async function sendOrders(plans: OrderPlan[], baseUrl: string, concurrency: number, progress?: (done: number) => void): Promise<SendResult> {
  const client = new HttpClient(baseUrl, concurrency * 2);
  const result: SendResult = { requests: 0, concurrentPairs: 0, statuses: {}, unexpected: [], paddleAnswers: new Map(), unavailable: { retried: 0, reasons: {} }, ms: 0 };
  const started = Date.now();
  const note = (plan: OrderPlan, kind: DeliveryKind, answer: RawAnswer | Error): void => {
    result.requests++;
    const status = answer instanceof Error ? 0 : answer.status;
    result.statuses[String(status)] = (result.statuses[String(status)] ?? 0) + 1;
    if (status < 200 || status >= 300) {
      if (result.unexpected.length < 20) result.unexpected.push({ order: plan.index, kind, status, body: answer instanceof Error ? answer.message : answer.body.toString('utf8').slice(0, 300) });
      return;
    }
    if (plan.provider === 'paddle' && kind === 'purchase' && !(answer instanceof Error)) {
      const bodies = result.paddleAnswers.get(plan.index) ?? [];
      bodies.push(answer.body.toString('utf8'));
      result.paddleAnswers.set(plan.index, bodies);
    }
  };
  const send = async (plan: OrderPlan, kind: DeliveryKind): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      let answer: RawAnswer | Error;
      try {
        answer = await client.send(requestFor(plan, kind));
      } catch (error) {
        answer = error as Error;
      }
      // Only an honest 503 (Retry-After) is retried; a 500 or a 503 without it is final.
      const retryAfter = answer instanceof Error ? undefined : answer.status === 503 ? answer.headers['retry-after'] : undefined;
      if (retryAfter === undefined || attempt >= MAX_ATTEMPTS) return note(plan, kind, answer);
      const reason = String((answer as RawAnswer).headers['x-keysmith-reason'] ?? 'unknown');
      result.unavailable.retried++;
      result.unavailable.reasons[reason] = (result.unavailable.reasons[reason] ?? 0) + 1;
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * attempt));
    }
  };
  let done = 0;
  try {
    await pool(plans, concurrency, async (plan) => {
      for (const step of plan.steps) {
        if (step.copies === 2) {
          result.concurrentPairs++;
          await Promise.all([send(plan, step.kind), send(plan, step.kind)]);
        } else {
          await send(plan, step.kind);
        }
      }
      if (++done % 500 === 0) progress?.(done);
    });
  } finally {
    client.close();
  }
  result.ms = Date.now() - started;
  return result;
}

interface StoreEmail {
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
}

export interface OrdersVerification {
  checks: Check[];
  entitlements: number;
  licenses: number;
  licenseSets: number;
  refunded: number;
  emails: {
    expected: number;
    delivered: number;
    /** Emails beyond the expected ones. */
    extra: number;
    /** Crashes injected between an accepted SES send and its mark. */
    windowCrashes: number;
    ordersWithExtra: number;
  };
  dlq: number;
  queueLeft: number;
}

export interface StackHandles {
  tableName: string;
  sesEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
}

/** Reads the table, the SES emulator's mailbox and both queues, and checks every order against its plan. */
export async function verifyOrders(plans: OrderPlan[], stack: StackHandles, sent: SendResult, worker: WorkerStats): Promise<OrdersVerification> {
  const checks: Check[] = [];
  const check = (name: string, required: string, found: string, offenders: string[]): void => {
    checks.push({ name, required, found, ok: offenders.length === 0, ...(offenders.length > 0 ? { examples: offenders.slice(0, 10) } : {}) });
  };

  // ---- the table ----
  const items = await scanAll(stack.tableName);
  const entitlements = new Map<string, Entitlement>();
  /** Applied events per order: its record items, plus the records still in its `pending`. */
  const applied = new Map<string, string[]>();
  const lookups = new Set<string>();
  for (const item of items) {
    const pk = item[TABLE.partitionKey]?.S ?? '';
    const sk = item[TABLE.sortKey]?.S ?? '';
    if (pk.startsWith('ENT#') && sk === 'ENT') entitlements.set(pk, fromItem(item).state);
    else if (pk.startsWith('ENT#') && item.rec?.S) applied.set(pk, [...(applied.get(pk) ?? []), (JSON.parse(item.rec.S) as AppliedEvent).eventId]);
    else if (pk.startsWith('KEY#') || pk.startsWith('LIC#')) lookups.add(pk);
  }
  for (const [pk, ent] of entitlements) {
    const recorded = applied.get(pk) ?? [];
    applied.set(pk, [...recorded, ...ent.pending.map((e) => e.eventId).filter((id) => !recorded.includes(id))]);
  }
  const planned = new Set(plans.map((p) => `ENT#${p.provider}#${p.expected.scope}`));
  const strays = [...entitlements.keys()].filter((pk) => !planned.has(pk));
  check('one entitlement per order, no others', `${plans.length} entitlements`, `${entitlements.size} (${strays.length} not from a planned order)`, [
    ...plans.filter((p) => !entitlements.has(`ENT#${p.provider}#${p.expected.scope}`)).map((p) => `order ${p.index} (${p.provider} ${p.orderId}): no entitlement`),
    ...strays.map((pk) => `unplanned entitlement ${pk}`),
  ]);

  const setOffenders: string[] = [];
  const statusOffenders: string[] = [];
  const eventOffenders: string[] = [];
  const lookupOffenders: string[] = [];
  let licenseSets = 0;
  let licenses = 0;
  for (const plan of plans) {
    const ent = entitlements.get(`ENT#${plan.provider}#${plan.expected.scope}`);
    if (!ent) continue;
    const want = plan.expected.licenses.map((l) => `${l.licenseId}=${l.key}`).sort();
    const have = ent.licenses.map((l) => `${l.licenseId}=${l.key}`).sort();
    licenses += have.length;
    if (JSON.stringify(want) === JSON.stringify(have)) licenseSets++;
    else setOffenders.push(`order ${plan.index} (${plan.provider}): ${have.length} licenses, expected ${want.length}${have.length === want.length ? ' (different ids or keys)' : ''}`);
    const status = plan.refund ? 'revoked' : 'active';
    const wrong = ent.licenses.filter((l) => l.status !== status);
    if (ent.status !== status || wrong.length > 0)
      statusOffenders.push(
        `order ${plan.index} (${plan.provider}, ${plan.refund ? (plan.refundFirst ? 'refund first' : 'refunded') : 'kept'}): entitlement ${ent.status}, ${wrong.length} license(s) not ${status}`,
      );
    const ids = applied.get(`ENT#${plan.provider}#${plan.expected.scope}`) ?? [];
    const required = [plan.expected.purchaseEventId, ...(plan.expected.refundEventId ? [plan.expected.refundEventId] : [])];
    const missing = required.filter((id) => !ids.includes(id));
    if (missing.length > 0 || new Set(ids).size !== ids.length || ids.length !== required.length) {
      eventOffenders.push(`order ${plan.index} (${plan.provider}): applied [${ids.join(', ')}], expected [${required.join(', ')}]`);
    }
    for (const license of plan.expected.licenses) {
      if (!lookups.has(`LIC#${license.licenseId}`) || !lookups.has(`KEY#${keyHash(license.key)}`))
        lookupOffenders.push(`order ${plan.index} (${plan.provider}): license ${license.licenseId} has no lookup item`);
    }
  }
  const expectedLicenses = plans.reduce((n, p) => n + p.expected.licenses.length, 0);
  check('exactly the derived license set per order', `${plans.length} license sets (${expectedLicenses} licenses)`, `${licenseSets} (${licenses} licenses)`, setOffenders);
  const refunded = plans.filter((p) => p.refund).length;
  check(
    'refunds applied: refunded orders revoked, the others active',
    `${refunded} revoked, ${plans.length - refunded} active`,
    statusOffenders.length === 0 ? 'all as required' : `${statusOffenders.length} wrong`,
    statusOffenders,
  );
  check('each event applied exactly once', 'purchase (and refund) event ids, each once', eventOffenders.length === 0 ? 'all as required' : `${eventOffenders.length} wrong`, eventOffenders);
  check(
    'license lookups (key hash and license id) written',
    `${expectedLicenses * 2} lookup items`,
    lookupOffenders.length === 0 ? 'all present' : `${lookupOffenders.length} missing`,
    lookupOffenders,
  );

  // ---- Paddle's synchronous answers ----
  const paddleOffenders: string[] = [];
  for (const plan of plans.filter((p) => p.provider === 'paddle')) {
    for (const body of sent.paddleAnswers.get(plan.index) ?? []) {
      const text = body.replace(/\\(.)/g, '$1');
      const absent = plan.expected.licenses.filter((l) => !text.includes(l.key));
      if (absent.length > 0) paddleOffenders.push(`order ${plan.index}: the answer lacks ${absent.length} of ${plan.expected.licenses.length} keys`);
    }
  }
  check(
    "Paddle's answer (mailed by Paddle) carries the stored keys",
    'every purchase answer lists exactly the derived keys',
    paddleOffenders.length === 0 ? 'all do' : `${paddleOffenders.length} do not`,
    paddleOffenders,
  );

  // ---- email ----
  const store = (await (await fetch(`${stack.sesEndpoint}/store`)).json()) as { emails: StoreEmail[] };
  const byAddress = new Map<string, StoreEmail[]>();
  for (const email of store.emails) {
    for (const to of email.destination.to) {
      const key = to.toLowerCase();
      byAddress.set(key, [...(byAddress.get(key) ?? []), email]);
    }
  }
  const emailOffenders: string[] = [];
  const contentOffenders: string[] = [];
  let expectedEmails = 0;
  let extra = 0;
  let ordersWithExtra = 0;
  let windowCrashes = 0;
  const knownAddresses = new Set(plans.map((p) => p.email.toLowerCase()));
  for (const plan of plans) {
    const address = plan.email.toLowerCase();
    const got = byAddress.get(address) ?? [];
    const crashes = worker.windowCrashes.get(address) ?? 0;
    windowCrashes += crashes;
    expectedEmails += plan.expected.emails;
    const beyond = got.length - plan.expected.emails;
    if (beyond > 0) {
      extra += beyond;
      ordersWithExtra++;
    }
    if (beyond < 0) emailOffenders.push(`order ${plan.index} (${plan.provider}): ${got.length} email(s), expected ${plan.expected.emails}`);
    else if (beyond > crashes) emailOffenders.push(`order ${plan.index} (${plan.provider}): ${got.length} emails, expected ${plan.expected.emails}; only ${crashes} crash(es) in the send→mark window`);
    for (const email of got) {
      const text = email.body.text ?? '';
      const absent = plan.expected.licenses.filter((l) => !text.includes(l.key));
      if (absent.length > 0) contentOffenders.push(`order ${plan.index} (${plan.provider}): an email lacks ${absent.length} of its keys`);
    }
  }
  const strangers = [...byAddress.keys()].filter((a) => !knownAddresses.has(a));
  check(
    'exactly one email per order that is owed one, extras only after a send→mark crash',
    `${expectedEmails} emails; extras ≤ crashes between send and mark, per order`,
    `${store.emails.length} emails: ${extra} extra in ${ordersWithExtra} order(s), ${windowCrashes} crash(es) in the window`,
    [...emailOffenders, ...strangers.map((a) => `email to an address of no order: ${a}`)],
  );
  const reached = worker.ses.succeeded.SendEmail ?? 0;
  check(
    'the mailbox holds every email SES accepted, no more',
    `${reached} (SendEmail calls that reached the emulator and succeeded)`,
    `${store.emails.length}`,
    store.emails.length === reached ? [] : [`${store.emails.length} emails in the mailbox, ${reached} accepted sends`],
  );
  check('each email carries the order’s keys', 'every key of the order in the text body', contentOffenders.length === 0 ? 'all do' : `${contentOffenders.length} do not`, contentOffenders);
  // Read through the store (EntitlementStore), not the raw scan above: the same check as the bench.
  const owed = plans.filter((p) => p.expected.emails > 0).map((p) => ({ provider: p.provider, orderId: p.orderId, to: p.email }));
  const dynamo = new DynamoDBClient({});
  const account = await emailAccounting(owed, new DynamoEntitlementStore(dynamo, stack.tableName), store.emails).finally(() => dynamo.destroy());
  check(
    'every owed email accounted for: in the mailbox, or recorded on its order as failed with a reason',
    `${owed.length} owed; 0 unaccounted`,
    `${account.sent} sent, ${account.failed.length} recorded as failed, ${account.unaccounted.length} unaccounted`,
    account.unaccounted.map((u) => `${u.email.provider} order ${u.email.orderId}: ${u.why}`),
  );

  // ---- queues ----
  const sqs = new SQSClient({});
  const depth = async (url: string): Promise<number> => (await queueDepth(sqs, url, 'local')).total;
  const dlq = await depth(stack.dlqUrl);
  const queueLeft = await depth(stack.queueUrl);
  sqs.destroy();
  check('DLQ empty', '0 messages', `${dlq}`, dlq === 0 ? [] : [`${dlq} message(s) in the DLQ`]);
  check('queue drained', '0 messages', `${queueLeft}`, queueLeft === 0 ? [] : [`${queueLeft} message(s) left in the queue`]);

  const fivexx = Object.entries(sent.statuses)
    .filter(([s]) => Number(s) >= 500 || Number(s) === 0)
    .reduce((n, [, c]) => n + c, 0);
  const non2xx = Object.entries(sent.statuses)
    .filter(([s]) => Number(s) < 200 || Number(s) >= 300)
    .reduce((n, [, c]) => n + c, 0);
  check(
    'no answer ≥ 500 (and no failed request)',
    '0',
    `${fivexx}`,
    fivexx === 0 ? [] : sent.unexpected.filter((u) => u.status >= 500 || u.status === 0).map((u) => `order ${u.order} ${u.kind}: ${u.status} ${u.body}`),
  );
  check(
    'every genuine delivery answered 2xx',
    `${sent.requests} × 2xx`,
    `${sent.requests - non2xx} × 2xx`,
    sent.unexpected.map((u) => `order ${u.order} ${u.kind}: ${u.status} ${u.body}`),
  );

  return {
    checks,
    entitlements: entitlements.size,
    licenses,
    licenseSets,
    refunded,
    emails: { expected: expectedEmails, delivered: store.emails.length, extra, windowCrashes, ordersWithExtra },
    dlq,
    queueLeft,
  };
}

async function scanAll(tableName: string): Promise<Record<string, AttributeValue>[]> {
  const client = new DynamoDBClient({});
  const out: Record<string, AttributeValue>[] = [];
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          ProjectionExpression: '#pk, #sk, #doc, #version, #rec',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey, '#doc': 'doc', '#version': 'version', '#rec': 'rec' },
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return out;
}
