import type { ProviderName } from '../../../functions/domain/events';
import type { HttpAnswer } from '../../../functions/ingress/types';
import { PROVIDER_NAMES, WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { DELIVERY_LOG } from '../../../functions/settings';
import { DELIVERY_STATUSES, eventStatus, getDelivery, parseSince, parseStatuses, readDeliveries } from '../../cli/commands/deliveries';
import { checkProvider } from '../../cli/commands/licenses';
import { rebuildDelivery } from '../../cli/commands/replay';
import { appliedRecord, findEntitlement } from '../../cli/manual';
import { CliError, usageError } from '../../cli/output';
import { type Html, html } from '../html';
import { redactPayload } from '../redact';
import { type Answer, badge, notFoundPage, orderHref, type RequestContext, time } from './layout';

const SINCE_CHOICES = ['1h', '24h', '7d', '30d'];

/** The delivery log, filtered by provider, outcome and time (the CLI's `deliveries`). */
export async function deliveriesPage(ctx: RequestContext): Promise<Answer> {
  const p = ctx.url.searchParams;
  const provider = checkProvider(p.get('provider') || undefined);
  const sinceText = p.get('since') || '24h';
  const since = parseSince(sinceText, ctx.now, 'since');
  const untilText = p.get('until') || '';
  const until = untilText ? parseSince(untilText, ctx.now, 'until') : ctx.now;
  if (since > until) throw usageError('“since” is after “until”');
  const statusText = p.get('status') || '';
  const statuses = statusText ? parseStatuses(statusText) : undefined;
  const order = p.get('order')?.trim() || '';
  const rows = await readDeliveries(ctx.target, { since, until, limit: 200, ...(provider ? { provider } : {}), ...(statuses ? { statuses } : {}), ...(order ? { order } : {}) });
  const option = (value: string, current: string, label = value) => html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;
  const body = html`<h1>Deliveries</h1>
<form class="filters" method="get" action="/deliveries">
<label>provider<select name="provider">${option('', provider ?? '', 'all')}${WEBHOOK_PROVIDERS.map((r) => option(r.name, provider ?? ''))}</select></label>
<label>outcome<select name="status">${option('', statusText, 'all')}${DELIVERY_STATUSES.map((x) => option(x, statusText))}</select></label>
<label>since<select name="since">${[...new Set([...SINCE_CHOICES, sinceText])].map((x) => option(x, sinceText))}</select></label>
<label>until (ISO, optional)<input type="text" name="until" value="${untilText}" placeholder="2026-12-01T12:00:00Z"></label>
<label>order<input type="text" name="order" value="${order}" placeholder="order id"></label>
<button type="submit">Filter</button>
</form>
${
  rows.length === 0
    ? html`<p class="muted" id="no-deliveries">No delivery matches. The log keeps ${DELIVERY_LOG.retentionDays} days of verified webhooks; rejected ones are never stored.</p>`
    : html`<table id="deliveries">
<thead><tr><th>received</th><th>provider</th><th>outcome</th><th>events</th><th>order</th><th>delivery</th></tr></thead>
<tbody>${rows.map(
        (r) => html`<tr data-delivery="${r.deliveryId}">
<td>${time(r.receivedAt)}</td><td>${r.provider}</td><td>${badge(r.status)}${r.problems.length ? html` <span class="muted">${r.problems.join(', ')}</span>` : ''}</td>
<td>${r.events.map((e) => html`<div>${e.action} <span class="muted">${e.reason}</span></div>`)}</td>
<td>${[...new Set(r.events.map((e) => e.order ?? e.scope))].map((o) => {
          const e = r.events.find((x) => (x.order ?? x.scope) === o)!;
          return html`<div><a href="${orderHref(r.provider, e.scope)}">${o}</a></div>`;
        })}</td>
<td><a href="/delivery/${encodeURIComponent(r.provider)}/${encodeURIComponent(r.deliveryId)}"><code>${r.deliveryId}</code></a></td>
</tr>`,
      )}</tbody></table>${rows.length >= 200 ? html`<p class="muted">The newest 200 shown; narrow the filter for older ones.</p>` : ''}`
}`;
  return { kind: 'page', title: 'Deliveries', nav: 'deliveries', body };
}

/** One delivery: what arrived (credentials removed), what became of each of its events, replay. */
export async function deliveryPage(ctx: RequestContext): Promise<Answer> {
  const [providerText, id] = ctx.params as [string, string];
  if (!PROVIDER_NAMES.includes(providerText)) return notFoundPage(`no provider ${providerText}`);
  const provider = providerText as ProviderName;
  const d = await getDelivery(ctx.target, id, provider);
  const events = await Promise.all(
    d.events.map(async (e) => {
      const stored = await findEntitlement(ctx.target, provider, e.scope);
      const record = stored ? await appliedRecord(ctx.target, stored.state, e.eventId) : undefined;
      return { status: eventStatus(e, stored?.state, record), scope: stored?.state.scope ?? e.scope };
    }),
  );
  const here = `/delivery/${encodeURIComponent(provider)}/${encodeURIComponent(id)}`;
  // Recomputed by the provider's own code (the answer is not logged): shown, or why it cannot be.
  const answer = await rebuildDelivery(ctx.target, d).then(
    (rebuilt) => rebuilt.answer(),
    (error: unknown) => (error instanceof CliError ? error.message : Promise.reject(error)),
  );
  const body = html`<h1>Delivery <code>${d.deliveryId}</code></h1>
<dl class="facts">
<dt>provider</dt><dd>${d.provider}</dd>
<dt>received</dt><dd>${time(d.receivedAt.toISOString())}</dd>
<dt>route</dt><dd>${d.route}</dd>
<dt>content type</dt><dd>${d.contentType ?? '–'}</dd>
</dl>
<h2>Our answer</h2>
${answerBlock(answer)}
<h2>Events</h2>
${
  events.length === 0
    ? html`<p class="muted">This delivery carried no event (a webhook type keysmith ignores).</p>`
    : html`<table id="delivery-events"><thead><tr><th>event</th><th>action</th><th>order</th><th>outcome</th><th>email</th></tr></thead><tbody>${events.map(
        ({ status: e, scope }) =>
          html`<tr><td><code>${e.eventId}</code></td><td>${e.action} <span class="muted">${e.reason}</span></td><td><a href="${orderHref(provider, scope)}">${e.order ?? e.scope}</a></td><td>${badge(e.status)}${e.problem ? html` ${e.problem.code}: ${e.problem.message}` : ''}</td><td>${e.email ? html`${badge(e.email.status)}${e.email.messageId ? html` <span class="muted">${e.email.messageId}</span>` : ''}${e.email.error ? ` ${e.email.error}` : ''}` : '–'}</td></tr>`,
      )}</tbody></table>`
}
<h2>Replay</h2>
<p>Enqueues the logged payload again, parsed by the provider’s own code, with the same event ids: a no-op for what was applied, applied now if it was lost or failed.</p>
<form class="inline" method="post" action="${here}/replay"><button type="submit" id="replay" class="primary">Replay</button></form>
<h2>Payload</h2>
${payloadBlock(d.payload, d.contentType)}`;
  return { kind: 'page', title: `Delivery ${d.deliveryId}`, nav: 'deliveries', body };
}

function answerBlock(answer: HttpAnswer | string): Html {
  if (typeof answer === 'string') return html`<p class="muted">Cannot be recomputed: ${answer}</p>`;
  return html`<p>${badge(String(answer.status), answer.status < 300 ? 'applied' : 'problem')} ${answer.headers?.['content-type'] ?? answer.headers?.['Content-Type'] ?? ''} <span class="muted">— recomputed by the provider’s own code from the payload below, as sent once SQS accepted every event (had it not, keysmith answered 503 and the storefront retried)</span></p>
${answer.body ? html`<pre id="answer">${answer.body.length > 20_000 ? `${answer.body.slice(0, 20_000)}…` : answer.body}</pre>` : html`<p class="muted" id="answer">(empty body)</p>`}`;
}

function payloadBlock(payload: Buffer, contentType: string | undefined): Html {
  const { text, removed } = redactPayload(payload, contentType);
  return html`${removed.length > 0 ? html`<p class="muted">Removed before display: ${removed.join(', ')}.</p>` : ''}<pre id="payload">${text}</pre>`;
}
