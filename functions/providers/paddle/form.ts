import { WebhookRejection } from '../../ingress/types';

/**
 * Paddle Classic sends its fields as `application/x-www-form-urlencoded`: in the POST body, or in
 * the query string when the seller picked GET. Decoded with URLSearchParams, which reads `+` as a
 * space and percent-escapes as UTF-8 — the same as PHP's `$_POST`, which Paddle's own verifier uses.
 *
 * A name that occurs twice is refused: PHP would keep the last value and a naive reader the first,
 * so a forger could prepend a field of their own to a genuinely signed request and have the two
 * sides read different orders. Nothing Paddle sends repeats a name.
 */
export function parseForm(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (fields.has(name)) throw new WebhookRejection('MALFORMED', `field "${printable(name)}" occurs more than once`);
    fields.set(name, value);
  }
  return fields;
}

/** Encode fields the way Paddle does (and `keysmith send` needs to). */
export function encodeForm(fields: Iterable<readonly [string, string]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of fields) params.append(name, value);
  return params.toString();
}

/** A field name fit for an error message: short, no control characters. */
function printable(name: string): string {
  const clean = name.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
