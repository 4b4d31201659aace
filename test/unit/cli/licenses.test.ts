import type { EntitlementStore, StoredEntitlement } from '../../../functions/aws/store';
import { apply } from '../../../functions/domain/entitlement';
import { licenses } from '../../../lib/cli/commands/licenses';
import type { Output } from '../../../lib/cli/output';
import type { Target } from '../../../lib/cli/target';
import { exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';

/** `keysmith licenses`: a provider test order's licenses say TEST in the text output; --json keeps `live`. */
describe('keysmith licenses and test orders', () => {
  const catalog = exampleCatalog();
  const entitlement = (scope: string, live: boolean): StoredEntitlement => {
    const { state } = apply(undefined, grantEvent({ scope, live, customer: { email: 'ada@example.com' }, items: [{ productId: 'app', quantity: 1 }] }), {
      catalog,
      licenseSecret: LICENSE_SECRET,
      now: new Date(),
    });
    return { state, version: 1 };
  };
  // Only the lookup `licenses --email` makes.
  const store: Pick<EntitlementStore, 'findByEmail'> = { findByEmail: async () => [entitlement('LIVE-1', true), entitlement('TEST-1', false)] };
  const target = async () => ({ store }) as unknown as Target;
  const capture = (json: boolean) => {
    let printed = '';
    const out = {
      json,
      result: (value: unknown, human: () => string) => void (printed = json ? JSON.stringify(value) : human()),
      note: () => undefined,
      progress: () => ({ update() {}, tick() {}, done() {} }),
    } as Output;
    return { out, printed: () => printed };
  };

  it('marks the test order TEST in the status column and leaves the live one as it was', async () => {
    // Act
    const { out, printed } = capture(false);
    await licenses({ email: 'ada@example.com' }, target, out);
    // Assess
    const lines = printed().split('\n');
    expect(lines.find((l) => l.includes('LIVE-1'))).toMatch(/\bactive\b(?! TEST)/);
    expect(lines.find((l) => l.includes('TEST-1'))).toMatch(/\bactive TEST\b/);
  });

  it('--json keeps the contract: status as it is, live false', async () => {
    const { out, printed } = capture(true);
    await licenses({ email: 'ada@example.com' }, target, out);
    const rows = JSON.parse(printed()) as { order: string; status: string; live: boolean }[];
    expect(rows.map((r) => [r.order, r.status, r.live])).toEqual([
      ['LIVE-1', 'active', true],
      ['TEST-1', 'active', false],
    ]);
  });
});
