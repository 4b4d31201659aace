import { Agent, request as httpRequest } from 'node:http';

/**
 * A plain node:http client with full control over the request bytes: header names keep their case,
 * a header may repeat, the body is sent as given. Keep-alive connections, so tens of thousands of
 * requests do not exhaust ephemeral ports.
 */

export interface RawRequest {
  method: string;
  /** Path and query, e.g. `/webhooks/paddle?a=1`. */
  target: string;
  /** In order; names as they go on the wire; repeats allowed. */
  headers: [string, string][];
  body: Buffer;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly url: URL;

  constructor(baseUrl: string, maxSockets = 64) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
    this.url = new URL(baseUrl);
    this.host = this.url.host;
  }

  /**
   * One request. A reset on a reused keep-alive connection is sent again once: the server closed
   * that idle connection just as the request went out, so it never read it (Node's documented
   * `reusedSocket` case — every HTTP client retries it; providers do too).
   */
  async send(req: RawRequest, timeoutMs = 30_000): Promise<RawAnswer> {
    try {
      return await this.once(req, timeoutMs);
    } catch (error) {
      if (!(error as { reusedSocket?: boolean }).reusedSocket) throw error;
      return this.once(req, timeoutMs);
    }
  }

  private once(req: RawRequest, timeoutMs: number): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const flat: string[] = [];
      // With a raw header list Node adds no Host header itself (and its server refuses HTTP/1.1 without one).
      if (!req.headers.some(([name]) => name.toLowerCase() === 'host')) flat.push('Host', this.host);
      for (const [name, value] of req.headers) flat.push(name, value);
      if (!req.headers.some(([name]) => name.toLowerCase() === 'content-length') && (req.body.length > 0 || req.method !== 'GET')) {
        flat.push('Content-Length', String(req.body.length));
      }
      // `path`, not a URL: a URL would be normalized (dot segments resolved) before it is sent.
      const options = {
        hostname: this.url.hostname,
        port: this.url.port,
        path: req.target,
        method: req.method,
        headers: flat as unknown as Record<string, string>,
        agent: this.agent,
        timeout: timeoutMs,
      };
      const out = httpRequest(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      out.on('timeout', () => out.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      out.on('error', (error: NodeJS.ErrnoException) => {
        const stale = out.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        reject(stale ? Object.assign(error, { reusedSocket: true }) : error);
      });
      out.end(req.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time; results in input order. */
export async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(runners);
  return results;
}
