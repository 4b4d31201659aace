import { createHash } from 'node:crypto';
import { EVENT_BOUNDS as B, ELLIPSIS, HASHED_ID_PREFIX, utf8Bytes } from './eventBounds';
import { ACTIONS, type FulfillmentEvent, PROVIDER_NAME_PATTERN } from './events';
import { withoutTerminalControls } from './terminalText';

/**
 * The one gate every canonical event passes, at both ends of the queue: the ingress runs it on
 * what a provider's normalizer produced before anything is enqueued, the worker on every message
 * it reads. It first makes long genuine values fit (see the table in ./eventBounds.ts: ids kept
 * whole or hashed, display text cut with an ellipsis, an over-long email dropped), then checks the
 * result against the bounds — the same function at both ends, so an event the ingress enqueued is,
 * by construction, one the worker accepts. What still fails (a required id missing, 501 items) is
 * not a long value but a malformed one: the ingress refuses the request with a 4xx before acking.
 *
 * The check is written out by hand rather than run through zod: the ingress pays for every
 * microsecond (`npm run bench`: the zod schema cost 8–10 µs per event, a third of Hotmart's whole
 * request). `fulfillmentEventSchema` (./eventSchema.ts) states the same rules from the same
 * bounds for the CLI and for types, and a property test (test/unit/domain/canonicalEvent.test.ts)
 * holds the two to the same verdict on random input.
 *
 * Deterministic and idempotent: the same input gives the same event, and a canonical event passes
 * through unchanged — so a message enqueued by an older ingress is made to fit on redrive too.
 * Unknown fields are dropped, as zod's `object` does.
 */
export function canonicalEvent(input: unknown): FulfillmentEvent {
  if (typeof input === 'object' && input !== null && made.has(input)) return input as FulfillmentEvent;
  const event = checkEvent(fitToBounds(input));
  made.add(event);
  return event;
}

/**
 * Events this process already made canonical (idempotent, so checking them again would give the
 * same object): a provider that canonicalizes event by event (FastSpring) does not pay twice.
 * Events are never mutated after normalization; a changed copy is a new object and is checked.
 */
const made = new WeakSet<object>();

/** The event cannot be made canonical (a required value is missing or of the wrong kind). */
export class InvalidEvent extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEvent';
  }
}

/**
 * An id as the event carries it: whole up to `EVENT_BOUNDS.idBytes` UTF-8 bytes, else
 * `sha256:` + base64url(SHA-256(UTF-8 of the id)) — 50 characters, stable, so the same long id
 * always lands on the same order, dedupes the same way and matches the same catalog entry.
 */
export function canonicalId(id: string): string {
  const wellFormed = toWellFormed(id);
  if (utf8Bytes(wellFormed) <= B.idBytes) return wellFormed;
  return HASHED_ID_PREFIX + createHash('sha256').update(wellFormed, 'utf8').digest('base64url');
}

/**
 * Display text as the event carries it: escape sequences and control characters removed (the same
 * rules as the CLI's output, terminalText.ts — a name is shown in terminals, emails and the
 * console, and must drive none of them), at most
 * `EVENT_BOUNDS.displayChars` characters; longer text is cut (never inside a surrogate pair) and
 * ends with "…".
 */
export function displayText(text: string): string {
  const clean = withoutTerminalControls(toWellFormed(text)).replace(/[\t\n]/g, ' ');
  if (clean.length <= B.displayChars) return clean;
  let cut = B.displayChars - ELLIPSIS.length;
  if (/[\ud800-\udbff]/.test(clean.charAt(cut - 1))) cut--;
  return clean.slice(0, cut) + ELLIPSIS;
}

/** The customer's email as the event carries it: whole, or "" when it cannot be one (see eventBounds.ts). */
export function canonicalEmail(email: string): string {
  const wellFormed = toWellFormed(email);
  return utf8Bytes(wellFormed) <= B.emailBytes ? wellFormed : '';
}

