import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SECRET_NAMES } from '../../functions/aws/secrets';
import type { StorefrontName } from '../../functions/domain/events';
import type { WebhookRequest } from '../../functions/ingress/types';
import { PROVIDER_REGISTRY } from '../../functions/providers/registry';
import type { SampleRequest } from '../../functions/providers/sample';
import { type ApiRoute, encodeBody, matchRoute } from '../../lib/local/apiServer';
import { type DevSecretName, ensureDevSecrets } from '../../lib/local/devSecrets';

/**
 * Inputs every benchmark shares: a set of dev secrets (generated like `npm start` does, in a
 * temporary folder) and signed sample requests built by each provider's own sample builder.
 */

export const PROVIDERS: readonly StorefrontName[] = PROVIDER_REGISTRY.map((r) => r.name);

export interface BenchSecrets {
  /** Every dev secret, including the private halves the samples sign with. */
  all: Record<DevSecretName, string>;
  /** Only what a handler reads (what would be in Secrets Manager). */
  handler: Record<string, string>;
}

export function benchSecrets(): BenchSecrets {
  const dir = mkdtempSync(join(tmpdir(), 'keysmith-bench-secrets-'));
  try {
    const { values } = ensureDevSecrets(dir, {});
    const handler: Record<string, string> = {};
    for (const name of SECRET_NAMES) if (values[name] !== undefined) handler[name] = values[name];
    return { all: values, handler };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `count` signed samples (fresh order and event ids each) for one provider. */
export async function samples(provider: StorefrontName, secrets: BenchSecrets, count: number, email?: (i: number) => string): Promise<SampleRequest[]> {
  const builder = await PROVIDER_REGISTRY.find((r) => r.name === provider)!.sample();
  const out: SampleRequest[] = [];
  for (let i = 0; i < count; i++) out.push(builder.build({ secrets: secrets.all, ...(email ? { email: email(i) } : {}) }));
  return out;
}

const ROUTES: ApiRoute[] = PROVIDER_REGISTRY.flatMap((r) => r.routes.map((route) => ({ provider: r.name, method: route.method, path: route.path, handler: async () => ({ statusCode: 500 }) })));

/** The API Gateway HTTP API (v2) event API Gateway would hand the Lambda for this sample. */
export function toApiEvent(sample: SampleRequest, requestId: string, now = new Date()): APIGatewayProxyEventV2 {
  const at = sample.path.indexOf('?');
  const path = at === -1 ? sample.path : sample.path.slice(0, at);
  const query = at === -1 ? '' : sample.path.slice(at + 1);
  const match = matchRoute(ROUTES, sample.method, path);
  if (match.kind !== 'route') throw new Error(`no route for ${sample.method} ${path}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(sample.headers)) headers[name.toLowerCase()] = value;
  const encoded = encodeBody(sample.body, headers['content-type']);
  const routeKey = `${match.route.method} ${match.route.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: query,
    headers,
    ...(Object.keys(match.pathParameters).length > 0 ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.local',
      domainPrefix: 'bench',
      http: { method: sample.method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'keysmith-bench' },
      requestId,
      routeKey,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: now.getTime(),
    },
    ...(encoded.body !== undefined ? { body: encoded.body } : {}),
    isBase64Encoded: encoded.isBase64Encoded,
  };
}

/** The pipeline's view of a sample (what `toWebhookRequest` makes of the API event). */
export function toWebhookRequestOf(sample: SampleRequest, requestId: string, convert: (e: APIGatewayProxyEventV2) => WebhookRequest): WebhookRequest {
  return convert(toApiEvent(sample, requestId));
}
