import { type Secrets, secretsFrom } from '../../../functions/aws/secrets';
import { loadCatalog } from '../../../functions/config/loadCatalog';
import type { AppliedEvent, Entitlement } from '../../../functions/domain/entitlement';
import type { FulfillmentEvent, ProviderName } from '../../../functions/domain/events';
import type { HttpAnswer, ProviderContext, WebhookRequest } from '../../../functions/ingress/types';
import { findWebhookProvider } from '../../../functions/providers/registry';
import type { ReplayRebuild } from '../../../functions/providers/types';
import { followLinks } from '../../../functions/worker/links';
import { appliedRecord, enqueue, findEntitlement, manualEvent, waitForEvents } from '../manual';
import { CliError, type Output, usageError } from '../output';
import type { Target } from '../target';
import { type EventStatus, eventStatus, getDelivery, type StoredDelivery } from './deliveries';
import { checkProvider } from './licenses';

/**
 * `keysmith replay <delivery-id> [--force]`: feed a recorded delivery through the pipeline again.
 *
 * The payload from the delivery log goes through the provider's own `parse` and `normalize` — the
 * code the ingress ran — and the events are enqueued with the SAME event ids, on the same SQS
 * path. The worker's idempotency does the rest: a delivery that was completed is a no-op, one that
 * was lost or failed is applied now. `--force` then asks for the one thing a no-op replay cannot
 * give: the license email again (a manual `record` + `resendEmail` event per order).
 *
 * Verification: only verified requests are ever logged, and what proved them is mostly not in
 * the log (FastSpring's signature header, Hotmart's hottok — header, and the body's `hottok`,
 * which the ingress removes before logging — Selldone's URL secret), so replay does not verify
 * those again: it enqueues, it never posts to a webhook, so no current secret is needed. Where the proof is part of the stored payload it is checked
 * again, because verification also told the ingress something parse needs: Paddle's signature
 * says which key (live or sandbox) signed; for Marketplace Elements the offer id (from the URL,
 * not logged) is recovered by matching the recorded event ids. Each provider's registration says
 * which applies (`replay` in functions/providers/<name>/registration.ts; default: the logged body).
 */

export interface ReplayResult {
  deliveryId: string;
  provider: ProviderName;
  receivedAt: string;
  route: string;
  events: {
    eventId: string;
    action: FulfillmentEvent['action'];
    reason: string;
    scope: string;
    /** Whether the delivery log lists this event id for the delivery (it should, always). */
    recorded: boolean;
    /** The event's status before the replay (see `deliveries`). */
    before: EventStatus;
    /** After the worker took the replayed copy (absent with --no-wait). */
    after?: EventStatus;
  }[];
  /** Events enqueued (with their original ids). */
  enqueued: number;
  /** With --force: the email re-sends, one per order whose events were all applied before. */
  resent: { provider: ProviderName; scope: string; eventId: string; to: string; licenseIds: string[]; email?: { status: string; messageId?: string; error?: string } }[];
}

export interface ReplayOptions {
  provider?: string;
  force: boolean;
  wait: boolean;
  timeoutSeconds: number;
}

