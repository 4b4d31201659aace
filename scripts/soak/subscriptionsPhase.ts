import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsEventQueue } from '../../functions/aws/queue';
import { appliedEvents, DynamoEntitlementStore } from '../../functions/aws/store';
import { readCatalogFile } from '../../functions/config/loadCatalog';
import { DEFAULT_LICENSE_API } from '../../functions/domain/catalog';
import type { FulfillmentEvent, ProviderName } from '../../functions/domain/events';
import { licenseIdFor } from '../../functions/domain/licenses';
import { licenseView } from '../../functions/domain/licenseView';
import { activationLimit, licenseCode } from '../../functions/licensing/api';
import { paddleSample } from '../../functions/providers/paddle/sample';
import type { SampleRequest } from '../../functions/providers/sample';
import { stripeSample } from '../../functions/providers/stripe/sample';
import { followLinks } from '../../functions/worker/links';
import { readDevSecrets } from '../../lib/local/devSecrets';
import { localClientConfig } from '../../lib/local/emulators';
import { startLocalStack } from '../../lib/local/stack';
import { fastspringTraffic, month, writeSubscriptionCatalog } from './fastspringTraffic';
import { HttpClient } from './http';
import type { Check } from './ordersPhase';
import type { Random } from './random';
import { createSoakWorker, type WorkerFaultOptions } from './worker';

/**
 * The second year, not the first day: long-lived subscriptions through the local stack — monthly
 * renewals over simulated years, cancellations and un-cancellations, refunds, the seller's own
 * suspensions and revocations, Paddle disputes won and lost, every request sometimes delivered
 * twice and the original purchase resent at the end — with the worker's faults injected. Each
 * order's final state is predicted by a small model of the holds table (not by `apply`) and must
 * match exactly; the largest item the worker wrote is reported.
 */

export interface SubscriptionsOptions {
  subscriptions: number;
  /** Months each subscription lives at most (renewals are monthly). */
  months: number;
  /** Paddle orders that go through a dispute sequence. */
  disputes: number;
  /** Stripe subscriptions whose payments go through a dispute or refund sequence. */
  stripe: number;
  concurrency: number;
  workerConcurrency: number;
  visibilityTimeoutSeconds: number;
  drainTimeoutMs: number;
  faults: WorkerFaultOptions;
}

export interface SubscriptionsReport {
  subscriptions: number;
  disputes: number;
  stripe?: number;
  /** Distinct events sent (webhooks and seller operations). */
  events: number;
  /** HTTP requests and queue messages, duplicates included. */
  deliveries: number;
  largestItem: { bytes: number; key: string };
  checks: Check[];
  ms: number;
}

/**
 * A delivery, a seller's operation, or time passing: `linked` waits until the order holds its
 * licenses and the worker would find it from this payment id (a refund or dispute comes days
 * after the payment, not the same second; the order of events after that is left to the FIFO
 * groups).
 */
type Step = { request: SampleRequest; copies: number } | { manual: FulfillmentEvent; copies: number } | { linked: string; copies: 0 };

interface Plan {
  provider: ProviderName;
  order: string;
  email: string;
  steps: Step[];
  /** Distinct events the order must have applied. */
  events: number;
  /**
   * Where some of them may have been recorded instead, without changing any license: Stripe's
   * invoice_payment.paid is recorded on its invoice when it is applied before the invoice's own
   * link exists (only if the ingress could not write that link with its delivery log).
   */
  recordedElsewhere?: string[];
  expected: { statuses: string[]; expiresAt?: (string | null)[]; scheduledEnd: boolean; emails: number };
}

const PRODUCT = 'sub-pro';

