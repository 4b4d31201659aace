import { escapeHtml, instructionsText, renderEmail, sanitizeInstructions, TEST_NOTICE } from '../../../functions/domain/email';
import { apply } from '../../../functions/domain/entitlement';
import { catalogWith, exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';

describe('email rendering', () => {
  it('escapes every customer and provider value in HTML', () => {
    const evil = '<script>alert(1)</script>"&\'';
    const catalog = exampleCatalog();
    const state = apply(undefined, grantEvent({ scope: `o${evil}`, live: true, customer: { email: 'a@b.co', name: evil } }), {
      catalog,
      licenseSecret: LICENSE_SECRET,
      now: new Date(),
    }).state;
    const email = renderEmail('license', state, state.licenses, catalog);
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;');
    expect(email.text).toContain(evil);
    for (const license of state.licenses) {
      expect(email.text).toContain(license.key);
      expect(email.html).toContain(license.key);
    }
    expect(email.subject).toBe('Your Example App license');
  });

  it('keeps only the allowed formatting tags in instructions', () => {
    const html = sanitizeInstructions(
      'Click <b>here</b> <a href="https://x.test/a" onclick="evil()">docs</a> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">js</a><br/><script>x</script>',
    );
    expect(html).toBe('Click <b>here</b> <a href="https://x.test/a">docs</a> &lt;img src=x onerror=alert(1)&gt; <a>js</a><br>&lt;script&gt;x&lt;/script&gt;');
    expect(escapeHtml('<&>')).toBe('&lt;&amp;&gt;');
  });

  it('renders instructions as plain text too', () => {
    expect(instructionsText('Open <b>App</b><br>then <a href="https://x.test">docs</a>')).toBe('Open App\nthen docs (https://x.test)');
  });

  it('subject placeholders are filled and newlines removed', () => {
    const catalog = catalogWith({ products: { p: { name: 'Pro', email: { subject: 'Order {order}\r\nBcc: x@y.z — {product}' } } }, defaultProduct: 'p' });
    const state = apply(undefined, grantEvent({ scope: 'ORD-1', live: true }), { catalog, licenseSecret: LICENSE_SECRET, now: new Date() }).state;
    expect(renderEmail('license', state, state.licenses, catalog).subject).toBe('Order ORD-1 Bcc: x@y.z — Pro');
  });

  describe('a test order (live: false)', () => {
    const catalog = exampleCatalog();
    const render = (live: boolean) => {
      const state = apply(undefined, grantEvent({ scope: 'ORD-T', live }), { catalog, licenseSecret: LICENSE_SECRET, now: new Date() }).state;
      return renderEmail('license', state, state.licenses, catalog);
    };

    it('says TEST in the subject and first thing in both bodies', () => {
      // Act
      const email = render(false);
      // Assess
      expect(email.subject).toBe('[TEST] Your Example App license');
      expect(email.text.startsWith(`*** ${TEST_NOTICE} ***`)).toBe(true);
      expect(email.html).toMatch(/<body[^>]*><p style="[^"]+"><strong>TEST ORDER: /);
    });

    it('a live order carries no test marker', () => {
      const email = render(true);
      expect(email.subject).toBe('Your Example App license');
      expect(`${email.text}${email.html}`).not.toMatch(/TEST/);
    });

    it('revocation and renewal emails of a test order are marked too', () => {
      const state = apply(undefined, grantEvent({ scope: 'ORD-T2', live: false }), { catalog, licenseSecret: LICENSE_SECRET, now: new Date() }).state;
      for (const kind of ['revoked', 'renewed'] as const) {
        const email = renderEmail(kind, state, state.licenses, catalog);
        expect(email.subject.startsWith('[TEST] ')).toBe(true);
        expect(email.text).toContain(TEST_NOTICE);
      }
    });
  });
});
