import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AwsJsonClient, type CallOptions } from '../../functions/aws/light/AwsJsonClient';

/**
 * Counting AWS calls where they leave the process, attributed to the function that made them.
 *
 * - AWS SDK clients: a middleware on every client (added the first time a client sends), at the
 *   `initialize` step — one count per API call — and at `finalizeRequest` after the retry
 *   middleware — one count per HTTP attempt.
 * - Everything else (keysmith's light client): node:http's `http.client.request.start`
 *   diagnostics channel, one count per HTTP request, named by its `X-Amz-Target`; and the light
 *   client's `call` itself, one count per API call with what its input asked (a condition).
 * - Attribution: the local stack's handlers are wrapped to run inside an AsyncLocalStorage scope
 *   (`ingress` or `worker`); calls outside a scope (the event-source poller, setup) are the
 *   harness's and are not counted.
 */

export type FunctionKind = 'ingress' | 'worker' | 'licensing';

export interface AwsCall {
  fn: FunctionKind;
  /** `sdk` = counted by the SDK middleware; `light` = by keysmith's light client (one per API call); `http` = counted on the wire. */
  via: 'sdk' | 'sdk-attempt' | 'light' | 'http';
  /** `SendMessageBatch`, `PutItem`, `ses:/` … */
  operation: string;
  /** SDK calls: the sort key of the one item a PutItem writes (`VIEW` for a license view). */
  sortKey?: string;
  /** Light-client calls: the input carried a `ConditionExpression` (a conditional write). */
  conditional?: boolean;
}

export const scope = new AsyncLocalStorage<FunctionKind>();

export class CallLog {
  calls: AwsCall[] = [];
  /** When SES accepted an email, by recipient: `performance.timeOrigin + performance.now()`. */
  emailsAt = new Map<string, number>();

  reset(): void {
    this.calls = [];
  }

  /** Calls per function, counted on the wire (every call, whichever client made it). */
  wire(fn: FunctionKind): AwsCall[] {
    return this.calls.filter((c) => c.fn === fn && c.via === 'http');
  }

  sdk(fn: FunctionKind): AwsCall[] {
    return this.calls.filter((c) => c.fn === fn && c.via === 'sdk');
  }
}

export const now = (): number => performance.timeOrigin + performance.now();

type Middleware = (next: (args: any) => Promise<any>, context: { commandName?: string }) => (args: any) => Promise<any>;
interface SmithyClient {
  middlewareStack: { add(mw: Middleware, options: { step: string; name: string; priority?: string }): void };
  send(...args: unknown[]): Promise<unknown>;
}

/** Installs the counters; returns the uninstall. */
/** `services` names the AWS service behind a `host:port` (the emulators), undefined for anything else. */
export function instrument(log: CallLog, services: (host: string) => string | undefined, options: { countCalls: boolean } = { countCalls: true }): () => void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require('@smithy/core/client') as { Client: { prototype: SmithyClient } };
  const instrumented = new WeakSet<object>();
  const originalSend = Client.prototype.send;
  Client.prototype.send = function (this: SmithyClient, ...args: unknown[]) {
    if (!instrumented.has(this)) {
      instrumented.add(this);
      this.middlewareStack.add(
        (next, context) => async (input) => {
          const fn = scope.getStore();
          const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
          if (fn) {
            const sortKey = operation === 'PutItem' ? (input.input as { Item?: Record<string, { S?: string }> }).Item?.sk?.S : undefined;
            log.calls.push({ fn, via: 'sdk', operation, ...(sortKey !== undefined ? { sortKey } : {}) });
          }
          const output = await next(input);
          if (operation === 'SendEmail') {
            const to = (input.input as { Destination?: { ToAddresses?: string[] } }).Destination?.ToAddresses?.[0];
            if (to) log.emailsAt.set(to.toLowerCase(), now());
          }
          return output;
        },
        { step: 'initialize', name: 'keysmithBenchCallCounter', priority: 'high' },
      );
      this.middlewareStack.add(
        (next, context) => async (input) => {
          const fn = scope.getStore();
          if (fn) log.calls.push({ fn, via: 'sdk-attempt', operation: (context.commandName ?? 'unknown').replace(/Command$/, '') });
          return next(input);
        },
        { step: 'finalizeRequest', name: 'keysmithBenchAttemptCounter', priority: 'low' },
      );
    }
    return originalSend.apply(this, args);
  };
  const originalCall = AwsJsonClient.prototype.call;
  AwsJsonClient.prototype.call = function <T>(this: AwsJsonClient, operation: string, input: unknown, callOptions?: CallOptions): Promise<T> {
    const fn = scope.getStore();
    if (fn) log.calls.push({ fn, via: 'light', operation, conditional: typeof (input as { ConditionExpression?: unknown })?.ConditionExpression === 'string' });
    return originalCall.call(this, operation, input, callOptions) as Promise<T>;
  };
  const onRequest = (message: unknown): void => {
    const fn = scope.getStore();
    if (!fn) return;
    const request = (message as { request: ClientRequest }).request;
    const service = services(String(request.getHeader('host') ?? ''));
    if (!service) return;
    const target = request.getHeader('x-amz-target');
    log.calls.push({ fn, via: 'http', operation: target ? String(target).split('.').pop()! : `${service}:${request.path}` });
  };
  if (options.countCalls) subscribe('http.client.request.start', onRequest);
  return () => {
    Client.prototype.send = originalSend;
    AwsJsonClient.prototype.call = originalCall;
    if (options.countCalls) unsubscribe('http.client.request.start', onRequest);
  };
}
