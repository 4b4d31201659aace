import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretsFrom } from '../../functions/aws/secrets';
import { applyContextFactory } from '../../functions/config/applyContext';
import { loadCatalog } from '../../functions/config/loadCatalog';
import type { ProviderName } from '../../functions/domain/events';
import { QUEUE } from '../../functions/settings';
import { readDevSecrets } from '../../lib/local/devSecrets';
import type { PollerStats } from '../../lib/local/poller';
import { startLocalStack } from '../../lib/local/stack';
import { type FuzzReport, runFuzz } from './fuzz/run';
import { type OrderPlan, planOrders } from './orders';
import { type Check, type OrdersVerification, type SendResult, sendOrders, verifyOrders } from './ordersPhase';
import { Random } from './random';
import { type SubscriptionsReport, subscriptionsPhase } from './subscriptionsPhase';
import { createSoakWorker, type LogCounts, type WorkerFaultOptions, type WorkerStats } from './worker';

/**
 * The soak: the whole local stack (real emulators, real ingress handlers over HTTP, the real
 * worker with faults injected) under thousands of orders, then tens of thousands of hostile
 * requests. `npm run soak` runs it at full size and writes RELIABILITY.md; `npm test` runs a small
 * one (test/integration/soak/). Both check the same invariants.
 */

export interface SoakOptions {
  /** Orders, spread evenly over the providers. */
  orders: number;
  /**
   * Long-lived subscriptions (renewals over simulated years, holds, seller operations), disputed
   * Paddle orders, and Stripe subscriptions whose payments are disputed or refunded.
   */
  subscriptions: { count: number; months: number; disputes: number; stripe?: number };
  /** Fuzzed requests. */
  fuzzCases: number;
  /** Seeds the order plan, the faults and the fuzz cases. */
  seed: number;
  /** HTTP clients sending deliveries at once. */
  concurrency: number;
  /** Concurrent worker invocations (the event source mapping's maximum concurrency). */
  workerConcurrency: number;
  refundRate: number;
  refundFirstRate: number;
  concurrentDuplicateRate: number;
  faults: WorkerFaultOptions;
  /**
   * Queue visibility timeout (s). Failed messages come back when the worker's backoff says (it
   * sets their visibility); this is how long an unacknowledged message stays hidden otherwise. It
   * must stay well above the longest batch — a batch whose messages reappear while it still runs
   * spends their receive budget twice (AWS asks for 6 × the function timeout; the default here is
   * short so a run ends in minutes, yet longer than any batch under SDK throttling backoff).
   */
  visibilityTimeoutSeconds: number;
  drainTimeoutMs: number;
  progress?: (line: string) => void;
}

export const DEFAULT_OPTIONS: Omit<SoakOptions, 'orders' | 'fuzzCases' | 'seed' | 'subscriptions'> = {
  concurrency: 32,
  workerConcurrency: 16,
  refundRate: 0.2,
  refundFirstRate: 0.25,
  concurrentDuplicateRate: 0.25,
  faults: { sesThrottleRate: 0.1, dynamoThrottleRate: 0.05, crashRate: 0.02, maxDelayMs: 4, backoffScale: 0.1 },
  visibilityTimeoutSeconds: 5,
  drainTimeoutMs: 10 * 60_000,
};

