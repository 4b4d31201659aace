import type { Catalog } from './catalog';
import { type EmailKind, type Entitlement, type License, productOf } from './entitlement';

/**
 * Email rendering: plain text and HTML from the product's template. Every value that came from a
 * customer or a provider is escaped; the seller's instructions may use a small set of formatting
 * tags and nothing else.
 */

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const ALLOWED_TAGS = new Set(['b', 'strong', 'i', 'em', 'code', 'br', 'p', 'ul', 'ol', 'li', 'a']);

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The seller's instructions as safe HTML: allowed tags are kept without attributes (except an
 * https `href` on `<a>`), everything else is escaped as text.
 */
export function sanitizeInstructions(markup: string): string {
  let out = '';
  let last = 0;
  const tag = /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z-]+\s*=\s*"[^"<>]*")*)\s*(\/?)>/g;
  for (let m = tag.exec(markup); m; m = tag.exec(markup)) {
    out += escapeHtml(markup.slice(last, m.index));
    last = m.index + m[0].length;
    const [, closing, rawName, attrs] = m;
    const name = rawName!.toLowerCase();
    if (!ALLOWED_TAGS.has(name)) {
      out += escapeHtml(m[0]);
      continue;
    }
    if (closing) {
      out += name === 'br' ? '' : `</${name}>`;
    } else if (name === 'a') {
      const href = /href\s*=\s*"(https:\/\/[^"<>\s]+)"/i.exec(attrs ?? '')?.[1];
      out += href ? `<a href="${escapeHtml(href)}">` : '<a>';
    } else {
      out += name === 'br' ? '<br>' : `<${name}>`;
    }
  }
  return out + escapeHtml(markup.slice(last));
}

/** The instructions as plain text: tags dropped, `<br>`/`<p>`/`<li>` become line breaks. */
export function instructionsText(markup: string): string {
  return markup
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>|<\/li>/gi, '\n')
    .replace(/<li>/gi, '- ')
    .replace(/<a\s+[^>]*href="(https:\/\/[^"]+)"[^>]*>(.*?)<\/a>/gi, '$2 ($1)')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

const SUBJECTS: Record<EmailKind, (product: string) => string> = {
  license: (p) => `Your ${p} license`,
  revoked: (p) => `Your ${p} license was revoked`,
  renewed: (p) => `Your ${p} license was renewed`,
};

/** Subject prefix of every email about a provider test order (`live: false`). */
export const TEST_SUBJECT_PREFIX = '[TEST] ';
/** The notice at the top of every email about a test order: its licenses are not for real use. */
export const TEST_NOTICE = 'TEST ORDER: this email is about a test purchase, not a live order. Its licenses are marked as test licenses and are not valid for real use.';

/** Render the email one event owes the customer, showing the licenses it concerns. */
export function renderEmail(kind: EmailKind, state: Entitlement, licenses: License[], catalog: Catalog): RenderedEmail {
  if (licenses.length === 0) throw new Error('an email needs at least one license');
  const byProduct = new Map<string, License[]>();
  for (const license of licenses) byProduct.set(license.product, [...(byProduct.get(license.product) ?? []), license]);
  const first = licenses[0]!;
  const firstProduct = productOf(catalog, first);
  const order = state.orderId ?? state.scope;
  const subject = kind === 'license' ? fill(firstProduct.email.subject, { product: first.productName, order }) : SUBJECTS[kind](first.productName);
  const greetingName = state.customer.name?.trim();
  const greeting = greetingName ? `Hello ${greetingName},` : 'Hello,';

  const textBlocks: string[] = [];
  const htmlBlocks: string[] = [];
  // A test order's email says so before anything else, in both bodies and the subject.
  const test = state.live === false;
  if (test) {
    textBlocks.push(`*** ${TEST_NOTICE} ***`, '');
    htmlBlocks.push(`<p style="border:2px solid #b45309;background:#fef3c7;color:#78350f;padding:8px"><strong>${escapeHtml(TEST_NOTICE)}</strong></p>`);
  }
  textBlocks.push(greeting, '');
  htmlBlocks.push(`<p>${escapeHtml(greeting)}</p>`);
  const intro = kind === 'license' ? firstProduct.email.intro : kind === 'revoked' ? 'The following license is no longer valid:' : 'Your license has been renewed:';
  textBlocks.push(intro, '');
  htmlBlocks.push(`<p>${escapeHtml(intro)}</p>`);

  for (const group of byProduct.values()) {
    const product = productOf(catalog, group[0]!);
    const name = group[0]!.productName;
    textBlocks.push(name);
    htmlBlocks.push(`<h2 style="font-size:16px">${escapeHtml(name)}</h2>`);
    for (const license of group) {
      const details = [`${license.seats} seat${license.seats === 1 ? '' : 's'}`, license.expiresAt ? `valid until ${license.expiresAt.slice(0, 10)}` : 'perpetual'];
      textBlocks.push(`  ${license.key}`, `  (${details.join(', ')})`);
      htmlBlocks.push(`<p><code style="font-size:15px;word-break:break-all">${escapeHtml(license.key)}</code><br><small>${escapeHtml(details.join(', '))}</small></p>`);
    }
    if (kind === 'license' && product.email.instructions) {
      textBlocks.push('', instructionsText(product.email.instructions));
      htmlBlocks.push(`<div>${sanitizeInstructions(product.email.instructions)}</div>`);
    }
    textBlocks.push('');
  }
  textBlocks.push(`Order: ${order}`);
  htmlBlocks.push(`<p style="color:#666"><small>Order: ${escapeHtml(order)}</small></p>`);

  return {
    subject: `${test ? TEST_SUBJECT_PREFIX : ''}${subject.replace(/[\r\n]+/g, ' ')}`.slice(0, 200),
    text: `${textBlocks.join('\n')}\n`,
    html: `<!doctype html><html><body style="font-family:sans-serif">${htmlBlocks.join('\n')}</body></html>`,
  };
}
