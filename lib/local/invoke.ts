import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL } from '../../functions/settings';

/**
 * Invoking a handler the way the Lambda runtime does: a context object with the function's name,
 * memory and deadline, and the function timeout enforced. A timed-out invocation is an error, as
 * in Lambda; the handler's promise keeps running (Lambda would freeze it), but its result is
 * ignored.
 */

export interface FunctionSpec {
  functionName: string;
  timeoutSeconds: number;
  memoryMb: number;
}

export class InvocationTimeoutError extends Error {
  constructor(spec: FunctionSpec) {
    super(`${spec.functionName}: Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`);
    this.name = 'InvocationTimeoutError';
  }
}

export function lambdaContext(spec: FunctionSpec, deadline: number, awsRequestId: string = randomUUID()): Context {
  const unsupported = (): never => {
    throw new Error('the callback-style context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: spec.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL.region}:${LOCAL.accountId}:function:${spec.functionName}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId,
    logGroupName: `/aws/lambda/${spec.functionName}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** Calls `handler(event, context)` with the function's timeout; rejects like a failed invocation. */
export async function invoke<E, R>(spec: FunctionSpec, handler: (event: E, context: Context) => Promise<R>, event: E): Promise<R> {
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new InvocationTimeoutError(spec)), spec.timeoutSeconds * 1000);
  });
  try {
    // `async` wrapper: a handler that throws synchronously fails the invocation, not the caller.
    return await Promise.race([(async () => handler(event, lambdaContext(spec, deadline)))(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
