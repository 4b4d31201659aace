import type { StoredEntitlement } from '../../../functions/aws/store';
import { holdsOn, type LicenseStatus } from '../../../functions/domain/entitlement';
import type { ProviderName } from '../../../functions/domain/events';
import { PROVIDER_NAMES } from '../../../functions/providers/registry';
import { enqueue, manualEvent, waitForEvents } from '../manual';
import { CliError, EXIT, notFound, type Output, usageError } from '../output';
import type { Target } from '../target';
import { checkProvider, type LicenseRow, licenseRow } from './licenses';
import { type EventView, eventView, findLicense } from './show';

export type LicenseAction = 'revoke' | 'suspend' | 'reinstate';

/** The status each action asks for; anything else afterwards is reported as a failure (exit 1). */
const EXPECTED: Record<LicenseAction, LicenseStatus> = { revoke: 'revoked', suspend: 'suspended', reinstate: 'active' };

/** `revoke|suspend|reinstate --json`. `license` and `event` are absent with `--no-wait`. */
export interface LicenseActionResult {
  licenseId: string;
  action: LicenseAction;
  eventId: string;
  reason: string;
  /** Whether the worker applied it before the command returned (false with `--no-wait`). */
  applied: boolean;
  /** Whether the license is now in the state the action asks for. */
  ok?: boolean;
  license?: LicenseRow;
  event?: EventView;
}

export interface ManageOptions {
  reason?: string;
  wait: boolean;
  timeoutSeconds: number;
}

/** `keysmith revoke|suspend|reinstate <license-id> --reason R`. */
export async function licenseAction(action: LicenseAction, licenseId: string, options: ManageOptions, target: () => Promise<Target>, out: Output): Promise<void> {
  if (!options.reason?.trim()) throw usageError(`${action} needs --reason TEXT (it is kept in the license history)`);
  const t = await target();
  const { stored, license } = await findLicense(t, licenseId);
  const event = manualEvent(stored.state, action, options.reason, { targets: [license.licenseId] });
  await enqueue(t, [event]);
  out.note(`${action} of ${license.licenseId} enqueued as ${event.eventId} (${t.label})`);
  const base: LicenseActionResult = { licenseId: license.licenseId, action, eventId: event.eventId, reason: event.reason, applied: false };
  if (!options.wait) {
    out.result(base, () => `${action} of ${license.licenseId} enqueued (${event.eventId}); not waiting (--no-wait)`);
    return;
  }
  const [done] = await waitForEvents(t, [{ provider: event.provider, scope: stored.state.scope, eventId: event.eventId }], { timeoutSeconds: options.timeoutSeconds }, out);
  const after = done!.state.licenses.find((l) => l.licenseId === license.licenseId)!;
  const row = licenseRow(done!.state, after);
  const ok = after.status === EXPECTED[action];
  const result: LicenseActionResult = { ...base, applied: true, ok, license: row, event: eventView(done!.applied, license.licenseId) };
  const changes = done!.applied.changes ?? [];
  const holds = changes.filter((c) => c.hold && c.what !== 'no change').map((c) => `${c.what === 'lifted' ? '-' : '+'}${c.hold}`);
  const outcome = holds.length === 0 ? `no change, still ${after.status}` : license.status === after.status ? `${holds.join(' ')}, still ${after.status}` : `${license.status} → ${after.status}`;
  out.result(result, () => `${license.licenseId}: ${outcome} (${event.reason})`);
  if (!ok) {
    // Each hold is lifted only by its own kind: say which ones still stand.
    const holds = holdsOn(done!.state, after).map((h) => h.kind);
    const final = after.status === 'revoked' ? '; a revocation is final' : '';
    const why = holds.length > 0 ? `: holds still in force: ${[...new Set(holds)].join(', ')}${final} (\`keysmith show ${license.licenseId}\` says who set them)` : '';
    throw new CliError(`license ${license.licenseId} is ${after.status}, not ${EXPECTED[action]}${why}`, EXIT.failed);
  }
}