/** Sizes and seed from the environment: KEYSMITH_SOAK_ORDERS, KEYSMITH_SOAK_FUZZ, KEYSMITH_SOAK_SEED. */
export function optionsFromEnv(defaults: { orders: number; fuzzCases: number; subscriptions: SoakOptions['subscriptions'] }, env: NodeJS.ProcessEnv = process.env): SoakOptions {
  const int = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number ≥ 0, not "${raw}"`);
    return value;
  };
  return {
    ...DEFAULT_OPTIONS,
    orders: int('KEYSMITH_SOAK_ORDERS', defaults.orders),
    subscriptions: {
      count: int('KEYSMITH_SOAK_SUBSCRIPTIONS', defaults.subscriptions.count),
      months: int('KEYSMITH_SOAK_MONTHS', defaults.subscriptions.months),
      disputes: int('KEYSMITH_SOAK_DISPUTES', defaults.subscriptions.disputes),
      stripe: int('KEYSMITH_SOAK_STRIPE', defaults.subscriptions.stripe ?? 0),
    },
    fuzzCases: int('KEYSMITH_SOAK_FUZZ', defaults.fuzzCases),
    seed: int('KEYSMITH_SOAK_SEED', Math.floor(Math.random() * 2 ** 31)),
    concurrency: int('KEYSMITH_SOAK_CONCURRENCY', DEFAULT_OPTIONS.concurrency),
    workerConcurrency: int('KEYSMITH_SOAK_WORKER_CONCURRENCY', DEFAULT_OPTIONS.workerConcurrency),
  };
}

export interface OrdersReport {
  orders: number;
  byProvider: Record<string, { orders: number; refunded: number; refundFirst: number; licenses: number; emailsOwed: number }>;
  sent: Omit<SendResult, 'paddleAnswers' | 'unexpected'> & { unexpected: SendResult['unexpected'] };
  verification: OrdersVerification;
  worker: Omit<WorkerStats, 'windowCrashes'> & { windowCrashOrders: number };
  poller: PollerStats;
  /** Wall time: sending, then until the queue was drained. */
  sendMs: number;
  drainMs: number;
}

export interface SoakReport {
  options: Omit<SoakOptions, 'progress'>;
  startedAt: string;
  finishedAt: string;
  ms: number;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  settings: { maxReceiveCount: number; batchSize: number; visibilityTimeoutSeconds: number; maxConcurrency: number; retryBackoff: { baseSeconds: number; maxSeconds: number } };
  orders?: OrdersReport;
  subscriptions?: SubscriptionsReport;
  fuzz?: FuzzReport;
  /** JSON log lines the handlers wrote at error level. */
  handlerLogs: LogCounts;
  checks: Check[];
  ok: boolean;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = new Date();
  const progress = options.progress ?? (() => undefined);
  const random = new Random(options.seed);
  const capture = captureHandlerLogs();
  const report: SoakReport = {
    options: withoutProgress(options),
    startedAt: started.toISOString(),
    finishedAt: '',
    ms: 0,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}` },
    settings: {
      maxReceiveCount: QUEUE.maxReceiveCount,
      batchSize: QUEUE.batchSize,
      visibilityTimeoutSeconds: QUEUE.visibilityTimeoutSeconds,
      maxConcurrency: QUEUE.maxConcurrency,
      retryBackoff: { ...QUEUE.retryBackoff },
    },
    handlerLogs: capture.counts,
    checks: [],
    ok: false,
  };
  try {
    if (options.orders > 0) report.orders = await ordersPhase(options, random.fork(), progress);
    if (options.subscriptions.count + options.subscriptions.disputes + (options.subscriptions.stripe ?? 0) > 0) {
      report.subscriptions = await subscriptionsPhase(
        {
          subscriptions: options.subscriptions.count,
          months: options.subscriptions.months,
          disputes: options.subscriptions.disputes,
          stripe: options.subscriptions.stripe ?? 0,
          concurrency: Math.min(options.concurrency, 16),
          workerConcurrency: options.workerConcurrency,
          visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
          drainTimeoutMs: options.drainTimeoutMs,
          faults: options.faults,
        },
        random.fork(),
        progress,
      );
    }
    if (options.fuzzCases > 0) report.fuzz = await runFuzz({ cases: options.fuzzCases, seed: options.seed, concurrency: options.concurrency, progress });
  } finally {
    capture.restore();
  }
  report.checks = [...(report.orders?.verification.checks ?? []), ...(report.subscriptions?.checks ?? []), ...(report.fuzz?.checks ?? [])];
  report.checks.push({
    name: 'no handler logged an error',
    required: '0 error lines',
    found: String(capture.counts.error),
    ok: capture.counts.error === 0,
    ...(capture.counts.error > 0 ? { examples: capture.counts.errors.slice(0, 10) } : {}),
  });
  const finished = new Date();
  report.finishedAt = finished.toISOString();
  report.ms = finished.getTime() - started.getTime();
  report.ok = report.checks.every((c) => c.ok);
  return report;
}

