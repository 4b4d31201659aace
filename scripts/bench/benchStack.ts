import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ProviderName } from '../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import type { HttpApiHandler } from '../../lib/local/apiServer';
import type { QueueOverrides } from '../../lib/local/definitions';
import { readDevSecrets } from '../../lib/local/devSecrets';
import { startEmulatorsInThread } from '../../lib/local/emulatorThread';
import { type LocalStack, startLocalStack } from '../../lib/local/stack';
import { CallLog, type FunctionKind, instrument, now, scope } from './instrument';

/**
 * The local stack as `npm start` runs it — emulators on their own thread — with the real handlers,
 * each wrapped so the AWS calls it makes are attributed to it, and the worker's deliveries and
 * completion times recorded. The handlers'
 * JSON log lines are formatted as usual but not written (they would drown the report).
 */

export interface BenchStack {
  stack: LocalStack;
  log: CallLog;
  /** Secrets to sign samples with (the stack's, plus the dev private keys). */
  secrets: Record<string, string | undefined>;
  /** Every SQS record the worker was handed, in order. */
  delivered: SQSRecord[];
  /** End times of worker invocations (`now()` clock). */
  workerDone: number[];
  /** The real worker, inside the counting scope (for direct redeliveries). */
  worker: (event: SQSEvent) => Promise<unknown>;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  queueOverrides?: QueueOverrides;
  /**
   * Attribute AWS calls to the handlers (AsyncLocalStorage + diagnostics channel). Off for the
   * throughput run: AsyncLocalStorage's promise hooks tax every promise in the process.
   * @default true
   */
  countCalls?: boolean;
}

export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const countCalls = options.countCalls ?? true;
  const inScope = <T>(fn: FunctionKind, run: () => T): T => (countCalls ? scope.run(fn, run) : run());
  const stateDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-stack-'));
  const log = new CallLog();
  const muted = muteStdout();
  const delivered: SQSRecord[] = [];
  const workerDone: number[] = [];
  const ingress: Partial<Record<ProviderName, HttpApiHandler>> = {};
  for (const registration of WEBHOOK_PROVIDERS) {
    const { handler } = await registration.load();
    ingress[registration.name] = (event, context) => inScope('ingress', () => handler(event, context));
  }
  const realLicensing = (await import('../../functions/licensing/handler')).handler;
  const licensing: HttpApiHandler = (event, context) => inScope('licensing', () => realLicensing(event, context));
  const realWorker = (await import('../../functions/worker/handler')).handler;
  const worker = async (event: SQSEvent, context?: Context) => {
    delivered.push(...event.Records);
    try {
      // The invocation's context: the worker budgets its calls from its deadline.
      return await inScope('worker', () => realWorker(event, context));
    } finally {
      workerDone.push(now());
    }
  };
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      port: 0,
      stateDir,
      log: false,
      handlers: { ingress, worker, licensing },
      // As `npm start` runs them: on their own thread (this bundle, started again; see main.ts).
      emulators: (o) => startEmulatorsInThread(__filename, o),
      ...(options.queueOverrides ? { queueOverrides: options.queueOverrides } : {}),
    });
  } catch (error) {
    muted.restore();
    throw error;
  }
  const services = new Map<string, string>();
  for (const [name, url] of Object.entries(stack.endpoints)) services.set(new URL(url).host, name);
  const uninstall = instrument(log, (host) => services.get(host), { countCalls });
  return {
    stack,
    log,
    secrets: { ...stack.env, ...readDevSecrets(stateDir) },
    delivered,
    workerDone,
    worker: (event) => worker(event),
    stop: async () => {
      try {
        await stack.stop();
      } finally {
        uninstall();
        // Turns AsyncLocalStorage's promise hooks off again for whatever runs next.
        scope.disable();
        muted.restore();
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
}

/** Drops writes to stdout (the handlers' log lines); the report goes to stderr meanwhile. */
export function muteStdout(): { restore(): void } {
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') (done as () => void)();
    return true;
  }) as typeof process.stdout.write;
  return { restore: () => void (process.stdout.write = original) };
}
