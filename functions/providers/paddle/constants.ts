/** Paddle's fields are a few KB; custom fields included, 64 KiB is far more than any request needs. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Paddle Classic posts forms (413 beyond the limit, 415 for anything else). */
export const CONTENT_TYPES: readonly string[] = ['application/x-www-form-urlencoded'];
