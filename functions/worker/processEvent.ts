import { renderEmail } from '../domain/email';
import { apply, type AppliedEvent, type ApplyContext, type Entitlement } from '../domain/entitlement';
import type { FulfillmentEvent } from '../domain/events';
import { PermanentMailError, type Mailer } from '../aws/mailer';
import { VersionConflict, type EntitlementStore, type StoredEntitlement } from '../aws/store';
import type { Logger } from '../log/logger';
import { FUNCTIONS } from '../settings';
import { maskEmail } from '../log/logger';
import { METRIC, type Metrics } from '../log/metrics';

/**
 * Exactly-once effects for one event, on top of at-least-once delivery.
 *
 * Timeline of one event (each step is one call; a crash between any two is resumed by the SQS
 * retry from what step 1 recorded, never by recomputing something different):
 *
 *   1. state write   apply(state, event) with the event id in `events`, written conditionally on
 *                    the version it was computed from. Lost race → re-read, re-apply. Event id
 *                    already there → a duplicate: skip to whatever it still owes (2, 3).
 *   2. lookups       KEY#/LIC# items for the licenses it created. Deterministic content, so a
 *                    retry rewrites the same bytes.
 *   3. email         if the event's email is `pending`: send through SES, then mark it `sent`
 *                    (with the SES message id) in a conditional write.
 *
 * Who sends: the write in step 1 claims the email for the delivery that made it (its SQS message
 * id). A concurrent duplicate sees a fresh claim by someone else and backs off (it is retried
 * later and then finds the email marked); a claim older than EMAIL_CLAIM_LEASE_MS belongs to a
 * delivery that died, and the next delivery takes it over with a conditional write. The same
 * SQS message redelivered after a crash owns its own claim and carries on at once.
 *
 * The one window left is between the SES send and the mark (3): a crash there sends the email
 * again on redelivery. It spans one SES round trip plus one DynamoDB write, and nothing else runs
 * inside it; a mark that fails (throttling, a timeout) is retried in-process, up to
 * MARK_ATTEMPTS times over ~1.5 s, before the message goes back to SQS — so only a process that
 * dies, or a table unreachable for that long, repeats an email. Everything else is exactly once: licenses are derived per unit, so even a re-apply
 * could not mint a different key.
 */

export interface ProcessDeps {
  store: EntitlementStore;
  mailer: Mailer;
  context: () => ApplyContext;
  log: Logger;
  /** Counts emails sent and failed; the caller flushes. */
  metrics?: Metrics;
  /** Test hook: called between steps; throwing simulates a crash at that point. */
  checkpoint?: (point: Checkpoint, event: FulfillmentEvent) => void | Promise<void>;
}

export type Checkpoint = 'after-state-write' | 'after-lookups' | 'after-email-sent' | 'after-email-marked';

export interface ProcessResult {
  outcome: 'applied' | 'duplicate';
  state: Entitlement;
  applied: AppliedEvent;
}

const MAX_RACES = 10;
/** Attempts (each with the SDK's own retries) to mark a sent email before giving up. */
const MARK_ATTEMPTS = 5;
const MARK_BACKOFF_MS = 100;
/** A claim older than this (longer than any worker invocation) belongs to a dead delivery. */
export const EMAIL_CLAIM_LEASE_MS = (FUNCTIONS.worker.timeoutSeconds + 30) * 1000;

/** Another live delivery owns this event's email; retry later (transient by design). */
export class EmailInFlight extends Error {
  constructor() {
    super('another delivery of this event is sending its email');
    this.name = 'EmailInFlight';
  }
}

export interface DeliveryHints {
  /** First receive of this SQS message: try the insert before reading. */
  firstDelivery: boolean;
  /** Identifies this delivery (the SQS message id); owns the email claim it writes. */
  claimToken: string;
}

