import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type DeliveryLog, deliveryWrites } from '../../functions/aws/deliveryLog';
import { type EventQueue, toQueueEntry } from '../../functions/aws/queue';
import { secretsFrom } from '../../functions/aws/secrets';
import { EXAMPLE_CONFIG_PATH } from '../../functions/config/loadCatalog';
import { parseCatalog } from '../../functions/domain/catalog';
import type { FulfillmentEvent, ProviderName } from '../../functions/domain/events';
import { toWebhookRequest } from '../../functions/ingress/handler';
import { runIngress } from '../../functions/ingress/pipeline';
import type { Provider } from '../../functions/ingress/types';
import { createLogger } from '../../functions/log/logger';
import { fastspring } from '../../functions/providers/fastspring';
import { findWebhookProvider } from '../../functions/providers/registry';
import { type BenchSecrets, benchSecrets, PROVIDERS, samples, toApiEvent } from './fixtures';
import { percentile } from './stats';

/**
 * Ingress CPU: keysmith's own work per request — API event → request, verify, parse, normalize,
 * predict licenses, build the delivery-log items and the queue message, answer, log — with the
 * queue and delivery-log ports stubbed (they build their items, nothing goes out), against the
 * floor for the same bodies: the signature check plus JSON.parse / form parsing, nothing else.
 *
 * Both run interleaved in rounds on the same thread, so drift on a shared machine hits both.
 */

export interface Percentiles {
  p50: number;
  p99: number;
}

/** Where the time goes: each stage timed on its own (p50 µs-range, ms units). */
export interface Stages {
  request: number;
  verify: number;
  parse: number;
  normalize: number;
  queueMessage: number;
  answer: number;
  log: number;
}

export interface CpuResult {
  provider: ProviderName;
  stages: Stages;
  /** The scope: verify, parse, normalize, build the queue message (and answer, log). */
  core: Percentiles;
  /** Everything the ingress does per request, also the delivery log and the predicted license lookups. */
  full: Percentiles;
  floor: Percentiles;
  /** core p50 / floor p50. */
  ratio: number;
  /** full p50 / floor p50. */
  fullRatio: number;
  samples: number;
}

export interface SdkCostResult {
  sdk: { p50: number; p99: number };
  /** The light client (functions/aws/light) with the same instant transport, when it exists. */
  light?: { p50: number; p99: number };
  samples: number;
}

export interface CpuOptions {
  rounds: number;
  perRound: number;
  warmup: number;
}

export const DEFAULT_CPU: CpuOptions = { rounds: 10, perRound: 300, warmup: 600 };

/** A sink the optimizer cannot see through. */
let sink = 0;

