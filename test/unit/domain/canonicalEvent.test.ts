import fc from 'fast-check';
import { canonicalEvent, canonicalId, displayText, fitToBounds, InvalidEvent } from '../../../functions/domain/canonicalEvent';
import { resolveProduct } from '../../../functions/domain/catalog';
import { EVENT_BOUNDS, utf8Bytes } from '../../../functions/domain/eventBounds';
import { fulfillmentEventSchema } from '../../../functions/domain/eventSchema';
import { ACTIONS } from '../../../functions/domain/events';
import { PROVIDER_NAMES } from '../../../functions/providers/registry';
import { catalogWith, grantEvent } from '../../helpers/fixtures';

/**
 * `canonicalEvent`: the one gate at both ends of the queue (the ingress before it enqueues, the
 * worker when it reads). Long genuine values are made to fit — never refused — and what it
 * accepts the zod schema accepts too.
 */
describe('canonicalEvent: long genuine values fit, never refused', () => {
  it('cuts a 400-character name to 300 characters ending in an ellipsis', () => {
    const event = canonicalEvent(grantEvent({ customer: { email: 'ada@example.com', name: 'N'.repeat(400), company: 'C'.repeat(400) } }));
    expect(event.customer.name).toBe(`${'N'.repeat(299)}…`);
    expect(event.customer.company).toHaveLength(300);
  });

  it('never cuts a surrogate pair in half', () => {
    const name = `${'a'.repeat(298)}😀😀😀`;
    const cut = displayText(name);
    expect(cut).toBe(`${'a'.repeat(298)}…`);
    expect(cut.length).toBeLessThanOrEqual(EVENT_BOUNDS.displayChars);
  });

  it('keeps a 320-character email whole', () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(251)}.com`;
    expect(email).toHaveLength(320);
    expect(canonicalEvent(grantEvent({ customer: { email } })).customer.email).toBe(email);
  });

  it('keeps a longer email whole (it will be recorded as unmailable), drops one that cannot be an address at all', () => {
    const long = `${'a'.repeat(400)}@example.com`;
    expect(canonicalEvent(grantEvent({ customer: { email: long } })).customer.email).toBe(long);
    expect(canonicalEvent(grantEvent({ customer: { email: `${'a'.repeat(1100)}@example.com` } })).customer.email).toBe('');
  });

  it('keeps a 300-character product id whole', () => {
    const productId = 'p'.repeat(300);
    expect(canonicalEvent(grantEvent({ items: [{ productId, quantity: 1 }] })).items[0]!.productId).toBe(productId);
  });

  it('hashes an id beyond 512 UTF-8 bytes, stably, and matches it to the configured product', () => {
    // Prepare: 200 characters, but 600 bytes.
    const long = '€'.repeat(200);
    // Act
    const event = canonicalEvent(grantEvent({ scope: long, items: [{ productId: long, quantity: 1 }] }));
    // Assess
    expect(event.scope).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(event.scope).toBe(canonicalId(long));
    expect(event.items[0]!.productId).toBe(event.scope);
    const catalog = catalogWith({ products: { pro: { name: 'Pro', match: { fastspring: [long] } } }, defaultProduct: undefined });
    expect(resolveProduct(catalog, 'fastspring', event.items[0]!.productId)?.id).toBe('pro');
  });

  it('drops an over-long locale, and escape sequences (whole) and control characters from display text', () => {
    const event = canonicalEvent(grantEvent({ customer: { email: 'a@b.co', name: 'Ada\u0000\u001b[31m Lovelace', locale: 'x'.repeat(36) } }));
    expect(event.customer).toEqual({ email: 'a@b.co', name: 'Ada Lovelace' });
    // An OSC 52 clipboard write, a screen clear, an OSC 8 link and a bidi override leave no payload behind.
    const evil = 'Eve\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007\u001b[2J\u001b]8;;https://evil.example/\u001b\\link\u001b]8;;\u001b\\\u009b2J\u202Egpj.exe\nDoe';
    expect(canonicalEvent(grantEvent({ customer: { email: 'a@b.co', name: evil } })).customer.name).toBe('Evelinkgpj.exe Doe');
  });

  it('refuses what is malformed rather than long, naming the field', () => {
    expect(() => canonicalEvent(grantEvent({ items: [{ productId: '', quantity: 1 }] }))).toThrow(new InvalidEvent('items.0.productId: must not be empty'));
    expect(() => canonicalEvent(grantEvent({ items: Array.from({ length: 501 }, () => ({ productId: 'p', quantity: 1 })) }))).toThrow(/^items: must have at most 500/);
    expect(() => canonicalEvent({ ...grantEvent(), live: 'yes' })).toThrow(/^live:/);
  });

  it('drops unknown fields, as the zod schema does', () => {
    expect(canonicalEvent({ ...grantEvent(), extra: 1 })).not.toHaveProperty('extra');
  });

  it('keeps which hold an event sets or lifts, and who sent it (the holds depend on them)', () => {
    const dispute = grantEvent({ action: 'revoke', items: [], reversible: true, hold: 'disputed' });
    const seller = grantEvent({ action: 'suspend', items: [], by: 'seller', targets: ['lic_1'] });
    for (const event of [dispute, seller]) {
      expect(canonicalEvent(event)).toEqual(event);
      expect(fulfillmentEventSchema.parse(event)).toEqual(event);
    }
    expect(() => canonicalEvent({ ...dispute, hold: 'refunded' })).toThrow(/^hold: must be one of disputed/);
    expect(() => canonicalEvent({ ...seller, by: 'provider' })).toThrow(/^by: must be one of seller/);
  });
});

// ---- properties -----------------------------------------------------------------------------

/** Lengths at and around every bound (repeat counts: a 2-unit emoji doubles them). */
const BOUNDARIES = [34, 35, 36, 63, 64, 65, 128, 170, 171, 256, 257, 299, 300, 301, 302, 305, 319, 320, 321, 341, 342, 511, 512, 513, 1023, 1024, 1025];

/** Text that stresses the bounds: long, multi-byte, astral, lone surrogates, control characters. */
const oddText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 700 }),
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.tuple(fc.constantFrom('a', 'é', '€', '😀', '\u0000', '\ud800', '\udc00', ' '), fc.oneof(fc.integer({ min: 1, max: 1300 }), fc.constantFrom(...BOUNDARIES))).map(([c, n]) => c.repeat(n)),
);
/** Mostly valid values, sometimes anything at all. */
const or = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: fc.anything() });
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const eventLike = fc.record(
  {
    provider: or(fc.constantFrom(...PROVIDER_NAMES, 'manual', 'paddle-billing')),
    eventId: or(oddText),
    occurredAt: or(fc.constant('2026-01-01T00:00:00.000Z')),
    action: or(fc.constantFrom(...ACTIONS)),
    reason: or(oddText),
    businessKey: optional(or(oddText)),
    scope: or(oddText),
    orderId: optional(or(oddText)),
    reference: optional(or(oddText)),
    live: or(fc.boolean()),
    indexed: optional(or(fc.array(fc.string({ maxLength: 70 }), { maxLength: 5 }))),
    customer: or(fc.record({ email: or(oddText), name: optional(or(oddText)), company: optional(or(oddText)), locale: optional(or(oddText)) }, { requiredKeys: ['email'] })),
    items: or(
      fc.array(
        or(
          fc.record(
            {
              productId: or(oddText),
              sku: optional(or(oddText)),
              quantity: or(fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constantFrom(-1, 9_999, 10_000, 10_001, 1.5, Number.NaN, Infinity))),
              name: optional(or(oddText)),
            },
            { requiredKeys: ['productId', 'quantity'] },
          ),
        ),
        { maxLength: 4 },
      ),
    ),
    subscription: optional(or(fc.record({ id: or(oddText), periodEnd: optional(fc.constant('2026-02-01T00:00:00.000Z')) }, { requiredKeys: ['id'] }))),
    links: optional(or(fc.array(or(oddText), { maxLength: 5 }))),
    followLinks: optional(or(fc.boolean())),
    linked: optional(or(fc.boolean())),
  },
  { requiredKeys: ['provider', 'eventId', 'occurredAt', 'action', 'reason', 'scope', 'live', 'customer', 'items'] },
);

describe('canonicalEvent (properties)', () => {
  it('gives the same verdict and the same event as the zod schema on the fitted input', () => {
    fc.assert(
      fc.property(eventLike, (input) => {
        const fitted = fitToBounds(input);
        const zod = fulfillmentEventSchema.safeParse(fitted);
        let ours: unknown;
        try {
          ours = canonicalEvent(input);
        } catch (error) {
          if (!(error instanceof InvalidEvent)) throw error;
          expect(zod.success).toBe(false);
          return;
        }
        expect(zod.success).toBe(true);
        expect(ours).toEqual(zod.data);
      }),
      { numRuns: 400 },
    );
  });

  it('is idempotent through the queue: what the ingress enqueues, the worker reads back unchanged', () => {
    fc.assert(
      fc.property(eventLike, (input) => {
        let event: ReturnType<typeof canonicalEvent>;
        try {
          event = canonicalEvent(input);
        } catch {
          return;
        }
        expect(canonicalEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
      }),
      { numRuns: 400 },
    );
  });

  it('accepts every event whose only fault is length, and keeps every value inside the bounds', () => {
    fc.assert(
      fc.property(oddText, oddText, oddText, oddText, (name, email, id, productId) => {
        const event = canonicalEvent(grantEvent({ customer: { email, name, company: name }, scope: `s${id}`, eventId: `e${id}`, items: [{ productId: `p${productId}`, quantity: 1, name, sku: id }] }));
        for (const value of [event.scope, event.eventId, event.items[0]!.productId, event.items[0]!.sku!]) expect(utf8Bytes(value)).toBeLessThanOrEqual(EVENT_BOUNDS.idBytes);
        expect(event.customer.name!.length).toBeLessThanOrEqual(EVENT_BOUNDS.displayChars);
        expect(utf8Bytes(event.customer.email)).toBeLessThanOrEqual(EVENT_BOUNDS.emailBytes);
      }),
      { numRuns: 300 },
    );
  });
});