export async function processEvent(delivered: FulfillmentEvent, deps: ProcessDeps, hints: DeliveryHints): Promise<ProcessResult> {
  const ctx = deps.context();
  const event = await followSubscriptionLink(delivered, deps.store);
  const written = await writeState(event, deps, ctx, hints);
  const duplicate = written.duplicate;
  let stored: StoredEntitlement = written;
  const applied = stored.state.events.find((e) => e.eventId === event.eventId);
  if (!applied) {
    // Only possible for a business-key duplicate (same order, new event id): nothing owed.
    return { outcome: 'duplicate', state: stored.state, applied: { eventId: event.eventId, action: event.action, reason: event.reason, occurredAt: event.occurredAt, appliedAt: ctx.now.toISOString() } };
  }
  await deps.checkpoint?.('after-state-write', event);

  if (applied.lookups === 'pending') {
    const licenses = stored.state.licenses.filter((l) => applied.licenseIds?.includes(l.licenseId) ?? true);
    await deps.store.putLookups(stored.state, licenses.length > 0 ? licenses : stored.state.licenses);
    await deps.checkpoint?.('after-lookups', event);
  }

  if (applied.email?.status === 'pending') {
    stored = await claimEmail(stored, applied, deps, ctx, hints.claimToken);
    stored = await sendAndMark(event, stored, applied, deps, ctx);
  } else if (applied.lookups === 'pending') {
    stored = await patchEvent(stored, event.eventId, deps, (e) => {
      e.lookups = 'done';
    });
  }
  const final = stored.state.events.find((e) => e.eventId === event.eventId) ?? applied;
  return { outcome: duplicate ? 'duplicate' : 'applied', state: stored.state, applied: final };
}

/**
 * An event that names only a subscription (the provider did not say which order started it)
 * belongs to the entitlement that was granted with that subscription, when there is one.
 */
async function followSubscriptionLink(event: FulfillmentEvent, store: EntitlementStore): Promise<FulfillmentEvent> {
  if (event.action === 'grant' || !event.subscription || event.scope !== event.subscription.id) return event;
  const scope = await store.findSubscriptionScope(event.provider, event.subscription.id);
  return scope && scope !== event.scope ? { ...event, scope } : event;
}

/** Step 1: apply and write conditionally, re-reading on a lost race. */
async function writeState(
  event: FulfillmentEvent,
  deps: ProcessDeps,
  ctx: ApplyContext,
  hints: DeliveryHints,
): Promise<StoredEntitlement & { duplicate: boolean }> {
  // First delivery of a grant: most likely a new order, so try the insert without a read.
  let current: StoredEntitlement | undefined;
  let known = hints.firstDelivery && event.action === 'grant';
  for (let race = 0; race < MAX_RACES; race++) {
    if (!known) current = await deps.store.get(event.provider, event.scope);
    known = false;
    const result = apply(current?.state, event, ctx);
    if (result.duplicate) return { ...(current ?? { state: result.state, version: 0 }), duplicate: true };
    // Lookups the ingress already wrote (it predicted this grant's licenses) are not owed again.
    if (result.applied.lookups === 'pending' && event.indexed && (result.applied.licenseIds ?? []).every((id) => event.indexed!.includes(id))) {
      result.applied.lookups = 'done';
    }
    // The delivery that records the event owns its email.
    if (result.applied.email) Object.assign(result.applied.email, { claim: hints.claimToken, claimedAt: ctx.now.toISOString() });
    try {
      const written = await deps.store.put(result.state, current?.version ?? 0);
      return { ...written, duplicate: false };
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
      deps.log.debug('lost a write race; re-applying', { provider: event.provider, scope: event.scope, eventId: event.eventId });
      if (error.current) {
        current = error.current;
        known = true;
      }
    }
  }
  throw new Error(`entitlement ${event.provider}#${event.scope} kept changing; will retry`);
}

/** Make sure this delivery owns the email before sending it (see the timeline above). */
async function claimEmail(stored: StoredEntitlement, applied: AppliedEvent, deps: ProcessDeps, ctx: ApplyContext, token: string): Promise<StoredEntitlement> {
  const email = applied.email!;
  if (email.claim === token) return stored;
  const claimedAt = email.claimedAt ? Date.parse(email.claimedAt) : 0;
  if (email.claim && ctx.now.getTime() - claimedAt < EMAIL_CLAIM_LEASE_MS) throw new EmailInFlight();
  // Unclaimed, or claimed by a delivery that died: take it over. The versioned write makes sure
  // only one taker wins; a loser re-reads and finds the winner's fresh claim.
  const taken = await patchEvent(stored, applied.eventId, deps, (e) => {
    if (e.email?.status !== 'pending') return;
    if (e.email.claim && e.email.claim !== email.claim) throw new EmailInFlight();
    e.email = { ...e.email, claim: token, claimedAt: ctx.now.toISOString() };
  });
  const now = taken.state.events.find((e) => e.eventId === applied.eventId)?.email;
  if (now?.status !== 'pending' || now.claim !== token) throw new EmailInFlight();
  Object.assign(applied, taken.state.events.find((e) => e.eventId === applied.eventId));
  return taken;
}