export async function replay(deliveryId: string, options: ReplayOptions, target: () => Promise<Target>, out: Output): Promise<void> {
  const only = checkProvider(options.provider);
  if (options.force && !options.wait) throw usageError('--force re-sends the email after the replay is applied; it cannot be combined with --no-wait');
  const t = await target();
  const delivery = await getDelivery(t, deliveryId, only);
  // The order each event belongs to now, as the worker will find it: a Stripe refund stored under
  // its payment before the payment's link existed is reported — and applied — on the subscription.
  const events = await Promise.all((await normalizeDelivery(t, delivery)).map((event) => followLinks(event, t.store)));

  const before = new Map<string, Entitlement | undefined>();
  const beforeRecords = new Map<string, AppliedEvent | undefined>();
  for (const event of events) {
    const key = `${event.provider}#${event.scope}`;
    if (!before.has(key)) before.set(key, (await findEntitlement(t, event.provider, event.scope))?.state);
    const state = before.get(key);
    beforeRecords.set(event.eventId, state ? await appliedRecord(t, state, event.eventId) : undefined);
  }
  const recordedIds = new Set(delivery.events.map((e) => e.eventId));
  const result: ReplayResult = {
    deliveryId,
    provider: delivery.provider,
    receivedAt: delivery.receivedAt.toISOString(),
    route: delivery.route,
    events: events.map((e) => ({
      eventId: e.eventId,
      action: e.action,
      reason: e.reason,
      scope: e.scope,
      recorded: recordedIds.has(e.eventId),
      before: eventStatus(e, before.get(`${e.provider}#${e.scope}`), beforeRecords.get(e.eventId)).status,
    })),
    enqueued: 0,
    resent: [],
  };
  const unrecorded = result.events.filter((e) => !e.recorded);
  if (unrecorded.length > 0) out.note(`note: ${unrecorded.length} event(s) differ from what the log recorded (config changed since?): ${unrecorded.map((e) => e.eventId).join(', ')}`);
  if (events.length === 0) {
    out.result(result, () => `delivery ${deliveryId} carries no event to replay`);
    return;
  }

  // Same ids, same path: SQS may drop a copy sent within 5 minutes of the original (same
  // deduplication id) — the original is then still being processed, which is the same outcome.
  await enqueue(t, events);
  result.enqueued = events.length;
  out.note(`replayed ${events.length} event(s) of ${delivery.provider} delivery ${deliveryId} (${t.label})`);
  if (options.wait) {
    const done = await waitForEvents(
      t,
      events.map((e) => ({ provider: e.provider, scope: e.scope, eventId: e.eventId })),
      { timeoutSeconds: options.timeoutSeconds, label: 'waiting for the worker' },
      out,
    );
    done.forEach((d, i) => {
      result.events[i]!.after = eventStatus(events[i]!, d.state, d.applied).status;
    });
    if (options.force)
      await forceResend(
        t,
        done.map((d) => d.state),
        result,
        options,
        out,
      );
  }
  out.result(result, () => renderReplay(result, options));
}

/** Parse + normalize the logged payload with the provider's own code. */
async function normalizeDelivery(t: Target, delivery: StoredDelivery): Promise<FulfillmentEvent[]> {
  return (await rebuildDelivery(t, delivery)).events;
}

/** A logged delivery read again by its provider's code: its events, and the answer they make. */
export interface RebuiltDelivery {
  events: FulfillmentEvent[];
  /**
   * What the ingress answered, computed again by the provider's own `answer` — the answer when SQS
   * accepted every event (had it not, the ingress answered 503 and the provider retried).
   */
  answer(): HttpAnswer;
}

