import type { LicenseRef, StoredEntitlement } from '../../../functions/aws/store';
import type { AppliedEvent, Entitlement, HistoryEntry, License } from '../../../functions/domain/entitlement';
import { notFound, shortTime, table, type Output } from '../output';
import type { Target } from '../target';
import { licenseRow, type LicenseRow } from './licenses';

/** `show --json`: the license with its history, its order, and every event applied to the order. */
export interface ShowResult {
  license: LicenseRow & { format: License['format']; providerProductId: string; unit: number; history: HistoryEntry[] };
  entitlement: EntitlementView;
  events: EventView[];
}

export interface EntitlementView {
  provider: Entitlement['provider'];
  scope: string;
  order: string;
  reference?: string;
  status: Entitlement['status'];
  live: boolean;
  customer: Entitlement['customer'];
  subscription?: Entitlement['subscription'];
  licenses: number;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** An applied event as support sees it (the worker's claim bookkeeping left out). */
export interface EventView {
  eventId: string;
  action: AppliedEvent['action'];
  reason: string;
  occurredAt: string;
  appliedAt: string;
  /** Whether the event issued or changed this license (or named none, i.e. the whole order). */
  concernsLicense: boolean;
  licenseIds?: string[];
  email?: { kind: string; status: string; messageId?: string; sentAt?: string; error?: string };
  problem?: { code: string; message: string };
}

/** The license a `<license-id>` argument names; a license key is accepted too. */
export async function findLicense(target: Target, idOrKey: string): Promise<{ ref: LicenseRef; stored: StoredEntitlement; license: License }> {
  const ref = (await target.store.findByLicenseId(idOrKey.trim())) ?? (await target.store.findByKey(idOrKey));
  const stored = ref ? await target.store.get(ref.provider, ref.scope) : undefined;
  const license = stored?.state.licenses.find((l) => l.licenseId === ref!.licenseId);
  if (!ref || !stored || !license) throw notFound(`no license ${idOrKey} in the ${target.label} (ids look like lic_…; \`keysmith licenses --email …\` finds them)`);
  return { ref, stored, license };
}

export function eventView(e: AppliedEvent, licenseId?: string): EventView {
  return {
    eventId: e.eventId,
    action: e.action,
    reason: e.reason,
    occurredAt: e.occurredAt,
    appliedAt: e.appliedAt,
    concernsLicense: licenseId === undefined || !e.licenseIds || e.licenseIds.includes(licenseId),
    ...(e.licenseIds ? { licenseIds: e.licenseIds } : {}),
    ...(e.email
      ? {
          email: {
            kind: e.email.kind,
            status: e.email.status,
            ...(e.email.messageId ? { messageId: e.email.messageId } : {}),
            ...(e.email.sentAt ? { sentAt: e.email.sentAt } : {}),
            ...(e.email.error ? { error: e.email.error } : {}),
          },
        }
      : {}),
    ...(e.problem ? { problem: e.problem } : {}),
  };
}

export function entitlementView(state: Entitlement): EntitlementView {
  return {
    provider: state.provider,
    scope: state.scope,
    order: state.orderId ?? state.scope,
    ...(state.reference ? { reference: state.reference } : {}),
    status: state.status,
    live: state.live,
    customer: state.customer,
    ...(state.subscription ? { subscription: state.subscription } : {}),
    licenses: state.licenses.length,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    version: state.version,
  };
}

export function showResult(state: Entitlement, license: License): ShowResult {
  return {
    license: { ...licenseRow(state, license), format: license.format, providerProductId: license.providerProductId, unit: license.unit, history: license.history },
    entitlement: entitlementView(state),
    events: state.events.map((e) => eventView(e, license.licenseId)),
  };
}

/** `keysmith show <license-id>`. */
export async function show(options: { license: string }, target: () => Promise<Target>, out: Output): Promise<void> {
  const { stored, license } = await findLicense(await target(), options.license);
  const result = showResult(stored.state, license);
  out.result(result, () => renderShow(result));
}

export function renderShow(r: ShowResult): string {
  const l = r.license;
  const e = r.entitlement;
  const lines = [
    `license   ${l.licenseId}  ${l.status.toUpperCase()}`,
    `product   ${l.product} (${l.productName}), ${l.seats} seat(s), ${l.format}`,
    `key       ${l.key}`,
    `issued    ${shortTime(l.issuedAt)}   expires ${l.expiresAt ? shortTime(l.expiresAt) : 'never'}`,
    `order     ${e.provider} ${e.order}${e.reference ? ` (ref ${e.reference})` : ''}${e.scope !== e.order ? `  scope ${e.scope}` : ''}  ${e.live ? 'live' : 'TEST'}  order status ${e.status}`,
    `customer  ${e.customer.email || '(no email)'}${e.customer.name ? ` (${e.customer.name})` : ''}`,
    '',
    'history',
    table([['AT', 'ACTION', 'REASON', 'DETAIL'], ...l.history.map((h) => [shortTime(h.at), h.action, h.reason, h.detail ?? ''])]),
    '',
    `events applied to the order (${r.events.length})`,
    table([
      ['APPLIED', 'ACTION', 'REASON', 'EMAIL', 'PROBLEM', 'EVENT'],
      ...r.events.map((ev) => [
        shortTime(ev.appliedAt),
        ev.action,
        ev.reason,
        ev.email ? `${ev.email.kind} ${ev.email.status}${ev.email.error ? ` (${ev.email.error})` : ''}` : '-',
        ev.problem?.code ?? '-',
        `${ev.eventId}${ev.concernsLicense ? '' : ' (other license)'}`,
      ]),
    ]),
  ];
  return lines.join('\n');
}
