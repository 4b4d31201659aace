import type { Deadline } from '../deadline';
import { credentialsFromEnv, endpointFor, type LightService, regionFromEnv } from './config';
import { AwsCallError, THROTTLING_CODES, TRANSIENT_CODES } from './errors';
import { type Credentials, sign } from './sigv4';
import { nodeHttpTransport, type Transport } from './transport';

/**
 * A minimal client for AWS's JSON protocols (awsJson1_0: SQS, DynamoDB; awsJson1_1: Secrets
 * Manager): POST `/`, `X-Amz-Target: <prefix>.<Operation>`, a JSON body, SigV4-signed.
 *
 * Why not the SDK: for the three calls the ingress makes, @aws-sdk clients add ~600 KB to each
 * bundle and most of its cold start (measured: BENCHMARKS.md). What the SDK gives that matters
 * here is kept: signing, bounded retries with jittered backoff on throttling, 5xx and network
 * errors, a timeout per attempt, keep-alive connections, and errors that carry AWS's code. Left
 * out on purpose: the credential provider chain (Lambda puts credentials in the environment) and
 * clock-skew correction (Lambda's clock is synchronized).
 */

export interface AwsJsonClientOptions {
  service: LightService;
  /** `X-Amz-Target` prefix: `AmazonSQS`, `DynamoDB_20120810`, `secretsmanager`. */
  targetPrefix: string;
  jsonVersion: '1.0' | '1.1';
  /** @default endpointFor(service, region) */
  endpoint?: string;
  /** @default AWS_REGION */
  region?: string;
  /** Read on every call, so rotated environment credentials are picked up. @default credentialsFromEnv */
  credentials?: () => Credentials;
  /** @default nodeHttpTransport */
  transport?: Transport;
  /** Attempts per call, including the first. @default 3 */
  maxAttempts?: number;
  /** Per attempt, connect to last byte. @default 3000 */
  timeoutMs?: number;
  /** Backoff base for transient errors; throttling waits 4× longer. @default 50 */
  baseDelayMs?: number;
  /** Longest single backoff. @default 2000 */
  maxDelayMs?: number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  random?: () => number;
}

/** Per call: the point by which the call must be over, retries included. */
export interface CallOptions {
  deadline?: Deadline;
}

/** An attempt is not begun with less time than this left: it could not finish. */
export const MIN_ATTEMPT_MS = 20;

export class AwsJsonClient {
  readonly endpoint: string;
  readonly region: string;
  private readonly url: URL;
  private readonly options: AwsJsonClientOptions;

  constructor(options: AwsJsonClientOptions) {
    this.options = options;
    this.region = options.region ?? regionFromEnv();
    this.endpoint = options.endpoint ?? endpointFor(options.service, this.region);
    this.url = new URL(this.endpoint.endsWith('/') ? this.endpoint : `${this.endpoint}/`);
  }

  /**
   * Calls `operation` with `input`; resolves with the parsed answer or rejects with an AwsCallError.
   * With a deadline, each attempt's timeout is what is left of it, and no attempt or backoff runs
   * past it (the call then fails with `DeadlineExceeded`, or with the last attempt's error).
   */
  async call<T>(operation: string, input: unknown, callOptions: CallOptions = {}): Promise<T> {
    const o = this.options;
    const { deadline } = callOptions;
    const maxAttempts = Math.max(1, o.maxAttempts ?? 3);
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      let error: AwsCallError;
      const timeoutMs = Math.floor(deadline ? deadline.budgetMs(o.timeoutMs ?? 3000) : (o.timeoutMs ?? 3000));
      if (timeoutMs < MIN_ATTEMPT_MS) throw new AwsCallError('DeadlineExceeded', `${operation}: no time left for attempt ${attempt}`, 0, false, attempt - 1);
      try {
        const signed = sign({
          method: 'POST',
          url: this.url,
          headers: { 'content-type': `application/x-amz-json-${o.jsonVersion}`, 'x-amz-target': `${o.targetPrefix}.${operation}` },
          body,
          service: o.service,
          region: this.region,
          credentials: (o.credentials ?? credentialsFromEnv)(),
        });
        const response = await (o.transport ?? nodeHttpTransport)({ method: 'POST', url: this.url, headers: signed.headers, body }, timeoutMs);
        if (response.status >= 200 && response.status < 300) return parseBody<T>(response.body, operation);
        error = toError(operation, response.status, response.headers, response.body);
      } catch (thrown) {
        if (!(thrown instanceof AwsCallError)) throw thrown;
        error = thrown;
      }
      const pause = error.retryable && attempt < maxAttempts ? this.backoff(attempt, THROTTLING_CODES.has(error.code)) : 0;
      const outOfTime = deadline !== undefined && deadline.remainingMs() - pause < MIN_ATTEMPT_MS;
      if (!error.retryable || attempt >= maxAttempts || outOfTime) {
        throw new AwsCallError(error.code, attempt > 1 ? `${error.message} (after ${attempt} attempts)` : error.message, error.status, error.retryable, attempt);
      }
      await (o.sleep ?? sleep)(pause);
    }
  }

  /** Full jitter: a random wait up to base × 2^(attempt−1), capped. */
  private backoff(attempt: number, throttled: boolean): number {
    const base = (this.options.baseDelayMs ?? 50) * (throttled ? 4 : 1);
    const ceiling = Math.min(this.options.maxDelayMs ?? 2000, base * 2 ** (attempt - 1));
    return Math.floor((this.options.random ?? Math.random)() * ceiling);
  }
}

function parseBody<T>(body: Buffer, operation: string): T {
  if (body.length === 0) return {} as T;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw new AwsCallError('InvalidResponse', `${operation}: the answer is not JSON`, 200, false);
  }
}

/**
 * AWS JSON errors: the code is in `x-amzn-errortype` or the body's `__type` (either may carry a
 * namespace before `#` or a URI after `:`), the message in `message` or `Message`. SQS's query
 * compatibility header is read too (`x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender`).
 */
export function toError(operation: string, status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): AwsCallError {
  let parsed: Record<string, unknown> = {};
  try {
    const json: unknown = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
    if (json && typeof json === 'object') parsed = json as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's HTML error page): the status decides.
  }
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const raw = header('x-amzn-errortype') ?? (typeof parsed.__type === 'string' ? parsed.__type : undefined) ?? (typeof parsed.code === 'string' ? parsed.code : undefined);
  const code = raw ? raw.split(':')[0]!.split('#').pop()! : status === 429 ? 'TooManyRequestsException' : `Http${status}`;
  const queryCode = header('x-amzn-query-error')?.split(';')[0];
  const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.Message === 'string' ? parsed.Message : '';
  const retryable = status >= 500 || status === 429 || THROTTLING_CODES.has(code) || TRANSIENT_CODES.has(code);
  return new AwsCallError(code, `${operation} failed: ${code}${queryCode && queryCode !== code ? ` (${queryCode})` : ''}${message ? `: ${message}` : ''} [HTTP ${status}]`, status, retryable);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
