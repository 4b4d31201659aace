import type { SQSRecord } from 'aws-lambda';
import type { ProviderName } from '../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import type { SampleRequest } from '../../functions/providers/sample';
import { type BenchStack, startBenchStack } from './benchStack';
import { rawRequest } from './http';
import type { AwsCall } from './instrument';

/**
 * AWS calls per order over the local stack, counted by an SDK middleware and on the wire (see
 * instrument.ts): one order at a time, so every call belongs to it.
 */

export interface CallCounts {
  ingress: number;
  worker: number;
  /** `SendMessageBatch×1, BatchWriteItem×1` … */
  ingressOps: string;
  workerOps: string;
  /** Of the worker's calls, how many the SDK middleware saw (the rest went through the light client). */
  workerSdk: number;
  ingressSdk: number;
}

export interface CallsResult {
  /** A new order, end to end, per provider (max over the orders sent). */
  newOrder: Record<ProviderName, CallCounts>;
  /** The same webhook delivered again within SQS's 5-minute deduplication window. */
  resentWithinWindow: CallCounts;
  /** The worker handed a message it already processed (a Lambda/SQS redelivery). */
  redelivered: CallCounts;
  /** The worker handed the same event as a new message (a provider resend after the window). */
  resentAfterWindow: CallCounts;
  ordersPerProvider: number;
}

export async function awsCalls(ordersPerProvider = 3): Promise<CallsResult> {
  const bench = await startBenchStack();
  try {
    const newOrder = {} as Record<ProviderName, CallCounts>;
    let last: { sample: SampleRequest; record?: SQSRecord } | undefined;
    for (const registration of WEBHOOK_PROVIDERS) {
      const builder = await registration.sample();
      let worst: CallCounts | undefined;
      for (let i = 0; i < ordersPerProvider; i++) {
        const sample = builder.build({ secrets: bench.secrets, email: `calls-${registration.name}-${i}@example.com` });
        const seen = bench.delivered.length;
        const counts = await measure(bench, () => send(bench, sample));
        if (!worst || counts.ingress + counts.worker > worst.ingress + worst.worker) worst = counts;
        if (registration.name === 'fastspring') last = { sample, record: bench.delivered[seen] };
      }
      newOrder[registration.name] = worst!;
    }
    if (!last?.record) throw new Error('the worker never received the fastspring order');
    const record = last.record;
    const resentWithinWindow = await measure(bench, () => send(bench, last!.sample));
    const redelivered = await measure(bench, async () => {
      await bench.worker({ Records: [{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '2' } }] });
    });
    const resentAfterWindow = await measure(bench, async () => {
      await bench.worker({ Records: [{ ...record, messageId: `${record.messageId}-resent`, attributes: { ...record.attributes, ApproximateReceiveCount: '1' } }] });
    });
    return { newOrder, resentWithinWindow, redelivered, resentAfterWindow, ordersPerProvider };
  } finally {
    await bench.stop();
  }
}

async function send(bench: BenchStack, sample: SampleRequest): Promise<void> {
  const res = await rawRequest(`${bench.stack.url}${sample.path}`, { method: sample.method, headers: sample.headers, body: sample.body });
  if (res.status >= 300) throw new Error(`${sample.path} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
}

async function measure(bench: BenchStack, act: () => Promise<void>): Promise<CallCounts> {
  await bench.stack.poller.drain(30_000);
  bench.log.reset();
  await act();
  await bench.stack.poller.drain(30_000);
  const ops = (calls: AwsCall[]) => {
    const counts = new Map<string, number>();
    for (const c of calls) counts.set(c.operation, (counts.get(c.operation) ?? 0) + 1);
    return [...counts].map(([op, n]) => `${op}×${n}`).join(', ') || 'none';
  };
  return {
    ingress: bench.log.wire('ingress').length,
    worker: bench.log.wire('worker').length,
    ingressOps: ops(bench.log.wire('ingress')),
    workerOps: ops(bench.log.wire('worker')),
    ingressSdk: bench.log.sdk('ingress').length,
    workerSdk: bench.log.sdk('worker').length,
  };
}