export async function ingressCpu(options: CpuOptions = DEFAULT_CPU, secrets: BenchSecrets = benchSecrets()): Promise<CpuResult[]> {
  const catalog = parseCatalog(JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')));
  const handlerSecrets = secretsFrom(secrets.handler);
  const queue: EventQueue = {
    send: async (events: FulfillmentEvent[]) => {
      // The queue message exactly as it is sent: entries with the JSON body, group and dedupe ids.
      const entries = events.map(toQueueEntry);
      sink += entries.length;
      return { accepted: events, failed: [] };
    },
  };
  const deliveries: DeliveryLog = {
    record: async (record, predicted) => {
      // The items exactly as they are written: the delivery record (gzip payload) and the lookups.
      sink += deliveryWrites(record, predicted).length;
      return true;
    },
  };
  // Log lines are formatted (redaction, JSON) as in Lambda; only the write is dropped.
  const log = createLogger({}, (line) => {
    sink += line.length;
  });
  const full = { queue, deliveries, catalog, secrets: async () => handlerSecrets, log };
  const core = { queue, catalog, secrets: async () => handlerSecrets, log };

  const results: CpuResult[] = [];
  for (const name of PROVIDERS) {
    const provider = await findWebhookProvider(name)!.provider();
    const events = (await samples(name, secrets, 200)).map((s, i) => toApiEvent(s, `bench-${i}`));
    const floor = await floorFor(name, secrets);
    const run =
      (deps: typeof core) =>
      async (event: APIGatewayProxyEventV2): Promise<void> => {
        const answer = await runIngress(provider, toWebhookRequest(event), deps);
        if (answer.status >= 300) throw new Error(`${name}: the ingress answered ${answer.status}: ${answer.body}`);
        sink += answer.body.length;
      };
    const variants: Array<(event: APIGatewayProxyEventV2) => unknown> = [run(core), run(full), floor];
    const { percentiles, samples: sampleCount } = await interleaved(variants, events, options);
    const [c, u, f] = percentiles as [Percentiles, Percentiles, Percentiles];
    const stages = await stageTimes(provider, events, { secrets: handlerSecrets, catalog }, log, options);
    results.push({ provider: name, stages, core: c, full: u, floor: f, ratio: c.p50 / f.p50, fullRatio: u.p50 / f.p50, samples: sampleCount });
  }
  if (sink === -1) console.log(sink);
  return results;
}

/**
 * The pipeline's stages one at a time, each on all sample requests in turn (p50 of
 * rounds × perRound): what `runIngress` spends, minus its own glue (awaits, guards, error
 * handling), which is the difference between the pipeline's p50 and the sum of these.
 */
async function stageTimes(
  provider: Provider<any, any>,
  events: APIGatewayProxyEventV2[],
  ctx: { secrets: ReturnType<typeof secretsFrom>; catalog: ReturnType<typeof parseCatalog> },
  log: ReturnType<typeof createLogger>,
  options: CpuOptions,
): Promise<Stages> {
  const prepared = await Promise.all(
    events.map(async (event) => {
      const request = toWebhookRequest(event);
      const verified = await provider.verify(request, ctx);
      const parsed = provider.parse(verified, request);
      const normalized = provider.normalize(parsed, request, ctx);
      return { event, request, verified, parsed, normalized };
    }),
  );
  const time = async (run: (p: (typeof prepared)[number]) => unknown): Promise<number> => {
    for (let i = 0; i < options.warmup; i++) await run(prepared[i % prepared.length]!);
    const values: number[] = [];
    for (let i = 0; i < options.rounds * options.perRound; i++) {
      const p = prepared[i % prepared.length]!;
      const start = process.hrtime.bigint();
      const pending = run(p);
      if (pending instanceof Promise) await pending;
      values.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return percentile(values, 50);
  };
  return {
    request: await time((p) => toWebhookRequest(p.event)),
    verify: await time((p) => provider.verify(p.request, ctx)),
    parse: await time((p) => provider.parse(p.verified, p.request)),
    normalize: await time((p) => provider.normalize(p.parsed, p.request, ctx)),
    queueMessage: await time((p) => p.normalized.map(toQueueEntry)),
    answer: await time((p) => provider.answer({ events: p.normalized, accepted: p.normalized, failed: [] }, p.parsed, ctx)),
    log: await time((p) =>
      log.info('webhook accepted', {
        provider: provider.name,
        requestId: p.request.requestId,
        status: 200,
        events: p.normalized.length,
        enqueued: p.normalized.length,
        failed: 0,
        eventIds: p.normalized.map((e: FulfillmentEvent) => e.eventId),
        ms: 0.123,
      }),
    ),
  };
}

const bodyOf = (event: APIGatewayProxyEventV2): Buffer => Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');

/** The provider's own floor (`functions/providers/<name>/bench.ts`), over the API Gateway event. */
async function floorFor(name: ProviderName, secrets: BenchSecrets): Promise<(event: APIGatewayProxyEventV2) => void> {
  const floor = (await findWebhookProvider(name)!.benchFloor())(secrets.handler);
  return (event) => {
    sink += floor({ method: event.requestContext.http.method, headers: event.headers, pathParameters: event.pathParameters ?? {}, rawQuery: event.rawQueryString, body: bodyOf(event) });
  };
}

/**
 * One `SendMessageBatch` of one event through the AWS SDK with an HTTP handler that answers at
 * once (no network): serialization, signing, middleware, deserialization and the MD5 check.
 */
export async function sdkSendCost(options: { iterations: number; warmup: number } = { iterations: 3000, warmup: 500 }, light?: LightSend): Promise<SdkCostResult> {
  const secrets = benchSecrets();
  const [sample] = await samples('fastspring', secrets, 1);
  const catalog = parseCatalog(JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')));
  const events = fastspring.normalize(fastspring.parse(sample!.body, toWebhookRequest(toApiEvent(sample!, 'x'))), toWebhookRequest(toApiEvent(sample!, 'x')), {
    secrets: secretsFrom(secrets.handler),
    catalog,
  });
  const instant = instantSqsAnswer;
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    endpoint: 'http://127.0.0.1:1',
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const answer = instant(String(request.body ?? ''));
        return {
          response: { statusCode: 200, reason: 'OK', headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Readable.from([Buffer.from(answer)]) },
        };
      },
    } as never,
  });
  const queueUrl = 'http://127.0.0.1:1/000000000000/keysmith-events.fifo';
  const sdkSend = async (): Promise<void> => {
    const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: events.map(toQueueEntry) }));
    if (out.Successful?.length !== events.length) throw new Error('sdk send: not accepted');
  };
  const sdk = await timeAsync(sdkSend, options);
  const result: SdkCostResult = { sdk, samples: options.iterations };
  if (light) result.light = await timeAsync(() => light(events, instant), options);
  client.destroy();
  return result;
}

