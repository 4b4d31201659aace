import type { FulfillmentEvent } from '../../functions/domain/events';
import type { Entitlement, License } from '../../functions/domain/entitlement';
import type { EventQueue } from '../../functions/aws/queue';
import type { Mailer } from '../../functions/aws/mailer';
import type { RenderedEmail } from '../../functions/domain/email';
import { VersionConflict, type EntitlementStore, type LicenseRef, type StoredEntitlement } from '../../functions/aws/store';
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
  readonly lookups = new Map<string, LicenseRef>();
  calls = 0;
  async get(provider: string, scope: string) {
    this.calls++;
    const item = this.items.get(`${provider}#${scope}`);
    return item ? structuredClone(item) : undefined;
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
  async putLookups(state: Entitlement, licenses: License[]) {
    this.calls++;
    for (const l of licenses) this.lookups.set(l.licenseId, { provider: state.provider, scope: state.scope, licenseId: l.licenseId });
    if (state.subscription?.id && state.subscription.id !== state.scope) this.subscriptions.set(`${state.provider}#${state.subscription.id}`, state.scope);
  }
  readonly subscriptions = new Map<string, string>();
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
