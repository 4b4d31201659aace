import { PROVIDER_NAMES } from '../../../functions/providers/registry';
import { barChart, legend, providersIn } from '../chart';
import { html } from '../html';
import { type Overview, readOverview } from '../overview';
import { type Answer, badge, orderHref, type RequestContext, time } from './layout';

/** Read at most this often: the overview scans the table (see overview.ts). */
const CACHE_MS = 10_000;
let cached: { target: object; at: number; overview: Overview } | undefined;

export async function overviewPage(ctx: RequestContext): Promise<Answer> {
  const fresh = ctx.url.searchParams.has('refresh');
  if (fresh || !cached || cached.target !== ctx.target || ctx.now.getTime() - cached.at > CACHE_MS) {
    cached = { target: ctx.target, at: ctx.now.getTime(), overview: await readOverview(ctx.target, ctx.now) };
  }
  const o = cached.overview;
  const rejected = o.rejected.byProvider.reduce((n, r) => n + r.count, 0);
  const sum = (counts: Overview['orders']) => Object.values(counts).reduce((n, row) => n + Object.values(row).reduce((a, b) => a + (b ?? 0), 0), 0);
  // Only the providers with orders or rejections: a registry of ten storefronts is mostly zeros.
  const active = PROVIDER_NAMES.filter((p) => o.totals[p] || o.rejected.byProvider.some((r) => r.provider === p));
  const body = html`<h1>Overview</h1>
<div class="cards">
<div class="card"><div class="n" id="orders-count">${sum(o.orders)}</div>orders, ${o.days.length} days</div>
<div class="card"><div class="n">${sum(o.licenses)}</div>licenses issued</div>
<div class="card"><div class="n">${sum(o.emails)}</div>emails sent</div>
<div class="card${o.dlqDepth > 0 ? ' alert' : ''}"><div class="n" id="dlq-depth">${o.dlqDepth}</div><a href="/dlq">dead letters</a></div>
<div class="card"><div class="n">${o.queueDepth}</div>in the queue</div>
<div class="card${rejected > 0 ? ' alert' : ''}"><div class="n" id="rejected-count">${o.rejected.note ? '–' : rejected}</div>rejected webhooks${o.rejected.since ? html`<br><span class="muted">since ${time(o.rejected.since)}</span>` : ''}</div>
</div>
${o.rejected.note ? html`<p class="muted">${o.rejected.note}</p>` : ''}
${legend(providersIn(o.orders, o.licenses, o.emails))}
<div class="charts">
${barChart('Orders', o.days, o.orders)}
${barChart('Licenses', o.days, o.licenses)}
${barChart('Emails sent', o.days, o.emails)}
</div>
<h2>Per provider (all time)</h2>
${active.length === 0 ? html`<p class="muted">No order yet.</p>` : ''}
<table${active.length === 0 ? html` hidden` : ''}>
<thead><tr><th>provider</th><th class="num">orders</th><th class="num">licenses</th><th class="num">active</th><th class="num">emails sent</th><th>rejected webhooks</th></tr></thead>
<tbody>${active.map((p) => {
    const t = o.totals[p] ?? { orders: 0, licenses: 0, emails: 0, active: 0 };
    const r = o.rejected.byProvider.filter((x) => x.provider === p);
    return html`<tr><td>${p}</td><td class="num">${t.orders}</td><td class="num">${t.licenses}</td><td class="num">${t.active}</td><td class="num">${t.emails}</td><td>${
      r.length === 0 ? (o.rejected.note ? '–' : '0') : r.map((x) => html`${x.count} × ${x.status} `)
    }</td></tr>`;
  })}</tbody>
</table>
<h2 id="attention">Needs attention</h2>
${
  o.attention.length === 0 && o.dlqDepth === 0
    ? html`<p class="muted">Nothing: no failed emails, bounces, unknown products or dead letters.</p>`
    : html`<table id="attention-list">
<thead><tr><th>when</th><th>what</th><th>order</th><th>detail</th></tr></thead>
<tbody>
${o.dlqDepth > 0 ? html`<tr><td>now</td><td>${badge('dead letters', 'problem')}</td><td>–</td><td><a href="/dlq">${o.dlqDepth} message(s) in the DLQ</a>: decode, fix, redrive</td></tr>` : ''}
${o.attention
  .slice(0, 50)
  .map(
    (a) =>
      html`<tr><td>${time(a.at)}</td><td>${badge(a.kind, a.kind === 'email failed' ? 'failed' : a.kind === 'problem' ? '' : 'problem')}</td><td><a href="${orderHref(a.provider, a.scope)}">${a.provider} ${a.order}</a></td><td>${a.detail}</td></tr>`,
  )}
</tbody></table>${o.attention.length > 50 ? html`<p class="muted">${o.attention.length - 50} more not shown.</p>` : ''}`
}
<p class="muted">Read ${time(new Date(cached.at).toISOString())} from ${o.scanned} items${o.truncated ? ' (stopped early: the table is larger than one overview reads)' : ''}. <a href="/?refresh=1">Refresh</a></p>`;
  return { kind: 'page', title: 'Overview', nav: 'overview', body };
}
