import { ItemBudgetExceeded } from '../aws/itemSize';
import { type Mailer, PermanentMailError } from '../aws/mailer';
import { type EntitlementStore, type EventView, type StoredEntitlement, VersionConflict } from '../aws/store';
import { renderEmail } from '../domain/email';
import { type AppliedEvent, type ApplyContext, apply, type Entitlement, emptyEntitlement, recentlyApplied, retirePending } from '../domain/entitlement';
import type { FulfillmentEvent } from '../domain/events';
import { viewsToWrite } from '../domain/licenseView';
import type { Logger } from '../log/logger';
import { maskEmail } from '../log/logger';
import { METRIC, type Metrics } from '../log/metrics';
import { FUNCTIONS } from '../settings';
import { followLinks } from './links';

/**
 * Exactly-once effects for one event, on top of at-least-once delivery — for the life of the
 * order, in items that never grow with its age.
 *
 * Where an applied event is remembered: its record sits in the order's `pending` from the state
 * write that applied it until its own record item (`EVT#…`) is known to exist, and only then
 * leaves. So at every moment an applied event is found in one of the two, and a duplicate is
 * recognized however many events came after it (docs/data-model.md).
 *
 * Timeline of one event (each step one call; a crash between any two is resumed by the SQS retry
 * from what the earlier steps recorded, never by recomputing something different):
 *
 *   0. read          the order, the event's record and its business-key marker, in one
 *                    consistent BatchGetItem (skipped for the first delivery of a grant: the
 *                    insert below is tried first). A record or marker there → a duplicate.
 *   1. flush         records still in `pending` from earlier events: each is written as its own
 *                    item unless one exists (a conditional put) — then they can leave `pending`.
 *   2. state write   apply(state, event) with the event's record added to `pending`, written
 *                    conditionally on the version it was computed from. Lost race → re-read,
 *                    re-apply. The write claims the event's email for this delivery.
 *   2b. views        the license API's copy of each license whose terms changed (one conditional
 *                    put per license, in parallel; functions/domain/licenseView.ts). Before the
 *                    email, so a customer who activates as soon as it arrives finds the license.
 *   3. email         if one is owed: send it through SES.
 *   4. record        the event's record (email sent, SES message id), its business-key marker and
 *                    the lookups of the licenses it created, in one BatchWriteItem.
 *
 * A new order costs 3 calls (2, 3, 4) plus one put per license (2b); a duplicate redelivered
 * costs 1 (0).
 *
 * Resuming: a duplicate whose record is still only in `pending` (a crash after 2) first writes it
 * as its own item (1), rewrites every license view of the order (it cannot know which ones the
 * crashed delivery wrote; each put is conditional on the version, so this is idempotent), then
 * finishes from the item: lookups, then the email under a claim taken with a conditional write on
 * the record item. An event that has to write an earlier event's record item (1) — which only a
 * crashed delivery leaves unwritten — likewise writes every view.
 *
 * Who sends: the write in 2 claims the email for the delivery that made it (its SQS message id).
 * A concurrent duplicate sees a fresh claim by someone else and backs off (it is retried later
 * and then finds the email marked); a claim older than EMAIL_CLAIM_LEASE_MS belongs to a
 * delivery that died, and the next delivery takes it over with a conditional write on the record
 * item. The same SQS message redelivered after a crash owns its own claim and carries on at once.
 *
 * The one window left is between the SES send (3) and the record (4): a crash there sends the
 * email again on redelivery. It spans one SES round trip plus one DynamoDB write, and nothing
 * else runs inside it; a record write that fails (throttling, a timeout) is retried in-process,
 * up to MARK_ATTEMPTS times over ~1.5 s, before the message goes back to SQS — so only a process
 * that dies, or a table unreachable for that long, repeats an email. Everything else is exactly
 * once: licenses are derived per unit, so even a re-apply could not mint a different key.
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

export type Checkpoint = 'after-flush' | 'after-state-write' | 'after-views' | 'after-lookups' | 'after-email-sent' | 'after-email-marked';

export interface ProcessResult {
  outcome: 'applied' | 'duplicate';
  state: Entitlement;
  applied: AppliedEvent;
}

const MAX_RACES = 10;
/** Attempts (each with the SDK's own retries) to write a sent email's record before giving up. */
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
  // A payment's own order is read the way step 0 reads it, so staying on it costs no second read.
  let ownView: EventView | undefined;
  const event = await followLinks(delivered, {
    findSubscriptionScope: (provider, id) => deps.store.findSubscriptionScope(provider, id),
    get: async (provider, scope) => {
      ownView = await deps.store.getForEvent(provider, scope, delivered.eventId, delivered.businessKey);
      return ownView.stored;
    },
  });
  const outcome = await writeState(event, deps, ctx, hints, event.scope === delivered.scope ? ownView : undefined);
  if (outcome.kind === 'duplicate') return finishDuplicate(event, outcome.view, deps, ctx, hints);
  const { stored, applied } = outcome;
  await deps.checkpoint?.('after-state-write', event);
  await deps.store.putViews(viewsToWrite(outcome.before, stored.state, outcome.resumed));
  await deps.checkpoint?.('after-views', event);
  return finishApplied(event, stored, applied, deps, ctx);
}

