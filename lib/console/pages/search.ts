import type { StoredEntitlement } from '../../../functions/aws/store';
import type { Entitlement } from '../../../functions/domain/entitlement';
import { EVENT_BOUNDS } from '../../../functions/domain/eventBounds';
import { PROVIDER_NAMES } from '../../../functions/providers/registry';
import type { Target } from '../../cli/target';
import { html } from '../html';
import { type Answer, badge, orderHref, type RequestContext, time } from './layout';

export interface SearchHit {
  state: Entitlement;
  /** How it matched: `email`, `order`, `license key`, `license id`. */
  by: string;
  licenseId?: string;
}

/**
 * One box for an email, an order id (or reference, or subscription id), a license key or a
 * license id. Every one of them is a key or index lookup (the same store calls `keysmith
 * licenses` makes), never a scan: a dozen small reads in parallel whatever the table's size.
 */
export async function searchOrders(t: Target, input: string): Promise<SearchHit[]> {
  const q = input.trim();
  if (!q) return [];
  const hits: SearchHit[] = [];
  const add = (found: StoredEntitlement[], by: string, licenseId?: string) => {
    for (const { state } of found) hits.push({ state, by, ...(licenseId ? { licenseId } : {}) });
  };
  const byRef = async (ref: { provider: Entitlement['provider']; scope: string; licenseId: string } | undefined, by: string) => {
    if (!ref) return;
    const stored = await t.store.get(ref.provider, ref.scope);
    if (stored) add([stored], by, ref.licenseId);
  };
  if (q.includes('@')) {
    add(await t.store.findByEmail(q), 'email');
  } else {
    await Promise.all([
      ...PROVIDER_NAMES.map(async (p) => add(await t.store.findByOrder(p, q), 'order')),
      t.store.findByLicenseId(q).then((ref) => byRef(ref, 'license id')),
      t.store.findByKey(q).then((ref) => byRef(ref, 'license key')),
    ]);
  }
  const seen = new Set<string>();
  return hits
    .filter((h) => {
      const key = `${h.state.provider}#${h.state.scope}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => b.state.createdAt.localeCompare(a.state.createdAt));
}

export async function searchPage(ctx: RequestContext): Promise<Answer> {
  const q = ctx.url.searchParams.get('q') ?? '';
  // Every id keysmith stores is at most EVENT_BOUNDS.idBytes (an email 320): longer text matches nothing.
  if (Buffer.byteLength(q.trim()) > EVENT_BOUNDS.idBytes)
    return { kind: 'page', status: 400, title: 'Search', nav: 'search', body: html`<h1>Search</h1><p>The search text is too long: ids and emails are at most ${EVENT_BOUNDS.idBytes} bytes.</p>` };
  const hits = await searchOrders(ctx.target, q);
  const body = html`<h1>Search</h1>
${
  !q.trim()
    ? html`<p class="muted">Type a customer’s email, an order id, a license key or a license id in the box above.</p>`
    : hits.length === 0
      ? html`<p id="no-results">No order matches <code>${q}</code>.</p>`
      : html`<p>${hits.length} order(s) match <code>${q}</code>.</p>
<table id="results">
<thead><tr><th>order</th><th>provider</th><th>customer</th><th>status</th><th class="num">licenses</th><th>first seen</th><th>matched by</th></tr></thead>
<tbody>${hits.map(
          ({ state, by, licenseId }) => html`<tr data-order="${state.orderId ?? state.scope}">
<td><a href="${orderHref(state.provider, state.scope)}">${state.orderId ?? state.scope}</a>${state.reference ? html` <span class="muted">ref ${state.reference}</span>` : ''}</td>
<td>${state.provider}</td>
<td>${state.customer.email || html`<span class="muted">(no email)</span>`}${state.customer.name ? html`<br><span class="muted">${state.customer.name}</span>` : ''}</td>
<td>${badge(state.status)}${state.live ? '' : html` ${badge('test')}`}</td>
<td class="num">${state.licenses.length}</td>
<td>${time(state.createdAt)}</td>
<td>${by}${licenseId ? html` <code>${licenseId}</code>` : ''}</td>
</tr>`,
        )}</tbody>
</table>`
}`;
  return { kind: 'page', title: q ? `Search: ${q}` : 'Search', nav: 'search', body };
}