/** A FastSpring subscription's life, and what it must end as (the model: holds per unit). */
function planSubscription(i: number, options: SubscriptionsOptions, random: Random, traffic: ReturnType<typeof fastspringTraffic>): Plan {
  const stamp = `${Date.now().toString(36)}${i}`;
  const sub = { order: `SOAK-S-${stamp}`, subscription: `SUB-${stamp}`, product: PRODUCT, email: `sub-${stamp}@example.com` };
  // Most subscriptions are a few seats; one in 50 is a fleet of 100–500 (its item is the largest).
  const quantity = i % 50 === 0 ? random.int(100, 500) : random.int(1, 6);
  const ids = Array.from({ length: quantity }, (_, unit) => licenseIdFor({ provider: 'fastspring', scope: sub.order, providerProductId: PRODUCT, unit }));
  const copies = () => (random.chance(0.15) ? 2 : 1);
  const steps: Step[] = [{ request: traffic.order(sub, quantity), copies: copies() }];
  // The model: holds per unit (a set of names), the order's own, and each unit's expiry.
  const unitHolds = ids.map(() => new Set<string>());
  let orderFinal = false;
  let scheduledEnd = false;
  const expiry = ids.map(() => month(0));
  const final = (u: number) => orderFinal || unitHolds[u]!.has('seller-revoke');
  const seller = (action: 'suspend' | 'reinstate' | 'revoke', u: number): FulfillmentEvent => ({
    provider: 'fastspring',
    eventId: `manual#${randomUUID()}`,
    by: 'seller',
    occurredAt: new Date().toISOString(),
    action,
    reason: `manual: soak ${action}`,
    scope: sub.order,
    live: true,
    customer: { email: sub.email },
    items: [],
    targets: [ids[u]!],
  });
  for (let m = 1; m <= options.months && !orderFinal; m++) {
    const roll = random.next();
    const u = random.int(0, quantity - 1);
    if (roll < 0.7) {
      steps.push({ request: traffic.charge(sub, m), copies: copies() });
      ids.forEach((_, unit) => {
        if (!final(unit)) expiry[unit] = Math.max(expiry[unit]!, month(m));
      });
      scheduledEnd = false;
    } else if (roll < 0.78) {
      steps.push({ request: traffic.canceled(sub, m + 1), copies: copies() });
      scheduledEnd = true;
    } else if (roll < 0.84) {
      steps.push({ request: traffic.uncanceled(sub), copies: copies() });
      scheduledEnd = false;
    } else if (roll < 0.89) {
      steps.push({ manual: seller('suspend', u), copies: 1 });
      unitHolds[u]!.add('seller-suspend');
    } else if (roll < 0.94) {
      steps.push({ manual: seller('reinstate', u), copies: 1 });
      unitHolds[u]!.delete('seller-suspend');
    } else if (roll < 0.96) {
      steps.push({ manual: seller('revoke', u), copies: 1 });
      unitHolds[u]!.add('seller-revoke');
    } else if (roll < 0.98) {
      steps.push({ request: traffic.refund(sub), copies: copies() });
      orderFinal = true;
    } else {
      steps.push({ request: traffic.deactivated(sub), copies: copies() });
      orderFinal = true;
    }
  }
  const events = steps.length;
  // Months later, the storefront resends the original purchase: it must change nothing.
  steps.push({ request: (steps[0] as { request: SampleRequest }).request, copies: 1 });
  return {
    provider: 'fastspring',
    order: sub.order,
    email: sub.email,
    steps,
    events,
    expected: {
      statuses: ids.map((_, unit) => (final(unit) ? 'revoked' : unitHolds[unit]!.has('seller-suspend') ? 'suspended' : 'active')),
      expiresAt: expiry.map((ms) => new Date(ms).toISOString()),
      scheduledEnd,
      emails: 1,
    },
  };
}

/** A Paddle order through one of the dispute sequences. */
function planDispute(i: number, random: Random, secrets: Record<string, string | undefined>): Plan {
  const stamp = `${Date.now().toString(36)}${i}`;
  const order = String(7_000_000 + Math.floor(random.next() * 1_000_000));
  const email = `dispute-${stamp}@example.com`;
  const sequence = random.pick([
    ['payment_dispute_created'],
    ['payment_dispute_created', 'payment_dispute_closed'],
    ['payment_dispute_created', 'payment_refunded', 'payment_dispute_closed'],
    ['payment_dispute_created', 'payment_dispute_closed', 'payment_refunded'],
    ['payment_dispute_created', 'payment_dispute_closed', 'payment_dispute_created'],
  ]);
  const steps: Step[] = [{ request: paddleSample.build({ secrets, orderId: order, email }), copies: 1 }];
  let disputed = false;
  let refunded = false;
  for (const event of sequence) {
    steps.push({ request: paddleSample.build({ secrets, event, orderId: order, email }), copies: random.chance(0.2) ? 2 : 1 });
    if (event === 'payment_dispute_created') disputed = true;
    if (event === 'payment_dispute_closed') disputed = false;
    if (event === 'payment_refunded') refunded = true;
  }
  return { provider: 'paddle', order, email, steps, events: steps.length, expected: { statuses: [refunded ? 'revoked' : disputed ? 'suspended' : 'active'], scheduledEnd: false, emails: 0 } };
}

