import { PROVIDER_NAMES } from '../../../functions/providers/registry';
import { barChart, legend, providersIn } from '../chart';
import { html } from '../html';
import { type Overview, readOverview } from '../overview';
import { type Answer, badge, orderHref, type RequestContext, time } from './layout';

/** Read at most this often: the overview scans the table (see overview.ts). */
const CACHE_MS = 10_000;
/**
 * How long the page waits for the figures before it answers without them: a small table's scan
 * fits (the page comes whole), a large one's does not — then the page paints at once with a
 * placeholder, and console.js fills the figures in from /overview/figures when the scan is done.
 */
export const OVERVIEW_WAIT_MS = 300;
let cached: { target: object; at: number; overview: Overview } | undefined;
/** The scan under way, shared by the page and its figures request. */
let reading: { target: object; done: Promise<{ at: number; overview: Overview }> } | undefined;

function figures(ctx: RequestContext): Promise<{ at: number; overview: Overview }> {
  const fresh = ctx.url.searchParams.has('refresh');
  // A read under way is the newest: the figures of a page that painted without them come from it.
  if (!fresh && reading?.target === ctx.target) return reading.done;
  if (!fresh && cached && cached.target === ctx.target && ctx.now.getTime() - cached.at <= CACHE_MS) return Promise.resolve(cached);
  const target = ctx.target;
  const at = ctx.now.getTime();
  const done = readOverview(target, ctx.now).then((overview) => {
    cached = { target, at, overview };
    return cached;
  });
  reading = { target, done };
  done
    .catch(() => undefined)
    .finally(() => {
      if (reading?.done === done) reading = undefined;
    });
  return done;
}

export async function overviewPage(ctx: RequestContext): Promise<Answer> {
  const read = figures(ctx);
  // Without JavaScript (`?wait=1`, the <noscript> link), or when the read is quick, the page comes whole.
  const ready = ctx.url.searchParams.has('wait') ? await read : await Promise.race([read, new Promise<undefined>((r) => setTimeout(() => r(undefined), OVERVIEW_WAIT_MS))]);
  if (!ready) {
    read.catch(() => undefined);
    const body = html`<h1>Overview</h1>
<div id="overview-figures" data-src="/overview/figures"><p class="muted">Reading the orders (a scan of the table)…</p><noscript><p><a href="/?wait=1">Show the figures</a> (waits for the scan).</p></noscript></div>`;
    return { kind: 'page', title: 'Overview', nav: 'overview', body };
  }
  return { kind: 'page', title: 'Overview', nav: 'overview', body: html`<h1>Overview</h1>${figuresHtml(ready.overview, ready.at)}` };
}

/** The figures alone, for the page that painted without them. */
export async function overviewFigures(ctx: RequestContext): Promise<Answer> {
  const { overview, at } = await figures(ctx);
  return { kind: 'text', status: 200, type: 'text/html; charset=utf-8', body: figuresHtml(overview, at).toString() };
}

function figuresHtml(o: Overview, at: number) {
  const rejected = o.rejected.byProvider.reduce((n, r) => n + r.count, 0);
  const sum = (counts: Overview['orders']) => Object.values(counts).reduce((n, row) => n + Object.values(row).reduce((a, b) => a + (b ?? 0), 0), 0);
  // Only the providers with orders or rejections: a registry of ten storefronts is mostly zeros.
  const active = PROVIDER_NAMES.filter((p) => o.totals[p] || o.rejected.byProvider.some((r) => r.provider === p));
  return html`<div class="cards">
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
<p class="muted">Read ${time(new Date(at).toISOString())} from ${o.scanned} items${o.truncated ? ' (stopped early: the table is larger than one overview reads)' : ''}. <a href="/?refresh=1">Refresh</a></p>`;
}
