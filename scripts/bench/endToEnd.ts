import { randomInt } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { deliveryItem } from '../../functions/aws/deliveryLog';
import { batchWriteItems, dynamodbClient } from '../../functions/aws/light/dynamodb';
import { sendMessageBatch, sqsClient } from '../../functions/aws/light/sqs';
import { toQueueEntry } from '../../functions/aws/queue';
import { secretsFrom } from '../../functions/aws/secrets';
import { DynamoEntitlementStore, lookupRequests } from '../../functions/aws/store';
import { loadCatalog } from '../../functions/config/loadCatalog';
import type { ProviderName } from '../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import type { SampleRequest } from '../../functions/providers/sample';
import { LOCAL, TABLE } from '../../functions/settings';
import type { QueueOverrides } from '../../lib/local/definitions';
import { DUMMY_CREDENTIALS, localClientConfig } from '../../lib/local/emulators';
import { startEmulatorsInThread } from '../../lib/local/emulatorThread';
import { emailAccounting, type MailboxEmail, type OwedEmail, unaccountedMessage } from '../emailAccounting';
import { rawFromSample } from '../soak/apiEvent';
import { ingestInProcess } from '../soak/inProcess';
import { startBenchStack } from './benchStack';
import { now } from './instrument';
import { percentile } from './stats';

/**
 * Local end to end: N orders at concurrency C through the local stack (`npm start`): signed
 * samples of every provider in turn, sent over HTTP by a load generator on its own thread (so it
 * does not compete with the stack's event loop), acked by the ingress, delivered by the poller to
 * the worker, emailed through the SES emulator. Clocks: `performance.timeOrigin + now()`, shared
 * by both threads.
 */

export interface EndToEndOptions {
  orders: number;
  concurrency: number;
  queueOverrides?: QueueOverrides;
}

export interface EndToEndResult {
  orders: number;
  concurrency: number;
  /** Orders fully processed (worker done) per second, first request to last worker invocation. */
  ordersPerSecond: number;
  /** Webhooks acked per second, first request to last answer. */
  acksPerSecond: number;
  ack: { p50: number; p99: number };
  /** Webhook sent → SES accepted the license email (providers keysmith mails for). */
  email: { p50: number; p99: number; count: number };
  seconds: number;
  failedRequests: number;
  /** Emails expected but not seen. */
  missingEmails: number;
  /**
   * Every owed email, accounted for through the store and the SES emulator's mailbox (see
   * scripts/emailAccounting.ts): `failed` were recorded on the order with a reason; `unaccounted`
   * were neither sent nor recorded — the bench fails when there is any.
   */
  emailAccount: { owed: number; sent: number; failed: number; unaccounted: number; problem?: string };
  deadLettered: number;
  batches: number;
}

