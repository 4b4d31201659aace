import { randomUUID } from 'node:crypto';
import type { MiddlewareStack } from '@smithy/types';
import { type Random, sleep } from './random';

/**
 * Faults injected below the SDK: a middleware at the innermost position of a real client's stack
 * (deserialize step, low priority — between the SDK's response parser and the HTTP handler) that,
 * for a chosen fraction of attempts, answers with the HTTP response the service itself sends when
 * it throttles, instead of calling the emulator. So the SDK parses a genuine error response,
 * classifies it with its own rules and retries it with its own backoff; every retry attempt passes
 * through here again and may be throttled again. Only when the SDK gives up (3 attempts by
 * default) does the error reach keysmith's code.
 *
 * - SES (query protocol, XML): HTTP 400, `<Code>Throttling</Code>`, "Maximum sending rate
 *   exceeded." — what SES answers above the account's sending rate. The SDK surfaces it as an
 *   error named `Throttling` (one of its throttling codes).
 * - DynamoDB (JSON 1.0): HTTP 400, `__type` `…#ThrottlingException` — what an on-demand table
 *   answers when a partition is hot. Surfaced as `ThrottlingException`.
 *
 * Each attempt that is let through may first wait a random few milliseconds, so calls overlap
 * differently from run to run.
 */

export type ThrottleResponse = 'ses' | 'dynamodb';

export interface SdkFaultOptions {
  /** Fraction of attempts answered with a throttling response. */
  rate: number;
  response: ThrottleResponse;
  /** Upper bound of the random delay before an attempt that goes through, in ms. @default 0 */
  maxDelayMs?: number;
  random: Random;
}

export interface SdkFaultCounters {
  /** Attempts seen (an SDK retry is a new attempt). */
  attempts: number;
  /** Attempts answered with an injected throttling response. */
  throttled: number;
  /** Attempts that reached the emulator, by command name. */
  reached: Record<string, number>;
  /** Attempts that reached the emulator and got a 2xx, by command name. */
  succeeded: Record<string, number>;
}

interface HttpResponseLike {
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export function injectSdkFaults(client: { middlewareStack: MiddlewareStack<any, any> }, options: SdkFaultOptions): SdkFaultCounters {
  const counters: SdkFaultCounters = { attempts: 0, throttled: 0, reached: {}, succeeded: {} };
  const maxDelay = options.maxDelayMs ?? 0;
  client.middlewareStack.add(
    (next: (args: any) => Promise<{ response: unknown; output?: any }>, context: { commandName?: string }) => async (args: any) => {
      const command = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counters.attempts++;
      if (options.random.chance(options.rate)) {
        counters.throttled++;
        return { response: throttlingResponse(options.response), output: undefined };
      }
      if (maxDelay > 0) await sleep(options.random.int(0, maxDelay));
      counters.reached[command] = (counters.reached[command] ?? 0) + 1;
      const result = await next(args);
      const status = (result.response as { statusCode?: number } | undefined)?.statusCode ?? 0;
      if (status >= 200 && status < 300) counters.succeeded[command] = (counters.succeeded[command] ?? 0) + 1;
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'keysmithSoakFaults' },
  );
  return counters;
}

/** The bytes the real service sends when it throttles. */
export function throttlingResponse(kind: ThrottleResponse): HttpResponseLike {
  const requestId = randomUUID();
  if (kind === 'ses') {
    const xml =
      '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>Throttling</Code>' +
      `<Message>Maximum sending rate exceeded.</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    return { statusCode: 400, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: Buffer.from(xml) };
  }
  const json = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Throughput exceeds the current capacity of your table or index.' });
  return { statusCode: 400, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId }, body: Buffer.from(json) };
}
