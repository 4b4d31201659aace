import { EXPORT_COLUMNS, toCsv } from '../../../lib/cli/commands/licenseOps';
import type { LicenseRow } from '../../../lib/cli/commands/licenses';

const row = (over: Partial<LicenseRow>): LicenseRow => ({
  licenseId: 'lic_1',
  provider: 'fastspring',
  order: 'O-1',
  scope: 'O-1',
  product: 'app',
  productName: 'App',
  key: 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE',
  status: 'active',
  seats: 1,
  issuedAt: '2026-01-01T00:00:00.000Z',
  expiresAt: null,
  customer: 'a@example.com',
  live: true,
  ...over,
});

describe('export CSV', () => {
  it('has the documented header and one CRLF line per license', () => {
    const csv = toCsv([row({}), row({ licenseId: 'lic_2', expiresAt: '2027-01-01T00:00:00.000Z' })]);
    expect(csv.split('\r\n')).toEqual([
      EXPORT_COLUMNS.join(','),
      'lic_1,fastspring,O-1,app,active,1,2026-01-01T00:00:00.000Z,,a@example.com,true,AAAAA-BBBBB-CCCCC-DDDDD-EEEEE',
      'lic_2,fastspring,O-1,app,active,1,2026-01-01T00:00:00.000Z,2027-01-01T00:00:00.000Z,a@example.com,true,AAAAA-BBBBB-CCCCC-DDDDD-EEEEE',
      '',
    ]);
  });

  it('quotes separators, and defuses what a spreadsheet would run as a formula or a terminal act on', () => {
    const csv = toCsv([row({ customer: '=HYPERLINK("http://x","y")@example.com', order: 'a,b', productName: 'x' }), row({ customer: 'evil\u001b]52;c;Zm9v\u0007@example.com' })]);
    const [, first, second] = csv.split('\r\n');
    expect(first).toContain(`"'=HYPERLINK(""http://x"",""y"")@example.com"`);
    expect(first).toContain('"a,b"');
    expect(second).not.toMatch(/[\u0000-\u001f]/);
  });
});
