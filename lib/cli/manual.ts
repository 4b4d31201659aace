import { randomUUID } from 'node:crypto';
import { SqsEventQueue } from '../../functions/aws/queue';
import type { StoredEntitlement } from '../../functions/aws/store';
import type { AppliedEvent, Entitlement } from '../../functions/domain/entitlement';
import { fulfillmentEventSchema } from '../../functions/domain/eventSchema';
import type { Action, FulfillmentEvent, ProviderName } from '../../functions/domain/events';
import { linkedScope } from '../../functions/worker/links';
import { CliError, EXIT, type Output } from './output';

export { parseTimeout } from './args';

import type { Target } from './target';

/**
 * Manual operations (revoke, suspend, reinstate, resend, replay --force) are canonical events
 * like any provider's, sent through the same SQS path to the same worker: they are ordered with
 * the order's other events (same FIFO group), recorded in its history, and exactly once like
 * everything else. The CLI never writes an entitlement itself.
 */

/** Reasons are stored as `manual: <text>`; the schema allows 200 characters. */
const MAX_REASON = 180;

export function manualEvent(state: Entitlement, action: Action, reason: string, extra: Pick<FulfillmentEvent, 'targets' | 'resendEmail'> = {}, now = new Date()): FulfillmentEvent {
  return fulfillmentEventSchema.parse({
    provider: state.provider,
    eventId: `manual#${randomUUID()}`,
    occurredAt: now.toISOString(),
    action,
    reason: `manual: ${reason.trim().slice(0, MAX_REASON) || action}`,
    scope: state.scope,
    // The entitlement's own customer and mode: a manual event must not change either.
    live: state.live,
    customer: state.customer,
    items: [],
    by: 'seller',
    ...extra,
  });
}

export async function enqueue(target: Target, events: FulfillmentEvent[]): Promise<void> {
  if (events.length === 0) return;
  const { failed } = await new SqsEventQueue(target.sqs, target.queueUrl).send(events);
  if (failed.length > 0) throw new CliError(`SQS did not accept ${failed.length} of ${events.length} event(s) (${target.label}); nothing else was changed, try again`);
}

export interface AwaitedEvent {
  provider: ProviderName;
  scope: string;
  eventId: string;
}

export interface AppliedResult {
  event: AwaitedEvent;
  state: Entitlement;
  applied: AppliedEvent;
}

export interface WaitOptions {
  timeoutSeconds: number;
  /** Also wait until an email the event owes is no longer pending. @default true */
  email?: boolean;
  label?: string;
}

/**
 * Polls the entitlements until the worker applied every event (its id is in `events`) and, by
 * default, sent or failed its email. Shows progress; throws exit 5 on timeout (the events stay
 * queued and will still be applied).
 */
export async function waitForEvents(target: Target, events: AwaitedEvent[], options: WaitOptions, out: Output): Promise<AppliedResult[]> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const results = new Map<string, AppliedResult>();
  const progress = out.progress(options.label ?? 'waiting for the worker', events.length);
  let delay = 100;
  for (;;) {
    for (const event of events) {
      if (results.has(event.eventId)) continue;
      const stored = await findEntitlement(target, event.provider, event.scope);
      const applied = stored ? await appliedRecord(target, stored.state, event.eventId) : undefined;
      if (!stored || !applied) continue;
      if (options.email !== false && applied.email?.status === 'pending') continue;
      results.set(event.eventId, { event, state: stored.state, applied });
    }
    progress.update(results.size);
    if (results.size === events.length) {
      progress.done(`${options.label ?? 'waiting for the worker'}: done (${events.length} event(s))`);
      return events.map((e) => results.get(e.eventId)!);
    }
    if (Date.now() >= deadline) {
      progress.done();
      throw new CliError(
        `timed out after ${options.timeoutSeconds} s: ${events.length - results.size} event(s) enqueued but not applied yet (${target.label}). They stay queued; check later with \`keysmith show\` or \`keysmith dlq list\`.`,
        EXIT.timeout,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
  }
}

/** An applied event's record: its own item, or (not finished yet) the order's `pending` entry. */
export async function appliedRecord(target: Target, state: Entitlement, eventId: string): Promise<AppliedEvent | undefined> {
  return (await target.store.getRecord(state.provider, state.scope, eventId)) ?? state.pending.find((e) => e.eventId === eventId);
}

/** The entitlement at a scope — or, for a subscription id, the order it was granted under. */
export async function findEntitlement(target: Target, provider: ProviderName, scope: string): Promise<StoredEntitlement | undefined> {
  const direct = await target.store.get(provider, scope);
  if (direct) return direct;
  // A subscription id, or a payment id that leads through its invoice to the subscription (Stripe).
  const linked = await linkedScope(target.store, provider, scope);
  return linked !== scope ? target.store.get(provider, linked) : undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
