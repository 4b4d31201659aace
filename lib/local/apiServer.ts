import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { Logger } from '../../functions/log/logger';
import { FUNCTIONS, LOCAL } from '../../functions/settings';
import { type FunctionSpec, invoke } from './invoke';

/**
 * A stand-in for the API Gateway HTTP API: matches a request against the registry's routes,
 * turns it into a payload-format-2.0 event and writes the Lambda result back the way API Gateway
 * would. Local-only endpoints live under `/_local/`.
 */

export type HttpApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2<unknown>>;

export interface ApiRoute {
  /** Whose route this is (a provider name); names the function in logs and the Lambda context. */
  provider: string;
  method: 'GET' | 'POST';
  /** An API Gateway route path: `{name}` matches one segment, `{name+}` the rest of the path. */
  path: string;
  handler: HttpApiHandler;
  /** API Gateway's throttling for this route (shared by the routes given the same bucket). */
  throttle?: TokenBucket;
}

/**
 * API Gateway's throttle: a bucket of `burstLimit` tokens refilled at `rateLimit` per second; a
 * request that finds it empty is answered 429 before the function runs.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly limits: { rateLimit: number; burstLimit: number },
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limits.burstLimit;
    this.last = now();
  }
  take(): boolean {
    const at = this.now();
    this.tokens = Math.min(this.limits.burstLimit, this.tokens + ((at - this.last) / 1000) * this.limits.rateLimit);
    this.last = at;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface ApiServerOptions {
  routes: readonly ApiRoute[];
  /** The body of `GET /_local/stack`. */
  stackInfo?: () => unknown;
  /** Request and error logs; silent when absent. */
  log?: Logger;
  /** @default FUNCTIONS.ingress.timeoutSeconds */
  timeoutSeconds?: number;
  /** API Gateway's request payload limit. @default 10 MiB */
  payloadLimitBytes?: number;
  /** Called after a handler answered with a 2xx (the local stack nudges its poller). */
  onAccepted?: () => void;
}

/** API Gateway HTTP API rejects larger requests with 413. */
export const PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024;
export const API_ID = 'local';