/** Sends events through the light client with a transport that answers `instant(body)` at once. */
export type LightSend = (events: FulfillmentEvent[], instant: (body: string) => string) => Promise<void>;

/** What SQS answers to a JSON-protocol SendMessageBatch: every entry accepted, with its MD5. */
export function instantSqsAnswer(body: string): string {
  const request = JSON.parse(body) as { Entries: { Id: string; MessageBody: string }[] };
  return JSON.stringify({
    Successful: request.Entries.map((e) => ({
      Id: e.Id,
      MessageId: '00000000-0000-4000-8000-000000000000',
      MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex'),
      SequenceNumber: '18849496460467696128',
    })),
    Failed: [],
  });
}

async function timeAsync(run: () => Promise<void>, options: { iterations: number; warmup: number }): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < options.warmup; i++) await run();
  const ms: number[] = [];
  for (let i = 0; i < options.iterations; i++) {
    const start = process.hrtime.bigint();
    await run();
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/**
 * Times each variant over the same events, interleaved in rounds (so drift on a shared machine
 * hits all of them alike), after a warm-up of each: JIT, key parsing, caches — the warm Lambda
 * state. Percentiles in milliseconds, per variant, in the order given.
 */
export async function interleaved<E>(
  variants: ReadonlyArray<(event: E) => unknown>,
  events: readonly E[],
  options: Pick<CpuOptions, 'warmup' | 'rounds' | 'perRound'>,
): Promise<{ percentiles: Percentiles[]; samples: number }> {
  for (let i = 0; i < options.warmup; i++) for (const variant of variants) await variant(events[i % events.length]!);
  const ms: number[][] = variants.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    for (const [v, variant] of variants.entries()) {
      for (let i = 0; i < options.perRound; i++) {
        const event = events[(round * options.perRound + i) % events.length]!;
        const start = process.hrtime.bigint();
        // A synchronous variant (the floor) is not awaited, so it pays no microtask.
        const pending = variant(event);
        if (pending instanceof Promise) await pending;
        ms[v]!.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
  }
  return { percentiles: ms.map((values) => ({ p50: percentile(values, 50), p99: percentile(values, 99) })), samples: ms[0]!.length };
}
