import { appliedEvents, type LicenseRef, type StoredEntitlement } from '../../../functions/aws/store';
import type { AppliedEvent, Entitlement, Hold, License, LicenseChange } from '../../../functions/domain/entitlement';
import { notFound, type Output, shortTime, table } from '../output';
import type { Target } from '../target';
import { type LicenseRow, licenseRow } from './licenses';

/** `show --json`: the license with its holds and history, its order, and every event applied to the order. */
export interface ShowResult {
  license: LicenseRow & { format: License['format']; providerProductId: string; unit: number; holds: HoldView[]; history: HistoryView[] };
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

/** Why a license is not active: one hold in force, with the event that set it. */
export interface HoldView {
  kind: Hold['kind'];
  /** `order`: set on the whole order (covers every license); `license`: on this one. */
  on: 'order' | 'license';
  since: string;
  until?: string;
  eventId?: string;
  reason?: string;
}

/** One change an event made to this license. */
export interface HistoryView {
  at: string;
  eventId: string;
  /** What happened to the license: `issue`, or the lifecycle action that changed it. */
  action: AppliedEvent['action'] | 'issue';
  reason: string;
  detail?: string;
  /** The event's number in its order. */
  seq: number;
  /** The change in the holds vocabulary: issued, hold, lifted, extended, changed, no change. */
  what: LicenseChange['what'];
  hold?: Hold['kind'];
}

/** The word the history has always used for each change. */
function historyAction(change: LicenseChange, record: AppliedEvent): HistoryView['action'] {
  if (change.what === 'issued') return 'issue';
  if (change.what === 'extended') return 'extend';
  if (change.what === 'changed') return 'change';
  if (change.what === 'lifted') return record.action === 'extend' ? 'extend' : 'reinstate';
  return record.action;
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
  /** What it did to the licenses (holds set and lifted, renewals, …); `no change` is recorded too. */
  changes?: LicenseChange[];
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
    concernsLicense: concerns(e, licenseId),
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
    ...(e.changes ? { changes: e.changes } : {}),
  };
}

/** Whether an event touched this license: by its changes (holds, renewals…), else by the licenses it emailed. */
function concerns(e: AppliedEvent, licenseId: string | undefined): boolean {
  if (licenseId === undefined) return true;
  if (e.changes && e.changes.length > 0) return e.changes.some((c) => c.licenses === 'all' || c.licenses.includes(licenseId));
  return !e.licenseIds || e.licenseIds.includes(licenseId);
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

/** `records`: every applied event of the order (record items and unfinished ones), oldest first. */
export function showResult(state: Entitlement, license: License, records: AppliedEvent[]): ShowResult {
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  const holdView = (hold: Hold, on: HoldView['on']): HoldView => {
    const record = bySeq.get(hold.seq);
    const eventId = hold.eventId ?? record?.eventId;
    const reason = hold.reason ?? record?.reason;
    return { kind: hold.kind, on, since: hold.at, ...(hold.until ? { until: hold.until } : {}), ...(eventId ? { eventId } : {}), ...(reason ? { reason } : {}) };
  };
  const history: HistoryView[] = [];
  for (const r of records) {
    for (const c of r.changes ?? []) {
      if (c.licenses !== 'all' && !c.licenses.includes(license.licenseId)) continue;
      const detail = c.what === 'no change' ? ['no change', c.detail].filter(Boolean).join(': ') : c.detail;
      history.push({
        at: r.occurredAt,
        eventId: r.eventId,
        action: historyAction(c, r),
        reason: r.reason,
        ...(detail ? { detail } : {}),
        seq: r.seq,
        what: c.what,
        ...(c.hold ? { hold: c.hold } : {}),
      });
    }
  }
  return {
    license: {
      ...licenseRow(state, license),
      format: license.format,
      providerProductId: license.providerProductId,
      unit: license.unit,
      holds: [...state.holds.map((h) => holdView(h, 'order')), ...(license.holds ?? []).map((h) => holdView(h, 'license'))],
      history,
    },
    entitlement: entitlementView(state),
    events: records.map((e) => eventView(e, license.licenseId)),
  };
}

/** `keysmith show <license-id>`. */
export async function show(options: { license: string }, target: () => Promise<Target>, out: Output): Promise<void> {
  const t = await target();
  const { stored, license } = await findLicense(t, options.license);
  const result = showResult(stored.state, license, await appliedEvents(t.store, stored.state));
  out.result(result, () => renderShow(result));
}

const HOLD_WORDS: Record<Hold['kind'], string> = {
  revoked: 'revoked by the storefront (refund, chargeback, return or unsubscribe; final)',
  disputed: 'payment disputed (lifted when the dispute is closed in your favour)',
  'provider-suspended': 'suspended by the storefront (lifted when it reinstates)',
  'seller-suspended': 'suspended by you (lifted only by `keysmith reinstate`)',
  'seller-revoked': 'revoked by you (final)',
  'period-end': 'cancelled at the end of the period (lifted by an un-cancel or a renewal)',
};

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
    l.holds.length === 0 ? 'holds     none' : `holds     why it is ${l.status === 'active' ? 'scheduled to end' : 'not active'}:`,
    ...l.holds.map((h) => `  - ${HOLD_WORDS[h.kind]}${h.until ? `, ends ${shortTime(h.until)}` : ''}; on the ${h.on}, since ${shortTime(h.since)} by ${h.reason ?? '?'} (${h.eventId ?? '?'})`),
    '',
    'history',
    table([['AT', 'ACTION', 'HOLD', 'REASON', 'DETAIL'], ...l.history.map((h) => [shortTime(h.at), h.action, h.hold ? `${h.what === 'lifted' ? '-' : '+'}${h.hold}` : '', h.reason, h.detail ?? ''])]),
    '',
    `events applied to the order (${r.events.length})`,
    table([
      ['APPLIED', 'ACTION', 'REASON', 'EMAIL', 'PROBLEM', 'EVENT'],
      ...r.events.map((ev) => [
        shortTime(ev.appliedAt),
        ev.changes?.length && ev.changes.every((c) => c.what === 'no change') ? `${ev.action} (no change)` : ev.action,
        ev.reason,
        ev.email ? `${ev.email.kind} ${ev.email.status}${ev.email.error ? ` (${ev.email.error})` : ''}` : '-',
        ev.problem?.code ?? '-',
        `${ev.eventId}${ev.concernsLicense ? '' : ' (other license)'}`,
      ]),
    ]),
  ];
  return lines.join('\n');
}
