import { apply } from '../../../functions/domain/entitlement';
import { escapeHtml, instructionsText, renderEmail, sanitizeInstructions } from '../../../functions/domain/email';
import { catalogWith, exampleCatalog, grantEvent, LICENSE_SECRET } from '../../helpers/fixtures';

describe('email rendering', () => {
  it('escapes every customer and provider value in HTML', () => {
    const evil = '<script>alert(1)</script>"&\'';
    const catalog = exampleCatalog();
    const state = apply(undefined, grantEvent({ scope: `o${evil}`, customer: { email: 'a@b.co', name: evil } }), {
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
    const html = sanitizeInstructions('Click <b>here</b> <a href="https://x.test/a" onclick="evil()">docs</a> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">js</a><br/><script>x</script>');
    expect(html).toBe('Click <b>here</b> <a href="https://x.test/a">docs</a> &lt;img src=x onerror=alert(1)&gt; <a>js</a><br>&lt;script&gt;x&lt;/script&gt;');
    expect(escapeHtml('<&>')).toBe('&lt;&amp;&gt;');
  });

  it('renders instructions as plain text too', () => {
    expect(instructionsText('Open <b>App</b><br>then <a href="https://x.test">docs</a>')).toBe('Open App\nthen docs (https://x.test)');
  });

  it('subject placeholders are filled and newlines removed', () => {
    const catalog = catalogWith({ products: { p: { name: 'Pro', email: { subject: 'Order {order}\r\nBcc: x@y.z — {product}' } } }, defaultProduct: 'p' });
    const state = apply(undefined, grantEvent({ scope: 'ORD-1' }), { catalog, licenseSecret: LICENSE_SECRET, now: new Date() }).state;
    expect(renderEmail('license', state, state.licenses, catalog).subject).toBe('Order ORD-1 Bcc: x@y.z — Pro');
  });
});
