import { createHash } from 'node:crypto';
import type { FulfillmentEvent } from '../../domain/events';
import { WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { isoTime } from '../shared/json';
import { type ElementsClaims, knownAction } from './schema';

/**
 * Marketplace Elements actions → canonical events, one per request. The scope (FIFO group and
 * entitlement) and the order id are the Azure subscription id.
 *
 * | action         | event     | what it carries                                             |
 * |----------------|-----------|-------------------------------------------------------------|
 * | CreateAccount  | grant     | plan (or the offer) × quantity (or 1); term end if present  |
 * | TermsUpdate    | extend    | subscription.periodEnd = term end; `record` without a date  |
 * | Renew          | extend    | periodEnd = term end when present, else the product's days  |
 * | ChangePlan     | change    | the new plan × quantity (or 1); 400 without planIdentifier  |
 * | ChangeQuantity | change    | plan (or the offer) × quantity; 400 without quantity        |
 * | UpdateAccount  | change    | no items: only the customer's contact details               |
 * | Suspend        | suspend   | every license of the subscription                           |
 * | Reinstate      | reinstate | every license of the subscription                           |
 * | Unsubscribe    | revoke    | every license of the subscription                           |
 * | anything else  | record    | stored on the subscription, nothing changes (it verified)   |
 *
 * Identity. Elements sends no event id, so `eventId` is a hash of the signed payload segment
 * (prefixed with `jti` when the token has one): a redelivery of the same token is the same event,
 * for SQS and for the entitlement. A redelivery Elements re-signs (new `iat`/`exp`) hashes
 * differently, so the actions whose replay would do harm also carry a `businessKey` over the
 * claims without the per-signature ones (`iat`, `exp`, `nbf`, `jti`):
 *  - CreateAccount (a second grant would issue more licenses);
 *  - TermsUpdate/Renew with a term end date (the date tells one period from the next).
 * The other actions set a state (suspended, active, revoked, N seats, plan P), so a replay is
 * harmless — while a business key would wrongly swallow a legitimate repeat with identical claims
 * (Suspend → Reinstate → Suspend, or seats 5 → 10 → 5).
 */

/** What parse() hands on: the verified token with its schema-checked claims. */
export interface ElementsPayload {
  offerId: string;
  alg: string;
  payloadSegment: string;
  claims: ElementsClaims;
}

/** Per-signature claims: they change when the same message is signed again. */
const SIGNATURE_CLAIMS = new Set(['iat', 'exp', 'nbf', 'jti']);

export function normalizeElements(payload: ElementsPayload, request: WebhookRequest): FulfillmentEvent {
  const { claims, offerId } = payload;
  const action = knownAction(claims.action);
  const subscriptionId = claims.subscriptionId;
  const plan = nonBlank(claims.planIdentifier);
  const periodEnd = termEnd(claims);
  const email = nonBlank(claims.email) ?? nonBlank(claims.notificationEmail) ?? '';
  const name = [claims.firstName, claims.lastName]
    .map(nonBlank)
    .filter((p) => p !== undefined)
    .join(' ');
  const live = !(claims.isTest === true || claims.test === true || claims.sandbox === true);

  const base: Omit<FulfillmentEvent, 'action' | 'items'> = {
    provider: 'elements',
    eventId: eventIdFor(offerId, payload.payloadSegment, nonBlank(claims.jti)),
    occurredAt: isoTime(claims.iat, request.receivedAt),
    reason: action ?? claims.action,
    scope: subscriptionId,
    orderId: subscriptionId,
    live,
    customer: { email, ...(name ? { name } : {}) },
    subscription: { id: subscriptionId, ...(periodEnd ? { periodEnd } : {}) },
  };
  const businessKey = `${subscriptionId}#${action ?? claims.action}#${claimsHash(claims)}`;

  switch (action) {
    case 'CreateAccount':
      return { ...base, businessKey, action: 'grant', items: [{ productId: plan ?? offerId, quantity: claims.quantity ?? 1 }] };
    case 'TermsUpdate':
      // Without a date there is nothing to set; extending by the product's days would be a guess.
      return periodEnd ? { ...base, businessKey, action: 'extend', items: [] } : { ...base, action: 'record', items: [] };
    case 'Renew':
      return { ...base, ...(periodEnd ? { businessKey } : {}), action: 'extend', items: [] };
    case 'ChangePlan':
      if (!plan) throw new WebhookRejection('MALFORMED', 'ChangePlan without planIdentifier: the new plan is unknown');
      return { ...base, action: 'change', items: [{ productId: plan, quantity: claims.quantity ?? 1 }] };
    case 'ChangeQuantity':
      if (claims.quantity === undefined || claims.quantity === null) {
        throw new WebhookRejection('MALFORMED', 'ChangeQuantity without quantity: the new seat count is unknown');
      }
      // The ingress cannot know the subscription's current plan; the worker keeps licenses
      // whose product already matches, so naming the plan again is harmless.
      return { ...base, action: 'change', items: [{ productId: plan ?? offerId, quantity: claims.quantity }] };
    case 'UpdateAccount':
      return { ...base, action: 'change', items: [] };
    case 'Suspend':
      return { ...base, action: 'suspend', items: [] };
    case 'Reinstate':
      return { ...base, action: 'reinstate', items: [] };
    case 'Unsubscribe':
      return { ...base, action: 'revoke', items: [] };
    default:
      // Verified but not one of the nine: keep it (Elements may add actions) and change nothing.
      return { ...base, action: 'record', items: [] };
  }
}

/**
 * The event id: sha256 over the offer id and the payload segment exactly as signed, so an
 * identical delivery gets an identical id. A `jti` is put in front (readable in logs); it does
 * not replace the hash, since nothing says Elements makes it unique.
 */
export function eventIdFor(offerId: string, payloadSegment: string, jti?: string): string {
  const hash = createHash('sha256').update(`${offerId}.${payloadSegment}`).digest('base64url');
  return jti ? `jti:${jti.slice(0, 200)}#${hash}` : `sha256:${hash}`;
}

/** sha256 of the claims in canonical JSON (sorted keys), without the per-signature claims. */
export function claimsHash(claims: Record<string, unknown>): string {
  const content = Object.fromEntries(Object.entries(claims).filter(([k]) => !SIGNATURE_CLAIMS.has(k)));
  return createHash('sha256').update(canonicalJson(content)).digest('base64url').slice(0, 32);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The end of the current term, from whichever of the guessed field names is present (UNKNOWN
 * which Elements uses): termEndDate, term.endDate, endDate, expiryDate, renewalDate. A date that
 * is present but unreadable is refused (400) rather than silently ignored: a subscription whose
 * term we cannot read must not look renewed.
 */
export function termEnd(claims: ElementsClaims): string | undefined {
  const candidates: [string, unknown][] = [
    ['termEndDate', claims.termEndDate],
    ['term.endDate', claims.term?.endDate],
    ['endDate', claims.endDate],
    ['expiryDate', claims.expiryDate],
    ['renewalDate', claims.renewalDate],
  ];
  for (const [field, value] of candidates) {
    if (value === undefined || value === null || value === '') continue;
    const sentinel = new Date(0);
    const iso = isoTime(value, sentinel);
    if (iso === sentinel.toISOString()) throw new WebhookRejection('MALFORMED', `${field} is not a date`);
    return iso;
  }
  return undefined;
}

function nonBlank(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
