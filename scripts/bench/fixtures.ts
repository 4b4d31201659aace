import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { secretsFrom } from '../../functions/aws/secrets';
import { viewItem } from '../../functions/aws/store';
import { applyContextFactory } from '../../functions/config/applyContext';
import { EXAMPLE_CONFIG_PATH, readCatalogFile } from '../../functions/config/loadCatalog';
import { apply, type Entitlement, type License } from '../../functions/domain/entitlement';
import type { ProviderName } from '../../functions/domain/events';
import { apiPartition, licenseView } from '../../functions/domain/licenseView';
import { toWebhookRequest } from '../../functions/ingress/handler';
import type { WebhookRequest } from '../../functions/ingress/types';
import { fastspring } from '../../functions/providers/fastspring';
import { SECRET_NAMES, WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import type { SampleRequest } from '../../functions/providers/sample';
import { type ApiRoute, encodeBody, matchRoute } from '../../lib/local/apiServer';
import { type DevSecretName, ensureDevSecrets } from '../../lib/local/devSecrets';
import { ROOT } from './paths';

/**
 * Inputs every benchmark shares: a set of dev secrets (generated like `npm start` does, in a
 * temporary folder) and signed sample requests built by each provider's own sample builder.
 */

export const PROVIDERS: readonly ProviderName[] = WEBHOOK_PROVIDERS.map((r) => r.name);

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
export async function samples(provider: ProviderName, secrets: BenchSecrets, count: number, email?: (i: number) => string): Promise<SampleRequest[]> {
  const builder = await WEBHOOK_PROVIDERS.find((r) => r.name === provider)!.sample();
  const out: SampleRequest[] = [];
  for (let i = 0; i < count; i++) out.push(builder.build({ secrets: secrets.all, ...(email ? { email: email(i) } : {}) }));
  return out;
}

const ROUTES: ApiRoute[] = WEBHOOK_PROVIDERS.flatMap((r) => r.routes.map((route) => ({ provider: r.name, method: route.method, path: route.path, handler: async () => ({ statusCode: 500 }) })));

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

/** One license as the worker issues it, and its API partition's items as the worker writes them. */
export interface LicenseFixture {
  state: Entitlement;
  license: License;
  /** The license text the customer got (what an app sends as `license_key`). */
  key: string;
  /** `KEY#{sha256(key)}` (or `LIC#id` for a signed license): what the licensing function queries. */
  partition: string;
  /** The partition's items as a DynamoDB Query returns them: the worker's VIEW item. */
  items: Record<string, unknown>[];
}

/**
 * FastSpring's signed sample order made a live one: a test order's license answers TEST_LICENSE
 * (valid: false, no license file) under the default license API policy, and the bench measures
 * the path every real app takes.
 */
export async function liveFastspringOrder(secrets: Record<string, string | undefined>, email: string): Promise<SampleRequest> {
  const builder = await WEBHOOK_PROVIDERS.find((r) => r.name === 'fastspring')!.sample();
  const payload = JSON.parse(builder.build({ secrets, email }).body.toString('utf8')) as { events: { live: boolean; data: { live: boolean } }[] };
  for (const event of payload.events) {
    event.live = true;
    event.data.live = true;
  }
  return builder.build({ secrets, file: Buffer.from(JSON.stringify(payload)) });
}

/**
 * A new live FastSpring order (a signed sample, verified, parsed and normalized by the provider module)
 * applied as the worker applies it; its first license, with the view the worker would write for it
 * (licenseView, apiPartition and the store's own item layout).
 */
export async function licenseFixture(secrets: BenchSecrets): Promise<LicenseFixture> {
  const catalog = readCatalogFile(join(ROOT, EXAMPLE_CONFIG_PATH));
  const handlerSecrets = secretsFrom(secrets.handler);
  const sample = await liveFastspringOrder(secrets.all, 'bench-license@example.com');
  const request = toWebhookRequest(toApiEvent(sample!, 'bench-license'));
  const ctx = { secrets: handlerSecrets, catalog };
  const events = fastspring.normalize(fastspring.parse(await fastspring.verify(request, ctx), request), request, ctx);
  const now = new Date();
  const { state } = apply(undefined, events[0]!, applyContextFactory()(handlerSecrets, catalog, now));
  const license = state.licenses.find((l) => l.format === 'key') ?? state.licenses[0];
  if (!license) throw new Error('the sample order issued no license');
  const placed = { partition: apiPartition(license), view: licenseView(state, license) };
  return { state, license, key: license.key, partition: placed.partition, items: [viewItem(placed)] };
}

/** The API Gateway HTTP API (v2) event for a license API request from an app (form-encoded, as Lemon Squeezy's clients send). */
export function licensingApiEvent(route: 'activate' | 'validate' | 'deactivate', fields: Record<string, string>, requestId: string, now = new Date()): APIGatewayProxyEventV2 {
  const path = `/v1/licenses/${route}`;
  const routeKey = `POST ${path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': 'keysmith-bench-app' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.local',
      domainPrefix: 'bench',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'keysmith-bench-app' },
      requestId,
      routeKey,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: now.getTime(),
    },
    body: new URLSearchParams(fields).toString(),
    isBase64Encoded: false,
  };
}