type WriteOutcome =
  /** `before`: the state it replaced; `resumed`: it finished records a crashed delivery left. */
  { kind: 'applied'; stored: StoredEntitlement; applied: AppliedEvent; before: Entitlement | undefined; resumed: boolean } | { kind: 'duplicate'; view: EventView };

/** Steps 0–2: read, flush what earlier events left, apply and write conditionally. */
async function writeState(event: FulfillmentEvent, deps: ProcessDeps, ctx: ApplyContext, hints: DeliveryHints, read?: EventView): Promise<WriteOutcome> {
  // First delivery of a grant: most likely a new order, so try the insert without a read.
  let view: EventView | undefined = read ?? (hints.firstDelivery && event.action === 'grant' ? {} : undefined);
  let linked = false;
  for (let race = 0; race < MAX_RACES; race++) {
    view ??= await deps.store.getForEvent(event.provider, event.scope, event.eventId, event.businessKey);
    if (view.record || view.businessKeyOf !== undefined) return { kind: 'duplicate', view };
    const current = view.stored;
    if (current && recentlyApplied(current.state, event)) return { kind: 'duplicate', view };
    // apply() finds the event (or its business key) among the order's unfinished records.
    const result = apply(current?.state, event, ctx);
    if (result.duplicate) return { kind: 'duplicate', view };
    const { state, applied } = result;
    // Payment ids this event names lead to the order before its state says it was applied: a
    // crash after this write only means the redelivery writes the same bytes again.
    // Written already by the ingress, with the delivery log (`linked`), unless that write failed.
    if (event.links?.length && !event.linked && !linked) {
      await deps.store.putLinks(event.provider, event.scope, event.links);
      linked = true;
    }
    // Earlier events' records leave `pending` once their own items exist (step 1).
    const earlier = state.pending.filter((e) => e.eventId !== event.eventId);
    // A record written here (not already there) was left by a delivery that crashed after its
    // state write: it may not have written its license views either.
    let resumed = false;
    for (const record of earlier) if (await deps.store.flushRecord(state, record)) resumed = true;
    if (earlier.length > 0) await deps.checkpoint?.('after-flush', event);
    retirePending(state, earlier);
    // Lookups the ingress already wrote (it predicted this grant's licenses) are not owed again.
    if (applied.lookups === 'pending' && event.indexed && (applied.licenseIds ?? []).every((id) => event.indexed!.includes(id))) applied.lookups = 'done';
    // The delivery that records the event owns its email.
    if (applied.email) Object.assign(applied.email, { claim: hints.claimToken, claimedAt: ctx.now.toISOString() });
    // Until this delivery has written the license views of the state it makes; a record item that
    // still says so (flushed by another delivery after this one crashed) tells the redelivery.
    applied.views = 'pending';
    try {
      const stored = await deps.store.put(state, current?.version ?? 0);
      return { kind: 'applied', stored, applied: stored.state.pending.find((e) => e.eventId === event.eventId)!, before: current?.state, resumed };
    } catch (error) {
      if (error instanceof ItemBudgetExceeded) return refuseOversized(event, current, error, deps, ctx);
      if (!(error instanceof VersionConflict)) throw error;
      deps.log.debug('lost a write race; re-reading', { provider: event.provider, scope: event.scope, eventId: event.eventId });
      view = undefined;
    }
  }
  throw new Error(`entitlement ${event.provider}#${event.scope} kept changing; will retry`);
}

/**
 * By design no order outgrows its budget (docs/data-model.md); if one ever would, the event is
 * recorded with a permanent problem instead of failing into the DLQ on every retry.
 */