/** Whether an address can be mailed at all: RFC 5321 allows 64 + "@" + 255 characters. */
export function mailableLength(email: string): boolean {
  return email.length <= B.mailableEmailChars;
}

type Loose = Record<string, unknown>;
const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value);
const ID_FIELDS = ['eventId', 'businessKey', 'scope', 'orderId', 'reference'] as const;

/**
 * Makes every string the bounds table covers fit; leaves everything else (types, missing
 * values) to the schema. Works on unknown input: a queue message is parsed JSON.
 */
export function fitToBounds(input: unknown): unknown {
  if (!isObject(input)) return input;
  const event: Loose = { ...input };
  for (const field of ID_FIELDS) if (typeof event[field] === 'string') event[field] = canonicalId(event[field]);
  if (typeof event.reason === 'string') event.reason = displayText(event.reason);
  if (isObject(event.customer)) {
    const customer: Loose = { ...event.customer };
    if (typeof customer.email === 'string') customer.email = canonicalEmail(customer.email);
    for (const field of ['name', 'company'] as const) if (typeof customer[field] === 'string') customer[field] = displayText(customer[field]);
    // Not a language tag: the email falls back to the default language.
    if (typeof customer.locale === 'string' && customer.locale.length > B.localeChars) delete customer.locale;
    event.customer = customer;
  }
  if (Array.isArray(event.items)) {
    event.items = event.items.map((raw: unknown) => {
      if (!isObject(raw)) return raw;
      const item: Loose = { ...raw };
      for (const field of ['productId', 'sku'] as const) if (typeof item[field] === 'string') item[field] = canonicalId(item[field]);
      if (typeof item.name === 'string') item.name = displayText(item.name);
      return item;
    });
  }
  if (isObject(event.subscription) && typeof event.subscription.id === 'string') event.subscription = { ...event.subscription, id: canonicalId(event.subscription.id) };
  if (Array.isArray(event.links)) event.links = event.links.map((link: unknown) => (typeof link === 'string' ? canonicalId(link) : link));
  return event;
}

/** Lone surrogates (not text, and not storable as UTF-8) become U+FFFD, as `String.prototype.toWellFormed` does. */
function toWellFormed(text: string): string {
  return /[\ud800-\udfff]/.test(text) ? text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd') : text;
}

// ---- the check: the rules of `fulfillmentEventSchema` (./eventSchema.ts), written out ----------

const fail = (path: string, message: string): never => {
  throw new InvalidEvent(`${path}: ${message}`);
};

function text(value: unknown, path: string, min: number, max: number): string {
  if (typeof value !== 'string') return fail(path, 'must be text');
  if (value.length < min) return fail(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
  if (value.length > max) return fail(path, `must be at most ${max} characters`);
  return value;
}

function id(value: unknown, path: string, min = 1): string {
  if (typeof value !== 'string') return fail(path, 'must be text');
  if (value.length < min) return fail(path, 'must not be empty');
  if (utf8Bytes(value) > B.idBytes) return fail(path, `must be at most ${B.idBytes} UTF-8 bytes`);
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) return fail(path, `must be one of ${options.join(', ')}`);
  return value as T;
}

function providerName(value: unknown): string {
  if (typeof value !== 'string' || !PROVIDER_NAME_PATTERN.test(value)) return fail('provider', 'must be a provider name (lower case letters, digits and -)');
  return value;
}

function bool(value: unknown, path: string): boolean {
  return typeof value === 'boolean' ? value : fail(path, 'must be true or false');
}

function object(value: unknown, path: string): Loose {
  return isObject(value) ? value : fail(path, 'must be an object');
}

function list(value: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(value)) return fail(path, 'must be a list');
  if (value.length > max) return fail(path, `must have at most ${max} entries`);
  return value;
}

/** Sets `out[key]` from `input[key]` through `check` when present (undefined counts as absent). */
function optional(out: Loose, input: Loose, key: string, path: string, check: (value: unknown, path: string) => unknown): void {
  if (input[key] !== undefined) out[key] = check(input[key], path ? `${path}.${key}` : key);
}