export function createApiServer(options: ApiServerOptions): Server {
  const limit = options.payloadLimitBytes ?? PAYLOAD_LIMIT_BYTES;
  // Node refuses request lines and headers over 16 KiB by resetting the connection mid-request;
  // Paddle's GET fulfillment carries its (up to 64 KiB) form in the query string, which the
  // ingress must see to answer 413 or accept — not a reset the caller cannot read.
  // Webhooks a handler refused (4xx), by provider and status, since the server started: what the
  // Rejected metric counts in AWS, for `keysmith console`'s overview (GET /_local/rejections).
  const rejections = new Map<string, { provider: string; status: number; count: number; last: string }>();
  const since = new Date().toISOString();
  const server = createServer({ maxHeaderSize: 128 * 1024 }, (req, res) => {
    const started = Date.now();
    const path = splitTarget(req.url ?? '/').path;
    if (!path.startsWith('/_local/')) {
      // Log the route, never the raw path: Selldone's path carries its secret.
      res.on('finish', () => {
        const match = matchRoute(options.routes, (req.method ?? 'GET').toUpperCase(), path);
        const route = match.kind === 'route' ? match.route.path : '(no route)';
        options.log?.info('http request', { method: req.method, route, status: res.statusCode, ms: Date.now() - started });
        if (match.kind === 'route' && res.statusCode >= 400 && res.statusCode < 500) {
          const key = `${match.route.provider} ${res.statusCode}`;
          const entry = rejections.get(key) ?? { provider: match.route.provider, status: res.statusCode, count: 0, last: '' };
          entry.count++;
          entry.last = new Date().toISOString();
          rejections.set(key, entry);
        }
      });
    }
    handle(req, res).catch((error: unknown) => {
      options.log?.error('local api server failed', { error });
      if (!res.headersSent) sendMessage(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const { path, query } = splitTarget(req.url ?? '/');

    if (path === '/_local/stack' || path === '/_local/health') {
      if (method !== 'GET') return sendMessage(res, 405, 'Method Not Allowed', { allow: 'GET' });
      return sendJson(res, 200, path === '/_local/health' ? { status: 'ok' } : (options.stackInfo?.() ?? {}));
    }
    if (path === '/_local/rejections') {
      if (method !== 'GET') return sendMessage(res, 405, 'Method Not Allowed', { allow: 'GET' });
      return sendJson(res, 200, { since, rejections: [...rejections.values()] });
    }

    const match = matchRoute(options.routes, method, path);
    if (match.kind === 'none') return sendMessage(res, 404, 'Not Found');
    if (match.kind === 'method') return sendMessage(res, 405, 'Method Not Allowed', { allow: match.allowed.join(', ') });

    if (match.route.throttle && !match.route.throttle.take()) return sendJson(res, 429, { message: 'Too Many Requests' });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return tooLarge(req, res);
    const body = await readBody(req, limit);
    if (body === undefined) return tooLarge(req, res);

    const event = toHttpApiEvent({ client: clientOf(req), method, path, query, body, route: match.route, pathParameters: match.pathParameters });
    const spec: FunctionSpec = { functionName: `keysmith-${match.route.provider}`, timeoutSeconds: options.timeoutSeconds ?? FUNCTIONS.ingress.timeoutSeconds, memoryMb: FUNCTIONS.ingress.memoryMb };
    let result: APIGatewayProxyResultV2<unknown>;
    try {
      result = await invoke(spec, match.route.handler, event);
    } catch (error) {
      // API Gateway answers a failed invocation with a bare 500; the details are in the logs.
      options.log?.error('handler failed', { function: spec.functionName, routeKey: event.routeKey, requestId: event.requestContext.requestId, error });
      return sendMessage(res, 500, 'Internal Server Error', { 'apigw-requestid': event.requestContext.requestId });
    }
    writeResult(res, result, event.requestContext.requestId, options.log);
    if (res.statusCode >= 200 && res.statusCode < 300) options.onAccepted?.();
  }

  return server;
}

// ---- routing ------------------------------------------------------------------------------

export type RouteMatch = { kind: 'route'; route: ApiRoute; pathParameters: Record<string, string> } | { kind: 'method'; allowed: string[] } | { kind: 'none' };

/** API Gateway's choice: the most specific matching route (fewest parameters) wins. */
export function matchRoute(routes: readonly ApiRoute[], method: string, path: string): RouteMatch {
  const candidates: Array<{ route: ApiRoute; pathParameters: Record<string, string>; score: number }> = [];
  for (const route of routes) {
    const pathParameters = matchPath(route.path, path);
    if (pathParameters) candidates.push({ route, pathParameters, score: Object.keys(pathParameters).length });
  }
  if (candidates.length === 0) return { kind: 'none' };
  const forMethod = candidates.filter((c) => c.route.method === method).sort((a, b) => a.score - b.score);
  const best = forMethod[0];
  if (best) return { kind: 'route', route: best.route, pathParameters: best.pathParameters };
  return { kind: 'method', allowed: [...new Set(candidates.map((c) => c.route.method))].sort() };
}

function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  const parameters: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    const greedy = /^\{(.+)\+\}$/.exec(segment);
    if (greedy) {
      const rest = got.slice(i).join('/');
      if (rest === '') return undefined;
      parameters[greedy[1]!] = decode(rest);
      return parameters;
    }
    const actual = got[i];
    if (actual === undefined) return undefined;
    const param = /^\{(.+)\}$/.exec(segment);
    if (param) {
      if (actual === '') return undefined;
      parameters[param[1]!] = decode(actual);
    } else if (segment !== actual) {
      return undefined;
    }
  }
  return got.length === want.length ? parameters : undefined;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function splitTarget(target: string): { path: string; query: string } {
  const at = target.indexOf('?');
  return at === -1 ? { path: target, query: '' } : { path: target.slice(0, at), query: target.slice(at + 1) };
}

// ---- request → event ----------------------------------------------------------------------

/** Reads the body; `undefined` once it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/**
 * Content types API Gateway hands to Lambda as text. Everything else — notably
 * `application/x-www-form-urlencoded`, `multipart/*` and a missing content type — arrives
 * base64-encoded with `isBase64Encoded: true`.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/graphql'
  );
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as API Gateway passes it: text types as UTF-8, the rest (and non-UTF-8 text) base64. */
export function encodeBody(body: Buffer, contentType: string | undefined): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  if (isTextContentType(contentType)) {
    try {
      return { body: strictUtf8.decode(body), isBase64Encoded: false };
    } catch {
      // Not valid UTF-8: decoding would replace bytes and break signature checks over the raw
      // body, so keep them exact.
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/** The connection facts an event records; from an IncomingMessage, or made up by a harness. */
export interface ClientInfo {
  /** Header names and values as received, alternating (node's `rawHeaders`). */
  rawHeaders: readonly string[];
  sourceIp?: string;
  localPort?: number;
  httpVersion?: string;
}

export function clientOf(req: IncomingMessage): ClientInfo {
  return {
    rawHeaders: req.rawHeaders,
    sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    ...(req.socket.localPort !== undefined ? { localPort: req.socket.localPort } : {}),
    httpVersion: req.httpVersion,
  };
}

export interface EventInput {
  client: ClientInfo;
  method: string;
  path: string;
  query: string;
  body: Buffer;
  route: Pick<ApiRoute, 'method' | 'path'>;
  pathParameters: Record<string, string>;
  now?: Date;
  /** @default a random id, like API Gateway's */
  requestId?: string;
}

/** The API Gateway HTTP API (payload 2.0) event for a matched request. */
export function toHttpApiEvent(input: EventInput): APIGatewayProxyEventV2 {
  const { client, method, path, query, body, route, pathParameters } = input;
  const now = input.now ?? new Date();
  const requestId = input.requestId ?? randomBytes(12).toString('base64').replace(/[+/]/g, 'A');
  const sourceIp = client.sourceIp ?? '127.0.0.1';

  // Duplicate headers are joined with commas; cookies move to `cookies`, as API Gateway does.
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = client.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter((c) => c.length > 0),
      );
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-port'] ??= String(client.localPort ?? '');
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
  }

  const domainName = headers.host ?? `127.0.0.1:${client.localPort ?? ''}`;
  const routeKey = `${route.method} ${route.path}`;
  const encoded = encodeBody(body, headers['content-type']);
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: query,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(queryStringParameters).length > 0 ? { queryStringParameters } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId: LOCAL.accountId,
      apiId: API_ID,
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: {
        method,
        path,
        protocol: `HTTP/${client.httpVersion ?? '1.1'}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(encoded.body !== undefined ? { body: encoded.body } : {}),
    isBase64Encoded: encoded.isBase64Encoded,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `12/Mar/2020:19:03:58 +0000`, API Gateway's `requestContext.time`. */
export function apiGatewayTime(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

// ---- result → response --------------------------------------------------------------------

/**
 * Payload format 2.0: a result with `statusCode` is used as given; any other result is taken as
 * a JSON body with status 200 (a string result is sent as is).
 */
function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2<unknown>, requestId: string, log?: Logger): void {
  const structured = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!structured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'apigw-requestid': requestId });
    res.end(body);
    return;
  }
  const { statusCode, headers = {}, body, isBase64Encoded, cookies } = result as Exclude<APIGatewayProxyResultV2, string>;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    log?.error('handler returned an invalid statusCode', { statusCode });
    return sendMessage(res, 500, 'Internal Server Error', { 'apigw-requestid': requestId });
  }
  res.statusCode = statusCode;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, String(value));
  if (cookies && cookies.length > 0) res.setHeader('set-cookie', cookies);
  res.setHeader('apigw-requestid', requestId);
  res.end(body === undefined ? undefined : Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8'));
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

/** API Gateway's own error bodies look like `{"message":"Not Found"}`. */
function sendMessage(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { message }, headers);
}

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  // Answer at once, then discard the rest of the upload (a client still sending would otherwise
  // see a reset instead of the 413) and close the connection.
  res.shouldKeepAlive = false;
  sendMessage(res, 413, 'Request Entity Too Large', { connection: 'close' });
  req.resume();
}
