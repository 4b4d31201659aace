import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { AwsCallError } from './errors';

/**
 * One HTTP exchange, nothing else: the light client signs, retries and parses around it. Tests
 * and benchmarks substitute it. node:http rather than fetch: it is loaded with Node itself, where
 * fetch would load undici on the first call of every cold start.
 */

export interface HttpRequest {
  method: 'POST';
  url: URL;
  headers: Record<string, string>;
  body: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type Transport = (request: HttpRequest, timeoutMs: number) => Promise<HttpResponse>;

// One pool per process and protocol, made on first use and kept alive between invocations (a
// warm Lambda reuses its connections).
let httpAgent: HttpAgent | undefined;
let httpsAgent: HttpsAgent | undefined;
const agentFor = (protocol: 'http:' | 'https:'): HttpAgent =>
  protocol === 'https:' ? (httpsAgent ??= new HttpsAgent({ keepAlive: true, maxSockets: 50 })) : (httpAgent ??= new HttpAgent({ keepAlive: true, maxSockets: 50 }));

/**
 * node:http with keep-alive. `timeoutMs` bounds the whole exchange — connect, send, answer — so
 * an endpoint that never answers fails the attempt instead of the Lambda.
 */
export const nodeHttpTransport: Transport = (request, timeoutMs) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const protocol = request.url.protocol;
    if (protocol !== 'https:' && protocol !== 'http:') {
      reject(new AwsCallError('NetworkError', `unsupported endpoint protocol ${protocol}`, 0, false));
      return;
    }
    const send = protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      request.url,
      { method: request.method, headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) }, agent: agentFor(protocol) },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new AwsCallError('TimeoutError', `no answer from ${request.url.host} within ${timeoutMs} ms`, 0, true));
    }, timeoutMs);
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error instanceof AwsCallError ? error : new AwsCallError('NetworkError', `${request.url.host}: ${error.message}`, 0, true));
    }
    req.on('error', fail);
    req.end(request.body);
  });