export async function rebuildDelivery(t: Target, delivery: StoredDelivery): Promise<RebuiltDelivery> {
  const registration = findWebhookProvider(delivery.provider);
  if (!registration) throw new CliError(`cannot replay delivery ${delivery.deliveryId}: ${delivery.provider} receives no webhooks (a seller’s own grant is not a webhook delivery)`);
  const provider = await registration.provider();
  const [method = 'POST', path = ''] = delivery.route.split(' ');
  const request: WebhookRequest = {
    method,
    path,
    routeKey: delivery.route,
    pathParameters: {},
    headers: delivery.contentType ? { 'content-type': delivery.contentType } : {},
    rawQuery: method === 'GET' ? delivery.payload.toString('utf8') : '',
    body: method === 'GET' ? Buffer.alloc(0) : delivery.payload,
    receivedAt: delivery.receivedAt,
    requestId: delivery.deliveryId,
  };
  // What `verify` returned, rebuilt the provider's way (its registration's `replay`); by default
  // the logged body, which was verified when it arrived.
  const replaySpec = registration.replay;
  const rebuild: ReplayRebuild = replaySpec ? await replaySpec.rebuild() : (logged) => logged.body;
  const secrets: Secrets = secretsFrom(replaySpec?.needsSecrets ? await t.readSecrets() : {});
  const ctx: ProviderContext = { secrets, catalog: loadCatalog() };
  try {
    const verified = await rebuild(request, ctx, new Set(delivery.events.map((e) => e.eventId)));
    const payload = provider.parse(verified, request);
    // Live or test as the ingress decided when it verified the request; the rebuilt verdict only
    // stands in for deliveries logged before that was recorded.
    const recordedLive = new Map(delivery.events.flatMap((e) => (typeof e.live === 'boolean' ? [[e.eventId, e.live] as const] : [])));
    const events = provider.normalize(payload, request, ctx).map((e) => (recordedLive.has(e.eventId) ? { ...e, live: recordedLive.get(e.eventId)! } : e));
    return { events, answer: () => provider.answer({ events, accepted: events, failed: [] }, payload, ctx) };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot replay delivery ${delivery.deliveryId}: ${(error as Error).message}`);
  }
}

/**
 * `--force`: one email re-send per order whose events were all applied before the replay (a
 * replay that applied something new already sent whatever that owed).
 */
async function forceResend(t: Target, states: Entitlement[], result: ReplayResult, options: ReplayOptions, out: Output): Promise<void> {
  // null: the replay applied something new in this order.
  const orders = new Map<string, Entitlement | null>();
  states.forEach((state, i) => {
    const key = `${state.provider}#${state.scope}`;
    if (result.events[i]!.before !== 'applied') orders.set(key, null);
    else if (!orders.has(key)) orders.set(key, state);
  });
  const resends = [];
  for (const [key, state] of orders) {
    if (!state) {
      out.note(`${key}: the replay itself applied new events (any email they owed was sent); no extra re-send`);
      continue;
    }
    const active = state.licenses.filter((l) => l.status === 'active');
    if (active.length === 0 || !state.customer.email) {
      out.note(`${key}: ${active.length === 0 ? 'no active license' : 'no customer email'}; nothing to re-send`);
      continue;
    }
    resends.push({ state, active, event: manualEvent(state, 'record', `replay --force of delivery ${result.deliveryId}`, { resendEmail: true, targets: active.map((l) => l.licenseId) }) });
  }
  if (resends.length === 0) return;
  await enqueue(
    t,
    resends.map((r) => r.event),
  );
  const done = await waitForEvents(
    t,
    resends.map((r) => ({ provider: r.state.provider, scope: r.state.scope, eventId: r.event.eventId })),
    { timeoutSeconds: options.timeoutSeconds, label: 'waiting for the email' },
    out,
  );
  result.resent = resends.map((r, i) => {
    const email = done[i]!.applied.email;
    return {
      provider: r.state.provider,
      scope: r.state.scope,
      eventId: r.event.eventId,
      to: r.state.customer.email,
      licenseIds: r.active.map((l) => l.licenseId),
      ...(email ? { email: { status: email.status, ...(email.messageId ? { messageId: email.messageId } : {}), ...(email.error ? { error: email.error } : {}) } } : {}),
    };
  });
}

function renderReplay(r: ReplayResult, options: ReplayOptions): string {
  const lines = [`${r.provider} delivery ${r.deliveryId} (received ${r.receivedAt}, ${r.route}): ${r.enqueued} event(s) enqueued again`];
  for (const e of r.events) {
    const after = e.after === undefined ? 'not waited for' : e.before === 'applied' && e.after === 'applied' ? 'already applied: no-op' : e.after;
    lines.push(`  ${e.action} ${e.reason} ${e.scope}  before: ${e.before}  after: ${after}`);
  }
  for (const s of r.resent) lines.push(`  email re-sent to ${s.to} (${s.licenseIds.length} license(s)): ${s.email?.status ?? 'none'}${s.email?.messageId ? ` ${s.email.messageId}` : ''}`);
  if (!options.force && r.events.every((e) => e.before === 'applied')) lines.push('Already applied: nothing changed. `--force` re-sends the license email.');
  return lines.join('\n');
}
