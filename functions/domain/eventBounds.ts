/**
 * The bounds of a canonical event (`FulfillmentEvent`), in one place: the schema the worker
 * validates with (./eventSchema.ts) and the normalization the ingress runs before it enqueues
 * (./canonicalEvent.ts) are both built from these numbers, so whatever the ingress acks, the
 * worker accepts.
 *
 * How a value that is too long is made to fit — never refused after a 2xx:
 *
 * | kind     | fields                                                    | too long →                       |
 * |----------|-----------------------------------------------------------|----------------------------------|
 * | id       | eventId, businessKey, scope, orderId, reference,           | kept whole up to `idBytes` UTF-8 |
 * |          | items[].productId, items[].sku, subscription.id, links[]   | bytes, else `sha256:<base64url>` |
 * | display  | customer.name, customer.company, items[].name, reason      | cut to `displayChars`, ending "…" |
 * | email    | customer.email                                            | kept whole up to `emailBytes`;   |
 * |          |                                                           | longer → "" (no address)         |
 * | locale   | customer.locale                                           | dropped (the default language)   |
 *
 * Why these numbers:
 * - Ids become parts of DynamoDB keys (`ENT#{provider}#{scope}`, the order and email index keys,
 *   per-event sort keys): a sort key holds at most 1,024 bytes, so an id plus its prefix must
 *   stay well under that. 512 bytes is far beyond any provider's real ids (FastSpring ≤ 200,
 *   Paddle ≤ 200, Hotmart/Selldone ≤ 100 characters) and the hash is stable: the same long id
 *   always maps to the same value, so dedupe, scopes and catalog matches still work.
 * - An email address can have at most 64 + 1 + 255 = 320 characters (RFC 3696/5321 limits on
 *   the local part and domain); it is kept whole, never shortened (a shortened address would be
 *   someone else's). Beyond 320 characters it cannot be mailed: the license is still issued and
 *   the mailer records the email as failed (`INVALID_ADDRESS`). Beyond `emailBytes` it is not kept
 *   at all (it is not an address, and it would not fit the email index key).
 * - Display text only ever appears in emails, lookups and the console: 300 characters is more
 *   than any real name, and a cut name is still recognisable.
 * - Item and license counts match what the providers' own schemas admit (Selldone: 500 items).
 */
export const EVENT_BOUNDS = {
  /** Largest id kept as it is, in UTF-8 bytes; longer ids are hashed (see `canonicalId`). */
  idBytes: 512,
  /** Longest display text, in UTF-16 code units (what `String.length` counts), ellipsis included. */
  displayChars: 300,
  /** Longest email address that can be mailed (local part 64 + "@" + domain 255). */
  mailableEmailChars: 320,
  /** Longest email kept on the event, in UTF-8 bytes (fits the email index key, ≤ 2,048 bytes). */
  emailBytes: 1024,
  /** Longest BCP 47 language tag kept. */
  localeChars: 35,
  /** Items per event. */
  items: 500,
  /** Units per item. */
  quantity: 10_000,
  /** License ids (`lic_…`) in `indexed` and `targets`. */
  licenseIdChars: 64,
  indexed: 200,
  targets: 1000,
  /** Payment ids in `links` (an invoice's payment intent and the invoice itself). */
  links: 4,
  /** Timestamps (`occurredAt`, `effectiveAt`, `subscription.periodEnd`), ISO 8601 text. */
  timeChars: 64,
} as const;

/** The ellipsis a cut display text ends with. */
export const ELLIPSIS = '…';
/** The prefix of an id replaced by its hash. */
export const HASHED_ID_PREFIX = 'sha256:';

/** UTF-8 length of a string without allocating a buffer (lone surrogates count as U+FFFD: 3). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  // Fast path for the usual short ASCII id: nothing to count beyond the length.
  // eslint-disable-next-line no-control-regex
  if (text.length < 256 && /^[\x00-\x7f]*$/.test(text)) return text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
