import type { Provider } from '../../ingress/types';
import { parseWith } from '../shared/json';
import { answerElements, rejectElements } from './answer';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { type ElementsPayload, normalizeElements } from './normalize';
import { claimsSchema } from './schema';
import { type VerifiedToken, verifyElements } from './verify';

/**
 * Marketplace Elements by Arkahna (https://marketplace-docs.elements.arkahna.cloud/), the
 * fulfillment webhook of Azure Marketplace SaaS offers. One URL per offer:
 * `POST /webhooks/elements/{offerId}`.
 *
 * verify  body `{"payload":"<jwt>"}`; the JWT is checked with jose against the offer's public
 *         key from KEYSMITH_ELEMENTS_OFFER_KEYS, algorithms pinned by key type, exp/nbf ± 60 s → ./verify.ts, ./keys.ts
 * parse   the verified claims: `action` and `subscriptionId` required, the rest optional      → ./schema.ts
 * map     the nine actions → grant/extend/change/suspend/reinstate/revoke; others → record  → ./normalize.ts
 * answer  200 `{"success":true}` once enqueued; else `{"success":false,"message":…}` (4xx/503) → ./answer.ts
 */
export const elements: Provider<VerifiedToken, ElementsPayload> = {
  name: 'elements',
  // A JWT of a few claims plus the offer's custom fields; far below this.
  maxBodyBytes: MAX_BODY_BYTES,
  contentTypes: CONTENT_TYPES,

  verify: verifyElements,

  parse: (verified) => ({
    offerId: verified.offerId,
    alg: verified.alg,
    payloadSegment: verified.payloadSegment,
    claims: parseWith(claimsSchema, verified.claims),
  }),

  normalize: (payload, request) => [normalizeElements(payload, request)],

  answer: (outcome) => answerElements(outcome),

  reject: rejectElements,
};