/**
 * A Stripe subscription: its first invoice, renewals in the 2025 or the older API shape, the
 * link from its payment (invoice_payment.paid, unless an older-shape invoice named the payment),
 * then — once the payment leads to the order — disputes and refunds that name only the payment
 * intent. The model: refunded or lost → revoked, a dispute still open → suspended, else active,
 * whatever order the FIFO groups (the subscription's, the invoice's, the payment's) apply in.
 */
function planStripe(i: number, random: Random, secrets: Record<string, string | undefined>): Plan {
  const stamp = `${Date.now().toString(36)}${i}`;
  const order = `sub_soak${stamp}`;
  const email = `stripe-sub-${stamp}@example.com`;
  const build = (event: string) => stripeSample.build({ secrets, event, orderId: order, email });
  const legacy = random.chance(0.5);
  const renewals = random.int(0, 3);
  const first = build('invoice.paid');
  const steps: Step[] = [{ request: first, copies: 1 }];
  for (let r = 0; r < renewals; r++) steps.push({ request: build(legacy ? 'invoice.paid:legacy-renewal' : 'invoice.paid:renewal'), copies: random.chance(0.2) ? 2 : 1 });
  // An older-shape renewal names its payment itself; otherwise invoice_payment.paid links it.
  if (!legacy || renewals === 0) steps.push({ request: build('invoice_payment.paid'), copies: random.chance(0.2) ? 2 : 1 });
  const paymentIntent = (JSON.parse(build('charge.refunded').body.toString('utf8')) as { data: { object: { payment_intent: string } } }).data.object.payment_intent;
  steps.push({ linked: paymentIntent, copies: 0 });
  const sequence = random.pick([
    ['charge.dispute.created'],
    ['charge.dispute.created', 'charge.dispute.closed'],
    ['charge.dispute.created', 'charge.refunded', 'charge.dispute.closed'],
    ['charge.dispute.created', 'charge.dispute.closed', 'charge.refunded'],
    ['charge.refunded'],
    ['charge.dispute.created', 'charge.dispute.closed:lost'],
  ]);
  let disputed = false;
  let revoked = false;
  for (const event of sequence) {
    steps.push({ request: build(event), copies: random.chance(0.2) ? 2 : 1 });
    if (event === 'charge.dispute.created') disputed = true;
    if (event === 'charge.dispute.closed') disputed = false;
    if (event === 'charge.refunded' || event === 'charge.dispute.closed:lost') revoked = true;
  }
  const invoice = (JSON.parse(first.body.toString('utf8')) as { data: { object: { id: string; lines: { data: { quantity: number }[] } } } }).data.object;
  const status = revoked ? 'revoked' : disputed ? 'suspended' : 'active';
  return {
    provider: 'stripe',
    order,
    email,
    steps,
    events: steps.filter((s) => !('linked' in s)).length,
    recordedElsewhere: [invoice.id],
    expected: { statuses: Array.from({ length: invoice.lines.data[0]!.quantity }, () => status), scheduledEnd: false, emails: 1 },
  };
}

