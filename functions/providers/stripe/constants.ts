/** Largest accepted body in bytes (413 beyond). Stripe events are a few KB; an invoice event with a page of lines stays far below. */
export const MAX_BODY_BYTES = 512 * 1024;

/** Accepted media types, without parameters (415 otherwise). Stripe sends `application/json; charset=utf-8`. */
export const CONTENT_TYPES: readonly string[] = ['application/json'];

/** Seconds between the signed timestamp and our clock that are accepted, unless `KEYSMITH_STRIPE_TOLERANCE_SECONDS` says otherwise. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** The ingress setting that changes it (a deployment sets it with `-c KEYSMITH_STRIPE_TOLERANCE_SECONDS=…`). */
export const TOLERANCE_SETTING = 'KEYSMITH_STRIPE_TOLERANCE_SECONDS';
