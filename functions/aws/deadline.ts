import { AsyncLocalStorage } from 'node:async_hooks';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';

/**
 * A point in time by which a piece of work must be over — in practice, a little before the
 * Lambda invocation ends (`context.getRemainingTimeInMillis()`). Every AWS call made for that work
 * takes its time limit from here, so a hung endpoint costs the time that is left, never the
 * invocation: the handler still answers (503, batch item failures) instead of being killed.
 */
export class Deadline {
  private constructor(
    /** Epoch milliseconds. */
    readonly at: number,
    private readonly now: () => number,
  ) {}

  /** `ms` from now. */
  static in(ms: number, now: () => number = Date.now): Deadline {
    return new Deadline(now() + Math.max(0, ms), now);
  }

  /**
   * The Lambda's own deadline less `reserveMs` (kept for answering and reporting). Without a
   * context (unit tests, old callers) `fallbackMs` from now stands in for the function timeout.
   */
  static fromContext(context: { getRemainingTimeInMillis(): number } | undefined, fallbackMs: number, reserveMs = 0, now: () => number = Date.now): Deadline {
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : fallbackMs;
    return new Deadline(now() + Math.max(0, remaining - reserveMs), now);
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.now());
  }

  expired(): boolean {
    return this.remainingMs() === 0;
  }

  /** The time a call may take: what is left, at most `capMs`. */
  budgetMs(capMs = Number.POSITIVE_INFINITY): number {
    return Math.min(capMs, this.remainingMs());
  }

  /** This deadline moved `ms` earlier (the time kept for what must follow). */
  earlier(ms: number): Deadline {
    return new Deadline(this.at - ms, this.now);
  }

  /** The earlier of this deadline and `capMs` from now. */
  capped(capMs: number): Deadline {
    return new Deadline(Math.min(this.at, this.now() + Math.max(0, capMs)), this.now);
  }

  /** A signal that aborts when the deadline (or `capMs` from now, if sooner) is reached. */
  abortSignal(capMs = Number.POSITIVE_INFINITY): AbortSignal {
    const ms = this.budgetMs(capMs);
    if (ms <= 0) return AbortSignal.abort(new DeadlineExceeded('no time left'));
    return AbortSignal.timeout(Math.ceil(ms));
  }

  /**
   * `work`, or a DeadlineExceeded rejection when the deadline (or `capMs`) comes first. The work
   * itself is not cancelled — use this for calls that cannot take a signal, and only where their
   * late completion is harmless.
   */
  race<T>(work: Promise<T>, what: string, capMs = Number.POSITIVE_INFINITY): Promise<T> {
    const ms = this.budgetMs(capMs);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new DeadlineExceeded(`${what} did not finish within ${Math.round(ms)} ms`)), ms);
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }
}

/** Work that was cut off (or never started) because its deadline came. Always worth a retry. */
export class DeadlineExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineExceeded';
  }
}

// ---- the deadline of the work in progress, for SDK clients built once per process ----------------

const current = new AsyncLocalStorage<Deadline>();

/** Runs `work` with `deadline` as the one every deadline-aware client call inside it obeys. */
export function withDeadline<T>(deadline: Deadline, work: () => Promise<T>): Promise<T> {
  return current.run(deadline, work);
}

/** The deadline of the work in progress, if any (see withDeadline). */
export function currentDeadline(): Deadline | undefined {
  return current.getStore();
}

/**
 * The SDK's node:http request handler, with every attempt bounded by the deadline of the work in
 * progress: the attempt is aborted at that deadline (the configured request timeout still bounds
 * each attempt as well). Outside withDeadline it is NodeHttpHandler unchanged.
 *
 * Why this shape: the SDK clients (DynamoDB in functions/aws/store.ts, SQS, SES) are built once
 * per process and called from code that knows nothing of invocations; the invocation's deadline
 * reaches their calls through async context instead of through every signature.
 */
export class DeadlineHttpHandler extends NodeHttpHandler {
  constructor(settings: NodeHttpHandlerOptions = {}) {
    super(settings);
  }

  override handle(request: Parameters<NodeHttpHandler['handle']>[0], options: HttpHandlerOptions = {}): ReturnType<NodeHttpHandler['handle']> {
    const deadline = currentDeadline();
    if (!deadline) return super.handle(request, options);
    if (deadline.expired()) return Promise.reject(new DeadlineExceeded('no time left for the call'));
    const mine = deadline.abortSignal();
    const abortSignal = options.abortSignal ? AbortSignal.any([mine, options.abortSignal as AbortSignal]) : mine;
    return super.handle(request, { ...options, abortSignal });
  }
}
