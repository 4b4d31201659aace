import type { ProviderName } from '../../../functions/domain/events';
import type { RedriveResult } from '../../cli/commands/dlq';
import { dlqRedrive } from '../../cli/commands/dlq';
import { type DeactivateResult, deactivate, type GrantResult, grant } from '../../cli/commands/licenseOps';
import { type LicenseAction, type LicenseActionResult, licenseAction, type ResendResult, resend } from '../../cli/commands/manage';
import { type ReplayResult, replay } from '../../cli/commands/replay';
import { findLicense } from '../../cli/commands/show';
import { CliError } from '../../cli/output';
import { run } from '../capture';
import { type Html, html } from '../html';
import { type Answer, type Flash, orderHref, type RequestContext } from './layout';

/**
 * The console's changes, each the CLI's own operation (lib/cli/commands/*): the same checks, the
 * same events through the same queue, the same wait for the worker. The ones that change a
 * customer's licenses or mail them ask first, on a page of their own (works without script), and
 * need a reason, kept in the license history.
 */

/** How long an action waits for the worker before the page says it is still queued. */
export const ACTION_WAIT_SECONDS = 30;

const WAIT = { wait: true, timeoutSeconds: ACTION_WAIT_SECONDS } as const;

const ACTIONS: Record<LicenseAction, { verb: string; warning: string }> = {
  revoke: { verb: 'Revoke', warning: 'A revocation is final: the license stops working and cannot be reinstated.' },
  suspend: { verb: 'Suspend', warning: 'The license stops working until you reinstate it.' },
  reinstate: { verb: 'Reinstate', warning: 'Lifts your own suspension; holds set by the storefront (refund, dispute) stay.' },
};

function confirmPage(title: string, facts: Html, warning: string, action: string, fields: Record<string, string>, button: string, cancel: string, danger: boolean): Answer {
  return {
    kind: 'page',
    title,
    body: html`<div class="confirm" id="confirm">
<h1>${title}</h1>
${facts}
<p><strong>${warning}</strong></p>
<form method="post" action="${action}">
${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<input type="hidden" name="confirmed" value="yes">
<button type="submit" id="confirm-button" class="${danger ? 'danger' : 'primary'}">${button}</button>
<a href="${cancel}">Cancel</a>
</form>
</div>`,
  };
}

function reasonOf(ctx: RequestContext): string | undefined {
  const reason = ctx.form.get('reason')?.trim();
  return reason ? reason.slice(0, 180) : undefined;
}

function failed(error: unknown): Flash {
  if (error instanceof CliError) return { ok: false, text: error.message };
  throw error;
}

/** POST /license/:id/change (action, reason[, confirmed]). */
export async function licenseChange(ctx: RequestContext): Promise<Answer> {
  const [licenseId] = ctx.params as [string];
  const action = ctx.form.get('action') as LicenseAction;
  if (!(action in ACTIONS)) return badRequest('action must be revoke, suspend or reinstate');
  const { stored, license } = await findLicense(ctx.target, licenseId);
  const back = orderHref(stored.state.provider, stored.state.scope);
  const reason = reasonOf(ctx);
  if (!reason) return { kind: 'redirect', location: back, flash: { ok: false, text: `${ACTIONS[action].verb} needs a reason (it is kept in the license history)` } };
  if (ctx.form.get('confirmed') !== 'yes') {
    const facts = html`<p>License <code>${license.licenseId}</code> (${license.productName}, now ${license.status}) of order <strong>${stored.state.orderId ?? stored.state.scope}</strong> (${stored.state.provider}) for ${stored.state.customer.email || 'no email'}.</p><p>Reason: <em>${reason}</em></p>`;
    return confirmPage(
      `${ACTIONS[action].verb} license ${license.licenseId}?`,
      facts,
      ACTIONS[action].warning,
      `/license/${encodeURIComponent(licenseId)}/change`,
      { action, reason },
      `${ACTIONS[action].verb} license`,
      back,
      action !== 'reinstate',
    );
  }
  let flash: Flash;
  try {
    const { value } = await run<LicenseActionResult>((out) => licenseAction(action, licenseId, { reason, ...WAIT }, async () => ctx.target, out));
    flash = { ok: true, text: `${value.licenseId}: ${license.status} → ${value.license?.status ?? '?'} (${value.reason})` };
  } catch (error) {
    flash = failed(error);
  }
  return { kind: 'redirect', location: back, flash };
}

