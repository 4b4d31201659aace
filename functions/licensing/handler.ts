import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { Deadline } from '../aws/deadline';
import { DynamoLicenseApiStore } from '../aws/licenseApiStore';
import { dynamodbClient } from '../aws/light/dynamodb';
import { loadSecrets, prefetchSecrets } from '../aws/secrets';
import { loadCatalog } from '../config/loadCatalog';
import { logger } from '../log/logger';
import { METRIC, metrics } from '../log/metrics';
import { FUNCTIONS } from '../settings';
import { type ApiAnswer, activate, badRequest, deactivate, LIMITS, type LicenseApiDeps, type LicenseApiStore, type LicenseRoute, validate } from './api';

/**
 * Lambda entry for `POST /v1/licenses/{activate|validate|deactivate}` (docs/license-api.md). The
 * body is form-encoded or JSON, as Lemon Squeezy's License API takes it. Every request gets an
 * answer with a `code`: malformed ones a 400, never a 5xx — only a store that cannot be reached
 * in time answers 503 (with Retry-After), so the app falls back to its license file.
 */

export type LicensingHandler = (event: APIGatewayProxyEventV2, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<APIGatewayProxyStructuredResultV2>;

/** A license API request body is a few hundred bytes; anything near this is not one. */
export const MAX_BODY_BYTES = 8 * 1024;
const ROUTES = new Set<LicenseRoute>(['activate', 'validate', 'deactivate']);

export interface LicensingPorts {
  store?: () => LicenseApiStore;
  now?: () => Date;
}

export function createLicensingHandler(ports: LicensingPorts = {}): LicensingHandler {
  prefetchSecrets();
  let deadline: Deadline | undefined;
  // Per table and endpoint: the local stack may point the same process at another emulator.
  let store: { at: string; store: LicenseApiStore } | undefined;
  const getStore =
    ports.store ??
    (() => {
      const at = `${tableName()}|${process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}`;
      if (store?.at !== at) store = { at, store: new DynamoLicenseApiStore(dynamodbClient({ maxAttempts: 3, timeoutMs: 1500 }), tableName(), () => (deadline ? { deadline } : {})) };
      return store.store;
    });
  let keys: { pem: string; signingKey: KeyObject; publicKey: KeyObject } | undefined;

  return async (event, context) => {
    const started = Date.now();
    deadline = Deadline.fromContext(context, FUNCTIONS.licensing.timeoutSeconds * 1000).earlier(250);
    const route = routeOf(event);
    let answer: ApiAnswer;
    try {
      const parsed = parseRequest(event, route);
      if ('error' in parsed) answer = badRequest(route ?? 'validate', parsed.error);
      else {
        const secrets = await loadSecrets();
        const pem = secrets.get('KEYSMITH_LICENSE_SIGNING_KEY');
        if (pem && keys?.pem !== pem) {
          const signingKey = createPrivateKey(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem);
          keys = { pem, signingKey, publicKey: createPublicKey(signingKey) };
        }
        const deps: LicenseApiDeps = {
          store: getStore(),
          catalog: loadCatalog(),
          now: ports.now ?? (() => new Date()),
          ...(keys && pem ? { signingKey: keys.signingKey, publicKey: keys.publicKey } : {}),
        };
        answer = await run(parsed, deps);
      }
    } catch (error) {
      logger.error('license API request failed', { route, error });
      metrics.count(METRIC.licenseRequests, 1, { provider: route ?? 'unknown', reason: 'UNAVAILABLE' });
      metrics.flush();
      return json(503, { error: 'The license service is unavailable; try again shortly.', code: 'UNAVAILABLE' }, { 'retry-after': '5' });
    }
    // Only the key's hash is ever logged (DESIGN.md "License API").
    logger.info('license API answered', { route, code: answer.code, status: answer.status, keyHash: answer.keyHash?.slice(0, 16), ms: Date.now() - started });
    metrics.count(METRIC.licenseRequests, 1, { provider: route ?? 'unknown', reason: answer.code });
    metrics.flush();
    return json(answer.status, answer.body);
  };
}

type Parsed =
  | { route: 'activate'; licenseKey: string; instanceName: string; fingerprint?: string }
  | { route: 'validate'; licenseKey: string; instanceId?: string; fingerprint?: string }
  | { route: 'deactivate'; licenseKey: string; instanceId: string }
  | { error: string };

async function run(parsed: Exclude<Parsed, { error: string }>, deps: LicenseApiDeps): Promise<ApiAnswer> {
  switch (parsed.route) {
    case 'activate':
      return activate(parsed, deps);
    case 'validate':
      return validate(parsed, deps);
    case 'deactivate':
      return deactivate(parsed, deps);
  }
}

function routeOf(event: APIGatewayProxyEventV2): LicenseRoute | undefined {
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
  const last = path.replace(/\/+$/, '').split('/').pop() as LicenseRoute;
  return ROUTES.has(last) ? last : undefined;
}

/** The request's fields, or why it is not a license API request. Exported for the tests. */
export function parseRequest(event: APIGatewayProxyEventV2, route: LicenseRoute | undefined): Parsed {
  if (!route) return { error: 'unknown route: use /v1/licenses/activate, /validate or /deactivate' };
  const method = (event.requestContext?.http?.method ?? 'POST').toUpperCase();
  if (method !== 'POST') return { error: 'use POST' };
  const raw = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  if (raw.length > MAX_BODY_BYTES) return { error: `the body is over ${MAX_BODY_BYTES} bytes` };
  const contentType = (headerOf(event, 'content-type') ?? '').toLowerCase();
  let fields: Record<string, unknown>;
  if (contentType.includes('json')) {
    try {
      const value = JSON.parse(raw.toString('utf8')) as unknown;
      if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'the JSON body must be an object' };
      fields = value as Record<string, unknown>;
    } catch {
      return { error: 'the body is not valid JSON' };
    }
  } else if (contentType === '' || contentType.includes('application/x-www-form-urlencoded')) {
    fields = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  } else {
    return { error: 'send the fields form-encoded (application/x-www-form-urlencoded) or as JSON' };
  }
  const text = (name: string, max: number, required: boolean): string | undefined | { error: string } => {
    const value = fields[name];
    if (value === undefined || value === null || value === '') return required ? { error: `${name} is required` } : undefined;
    if (typeof value !== 'string') return { error: `${name} must be a string` };
    if (value.length > max) return { error: `${name} is longer than ${max} characters` };
    if (/[\u0000-\u001f\u007f]/.test(value)) return { error: `${name} contains control characters` };
    return value;
  };
  const licenseKey = text('license_key', LIMITS.key, true);
  if (typeof licenseKey !== 'string') return licenseKey ?? { error: 'license_key is required' };
  if (route === 'activate') {
    const instanceName = text('instance_name', LIMITS.instanceName, true);
    if (typeof instanceName !== 'string') return instanceName ?? { error: 'instance_name is required' };
    const fingerprint = text('fingerprint', LIMITS.fingerprint, false);
    if (typeof fingerprint === 'object') return fingerprint;
    return { route, licenseKey, instanceName, ...(fingerprint !== undefined ? { fingerprint } : {}) };
  }
  const instanceId = text('instance_id', LIMITS.instanceId, route === 'deactivate');
  if (typeof instanceId === 'object') return instanceId;
  if (route === 'deactivate') return instanceId === undefined ? { error: 'instance_id is required' } : { route, licenseKey, instanceId };
  const fingerprint = text('fingerprint', LIMITS.fingerprint, false);
  if (typeof fingerprint === 'object') return fingerprint;
  return { route, licenseKey, ...(instanceId !== undefined ? { instanceId } : {}), ...(fingerprint !== undefined ? { fingerprint } : {}) };
}

function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}

function tableName(): string {
  const name = process.env.KEYSMITH_TABLE_NAME;
  if (!name) throw new Error('KEYSMITH_TABLE_NAME is not set');
  return name;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

export const handler = createLicensingHandler();
