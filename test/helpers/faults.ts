import type { MiddlewareStack } from '@smithy/types';

/**
 * Fault injection at the SDK client level: a middleware on the real client, so the adapters,
 * the SDK's own retry logic and the emulators are all exercised. `plan` decides per call.
 *
 * - `throttle`: the call fails with a retryable ThrottlingException before it is sent (inside the
 *   SDK's retry loop, so the SDK retries it as it would a real one).
 * - `crash-after`: the call reaches the service and succeeds there, then the caller sees an
 *   error — a process dying right after a side effect.
 */
export type Fault = 'throttle' | 'crash-after' | undefined;

export interface FaultLog {
  calls: { command: string; fault: Fault }[];
}

export function injectFaults(client: { middlewareStack: MiddlewareStack<any, any> }, plan: (command: string, input: any) => Fault): FaultLog {
  const log: FaultLog = { calls: [] };
  client.middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
      const command = String(context.commandName ?? 'unknown');
      const fault = plan(command, (args as { input: unknown }).input);
      log.calls.push({ command, fault });
      if (fault === 'throttle') {
        throw Object.assign(new Error(`injected throttling on ${command}`), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          $retryable: { throttling: true },
        });
      }
      const result = await next(args);
      if (fault === 'crash-after') throw Object.assign(new Error(`injected crash after ${command}`), { name: 'InjectedCrash' });
      return result;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'keysmithFaultInjection' },
  );
  return log;
}
