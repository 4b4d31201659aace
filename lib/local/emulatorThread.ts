import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Message } from '@aws-sdk/client-sqs';
import { type EmulatorOptions, type Emulators, startEmulators } from './emulators';

/**
 * The emulators on a thread of their own. In-process they share one event loop with the API
 * server, the handlers and the poller, so a webhook's answer waits behind dynalite's work for
 * other requests; on their own thread they use the machine's second core (measured in
 * BENCHMARKS.md, section 4). Nothing else changes: same emulators, same loopback endpoints.
 *
 * A worker thread needs a JavaScript file to run: the bundle that starts the stack (`npm start`'s
 * .build/local.cjs, the benchmark's .build/bench.cjs) is started again as the thread and serves
 * the emulators when {@link isEmulatorThread} says so. Tests, which run TypeScript in-process,
 * keep the default in-process emulators.
 */

interface ThreadData {
  keysmithEmulatorThread: true;
  options: EmulatorOptions;
}

type Request = { id: number; type: 'dlq'; message: Message } | { id: number; type: 'stop' };
type Reply = { type: 'ready'; info: Omit<Emulators, 'moveToDeadLetterQueue' | 'stop'> } | { type: 'failed'; message: string } | { type: 'done'; id: number; error?: string };

/** True in a thread started by {@link startEmulatorsInThread}. */
export function isEmulatorThread(): boolean {
  return !isMainThread && (workerData as Partial<ThreadData> | null)?.keysmithEmulatorThread === true;
}

/** The thread's side: start the emulators, report their endpoints, serve DLQ moves and stop. */
export async function serveEmulatorsInThisThread(): Promise<void> {
  const port = parentPort!;
  let emulators: Emulators;
  try {
    emulators = await startEmulators((workerData as ThreadData).options);
  } catch (error) {
    port.postMessage({ type: 'failed', message: (error as Error).message } satisfies Reply);
    return;
  }
  const { moveToDeadLetterQueue, stop, ...info } = emulators;
  port.on('message', async (request: Request) => {
    try {
      if (request.type === 'dlq') moveToDeadLetterQueue(request.message);
      else await stop();
      port.postMessage({ type: 'done', id: request.id } satisfies Reply);
      if (request.type === 'stop') port.close();
    } catch (error) {
      port.postMessage({ type: 'done', id: request.id, error: (error as Error).message } satisfies Reply);
    }
  });
  port.postMessage({ type: 'ready', info } satisfies Reply);
}

/**
 * Starts `file` as a worker thread that serves the emulators (the file must call
 * {@link serveEmulatorsInThisThread} when {@link isEmulatorThread}); resolves with the same
 * {@link Emulators} handle `startEmulators` gives, its calls forwarded to the thread.
 */
export function startEmulatorsInThread(file: string, options: EmulatorOptions = {}): Promise<Emulators> {
  // The thread gets a copy of this environment (as it reads it now, also where a test runner
  // substituted process.env).
  const worker = new Worker(file, { env: { ...process.env }, workerData: { keysmithEmulatorThread: true, options } satisfies ThreadData });
  let nextId = 0;
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const call = (request: { type: 'dlq'; message: Message } | { type: 'stop' }): Promise<void> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  let stopped: Promise<void> | undefined;
  return new Promise((resolve, reject) => {
    worker.once('error', (error) => {
      reject(error);
      for (const p of pending.values()) p.reject(error);
    });
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the emulator thread exited with ${code}`));
    });
    worker.on('message', (reply: Reply) => {
      if (reply.type === 'ready') {
        resolve({
          ...reply.info,
          moveToDeadLetterQueue: (message) => call({ type: 'dlq', message }),
          stop: () => (stopped ??= call({ type: 'stop' }).then(async () => void (await worker.terminate()))),
        });
      } else if (reply.type === 'failed') {
        reject(new Error(reply.message));
        void worker.terminate();
      } else {
        const p = pending.get(reply.id);
        pending.delete(reply.id);
        if (reply.error) p?.reject(new Error(reply.error));
        else p?.resolve();
      }
    });
  });
}
