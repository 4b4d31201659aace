/** Largest accepted body in bytes (413 beyond). Hotmart sends one event per request, a few KB; 256 KiB is far more than any needs. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Accepted media types, without parameters (415 otherwise). */
export const CONTENT_TYPES: readonly string[] = ['application/json'];