async function refuseOversized(event: FulfillmentEvent, current: StoredEntitlement | undefined, error: ItemBudgetExceeded, deps: ProcessDeps, ctx: ApplyContext): Promise<WriteOutcome> {
  deps.log.error('event would outgrow the entitlement item; recorded, not applied', { provider: event.provider, scope: event.scope, eventId: event.eventId, bytes: error.bytes });
  const state = current?.state ?? emptyEntitlement(event, ctx.now);
  const record: AppliedEvent = {
    eventId: event.eventId,
    seq: 0,
    ...(event.businessKey !== undefined ? { businessKey: event.businessKey } : {}),
    action: event.action,
    reason: event.reason,
    occurredAt: event.occurredAt,
    appliedAt: ctx.now.toISOString(),
    problem: { code: 'ORDER_TOO_LARGE', message: error.message },
  };
  await deps.store.flushRecord(state, record);
  return { kind: 'duplicate', view: { ...(current ? { stored: current } : {}), record } };
}

/** Steps 3–4 for the delivery that applied the event. */
async function finishApplied(event: FulfillmentEvent, stored: StoredEntitlement, applied: AppliedEvent, deps: ProcessDeps, ctx: ApplyContext): Promise<ProcessResult> {
  const lookups = owedLookups(stored.state, applied);
  // The views were written before this step (processEvent), so the record item says nothing is owed.
  const { views: _written, ...rest } = applied;
  let record: AppliedEvent = { ...rest, ...(applied.lookups === 'pending' ? { lookups: 'done' as const } : {}) };
  if (applied.email?.status === 'pending') {
    record = { ...record, ...(await send(event, stored.state, applied, deps, ctx)) };
    await deps.checkpoint?.('after-email-sent', event);
    await writeRecordPersistently(event, deps, () => deps.store.putRecord(stored.state, record, lookups));
    await deps.checkpoint?.('after-email-marked', event);
  } else {
    await deps.store.putRecord(stored.state, record, lookups);
    await deps.checkpoint?.('after-lookups', event);
  }
  return { outcome: 'applied', state: stored.state, applied: record };
}

/** A duplicate: finish whatever its record still owes (lookups, the email), from the record item. */
async function finishDuplicate(event: FulfillmentEvent, seen: EventView, deps: ProcessDeps, ctx: ApplyContext, hints: DeliveryHints): Promise<ProcessResult> {
  const view = seen.stored ? seen : { ...seen, stored: await deps.store.get(event.provider, event.scope) };
  const state = view.stored?.state ?? emptyEntitlement(event, ctx.now);
  let record = view.record ?? (await recordItemOf(event, view, deps));
  if (!record) {
    // A business-key duplicate (same order, new event id): nothing is owed.
    const stub: AppliedEvent = { eventId: event.eventId, seq: 0, action: event.action, reason: event.reason, occurredAt: event.occurredAt, appliedAt: ctx.now.toISOString() };
    return { outcome: 'duplicate', state, applied: stub };
  }
  const owesViews = record.views === 'pending';
  if (owesViews) {
    // The delivery that applied it crashed before writing the views; which ones it wrote, nobody
    // knows — write every license's view of the order as it is now (each conditional on its version).
    await deps.store.putViews(viewsToWrite(undefined, state, true));
    await deps.checkpoint?.('after-views', event);
  }
  if (record.lookups === 'pending') {
    await deps.store.putLookups(state, owedLookups(state, record));
    await deps.checkpoint?.('after-lookups', event);
  }
  if (owesViews || record.lookups === 'pending') {
    const { views: _written, ...rest } = record;
    const done: AppliedEvent = { ...rest, ...(record.lookups === 'pending' ? { lookups: 'done' as const } : {}) };
    if (record.email?.status !== 'pending') await deps.store.replaceRecord(state, done, record.email?.claim ?? null);
    record = done;
  }
  if (record.email?.status === 'pending') {
    const claimed = await claimEmail(state, record, deps, ctx, hints.claimToken);
    const outcome = await send(event, state, claimed, deps, ctx);
    await deps.checkpoint?.('after-email-sent', event);
    record = { ...claimed, ...outcome };
    const marked = record;
    await writeRecordPersistently(event, deps, async () => {
      if (!(await deps.store.replaceRecord(state, marked, hints.claimToken))) throw new EmailInFlight();
    });
    await deps.checkpoint?.('after-email-marked', event);
  }
  return { outcome: 'duplicate', state, applied: record };
}