const LOAD_GENERATOR = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { url, requests, concurrency } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const now = () => performance.timeOrigin + performance.now();
const results = new Array(requests.length);
let next = 0;
function send(i) {
  const r = requests[i];
  const body = Buffer.from(r.body, 'base64');
  return new Promise((resolve) => {
    const sentAt = now();
    const req = http.request(url + r.path, { method: r.method, headers: { ...r.headers, 'content-length': body.length }, agent }, (res) => {
      res.resume();
      res.on('end', () => { results[i] = { sentAt, ackAt: now(), status: res.statusCode }; resolve(); });
    });
    req.on('error', (e) => { results[i] = { sentAt, ackAt: now(), status: 0, error: e.message }; resolve(); });
    req.end(body);
  });
}
async function lane() { while (next < requests.length) await send(next++); }
Promise.all(Array.from({ length: concurrency }, lane)).then(() => { agent.destroy(); parentPort.postMessage(results); });
`;

interface Sent {
  sentAt: number;
  ackAt: number;
  status: number;
  error?: string;
}

export async function endToEnd(options: EndToEndOptions, progress: (line: string) => void = () => {}): Promise<EndToEndResult> {
  const bench = await startBenchStack({ countCalls: false, ...(options.queueOverrides ? { queueOverrides: options.queueOverrides } : {}) });
  try {
    // Build every signed request first: signing is the provider's work, not ours.
    const builders = await Promise.all(WEBHOOK_PROVIDERS.map(async (r) => ({ name: r.name, builder: await r.sample() })));
    const requests: (SampleRequest & { provider: ProviderName; email: string })[] = [];
    // Every request its own order, never left to the samples' random ids: two requests on one
    // scope are one order to keysmith (one license set, one email). Selldone's six-digit sample
    // basket ids collided in 42% of 1,000-order runs, and Hotmart's sample derives its subscriber
    // code (the scope of a subscription purchase) from 24 bits — that is the email the bench once
    // reported missing with nothing failed and nothing dead-lettered. So: order ids unique in the
    // run, and each request's scope checked in-process, as the soak does.
    const verify = { secrets: secretsFrom(bench.secrets), catalog: loadCatalog() };
    const scopes = new Set<string>();
    let nextOrder = randomInt(1e12, 2e12) * 1000;
    for (let i = 0; i < options.orders; i++) {
      const { name, builder } = builders[i % builders.length]!;
      const email = `e2e-${i}@example.com`;
      for (let attempt = 0; ; attempt++) {
        if (attempt > 20) throw new Error(`e2e: no free scope for ${name} order ${i}`);
        const request = builder.build({ secrets: bench.secrets, email, orderId: String(nextOrder++) });
        const { enqueued } = await ingestInProcess(rawFromSample(request), verify);
        if (enqueued.length !== 1) throw new Error(`e2e: a ${name} sample did not become exactly one event in-process`);
        const scope = `${name}#${enqueued[0]!.scope}`;
        if (scopes.has(scope)) continue;
        scopes.add(scope);
        requests.push({ ...request, provider: name, email });
        break;
      }
    }
    // Warm-up: one order per provider, so module loading and JIT are not in the measurement.
    for (const { builder } of builders) {
      const sample = builder.build({ secrets: bench.secrets });
      await runLoad(bench.stack.url, [sample], 1);
    }
    await bench.stack.poller.drain(60_000);
    bench.log.emailsAt.clear();
    bench.workerDone.length = 0;
    const before = bench.stack.poller.stats();

    progress(`e2e: ${options.orders} orders at concurrency ${options.concurrency}…`);
    const sent = await runLoad(bench.stack.url, requests, options.concurrency);
    await bench.stack.poller.drain(240_000);
    const after = bench.stack.poller.stats();

    const start = Math.min(...sent.map((s) => s.sentAt));
    const lastAck = Math.max(...sent.map((s) => s.ackAt));
    const lastWorker = Math.max(...bench.workerDone);
    const acks = sent.map((s) => s.ackAt - s.sentAt);
    const emailLatencies: number[] = [];
    let missingEmails = 0;
    const owed: OwedEmail[] = [];
    for (const [i, request] of requests.entries()) {
      if (request.provider === 'paddle') continue; // Paddle mails our synchronous answer itself.
      owed.push({ provider: request.provider, orderId: request.orderId, to: request.email });
      const at = bench.log.emailsAt.get(request.email);
      if (at === undefined) missingEmails++;
      else emailLatencies.push(at - sent[i]!.sentAt);
    }
    const account = await accountFor(owed, bench.stack.endpoints, bench.stack.tableName);
    const seconds = (Math.max(lastAck, lastWorker) - start) / 1000;
    return {
      orders: options.orders,
      concurrency: options.concurrency,
      ordersPerSecond: options.orders / seconds,
      acksPerSecond: options.orders / ((lastAck - start) / 1000),
      ack: { p50: percentile(acks, 50), p99: percentile(acks, 99) },
      email: { p50: percentile(emailLatencies, 50), p99: percentile(emailLatencies, 99), count: emailLatencies.length },
      seconds,
      failedRequests: sent.filter((s) => s.status < 200 || s.status >= 300).length,
      missingEmails,
      emailAccount: {
        owed: account.owed,
        sent: account.sent,
        failed: account.failed.length,
        unaccounted: account.unaccounted.length,
        ...(unaccountedMessage(account) ? { problem: unaccountedMessage(account)! } : {}),
      },
      deadLettered: after.deadLettered - before.deadLettered,
      batches: after.batches - before.batches,
    };
  } finally {
    await bench.stop();
  }
}

