import { html } from '../html';
import type { Answer, RequestContext } from './layout';

/**
 * Licenses by hand: grant one (no storefront order behind it) and export them all as CSV.
 * TODO(issue 11): wire the grant form to lib/cli/commands/grant and the export to
 * lib/cli/commands/export once those modules are merged.
 */
export async function licensesPage(_ctx: RequestContext): Promise<Answer> {
  const body = html`<h1>Licenses</h1>
<p>Find a customer’s licenses with the search box (email, order id, license key or license id).</p>
<h2>Grant by hand</h2>
<p class="muted" id="grant-todo">Granting a license without a storefront order arrives with <code>keysmith grant</code> (issue 11).</p>
<h2>Export</h2>
<p class="muted" id="export-todo">A CSV export arrives with <code>keysmith export</code> (issue 11).</p>`;
  return { kind: 'page', title: 'Licenses', nav: 'licenses', body };
}
