import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * Counting AWS calls where they leave the process, attributed to the function that made them.
 *
 * - AWS SDK clients: a middleware on every client (added the first time a client sends), at the
 *   `initialize` step — one count per API call — and at `finalizeRequest` after the retry
 *   middleware — one count per HTTP attempt.
 * - Everything else (keysmith's light client): node:http's `http.client.request.start`
 *   diagnostics channel, one count per HTTP request, named by its `X-Amz-Target`.
 * - Attribution: the local stack's handlers are wrapped to run inside an AsyncLocalStorage scope
 *   (`ingress` or `worker`); calls outside a scope (the event-source poller, setup) are the
 *   harness's and are not counted.
 */

export type FunctionKind = 'ingress' | 'worker';

export interface AwsCall {
  fn: FunctionKind;
  /** `sdk` = counted by the SDK middleware; `http` = counted on the wire. */
  via: 'sdk' | 'sdk-attempt' | 'http';
  /** `SendMessageBatch`, `PutItem`, `ses:/` … */
  operation: string;
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
          if (fn) log.calls.push({ fn, via: 'sdk', operation });
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
    if (options.countCalls) unsubscribe('http.client.request.start', onRequest);
  };
}