/** POST /order/:provider/:scope/resend (reason[, confirmed]). */
export async function resendAction(ctx: RequestContext): Promise<Answer> {
  const [provider, scope] = ctx.params as [ProviderName, string];
  const back = orderHref(provider, scope);
  const stored = await ctx.target.store.get(provider, scope);
  if (!stored) return { kind: 'redirect', location: back, flash: { ok: false, text: `no order ${scope} from ${provider}` } };
  const reason = reasonOf(ctx) ?? 'resend';
  if (ctx.form.get('confirmed') !== 'yes') {
    const active = stored.state.licenses.filter((l) => l.status === 'active');
    const facts = html`<p>Email the ${active.length} active license(s) of order <strong>${stored.state.orderId ?? scope}</strong> (${provider}) again to <strong>${stored.state.customer.email || '(no email)'}</strong>.</p><p>Reason: <em>${reason}</em></p>`;
    return confirmPage('Resend the license email?', facts, 'The customer gets one more email.', `${back}/resend`, { reason }, 'Send the email', back, false);
  }
  let flash: Flash;
  try {
    const { value } = await run<ResendResult>((out) => resend(scope, { provider, reason, ...WAIT }, async () => ctx.target, out));
    flash = {
      ok: true,
      text: value.resent.map((r) => `email to ${r.to} (${r.licenseIds.length} license(s)): ${r.email?.status ?? 'queued'}${r.email?.messageId ? ` ${r.email.messageId}` : ''}`).join('; '),
    };
  } catch (error) {
    flash = failed(error);
  }
  return { kind: 'redirect', location: back, flash };
}

/** POST /delivery/:provider/:id/replay. Safe without asking: a replay of what was applied is a no-op. */
export async function replayAction(ctx: RequestContext): Promise<Answer> {
  const [provider, id] = ctx.params as [ProviderName, string];
  const back = `/delivery/${encodeURIComponent(provider)}/${encodeURIComponent(id)}`;
  let flash: Flash;
  try {
    const { value } = await run<ReplayResult>((out) => replay(id, { provider, force: false, ...WAIT }, async () => ctx.target, out));
    const outcome = value.events.map((e) => `${e.action} ${e.scope}: ${e.before === 'applied' && e.after === 'applied' ? 'already applied, no change' : `${e.before} → ${e.after ?? 'queued'}`}`);
    flash = { ok: true, text: `replayed ${value.enqueued} event(s)${outcome.length ? `: ${outcome.join('; ')}` : ''}` };
  } catch (error) {
    flash = failed(error);
  }
  return { kind: 'redirect', location: back, flash };
}

/** POST /dlq/redrive (id | all=yes[, confirmed]). */
export async function redriveAction(ctx: RequestContext): Promise<Answer> {
  const all = ctx.form.get('all') === 'yes';
  const id = ctx.form.get('id')?.trim() || undefined;
  if (all === (id !== undefined)) return badRequest('redrive needs either one message id or all=yes');
  if (all && ctx.form.get('confirmed') !== 'yes') {
    return confirmPage(
      'Redrive every dead letter?',
      html`<p>Every message in the DLQ goes back to the event queue, in order within each order, at 10 per second.</p>`,
      'Only do this once the cause of the failures is fixed; otherwise they return to the DLQ.',
      '/dlq/redrive',
      { all: 'yes' },
      'Redrive all',
      '/dlq',
      false,
    );
  }
  let flash: Flash;
  try {
    const { value } = await run<RedriveResult>((out) => dlqRedrive({ all, ...(id ? { id } : {}), wait: true, timeoutSeconds: 120 }, async () => ctx.target, out));
    flash = { ok: true, text: `${value.moved} message(s) moved back to the event queue` };
  } catch (error) {
    flash = failed(error);
  }
  return { kind: 'redirect', location: '/dlq', flash };
}

