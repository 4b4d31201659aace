import type { Mailer } from '../../functions/aws/mailer';
import type { EventQueue } from '../../functions/aws/queue';
import { appliedEvents, type EntitlementStore, type EventView, type LicenseRef, type StoredEntitlement, VersionConflict } from '../../functions/aws/store';
import type { RenderedEmail } from '../../functions/domain/email';
import type { AppliedEvent, Entitlement, License } from '../../functions/domain/entitlement';
import type { FulfillmentEvent } from '../../functions/domain/events';
import type { LicenseView, PlacedView } from '../../functions/domain/licenseView';
import type { Logger } from '../../functions/log/logger';

/** Unit-test fakes for the ports. Integration tests use the real adapters against emulators. */

export class MemoryQueue implements EventQueue {
  readonly sent: FulfillmentEvent[] = [];
  failWith?: (event: FulfillmentEvent) => boolean;
  async send(events: FulfillmentEvent[]) {
    const failed = events.filter((e) => this.failWith?.(e));
    const accepted = events.filter((e) => !failed.includes(e));
    this.sent.push(...accepted);
    return { accepted, failed };
  }
}

export class MemoryStore implements EntitlementStore {
  readonly items = new Map<string, StoredEntitlement>();
  /** Record items by `provider#scope#eventId`; business-key markers by `provider#scope#bk#key`. */
  readonly recordItems = new Map<string, AppliedEvent>();
  readonly markers = new Map<string, string>();
  readonly lookups = new Map<string, LicenseRef>();
  readonly subscriptions = new Map<string, string>();
  /** License views by partition (the newest version written wins, as in DynamoDB). */
  readonly views = new Map<string, LicenseView>();
  calls = 0;
  async putViews(views: PlacedView[]) {
    for (const { partition, view } of views) {
      this.calls++;
      const there = this.views.get(partition);
      if (!there || there.v < view.v) this.views.set(partition, structuredClone(view));
    }
  }
  async get(provider: string, scope: string) {
    this.calls++;
    const item = this.items.get(`${provider}#${scope}`);
    return item ? structuredClone(item) : undefined;
  }
  async getForEvent(provider: string, scope: string, eventId: string, businessKey?: string): Promise<EventView> {
    this.calls++;
    const item = this.items.get(`${provider}#${scope}`);
    const record = this.recordItems.get(`${provider}#${scope}#${eventId}`);
    const marker = businessKey !== undefined ? this.markers.get(`${provider}#${scope}#bk#${businessKey}`) : undefined;
    return { ...(item ? { stored: structuredClone(item) } : {}), ...(record ? { record: structuredClone(record) } : {}), ...(marker !== undefined ? { businessKeyOf: marker } : {}) };
  }
  async put(state: Entitlement, expected: number) {
    this.calls++;
    const key = `${state.provider}#${state.scope}`;
    const current = this.items.get(key);
    if ((current?.version ?? 0) !== expected) throw new VersionConflict(current ? structuredClone(current) : undefined);
    const stored = { state: { ...structuredClone(state), version: expected + 1 }, version: expected + 1 };
    this.items.set(key, stored);
    return structuredClone(stored);
  }
  async putRecord(state: Entitlement, record: AppliedEvent, lookups: License[]) {
    this.calls++;
    this.writeRecord(state, record);
    this.index(state, lookups);
  }
  async flushRecord(state: Entitlement, record: AppliedEvent) {
    this.calls++;
    if (this.recordItems.has(`${state.provider}#${state.scope}#${record.eventId}`)) return false;
    this.writeRecord(state, record);
    return true;
  }
  async replaceRecord(state: Entitlement, record: AppliedEvent, expectedClaim: string | null) {
    this.calls++;
    const key = `${state.provider}#${state.scope}#${record.eventId}`;
    const current = this.recordItems.get(key);
    if (!current || (current.email?.claim ?? null) !== expectedClaim) return false;
    this.recordItems.set(key, structuredClone(record));
    return true;
  }
  async getRecord(provider: string, scope: string, eventId: string) {
    this.calls++;
    const record = this.recordItems.get(`${provider}#${scope}#${eventId}`);
    return record ? structuredClone(record) : undefined;
  }
  async records(provider: string, scope: string) {
    return [...this.recordItems.entries()]
      .filter(([k]) => k.startsWith(`${provider}#${scope}#`))
      .map(([, r]) => structuredClone(r))
      .sort((a, b) => a.seq - b.seq);
  }
  /** Every event the order applied, in order: record items and records still in `pending`. */
  async applied(provider: string, scope: string): Promise<AppliedEvent[]> {
    const item = this.items.get(`${provider}#${scope}`);
    return item ? appliedEvents(this, item.state) : [];
  }
  async putLookups(state: Entitlement, licenses: License[]) {
    this.calls++;
    this.index(state, licenses);
  }
  async putLinks(provider: string, scope: string, ids: string[]) {
    const links = ids.filter((id) => id !== scope);
    if (links.length > 0) this.calls++;
    for (const id of links) this.subscriptions.set(`${provider}#${id}`, scope);
  }
  async findSubscriptionScope(provider: string, id: string) {
    return this.subscriptions.get(`${provider}#${id}`);
  }
  async findByKey() {
    return undefined;
  }
  async findByLicenseId(id: string) {
    return this.lookups.get(id);
  }
  async findByEmail() {
    return [];
  }
  async findByOrder() {
    return [];
  }
  private writeRecord(state: Entitlement, record: AppliedEvent) {
    this.recordItems.set(`${state.provider}#${state.scope}#${record.eventId}`, structuredClone(record));
    if (record.businessKey !== undefined) this.markers.set(`${state.provider}#${state.scope}#bk#${record.businessKey}`, record.eventId);
  }
  private index(state: Entitlement, licenses: License[]) {
    for (const l of licenses) this.lookups.set(l.licenseId, { provider: state.provider, scope: state.scope, licenseId: l.licenseId });
    if (state.subscription?.id && state.subscription.id !== state.scope) this.subscriptions.set(`${state.provider}#${state.subscription.id}`, state.scope);
  }
}

export class MemoryMailer implements Mailer {
  readonly sent: { to: string; email: RenderedEmail }[] = [];
  async send(to: string, email: RenderedEmail) {
    this.sent.push({ to, email });
    return { messageId: `msg-${this.sent.length}` };
  }
}

export function silentLogger(lines: string[] = []): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, message, ...fields }));
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
