import type { ProviderName } from '../../../functions/domain/events';
import type { RedriveResult } from '../../cli/commands/dlq';
import { dlqRedrive } from '../../cli/commands/dlq';
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

export function badRequest(text: string): Answer {
  return { kind: 'page', status: 400, title: 'Bad request', body: html`<h1>Bad request</h1><p>${text}</p>` };
}
