import type { StoredEntitlement } from '../../../functions/aws/store';
import { apply } from '../../../functions/domain/entitlement';
import { type AccountingStore, emailAccounting, type OwedEmail, unaccountedMessage } from '../../../scripts/emailAccounting';
import { exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';

/**
 * The bench's and the soak's "account for every email" check: an owed email is in the mailbox,
 * or recorded on the order as failed with a reason — anything else fails the run.
 */
describe('emailAccounting', () => {
  const catalog = exampleCatalog();
  /** A granted order whose license email is in the given state. */
  const order = (orderId: string, email: Record<string, unknown> | undefined): StoredEntitlement => {
    const { state } = apply(undefined, grantEvent({ scope: orderId, customer: { email: `${orderId}@example.com` } }), { catalog, licenseSecret: LICENSE_SECRET, now: new Date() });
    // The record stays in the order's `pending` here (no record item): emailRecordsOf reads both.
    if (email) state.pending[0]!.email = email as never;
    else delete state.pending[0]!.email;
    return { state, version: 1 };
  };
  const orders = new Map<string, StoredEntitlement>([
    ['sent', order('sent', { kind: 'license', status: 'sent', messageId: 'm-1' })],
    ['bounced', order('bounced', { kind: 'license', status: 'failed', error: 'INVALID_ADDRESS: the customer email address is not valid' })],
    ['pending', order('pending', { kind: 'license', status: 'pending', claim: 'x' })],
    ['lost', order('lost', { kind: 'license', status: 'sent', messageId: 'm-gone' })],
    ['silent', order('silent', undefined)],
  ]);
  const store: AccountingStore = { findByOrder: async (_provider, orderId) => (orders.has(orderId) ? [orders.get(orderId)!] : []), records: async () => [] };
  const owe = (orderId: string): OwedEmail => ({ provider: 'fastspring', orderId, to: `${orderId}@example.com` });

  it('counts a mailed email as sent and a recorded failure with its reason', async () => {
    // Act
    const account = await emailAccounting([owe('sent'), owe('bounced')], store, [{ messageId: 'm-1', destination: { to: ['SENT@example.com'] } }]);
    // Assess
    expect(account).toEqual({ owed: 2, sent: 1, failed: [{ email: owe('bounced'), reason: 'INVALID_ADDRESS: the customer email address is not valid' }], unaccounted: [] });
    expect(unaccountedMessage(account)).toBeUndefined();
  });

  it('names every email nobody can account for, and why', async () => {
    // Act
    const account = await emailAccounting([owe('pending'), owe('lost'), owe('silent'), owe('nowhere')], store, []);
    // Assess
    expect(account.sent).toBe(0);
    expect(account.unaccounted.map((u) => [u.email.orderId, u.why])).toEqual([
      ['pending', expect.stringMatching(/still pending/)],
      ['lost', expect.stringMatching(/marked sent \(SES message m-gone.*not in the mailbox/)],
      ['silent', expect.stringMatching(/owes no email/)],
      ['nowhere', 'no order was stored for it'],
    ]);
    expect(unaccountedMessage(account)).toMatch(/^4 of 4 owed email\(s\) neither sent nor recorded as failed with a reason/);
    // No customer address in the message (it goes to a terminal and a report).
    expect(unaccountedMessage(account)).not.toMatch(/@/);
  });
});
