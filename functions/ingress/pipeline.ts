import type { Catalog } from '../domain/catalog';
import type { EventQueue } from '../aws/queue';
import type { Secrets } from '../aws/secrets';
import type { Logger } from '../log/logger';
import { WebhookRejection, type HttpAnswer, type Provider, type ProviderContext, type WebhookRequest } from './types';

export interface IngressDeps {
  queue: EventQueue;
  catalog: Catalog;
  secrets: (options?: { refresh?: boolean }) => Promise<Secrets>;
  log: Logger;
}

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
  try {
    guard(provider, request);
    let ctx: ProviderContext = { secrets: await deps.secrets(), catalog: deps.catalog };
    let verified: unknown;
    try {
      verified = await provider.verify(request, ctx);
    } catch (error) {
      if (!(error instanceof WebhookRejection) || error.status !== 401) throw error;
      // The operator may just have set the secret: re-read once (at most once a minute), then decide.
      ctx = { ...ctx, secrets: await deps.secrets({ refresh: true }) };
      verified = await provider.verify(request, ctx);
    }
    const payload = provider.parse(verified, request);
    const events = provider.normalize(payload, request, ctx);
    const { accepted, failed } = events.length > 0 ? await deps.queue.send(events) : { accepted: [], failed: [] };
    const answer = provider.answer({ events, accepted, failed }, payload, ctx);
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
      return provider.reject ? provider.reject(error) : { status: error.status, body: `${error.code}: ${error.message}\n` };
    }
    // A bug or an outage, never the caller's fault: say nothing specific, let the provider retry.
    deps.log.error('webhook failed', { ...fields, error });
    return { status: 503, body: 'temporarily unavailable, please retry\n' };
  }
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
