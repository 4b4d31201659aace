import { appliedEvents, type EntitlementStore, type StoredEntitlement } from '../functions/aws/store';
import type { ProviderName } from '../functions/domain/events';

/**
 * "Account for every email" (issue 9, item 7): after a run, every email the run owed a customer
 * must be either in the SES emulator's mailbox or recorded on the order as failed, with a reason.
 * Anything else — no order, an email still pending, one marked sent that the mailbox never got —
 * is an email nobody can say where it went, and the run (`npm run bench`, `npm run soak`) fails.
 *
 * The order's per-event email records are read through the `EntitlementStore` port only, in one
 * place (`emailRecordsOf`), so a change of where those records live changes one function.
 */

/** An email the run expects a customer to get. */
export interface OwedEmail {
  provider: ProviderName;
  /** The provider's order (or subscription) id, as `keysmith licenses --order` takes it. */
  orderId: string;
  /** The customer's address. */
  to: string;
}

/** One message in the SES emulator's mailbox (`GET {ses endpoint}/store`). */
export interface MailboxEmail {
  messageId?: string;
  destination: { to: string[] };
}

/** What an order says about one email it owed (see `emailRecordsOf`). */
export interface EmailRecord {
  eventId: string;
  kind: string;
  status: 'pending' | 'sent' | 'failed';
  messageId?: string;
  error?: string;
}

export interface EmailAccount {
  owed: number;
  /** In the mailbox. */
  sent: number;
  /** Not sent, and recorded on the order as failed with a reason (e.g. INVALID_ADDRESS). */
  failed: { email: OwedEmail; reason: string }[];
  /** Neither sent nor recorded as failed: the run must fail. */
  unaccounted: { email: OwedEmail; why: string }[];
}

export type AccountingStore = Pick<EntitlementStore, 'findByOrder' | 'records'>;

export async function emailAccounting(owed: readonly OwedEmail[], store: AccountingStore, mailbox: readonly MailboxEmail[], options: { concurrency?: number } = {}): Promise<EmailAccount> {
  const delivered = new Set<string>();
  for (const message of mailbox) for (const to of message.destination.to) delivered.add(to.toLowerCase());
  type Verdict = { sent: true } | { failed: string } | { why: string };
  const verdicts: Verdict[] = new Array(owed.length);
  const judge = async (email: OwedEmail): Promise<Verdict> => {
    if (delivered.has(email.to.toLowerCase())) return { sent: true };
    const orders = await store.findByOrder(email.provider, email.orderId);
    if (orders.length === 0) return { why: 'no order was stored for it' };
    const records = (await Promise.all(orders.map((o) => emailRecordsOf(store, o)))).flat();
    const failed = records.find((r) => r.status === 'failed' && r.error);
    return failed ? { failed: failed.error! } : { why: whyMissing(records) };
  };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < owed.length) {
      const at = next++;
      verdicts[at] = await judge(owed[at]!);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, lane));
  // In the order owed, whatever order the lookups finished in.
  const account: EmailAccount = { owed: owed.length, sent: 0, failed: [], unaccounted: [] };
  verdicts.forEach((verdict, i) => {
    if ('sent' in verdict) account.sent++;
    else if ('failed' in verdict) account.failed.push({ email: owed[i]!, reason: verdict.failed });
    else account.unaccounted.push({ email: owed[i]!, why: verdict.why });
  });
  return account;
}

/** The email records of one stored order: its events' record items, and the ones not finished yet. */
export async function emailRecordsOf(store: AccountingStore, stored: StoredEntitlement): Promise<EmailRecord[]> {
  return (await appliedEvents(store, stored.state)).flatMap((event) =>
    event.email
      ? [
          {
            eventId: event.eventId,
            kind: event.email.kind,
            status: event.email.status,
            ...(event.email.messageId ? { messageId: event.email.messageId } : {}),
            ...(event.email.error ? { error: event.email.error } : {}),
          },
        ]
      : [],
  );
}

function whyMissing(records: EmailRecord[]): string {
  if (records.length === 0) return 'the order owes no email (no event recorded one)';
  const sent = records.find((r) => r.status === 'sent');
  if (sent) return `marked sent (SES message ${sent.messageId ?? '?'}, event ${sent.eventId}) but not in the mailbox`;
  const failed = records.find((r) => r.status === 'failed');
  if (failed) return `marked failed without a reason (event ${failed.eventId})`;
  return `still pending (event ${records[0]!.eventId}): never sent, never marked failed`;
}

/** A one-line verdict for a report; `undefined` when every owed email is accounted for. */
export function unaccountedMessage(account: EmailAccount): string | undefined {
  if (account.unaccounted.length === 0) return undefined;
  const examples = account.unaccounted.slice(0, 5).map((u) => `${u.email.provider} order ${u.email.orderId}: ${u.why}`);
  return `${account.unaccounted.length} of ${account.owed} owed email(s) neither sent nor recorded as failed with a reason — e.g. ${examples.join('; ')}`;
}
