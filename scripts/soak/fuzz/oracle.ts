import { isDeepStrictEqual } from 'node:util';
import { canonicalEvent } from '../../../functions/domain/canonicalEvent';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import type { FuzzCase } from './cases';
import { eventKey } from './context';

/** What the gateway did with a case: its answer, and the events it enqueued for it. */
export interface Outcome {
  /** 0 when no HTTP answer came (connection closed). */
  status: number;
  enqueued: readonly FulfillmentEvent[];
  error?: string;
}

/**
 * The verdict on one case (see ./cases.ts for how the expectation is decided): `undefined` when
 * the gateway behaved, else what it did wrong.
 */
export function judge(c: FuzzCase, outcome: Outcome): string | undefined {
  if (outcome.status === 0) return c.oversize ? undefined : `no answer (${outcome.error ?? 'connection closed'})`;
  if (outcome.status >= 500) return `answered ${outcome.status}`;
  const unfit = outcome.enqueued.map(workerProblem).find((p) => p !== undefined);
  if (unfit) return unfit;
  switch (c.expect.kind) {
    case 'reject':
      if (outcome.enqueued.length > 0) return `enqueued ${outcome.enqueued.length} event(s) for a request that must be refused (${c.expect.why})`;
      if (outcome.status < 400) return `answered ${outcome.status} to a request that must be refused (${c.expect.why})`;
      return undefined;
    case 'genuine': {
      const allowed = new Set(c.expect.events);
      const foreign = outcome.enqueued.filter((e) => !allowed.has(eventKey(e)));
      return foreign.length > 0 ? `enqueued ${foreign.length} event(s) the signer never sent (e.g. ${foreign[0]!.action} ${foreign[0]!.scope})` : undefined;
    }
    case 'authentic':
      return undefined;
  }
}

/**
 * Whether the worker takes an enqueued event as it is: it reads the queue message through the
 * same gate (`canonicalEvent`, see functions/worker/handler.ts `parseQueuedEvent`), which must
 * neither refuse it nor change it (issue 9: what the ingress accepts, the worker accepts).
 */
function workerProblem(event: FulfillmentEvent): string | undefined {
  const body = JSON.stringify(event);
  try {
    const read = canonicalEvent(JSON.parse(body));
    return isDeepStrictEqual(read, JSON.parse(body)) ? undefined : `enqueued event ${event.eventId.slice(0, 60)} is changed by the worker's parse`;
  } catch (error) {
    return `enqueued an event the worker refuses: ${(error as Error).message}`;
  }
}
