/** Largest accepted body in bytes (413 beyond). A transaction with many items is tens of KB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Accepted media types, without parameters (415 otherwise). */
export const CONTENT_TYPES: readonly string[] = ['application/json'];

/** Seconds between the signed timestamp and our clock that are accepted, unless `KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS` says otherwise. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** The ingress setting that changes it (a deployment sets it with `-c KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS=…`). */
export const TOLERANCE_SETTING = 'KEYSMITH_PADDLE_BILLING_TOLERANCE_SECONDS';