/** `resend --json`. */
export interface ResendResult {
  order: string;
  resent: {
    provider: ProviderName;
    scope: string;
    eventId: string;
    to: string;
    licenseIds: string[];
    applied: boolean;
    email?: { status: string; messageId?: string; error?: string };
  }[];
}

/** `keysmith resend <order> [--provider P] [--license ID]`: email the customer their active licenses again. */
export async function resend(order: string, options: ManageOptions & { provider?: string; license?: string }, target: () => Promise<Target>, out: Output): Promise<void> {
  const provider = checkProvider(options.provider);
  const t = await target();
  const found: StoredEntitlement[] = [];
  for (const p of provider ? [provider] : PROVIDER_NAMES) found.push(...(await t.store.findByOrder(p, order)));
  if (found.length === 0) throw notFound(`no order ${order}${provider ? ` from ${provider}` : ''} in the ${t.label}`);
  const providers = [...new Set(found.map((f) => f.state.provider))];
  if (providers.length > 1) throw usageError(`order ${order} exists for ${providers.join(' and ')}; pass --provider`);

  const events = found.map(({ state }) => {
    const active = state.licenses.filter((l) => l.status === 'active' && (!options.license || l.licenseId === options.license));
    if (options.license && !state.licenses.some((l) => l.licenseId === options.license)) throw notFound(`order ${order} has no license ${options.license}`);
    if (active.length === 0)
      throw new CliError(
        `order ${order} (${state.provider}) has no active license to send${options.license ? ` (${options.license} is ${state.licenses.find((l) => l.licenseId === options.license)?.status})` : ''}`,
      );
    if (!state.customer.email) throw new CliError(`order ${order} (${state.provider}) has no customer email address`);
    return { state, active, event: manualEvent(state, 'record', options.reason?.trim() || 'resend', { resendEmail: true, targets: active.map((l) => l.licenseId) }) };
  });
  await enqueue(
    t,
    events.map((e) => e.event),
  );
  out.note(`resend of ${events.reduce((n, e) => n + e.active.length, 0)} license(s) enqueued (${t.label})`);
  const result: ResendResult = {
    order,
    resent: events.map(({ state, active, event }) => ({
      provider: state.provider,
      scope: state.scope,
      eventId: event.eventId,
      to: state.customer.email,
      licenseIds: active.map((l) => l.licenseId),
      applied: false,
    })),
  };
  if (!options.wait) {
    out.result(result, () => result.resent.map((r) => `${r.provider} ${order}: email to ${r.to} enqueued (${r.eventId}); not waiting (--no-wait)`).join('\n'));
    return;
  }
  const done = await waitForEvents(
    t,
    events.map(({ state, event }) => ({ provider: state.provider, scope: state.scope, eventId: event.eventId })),
    { timeoutSeconds: options.timeoutSeconds, label: 'waiting for the email' },
    out,
  );
  done.forEach((d, i) => {
    const email = d.applied.email;
    Object.assign(result.resent[i]!, {
      applied: true,
      ...(email ? { email: { status: email.status, ...(email.messageId ? { messageId: email.messageId } : {}), ...(email.error ? { error: email.error } : {}) } } : {}),
    });
  });
  out.result(result, () =>
    result.resent
      .map(
        (r) =>
          `${r.provider} ${order}: ${r.licenseIds.length} license(s) to ${r.to}: ${r.email ? `${r.email.status}${r.email.messageId ? ` (${r.email.messageId})` : ''}${r.email.error ? ` — ${r.email.error}` : ''}` : 'no email owed'}`,
      )
      .join('\n'),
  );
  const failed = result.resent.filter((r) => r.email?.status !== 'sent');
  if (failed.length > 0) throw new CliError(`the email was not sent for ${failed.map((f) => `${f.provider} ${f.scope}`).join(', ')}${failed[0]?.email?.error ? `: ${failed[0].email.error}` : ''}`);
}
