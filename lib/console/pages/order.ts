import { appliedEvents } from '../../../functions/aws/store';
import type { AppliedEvent, Entitlement } from '../../../functions/domain/entitlement';
import type { ProviderName } from '../../../functions/domain/events';
import { PROVIDER_NAMES } from '../../../functions/providers/registry';
import { DELIVERY_LOG } from '../../../functions/settings';
import { type DeliveryRow, readDeliveries } from '../../cli/commands/deliveries';
import { type ShowResult, showResult } from '../../cli/commands/show';
import type { Target } from '../../cli/target';
import { type Html, html } from '../html';
import { activationsSection } from './activations';
import { type Answer, badge, notFoundPage, orderHref, type RequestContext, time } from './layout';

/**
 * One order on one screen: its licenses with their holds and the actions on them, and a timeline
 * of everything that happened to it — the deliveries that carried its events (what arrived, its
 * outcome), each applied event with the license changes and holds it made, the emails with their
 * SES status, and bounces or complaints SES reported back.
 */

export async function readOrder(t: Target, provider: ProviderName, scope: string, now: Date) {
  const stored = await t.store.get(provider, scope);
  if (!stored) return undefined;
  const state = stored.state;
  const records = await appliedEvents(t.store, state);
  const licenses = state.licenses.map((l) => showResult(state, l, records));
  const deliveries = await orderDeliveries(t, state, records, now);
  return { state, records, licenses, deliveries };
}

/**
 * The deliveries of an order, read only on the days its events were applied (and the day before
 * each, for a delivery just before midnight): a handful of index queries, not the whole log.
 */
async function orderDeliveries(t: Target, state: Entitlement, records: AppliedEvent[], now: Date): Promise<DeliveryRow[]> {
  const oldest = now.getTime() - (DELIVERY_LOG.retentionDays + 1) * 86_400_000;
  const days = new Set<string>();
  for (const r of records) {
    if (r.by === 'seller') continue;
    const at = Date.parse(r.appliedAt);
    if (!Number.isFinite(at) || at < oldest) continue;
    days.add(new Date(at).toISOString().slice(0, 10));
    days.add(new Date(at - 86_400_000).toISOString().slice(0, 10));
  }
  if (days.size === 0) return [];
  const scopes = new Set([state.scope, ...(state.orderId ? [state.orderId] : []), ...(state.subscription?.id ? [state.subscription.id] : [])]);
  const since = new Date(`${[...days].sort()[0]}T00:00:00.000Z`);
  return readDeliveries(t, { provider: state.provider, since, until: now, limit: 100, scopes, days: [...days] });
}

export async function orderPage(ctx: RequestContext): Promise<Answer> {
  const [provider, scope] = ctx.params as [string, string];
  if (!PROVIDER_NAMES.includes(provider)) return notFoundPage(`no provider ${provider}`);
  const order = await readOrder(ctx.target, provider as ProviderName, scope, ctx.now);
  if (!order) return notFoundPage(`no order ${scope} from ${provider} in the ${ctx.target.label}`);
  const { state, licenses, records, deliveries } = order;
  const orderId = state.orderId ?? state.scope;
  const here = orderHref(state.provider, state.scope);
  const body = html`<h1>Order <span id="order-id">${orderId}</span> <span class="muted">${state.provider}</span> ${badge(state.status)}${state.live ? '' : html` ${badge('test')}`}</h1>
<dl class="facts">
<dt>customer</dt><dd id="customer">${state.customer.email || '(no email)'}${state.customer.name ? ` (${state.customer.name})` : ''}${state.customer.company ? `, ${state.customer.company}` : ''}</dd>
${state.reference ? html`<dt>reference</dt><dd>${state.reference}</dd>` : ''}
${state.scope !== orderId ? html`<dt>scope</dt><dd><code>${state.scope}</code></dd>` : ''}
${state.subscription ? html`<dt>subscription</dt><dd><code>${state.subscription.id}</code>${state.subscription.periodEnd ? html`, period ends ${time(state.subscription.periodEnd)}` : ''}</dd>` : ''}
<dt>first seen</dt><dd>${time(state.createdAt)}, last change ${time(state.updatedAt)}, ${state.seq} event(s)</dd>
${state.holds.length > 0 ? html`<dt>order holds</dt><dd>${state.holds.map((h) => html`${badge(h.kind)} since ${time(h.at)}${h.reason ? ` by ${h.reason}` : ''} `)}</dd>` : ''}
</dl>
<h2>Licenses</h2>
${licenses.length === 0 ? html`<p class="muted">No license (yet): see the timeline for why.</p>` : licenseTable(licenses)}
<h2>Resend the license email</h2>
<form class="inline" method="post" action="${here}/resend">
<input type="text" name="reason" placeholder="reason (kept in the history)" aria-label="Reason for the resend" required maxlength="180">
<button type="submit" id="resend">Resend…</button>
</form>
${await activationsSection(ctx.target, state)}
<h2>Timeline</h2>
${timeline(records, deliveries, licenses)}`;
  return { kind: 'page', title: `Order ${orderId}`, body };
}

