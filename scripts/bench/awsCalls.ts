import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { DynamoEntitlementStore } from '../../functions/aws/store';
import { VIEW_SK } from '../../functions/aws/storeKeys';
import type { ProviderName } from '../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import type { SampleRequest } from '../../functions/providers/sample';
import { localClientConfig } from '../../lib/local/emulators';
import { type BenchStack, startBenchStack } from './benchStack';
import { liveFastspringOrder } from './fixtures';
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
  /** Of the worker's calls, the license views it wrote (PutItem of a `VIEW` item, seen by the SDK middleware). */
  workerViews: number;
  /** Licenses the order holds after the worker (read back from the table); undefined if not found. */
  licenses?: number;
}

/** One license API request over the local stack and the DynamoDB calls it made. */
export interface LicensingCall {
  /** `validate`, `activate (new instance)`, … */
  label: string;
  route: 'validate' | 'activate' | 'deactivate';
  status: number;
  code: string;
  calls: number;
  reads: number;
  writes: number;
  /** Writes whose request carried a ConditionExpression. */
  conditionalWrites: number;
  ops: string;
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
  /** A live FastSpring order (its license validates), then the license API on its key. */
  liveOrder: CallCounts;
  licensing: LicensingCall[];
}

export async function awsCalls(ordersPerProvider = 3): Promise<CallsResult> {
  const bench = await startBenchStack();
  let dynamo: DynamoDBClient | undefined;
  try {
    // Reads back what the worker wrote, outside any counting scope (not counted).
    dynamo = new DynamoDBClient(localClientConfig(bench.stack.endpoints.dynamodb));
    const reader = new DynamoEntitlementStore(dynamo, bench.stack.tableName);
    const licensesOf = async (provider: ProviderName, orderId: string): Promise<number | undefined> => {
      const [order] = await reader.findByOrder(provider, orderId);
      return order?.state.licenses.length;
    };
    const newOrder = {} as Record<ProviderName, CallCounts>;
    let last: { sample: SampleRequest; record?: SQSRecord } | undefined;
    for (const registration of WEBHOOK_PROVIDERS) {
      const builder = await registration.sample();
      let worst: CallCounts | undefined;
      for (let i = 0; i < ordersPerProvider; i++) {
        const sample = builder.build({ secrets: bench.secrets, email: `calls-${registration.name}-${i}@example.com` });
        const seen = bench.delivered.length;
        const counts = await measure(bench, () => send(bench, sample));
        const licenses = await licensesOf(registration.name, sample.orderId);
        if (licenses !== undefined) counts.licenses = licenses;
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
    const live = await liveFastspringOrder(bench.secrets, 'calls-licensing@example.com');
    const liveOrder = await measure(bench, () => send(bench, live));
    const [order] = await reader.findByOrder('fastspring', live.orderId);
    const license = order?.state.licenses.find((l) => l.format === 'key') ?? order?.state.licenses[0];
    if (!license) throw new Error('the live fastspring order issued no license');
    liveOrder.licenses = order!.state.licenses.length;
    const licensing = await licensingCalls(bench, license.key);
    return { newOrder, resentWithinWindow, redelivered, resentAfterWindow, ordersPerProvider, liveOrder, licensing };
  } finally {
    dynamo?.destroy();
    await bench.stop();
  }
}

/**
 * The license API on a key the worker issued, one request at a time, each with the DynamoDB calls
 * it made (counted on the wire, in the licensing function's scope). Every request must get the
 * answer it is there to measure, or the run fails: a count of a wrong path is no figure.
 */
async function licensingCalls(bench: BenchStack, key: string): Promise<LicensingCall[]> {
  const out: LicensingCall[] = [];
  const call = async (label: string, route: LicensingCall['route'], fields: Record<string, string>, expect: { status: number; code: string }): Promise<Record<string, any>> => {
    bench.log.reset();
    const res = await rawRequest(`${bench.stack.licensingUrl}/v1/licenses/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(new URLSearchParams(fields).toString()),
    });
    const body = JSON.parse(res.body.toString('utf8') || '{}') as Record<string, any>;
    if (res.status !== expect.status || body.code !== expect.code)
      throw new Error(`license API ${label}: expected ${expect.status} ${expect.code}, got ${res.status} ${res.body.toString().slice(0, 300)}`);
    const wire = bench.log.wire('licensing');
    const isRead = (op: string) => ['GetItem', 'BatchGetItem', 'Query', 'Scan'].includes(op);
    const writes = wire.filter((c) => !isRead(c.operation));
    out.push({
      label,
      route,
      status: res.status,
      code: String(body.code),
      calls: wire.length,
      reads: wire.filter((c) => isRead(c.operation)).length,
      writes: writes.length,
      conditionalWrites: bench.log.calls.filter((c) => c.fn === 'licensing' && c.via === 'light' && !isRead(c.operation) && c.conditional).length,
      ops: opsOf(wire),
    });
    return body;
  };
  await call('validate, unknown key', 'validate', { license_key: 'BENCH-UNKNOWN-KEY-00000' }, { status: 404, code: 'NOT_FOUND' });
  await call('validate', 'validate', { license_key: key }, { status: 200, code: 'VALID' });
  const activated = await call('activate, new instance', 'activate', { license_key: key, instance_name: 'bench-laptop', fingerprint: 'bench-fp-1' }, { status: 200, code: 'VALID' });
  const instanceId = String(activated.instance?.id);
  await call('activate, same instance again', 'activate', { license_key: key, instance_name: 'bench-laptop', fingerprint: 'bench-fp-1' }, { status: 200, code: 'VALID' });
  await call('validate with instance_id', 'validate', { license_key: key, instance_id: instanceId, fingerprint: 'bench-fp-1' }, { status: 200, code: 'VALID' });
  await call('deactivate', 'deactivate', { license_key: key, instance_id: instanceId }, { status: 200, code: 'VALID' });
  return out;
}

function opsOf(calls: AwsCall[]): string {
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(c.operation, (counts.get(c.operation) ?? 0) + 1);
  return [...counts].map(([op, n]) => `${op}×${n}`).join(', ') || 'none';
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
  const ops = opsOf;
  return {
    ingress: bench.log.wire('ingress').length,
    worker: bench.log.wire('worker').length,
    ingressOps: ops(bench.log.wire('ingress')),
    workerOps: ops(bench.log.wire('worker')),
    ingressSdk: bench.log.sdk('ingress').length,
    workerSdk: bench.log.sdk('worker').length,
    workerViews: bench.log.sdk('worker').filter((c) => c.operation === 'PutItem' && c.sortKey === VIEW_SK).length,
  };
}