/** Step 3: send, then mark. The gap between the two is the documented at-least-once window. */
async function sendAndMark(
  event: FulfillmentEvent,
  current: StoredEntitlement,
  applied: AppliedEvent,
  deps: ProcessDeps,
  ctx: ApplyContext,
): Promise<StoredEntitlement> {
  let stored = current;
  const state = stored.state;
  const licenses = state.licenses.filter((l) => applied.licenseIds?.includes(l.licenseId));
  const to = state.customer.email;
  let result: { messageId: string } | { error: PermanentMailError };
  try {
    if (licenses.length === 0) throw new PermanentMailError('NOTHING_TO_SEND', 'the event names no license to email');
    const email = renderEmail(applied.email!.kind, state, licenses, ctx.catalog);
    // The tags bring SES bounces and complaints back to this entitlement (functions/feedback/).
    result = await deps.mailer.send(to, email, { provider: state.provider, scope: state.scope, eventId: event.eventId });
    deps.metrics?.count(METRIC.emailsSent, 1, { provider: state.provider });
  } catch (error) {
    if (!(error instanceof PermanentMailError)) throw error; // transient: the message is retried
    result = { error };
    deps.log.warn('email not sent (permanent)', { provider: event.provider, scope: event.scope, eventId: event.eventId, code: error.code, to: maskEmail(to) });
    deps.metrics?.count(METRIC.emailsFailed, 1, { provider: state.provider, reason: error.code });
  }
  await deps.checkpoint?.('after-email-sent', event);
  const mark = (e: AppliedEvent): void => {
    e.lookups = e.lookups === 'pending' ? 'done' : e.lookups;
    if ('error' in result) {
      e.email = { ...e.email!, status: 'failed', error: `${result.error.code}: ${result.error.message}` };
      e.problem ??= { code: result.error.code, message: result.error.message };
    } else {
      e.email = { ...e.email!, status: 'sent', messageId: result.messageId, sentAt: ctx.now.toISOString() };
    }
  };
  // Inside the window now: an unmarked email is sent again on redelivery, so the mark is retried
  // here (beyond the SDK's own retries) before the message is given back to SQS.
  let marked: StoredEntitlement | undefined;
  for (let attempt = 1; !marked; attempt++) {
    try {
      marked = await patchEvent(stored, event.eventId, deps, mark);
    } catch (error) {
      if (attempt >= MARK_ATTEMPTS) throw error;
      deps.log.warn('marking the email sent failed; retrying', { provider: event.provider, scope: event.scope, eventId: event.eventId, attempt, error });
      await new Promise((resolve) => setTimeout(resolve, MARK_BACKOFF_MS * 2 ** (attempt - 1)));
      stored = (await deps.store.get(event.provider, event.scope).catch(() => undefined)) ?? stored;
    }
  }
  await deps.checkpoint?.('after-email-marked', event);
  if (!('error' in result)) deps.log.info('email sent', { provider: event.provider, scope: event.scope, eventId: event.eventId, to: maskEmail(to) });
  return marked;
}

/** Change one applied event's bookkeeping with a versioned write; re-read on a lost race. */
async function patchEvent(stored: StoredEntitlement, eventId: string, deps: ProcessDeps, change: (e: AppliedEvent) => void): Promise<StoredEntitlement> {
  let current = stored;
  for (let race = 0; race < MAX_RACES; race++) {
    const state = structuredClone(current.state);
    const target = state.events.find((e) => e.eventId === eventId);
    if (!target) return current;
    change(target);
    try {
      return await deps.store.put(state, current.version);
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
      const fresh = error.current ?? (await deps.store.get(state.provider, state.scope));
      if (!fresh) throw new Error('entitlement disappeared while marking an event');
      current = fresh;
    }
  }
  throw new Error(`entitlement ${stored.state.provider}#${stored.state.scope} kept changing; will retry`);
}