function licenseTable(licenses: ShowResult[]): Html {
  return html`<table id="licenses">
<thead><tr><th>license</th><th>product</th><th>status</th><th class="num">seats</th><th>expires</th><th>key</th><th>holds</th><th>change</th></tr></thead>
<tbody>${licenses.map(({ license: l }) => {
    const key = l.key.length > 60 ? html`<details><summary><code>${l.key.slice(0, 40)}…</code></summary><code>${l.key}</code></details>` : html`<code>${l.key}</code>`;
    return html`<tr data-license="${l.licenseId}">
<td class="nowrap"><code>${l.licenseId}</code></td>
<td>${l.productName} <span class="muted">${l.product}</span></td>
<td class="status">${badge(l.status)}</td>
<td class="num">${l.seats}</td>
<td>${l.expiresAt ? time(l.expiresAt) : 'never'}</td>
<td class="nowrap">${key}</td>
<td>${l.holds.length === 0 ? html`<span class="muted">none</span>` : l.holds.map((h) => html`<div>${badge(h.kind)} on the ${h.on} since ${time(h.since)}${h.reason ? html` <span class="muted">${h.reason}</span>` : ''}</div>`)}</td>
<td><form class="inline" method="post" action="/license/${encodeURIComponent(l.licenseId)}/change">
<input type="text" name="reason" placeholder="reason" aria-label="Reason" required maxlength="180">
<button type="submit" name="action" value="revoke" class="danger">Revoke…</button>
<button type="submit" name="action" value="suspend">Suspend…</button>
<button type="submit" name="action" value="reinstate">Reinstate…</button>
</form></td>
</tr>`;
  })}</tbody>
</table>`;
}

interface Entry {
  at: string;
  order: number;
  html: Html;
}

function timeline(records: AppliedEvent[], deliveries: DeliveryRow[], licenses: ShowResult[]): Html {
  const entries: Entry[] = [];
  for (const d of deliveries) {
    entries.push({
      at: d.receivedAt,
      order: 0,
      html: html`<tr class="delivery"><td>${time(d.receivedAt)}</td><td>${badge('delivery')}</td><td><a href="/delivery/${encodeURIComponent(d.provider)}/${encodeURIComponent(d.deliveryId)}">${d.route}</a> carried ${d.events.map((e) => `${e.action}:${e.reason}`).join(', ') || 'no event'}</td><td>${badge(d.status)}${d.problems.length ? ` ${d.problems.join(', ')}` : ''}</td></tr>`,
    });
  }
  const licenseOf = new Map(licenses.map((l) => [l.license.licenseId, l.license]));
  for (const r of records) {
    const changes = (r.changes ?? []).map((c) => {
      const who = c.licenses === 'all' ? 'all licenses' : c.licenses.map((id) => licenseOf.get(id)?.licenseId ?? id).join(', ');
      const hold = c.hold ? ` ${c.what === 'lifted' ? '−' : '+'}${c.hold}` : '';
      return html`<div>${c.what}${hold}: <code>${who}</code>${c.detail ? html` <span class="muted">${c.detail}</span>` : ''}</div>`;
    });
    const feedback = r.reason === 'ses.bounce' ? 'bounce' : r.reason === 'ses.complaint' ? 'complaint' : r.reason.startsWith('ses.') ? 'email feedback' : undefined;
    const email = r.email
      ? html`<div>email (${r.email.kind}) ${badge(r.email.status)}${r.email.messageId ? html` <span class="muted">SES ${r.email.messageId}</span>` : ''}${r.email.sentAt ? html` at ${time(r.email.sentAt)}` : ''}${r.email.error ? html` — ${r.email.error}` : ''}</div>`
      : '';
    entries.push({
      at: r.appliedAt,
      order: 1,
      html: html`<tr class="event" data-event="${r.eventId}"><td>${time(r.appliedAt)}</td><td>${feedback ? badge(feedback) : badge(r.by === 'seller' ? 'you' : 'event')}</td><td><strong>${r.action}</strong> ${r.reason} <span class="muted">#${r.seq} <code>${r.eventId}</code></span>${changes}${email}</td><td>${r.problem ? html`${badge('problem')} ${r.problem.code}: ${r.problem.message}` : ''}</td></tr>`,
    });
  }
  entries.sort((a, b) => b.at.localeCompare(a.at) || b.order - a.order);
  if (entries.length === 0) return html`<p class="muted">Nothing recorded.</p>`;
  return html`<table class="timeline" id="timeline"><thead><tr><th>when</th><th>what</th><th>detail</th><th>outcome</th></tr></thead><tbody>${entries.map((e) => e.html)}</tbody></table>
<p class="muted">Newest first. Deliveries older than ${DELIVERY_LOG.retentionDays} days have left the delivery log.</p>`;
}