export async function subscriptionsPhase(options: SubscriptionsOptions, random: Random, progress: (line: string) => void): Promise<SubscriptionsReport> {
  const started = Date.now();
  const stateDir = mkdtempSync(join(tmpdir(), 'keysmith-soak-subs-'));
  const catalogPath = writeSubscriptionCatalog(stateDir);
  let worker: ReturnType<typeof createSoakWorker> | undefined;
  const stack = await startLocalStack({
    port: 0,
    stateDir,
    log: false,
    configPath: catalogPath,
    // It checks every license of every order as fast as it can: the license API's throttle (tested
    // on its own in test/integration/licensing/throttle.test.ts) would only answer 429s here.
    licensingThrottle: { rateLimit: 1_000_000, burstLimit: 1_000_000 },
    queueOverrides: { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds, maxConcurrency: options.workerConcurrency },
    handlers: { worker: (event, context) => (worker ? worker.handler(event, context) : Promise.reject(new Error('the soak worker is not ready'))) },
  });
  const sqs = new SQSClient(localClientConfig(stack.endpoints.sqs));
  const dynamo = new DynamoDBClient(localClientConfig(stack.endpoints.dynamodb));
  try {
    worker = createSoakWorker(options.faults, random.fork());
    const secrets = { ...readDevSecrets(stateDir), ...stack.env };
    const traffic = fastspringTraffic(secrets.KEYSMITH_FASTSPRING_SECRET!);
    const plans = [
      ...Array.from({ length: options.subscriptions }, (_, i) => planSubscription(i, options, random.fork(), traffic)),
      ...Array.from({ length: options.disputes }, (_, i) => planDispute(i, random.fork(), secrets)),
      ...Array.from({ length: options.stripe }, (_, i) => planStripe(i, random.fork(), secrets)),
    ];
    const queue = new SqsEventQueue(sqs, stack.queueUrl);
    const linkStore = new DynamoEntitlementStore(dynamo, stack.tableName);
    const http = new HttpClient(stack.url);
    const ses = new HttpClient(stack.endpoints.ses);
    const send = (request: SampleRequest) => http.send({ method: request.method, target: request.path, headers: Object.entries(request.headers), body: request.body });
    const unexpected: string[] = [];
    let deliveries = 0;
    progress(`subscriptions: ${options.subscriptions} subscriptions over up to ${options.months} months, ${options.disputes} disputed Paddle orders, ${options.stripe} Stripe subscriptions`);
    // Each order's steps in order (one FIFO group); orders side by side.
    let next = 0;
    const lane = async () => {
      for (let p = next++; p < plans.length; p = next++) {
        for (const step of plans[p]!.steps) {
          if ('linked' in step) {
            const plan = plans[p]!;
            const probe = { provider: plan.provider, scope: step.linked, followLinks: true } as FulfillmentEvent;
            const ready = async () => (await followLinks(probe, linkStore)).scope === plan.order && ((await linkStore.get(plan.provider, plan.order))?.state.licenses.length ?? 0) > 0;
            const until = Date.now() + options.drainTimeoutMs;
            while (!(await ready()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
            if (!(await ready())) unexpected.push(`${plan.order}: payment ${step.linked} never led to a licensed order`);
            continue;
          }
          for (let c = 0; c < step.copies; c++) {
            deliveries++;
            if ('manual' in step) {
              const { failed } = await queue.send([step.manual]);
              if (failed.length > 0) unexpected.push(`${plans[p]!.order}: the queue refused a seller operation`);
            } else {
              const res = await send(step.request);
              if (res.status !== 200) unexpected.push(`${plans[p]!.order}: ${step.request.path} answered ${res.status} ${res.body.toString().slice(0, 200)}`);
            }
          }
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, lane));
    progress(`subscriptions: ${deliveries} deliveries sent; draining`);
    await stack.poller.drain(options.drainTimeoutMs);

    const store = new DynamoEntitlementStore(dynamo, stack.tableName);
    const mail = JSON.parse((await ses.send({ method: 'GET', target: '/store', headers: [], body: Buffer.alloc(0) })).body.toString()) as { emails: { destination: { to: string[] } }[] };
    const mailTo = new Map<string, number>();
    for (const e of mail.emails) for (const to of e.destination.to) mailTo.set(to, (mailTo.get(to) ?? 0) + 1);
    const wrongState: string[] = [];
    const wrongEvents: string[] = [];
    const wrongEmails: string[] = [];
    // What the seller's app is told: the license API (one read of each license's view) must say
    // exactly what the order item says, after years of renewals, holds, crashes and duplicates.
    const wrongAnswers: string[] = [];
    let validations = 0;
    const catalog = readCatalogFile(catalogPath);
    for (const plan of plans) {
      const stored = await store.get(plan.provider, plan.order);
      if (!stored) {
        wrongState.push(`${plan.provider} ${plan.order}: no order`);
        continue;
      }
      const state = stored.state;
      const statuses = state.licenses.map((l) => l.status);
      if (JSON.stringify(statuses) !== JSON.stringify(plan.expected.statuses))
        wrongState.push(`${plan.provider} ${plan.order}: statuses ${statuses.join(',')}, expected ${plan.expected.statuses.join(',')}`);
      if (plan.expected.expiresAt && JSON.stringify(state.licenses.map((l) => l.expiresAt)) !== JSON.stringify(plan.expected.expiresAt)) {
        wrongState.push(`${plan.provider} ${plan.order}: expiries ${state.licenses.map((l) => l.expiresAt).join(',')}, expected ${plan.expected.expiresAt.join(',')}`);
      }
      if (state.holds.some((h) => h.kind === 'period-end') !== plan.expected.scheduledEnd)
        wrongState.push(`${plan.provider} ${plan.order}: scheduled end ${!plan.expected.scheduledEnd}, expected ${plan.expected.scheduledEnd}`);
      const elsewhere = await Promise.all(
        (plan.recordedElsewhere ?? []).map(async (scope) => {
          const other = await store.get(plan.provider, scope);
          return other ? appliedEvents(store, other.state) : [];
        }),
      );
      const applied = [...(await appliedEvents(store, state)), ...elsewhere.flat()];
      if (applied.length !== plan.events || new Set(applied.map((a) => a.eventId)).size !== applied.length)
        wrongEvents.push(`${plan.provider} ${plan.order}: ${applied.length} events applied, expected ${plan.events} distinct`);
      for (const license of state.licenses) {
        validations++;
        const res = await http.send({
          method: 'POST',
          target: '/v1/licenses/validate',
          headers: [['content-type', 'application/x-www-form-urlencoded']],
          body: Buffer.from(new URLSearchParams({ license_key: license.key }).toString()),
        });
        const answer = JSON.parse(res.body.toString() || '{}') as { code?: string; license_key?: { activation_limit?: number } };
        const expected = licenseCode(licenseView(state, license), catalog.products[license.product]?.licenseApi ?? DEFAULT_LICENSE_API, new Date());
        if (answer.code !== expected || answer.license_key?.activation_limit !== activationLimit(license))
          wrongAnswers.push(
            `${plan.provider} ${plan.order} ${license.licenseId}: API says ${answer.code} (limit ${answer.license_key?.activation_limit}), the order says ${expected} (${license.seats} seats)`,
          );
      }
      const got = mailTo.get(plan.email) ?? 0;
      const allowed = worker.stats.windowCrashes.get(plan.email.toLowerCase()) ?? 0;
      if (got < plan.expected.emails || got > plan.expected.emails + allowed)
        wrongEmails.push(`${plan.provider} ${plan.order}: ${got} emails, expected ${plan.expected.emails}${allowed ? ` (+${allowed} window crashes)` : ''}`);
    }
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    const dlq = Number(Attributes.ApproximateNumberOfMessages ?? 0);
    const largestItem = worker.largestWrite();
    const events = plans.reduce((n, p) => n + p.events, 0);
    const check = (name: string, required: string, found: string, offenders: string[]): Check => ({
      name,
      required,
      found,
      ok: offenders.length === 0,
      ...(offenders.length > 0 ? { examples: offenders.slice(0, 10) } : {}),
    });
    const checks: Check[] = [
      check('long-lived: every delivery answered 200', `${deliveries} × 200`, unexpected.length === 0 ? 'all' : `${unexpected.length} not`, unexpected),
      check('long-lived: final states exactly as the holds model predicts', `${plans.length} orders`, wrongState.length === 0 ? 'all as predicted' : `${wrongState.length} wrong`, wrongState),
      check(
        'long-lived: every event applied exactly once (late resends of the purchase included)',
        `${events} events`,
        wrongEvents.length === 0 ? 'all once' : `${wrongEvents.length} wrong`,
        wrongEvents,
      ),
      check(
        'long-lived: one license email per subscription, none for renewals or holds',
        'one each (+ window crashes)',
        wrongEmails.length === 0 ? 'as required' : `${wrongEmails.length} wrong`,
        wrongEmails,
      ),
      check('long-lived: the license API answers what the order says', `${validations} validations`, wrongAnswers.length === 0 ? 'all agree' : `${wrongAnswers.length} disagree`, wrongAnswers),
      check('long-lived: DLQ empty', '0', String(dlq), dlq === 0 ? [] : [`${dlq} message(s) dead-lettered`]),
      check(
        'long-lived: largest item written under 100 KB',
        '< 102400 bytes',
        `${largestItem.bytes} bytes (${largestItem.key})`,
        largestItem.bytes < 100 * 1024 ? [] : [`${largestItem.key}: ${largestItem.bytes} bytes`],
      ),
    ];
    http.close();
    ses.close();
    return { subscriptions: options.subscriptions, disputes: options.disputes, stripe: options.stripe, events, deliveries, largestItem, checks, ms: Date.now() - started };
  } finally {
    worker?.destroy();
    sqs.destroy();
    dynamo.destroy();
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
