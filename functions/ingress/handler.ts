import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { Deadline } from '../aws/deadline';
import { type DeliveryLog, deliveryLogFromEnv } from '../aws/deliveryLog';
import { type EventQueue, queueFromEnv } from '../aws/queue';
import { loadSecrets, prefetchSecrets } from '../aws/secrets';
import { loadCatalog } from '../config/loadCatalog';
import { logger } from '../log/logger';
import { metrics } from '../log/metrics';
import { FUNCTIONS } from '../settings';
import { runIngress } from './pipeline';
import type { Provider, WebhookRequest } from './types';

/** The context is optional so that tests and benchmarks may call it without one (the function timeout then applies). */
export type IngressHandler = (event: APIGatewayProxyEventV2, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<APIGatewayProxyStructuredResultV2>;

/** Turn an API Gateway HTTP API (v2) event into the request the pipeline reads. */
export function toWebhookRequest(event: APIGatewayProxyEventV2, receivedAt = new Date()): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const body = event.body === undefined || event.body === null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const pathParameters: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    if (value !== undefined) pathParameters[name] = value;
  }
  const method = (event.requestContext?.http?.method ?? 'POST').toUpperCase();
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
  return {
    method,
    path,
    routeKey: event.routeKey && event.routeKey !== '$default' ? event.routeKey : routeKeyOf(method, path, pathParameters),
    pathParameters,
    headers,
    rawQuery: event.rawQueryString ?? '',
    body,
    receivedAt,
    requestId: event.requestContext?.requestId ?? '',
  };
}

/** The route with path parameter values put back as `{name}` (never log a path secret). */
function routeKeyOf(method: string, path: string, parameters: Record<string, string>): string {
  let route = path;
  for (const [name, value] of Object.entries(parameters)) if (value) route = route.split(`/${value}`).join(`/{${name}}`);
  return `${method} ${route}`;
}

/**
 * The Lambda entry for one provider. Clients, config and secrets are created once per process;
 * the handler only converts the event and runs the pipeline.
 */
export function createIngressHandler(provider: Provider<any, any>, ports: { queue?: () => EventQueue; deliveries?: () => DeliveryLog } = {}): IngressHandler {
  // In AWS, the secret is read during Lambda init instead of on the first request.
  prefetchSecrets();
  const getQueue = ports.queue ?? queueFromEnv;
  const getDeliveries = ports.deliveries ?? (() => deliveryLogFromEnv((error) => logger.warn('delivery log not written', { provider: provider.name, error })));
  return async (event, context) => {
    // Taken first: the time spent converting the event counts too.
    const deadline = Deadline.fromContext(context, FUNCTIONS.ingress.timeoutSeconds * 1000);
    const answer = await runIngress(provider, toWebhookRequest(event), {
      deadline,
      queue: getQueue(),
      deliveries: getDeliveries(),
      catalog: loadCatalog(),
      secrets: loadSecrets,
      log: logger,
      metrics,
    });
    return { statusCode: answer.status, headers: { 'content-type': 'text/plain; charset=utf-8', ...answer.headers }, body: answer.body };
  };
}
