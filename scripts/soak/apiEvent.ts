import type { ProviderName } from '../../functions/domain/events';
import { toWebhookRequest } from '../../functions/ingress/handler';
import type { WebhookRequest } from '../../functions/ingress/types';
import { WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import type { SampleRequest } from '../../functions/providers/sample';
import { type ApiRoute, matchRoute, toHttpApiEvent } from '../../lib/local/apiServer';
import type { RawRequest } from './http';

/**
 * What API Gateway makes of a raw request, in-process: the route (from the registry, matched by
 * the local API server's own matcher) and the payload-2.0 event — header names lower-cased and
 * repeats joined with commas, text bodies as UTF-8, anything else base64. The soak uses it to
 * compute what a genuine request means; the property tests feed it straight into `runIngress`.
 */

const ROUTES: ApiRoute[] = WEBHOOK_PROVIDERS.flatMap((r) =>
  r.routes.map((route) => ({ provider: r.name, method: route.method, path: route.path, handler: () => Promise.reject(new Error('not served in-process')) })),
);

export type Routed = { kind: 'route'; provider: ProviderName; request: WebhookRequest } | { kind: 'none'; status: 404 | 405 };

let counter = 0;

export function routeRequest(raw: RawRequest, receivedAt: Date = new Date()): Routed {
  const method = raw.method.toUpperCase();
  const cut = raw.target.indexOf('?');
  const path = cut < 0 ? raw.target : raw.target.slice(0, cut);
  const query = cut < 0 ? '' : raw.target.slice(cut + 1);
  const match = matchRoute(ROUTES, method, path);
  if (match.kind === 'none') return { kind: 'none', status: 404 };
  if (match.kind === 'method') return { kind: 'none', status: 405 };
  const event = toHttpApiEvent({
    client: { rawHeaders: raw.headers.flat(), sourceIp: '127.0.0.1' },
    method,
    path,
    query,
    body: raw.body,
    route: match.route,
    pathParameters: match.pathParameters,
    requestId: `inproc-${++counter}`,
    now: receivedAt,
  });
  return { kind: 'route', provider: match.route.provider as ProviderName, request: toWebhookRequest(event, receivedAt) };
}

export function rawFromSample(sample: Pick<SampleRequest, 'method' | 'path' | 'headers' | 'body'>): RawRequest {
  return { method: sample.method, target: sample.path, headers: Object.entries(sample.headers), body: sample.body };
}