function checkEvent(input: unknown): FulfillmentEvent {
  const e = object(input, 'event');
  const out: Loose = {
    provider: providerName(e.provider),
    eventId: id(e.eventId, 'eventId'),
    occurredAt: text(e.occurredAt, 'occurredAt', 1, B.timeChars),
    action: oneOf(e.action, 'action', ACTIONS),
    reason: text(e.reason, 'reason', 1, B.displayChars),
  };
  optional(out, e, 'businessKey', '', (v, p) => id(v, p));
  out.scope = id(e.scope, 'scope');
  optional(out, e, 'orderId', '', (v, p) => id(v, p, 0));
  optional(out, e, 'reference', '', (v, p) => id(v, p, 0));
  optional(out, e, 'effectiveAt', '', (v, p) => text(v, p, 1, B.timeChars));
  optional(out, e, 'reversible', '', bool);
  optional(out, e, 'hold', '', (v, p) => oneOf(v, p, ['disputed'] as const));
  optional(out, e, 'by', '', (v, p) => oneOf(v, p, ['seller'] as const));
  optional(out, e, 'indexed', '', (v, p) => list(v, p, B.indexed).map((x, i) => text(x, `${p}.${i}`, 0, B.licenseIdChars)));
  optional(out, e, 'targets', '', (v, p) => list(v, p, B.targets).map((x, i) => text(x, `${p}.${i}`, 0, B.licenseIdChars)));
  optional(out, e, 'resendEmail', '', bool);
  optional(out, e, 'terms', '', (v, p) => {
    const t = object(v, p);
    const terms: Loose = {};
    const whole = (x: unknown, q: string, max: number) => (typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= max ? x : fail(q, `must be a whole number from 1 to ${max}`));
    optional(terms, t, 'seats', p, (x, q) => whole(x, q, B.quantity));
    optional(terms, t, 'days', p, (x, q) => whole(x, q, 36_500));
    return terms;
  });
  optional(out, e, 'links', '', (v, p) => list(v, p, B.links).map((x, i) => id(x, `${p}.${i}`)));
  optional(out, e, 'followLinks', '', bool);
  optional(out, e, 'linked', '', bool);
  out.live = bool(e.live, 'live');
  const c = object(e.customer, 'customer');
  if (typeof c.email !== 'string') fail('customer.email', 'must be text');
  if (utf8Bytes(c.email as string) > B.emailBytes) fail('customer.email', `must be at most ${B.emailBytes} UTF-8 bytes`);
  const customer: Loose = { email: c.email };
  optional(customer, c, 'name', 'customer', (v, p) => text(v, p, 0, B.displayChars));
  optional(customer, c, 'company', 'customer', (v, p) => text(v, p, 0, B.displayChars));
  optional(customer, c, 'locale', 'customer', (v, p) => text(v, p, 0, B.localeChars));
  out.customer = customer;
  out.items = list(e.items, 'items', B.items).map((raw, i) => {
    const path = `items.${i}`;
    const item = object(raw, path);
    const checked: Loose = { productId: id(item.productId, `${path}.productId`) };
    optional(checked, item, 'sku', path, (v, p) => id(v, p, 0));
    const quantity = item.quantity;
    if (typeof quantity !== 'number' || !Number.isInteger(quantity)) fail(`${path}.quantity`, 'must be a whole number');
    if ((quantity as number) < 0 || (quantity as number) > B.quantity) fail(`${path}.quantity`, `must be from 0 to ${B.quantity}`);
    checked.quantity = quantity;
    optional(checked, item, 'name', path, (v, p) => text(v, p, 0, B.displayChars));
    return checked;
  });
  optional(out, e, 'subscription', '', (v, p) => {
    const s = object(v, p);
    const subscription: Loose = { id: id(s.id, `${p}.id`) };
    optional(subscription, s, 'periodEnd', p, (x, q) => text(x, q, 1, B.timeChars));
    return subscription;
  });
  return out as FulfillmentEvent;
}