/**
 * POST /license/:id/deactivate (instance[, confirmed]): `keysmith deactivate --instance`. Frees the
 * seat; the app's next validate of that instance fails. (Activations keep no history, so there is
 * no reason to record: the confirmation says what happens.)
 */
export async function deactivateAction(ctx: RequestContext): Promise<Answer> {
  const [licenseId] = ctx.params as [string];
  const instance = ctx.form.get('instance')?.trim();
  if (!instance) return badRequest('deactivate needs the instance id');
  const { stored, license } = await findLicense(ctx.target, licenseId);
  const back = orderHref(stored.state.provider, stored.state.scope);
  if (ctx.form.get('confirmed') !== 'yes') {
    const facts = html`<p>Instance <code>${instance}</code> of license <code>${license.licenseId}</code> (${license.productName}) of order <strong>${stored.state.orderId ?? stored.state.scope}</strong> for ${stored.state.customer.email || 'no email'}.</p>`;
    return confirmPage(
      `Deactivate ${instance}?`,
      facts,
      'The app on that machine stops validating; the seat can be activated again.',
      `/license/${encodeURIComponent(licenseId)}/deactivate`,
      { instance },
      'Deactivate',
      back,
      true,
    );
  }
  let flash: Flash;
  try {
    const { value } = await run<DeactivateResult>((out) => deactivate(licenseId, { instance, all: false }, async () => ctx.target, out));
    flash = { ok: true, text: `${value.licenseId}: deactivated ${value.deactivated.join(', ') || 'nothing'}; ${value.activationUsage} seat(s) still in use` };
  } catch (error) {
    flash = failed(error);
  }
  return { kind: 'redirect', location: back, flash };
}

/** POST /licenses/grant (email, product, seats, days, name, note[, confirmed]): `keysmith grant`. */
export async function grantAction(ctx: RequestContext): Promise<Answer> {
  const field = (name: string) => ctx.form.get(name)?.trim() || undefined;
  const options = { email: field('email'), product: field('product'), seats: field('seats'), days: field('days'), name: field('name'), note: field('note') };
  if (!options.email || !options.product || !options.note) return { kind: 'redirect', location: '/licenses', flash: { ok: false, text: 'a grant needs an email, a product and a note' } };
  if (ctx.form.get('confirmed') !== 'yes') {
    const facts = html`<p>A new <strong>${options.product}</strong> license${options.seats ? ` with ${options.seats} seat(s)` : ''}${options.days ? `, valid ${options.days} days` : ''} for <strong>${options.email}</strong>${options.name ? ` (${options.name})` : ''}, emailed to them.</p><p>Note: <em>${options.note}</em></p>`;
    const fields = Object.fromEntries(Object.entries(options).filter((e): e is [string, string] => e[1] !== undefined));
    return confirmPage('Grant a license?', facts, 'It is an order of its own (provider manual), recorded with the note.', '/licenses/grant', fields, 'Grant and email', '/licenses', false);
  }
  try {
    const { value } = await run<GrantResult>((out) => grant({ ...definedOnly(options), ...WAIT }, async () => ctx.target, out));
    const keys = (value.licenses ?? []).map((l) => l.licenseId).join(', ');
    return { kind: 'redirect', location: orderHref('manual', value.order), flash: { ok: true, text: `granted ${keys} (order ${value.order}); email ${value.email ?? 'none'}` } };
  } catch (error) {
    return { kind: 'redirect', location: '/licenses', flash: failed(error) };
  }
}

function definedOnly<T extends Record<string, string | undefined>>(value: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

export function badRequest(text: string): Answer {
  return { kind: 'page', status: 400, title: 'Bad request', body: html`<h1>Bad request</h1><p>${text}</p>` };
}