/** Every owed email against the SES emulator's mailbox and the stored orders (scripts/emailAccounting.ts). */
async function accountFor(owed: OwedEmail[], endpoints: { ses: string; dynamodb: string }, tableName: string) {
  const mailbox = ((await (await fetch(`${endpoints.ses}/store`)).json()) as { emails: MailboxEmail[] }).emails;
  const client = new DynamoDBClient(localClientConfig(endpoints.dynamodb));
  try {
    return await emailAccounting(owed, new DynamoEntitlementStore(client, tableName), mailbox);
  } finally {
    client.destroy();
  }
}

function runLoad(url: string, requests: SampleRequest[], concurrency: number): Promise<Sent[]> {
  const payload = requests.map((r) => ({ method: r.method, path: r.path, headers: r.headers, body: r.body.toString('base64') }));
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_GENERATOR, { eval: true, workerData: { url, requests: payload, concurrency } });
    worker.once('message', (results: Sent[]) => resolve(results));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

export interface EmulatorFloor {
  concurrency: number;
  requests: number;
  perSecond: number;
  latency: { p50: number; p99: number };
  /** Little's law: the least mean ack latency any ingress can have on these emulators at this concurrency. */
  minMeanAckMs: number;
}

/**
 * The emulators' own limit for one webhook ack, with no keysmith code in the loop: exactly the two
 * calls the ingress makes — BatchWriteItem of a delivery record and a license's two lookup items,
 * then SendMessageBatch of one event — from `concurrency` lanes, emulators on their own thread as
 * in the local stack. No ingress can ack faster than this on the same emulators.
 */
export async function emulatorFloor(concurrency: number, requests: number): Promise<EmulatorFloor> {
  const emulators = await startEmulatorsInThread(__filename);
  try {
    const credentials = () => DUMMY_CREDENTIALS;
    const dynamodb = dynamodbClient({ endpoint: emulators.endpoints.dynamodb, region: LOCAL.region, credentials });
    const sqs = sqsClient({ endpoint: emulators.endpoints.sqs, region: LOCAL.region, credentials });
    // A real FastSpring body, for the delivery record's gzip payload.
    const sample = (await WEBHOOK_PROVIDERS.find((r) => r.name === 'fastspring')!.sample()).build({ secrets: { KEYSMITH_FASTSPRING_SECRET: 'floor' } });
    const latencies: number[] = [];
    let next = 0;
    const one = async (i: number): Promise<void> => {
      const event = {
        provider: 'fastspring' as const,
        eventId: `floor-${i}`,
        occurredAt: '2026-01-01T00:00:00.000Z',
        action: 'grant' as const,
        reason: 'order.completed',
        scope: `floor-order-${i}`,
        live: true,
        customer: { email: `floor-${i}@example.com` },
        items: [{ productId: 'app', quantity: 1 }],
      };
      const started = now();
      await batchWriteItems(dynamodb, TABLE.name, [
        {
          PutRequest: {
            Item: deliveryItem({
              provider: 'fastspring',
              deliveryId: `floor-${i}`,
              receivedAt: new Date(),
              route: 'POST /webhooks/fastspring',
              payload: sample.body,
              contentType: 'application/json',
              events: [event],
            }),
          },
        },
        ...lookupRequests({ provider: 'fastspring', scope: event.scope }, [{ licenseId: `lic-floor-${i}`, key: `KEY-${i}` }]),
      ]);
      const accepted = await sendMessageBatch(sqs, emulators.queueUrl, [toQueueEntry(event, 0) as never]);
      if (accepted.size !== 1) throw new Error('emulator floor: SQS refused the message');
      latencies.push(now() - started);
    };
    // Warm-up, then the measured lanes.
    for (let i = 0; i < 50; i++) await one(-1 - i);
    latencies.length = 0;
    const started = now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) await one(next++);
      }),
    );
    const perSecond = requests / ((now() - started) / 1000);
    return { concurrency, requests, perSecond, latency: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }, minMeanAckMs: (concurrency / perSecond) * 1000 };
  } finally {
    await emulators.stop();
  }
}

export { now };