/**
 * The record item of an event found only in the order's `pending` (a crash after the state
 * write), written now so the rest goes through one place; or, for an event found in `recent`,
 * the item that is known to exist.
 */
async function recordItemOf(event: FulfillmentEvent, view: EventView, deps: ProcessDeps): Promise<AppliedEvent | undefined> {
  const state = view.stored?.state;
  const pending = state?.pending.find((e) => e.eventId === event.eventId || (event.businessKey !== undefined && e.businessKey === event.businessKey));
  if (pending && pending.eventId !== event.eventId) return undefined;
  if (pending && state) {
    await deps.store.flushRecord(state, pending);
    await deps.checkpoint?.('after-flush', event);
  }
  return deps.store.getRecord(event.provider, event.scope, event.eventId);
}

/** Take the email for this delivery with a conditional write on the record item. */
async function claimEmail(state: Entitlement, record: AppliedEvent, deps: ProcessDeps, ctx: ApplyContext, token: string): Promise<AppliedEvent> {
  const email = record.email!;
  if (email.claim === token) return record;
  const claimedAt = email.claimedAt ? Date.parse(email.claimedAt) : 0;
  if (email.claim && ctx.now.getTime() - claimedAt < EMAIL_CLAIM_LEASE_MS) throw new EmailInFlight();
  // Unclaimed, or claimed by a delivery that died: take it over. The condition on the claim
  // makes sure only one taker wins; a loser is retried and finds the winner's fresh claim.
  const taken: AppliedEvent = { ...record, email: { ...email, claim: token, claimedAt: ctx.now.toISOString() } };
  if (!(await deps.store.replaceRecord(state, taken, email.claim ?? null))) throw new EmailInFlight();
  return taken;
}

/** Step 3: render and send; a permanent failure becomes the email's recorded outcome. */
async function send(event: FulfillmentEvent, state: Entitlement, record: AppliedEvent, deps: ProcessDeps, ctx: ApplyContext): Promise<Pick<AppliedEvent, 'email' | 'problem'>> {
  const licenses = state.licenses.filter((l) => record.licenseIds?.includes(l.licenseId));
  const to = state.customer.email;
  try {
    if (licenses.length === 0) throw new PermanentMailError('NOTHING_TO_SEND', 'the event names no license to email');
    const email = renderEmail(record.email!.kind, state, licenses, ctx.catalog);
    // The tags bring SES bounces and complaints back to this entitlement (functions/feedback/).
    const { messageId } = await deps.mailer.send(to, email, { provider: state.provider, scope: state.scope, eventId: event.eventId });
    deps.metrics?.count(METRIC.emailsSent, 1, { provider: state.provider });
    deps.log.info('email sent', { provider: event.provider, scope: event.scope, eventId: event.eventId, to: maskEmail(to) });
    return { email: { ...record.email!, status: 'sent', messageId, sentAt: ctx.now.toISOString() } };
  } catch (error) {
    if (!(error instanceof PermanentMailError)) throw error; // transient: the message is retried
    deps.log.warn('email not sent (permanent)', { provider: event.provider, scope: event.scope, eventId: event.eventId, code: error.code, to: maskEmail(to) });
    deps.metrics?.count(METRIC.emailsFailed, 1, { provider: state.provider, reason: error.code });
    return { email: { ...record.email!, status: 'failed', error: `${error.code}: ${error.message}` }, problem: record.problem ?? { code: error.code, message: error.message } };
  }
}

/**
 * Inside the window now: an email sent but not recorded is sent again on redelivery, so the
 * write is retried here (beyond the SDK's own retries) before the message is given back to SQS.
 */
async function writeRecordPersistently(event: FulfillmentEvent, deps: ProcessDeps, write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      if (error instanceof EmailInFlight || attempt >= MARK_ATTEMPTS) throw error;
      deps.log.warn('recording the sent email failed; retrying', { provider: event.provider, scope: event.scope, eventId: event.eventId, attempt, error });
      await new Promise((resolve) => setTimeout(resolve, MARK_BACKOFF_MS * 2 ** (attempt - 1)));
    }
  }
}

/** The licenses whose lookups a record still owes (those it names, else all of the order's). */
function owedLookups(state: Entitlement, record: AppliedEvent): Entitlement['licenses'] {
  if (record.lookups !== 'pending') return [];
  const named = state.licenses.filter((l) => record.licenseIds?.includes(l.licenseId));
  return named.length > 0 ? named : state.licenses;
}
