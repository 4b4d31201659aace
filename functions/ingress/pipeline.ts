import { randomUUID } from 'node:crypto';
import { Deadline, DeadlineExceeded } from '../aws/deadline';
import type { DeliveryLog, PredictedLicenses } from '../aws/deliveryLog';
import type { EventQueue } from '../aws/queue';
import type { Secrets } from '../aws/secrets';
import { applyContextFactory } from '../config/applyContext';
import { canonicalEvent, InvalidEvent } from '../domain/canonicalEvent';
import type { Catalog } from '../domain/catalog';
import { apply } from '../domain/entitlement';
import type { FulfillmentEvent } from '../domain/events';
import type { Logger } from '../log/logger';
import { METRIC, type Metrics, noMetrics } from '../log/metrics';
import { FUNCTIONS } from '../settings';
import { type HttpAnswer, type Provider, type ProviderContext, WebhookRejection, type WebhookRequest } from './types';

export interface IngressDeps {
  queue: EventQueue;
  /** Where verified requests are recorded; absent in unit tests that do not care. */
  deliveries?: DeliveryLog;
  catalog: Catalog;
  secrets: (options?: { refresh?: boolean }) => Promise<Secrets>;
  log: Logger;
  /** EMF metrics, flushed once per request. @default noMetrics */
  metrics?: Metrics;
  /**
   * When the invocation ends (from the Lambda context). The answer comes before it.
   * @default FUNCTIONS.ingress.timeoutSeconds from now
   */
  deadline?: Deadline;
}

/**
 * Time budget of one request (the Lambda's end is `deadline`):
 * - the delivery log (best effort) gets at most DELIVERY_LOG_MS, and never time the enqueue needs;
 * - the enqueue gets what is left until ANSWER_RESERVE_MS before the end;
 * - whatever still runs LAST_MOMENT_MS before the end is abandoned with a 503, so API Gateway
 *   never sees a timed-out invocation (its bare 500, which some providers do not retry).
 */
export const DELIVERY_LOG_MS = 1_500;
export const ANSWER_RESERVE_MS = 1_500;
export const LAST_MOMENT_MS = 500;
/** Never given to the delivery log: the least the enqueue may be left with. */
export const MIN_ENQUEUE_MS = 3_000;
/** Seconds a provider is asked to wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** Why a request is answered 503 (logged, and sent as `x-keysmith-reason`). */
export type UnavailableReason = 'ENQUEUE_FAILED' | 'DEADLINE' | 'INTERNAL';

/**
 * verify → parse → normalize → enqueue → answer.
 *
 * Order matters: size and media-type guards and authentication run before a byte is parsed, and
 * nothing is enqueued unless every earlier step passed. Every failure of the request itself is a
 * 4xx with a reason; only a queue that cannot take the events yields a 5xx, so the provider
 * retries what we could not make durable.
 */
export async function runIngress(provider: Provider, request: WebhookRequest, deps: IngressDeps): Promise<HttpAnswer> {
  const started = process.hrtime.bigint();
  const fields = { provider: provider.name, requestId: request.requestId };
  const metrics = deps.metrics ?? noMetrics;
  const dimensions = { provider: provider.name };
  const end = deps.deadline ?? Deadline.in(FUNCTIONS.ingress.timeoutSeconds * 1000);
  const work = end.earlier(ANSWER_RESERVE_MS);
  metrics.count(METRIC.received, 1, dimensions);
  // The last resort: the answer goes out before the invocation ends, whatever is still running
  // (a 503 for an event SQS may yet take is safe: the retry is deduplicated).
  let timer: NodeJS.Timeout | undefined;
  const lastMoment = new Promise<HttpAnswer>((resolve) => {
    timer = setTimeout(() => {
      deps.log.warn('webhook not accepted: out of time', { ...fields, status: 503, reason: 'DEADLINE', ms: Number(process.hrtime.bigint() - started) / 1e6 });
      metrics.count(METRIC.enqueueFailed, 1, dimensions);
      resolve(unavailable('DEADLINE', 'the request could not be completed in time, please retry'));
    }, end.earlier(LAST_MOMENT_MS).remainingMs());
  });
  try {
    return await Promise.race([ingest(provider, request, deps, { work, started, fields, metrics, dimensions }), lastMoment]);
  } finally {
    clearTimeout(timer);
    metrics.timing(METRIC.ingressLatency, Number(process.hrtime.bigint() - started) / 1e6, dimensions);
    metrics.flush();
  }
}

