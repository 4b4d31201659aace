import * as z from 'zod/mini';
import '../../domain/zodLocale';

/**
 * What Marketplace Elements sends (README §4): an HTTP body `{"payload":"<jwt>"}`, and inside the
 * JWT a claims object with an `action`. Only CreateAccount's claims are documented (`email`,
 * `firstName`, `lastName`, `subscriptionId`, `planIdentifier`, `aadUserId`, `tenantId`,
 * `notificationEmail`); the other actions' fields, `quantity` and the term dates are UNKNOWN, so
 * the names below for them are guesses accepted side by side. Unknown claims pass through
 * (looseObject): the offer's custom fields and whatever Elements adds must not break us.
 */

/** The nine documented actions, CreateAccount (the default sample) first. */
export const ELEMENTS_ACTIONS = ['CreateAccount', 'TermsUpdate', 'UpdateAccount', 'ChangePlan', 'ChangeQuantity', 'Renew', 'Suspend', 'Unsubscribe', 'Reinstate'] as const;
export type ElementsAction = (typeof ELEMENTS_ACTIONS)[number];

/** The documented action name for `value`, matched without regard to case; undefined if unknown. */
export function knownAction(value: string): ElementsAction | undefined {
  const lower = value.toLowerCase();
  return ELEMENTS_ACTIONS.find((a) => a.toLowerCase() === lower);
}

/** The HTTP body. Read before verification (the token is inside it), so it trusts nothing else. */
export const envelopeSchema = z.looseObject({
  payload: z.string().check(z.minLength(1, 'payload must be a non-empty string (the signed JWT)')),
});

const text = (max: number) => z.nullish(z.string().check(z.maxLength(max)));
/** A date as ISO text or a number (seconds or milliseconds since the epoch). */
const dateLike = z.nullish(z.union([z.string().check(z.maxLength(64)), z.number()]));
/** Seats. Azure sends numbers; a numeric string is accepted as well. */
const quantity = z.nullish(
  z.pipe(z.union([z.number(), z.pipe(z.string().check(z.trim(), z.regex(/^\d{1,6}$/, 'must be a whole number')), z.transform(Number))]), z.number().check(z.int(), z.minimum(0), z.maximum(10_000))),
);

export const claimsSchema = z.looseObject({
  action: z.string().check(z.minLength(1), z.maxLength(100)),
  subscriptionId: z.string().check(z.trim(), z.minLength(1), z.maxLength(200)),
  planIdentifier: text(300),
  email: text(320),
  notificationEmail: text(320),
  firstName: text(150),
  lastName: text(150),
  tenantId: text(200),
  aadUserId: text(200),
  quantity,
  // Term dates: UNKNOWN names; the first present of each group wins (see normalize.ts).
  termStartDate: dateLike,
  termEndDate: dateLike,
  startDate: dateLike,
  endDate: dateLike,
  renewalDate: dateLike,
  expiryDate: dateLike,
  term: z.nullish(z.looseObject({ startDate: dateLike, endDate: dateLike })),
  // Test markers: UNKNOWN whether Elements sends any; any of them set to true marks the event test.
  isTest: z.nullish(z.boolean()),
  test: z.nullish(z.boolean()),
  sandbox: z.nullish(z.boolean()),
  // Registered JWT claims (already checked by jose where they matter).
  jti: z.nullish(z.string().check(z.maxLength(200))),
  iat: z.nullish(z.number()),
});
export type ElementsClaims = z.infer<typeof claimsSchema>;
