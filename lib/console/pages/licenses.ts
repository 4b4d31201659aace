import { loadCatalog } from '../../../functions/config/loadCatalog';
import { exportLicenses, toCsv } from '../../cli/commands/licenseOps';
import type { LicenseRow } from '../../cli/commands/licenses';
import { run } from '../capture';
import { html } from '../html';
import type { Answer, RequestContext } from './layout';

/** Licenses by hand: grant one (`keysmith grant`) and export every license (`keysmith export`). */
export async function licensesPage(_ctx: RequestContext): Promise<Answer> {
  const products = Object.entries(loadCatalog().products);
  const body = html`<h1>Licenses</h1>
<p>Find a customer’s licenses with the search box (email, order id, license key or license id).</p>
<h2>Grant by hand</h2>
<p>A license you give (a reviewer, a replacement): an order of its own, recorded with your note and emailed with the product’s template.</p>
<form class="filters" method="post" action="/licenses/grant" id="grant">
<label>customer email<input type="text" name="email" required maxlength="320" placeholder="name@example.com"></label>
<label>name (optional)<input type="text" name="name" maxlength="200"></label>
<label>product<select name="product" required>${products.map(([id, p]) => html`<option value="${id}">${p.name} (${id})</option>`)}</select></label>
<label>seats (optional)<input type="text" name="seats" inputmode="numeric" size="6"></label>
<label>days (optional)<input type="text" name="days" inputmode="numeric" size="6"></label>
<label>note (kept in the history)<input type="text" name="note" required maxlength="170"></label>
<button type="submit" class="primary">Grant…</button>
</form>
<h2>Export</h2>
<p><a href="/licenses/export.csv" id="export" download>Download every license as CSV</a> <span class="muted">(reads every order: a table scan)</span></p>`;
  return { kind: 'page', title: 'Licenses', nav: 'licenses', body };
}

/** GET /licenses/export.csv: `keysmith export`'s rows as its CSV. */
export async function exportCsv(ctx: RequestContext): Promise<Answer> {
  const { value } = await run<LicenseRow[]>((out) => exportLicenses({ format: 'json' }, async () => ctx.target, out));
  return { kind: 'text', status: 200, type: 'text/csv; charset=utf-8', body: toCsv(value), filename: `keysmith-licenses-${ctx.now.toISOString().slice(0, 10)}.csv` };
}