interface RequestScope {
  work: Deadline;
  started: bigint;
  fields: { provider: string; requestId: string };
  metrics: Metrics;
  dimensions: { provider: string };
}

async function ingest(provider: Provider, request: WebhookRequest, deps: IngressDeps, scope: RequestScope): Promise<HttpAnswer> {
  const { work, started, fields, metrics, dimensions } = scope;
  try {
    guard(provider, request);
    let ctx: ProviderContext = { secrets: await work.race(deps.secrets(), 'reading the secrets'), catalog: deps.catalog };
    let verified: unknown;
    try {
      verified = await provider.verify(request, ctx);
    } catch (error) {
      if (!(error instanceof WebhookRejection) || error.status !== 401) throw error;
      // The operator may just have set the secret: re-read once (at most once a minute), then decide.
      ctx = { ...ctx, secrets: await work.race(deps.secrets({ refresh: true }), 'reading the secrets') };
      verified = await provider.verify(request, ctx);
    }
    const payload = provider.parse(verified, request);
    const normalized = canonicalEvents(provider.normalize(payload, request, ctx));
    const events = await record(provider, request, normalized, ctx, deps, work);
    const { accepted, failed } = events.length > 0 ? await deps.queue.send(events, { deadline: work }) : { accepted: [], failed: [] };
    metrics.count(METRIC.enqueued, accepted.length, dimensions);
    if (failed.length > 0) metrics.count(METRIC.enqueueFailed, failed.length, dimensions);
    let answer = provider.answer({ events, accepted, failed }, payload, ctx);
    if (answer.status === 503) {
      const reason: UnavailableReason = work.expired() ? 'DEADLINE' : 'ENQUEUE_FAILED';
      answer = { ...answer, headers: { ...answer.headers, ...unavailableHeaders(reason) } };
      deps.log.warn('webhook not accepted: events could not be queued', {
        ...fields,
        status: 503,
        reason,
        events: events.length,
        failed: failed.length,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
      return answer;
    }
    deps.log.info('webhook accepted', {
      ...fields,
      status: answer.status,
      events: events.length,
      enqueued: accepted.length,
      failed: failed.length,
      eventIds: events.map((e) => e.eventId),
      ms: Number(process.hrtime.bigint() - started) / 1e6,
    });
    return answer;
  } catch (error) {
    if (error instanceof WebhookRejection) {
      deps.log.warn('webhook rejected', { ...fields, status: error.status, code: error.code, reason: error.message });
      metrics.count(METRIC.rejected, 1, { provider: provider.name, reason: error.code });
      return provider.reject ? provider.reject(error) : { status: error.status, body: `${error.code}: ${error.message}\n` };
    }
    if (error instanceof DeadlineExceeded) {
      deps.log.warn('webhook not accepted: out of time', { ...fields, status: 503, reason: 'DEADLINE', error });
      return unavailable('DEADLINE', 'the request could not be completed in time, please retry');
    }
    // A bug or an outage, never the caller's fault: say nothing specific, let the provider retry.
    deps.log.error('webhook failed', { ...fields, error });
    return unavailable('INTERNAL', 'temporarily unavailable, please retry');
  }
}

/** A 503 the provider retries: Retry-After, and the reason in a header of its own. */
function unavailable(reason: UnavailableReason, message: string): HttpAnswer {
  return { status: 503, headers: unavailableHeaders(reason), body: `${message}\n` };
}

function unavailableHeaders(reason: UnavailableReason): Record<string, string> {
  return { 'retry-after': String(RETRY_AFTER_SECONDS), 'x-keysmith-reason': reason };
}

const applyContext = applyContextFactory();
/** Grants of more licenses than this are indexed by the worker (keeps queue messages small). */
const MAX_PREDICTED = 200;

/**
 * Record the verified delivery, together with the lookup items of the licenses its grants will
 * issue. Licenses are derived from the event alone (the worker runs the same `apply`), so the
 * ingress can index them before the worker issues them; the events then say which are indexed.
 */
async function record(provider: Provider, request: WebhookRequest, events: FulfillmentEvent[], ctx: ProviderContext, deps: IngressDeps, work: Deadline): Promise<FulfillmentEvent[]> {
  if (!deps.deliveries) return events;
  const predicted: { event: FulfillmentEvent; prediction: PredictedLicenses }[] = [];
  for (const event of events) {
    if (event.action !== 'grant') continue;
    try {
      const { state } = apply(undefined, event, applyContext(ctx.secrets, ctx.catalog));
      if (state.licenses.length > 0 && state.licenses.length <= MAX_PREDICTED) predicted.push({ event, prediction: { state, licenses: state.licenses } });
    } catch {
      // No license secret or signing key here: the worker will say so; it indexes them itself.
    }
  }
  const written = await deps.deliveries.record(
    {
      provider: provider.name,
      deliveryId: request.requestId || randomUUID(),
      receivedAt: request.receivedAt,
      route: request.routeKey,
      payload: request.method === 'GET' ? Buffer.from(request.rawQuery) : (provider.logPayload?.(request.body) ?? request.body),
      ...(request.headers['content-type'] ? { contentType: request.headers['content-type'] } : {}),
      events,
    },
    predicted.map((p) => p.prediction),
    // Best effort, so bounded: never more than DELIVERY_LOG_MS, never the enqueue's time.
    { deadline: work.earlier(MIN_ENQUEUE_MS).capped(DELIVERY_LOG_MS) },
  );
  if (!written) return events;
  return events.map((event) => {
    const hit = predicted.find((p) => p.event === event);
    // The payment links went in the same write (deliveryWrites): the worker need not write them.
    const linked = !!event.links?.length;
    if (!hit && !linked) return event;
    return { ...event, ...(hit ? { indexed: hit.prediction.licenses.map((l) => l.licenseId) } : {}), ...(linked ? { linked: true } : {}) };
  });
}

/**
 * Every event through the one gate the worker also runs (`canonicalEvent`): long genuine values
 * are made to fit, and an event the worker would refuse is refused here, with a 400 and the
 * reason, before anything is enqueued or acked.
 */
function canonicalEvents(events: FulfillmentEvent[]): FulfillmentEvent[] {
  return events.map((event, index) => {
    try {
      return canonicalEvent(event);
    } catch (error) {
      if (!(error instanceof InvalidEvent)) throw error;
      throw new WebhookRejection('MALFORMED', `${events.length > 1 ? `event ${index + 1}: ` : ''}${error.message}`);
    }
  });
}

function guard(provider: Provider, request: WebhookRequest): void {
  if (request.body.length > provider.maxBodyBytes) {
    throw new WebhookRejection('TOO_LARGE', `body is ${request.body.length} bytes; the limit is ${provider.maxBodyBytes}`);
  }
  if (provider.contentTypes && request.method !== 'GET') {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    // A missing content-type is tolerated (the signature still decides); a wrong one is refused.
    if (type !== '' && !provider.contentTypes.includes(type)) {
      throw new WebhookRejection('UNSUPPORTED_MEDIA_TYPE', `content-type must be ${provider.contentTypes.join(' or ')}`);
    }
  }
}