async function ordersPhase(options: SoakOptions, random: Random, progress: (line: string) => void): Promise<OrdersReport> {
  const stateDir = mkdtempSync(join(tmpdir(), 'keysmith-soak-'));
  let worker: ReturnType<typeof createSoakWorker> | undefined;
  const stack = await startLocalStack({
    port: 0,
    stateDir,
    log: false,
    queueOverrides: { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds, maxConcurrency: options.workerConcurrency },
    handlers: { worker: (event, context) => (worker ? worker.handler(event, context) : Promise.reject(new Error('the soak worker is not ready'))) },
  });
  try {
    worker = createSoakWorker(options.faults, random.fork());
    const secrets = { ...readDevSecrets(stateDir), ...stack.env };
    const verifySecrets = secretsFrom(stack.env);
    const catalog = loadCatalog();
    progress(`planning ${options.orders} orders`);
    const plans = await planOrders({
      orders: options.orders,
      refundRate: options.refundRate,
      refundFirstRate: options.refundFirstRate,
      concurrentDuplicateRate: options.concurrentDuplicateRate,
      secrets,
      verifySecrets,
      catalog,
      context: applyContextFactory()(verifySecrets, catalog, new Date()),
      random: random.fork(),
    });
    const requests = plans.reduce((n, p) => n + p.steps.reduce((m, s) => m + s.copies, 0), 0);
    progress(`sending ${requests} deliveries for ${plans.length} orders with ${options.concurrency} clients`);
    const sent = await sendOrders(plans, stack.url, options.concurrency, (done) =>
      progress(`  ${done}/${plans.length} orders sent; worker: ${worker!.stats.records} records, ${worker!.stats.emailsAccepted} emails`),
    );
    progress(`sent in ${(sent.ms / 1000).toFixed(1)} s; draining the queue`);
    const drainStarted = Date.now();
    const ticker = setInterval(() => {
      const s = stack.poller.stats();
      progress(`  draining: ${s.deleted} deleted, ${s.running} running, ${s.held} held; worker ${worker!.stats.records} records`);
    }, 15_000);
    try {
      await stack.poller.drain(options.drainTimeoutMs);
    } finally {
      clearInterval(ticker);
    }
    const drainMs = Date.now() - drainStarted;
    progress(`drained in ${(drainMs / 1000).toFixed(1)} s; verifying`);
    const verification = await verifyOrders(plans, { tableName: stack.tableName, sesEndpoint: stack.endpoints.ses, queueUrl: stack.queueUrl, dlqUrl: stack.dlqUrl }, sent, worker.stats);
    const { windowCrashes, ...workerStats } = worker.stats;
    const { paddleAnswers: _answers, ...sentStats } = sent;
    return {
      orders: plans.length,
      byProvider: byProvider(plans),
      sent: sentStats,
      verification,
      worker: { ...workerStats, windowCrashOrders: windowCrashes.size },
      poller: stack.poller.stats(),
      sendMs: sent.ms,
      drainMs,
    };
  } finally {
    worker?.destroy();
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function byProvider(plans: OrderPlan[]): OrdersReport['byProvider'] {
  const out: OrdersReport['byProvider'] = {};
  for (const plan of plans) {
    const row = (out[plan.provider as ProviderName] ??= { orders: 0, refunded: 0, refundFirst: 0, licenses: 0, emailsOwed: 0 });
    row.orders++;
    if (plan.refund) row.refunded++;
    if (plan.refundFirst) row.refundFirst++;
    row.licenses += plan.expected.licenses.length;
    row.emailsOwed += plan.expected.emails;
  }
  return out;
}

function withoutProgress(options: SoakOptions): Omit<SoakOptions, 'progress'> {
  const { progress: _progress, ...rest } = options;
  return rest;
}

/**
 * The handlers log JSON lines on stdout (info and above by default). During a soak they are
 * counted, not printed: error lines are the interesting ones (an ingress 5xx logs "webhook failed"
 * at error level) and their first few are kept for the report. Other output passes through.
 */
function captureHandlerLogs(): { counts: LogCounts; restore: () => void } {
  const counts: LogCounts = { warn: 0, error: 0, errors: [] };
  const original = process.stdout.write;
  const write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
    if (text?.startsWith('{"level":"')) {
      for (const line of text.split('\n')) {
        if (line.startsWith('{"level":"error"')) {
          counts.error++;
          if (counts.errors.length < 20) counts.errors.push(line.slice(0, 1000));
        } else if (line.startsWith('{"level":"warn"')) counts.warn++;
      }
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  process.stdout.write = write as typeof process.stdout.write;
  return { counts, restore: () => void (process.stdout.write = original) };
}
