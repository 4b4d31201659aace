import { z } from 'zod';

/**
 * What Marketplace Elements sends (README §4): an HTTP body `{"payload":"<jwt>"}`, and inside the
 * JWT a claims object with an `action`. Only CreateAccount's claims are documented (`email`,
 * `firstName`, `lastName`, `subscriptionId`, `planIdentifier`, `aadUserId`, `tenantId`,
 * `notificationEmail`); the other actions' fields, `quantity` and the term dates are UNKNOWN, so
 * the names below for them are guesses accepted side by side. Unknown claims pass through
 * (looseObject): the offer's custom fields and whatever Elements adds must not break us.
 */

/** The nine documented actions, CreateAccount (the default sample) first. */
export const ELEMENTS_ACTIONS = [
  'CreateAccount',
  'TermsUpdate',
  'UpdateAccount',
  'ChangePlan',
  'ChangeQuantity',
  'Renew',
  'Suspend',
  'Unsubscribe',
  'Reinstate',
] as const;
export type ElementsAction = (typeof ELEMENTS_ACTIONS)[number];

/** The documented action name for `value`, matched without regard to case; undefined if unknown. */
export function knownAction(value: string): ElementsAction | undefined {
  const lower = value.toLowerCase();
  return ELEMENTS_ACTIONS.find((a) => a.toLowerCase() === lower);
}

/** The HTTP body. Read before verification (the token is inside it), so it trusts nothing else. */
export const envelopeSchema = z.looseObject({
  payload: z.string().min(1, 'payload must be a non-empty string (the signed JWT)'),
});

const text = (max: number) => z.string().max(max).nullish();
/** A date as ISO text or a number (seconds or milliseconds since the epoch). */
const dateLike = z.union([z.string().max(64), z.number()]).nullish();
/** Seats. Azure sends numbers; a numeric string is accepted as well. */
const quantity = z
  .union([z.number(), z.string().trim().regex(/^\d{1,6}$/, 'must be a whole number').transform(Number)])
  .pipe(z.number().int().min(0).max(10_000))
  .nullish();

export const claimsSchema = z.looseObject({
  action: z.string().min(1).max(100),
  subscriptionId: z.string().trim().min(1).max(200),
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
  term: z.looseObject({ startDate: dateLike, endDate: dateLike }).nullish(),
  // Test markers: UNKNOWN whether Elements sends any; any of them set to true marks the event test.
  isTest: z.boolean().nullish(),
  test: z.boolean().nullish(),
  sandbox: z.boolean().nullish(),
  // Registered JWT claims (already checked by jose where they matter).
  jti: z.string().max(200).nullish(),
  iat: z.number().nullish(),
});
export type ElementsClaims = z.infer<typeof claimsSchema>;
